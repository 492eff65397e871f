"""Joint maps between BlazePose-33, Halpe-26 and Human3.6M-17."""
from __future__ import annotations

import numpy as np

from gait.joints import (
    BLAZEPOSE_33,
    FOOT_POINTS,
    H36M_17,
    HALPE_26,
    blazepose_confidence_to_halpe26,
    blazepose_to_halpe26,
    halpe26_foot_points,
    halpe26_to_h36m17,
)


def _labelled_blazepose() -> np.ndarray:
    """Each BlazePose joint at a distinct position so every mapped joint can be traced back."""
    return np.arange(33 * 3, dtype=np.float32).reshape(33, 3)


def test_direct_joints_keep_their_position():
    blaze = _labelled_blazepose()
    halpe = blazepose_to_halpe26(blaze)
    for name in ("nose", "left_hip", "right_knee", "left_ankle", "right_heel", "left_wrist"):
        np.testing.assert_array_equal(halpe[HALPE_26.index(name)], blaze[BLAZEPOSE_33.index(name)])
    np.testing.assert_array_equal(halpe[HALPE_26.index("left_big_toe")], blaze[BLAZEPOSE_33.index("left_foot_index")])


def test_derived_joints():
    blaze = _labelled_blazepose()
    halpe = blazepose_to_halpe26(blaze)
    b = {n: blaze[i] for i, n in enumerate(BLAZEPOSE_33)}
    np.testing.assert_allclose(halpe[HALPE_26.index("pelvis")], (b["left_hip"] + b["right_hip"]) / 2)
    np.testing.assert_allclose(halpe[HALPE_26.index("neck")], (b["left_shoulder"] + b["right_shoulder"]) / 2)
    ears, mouth = (b["left_ear"] + b["right_ear"]) / 2, (b["mouth_left"] + b["mouth_right"]) / 2
    np.testing.assert_allclose(halpe[HALPE_26.index("head")], 2 * ears - mouth)


def test_h36m_order_matches_motionbert():
    halpe = np.arange(26 * 2, dtype=np.float32).reshape(26, 2)
    h36m = halpe26_to_h36m17(halpe)
    h = {n: halpe[i] for i, n in enumerate(HALPE_26)}
    assert h36m.shape == (17, 2)
    np.testing.assert_array_equal(h36m[0], h["pelvis"])
    np.testing.assert_array_equal(h36m[1], h["right_hip"])
    np.testing.assert_array_equal(h36m[6], h["left_ankle"])
    np.testing.assert_allclose(h36m[7], (h["pelvis"] + h["neck"]) / 2)
    np.testing.assert_array_equal(h36m[8], h["neck"])
    np.testing.assert_array_equal(h36m[10], h["head"])
    np.testing.assert_array_equal(h36m[16], h["right_wrist"])
    assert H36M_17[3] == "right_ankle" and H36M_17[13] == "left_wrist"


def test_feet_and_confidence():
    halpe = np.arange(26 * 3, dtype=np.float32).reshape(1, 26, 3)
    feet = halpe26_foot_points(halpe)
    assert feet.shape == (1, 4, 3)
    for i, name in enumerate(FOOT_POINTS):
        source = name.replace("toe", "big_toe")
        np.testing.assert_array_equal(feet[0, i], halpe[0, HALPE_26.index(source)])
    confidence = np.linspace(0.1, 0.9, 33, dtype=np.float32)
    mapped = blazepose_confidence_to_halpe26(confidence)
    assert mapped[HALPE_26.index("nose")] == confidence[0]
    hips = confidence[[BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]]
    assert np.isclose(mapped[HALPE_26.index("pelvis")], 0.8 * hips.min())
