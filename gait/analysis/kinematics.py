"""Sagittal joint and segment angles from keypoints or markers, and their curves over the gait cycle.

Each angle is defined as the normal reference (Plug-in Gait, Kadaba, Ramakrishnan & Wootten 1990)
defines it, or as a segment angle the reference can be converted to (gait/analysis/reference.py);
segments are projected onto the sagittal plane (spanned by the walking direction and the vertical):

- thigh angle: the thigh (hip -> knee) to the vertical, positive with the knee ahead of the hip. It
  needs no pelvis, so keypoints give it; Plug-in Gait's hip flexion is the thigh to the pelvis, so
  thigh angle = hip flexion - anterior pelvic tilt.
- hip flexion (only with pelvis markers): thigh angle + pelvic tilt, the thigh to the pelvis as in
  Plug-in Gait. Without pelvis markers it is not computed: the trunk line is not the pelvis.
- knee flexion: the shank (knee -> ankle) to the thigh, 0 at full extension.
- foot angle: the foot line to the walking direction, positive toes up. The foot line runs from the
  ankle to the toe, as Plug-in Gait's foot axis runs from the ankle joint centre to the toe marker
  (Davis et al. 1991); the heel point, which keypoints place on the back of the heel and which
  moves on the foot as it rolls, does not enter it.
- ankle dorsiflexion: the foot line to the shank minus 90 degrees, positive with the foot raised
  towards the shank; calibrated by `calibrate_ankles` (the foot-flat offset, below).
- pelvic tilt (pelvis markers): the PSIS -> ASIS line, positive with the front down; trunk tilt
  (pelvis -> thorax to the vertical), positive forwards.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from gait.analysis.trajectories import SIDES

CYCLE_SAMPLES = 101  # 0..100 % of the gait cycle
MID_STANCE_PCT = (12, 31)  # Perry & Burnfield 2010: mid-stance, the foot flat on the floor
FEET_APART_FOOT_LENGTHS = 0.5  # nearer than this in the sagittal plane, the feet overlap in a side view


def _signed_angle(reference: np.ndarray, segment: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle (deg) from `reference` to `segment` in the sagittal plane (forward, up), positive when
    `segment` is turned backwards from `reference` (the sense of knee flexion)."""
    def planar(v: np.ndarray) -> np.ndarray:
        return np.stack([v @ forward, v @ up], axis=-1)

    r, s = planar(reference), planar(segment)
    cross = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    dot = (r * s).sum(axis=-1)
    return -np.degrees(np.arctan2(cross, dot))


