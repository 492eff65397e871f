"""Sagittal joint angles on poses built with known angles, their calibration, the reference they
are compared with, the 2D/3D evidence, and curves over the gait cycle."""
from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from gait.analysis import kinematics, reference
from gait.analysis.kinematics import (
    CYCLE_SAMPLES,
    angle_source_evidence,
    calibrate_ankles,
    cycle_curves,
    cycles_table,
    feet_apart,
    foot_flat_offsets,
    kinematics_table,
    sagittal_angles,
)
from gait.analysis.planar import near_side
from gait.analysis.reference import converted_reference, gait_variable_scores
from gait.joints import HALPE_26

FORWARD, UP = np.array([1.0, 0, 0]), np.array([0, 0, 1.0])


def _direction(angle_from_down_deg: float) -> np.ndarray:
    """Unit vector in the sagittal plane, `angle` forwards from straight down."""
    a = np.radians(angle_from_down_deg)
    return np.array([np.sin(a), 0, -np.cos(a)])


def _pose(thigh: float, knee: float, ankle: float, trunk: float, foot_line_offset: float = 0.0) -> dict[str, np.ndarray]:
    """A left leg with the given angles (degrees): thigh to the vertical, knee flexion, ankle
    dorsiflexion of the plantar line; a trunk tilted `trunk` forwards; the heel keypoint raised so
    that the heel-toe line is turned `foot_line_offset` toes-up from the plantar line."""
    hip_joint = np.array([0, 0, 1.0])
    thorax = hip_joint + 0.5 * _direction(180 - trunk)  # above the hips, leaning forwards
    knee_joint = hip_joint + 0.45 * _direction(thigh)
    shank_angle = thigh - knee
    ankle_joint = knee_joint + 0.43 * _direction(shank_angle)
    foot = _direction(shank_angle + 90 + ankle + foot_line_offset)
    heel = ankle_joint - 0.05 * foot
    pose = {"pelvis": hip_joint, "thorax": thorax, "left_hip": hip_joint, "left_knee": knee_joint,
            "left_ankle": ankle_joint, "left_heel": heel, "left_toe": heel + 0.22 * foot}
    return {name: point[None] for name, point in pose.items()}


@pytest.mark.parametrize("thigh, knee, ankle, trunk", [(20, 5, 0, 5), (-10, 0, 10, 0), (35, 60, -15, 10), (0, 20, 5, -3)])
def test_angles_of_known_poses(thigh, knee, ankle, trunk):
    angles = sagittal_angles(_pose(thigh, knee, ankle, trunk), FORWARD, UP)
    assert angles["left_thigh_angle_deg"][0] == pytest.approx(thigh, abs=1e-6)
    assert angles["left_knee_flexion_deg"][0] == pytest.approx(knee, abs=1e-6)
    assert angles["left_ankle_dorsiflexion_deg"][0] == pytest.approx(ankle, abs=1e-6)
    assert angles["left_foot_angle_deg"][0] == pytest.approx(ankle + thigh - knee, abs=1e-6)  # shank + ankle
    assert angles["trunk_tilt_deg"][0] == pytest.approx(trunk, abs=1e-6)
    assert "left_hip_flexion_deg" not in angles  # the trunk line is not the pelvis: no hip angle against it


@pytest.mark.parametrize("tilt", [0.0, 12.0, -5.0])
def test_hip_flexion_is_the_thigh_to_the_pelvis(tilt):
    pose = _pose(20, 5, 0, 5)
    front = _direction(90 - tilt)  # anterior tilt: the front of the pelvis down
    pose.update(asis_mid=pose["pelvis"] + 0.1 * front, psis_mid=pose["pelvis"] - 0.1 * front)
    angles = sagittal_angles(pose, FORWARD, UP)
    assert angles["pelvis_tilt_deg"][0] == pytest.approx(tilt, abs=1e-6)
    assert angles["left_hip_flexion_deg"][0] == pytest.approx(20 + tilt, abs=1e-6)


def test_walking_the_other_way_gives_the_same_angles():
    pose = {name: p * [-1, 1, 1] for name, p in _pose(30, 40, 10, 5).items()}
    angles = sagittal_angles(pose, -FORWARD, UP)
    assert angles["left_knee_flexion_deg"][0] == pytest.approx(40, abs=1e-6)
    assert angles["left_thigh_angle_deg"][0] == pytest.approx(30, abs=1e-6)


