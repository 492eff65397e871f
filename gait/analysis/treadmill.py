"""Whether a marker recording is on a treadmill, from the feet's and the pelvis's motion.

On a treadmill the stance foot moves backwards at the belt's speed while the pelvis stays in
place; overground the stance foot stands still and the pelvis progresses. The stance foot's
velocity is the most frequent forward velocity of the feet (stance is about 60 % of the cycle,
at one steady velocity), so its mode estimates the support surface's velocity: about 0
overground, minus the belt speed on a treadmill. Works on ground-fixed coordinates only.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODE_BIN_M_S = 0.05


def surface_velocity(positions: dict[str, np.ndarray], forward: np.ndarray, sampling_rate_hz: float) -> float:
    """The support surface's forward velocity (m/s) under the feet of `positions` (name ->
    (frames, 3)): the mode of the heels', toes' and ankles' forward velocities along the unit
    vector `forward`, sampled at `sampling_rate_hz`."""
    feet = [p for name, p in positions.items() if name.endswith(("_heel", "_toe", "_ankle"))
            and name.split("_")[0] in ("left", "right")]
    if not feet:
        return float("nan")
    return support_velocity(np.concatenate([np.gradient(p @ forward) * sampling_rate_hz for p in feet]))


def support_velocity(forward_velocities_m_s: np.ndarray) -> float:
    """Mode of the feet's forward velocities (histogram with MODE_BIN_M_S bins, refined by the
    median of the samples within two bins of it)."""
    values = np.asarray(forward_velocities_m_s, float)
    values = values[np.isfinite(values)]
    if values.size < 10:
        return float("nan")
    edges = np.arange(values.min(), values.max() + 2 * MODE_BIN_M_S, MODE_BIN_M_S)
    counts, edges = np.histogram(values, bins=edges)
    centre = 0.5 * (edges[np.argmax(counts)] + edges[np.argmax(counts) + 1])
    return float(np.median(values[np.abs(values - centre) <= 2 * MODE_BIN_M_S]))


@dataclass
class TreadmillDetector:
    """A bout is on a treadmill when its support surface moves backwards faster than
    `min_belt_speed_m_s` and the pelvis progresses slower than `max_progression_m_s`.
    Result: `on_treadmill_` and `belt_speed_m_s_` (NaN overground).

    Parameters
    ----------
    min_belt_speed_m_s
        Slowest belt speed recognised (overground, the stance foot's velocity is within a few
        cm/s of zero).
    max_progression_m_s
        Fastest mean pelvis speed over the bout still counted as walking in place.
    """

    min_belt_speed_m_s: float = 0.2
    max_progression_m_s: float = 0.2

    def detect(self, positions: dict[str, np.ndarray], sampling_rate_hz: float, forward: np.ndarray) -> TreadmillDetector:
        """`positions`: the bout's named trajectories (feet and `pelvis`), ground-fixed."""
        forward = np.asarray(forward, float) / np.linalg.norm(forward)
        surface = surface_velocity(positions, forward, sampling_rate_hz)
        progression = positions["pelvis"] @ forward
        finite = np.flatnonzero(np.isfinite(progression))
        pelvis_speed = (abs(progression[finite[-1]] - progression[finite[0]]) * sampling_rate_hz
                        / max(1, finite[-1] - finite[0])) if finite.size > 1 else float("nan")
        self.on_treadmill_ = bool(surface < -self.min_belt_speed_m_s and pelvis_speed < self.max_progression_m_s)
        self.belt_speed_m_s_ = -surface if self.on_treadmill_ else float("nan")
        return self
