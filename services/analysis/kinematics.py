"""Sagittal joint angles from 3D keypoints, and their curves over the gait cycle.

Angles follow the clinical conventions of Perry & Burnfield (2010) and Kadaba, Ramakrishnan &
Wootten (1990): hip flexion positive when the thigh is ahead of the trunk's vertical, knee
flexion 0 at full extension, ankle dorsiflexion positive when the foot is raised towards the
shank (0 with the foot at 90 degrees to the shank), trunk tilt positive forwards. Segments are
projected onto the sagittal plane (spanned by the walking direction and the vertical).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

CYCLE_SAMPLES = 101  # 0..100 % of the gait cycle


def _signed_angle(reference: np.ndarray, segment: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle (deg) from `reference` to `segment` in the sagittal plane (forward, up), positive when
    `segment` is turned backwards from `reference` (the sense of knee flexion)."""
    def planar(v: np.ndarray) -> np.ndarray:
        return np.stack([v @ forward, v @ up], axis=-1)

    r, s = planar(reference), planar(segment)
    cross = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    dot = (r * s).sum(axis=-1)
    return -np.degrees(np.arctan2(cross, dot))


def sagittal_angles(positions: dict[str, np.ndarray], forward: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame angles (deg) for each side where the joints exist: hip/knee flexion, ankle
    dorsiflexion; trunk tilt when pelvis and thorax exist. Without pelvis markers the hip angle
    is the thigh's relative to the trunk (pelvis -> thorax), or to the vertical if there is no trunk."""
    forward = np.asarray(forward, float) / np.linalg.norm(forward)
    up = np.asarray(up, float) / np.linalg.norm(up)
    down = np.broadcast_to(-up, next(iter(positions.values())).shape)
    angles = {}
    if "pelvis" in positions and "thorax" in positions:
        trunk = positions["thorax"] - positions["pelvis"]
        angles["trunk_tilt_deg"] = _signed_angle(np.broadcast_to(up, trunk.shape), trunk, forward, up)
    if "asis_mid" in positions and "psis_mid" in positions:  # anterior tilt positive: the front of the pelvis down
        axis = positions["asis_mid"] - positions["psis_mid"]
        angles["pelvis_tilt_deg"] = _signed_angle(np.broadcast_to(forward, axis.shape), axis, forward, up)
    for side in ("left", "right"):
        hip, knee, ankle = (positions.get(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        if hip is None or knee is None or ankle is None:
            continue
        thigh, shank = knee - hip, ankle - knee
        vertical = down if "thorax" not in positions else -(positions["thorax"] - positions["pelvis"])
        angles[f"{side}_hip_flexion_deg"] = -_signed_angle(vertical, thigh, forward, up)
        angles[f"{side}_knee_flexion_deg"] = _signed_angle(thigh, shank, forward, up)
        heel, toe = positions.get(f"{side}_heel"), positions.get(f"{side}_toe")
        if heel is not None and toe is not None:
            angles[f"{side}_ankle_dorsiflexion_deg"] = _signed_angle(shank, toe - heel, forward, up) * -1 - 90
    return angles


def cycle_curves(angle: np.ndarray, strikes_s: np.ndarray, rate_hz: float,
                 max_stride_s: float = 2.0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(cycles, 101) time-normalised curves between consecutive heel strikes of one side, and each
    cycle's (start, stop) in seconds; strides longer than `max_stride_s` or with missing samples
    are left out."""
    curves, windows = [], []
    time = np.arange(len(angle)) / rate_hz
    for start, stop in zip(strikes_s[:-1], strikes_s[1:]):
        if stop - start > max_stride_s:
            continue
        inside = (time >= start) & (time <= stop)
        if inside.sum() < 5 or not np.isfinite(angle[inside]).all():
            continue
        grid = np.linspace(start, stop, CYCLE_SAMPLES)
        curves.append(np.interp(grid, time[inside], angle[inside]))
        windows.append((float(start), float(stop)))
    return np.array(curves).reshape(-1, CYCLE_SAMPLES), windows


def _strikes(events: pd.DataFrame, name: str) -> np.ndarray:
    side = "left" if name.startswith("left") else "right"  # unsided angles (trunk, pelvis): the right's cycles
    return np.sort(events[(events.side == side) & (events.event == "heel_strike")].time_s.to_numpy())


def cycles_table(angles: dict[str, np.ndarray], events: pd.DataFrame, rate_hz: float) -> pd.DataFrame:
    """Every cycle of every angle: one row each, columns angle, cycle, start_s, stop_s and the
    101 samples over 0..100 % of the cycle (degrees)."""
    rows = []
    for name, angle in angles.items():
        curves, windows = cycle_curves(angle, _strikes(events, name), rate_hz)
        for number, (curve, (start, stop)) in enumerate(zip(curves, windows), start=1):
            rows.append([name, number, start, stop, *curve])
    return pd.DataFrame(rows, columns=["angle", "cycle", "start_s", "stop_s", *[f"{i}%" for i in range(CYCLE_SAMPLES)]])


def kinematics_table(angles: dict[str, np.ndarray], events: pd.DataFrame, rate_hz: float) -> pd.DataFrame:
    """Mean and SD curve over the gait cycle of each angle (rows: 0..100 %), from that side's
    heel strikes (trunk: from the right side's), with the number of cycles and range of motion."""
    columns = {"cycle_pct": np.arange(CYCLE_SAMPLES)}
    for name, angle in angles.items():
        curves, _ = cycle_curves(angle, _strikes(events, name), rate_hz)
        if len(curves) == 0:
            continue
        columns[f"{name}_mean"] = curves.mean(axis=0)
        columns[f"{name}_sd"] = curves.std(axis=0, ddof=1) if len(curves) > 1 else np.full(CYCLE_SAMPLES, np.nan)
        columns[f"{name}_cycles"] = np.full(CYCLE_SAMPLES, len(curves))
    return pd.DataFrame(columns)
