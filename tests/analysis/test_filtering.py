"""The zero-phase Butterworth low-pass on signals whose answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from gait.analysis.filtering import ButterworthLowPass
from gait.errors import InvalidInput

FPS = 30.0


def _signal(seconds: float = 8.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * FPS)) / FPS
    slow = np.sin(2 * np.pi * 1.0 * t)           # a stride-like 1 Hz movement
    fast = 0.3 * np.sin(2 * np.pi * 12.0 * t)     # jitter well above the 6 Hz cutoff
    return t, slow, slow + fast


def test_removes_jitter_and_keeps_the_movement_without_lag():
    _, slow, noisy = _signal()
    filtered = ButterworthLowPass(cutoff_hz=6, order=4).filter(noisy[:, None], FPS)[:, 0]
    core = slice(30, -30)
    assert np.max(np.abs(filtered[core] - slow[core])) < 0.02
    lag = np.argmax(np.correlate(filtered - filtered.mean(), slow - slow.mean(), "full")) - (len(slow) - 1)
    assert lag == 0


def test_short_gaps_are_bridged_and_stay_marked_missing():
    _, slow, noisy = _signal()
    noisy[100:102] = np.nan      # 2 samples: bridged for filtering
    noisy[150:170] = np.nan      # 20 samples (0.67 s): splits the signal
    filtered = ButterworthLowPass().filter(noisy, FPS)
    assert np.isnan(filtered[100:102]).all() and np.isnan(filtered[150:170]).all()
    assert np.isfinite(filtered[:100]).all() and np.isfinite(filtered[170:]).all()
    assert np.max(np.abs(filtered[110:140] - slow[110:140])) < 0.03


def test_shape_is_kept_for_keypoint_arrays():
    _, _, noisy = _signal()
    data = np.stack([noisy, 2 * noisy], axis=1)[:, :, None].repeat(3, axis=2)
    assert ButterworthLowPass().filter(data, FPS).shape == data.shape


@pytest.mark.parametrize("cutoff, order, words", [
    (15.0, 4, "below the Nyquist frequency 15 Hz"),
    (20.0, 4, "below the Nyquist"),
    (0.0, 4, "above 0"),
    (6.0, 0, "order must be between 1 and 8"),
    (6.0, 9, "order must be between 1 and 8"),
])
def test_bad_settings_are_named(cutoff, order, words):
    with pytest.raises(InvalidInput, match=words):
        ButterworthLowPass(cutoff_hz=cutoff, order=order).filter(np.zeros(100), FPS)


def test_residual_analysis_picks_a_cutoff_between_signal_and_noise():
    from gait.analysis.filtering import residual_cutoff

    rate = 100.0
    time = np.arange(1000) / rate
    rng = np.random.default_rng(0)
    slow = [np.sin(2 * np.pi * 1.0 * time + phase) + 0.3 * np.sin(2 * np.pi * 3.0 * time) + rng.normal(0, 0.02, time.size)
            for phase in (0.0, 1.0, 2.0)]
    cutoff = residual_cutoff(slow, rate)
    assert 3.0 < cutoff < 9.0, cutoff  # above the 3 Hz content, well below the noise band
    fast = [np.sin(2 * np.pi * 6.0 * time) + rng.normal(0, 0.02, time.size)]
    assert residual_cutoff(fast, rate) > cutoff  # richer signals keep a higher cutoff
    with pytest.raises(InvalidInput, match="too low"):
        residual_cutoff(slow, 5.0)
