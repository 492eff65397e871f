"""Results outside wide physiological limits, and a walker lying sideways in the rotated video, are
said as warnings and flagged, never reported as findings."""
from __future__ import annotations

import numpy as np
import pytest

from gait.analysis.analyze import analyze
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.keypoints import orientation_warning, trunk_tilt_deg
from gait.analysis.plausibility import implausible
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.synthetic import SyntheticWalker
from gait.joints import HALPE_26

UP = np.array([0.0, 0.0, 1.0])


def test_healthy_values_pass_and_a_sideways_walkers_values_do_not():
    healthy = {"cadence_steps_per_min": {"mean": 105.0}, "step_length_m": {"mean": 0.68},
               "speed_m_s": {"mean": 1.2}, "stance_pct": {"mean": 61.0}}
    assert implausible(healthy, "m") == {}
    sideways = {"cadence_steps_per_min": {"mean": 400.0}, "step_length_m": {"mean": 0.07}, "speed_m_s": {"mean": 0.4}}
    flagged = implausible(sideways, "m")
    assert sorted(flagged) == ["cadence_steps_per_min", "step_length_m"]
    assert flagged["cadence_steps_per_min"].startswith("implausible cadence: 400 steps/min, outside 30-200")
    assert sorted(implausible(sideways, "leg")) == ["cadence_steps_per_min"], "lengths in leg lengths are not metres"


def test_a_tiny_walker_is_flagged_in_the_analysis():
    """The synthetic walker shrunk ten times (a wrong scale): steps of 0.07 m are not a finding."""
    trial = SyntheticWalker().generate(10.0, 100.0)
    tiny = Trajectories({name: p * 0.1 for name, p in trial.positions.items()}, 100.0, UP, "tiny")
    result = analyze(tiny, ButterworthLowPass())
    assert "step_length_m" in result.implausible
    assert any(w.startswith("implausible step length") for w in result.warnings)
    assert analyze(Trajectories(trial.positions, 100.0, UP, "walker"), ButterworthLowPass()).implausible == {}


def _standing(frames: int = 20) -> np.ndarray:
    """Halpe-26 keypoints of someone upright in the image (y down): shoulders 300 px above the hips."""
    points = np.zeros((frames, len(HALPE_26), 3))
    points[..., 2] = 0.9
    for name, (x, y) in {"left_shoulder": (510, 400), "right_shoulder": (490, 400),
                         "left_hip": (505, 700), "right_hip": (495, 700)}.items():
        points[:, HALPE_26.index(name), :2] = (x, y)
    return points


def test_a_walker_turned_sideways_in_the_video_is_named():
    upright = _standing()
    turned = upright.copy()
    turned[..., 0], turned[..., 1] = upright[..., 1], 1000 - upright[..., 0]  # the frame rotated 90 deg
    assert trunk_tilt_deg(upright) == pytest.approx(0.0, abs=1.0)
    assert trunk_tilt_deg(turned) == pytest.approx(90.0, abs=1.0)
    assert orientation_warning(upright) is None
    assert orientation_warning(turned).startswith("implausible orientation: the walker's trunk is 90 deg from upright")
    unsure = upright.copy()
    unsure[..., 2] = 0.0
    assert trunk_tilt_deg(unsure) is None and orientation_warning(unsure) is None
