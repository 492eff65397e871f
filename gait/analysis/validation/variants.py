"""The corpus's marker recordings as another lab would have sent them: another sampling rate,
other axes, noisier markers, markers hidden for a moment. `auto` should find the same events in
each (`gait validate --variants`, docs/validation.md "Robustness")."""
from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.runner import Case

Variant = Callable[[Trajectories], Trajectories]


def resampled(rate_hz: float) -> Variant:
    """Linear interpolation onto a grid at `rate_hz` on the same time axis (time 0 stays the first sample)."""
    def apply(trajectories: Trajectories) -> Trajectories:
        old = np.arange(trajectories.frames) / trajectories.sampling_rate_hz
        new = np.arange(0.0, old[-1], 1.0 / rate_hz)
        positions = {name: np.column_stack([np.interp(new, old, p[:, axis], left=np.nan, right=np.nan)
                                            for axis in range(p.shape[1])])
                     for name, p in trajectories.positions.items()}
        return dataclasses.replace(trajectories, positions=positions, sampling_rate_hz=rate_hz)
    return apply


def transformed(matrix_of: Callable[[np.ndarray], np.ndarray]) -> Variant:
    """Every position (and the up axis) through the orthogonal matrix made from the up axis."""
    def apply(trajectories: Trajectories) -> Trajectories:
        matrix = matrix_of(trajectories.up)
        positions = {name: p @ matrix.T for name, p in trajectories.positions.items()}
        return dataclasses.replace(trajectories, positions=positions, up=matrix @ trajectories.up)
    return apply


def about_up(angle_deg: float) -> Callable[[np.ndarray], np.ndarray]:
    """Rotation about the vertical (Rodrigues): the lab's walkway along another axis."""
    def matrix(up: np.ndarray) -> np.ndarray:
        k = np.array([[0, -up[2], up[1]], [up[2], 0, -up[0]], [-up[1], up[0], 0]])
        angle = np.radians(angle_deg)
        return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    return matrix


def lateral_mirror(up: np.ndarray) -> np.ndarray:
    """A reflection across a vertical plane: a left-handed lab frame (the sides' labels stay)."""
    horizontal = np.eye(3)[int(np.argmin(np.abs(up)))]
    normal = horizontal - (horizontal @ up) * up
    normal /= np.linalg.norm(normal)
    return np.eye(3) - 2 * np.outer(normal, normal)


def y_up(up: np.ndarray) -> np.ndarray:
    """The permutation that puts the vertical on +y (OpenSim's and many labs' convention)."""
    vertical = int(np.argmax(np.abs(up)))
    others = [axis for axis in range(3) if axis != vertical]
    matrix = np.zeros((3, 3))
    matrix[1, vertical] = 1.0
    matrix[0, others[0]] = 1.0
    matrix[2, others[1]] = 1.0
    if np.linalg.det(matrix) < 0:
        matrix[2] *= -1.0
    return matrix


def noisy(sd_m: float, seed: int = 1) -> Variant:
    def apply(trajectories: Trajectories) -> Trajectories:
        rng = np.random.default_rng(seed)
        positions = {name: p + rng.normal(0.0, sd_m, p.shape) for name, p in trajectories.positions.items()}
        return dataclasses.replace(trajectories, positions=positions)
    return apply


def hidden(spans_s: list[tuple[float, float]], names: list[str] | None = None) -> Variant:
    """`names` (default: every marker) missing over each span (seconds)."""
    def apply(trajectories: Trajectories) -> Trajectories:
        positions = {name: p.copy() for name, p in trajectories.positions.items()}
        rate = trajectories.sampling_rate_hz
        for name in names or list(positions):
            for start, stop in spans_s:
                positions[name][int(start * rate): int(stop * rate)] = np.nan
        return dataclasses.replace(trajectories, positions=positions)
    return apply


def all_hidden_three_times(trajectories: Trajectories) -> Trajectories:
    """Every marker missing for 0.2 s at a quarter, a half and three quarters of the recording."""
    duration = trajectories.frames / trajectories.sampling_rate_hz
    return hidden([(share * duration, share * duration + 0.2) for share in (0.25, 0.5, 0.75)])(trajectories)


