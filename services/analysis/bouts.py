"""Straight walking bouts: the stretches of a trial that are gait, without the turns and the
standing still before, between and after them.

The analysis runs per bout (walking direction, events, angles), so a turn is never read as steps
and a trial that walks there and back gets the right direction on each leg of the course. Works
on ground-fixed coordinates and on pelvis-relative keypoints alike: it looks only at the hips
(heading) and the feet relative to each other (stepping).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from gait.errors import InvalidInput


@dataclass
class StraightBoutDetector:
    """Frames where a person steps and keeps their heading.

    Stepping: over a window of `window_s`, the distance between the two feet along the heading
    swings by at least `min_stepping_m` (RMS about its mean); standing still, shuffling and
    weight shifting swing it less. Heading: the horizontal normal of the line from the right to
    the left hip, averaged over the window; a turn is where it rotates faster than
    `max_turn_rate_deg_s`. A bout is a run of stepping, straight frames with valid hips (or
    pelvis), at least `min_duration_s` long; where it starts or ends because the walker stands or
    turns, it is trimmed by half a window, which also leaves out the first and last steps of
    starting and stopping. Result: `bouts_`, a list of [start, stop) frame ranges.

    Parameters
    ----------
    window_s
        Averaging window (about one stride).
    min_stepping_m
        Least RMS swing of the foot-to-foot distance that counts as stepping.
    max_turn_rate_deg_s
        Fastest change of heading that still counts as straight.
    min_duration_s
        Shortest bout kept (two strides of slow walking).
    """

    window_s: float = 1.0
    min_stepping_m: float = 0.08
    max_turn_rate_deg_s: float = 25.0
    min_duration_s: float = 2.0

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, up: np.ndarray,
               heading_from_path: bool = False) -> StraightBoutDetector:
        """`heading_from_path`: take the heading from the pelvis's path even where hips exist
        (2D side views, where the hip line points into the image and has no usable normal)."""
        for name in ("left_ankle", "right_ankle"):
            if name not in positions:
                raise InvalidInput(f"finding the walking bouts needs the {name} trajectory")
        up = np.asarray(up, float) / np.linalg.norm(up)
        window = max(3, int(round(self.window_s * sampling_rate_hz)))
        if "left_hip" in positions and "right_hip" in positions and not heading_from_path:
            heading = _heading(np.cross(up, _fill(positions["left_hip"] - positions["right_hip"])), up, window)
            body = positions["left_hip"] - positions["right_hip"]
        elif "pelvis" in positions:  # markers without hip joint centres: the pelvis's path gives the heading
            heading = _heading(np.gradient(_fill(positions["pelvis"]), axis=0), up, window)
            body = positions["pelvis"]
        else:
            raise InvalidInput("finding the walking bouts needs both hips or the pelvis")
        feet = _fill(positions["left_ankle"] - positions["right_ankle"])
        apart = np.einsum("ij,ij->i", feet, heading)
        centred = apart - uniform_filter1d(apart, window, mode="nearest")
        swing = np.sqrt(np.clip(uniform_filter1d(centred**2, window, mode="nearest"), 0, None))
        turn_rate = np.degrees(_turn_rate(heading, up)) * sampling_rate_hz
        turn_rate = uniform_filter1d(np.abs(turn_rate), window, mode="nearest")
        valid = np.isfinite(body).all(axis=1)
        self.stepping_ = swing >= self.min_stepping_m
        self.straight_ = turn_rate <= self.max_turn_rate_deg_s
        # the window smears the edges of stepping and turning by half its width: trim them back
        # (edges where the data start or stop are sharp and stay)
        trim = window // 2
        gait = np.zeros(len(valid), dtype=bool)
        for start, stop in _runs(self.stepping_ & self.straight_):
            first, last = (start + trim if start > 0 else 0), (stop - trim if stop < len(valid) else stop)
            gait[first: max(first, last)] = True
        self.bouts_ = [(start, stop) for start, stop in _runs(gait & valid)
                       if (stop - start) / sampling_rate_hz >= self.min_duration_s]
        return self


def _fill(points: np.ndarray) -> np.ndarray:
    """Missing samples linearly interpolated per coordinate (edges held), for window statistics."""
    out = np.array(points, dtype=float)
    index = np.arange(len(out))
    for column in range(out.shape[1]):
        finite = np.isfinite(out[:, column])
        if finite.any() and not finite.all():
            out[:, column] = np.interp(index, index[finite], out[finite, column])
    return out


def _heading(direction: np.ndarray, up: np.ndarray, window: int) -> np.ndarray:
    """(frames, 3) unit horizontal vectors along `direction`, averaged over `window` frames. For
    the hip line's normal the sign (forwards or backwards) does not matter: only its change."""
    normal = direction - (direction @ up)[:, None] * up
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    smooth = uniform_filter1d(normal, window, axis=0, mode="nearest")
    return smooth / (np.linalg.norm(smooth, axis=1, keepdims=True) + 1e-12)


def _turn_rate(heading: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Signed rotation about `up` from each frame to the next (radians per frame)."""
    step = np.arctan2(np.cross(heading[:-1], heading[1:]) @ up, np.einsum("ij,ij->i", heading[:-1], heading[1:]))
    return np.concatenate([step, step[-1:]])


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) ranges where `mask` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))
