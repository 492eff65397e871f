"""Gait analysis of named 3D trajectories: filtering, walking direction, events, steps and
temporal parameters. The analysis service runs it on the pipeline's keypoints and `gait analyze`
on a lab's motion-capture file."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gait.errors import InvalidInput
from services.analysis.events import EVENT_COLUMNS, ZeniEventDetector, walking_direction
from services.analysis.filtering import ButterworthLowPass, finite_runs
from services.analysis.kinematics import kinematics_table, sagittal_angles
from services.analysis.spatiotemporal import MIN_CONFIDENCE, steps_table, summary, symmetry
from services.analysis.trajectories import Trajectories

MIN_STEPS = 4  # fewer steps than this: parameters are reported but flagged
EVENTS_METHOD = "Zeni, Richards & Higginson 2008 (foot relative to pelvis along the walking direction)"


def methods(lowpass: ButterworthLowPass) -> list[str]:
    """The methods behind every number, with their references, for reports."""
    return [
        f"Filtering: zero-phase Butterworth low-pass, cutoff {lowpass.cutoff_hz:g} Hz, order {lowpass.order} "
        f"applied forwards and backwards; dropouts up to {lowpass.max_gap_s:g} s bridged (Winter 2009, "
        "Biomechanics and Motor Control of Human Movement).",
        f"Gait events: {EVENTS_METHOD}; Gait & Posture 27:710-714. The walking direction is the main "
        "horizontal axis of the feet's motion relative to the pelvis.",
        "Steps and strides: Baker 2013, Measuring Walking. Step length and width: heel to heel at contact "
        "along and across the walking direction; speed = stride length / stride time.",
        "Kinematics: segments projected on the sagittal plane; hip angle of the thigh to the trunk axis, "
        "knee of the shank to the thigh, ankle of the heel-toe line to the shank minus 90 degrees; each "
        "cycle time-normalised to 101 samples between heel strikes of the same foot (Perry & Burnfield 2010).",
    ]


@dataclass
class GaitAnalysis:
    filtered: dict[str, np.ndarray]
    forward: np.ndarray | None
    events: pd.DataFrame
    steps: pd.DataFrame
    parameters: dict
    kinematics: pd.DataFrame = field(default_factory=pd.DataFrame)  # mean/SD curves over the cycle
    symmetry: dict = field(default_factory=dict)  # left, right and symmetry index per sided parameter
    warnings: list[str] = field(default_factory=list)


def _pelvis(positions: dict[str, np.ndarray]) -> np.ndarray:
    if "pelvis" in positions:
        return positions["pelvis"]
    if "left_hip" in positions and "right_hip" in positions:
        return 0.5 * (positions["left_hip"] + positions["right_hip"])
    raise InvalidInput("gait events need a pelvis (or both hip) trajectory")


def gap_warnings(positions: dict[str, np.ndarray], rate_hz: float, bridged_s: float) -> list[str]:
    """One line per trajectory with dropouts longer than what filtering bridges: they stay empty.
    Missing samples before the first and after the last valid one are the recording's edges,
    not dropouts, and are not reported."""
    lines = []
    for name, points in sorted(positions.items()):
        valid = np.isfinite(points).all(axis=1)
        if not valid.any():
            lines.append(f"{name}: no valid sample")
            continue
        inner = valid[np.argmax(valid): len(valid) - np.argmax(valid[::-1])]
        runs = [stop - start for start, stop in finite_runs(np.where(inner, np.nan, 0.0))]
        long = [run / rate_hz for run in runs if run / rate_hz > bridged_s]
        if long:
            lines.append(f"{name}: {len(long)} dropout{'s' if len(long) > 1 else ''} longer than {bridged_s:g} s "
                         f"(longest {max(long):.2f} s) left empty, not invented")
    return lines


def analyse(trajectories: Trajectories, lowpass: ButterworthLowPass) -> GaitAnalysis:
    rate = trajectories.sampling_rate_hz
    filtered = {name: lowpass.filter(p, rate) for name, p in trajectories.positions.items()}
    filtered["pelvis"] = _pelvis(filtered)
    notes = gap_warnings(trajectories.positions, rate, lowpass.max_gap_s)
    for side in ("left", "right"):
        if f"{side}_heel" not in filtered or f"{side}_toe" not in filtered:
            notes.append(f"no {side} heel/toe: the {side} ankle stands in for both (events less precise)")
    try:
        forward = walking_direction(filtered, trajectories.up)
    except InvalidInput as exc:
        empty = pd.DataFrame(columns=EVENT_COLUMNS)
        return GaitAnalysis(filtered, None, empty, steps_table(empty), {}, warnings=notes + [f"no gait events: {exc}"])
    events = ZeniEventDetector().detect(filtered, rate, forward).events_
    feet = {side: filtered.get(f"{side}_heel", filtered[f"{side}_ankle"]) for side in ("left", "right")}
    steps = steps_table(events, feet, rate, forward, trajectories.up)
    parameters = summary(steps)
    if len(steps) < MIN_STEPS:
        notes.append(f"only {len(steps)} complete steps: too few for reliable means")
    angles = sagittal_angles(filtered, forward, trajectories.up)
    kinematics = kinematics_table(angles, events[events.confidence >= MIN_CONFIDENCE], rate)
    return GaitAnalysis(filtered, forward, events, steps, parameters, kinematics, symmetry(steps), notes)


def range_of_motion(kinematics: pd.DataFrame) -> dict[str, float]:
    """Range (max - min, degrees) of each mean angle curve over the gait cycle."""
    return {column[: -len("_mean")]: float(kinematics[column].max() - kinematics[column].min())
            for column in kinematics.columns if column.endswith("_mean")}