def _walk(offset_deg: float, rate: float = 100.0) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Poses over 3 one-second cycles: the foot flat (ankle = shank lean, foot line level) in
    mid-stance, heel-toe line turned `offset_deg` from the plantar line all the time."""
    time = np.arange(int(3 * rate)) / rate
    phase = time % 1.0
    thigh = 20 * np.cos(2 * np.pi * phase)
    knee = 30 * np.clip(np.sin(2 * np.pi * (phase - 0.5)), 0, None)
    ankle = np.where((phase >= 0.12) & (phase <= 0.31), -(thigh - knee), 5 * np.sin(2 * np.pi * phase))
    poses = [_pose(a, b, c, 0.0, offset_deg) for a, b, c in zip(thigh, knee, ankle)]
    positions = {name: np.concatenate([p[name] for p in poses]) for name in poses[0]}
    positions["right_heel"] = positions["left_heel"] + [0.0, 0.0, 0.5]  # the other foot, well apart
    positions["right_toe"] = positions["left_toe"] + [0.0, 0.0, 0.5]
    events = pd.DataFrame({"side": "left", "event": "heel_strike", "time_s": [0.0, 1.0, 2.0]})
    return positions, events


def test_foot_flat_calibration_removes_the_heel_toe_line_offset():
    positions, events = _walk(offset_deg=-14.0)
    truth = sagittal_angles(_walk(0.0)[0], FORWARD, UP)["left_ankle_dorsiflexion_deg"]
    raw = sagittal_angles(positions, FORWARD, UP)
    assert np.abs(raw["left_ankle_dorsiflexion_deg"] - truth).max() == pytest.approx(14.0, abs=1e-6)
    apart = feet_apart(positions, FORWARD, UP)
    assert apart["left"].all()
    offsets = foot_flat_offsets(raw, events, 100.0, apart)
    assert offsets == {"left": pytest.approx(-14.0, abs=1e-6)}
    calibrated = calibrate_ankles(raw, offsets)
    np.testing.assert_allclose(calibrated["left_ankle_dorsiflexion_deg"], truth, atol=1e-6)


def test_overlapping_feet_are_left_out_of_the_calibration():
    positions, events = _walk(offset_deg=-14.0)
    positions["right_heel"] = positions["left_heel"] + [0.0, 0.0, 0.01]  # the other foot over this one
    positions["right_toe"] = positions["left_toe"] + [0.0, 0.0, 0.01]
    raw = sagittal_angles(positions, FORWARD, UP)
    apart = feet_apart(positions, FORWARD, UP)
    assert not apart["left"].any()
    offsets = foot_flat_offsets(raw, events, 100.0, apart)
    assert offsets == {}
    assert "left_ankle_dorsiflexion_deg" not in calibrate_ankles(raw, offsets)  # uncalibrated: left out


def test_reference_thigh_angle_is_hip_flexion_minus_pelvic_tilt():
    table = pd.DataFrame({"cycle_pct": [0, 50], "hip_flexion_deg_mean": [35.0, -5.0], "hip_flexion_deg_sd": [4.0, 5.0],
                          "pelvis_tilt_deg_mean": [12.0, 11.0], "pelvis_tilt_deg_sd": [3.0, 3.0]})
    converted = converted_reference(table)
    assert converted.thigh_angle_deg_mean.tolist() == [23.0, -16.0]
    assert converted.thigh_angle_deg_sd.tolist() == [4.0, 5.0]


def test_thigh_angle_scores_only_without_hip_flexion():
    ref = converted_reference(pd.DataFrame({"hip_flexion_deg_mean": np.full(101, 30.0), "hip_flexion_deg_sd": 1.0,
                                            "pelvis_tilt_deg_mean": np.full(101, 10.0), "pelvis_tilt_deg_sd": 1.0}))
    keypoints = pd.DataFrame({"left_thigh_angle_deg_mean": np.full(101, 23.0)})
    assert gait_variable_scores(keypoints, ref) == {"left_thigh_angle_deg": pytest.approx(3.0)}
    markers = keypoints.assign(left_hip_flexion_deg_mean=np.full(101, 31.0))
    assert gait_variable_scores(markers, ref) == {"left_hip_flexion_deg": pytest.approx(1.0)}


def test_angle_source_evidence():
    grid = np.linspace(0, 2 * np.pi, CYCLE_SAMPLES)
    two_d = pd.DataFrame({"left_knee_flexion_deg_mean": 30 * np.sin(grid), "left_knee_flexion_deg_cycles": 3,
                          "right_knee_flexion_deg_mean": 30 * np.sin(grid) + 2.0, "right_knee_flexion_deg_cycles": 2})
    three_d = pd.DataFrame({"left_knee_flexion_deg_mean": 30 * np.sin(grid) + 5.0, "left_knee_flexion_deg_cycles": 3,
                            "right_knee_flexion_deg_mean": 30 * np.sin(grid) - 20.0, "right_knee_flexion_deg_cycles": 1})
    evidence = angle_source_evidence(two_d, three_d).set_index("angle")
    assert evidence.loc["left_knee_flexion_deg", "rms_2d_vs_3d_deg"] == pytest.approx(5.0)
    assert evidence.loc["right_knee_flexion_deg", "rms_2d_vs_3d_deg"] == pytest.approx(22.0)
    assert evidence.loc["left_knee_flexion_deg", "left_vs_right_2d_deg"] == pytest.approx(2.0)
    assert evidence.loc["left_knee_flexion_deg", "left_vs_right_3d_deg"] == pytest.approx(25.0)
    assert evidence.loc["right_knee_flexion_deg", ["cycles_2d", "cycles_3d"]].tolist() == [2, 1]


def test_near_side_is_the_leg_the_detector_is_surer_of():
    keypoints = np.ones((10, len(HALPE_26), 3))
    for point in ("knee", "ankle", "heel", "big_toe"):
        keypoints[:, HALPE_26.index(f"right_{point}"), 2] = 0.6
    assert near_side(keypoints) == "left"
    assert near_side(keypoints[:, :17]) is None
    assert near_side(np.ones((10, len(HALPE_26), 3))) is None  # equal scores say nothing


def test_2d_mode_leaves_the_far_leg_out_of_the_profile_score(tmp_path):
    """`gait analyze keypoints2d.npy`: the side view's far leg (the one the detector is less sure
    of) is shown but not scored, as in the pipeline's report."""
    from gait.analysis.recording import AnalyzeOptions, analyze_recording
    from gait.analysis.validation.synthetic import SyntheticWalker
    from tests.analysis.test_reporting import _side_view_keypoints

    keypoints = _side_view_keypoints(SyntheticWalker().generate(8.0, 30.0))
    for point in ("knee", "ankle", "heel", "big_toe"):
        keypoints[:, HALPE_26.index(f"right_{point}"), 2] = 0.7
    path = tmp_path / "keypoints2d.npy"
    np.save(path, keypoints)
    _, _, summary = analyze_recording(path, AnalyzeOptions(rate_hz=30.0), "record", tmp_path)
    deviation = summary["deviation"]
    assert deviation["far_side"] == "right"
    assert deviation["scored"] and not any(name.startswith("right_") for name in deviation["scored"])


