"""A kinematic walker whose gait events are known exactly: ground truth for the event detectors.

Each foot is a rigid segment (heel to toe) that follows the textbook sequence of a stride
(Perry & Burnfield 2010, Gait Analysis, ch. 1-2): heel strike with the toe up, rotation about
the heel to foot flat, stance, heel rise with rotation about the toe, toe off, and a swing
that carries the heel one stride forward (minimum-jerk, Flash & Hogan 1985) with ground
clearance. The pelvis advances at the mean walking speed, bobbing twice per stride; knees
follow from two-segment inverse kinematics between hip and ankle.

World axes: x forward (walking direction), y left, z up, metres.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

SIDES = ("left", "right")


@dataclass(frozen=True)
class SyntheticTrial:
    positions: dict[str, np.ndarray]          # joint name -> (frames, 3) metres
    sampling_rate_hz: float
    heel_strikes_s: dict[str, np.ndarray]     # side -> times of heel strike
    toe_offs_s: dict[str, np.ndarray]         # side -> times of toe off
    speed_m_s: float
    stride_time_s: float

    @property
    def time_s(self) -> np.ndarray:
        return np.arange(len(self.positions["pelvis"])) / self.sampling_rate_hz


@dataclass(frozen=True)
class SyntheticWalker:
    """Parameters of the walk.

    cadence_steps_per_min
        Steps per minute (both feet counted).
    step_length_m
        Forward distance from one heel strike to the next of the other foot.
    stance_fraction
        Share of a stride the foot is on the ground (toe off at this fraction).
    right_step_scale
        Asymmetry: the right foot's stance lasts this much longer than the left's (1 = symmetric).
    """

    cadence_steps_per_min: float = 110.0
    step_length_m: float = 0.65
    stance_fraction: float = 0.60
    right_step_scale: float = 1.0
    foot_length_m: float = 0.22
    heel_height_m: float = 0.04
    clearance_m: float = 0.06
    thigh_m: float = 0.45
    shank_m: float = 0.43
    pelvis_width_m: float = 0.18
    step_width_m: float = 0.12
    heel_strike_pitch_deg: float = 20.0
    toe_off_pitch_deg: float = -35.0
    first_heel_strike_s: float = 0.3  # of the right foot; the left strikes half a stride later

    @property
    def stride_time_s(self) -> float:
        return 120.0 / self.cadence_steps_per_min

    def generate(self, duration_s: float, sampling_rate_hz: float) -> SyntheticTrial:
        t = np.arange(int(round(duration_s * sampling_rate_hz))) / sampling_rate_hz
        stride_t = self.stride_time_s
        stride_m = 2 * self.step_length_m
        speed = stride_m / stride_t
        first_right = self.first_heel_strike_s
        positions: dict[str, np.ndarray] = {}
        strikes, offs = {}, {}
        pelvis_x = speed * (t - first_right - 0.25 * stride_t)
        for side in SIDES:
            lateral = 1.0 if side == "left" else -1.0
            stance = self.stance_fraction * (self.right_step_scale if side == "right" else 1.0)
            phase_shift = 0.0 if side == "right" else 0.5 * stride_t
            start = first_right + phase_shift
            heel, toe, ankle, hs, to = self._foot(t, start, stride_t, stride_m, stance, stride_m * phase_shift / stride_t)
            heel[:, 1] = toe[:, 1] = ankle[:, 1] = lateral * self.step_width_m / 2
            positions[f"{side}_heel"], positions[f"{side}_toe"], positions[f"{side}_ankle"] = heel, toe, ankle
            strikes[side], offs[side] = hs, to
        bob = 0.02 * np.cos(4 * np.pi * (t - first_right) / stride_t)
        leg = self.thigh_m + self.shank_m
        positions["pelvis"] = np.stack([pelvis_x, np.zeros_like(t), leg + 0.15 + bob], axis=1)
        for side in SIDES:
            lateral = 1.0 if side == "left" else -1.0
            hip = positions["pelvis"] + [0.0, lateral * self.pelvis_width_m / 2, -0.05]
            positions[f"{side}_hip"] = hip
            positions[f"{side}_knee"] = _knee(hip, positions[f"{side}_ankle"], self.thigh_m, self.shank_m)
        return SyntheticTrial(positions, sampling_rate_hz, strikes, offs, speed, stride_t)

    def _foot(self, t: np.ndarray, first_strike: float, stride_t: float, stride_m: float, stance: float, x0: float):
        """Heel, toe and ankle (frames, 3) of one foot, and its heel-strike and toe-off times."""
        foot = self.foot_length_m
        pitch_hs, pitch_to = np.radians(self.heel_strike_pitch_deg), np.radians(self.toe_off_pitch_deg)
        cycle = np.floor((t - first_strike) / stride_t)
        phase = (t - first_strike) / stride_t - cycle          # 0..1 within the stride
        anchor = x0 + cycle * stride_m                          # heel x at this stride's strike
        foot_flat, heel_rise = 0.08, stance - 0.25
        heel_x = np.empty_like(t)
        heel_z = np.full_like(t, self.heel_height_m)
        pitch = np.zeros_like(t)

        loading = phase < foot_flat
        pitch[loading] = pitch_hs * (1 - _smooth(phase[loading] / foot_flat))
        heel_x[phase < heel_rise] = anchor[phase < heel_rise]

        rolling = (phase >= heel_rise) & (phase < stance)       # rotation about the fixed toe
        pitch[rolling] = pitch_to * _smooth((phase[rolling] - heel_rise) / (stance - heel_rise))
        toe_x = anchor[rolling] + foot
        heel_x[rolling] = toe_x - foot * np.cos(pitch[rolling])
        heel_z[rolling] = self.heel_height_m - foot * np.sin(pitch[rolling])

        swing = phase >= stance
        s = (phase[swing] - stance) / (1 - stance)
        lift_x = anchor[swing] + foot - foot * np.cos(pitch_to)
        lift_z = self.heel_height_m - foot * np.sin(pitch_to)
        heel_x[swing] = lift_x + (anchor[swing] + stride_m - lift_x) * _min_jerk(s)
        heel_z[swing] = lift_z + (self.heel_height_m - lift_z) * _min_jerk(s) + self.clearance_m * np.sin(np.pi * s)
        pitch[swing] = pitch_to + (pitch_hs - pitch_to) * _min_jerk(s)

        heel = np.stack([heel_x, np.zeros_like(t), heel_z], axis=1)
        direction = np.stack([np.cos(pitch), np.zeros_like(t), np.sin(pitch)], axis=1)
        up = np.stack([-np.sin(pitch), np.zeros_like(t), np.cos(pitch)], axis=1)
        toe = heel + foot * direction
        ankle = heel + 0.05 * direction + 0.07 * up
        every = first_strike + stride_t * np.arange(np.floor((t[0] - first_strike) / stride_t) - 1,
                                                     np.floor((t[-1] - first_strike) / stride_t) + 1)
        offs = every + stance * stride_t
        inside = lambda times: times[(times >= t[0]) & (times <= t[-1])]  # noqa: E731
        return heel, toe, ankle, inside(every), inside(offs)


def with_standing(trial: SyntheticTrial, before_s: float, after_s: float) -> SyntheticTrial:
    """The same walk with the walker standing still before and after it (first and last pose held)."""
    rate = trial.sampling_rate_hz
    head, tail = int(round(before_s * rate)), int(round(after_s * rate))
    positions = {name: np.concatenate([np.repeat(p[:1], head, axis=0), p, np.repeat(p[-1:], tail, axis=0)])
                 for name, p in trial.positions.items()}
    shift = head / rate
    return replace(trial, positions=positions,
                   heel_strikes_s={side: times + shift for side, times in trial.heel_strikes_s.items()},
                   toe_offs_s={side: times + shift for side, times in trial.toe_offs_s.items()})


def with_turn(trial: SyntheticTrial, start_s: float, duration_s: float, angle_deg: float = 180.0,
              up_axis: int = 2) -> SyntheticTrial:
    """The walk turning by `angle_deg` about the vertical through the pelvis at `start_s`, smoothly
    over `duration_s`, and walking on in the new direction. The feet slide while the body turns,
    so events within the turn (and 0.2 s around it) are no longer known: they leave the truth."""
    rate = trial.sampling_rate_hz
    time = trial.time_s
    angle = np.radians(angle_deg) * _smooth((time - start_s) / duration_s)
    pivot = trial.positions["pelvis"][int(round(start_s * rate))]
    cos, sin = np.cos(angle), np.sin(angle)
    a, b = [axis for axis in range(3) if axis != up_axis]
    positions = {}
    for name, p in trial.positions.items():
        relative = p - pivot
        turned = relative.copy()
        turned[:, a] = cos * relative[:, a] - sin * relative[:, b]
        turned[:, b] = sin * relative[:, a] + cos * relative[:, b]
        positions[name] = pivot + turned

    def outside(times: np.ndarray) -> np.ndarray:
        return times[(times < start_s - 0.2) | (times > start_s + duration_s + 0.2)]

    return replace(trial, positions=positions,
                   heel_strikes_s={side: outside(t) for side, t in trial.heel_strikes_s.items()},
                   toe_offs_s={side: outside(t) for side, t in trial.toe_offs_s.items()})


def _smooth(s: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(s, 0, 1))


def _min_jerk(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0, 1)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _knee(hip: np.ndarray, ankle: np.ndarray, thigh: float, shank: float) -> np.ndarray:
    """The knee in the sagittal plane through hip and ankle, bending forward (law of cosines)."""
    leg = ankle - hip
    length = np.clip(np.linalg.norm(leg, axis=1, keepdims=True), 1e-6, thigh + shank - 1e-6)
    along = (thigh**2 - shank**2 + length**2) / (2 * length)
    height = np.sqrt(np.clip(thigh**2 - along**2, 0, None))
    unit = leg / length
    forward = np.stack([-unit[:, 2], np.zeros(len(unit)), unit[:, 0]], axis=1)  # unit rotated +90 deg in x-z
    forward *= np.sign(forward[:, :1] + 1e-9)
    return hip + unit * along + forward * height
