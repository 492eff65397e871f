"""Sagittal joint angles on poses built with known angles, and curves over the gait cycle."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.analysis.kinematics import CYCLE_SAMPLES, cycle_curves, cycles_table, kinematics_table, sagittal_angles

FORWARD, UP = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])


def _direction(angle_from_down_deg: float) -> np.ndarray:
    """Unit vector in the sagittal plane, `angle` forwards from straight down."""
    a = np.radians(angle_from_down_deg)
    return np.array([np.sin(a), 0, -np.cos(a)])


def _pose(hip: float, knee: float, ankle: float, trunk: float) -> dict[str, np.ndarray]:
    """A left leg with the given clinical angles (degrees) and a trunk tilted `trunk` forwards."""
    hip_joint = np.array([0, 0, 1.0])
    thorax = hip_joint + 0.5 * _direction(180 - trunk)  # above the hips, leaning forwards
    thigh_angle = hip - trunk  # hip flexion is measured from the trunk's axis
    knee_joint = hip_joint + 0.45 * _direction(thigh_angle)
    shank_angle = thigh_angle - knee
    ankle_joint = knee_joint + 0.43 * _direction(shank_angle)
    foot = _direction(shank_angle + 90 + ankle)
    heel = ankle_joint - 0.05 * foot
    pose = {"pelvis": hip_joint, "thorax": thorax, "left_hip": hip_joint, "left_knee": knee_joint,
            "left_ankle": ankle_joint, "left_heel": heel, "left_toe": heel + 0.22 * foot}
    return {name: point[None] for name, point in pose.items()}


@pytest.mark.parametrize("hip, knee, ankle, trunk", [(20, 5, 0, 5), (-10, 0, 10, 0), (35, 60, -15, 10), (0, 20, 5, -3)])
def test_angles_of_known_poses(hip, knee, ankle, trunk):
    angles = sagittal_angles(_pose(hip, knee, ankle, trunk), FORWARD, UP)
    assert angles["left_hip_flexion_deg"][0] == pytest.approx(hip, abs=1e-6)
    assert angles["left_knee_flexion_deg"][0] == pytest.approx(knee, abs=1e-6)
    assert angles["left_ankle_dorsiflexion_deg"][0] == pytest.approx(ankle, abs=1e-6)
    assert angles["trunk_tilt_deg"][0] == pytest.approx(trunk, abs=1e-6)


def test_walking_the_other_way_gives_the_same_angles():
    pose = {name: p * [-1, 1, 1] for name, p in _pose(30, 40, 10, 5).items()}
    angles = sagittal_angles(pose, -FORWARD, UP)
    assert angles["left_knee_flexion_deg"][0] == pytest.approx(40, abs=1e-6)
    assert angles["left_hip_flexion_deg"][0] == pytest.approx(30, abs=1e-6)


def test_cycles_are_time_normalised_between_heel_strikes():
    rate = 100.0
    time = np.arange(500) / rate
    angle = 30 * np.sin(2 * np.pi * (time - 0.5) / 1.1)  # one cycle per 1.1 s stride, starting at 0.5 s
    strikes = np.array([0.5, 1.6, 2.7, 3.8])
    curves, windows = cycle_curves(angle, strikes, rate)
    assert curves.shape == (3, CYCLE_SAMPLES) and windows == [(0.5, 1.6), (1.6, 2.7), (2.7, 3.8)]
    np.testing.assert_allclose(curves, np.tile(30 * np.sin(2 * np.pi * np.linspace(0, 1, CYCLE_SAMPLES)), (3, 1)), atol=0.3)
    angle[200] = np.nan  # a gap inside the second stride drops that stride only
    assert len(cycle_curves(angle, strikes, rate)[0]) == 2
    events = pd.DataFrame({"side": "left", "event": "heel_strike", "time_s": strikes})
    table = kinematics_table({"left_knee_flexion_deg": angle}, events, rate)
    assert table["left_knee_flexion_deg_cycles"].iloc[0] == 2 and len(table) == CYCLE_SAMPLES
    cycles = cycles_table({"left_knee_flexion_deg": angle}, events, rate)
    assert cycles.cycle.tolist() == [1, 2] and cycles.start_s.tolist() == [0.5, 2.7]
    assert list(cycles.columns[:4]) == ["angle", "cycle", "start_s", "stop_s"] and cycles.shape[1] == 4 + CYCLE_SAMPLES
    np.testing.assert_allclose(cycles.iloc[0, 4:].to_numpy(float), curves[0])
