"""The image keypoints' second opinion on a side view's toe offs (gait/analysis/crosscheck.py)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from gait.analysis.analyze import analyze
from gait.analysis.crosscheck import DOUBTED_FACTOR, doubted_toe_offs, is_side_view
from gait.analysis.events import EVENT_COLUMNS
from gait.analysis.filtering import ButterworthLowPass
from gait.analysis.spatiotemporal import MIN_CONFIDENCE
from gait.analysis.trajectories import Trajectories
from gait.analysis.validation.synthetic import SyntheticWalker

RATE = 30.0


def _events(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([(side, event, RATE * t, t, c) for side, event, t, c in rows], columns=EVENT_COLUMNS)


def test_a_toe_off_the_image_puts_elsewhere_is_doubted_and_one_without_a_partner_is_not():
    found = _events([("left", "toe_off", 1.00, 1.0), ("right", "toe_off", 1.60, 0.9), ("right", "toe_off", 2.80, 0.9),
                     ("left", "heel_strike", 1.40, 1.0)])
    image = _events([("left", "toe_off", 1.03, 1.0), ("right", "toe_off", 1.68, 1.0), ("left", "heel_strike", 1.60, 1.0)])
    checked, doubted = doubted_toe_offs(found, image)
    assert doubted[["side", "time_s"]].values.tolist() == [["right", 1.60]]
    assert doubted.disagreement_s.iloc[0] == pytest.approx(0.08)
    assert checked.confidence.tolist() == pytest.approx([1.0, 0.9 * DOUBTED_FACTOR, 0.9, 1.0])
    assert 1.0 * DOUBTED_FACTOR < MIN_CONFIDENCE  # a doubted toe off delimits no stance, however sure it was
    # heel strikes are never checked: both heads share their errors there
    assert checked.time_s.tolist() == found.time_s.tolist()


def test_side_view_is_walking_across_the_image():
    assert is_side_view(np.array([1.0, 0.0, 0.1])) and not is_side_view(np.array([0.3, 0.0, 0.95]))
    assert not is_side_view(None)


def _keypoints() -> Trajectories:
    trial = SyntheticWalker(cadence_steps_per_min=108.0).generate(12.0, RATE)
    rng = np.random.default_rng(0)
    positions = {j: p - trial.positions["pelvis"] + rng.normal(0, 0.003, p.shape) for j, p in trial.positions.items()}
    return Trajectories(positions, RATE, np.array([0.0, 0.0, 1.0]), "synthetic keypoints", root_relative=True)


def test_analyze_doubts_the_toe_offs_of_a_foot_whose_image_keypoints_lag():
    keypoints = _keypoints()
    plain = analyze(keypoints, ButterworthLowPass())
    agreeing = analyze(keypoints, ButterworthLowPass(), image_plane=keypoints)
    pd.testing.assert_frame_equal(agreeing.events, plain.events)
    assert not [w for w in agreeing.warnings if "uncertain" in w]

    lagging = dict(keypoints.positions)
    lagging["right_toe"] = np.roll(keypoints.positions["right_toe"], 3, axis=0)  # 100 ms late in the image
    checked = analyze(keypoints, ButterworthLowPass(), image_plane=replace(keypoints, positions=lagging))
    right = checked.events[(checked.events.side == "right") & (checked.events.event == "toe_off")]
    left = checked.events[(checked.events.side == "left") & (checked.events.event == "toe_off")]
    assert len(right) >= 4 and (right.confidence < MIN_CONFIDENCE).mean() > 0.7
    assert (left.confidence >= MIN_CONFIDENCE).all()
    pd.testing.assert_series_equal(checked.events.time_s, plain.events.time_s)  # times stay: only trust changes
    (note,) = [w for w in checked.warnings if "uncertain" in w]
    assert "right toe off" in note and "left out of stance, swing and double support" in note
    assert checked.parameters["stance_pct"]["n"] < plain.parameters["stance_pct"]["n"]
