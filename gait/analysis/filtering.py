"""Zero-phase Butterworth low-pass filtering of keypoint trajectories.

Winter (2009), Biomechanics and Motor Control of Human Movement, 4th ed., ch. 2: a 6 Hz cutoff
suits marker trajectories of walking; the filter runs forwards and backwards (no phase lag), which
doubles the effective order. Short dropouts (NaN) are bridged by linear interpolation before
filtering and restored as NaN afterwards; runs shorter than the filter needs stay unfiltered.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gait.errors import InvalidInput

DEFAULT_CUTOFF_HZ = 6.0
DEFAULT_ORDER = 4
MAX_ORDER = 8


@dataclass(frozen=True)
class ButterworthLowPass:
    """Zero-phase low-pass: parameters in __init__, one action method taking data and its rate.

    Parameters
    ----------
    cutoff_hz
        Cutoff frequency; must be below the Nyquist frequency (half the sampling rate).
    order
        Order of the designed filter (1..8); applied twice, forwards and backwards.
    max_gap_s
        Longest dropout bridged by interpolation before filtering.
    """

    cutoff_hz: float = DEFAULT_CUTOFF_HZ
    order: int = DEFAULT_ORDER
    max_gap_s: float = 0.1

    def check(self, sampling_rate_hz: float) -> None:
        nyquist = sampling_rate_hz / 2
        if not 1 <= self.order <= MAX_ORDER:
            raise InvalidInput(f"filter order must be between 1 and {MAX_ORDER} (got {self.order})")
        if not 0 < self.cutoff_hz < nyquist:
            raise InvalidInput(
                f"cutoff {self.cutoff_hz:g} Hz must be above 0 and below the Nyquist frequency "
                f"{nyquist:g} Hz (half of {sampling_rate_hz:g} frames/s)"
            )

    def filter(self, data: np.ndarray, sampling_rate_hz: float) -> np.ndarray:
        """Filter each column of (samples, ...) `data` along axis 0; NaN marks missing samples."""
        from scipy.signal import butter

        self.check(sampling_rate_hz)
        sos = butter(self.order, self.cutoff_hz, btype="low", fs=sampling_rate_hz, output="sos")
        flat = np.asarray(data, dtype=np.float64).reshape(len(data), -1)
        out = np.full_like(flat, np.nan)
        max_gap = max(1, int(round(self.max_gap_s * sampling_rate_hz)))
        for column in range(flat.shape[1]):
            out[:, column] = _filter_column(flat[:, column], sos, max_gap)
        return out.reshape(np.shape(data))


def _filter_column(signal: np.ndarray, sos: np.ndarray, max_gap: int) -> np.ndarray:
    from scipy.signal import sosfiltfilt

    bridged = _bridge_short_gaps(signal, max_gap)
    out = np.full_like(signal, np.nan)
    min_length = 3 * (2 * len(sos) + 1)
    for start, stop in finite_runs(bridged):
        if stop - start > min_length:
            out[start:stop] = sosfiltfilt(sos, bridged[start:stop])
        else:
            out[start:stop] = bridged[start:stop]
    out[np.isnan(signal)] = np.nan
    return out


def _bridge_short_gaps(signal: np.ndarray, max_gap: int) -> np.ndarray:
    """Linear interpolation across interior NaN runs of at most `max_gap` samples."""
    out = signal.copy()
    missing = np.isnan(signal)
    if missing.all() or not missing.any():
        return out
    index = np.arange(len(signal))
    for start, stop in finite_runs(np.where(missing, 0.0, np.nan)):  # runs of missing samples
        if start > 0 and stop < len(signal) and stop - start <= max_gap:
            out[start:stop] = np.interp(index[start:stop], index[~missing], signal[~missing])
    return out


def finite_runs(signal: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges where `signal` is finite."""
    finite = np.concatenate([[False], np.isfinite(signal), [False]])
    edges = np.flatnonzero(np.diff(finite.astype(np.int8)))
    return list(zip(edges[0::2], edges[1::2]))


def residual_cutoff(signals: list[np.ndarray], sampling_rate_hz: float, order: int = DEFAULT_ORDER,
                    step_hz: float = 0.5) -> float:
    """Cutoff by residual analysis (Winter 2009, ch. 2): for each signal, the RMS residual between
    raw and zero-phase filtered data as a function of the cutoff falls, at high cutoffs, along a
    straight line that is the noise; its intercept at 0 Hz is the noise's RMS, and the cutoff is
    where the residual curve meets that level. The median over the signals (1-D, NaN allowed) is
    returned, rounded to `step_hz`."""
    from scipy.signal import butter, sosfiltfilt

    top = min(25.0, 0.4 * sampling_rate_hz)
    candidates = np.arange(1.0, top + step_hz / 2, step_hz)
    if candidates.size < 6:
        raise InvalidInput(f"{sampling_rate_hz:g} frames/s is too low for a residual analysis")
    designs = [butter(order, f, fs=sampling_rate_hz, output="sos") for f in candidates]
    choices = []
    for signal in signals:
        signal = np.asarray(signal, dtype=float)
        runs = finite_runs(signal)
        if not runs:
            continue
        start, stop = max(runs, key=lambda run: run[1] - run[0])
        part = signal[start:stop]
        if len(part) < 3 * (2 * order + 1) + 1:
            continue
        residuals = np.array([np.sqrt(np.mean((part - sosfiltfilt(sos, part)) ** 2)) for sos in designs])
        tail = candidates >= candidates[len(candidates) // 2]
        slope, intercept = np.polyfit(candidates[tail], residuals[tail], 1)
        below = np.flatnonzero(residuals <= max(intercept, 0.0))
        choices.append(candidates[below[0]] if below.size else candidates[-1])
    if not choices:
        raise InvalidInput("no trajectory long enough for a residual analysis")
    return float(np.round(np.median(choices) / step_hz) * step_hz)