@pytest.mark.parametrize("module", [kinematics, reference])
def test_docstrings_name_every_parameter(module):
    """The codebase's habit (gaitmap's): a function's docstring says what each of its parameters is."""
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ != module.__name__ or name.startswith("_"):
            continue
        words = set(inspect.getdoc(function).replace("`", " ").replace("(", " ").replace(")", " ").replace(",", " ")
                    .replace(":", " ").split())
        missing = [p for p in inspect.signature(function).parameters if p not in words]
        assert not missing, f"{name}: {missing} not in the docstring"


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


def test_the_foot_line_runs_from_the_ankle_to_the_toe():
    """Plug-in Gait's foot axis is ankle joint centre -> toe: a heel point that moves on the foot
    (a keypoint on the back of the heel as the foot rolls) changes no angle."""
    frames = 20
    still = lambda point: np.tile(np.asarray(point, float), (frames, 1))  # noqa: E731
    heel = still([-0.05, 0.0, 0.03])
    heel[:, 2] += np.linspace(0.0, 0.04, frames)  # the heel point drifts up by 4 cm
    positions = {"left_hip": still([0, 0, 0.9]), "left_knee": still([0, 0, 0.5]), "left_ankle": still([0, 0, 0.1]),
                 "left_heel": heel, "left_toe": still([0.15, 0, 0.0])}
    angles = sagittal_angles(positions, np.array([1.0, 0, 0]), np.array([0, 0, 1.0]))
    expected = np.degrees(np.arctan2(0.1, 0.15))  # the ankle->toe line points 33.7 deg below the floor
    np.testing.assert_allclose(angles["left_foot_angle_deg"], -expected, atol=1e-9)
    # the shank is vertical: the foot line 33.7 deg below the floor is 33.7 deg of plantarflexion
    np.testing.assert_allclose(angles["left_ankle_dorsiflexion_deg"], -expected, atol=1e-9)