def some_hidden(seed: int, share: float = 0.4) -> Variant:
    """A random `share` of the markers each missing once, for 0.12-0.3 s at a random time."""
    def apply(trajectories: Trajectories) -> Trajectories:
        rng = np.random.default_rng(seed)
        names = sorted(trajectories.positions)
        duration = trajectories.frames / trajectories.sampling_rate_hz
        result = trajectories
        for name in rng.choice(names, int(round(share * len(names))), replace=False):
            start = rng.uniform(0.1, 0.9) * duration
            result = hidden([(start, start + rng.uniform(0.12, 0.3))], [str(name)])(result)
        return result
    return apply


def played_at(tempo: float) -> Variant:
    """The same samples at `tempo` times the rate: the walk `tempo` times as fast (cadence and
    speed; the same strides). Real slow or fast walking differs in shape too; this checks that
    nothing of the analysis is tied to one pace (a window, a threshold in seconds or m/s)."""
    def apply(trajectories: Trajectories) -> Trajectories:
        return dataclasses.replace(trajectories, sampling_rate_hz=trajectories.sampling_rate_hz * tempo)
    return apply


TEMPI = {"slower": 0.8, "faster": 1.25}  # the variants that change the pace: their reference times scale by 1 / tempo
MAX_STRAIGHT_RESIDUAL_M = 0.3  # farther from a straight line at constant speed: not a walk a belt could carry


def on_belt(trajectories: Trajectories) -> Trajectories | None:
    """The recording in a frame that moves with the walker's mean horizontal velocity, as on a
    treadmill whose belt runs at the walking speed (the pelvis, or the heels' mid-point, stays in
    place; the stance foot moves backwards). None for a walk that is not straight at a steady
    speed (a turn, there and back): no belt carries that."""
    time = np.arange(trajectories.frames) / trajectories.sampling_rate_hz
    body = trajectories.positions.get("pelvis")
    if body is None:
        body = np.nanmean(np.stack([p for name, p in trajectories.positions.items() if name.endswith("_heel")]), axis=0)
    horizontal = (np.eye(3) - np.outer(trajectories.up, trajectories.up)) @ body.T
    seen = np.isfinite(horizontal).all(axis=0)
    slope, intercept = np.polyfit(time[seen], horizontal[:, seen].T, 1)
    residual = horizontal[:, seen].T - (np.outer(time[seen], slope) + intercept)
    if np.linalg.norm(residual, axis=1).max() > MAX_STRAIGHT_RESIDUAL_M:
        return None
    carried = np.outer(time, slope)
    return dataclasses.replace(trajectories, positions={name: p - carried for name, p in trajectories.positions.items()})


VARIANTS: dict[str, tuple[str, Callable[[Trajectories], Trajectories | None]]] = {
    "60Hz": ("resampled to 60 Hz", resampled(60.0)),
    "150Hz": ("resampled to 150 Hz", resampled(150.0)),
    "200Hz": ("resampled to 200 Hz", resampled(200.0)),
    "rotated": ("rotated 90 deg about the vertical", transformed(about_up(90.0))),
    "mirrored": ("a left-handed frame (mirrored across a vertical plane)", transformed(lateral_mirror)),
    "y-up": ("the vertical on +y", transformed(y_up)),
    "noise3mm": ("3 mm of white noise on every coordinate", noisy(0.003)),
    "all-hidden": ("every marker hidden for 0.2 s three times", all_hidden_three_times),
    "slower": ("played 0.8 times as fast (cadence and speed x 0.8)", played_at(TEMPI["slower"])),
    "faster": ("played 1.25 times as fast (cadence and speed x 1.25)", played_at(TEMPI["faster"])),
    "on-belt": ("as on a treadmill at the walking speed (a frame moving with the walker; straight walks only)", on_belt),
    **{f"some-hidden-{seed}": (f"40 % of the markers each hidden once for 0.12-0.3 s (seed {seed})", some_hidden(seed))
       for seed in range(4)},
}


def variant_cases(cases: list[Case], names: list[str] | None = None) -> list[Case]:
    """Each case under each variant (default: all) that applies to it, named `recording+variant`;
    the reference events stay (on the new time axis, for a change of tempo)."""
    chosen = {name: VARIANTS[name] for name in names or VARIANTS}
    made = []
    for name, (what, apply) in chosen.items():
        for case in cases:
            trajectories = apply(case.trajectories)
            if trajectories is None:
                continue
            recording = dataclasses.replace(case.recording, name=f"{case.recording.name}+{name}",
                                            description=f"{case.recording.description}, {what}")
            reference = case.reference.assign(time_s=case.reference.time_s / TEMPI.get(name, 1.0))
            made.append(dataclasses.replace(case, trajectories=trajectories, recording=recording, reference=reference))
    return made
