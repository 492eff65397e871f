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

from gait.analysis.trajectories import foot_point
from gait.errors import InvalidInput


@dataclass
class StraightBoutDetector:
    """Frames where a person steps and keeps their heading.

    Stepping: over a window of one stride (the walk's own stride time, from the autocorrelation
    of the feet's distance apart, `stride_period_s`; at least `window_s`), the distance between
    the two feet along the heading swings by at least `min_stepping_m` (RMS about its mean);
    standing still, shuffling and weight shifting swing it less; a dip shorter than a stride (a
    slow walker's long double support) does not stop a bout. A fixed 1 s window split a walk at
    50 steps/min (the corpus's slow walk played 0.8 times as fast) where the feet stood still
    for most of a second (docs/validation.md, "Robustness"). Heading: the horizontal normal of the line from the right to
    the left hip, averaged over the window. A turn is where the heading rotates faster than
    `max_turn_rate_deg_s` and turns by at least `min_turn_deg` in all; a wobble that turns less
    (a hip line seen badly while the walker comes out from behind something, a sway) is not a
    turn. Window statistics use the valid frames only, so the walker entering or leaving the
    view is not mistaken for standing. A bout is a run of stepping, straight frames with valid
    feet and hips (or pelvis), at least `min_duration_s` long. Its ends are trimmed where they
    are measured not to be steady walking: where the walker starts or stops, while the feet's
    swing is below `steady_fraction` of the bout's median (the short steps of starting and
    stopping); next to a turn (fast heading change while stepping; without stepping it is standing
    with a heading that means nothing), by half a window more (the window smears the turn); where the
    data start or stop (the edge of the view or of the recording), not at all. Result:
    `bouts_`, a list of [start, stop) frame ranges.

    Parameters
    ----------
    window_s
        Averaging window of the heading and turn rate, and the shortest one of the stepping.
    min_stepping_m
        Least RMS swing of the foot-to-foot distance that counts as stepping.
    max_turn_rate_deg_s
        Fastest change of heading that still counts as straight.
    min_turn_deg
        Least change of heading over a stretch of fast turning for it to be a turn.
    steady_fraction
        Share of the bout's median swing below which its first and last frames count as
        starting or stopping.
    min_duration_s
        Shortest bout kept (two strides of slow walking).
    max_dropout_s
        Longest dropout inside the data (a marker hidden for a moment, keypoints lost for a few
        frames) that does not end a bout: the window statistics skip it, and the events need
        only the frames around them.
    """

    window_s: float = 1.0
    min_stepping_m: float = 0.08
    max_turn_rate_deg_s: float = 25.0
    min_turn_deg: float = 45.0
    steady_fraction: float = 0.75
    min_duration_s: float = 2.0
    max_dropout_s: float = 0.5

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, up: np.ndarray,
               heading_from_path: bool = False) -> StraightBoutDetector:
        """`heading_from_path`: take the heading from the pelvis's path even where hips exist
        (2D side views, where the hip line points into the image and has no usable normal)."""
        left, right = foot_point(positions, "left"), foot_point(positions, "right")
        if left is None or right is None:
            raise InvalidInput("finding the walking bouts needs both feet")
        up = np.asarray(up, float) / np.linalg.norm(up)
        window = max(3, int(round(self.window_s * sampling_rate_hz)))
        if "left_hip" in positions and "right_hip" in positions and not heading_from_path:
            body = positions["left_hip"] - positions["right_hip"]
            direction = np.cross(up, fill_gaps(body))
        elif "pelvis" in positions:  # markers without hip joint centres: the pelvis's path gives the heading
            body = positions["pelvis"]
            direction = np.gradient(fill_gaps(body), axis=0)
        else:
            raise InvalidInput("finding the walking bouts needs both hips or the pelvis")
        valid = np.isfinite(body).all(axis=1) & np.isfinite(left).all(axis=1) & np.isfinite(right).all(axis=1)
        heading = _heading(direction, up, valid, window)
        apart = np.einsum("ij,ij->i", fill_gaps(left - right), heading)
        self.stride_s_ = stride_period_s(apart, valid, sampling_rate_hz)
        stride = window if self.stride_s_ is None else max(window, int(round(self.stride_s_ * sampling_rate_hz)))
        centred = apart - _valid_mean(apart, valid, stride)
        self.swing_ = np.sqrt(np.clip(_valid_mean(centred**2, valid, stride), 0, None))
        turn_rate = _valid_mean(np.abs(np.degrees(_turn_rate(heading, up))) * sampling_rate_hz, valid, window)
        present = _bridge(valid, int(round(self.max_dropout_s * sampling_rate_hz)) + 1)
        self.stepping_ = _bridge(self.swing_ >= self.min_stepping_m, stride) & present
        self.straight_ = self._without_wobbles(turn_rate <= self.max_turn_rate_deg_s, heading, up)
        edges = _runs(present)
        bouts = []
        for start, stop in _runs(self.stepping_ & self.straight_):
            first, last = self._trim(start, stop, edges, window)
            if (last - first) / sampling_rate_hz >= self.min_duration_s:
                bouts.append((first, last))
        self.bouts_ = bouts
        return self

    def _without_wobbles(self, straight: np.ndarray, heading: np.ndarray, up: np.ndarray) -> np.ndarray:
        """Stretches of fast heading change that turn less than `min_turn_deg` in all while
        stepping count as straight (the heading of someone standing means nothing)."""
        straight = straight.copy()
        for start, stop in _runs(~straight & self.stepping_):
            before, after = heading[start], heading[stop - 1]
            net = np.degrees(np.arctan2(np.cross(before, after) @ up, before @ after))
            if abs(net) < self.min_turn_deg:
                straight[start:stop] = True
        return straight

    def _trim(self, start: int, stop: int, valid_runs: list[tuple[int, int]], window: int) -> tuple[int, int]:
        """The steady part of a stepping, straight run: see the class docstring."""
        data_starts = {run_start for run_start, _ in valid_runs}
        data_stops = {run_stop for _, run_stop in valid_runs}
        steady = self.steady_fraction * np.median(self.swing_[start:stop])
        first, last = start, stop
        if start not in data_starts:
            while first < last and self.swing_[first] < steady:
                first += 1
            if not self.straight_[start - 1] and self.stepping_[start - 1]:  # a turn, not standing
                first += window // 2
        if stop not in data_stops:
            while last > first and self.swing_[last - 1] < steady:
                last -= 1
            if stop < len(self.straight_) and not self.straight_[stop] and self.stepping_[stop]:
                last -= window // 2
        return first, max(first, last)


