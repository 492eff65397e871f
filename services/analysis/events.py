"""Gait events (heel strike, toe off) per side from 3D keypoint trajectories.

Each detector is a small class: parameters in __init__, one action method `detect(positions,
sampling_rate_hz, forward, up)` taking named (frames, 3) trajectories in metres; the result is
the `events_` table (columns: side, event, frame, time_s, confidence), sorted by time.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.signal import find_peaks

from gait.errors import InvalidInput

EVENT_COLUMNS = ["side", "event", "frame", "time_s", "confidence"]
SIDES = ("left", "right")


def _refine_peak(signal: np.ndarray, index: int) -> float:
    """Sub-frame peak position by a parabola through the peak and its neighbours."""
    if 0 < index < len(signal) - 1:
        a, b, c = signal[index - 1], signal[index], signal[index + 1]
        denominator = a - 2 * b + c
        if denominator != 0 and np.isfinite(denominator):
            return index + 0.5 * (a - c) / denominator
    return float(index)


def _peaks(signal: np.ndarray, sampling_rate_hz: float, min_interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Maxima at least `min_interval_s` apart; returns sub-frame positions and a confidence in [0, 1]
    (each peak's prominence relative to the median prominence, capped at 1)."""
    finite = np.isfinite(signal)
    if finite.sum() < 3:
        return np.empty(0), np.empty(0)
    filled = np.interp(np.arange(len(signal)), np.flatnonzero(finite), signal[finite])
    spread = np.nanpercentile(signal, 95) - np.nanpercentile(signal, 5)
    index, properties = find_peaks(filled, distance=max(1, int(min_interval_s * sampling_rate_hz)),
                                   prominence=0.2 * spread)
    keep = finite[index]  # a peak inside a gap is an artefact of the interpolation
    index, prominence = index[keep], properties["prominences"][keep]
    if index.size == 0:
        return np.empty(0), np.empty(0)
    confidence = np.clip(prominence / np.median(prominence), 0, 1)
    # a peak next to missing samples is less certain
    confidence *= np.array([finite[max(0, i - 2): i + 3].mean() for i in index])
    return np.array([_refine_peak(filled, i) for i in index]), confidence


def _table(rows: list[tuple[str, str, float, float]], sampling_rate_hz: float) -> pd.DataFrame:
    table = pd.DataFrame(
        [(side, event, frame, frame / sampling_rate_hz, confidence) for side, event, frame, confidence in rows],
        columns=EVENT_COLUMNS,
    )
    return table.sort_values("time_s", ignore_index=True)


def _require(positions: dict[str, np.ndarray], names: list[str]) -> None:
    missing = [n for n in names if n not in positions]
    if missing:
        raise InvalidInput(f"event detection needs the trajectories {', '.join(missing)}")


@dataclass
class ZeniEventDetector:
    """Coordinate-based events: Zeni, Richards & Higginson (2008), Gait & Posture 27(4):710-714.

    Heel strike at each maximum of the heel's position relative to the pelvis along the walking
    direction, toe off at each minimum of the toe's. Without heels and toes the ankle stands in for
    both (Human3.6M keypoints).

    Parameters
    ----------
    min_step_interval_s
        Two events of one kind on one side are at least this far apart (a stride is ~1 s).
    """

    min_step_interval_s: float = 0.5

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray) -> ZeniEventDetector:
        _require(positions, ["pelvis"])
        forward = np.asarray(forward, float) / np.linalg.norm(forward)
        pelvis = positions["pelvis"]
        rows = []
        for side in SIDES:
            heel = positions.get(f"{side}_heel", positions.get(f"{side}_ankle"))
            toe = positions.get(f"{side}_toe", positions.get(f"{side}_ankle"))
            if heel is None or toe is None:
                raise InvalidInput(f"event detection needs the {side} heel/toe or ankle trajectory")
            for event, signal in (("heel_strike", (heel - pelvis) @ forward), ("toe_off", -((toe - pelvis) @ forward))):
                frames, confidence = _peaks(signal, sampling_rate_hz, self.min_step_interval_s)
                rows += [(side, event, f, c) for f, c in zip(frames, confidence)]
        self.events_ = _table(rows, sampling_rate_hz)
        return self



def walking_direction(positions: dict[str, np.ndarray], up: np.ndarray) -> np.ndarray:
    """Unit vector of the direction of progression, from the feet's motion relative to the pelvis.

    Relative to the pelvis each foot swings forward quickly (swing, ~40 % of a stride) and drifts
    back slowly (stance, ~60 %): the axis is the main horizontal axis of that motion, pointing the
    way the feet move during the shorter phase. Works on root-relative keypoints (no global
    translation needed).
    """
    up = np.asarray(up, float) / np.linalg.norm(up)
    names = [n for n in positions if n.endswith(("_heel", "_toe", "_ankle")) and n.split("_")[0] in SIDES]
    if not names:
        raise InvalidInput("the walking direction needs foot or ankle trajectories")
    pelvis = positions.get("pelvis", 0.0)
    relative = np.stack([positions[n] - pelvis for n in names])  # (feet, frames, 3)
    horizontal = relative - (relative @ up)[..., None] * up
    samples = horizontal.reshape(-1, 3)
    samples = samples[np.isfinite(samples).all(axis=1)]
    if len(samples) < 10:
        raise InvalidInput("too few valid foot positions to find the walking direction")
    _, vectors = np.linalg.eigh(np.cov(samples.T))
    axis = vectors[:, -1]
    velocity = np.diff(horizontal @ axis, axis=1)
    if np.mean(velocity[np.isfinite(velocity)] > 0) > 0.5:
        axis = -axis
    return axis
