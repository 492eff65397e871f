"""Gait analysis of named 3D trajectories: filtering, walking direction, events, steps and
temporal parameters. The analysis service runs it on the pipeline's keypoints and `gait analyze`
on a lab's motion-capture file."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from gait.analysis.bouts import StraightBoutDetector, fill_gaps
from gait.analysis.crosscheck import MAX_DISAGREEMENT_S, doubted_toe_offs, is_side_view
from gait.analysis.events import (
    EVENT_COLUMNS,
    EventDetector,
    FootContactEventDetector,
    MIN_FLIGHT_S,
    OConnorEventDetector,
    RecordedEvents,
    SupportVelocityEventDetector,
    ZeniEventDetector,
    alternating,
    grounded,
    toe_off_cutoff_hz,
    walking_direction,
)
from gait.analysis.filtering import ButterworthLowPass, finite_runs
from gait.analysis.kinematics import bout_angles, cycles_table, kinematics_table
from gait.analysis.plausibility import implausible
from gait.analysis.spatiotemporal import MIN_CONFIDENCE, steps_table, strides_table, summary, symmetry
from gait.analysis.trajectories import Trajectories, sides_present
from gait.analysis.treadmill import TreadmillDetector, surface_velocity
from gait.errors import InvalidInput

MIN_STEPS = 4  # fewer steps than this: parameters are reported but flagged
EVENT_CUTOFF_HZ = 15.0  # the foot-contact method follows heights closely: a lighter low-pass
MIN_CONTACT_RATE_HZ = 60.0
EVENT_METHODS = ("auto", "velocity", "zeni", "oconnor", "contact")  # the detections
FILE_EVENTS = "file"  # the events the file carries
DETECTORS = {"velocity": SupportVelocityEventDetector, "zeni": ZeniEventDetector, "oconnor": OConnorEventDetector,
             "contact": FootContactEventDetector}


def _markers(trajectories: Trajectories) -> bool:
    """Measured marker positions, as opposed to video keypoints (in the image or pelvis-relative)."""
    return not (trajectories.planar or trajectories.root_relative)


def choose_event_detector(trajectories: Trajectories, method: str = "auto") -> tuple[EventDetector, str]:
    """The event detector for these trajectories and why (`method` "auto": the method that was the
    most accurate over the validation corpus, docs/validation.md; or one of EVENT_METHODS by name)."""
    if method == FILE_EVENTS:
        if trajectories.file_events is None:
            raise InvalidInput("--events file: the recording carries no gait events (a C3D file's EVENT group "
                               "with Foot Strike / Foot Off, Left / Right, or force plates that a foot lands on)")
        return RecordedEvents(trajectories.file_events), (f"{len(trajectories.file_events)} events from "
                                                          f"{trajectories.file_events_source}, chosen by option")
    if method not in EVENT_METHODS:
        raise InvalidInput(f"unknown event method {method!r}; choose one of {', '.join(EVENT_METHODS + (FILE_EVENTS,))}")
    feet = all(f"{side}_{part}" in trajectories.positions for side in sides_present(trajectories.positions)
               for part in ("heel", "toe"))
    rate = trajectories.sampling_rate_hz
    if method == "contact" and (not feet or trajectories.root_relative or rate < MIN_CONTACT_RATE_HZ):
        raise InvalidInput(f"the foot-contact event method needs heel and toe trajectories in ground-fixed "
                           f"coordinates sampled at {MIN_CONTACT_RATE_HZ:g} Hz or more")
    if method == "velocity":
        return SupportVelocityEventDetector(heel_descent=_markers(trajectories)), "chosen by option"
    if method in DETECTORS:
        return DETECTORS[method](), "chosen by option"
    return SupportVelocityEventDetector(heel_descent=_markers(trajectories)), ("the most accurate method over the validation corpus's real recordings, "
                                            "markers and video (gait validate)")


def methods(lowpass: ButterworthLowPass, events_method: str = SupportVelocityEventDetector.name) -> list[str]:
    """The methods behind every number, with their references, for reports."""
    return [
        f"Filtering: zero-phase Butterworth low-pass, cutoff {lowpass.cutoff_hz:g} Hz, order {lowpass.order} "
        f"applied forwards and backwards; dropouts up to {lowpass.max_gap_s:g} s bridged (Winter 2009, "
        "Biomechanics and Motor Control of Human Movement).",
        "Walking bouts: stretches where the feet alternate and the heading (normal to the hip line) keeps "
        "within 25 deg/s (a turn is at least 45 degrees in all), at least 2 s long (a dropout of up to "
        f"{StraightBoutDetector.max_dropout_s:g} s does not end one); turns, standing and the "
        "short steps of starting and stopping (the feet's swing below 75 % of the bout's median) are left "
        "out, the walker's entry into and exit from the view are not. Each bout is analyzed on its own.",
        f"Gait events: {events_method}. Zeni, Richards & Higginson 2008, Gait & Posture 27:710-714; "
        "Ghoussayni et al. 2004, Gait & Posture 20:266-272; O'Connor et al. 2007, Gait & Posture 25:469-474. "
        "The walking direction is the main horizontal axis of the feet's motion relative to the pelvis, per "
        "bout; accuracy on real recordings: docs/validation.md.",
        "Steps and strides: Baker 2013, Measuring Walking. Step length and width: heel to heel at contact "
        "along and across the walking direction; speed = stride length / stride time.",
        "Intervals: 95 % confidence interval of each mean from the step-to-step spread (Student's t); "
        "lengths also carry the scale's uncertainty where the data are not from calibrated markers. Each "
        "event's confidence is its detector's times the keypoints' confidence around it; steps delimited by "
        "an event below 0.5 are left out.",
        "Kinematics: segments projected on the sagittal plane. Thigh angle: the thigh to the vertical (knee "
        "ahead positive), compared with the reference's hip flexion minus its pelvic tilt; hip flexion (only "
        "with pelvis markers): the thigh to the pelvis, as Plug-in Gait; knee: the shank to the thigh; ankle: "
        "the foot line (ankle to toe, Plug-in Gait's foot axis) to the shank minus 90 degrees, less the line's "
        "foot-flat offset (its median angle "
        "to the floor in mid-stance, 12-31 % of the cycle, where the feet do not overlap: the plantar line is "
        "level then); each cycle time-normalised to 101 samples between heel strikes of the same foot "
        "(Perry & Burnfield 2010). The trunk line is not the pelvis: no hip angle is measured against it.",
    ]


@dataclass
class GaitAnalysis:
    filtered: dict[str, np.ndarray]
    forward: np.ndarray | None          # walking direction of the longest bout
    events: pd.DataFrame
    steps: pd.DataFrame
    parameters: dict
    kinematics: pd.DataFrame = field(default_factory=pd.DataFrame)  # mean/SD curves over the cycle
    symmetry: dict = field(default_factory=dict)  # left, right and symmetry index per sided parameter
    warnings: list[str] = field(default_factory=list)
    events_method: str = SupportVelocityEventDetector.name
    bouts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUT_COLUMNS))
    angles: dict[str, np.ndarray] = field(default_factory=dict)  # per frame, NaN outside the bouts
    cycles: pd.DataFrame = field(default_factory=pd.DataFrame)  # every cycle of every angle (see cycles_table)
    angle_notes: list[str] = field(default_factory=list)  # what the angles' calibration did (reported with warnings)
    implausible: dict[str, str] = field(default_factory=dict)  # result -> why it is no finding (also in warnings)


BOUT_COLUMNS = ["bout", "start_s", "stop_s", "forward_x", "forward_y", "forward_z"]
FEET_AVERAGE_S = 1.0  # without a pelvis, the feet's mid-point averaged over about a stride stands in


def pelvis_estimate(positions: dict[str, np.ndarray], rate_hz: float) -> tuple[np.ndarray, str | None]:
    """The pelvis trajectory, or what stands in for it, and a note saying which: the mid-point of
    both hips, one hip (a one-legged marker set), or for a foot-only marker set the mid-point of
    the feet averaged over about a stride (the body's steady progression, which is what the
    pelvis gives the coordinate-based event method)."""
    from scipy.ndimage import uniform_filter1d

    if "pelvis" in positions:
        return positions["pelvis"], None
    if "left_hip" in positions and "right_hip" in positions:
        return 0.5 * (positions["left_hip"] + positions["right_hip"]), None
    hips = [name for name in ("left_hip", "right_hip") if name in positions]
    if hips:
        return positions[hips[0]], f"no pelvis: the {hips[0].replace('_', ' ')} stands in for it"
    feet = [p for name, p in positions.items() if name.endswith(("_heel", "_toe", "_ankle"))]
    if len(sides_present(positions)) < 2:
        raise InvalidInput("gait events need a pelvis or hip trajectory, or both feet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # frames where every foot point is missing stay NaN
        middle = np.nanmean(np.stack(feet), axis=0)
    window = max(3, int(round(FEET_AVERAGE_S * rate_hz)))
    filled = fill_gaps(middle)
    smooth = uniform_filter1d(filled, window, axis=0, mode="nearest")
    smooth[~np.isfinite(middle).all(axis=1)] = np.nan
    return smooth, (f"no pelvis or hip markers: the feet's mid-point averaged over {FEET_AVERAGE_S:g} s stands in "
                    "for the pelvis")


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


def _bouts(filtered: dict[str, np.ndarray], rate: float, up: np.ndarray, planar: bool,
           notes: list[str]) -> list[tuple[int, int]]:
    frames = len(filtered["pelvis"])
    try:
        bouts = StraightBoutDetector().detect(filtered, rate, up, heading_from_path=planar).bouts_
    except InvalidInput as exc:
        notes.append(f"walking bouts not found ({exc}): the whole recording is analyzed")
        return [(0, frames)]
    if not bouts:
        notes.append("no straight walking bout of 2 s or more: the whole recording is analyzed, turns or "
                     "standing included")
        return [(0, frames)]
    seen = np.isfinite(filtered["pelvis"]).all(axis=1)  # frames with the walker (in view, markers present)
    inside = np.zeros(frames, dtype=bool)
    for start, stop in bouts:
        inside[start:stop] = True
    left_out = 1 - (inside & seen).sum() / max(1, seen.sum())
    if left_out > 0.05:
        notes.append(f"{len(bouts)} straight walking bout{'s' if len(bouts) > 1 else ''} analyzed; "
                     f"{100 * left_out:.0f} % of the frames with the walker (turns, standing, starting and stopping) "
                     "left out")
    return bouts


def _treadmill_note(part: dict[str, np.ndarray], rate: float, forward: np.ndarray, bout: int) -> list[str]:
    treadmill = TreadmillDetector().detect(part, rate, forward)
    if not treadmill.on_treadmill_:
        return []
    return [f"bout {bout}: on a treadmill (the stance foot moves backwards at {treadmill.belt_speed_m_s_:.2f} m/s while "
            "the pelvis stays in place): events are taken relative to the belt, lengths between the feet"]


def _counted(events: pd.DataFrame) -> str:
    """'1 right heel strike at 6.40 s', '2 events (...)'."""
    named = [f"{e.side} {e.event.replace('_', ' ')} at {e.time_s:.2f} s" for e in events.itertuples()]
    return f"1 {named[0]}" if len(named) == 1 else f"{len(named)} events ({', '.join(named)})"


def _keypoint_confidence(confidence: dict[str, np.ndarray], events: pd.DataFrame, reach: int = 2) -> np.ndarray:
    """Per event, the mean keypoint confidence of its foot point (heel or toe, else the ankle)
    over the frames around it; 1 where the data carry no confidence (markers)."""
    factors = np.ones(len(events))
    for row, event in enumerate(events.itertuples()):
        part = "heel" if event.event == "heel_strike" else "toe"
        scores = confidence.get(f"{event.side}_{part}", confidence.get(f"{event.side}_ankle"))
        if scores is not None:
            centre = int(round(event.frame))
            window = scores[max(0, centre - reach): centre + reach + 1]
            factors[row] = float(np.nanmean(window)) if np.isfinite(window).any() else 0.0
    return factors


def _refiltered(trajectories: Trajectories, lowpass: ButterworthLowPass, cutoff_hz: float) -> dict[str, np.ndarray]:
    """The raw trajectories low-passed at another cutoff for one event method, with their pelvis."""
    other = ButterworthLowPass(cutoff_hz, lowpass.order, lowpass.max_gap_s)
    positions = {name: other.filter(p, trajectories.sampling_rate_hz) for name, p in trajectories.positions.items()}
    positions["pelvis"] = pelvis_estimate(positions, trajectories.sampling_rate_hz)[0]
    return positions


def _image_plane_positions(image_plane: Trajectories, lowpass: ButterworthLowPass) -> tuple[dict, dict, np.ndarray]:
    """The image keypoints as the analysis filters its own: (at the analysis's cutoff, at the feet's
    own cutoff for toe offs, the image's up)."""
    rate = image_plane.sampling_rate_hz
    filtered = {name: lowpass.filter(p, rate) for name, p in image_plane.positions.items()}
    filtered["pelvis"] = pelvis_estimate(filtered, rate)[0]
    toe_cutoff = toe_off_cutoff_hz(image_plane.positions, rate, lowpass.cutoff_hz)
    return filtered, _refiltered(image_plane, lowpass, toe_cutoff), image_plane.up


def _image_plane_toe_offs(detector: EventDetector, positions: tuple[dict, dict, np.ndarray], start: int, stop: int,
                          rate: float) -> pd.DataFrame:
    """The toe offs the image keypoints give over frames [start, stop) with the same detector; none
    where they show no walking direction there."""
    filtered, for_toe_off, up = positions
    part = _sliced(filtered, start, stop)
    try:
        forward = walking_direction(part, up)
    except InvalidInput:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    found = replace(detector).detect(part, rate, forward, up, toe_off_positions=_sliced(for_toe_off, start, stop)).events_
    return found.assign(time_s=(found.frame + start) / rate)


def _ms_range(seconds: pd.Series) -> str:
    low, high = 1000 * float(seconds.min()), 1000 * float(seconds.max())
    return f"{low:.0f} ms" if round(low) == round(high) else f"{low:.0f}-{high:.0f} ms"


def _sliced(positions: dict[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    return {name: p[start:stop] for name, p in positions.items()}


def analyze(trajectories: Trajectories, lowpass: ButterworthLowPass, events_method: str = "auto",
            forward_axis: np.ndarray | None = None, image_plane: Trajectories | None = None) -> GaitAnalysis:
    """The whole analysis. `forward_axis`: the line of progression, when known (each bout still
    finds which way along it the walker goes). `image_plane`: for the pipeline's 3D keypoints, the
    same frames' 2D image keypoints (`planar.trajectories_2d`); in a bout seen from the side, their
    toe offs check the 3D ones (`crosscheck.doubted_toe_offs`)."""
    rate, up = trajectories.sampling_rate_hz, trajectories.up
    detector, reason = choose_event_detector(trajectories, events_method)
    filtered = {name: lowpass.filter(p, rate) for name, p in trajectories.positions.items()}
    filtered["pelvis"], pelvis_note = pelvis_estimate(filtered, rate)
    notes = gap_warnings(trajectories.positions, rate, lowpass.max_gap_s) + ([pelvis_note] if pelvis_note else [])
    sides = sides_present(filtered)
    for side in ("left", "right"):
        if side not in sides:
            notes.append(f"no {side} leg in the recording: events, strides and angles of the other side only, no steps")
        elif f"{side}_heel" not in filtered or f"{side}_toe" not in filtered:
            notes.append(f"no {side} heel/toe: the {side} ankle stands in for both (events less precise)")
    contact = isinstance(detector, FootContactEventDetector)
    if contact:
        for_events = _refiltered(trajectories, lowpass, EVENT_CUTOFF_HZ)
    for_toe_off = None
    if isinstance(detector, SupportVelocityEventDetector):
        toe_cutoff = toe_off_cutoff_hz(trajectories.positions, rate, lowpass.cutoff_hz)
        for_toe_off = _refiltered(trajectories, lowpass, toe_cutoff)
        reason += f"; toe offs low-passed at the feet's own {toe_cutoff:g} Hz (residual analysis)"
    second_opinion = _image_plane_positions(image_plane, lowpass) if image_plane is not None and for_toe_off else None
    events, steps, bout_rows = [], [], []
    forward_of_longest, longest = None, 0
    for number, (start, stop) in enumerate(_bouts(filtered, rate, up, trajectories.planar, notes), start=1):
        part = _sliced(filtered, start, stop)
        try:
            forward = walking_direction(part, up)
        except InvalidInput as exc:
            if forward_axis is None:
                notes.append(f"bout {number}: no gait events ({exc})")
                continue
            forward = forward_axis
        if forward_axis is not None:
            forward = forward_axis * (1.0 if float(forward @ forward_axis) >= 0 else -1.0)
        if stop - start > longest:
            forward_of_longest, longest = forward, stop - start
        if not trajectories.root_relative:
            notes.extend(_treadmill_note(part, rate, forward, number))
        if isinstance(detector, RecordedEvents):
            found = detector.within(start, stop, rate)
        elif contact:
            found = detector.detect(_sliced(for_events, start, stop), rate, forward, up,
                                    raw=_sliced(trajectories.positions, start, stop)).events_
        elif for_toe_off is not None:
            found = detector.detect(part, rate, forward, up, toe_off_positions=_sliced(for_toe_off, start, stop)).events_
        else:
            found = detector.detect(part, rate, forward, up).events_
        found["frame"] += start
        found["time_s"] = found["frame"] / rate
        found["confidence"] *= _keypoint_confidence(trajectories.confidence, found)
        if second_opinion is not None and is_side_view(forward):
            found, doubted = doubted_toe_offs(found, _image_plane_toe_offs(detector, second_opinion, start, stop, rate))
            if len(doubted):
                notes.append(f"bout {number}: {_counted(doubted)} uncertain: the 3D and the image keypoints put "
                             f"{'it' if len(doubted) == 1 else 'them'} {_ms_range(doubted.disagreement_s)} apart (more "
                             f"than {1000 * MAX_DISAGREEMENT_S:.0f} ms); left out of stance, swing and double support")
        found, doubled = alternating(found)
        if len(doubled):
            notes.append(f"bout {number}: {_counted(doubled)} left out: that foot had not left the ground since its "
                         "previous heel strike (no toe off in between; a foot lands once per swing); the more confident "
                         "strike kept")
        found, airborne = grounded(found)
        if len(airborne):
            notes.append(f"bout {number}: {_counted(airborne)} left out: the other foot had left the ground "
                         f"under {MIN_FLIGHT_S:g} s before and had not landed again (walking keeps a foot on the ground; "
                         "the foot that landed more recently is the one still standing)")
        found["bout"] = number
        events.append(found)
        feet = {side: part.get(f"{side}_heel", part.get(f"{side}_ankle")) for side in sides}
        relative = found.assign(time_s=found.time_s - start / rate)
        if len(sides) == 2:
            bout_steps = steps_table(relative, feet, rate, forward, up)
        else:  # one leg: its strides
            (side,) = sides
            surface = 0.0 if trajectories.root_relative else surface_velocity(part, forward, rate)
            bout_steps = strides_table(relative, None if trajectories.root_relative else feet[side], rate, forward,
                                       surface if np.isfinite(surface) else 0.0)
        bout_steps["heel_strike_s"] += start / rate
        steps.append(bout_steps.assign(bout=number))
        bout_rows.append([number, start / rate, stop / rate, *forward])
    events_table = pd.concat(events, ignore_index=True) if events else pd.DataFrame(columns=EVENT_COLUMNS + ["bout"])
    steps_all = pd.concat(steps, ignore_index=True) if steps else steps_table(pd.DataFrame(columns=EVENT_COLUMNS))
    if trajectories.planar:
        steps_all["step_width_m"] = np.nan  # no depth in 2D
    if not events:
        notes.append("no gait events found")
    elif trajectories.file_events is not None and not isinstance(detector, RecordedEvents):
        notes.append(agreement_with_file_events(events_table, trajectories))
    if isinstance(detector, RecordedEvents) and len(events_table) < len(trajectories.file_events):
        notes.append(f"{len(trajectories.file_events) - len(events_table)} of the file's {len(trajectories.file_events)} "
                     "events lie outside the walking bouts analyzed (turns, standing, starting and stopping) and "
                     "are not used")
    parameters = summary(steps_all, length_scale_uncertainty=trajectories.length_uncertainty)
    if len(sides) == 1:
        if len(steps_all) < MIN_STEPS // 2:
            notes.append(f"only {len(steps_all)} complete strides of the {sides[0]} leg: too few for reliable means")
        if len(steps_all):
            notes.append(f"one leg only: strides, stance and swing of the {sides[0]} leg; the cadence is two steps per "
                         "stride (the other leg's step taken to last as long); no step times, step lengths, widths or support "
                         "phases")
    elif len(steps_all) < MIN_STEPS:
        notes.append(f"only {len(steps_all)} complete steps: too few for reliable means")
    failed = implausible(parameters, trajectories.length_unit)
    notes.extend(failed.values())
    bouts = pd.DataFrame(bout_rows, columns=BOUT_COLUMNS)
    angles, kinematics, cycles, angle_notes = cycle_kinematics(filtered, bouts, up, events_table, rate)
    return GaitAnalysis(filtered, forward_of_longest, events_table, steps_all, parameters, kinematics,
                        symmetry(steps_all), notes, f"{detector.name} ({reason})", bouts, angles, cycles, angle_notes,
                        failed)


def agreement_with_file_events(found: pd.DataFrame, trajectories: Trajectories) -> str:
    """How the detected events compare with the ones the file carries, over the span those cover
    (matched one to one within 100 ms, as `gait validate` scores). Force plates see only the
    steps that land on them: a detected event with no plate event is not counted as extra."""
    from gait.analysis.validation.scoring import TOLERANCE_S, score_events

    file_events = trajectories.file_events
    span = (float(file_events.time_s.min()), float(file_events.time_s.max()))
    parts = []
    for kind, label in (("heel_strike", "heel strikes"), ("toe_off", "toe offs")):
        score = score_events(found, file_events, kind, span)
        extra = "" if trajectories.file_events_partial else f", {score.extra} extra"
        if score.reference:
            parts.append(f"{label} {score.mae_ms:.0f} ms from them on average (bias {score.bias_ms:+.0f} ms; "
                         f"{score.matched} of {score.reference} matched within {1000 * TOLERANCE_S:.0f} ms{extra})"
                         if score.matched else f"{label}: none of {score.reference} matched")
    return (f"{len(file_events)} gait events from {trajectories.file_events_source}: the detected " + "; ".join(parts)
            + "; `--events file` analyzes with the file's events instead")


def cycle_kinematics(positions: dict[str, np.ndarray], bouts: pd.DataFrame, up: np.ndarray, events: pd.DataFrame,
                     rate_hz: float) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame, list[str]]:
    """The sagittal angles of `positions` over the `bouts` (kinematics.bout_angles), and their mean
    curves and every cycle between the heel strikes of `events` confident enough to delimit steps;
    with the calibration's notes. The one place both the 3D analysis and a side view's 2D angles
    (the analysis service) go through."""
    confident = events[events.confidence >= MIN_CONFIDENCE]
    angles, notes = bout_angles(positions, bouts, up, confident, rate_hz) if len(bouts) else ({}, [])
    return angles, kinematics_table(angles, confident, rate_hz), cycles_table(angles, confident, rate_hz), notes


def range_of_motion(kinematics: pd.DataFrame) -> dict[str, float]:
    """Range (max - min, degrees) of each mean angle curve over the gait cycle."""
    return {column[: -len("_mean")]: float(kinematics[column].max() - kinematics[column].min())
            for column in kinematics.columns if column.endswith("_mean")}