MIN_STRIDE_S, MAX_STRIDE_S = 0.6, 4.0  # a stride period outside these is not walking
FIRST_PEAK_SHARE = 0.7


def stride_period_s(apart: np.ndarray, valid: np.ndarray, sampling_rate_hz: float) -> float | None:
    """The walk's stride time: the lag of the first autocorrelation peak, between MIN_STRIDE_S
    and MAX_STRIDE_S, of the feet's distance apart along the heading (it swings once per stride)
    that reaches FIRST_PEAK_SHARE of the highest (two strides' peak can be as high); None where
    it shows none (standing, too short a recording)."""
    from scipy.signal import correlate, find_peaks

    signal = np.where(valid, apart, np.nan)
    signal = signal - np.nanmean(signal) if valid.any() else signal
    signal = np.nan_to_num(signal)
    low, high = int(MIN_STRIDE_S * sampling_rate_hz), int(MAX_STRIDE_S * sampling_rate_hz)
    if len(signal) < 2 * low or not signal.any():
        return None
    # by FFT: the direct sum is quadratic in the frames (0.9 s for a 5-minute recording at 100 Hz)
    correlation = correlate(signal, signal, "full", method="fft")[len(signal) - 1:]
    overlap = np.round(correlate(valid.astype(float), valid.astype(float), "full", method="fft")[len(signal) - 1:])
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = correlation / overlap / correlation[0] * overlap[0]  # each lag by the frames it compares
    peaks, _ = find_peaks(np.nan_to_num(correlation[: min(high, len(signal) // 2) + 1]))
    peaks = peaks[peaks >= low]
    if not peaks.size:
        return None
    highest = correlation[peaks].max()
    if not highest > 0:
        return None
    first = peaks[correlation[peaks] >= FIRST_PEAK_SHARE * highest][0]  # a stride, not two: their peaks are alike
    return float(first / sampling_rate_hz)


def fill_gaps(points: np.ndarray) -> np.ndarray:
    """Missing samples linearly interpolated per coordinate (edges held), for window statistics."""
    out = np.array(points, dtype=float)
    index = np.arange(len(out))
    for column in range(out.shape[1]):
        finite = np.isfinite(out[:, column])
        if finite.any() and not finite.all():
            out[:, column] = np.interp(index, index[finite], out[finite, column])
    return out


def _valid_mean(values: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """Moving average over `window` frames of the valid samples only (NaN where the window holds
    none), so statistics near the edge of the data are not diluted by what lies beyond it."""
    from scipy.ndimage import uniform_filter1d

    weights = valid.astype(float)
    values = np.where(valid[(...,) + (None,) * (values.ndim - 1)], np.nan_to_num(values), 0.0)
    total = uniform_filter1d(values, window, axis=0, mode="constant")
    count = uniform_filter1d(weights, window, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count[(...,) + (None,) * (values.ndim - 1)]


def _heading(direction: np.ndarray, up: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """(frames, 3) unit horizontal vectors along `direction`, averaged over `window` valid frames.
    For the hip line's normal the sign (forwards or backwards) does not matter: only its change."""
    normal = direction - (direction @ up)[:, None] * up
    normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
    smooth = fill_gaps(_valid_mean(normal, valid, window))
    return smooth / (np.linalg.norm(smooth, axis=1, keepdims=True) + 1e-12)


def _turn_rate(heading: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Signed rotation about `up` from each frame to the next (radians per frame)."""
    step = np.arctan2(np.cross(heading[:-1], heading[1:]) @ up, np.einsum("ij,ij->i", heading[:-1], heading[1:]))
    return np.concatenate([step, step[-1:]])


def _bridge(mask: np.ndarray, longest: int) -> np.ndarray:
    """`mask` with its False runs shorter than `longest` inside True stretches set True."""
    out = mask.copy()
    for start, stop in _runs(~mask):
        if start > 0 and stop < len(mask) and stop - start < longest:
            out[start:stop] = True
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) ranges where `mask` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))