def _inclination_deg(segment: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Angle (deg) of `segment` above the walking direction in the sagittal plane (positive up)."""
    return np.degrees(np.arctan2(segment @ up, segment @ forward))


def sagittal_angles(positions: dict[str, np.ndarray], forward: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """Per-frame angles (deg) of `positions` (name -> (frames, 3)) in the sagittal plane of `forward`
    and `up`, named `<side>_<angle>_deg`, for each side where the joints exist:
    thigh angle and knee flexion (hip, knee, ankle), hip flexion (with pelvis markers: `asis_mid`,
    `psis_mid`), foot angle and uncalibrated ankle dorsiflexion (with heel and toe); pelvic tilt and
    trunk tilt (pelvis and thorax) where their points exist. Definitions: the module docstring."""
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
    for side in SIDES:
        hip, knee, ankle = (positions.get(f"{side}_{j}") for j in ("hip", "knee", "ankle"))
        if hip is None or knee is None or ankle is None:
            continue
        thigh, shank = knee - hip, ankle - knee
        angles[f"{side}_thigh_angle_deg"] = -_signed_angle(down, thigh, forward, up)
        if "pelvis_tilt_deg" in angles:
            angles[f"{side}_hip_flexion_deg"] = angles[f"{side}_thigh_angle_deg"] + angles["pelvis_tilt_deg"]
        angles[f"{side}_knee_flexion_deg"] = _signed_angle(thigh, shank, forward, up)
        heel, toe = positions.get(f"{side}_heel"), positions.get(f"{side}_toe")
        if heel is not None and toe is not None:
            foot = toe - ankle
            angles[f"{side}_foot_angle_deg"] = _inclination_deg(foot, forward, up)
            angles[f"{side}_ankle_dorsiflexion_deg"] = _signed_angle(shank, foot, forward, up) * -1 - 90
    return angles


def feet_apart(positions: dict[str, np.ndarray], forward: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, the frames where its heel and toe are more than FEET_APART_FOOT_LENGTHS of its own
    median foot length (heel to toe) from every point of the other foot (heel, toe, ankle) of
    `positions` in the sagittal plane (`forward`, `up`): where a side view sees the two feet apart,
    not one over the other."""
    forward = np.asarray(forward, float) / np.linalg.norm(forward)
    up = np.asarray(up, float) / np.linalg.norm(up)

    def sagittal(point: np.ndarray) -> np.ndarray:
        return np.stack([point @ forward, point @ up], axis=-1)

    apart = {}
    for side, other in zip(SIDES, SIDES[::-1]):
        own = [positions.get(f"{side}_{p}") for p in ("heel", "toe")]
        theirs = [positions.get(f"{other}_{p}") for p in ("heel", "toe", "ankle")]
        if any(p is None for p in own) or all(p is None for p in theirs):
            continue
        foot_m = np.nanmedian(np.linalg.norm(sagittal(own[1]) - sagittal(own[0]), axis=-1))
        gaps = [np.linalg.norm(sagittal(a) - sagittal(b), axis=-1) for a in own for b in theirs if b is not None]
        with np.errstate(invalid="ignore"):
            apart[side] = np.min(gaps, axis=0) > FEET_APART_FOOT_LENGTHS * foot_m
    return apart


def foot_flat_offsets(angles: dict[str, np.ndarray], events: pd.DataFrame, rate_hz: float,
                      apart: dict[str, np.ndarray]) -> dict[str, float]:
    """Per side, the foot angle (deg, in `angles`, per frame at `rate_hz`) the ankle -> toe line
    reads while the foot is flat on the floor: its median over mid-stance (MID_STANCE_PCT of
    each cycle between the heel strikes of `events`, Perry & Burnfield 2010) in the frames where the
    feet are apart (`apart`, from `feet_apart`). The plantar line is level
    then, so this is the line's offset from it (the foot-flat calibration of Plug-in Gait's static
    trial, Davis et al. 1991, taken from walking). Sides without such frames are left out."""
    offsets = {}
    time_s = np.arange(len(next(iter(angles.values())))) / rate_hz if angles else np.empty(0)
    for side in SIDES:
        foot = angles.get(f"{side}_foot_angle_deg")
        if foot is None or side not in apart:
            continue
        flat = np.zeros(len(foot), dtype=bool)
        strikes = _strikes(events, side)
        for start, stop in zip(strikes[:-1], strikes[1:]):
            phase = 100 * (time_s - start) / (stop - start)
            flat |= (phase >= MID_STANCE_PCT[0]) & (phase <= MID_STANCE_PCT[1])
        values = foot[flat & apart[side] & np.isfinite(foot)]
        if values.size:
            offsets[side] = float(np.median(values))
    return offsets


def calibrate_ankles(angles: dict[str, np.ndarray], offsets: dict[str, float]) -> dict[str, np.ndarray]:
    """The `angles` with each side's ankle dorsiflexion and foot angle corrected by its foot-flat
    offset (`offsets`, from `foot_flat_offsets`): 0 ankle angle with the plantar line at 90 degrees to the shank,
    0 foot angle with it level. Sides without an offset lose their ankle and foot angles (an
    uncalibrated foot line is not the foot's plantar line)."""
    calibrated = dict(angles)
    for side in SIDES:
        for name in (f"{side}_ankle_dorsiflexion_deg", f"{side}_foot_angle_deg"):
            if name in calibrated:
                if side in offsets:
                    calibrated[name] = angles[name] - offsets[side]
                else:
                    del calibrated[name]
    return calibrated


def cycle_curves(angle: np.ndarray, strikes_s: np.ndarray, rate_hz: float,
                 max_stride_s: float = 2.0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """(cycles, 101) time-normalised curves of `angle` (per frame at `rate_hz`) between consecutive
    heel strikes of one side (`strikes_s`), and each cycle's (start, stop) in seconds; strides
    longer than `max_stride_s` or with missing samples are left out."""
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
    """Every cycle of every angle of `angles` (per frame at `rate_hz`, cut at the heel strikes of
    `events`): one row each, columns angle, cycle, start_s, stop_s and the 101 samples over
    0..100 % of the cycle (degrees)."""
    rows = []
    for name, angle in angles.items():
        curves, windows = cycle_curves(angle, _strikes(events, name), rate_hz)
        for number, (curve, (start, stop)) in enumerate(zip(curves, windows), start=1):
            rows.append([name, number, start, stop, *curve])
    return pd.DataFrame(rows, columns=["angle", "cycle", "start_s", "stop_s", *[f"{i}%" for i in range(CYCLE_SAMPLES)]])


def kinematics_table(angles: dict[str, np.ndarray], events: pd.DataFrame, rate_hz: float) -> pd.DataFrame:
    """Mean and SD curve over the gait cycle of each angle of `angles` (per frame at `rate_hz`;
    rows: 0..100 %), from that side's heel strikes in `events` (trunk: from the right side's), with
    the number of cycles."""
    columns = {"cycle_pct": np.arange(CYCLE_SAMPLES)}
    for name, angle in angles.items():
        curves, _ = cycle_curves(angle, _strikes(events, name), rate_hz)
        if len(curves) == 0:
            continue
        columns[f"{name}_mean"] = curves.mean(axis=0)
        columns[f"{name}_sd"] = curves.std(axis=0, ddof=1) if len(curves) > 1 else np.full(CYCLE_SAMPLES, np.nan)
        columns[f"{name}_cycles"] = np.full(CYCLE_SAMPLES, len(curves))
    return pd.DataFrame(columns)


def bout_angles(positions: dict[str, np.ndarray], bouts: pd.DataFrame, up: np.ndarray, events: pd.DataFrame,
                rate_hz: float) -> tuple[dict[str, np.ndarray], list[str]]:
    """Per-frame calibrated angles (deg) of `positions` (name -> (frames, 3), filtered) over the
    whole recording, NaN outside the `bouts` (rows of start_s, stop_s, forward_x/_y/_z): each bout by
    `sagittal_angles` along its own walking direction and `up`, then the ankles by their foot-flat
    offsets from `events` (heel strikes, time_s) sampled at `rate_hz` (`foot_flat_offsets`).
    Returns the angles and the calibration's notes."""
    frames = len(next(iter(positions.values())))
    angles: dict[str, np.ndarray] = {}
    apart: dict[str, np.ndarray] = {}
    for bout in bouts.itertuples():
        start, stop = int(round(bout.start_s * rate_hz)), int(round(bout.stop_s * rate_hz))
        part = {name: p[start:stop] for name, p in positions.items()}
        forward = np.array([bout.forward_x, bout.forward_y, bout.forward_z])
        for name, angle in sagittal_angles(part, forward, up).items():
            angles.setdefault(name, np.full(frames, np.nan))[start:stop] = angle
        for side, mask in feet_apart(part, forward, up).items():
            apart.setdefault(side, np.zeros(frames, dtype=bool))[start:stop] = mask
    offsets = foot_flat_offsets(angles, events, rate_hz, apart)
    return calibrate_ankles(angles, offsets), ankle_calibration_note(offsets, angles)


def ankle_calibration_note(offsets: dict[str, float], angles: dict[str, np.ndarray]) -> list[str]:
    """What the foot-flat calibration removed per side (`offsets`, from `foot_flat_offsets`), and
    which sides' ankles it leaves out for want of mid-stance frames with the feet apart (`angles`:
    before `calibrate_ankles`)."""
    removed = ", ".join(f"{side} {value:+.1f}" for side, value in offsets.items())
    lines = [f"ankle: the foot line's foot-flat offset removed ({removed} deg)"] if offsets else []
    missing = [side for side in SIDES if f"{side}_foot_angle_deg" in angles and side not in offsets]
    lines += [f"{side} ankle left out: no mid-stance frame with the feet apart to calibrate the foot line"
              for side in missing]
    return lines


EVIDENCE_COLUMNS = ["angle", "cycles_2d", "cycles_3d", "rms_2d_vs_3d_deg", "left_vs_right_2d_deg", "left_vs_right_3d_deg"]


def _rms_between(table_a: pd.DataFrame, name_a: str, table_b: pd.DataFrame, name_b: str) -> float:
    """RMS difference (deg) of two mean curves over the cycle; NaN where either is missing."""
    a, b = table_a.get(f"{name_a}_mean"), table_b.get(f"{name_b}_mean")
    return float(np.sqrt(np.mean((a.to_numpy(float) - b.to_numpy(float)) ** 2))) if a is not None and b is not None else float("nan")


def angle_source_evidence(kinematics_2d: pd.DataFrame, kinematics_3d: pd.DataFrame) -> pd.DataFrame:
    """Per sided angle, the evidence for taking it from the 2D or the 3D keypoints (`kinematics_2d`,
    `kinematics_3d`: kinematics_table of each): the number of cycles in each, the RMS difference of
    their mean curves, and the left-right RMS difference of each source's mean curves (a healthy
    walker's sides differ by a few degrees). Columns: EVIDENCE_COLUMNS."""
    names = sorted({c.split("_", 1)[1][: -len("_mean")] for t in (kinematics_2d, kinematics_3d)
                    for c in t.columns if c.startswith(("left_", "right_")) and c.endswith("_mean")})
    rows = []
    for side in SIDES:
        for angle in names:
            name = f"{side}_{angle}"
            if f"{name}_mean" not in kinematics_2d and f"{name}_mean" not in kinematics_3d:
                continue
            cycles = [int(t[f"{name}_cycles"].iloc[0]) if f"{name}_cycles" in t else 0 for t in (kinematics_2d, kinematics_3d)]
            rows.append([name, *cycles, _rms_between(kinematics_2d, name, kinematics_3d, name),
                         *(_rms_between(t, f"left_{angle}", t, f"right_{angle}") for t in (kinematics_2d, kinematics_3d))])
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
