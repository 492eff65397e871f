"""Foot contacts from the force plates of a C3D file (its FORCE_PLATFORM group and analog
channels): the gait lab's reference for the events of the feet that land on a plate.

A contact is a stretch where the plate's vertical force stays above FORCE_THRESHOLD_N for at
least MIN_CONTACT_S: heel strike where it rises through the threshold, toe off where it falls
through it, both interpolated between analog samples. Its foot is the one whose heel, toe or
ankle stays over the plate (its corners, widened by MARGIN_M) through the contact (the other
foot swings over it only for a moment); a contact with both feet or neither on the plate (a
single-belt treadmill, a foot half on) is no reference and is left out, as is an event before
the recording's first analog sample or after its last (the plate was already or still loaded).
Plates are taken as the box of their corners in the lab's horizontal axes (plates lie along a
lab's axes).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

FORCE_THRESHOLD_N = 20.0  # as the corpus's treadmill reference (docs/validation.md)
MIN_CONTACT_S = 0.1
MARGIN_M = 0.03
MIN_SHARE_ON = 0.8
EVENT_COLUMNS = ["side", "event", "time_s"]


def _numbers(parameter) -> np.ndarray:
    """A numeric C3D parameter's values, as stored (int8, int16 or float32: some writers store
    TYPE and CHANNEL as floats)."""
    dtype = {1: np.int8, 2: np.int16, 4: np.float32}[abs(parameter.bytes_per_element)]
    return np.frombuffer(parameter.bytes, dtype=dtype).astype(float)


def vertical_forces(reader, analog: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per plate: (its vertical force in N over the analog samples, its corners (4, 3) in the
    points' units). `analog` is (channels, samples), scaled. Plates of an unknown type, or whose
    channels are not in the file, are left out."""
    used = reader.get("FORCE_PLATFORM:USED")
    if used is None or not int(_numbers(used)[0]) or reader.get("FORCE_PLATFORM:CHANNEL") is None:
        return []
    count = int(_numbers(used)[0])
    types = _numbers(reader.get("FORCE_PLATFORM:TYPE")).astype(int)[:count]
    channels = _numbers(reader.get("FORCE_PLATFORM:CHANNEL")).astype(int)
    per_plate = len(channels) // count if count else 0
    channels = channels[: per_plate * count].reshape(count, per_plate) - 1  # 1-based in the file
    corners = _numbers(reader.get("FORCE_PLATFORM:CORNERS"))[: 12 * count].reshape(count, 4, 3)
    matrices = reader.get("FORCE_PLATFORM:CAL_MATRIX")
    plates = []
    for plate, (kind, own) in enumerate(zip(types, channels)):
        if own.max(initial=-1) >= len(analog) or own.min(initial=0) < 0:
            continue
        signals = analog[own]
        if kind in (1, 2) and per_plate >= 3:
            vertical = signals[2]
        elif kind == 3 and per_plate >= 8:  # Kistler: fz1 + fz2 + fz3 + fz4
            vertical = signals[4:8].sum(axis=0)
        elif kind == 4 and matrices is not None and per_plate >= 6:
            matrix = _numbers(matrices)[36 * plate: 36 * (plate + 1)].reshape(6, 6).T  # stored column by column
            vertical = matrix[2] @ signals[:6]
        else:
            continue
        plates.append((np.abs(vertical), corners[plate]))
    return plates


def contact_events(plates: list[tuple[np.ndarray, np.ndarray]], analog_rate_hz: float, unit_to_m: float,
                   positions: dict[str, np.ndarray], point_rate_hz: float, up: np.ndarray) -> pd.DataFrame | None:
    """Heel strikes and toe offs (side, event, time_s) of the feet on the plates; None where no
    contact could be given a foot. `plates` from `vertical_forces` (corners in the file's units,
    `unit_to_m` metres each); `positions` the recording's joints in metres, `up` its vertical."""
    feet = {side: [p for name, p in positions.items() if name in (f"{side}_heel", f"{side}_toe", f"{side}_ankle")]
            for side in ("left", "right")}
    rows = []
    for force, corners in plates:
        loaded = force > FORCE_THRESHOLD_N
        rises = list(np.flatnonzero(~loaded[:-1] & loaded[1:]) + 1)
        for start in ([0] if loaded[0] else []) + rises:
            ends = np.flatnonzero(~loaded[start:])
            stop = start + int(ends[0]) if ends.size else len(loaded)
            if (stop - start) / analog_rate_hz < MIN_CONTACT_S:
                continue
            frames = (start / analog_rate_hz * point_rate_hz, stop / analog_rate_hz * point_rate_hz)
            side = _foot_on(corners * unit_to_m, feet, frames, up)
            if side is None:
                continue
            if start > 0:
                rows.append((side, "heel_strike", _crossing(force, start) / analog_rate_hz))
            if stop < len(loaded):
                rows.append((side, "toe_off", _crossing(force, stop) / analog_rate_hz))
    if not rows:
        return None
    return pd.DataFrame(rows, columns=EVENT_COLUMNS).sort_values("time_s", ignore_index=True)


def _crossing(force: np.ndarray, index: int) -> float:
    """Sub-sample position where the force passes the threshold between samples index - 1 and index."""
    before, after = force[index - 1], force[index]
    return index - 1 + (FORCE_THRESHOLD_N - before) / (after - before) if after != before else float(index)


def _foot_on(corners_m: np.ndarray, feet: dict[str, list[np.ndarray]], frames: tuple[float, float],
             up: np.ndarray) -> str | None:
    """The side whose foot stood on the plate through the contact (frames [start, stop)): a heel,
    toe or ankle horizontally inside the box of its corners, widened by MARGIN_M, in at least
    MIN_SHARE_ON of the frames. The other foot swings over the plate only for part of it. None
    where both or neither did."""
    axes = [axis for axis in range(3) if abs(up[axis]) < 0.5]
    low, high = corners_m[:, axes].min(axis=0) - MARGIN_M, corners_m[:, axes].max(axis=0) + MARGIN_M
    first, last = int(np.ceil(frames[0])), int(np.floor(frames[1]))
    on = []
    for side, points in feet.items():
        inside = [np.all((low <= p[first:last + 1, axes]) & (p[first:last + 1, axes] <= high), axis=1) for p in points]
        if inside and np.mean(np.any(inside, axis=0)) >= MIN_SHARE_ON:
            on.append(side)
    return on[0] if len(on) == 1 else None
