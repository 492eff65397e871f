"""In-the-wild inference against upstream's infer_wild.py (recorded), and its pieces."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from gait.joints import H36M_17, coco17_to_h36m17, to_h36m17
from services.lift3d.motionbert.inference import (
    ClipLifter,
    clip_bounds,
    crop_scale,
    fill_gaps,
    flip_h36m,
    infer_wild,
    normalise_by_image,
    pixels_from_normalised,
)

CASES = [("global_pixel", False, True), ("global_crop", False, False), ("rootrel_pixel", True, True)]


@pytest.mark.parametrize("clips_per_batch", [1, 2, 5])
@pytest.mark.parametrize("case, rootrel, pixel", CASES)
def test_matches_upstream_infer_wild(small_model, small_config, wild_recording, case, rootrel, pixel, clips_per_batch):
    """19 frames in clips of 8: two full clips (batched or not) and upstream's partial last clip of 3."""
    lifter = ClipLifter(small_model, small_config(rootrel), clip_len=int(wild_recording["clip_len"]),
                        clips_per_batch=clips_per_batch, device="cpu")
    size = tuple(float(v) for v in wild_recording["image_size"])
    out = infer_wild(lifter, wild_recording["keypoints"], size if pixel else None)
    expected = wild_recording[f"X3D:{case}"]
    assert out.shape == expected.shape == (19, 17, 3)
    tolerance = 1e-4 * (min(size) / 2 if pixel else 1.0)    # 1e-4 in the network's normalised units
    np.testing.assert_allclose(out, expected, atol=tolerance, rtol=0)


def test_parity_needs_flip_and_the_partial_clip(small_model, small_config, wild_recording):
    """Guards the parity test: without flip, or with the last clip padded into the previous
    ones' frames, the result differs from upstream's beyond the tolerance."""
    size = tuple(float(v) for v in wild_recording["image_size"])
    expected = wild_recording["X3D:global_pixel"]
    config = small_config(False)
    no_flip = infer_wild(ClipLifter(small_model, replace(config, flip=False), clip_len=8, device="cpu"),
                         wild_recording["keypoints"], size)
    assert np.abs(no_flip - expected).max() > 1.0
    one_clip = infer_wild(ClipLifter(small_model, config, clip_len=16, device="cpu"), wild_recording["keypoints"], size)
    assert np.abs(one_clip - expected).max() > 1.0


def test_global_model_root_depth_is_zero_at_each_clip_start(small_model, small_config, wild_recording):
    lifter = ClipLifter(small_model, small_config(False), clip_len=8, device="cpu")
    out = infer_wild(lifter, wild_recording["keypoints"])
    assert np.all(out[[0, 8, 16], 0, 2] == 0) and np.all(out[[1, 9, 17], 0, 2] != 0)
    rootrel = ClipLifter(small_model, small_config(True), clip_len=8, device="cpu")
    assert np.all(infer_wild(rootrel, wild_recording["keypoints"])[:, 0] == 0)


def test_coco_mapping_matches_upstream(wild_recording):
    coco = wild_recording["keypoints"][:, :17]
    np.testing.assert_allclose(coco17_to_h36m17(coco), wild_recording["coco_h36m"], atol=1e-3, rtol=1e-6)
    np.testing.assert_array_equal(to_h36m17(coco), coco17_to_h36m17(coco))


def test_bad_keypoint_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(frames, 26 or 17, 3\)"):
        to_h36m17(np.zeros((5, 33, 3)))
    with pytest.raises(ValueError, match=r"\(frames, 26 or 17, 3\)"):
        to_h36m17(np.zeros((5, 26, 2)))
    with pytest.raises(ValueError, match="image size must be positive"):
        normalise_by_image(np.zeros((2, 17, 3)), 0, 360)


def test_lifter_refuses_bad_motion(small_model, small_config):
    lifter = ClipLifter(small_model, small_config(True), clip_len=8, device="cpu")
    with pytest.raises(ValueError, match=r"motion must be \(frames, 17, 3\)"):
        lifter(np.zeros((10, 26, 3), dtype=np.float32))
    bad = np.zeros((10, 17, 3), dtype=np.float32)
    bad[3, 4, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lifter(bad)
    with pytest.raises(ValueError, match="clip_len must be 1 to 16"):
        ClipLifter(small_model, small_config(True), clip_len=243, device="cpu")


def test_flip_swaps_sides_and_negates_x():
    x = torch.arange(2 * 17 * 3, dtype=torch.float32).reshape(2, 17, 3)
    flipped = flip_h36m(x)
    left, right = H36M_17.index("left_knee"), H36M_17.index("right_knee")
    assert torch.equal(flipped[:, left, 1:], x[:, right, 1:]) and torch.equal(flipped[:, left, 0], -x[:, right, 0])
    assert torch.equal(flipped[:, 0, 0], -x[:, 0, 0]) and torch.equal(flip_h36m(flipped), x)


def test_clip_bounds_keep_the_partial_last_clip():
    assert clip_bounds(19, 8) == [(0, 8), (8, 16), (16, 19)]
    assert clip_bounds(486, 243) == [(0, 243), (243, 486)]
    assert clip_bounds(5, 243) == [(0, 5)]


def test_crop_scale_as_upstream():
    motion = np.zeros((2, 17, 3), dtype=np.float32)
    motion[..., 2] = 1
    motion[0, :, :2] = [100, 50]
    motion[1, :, :2] = [300, 150]                      # box 200 x 100 -> longer side 200
    out = crop_scale(motion)
    np.testing.assert_allclose(out[0, 0, :2], [-1, -0.5])
    np.testing.assert_allclose(out[1, 0, :2], [1, 0.5])
    motion[..., 2] = 0
    motion[0, :3, 2] = 1                               # fewer than 4 valid points: all zeros
    assert not crop_scale(motion).any()


def test_pixel_round_trip():
    points = np.random.default_rng(0).uniform(0, 640, (4, 17, 3)).astype(np.float32)
    normalised = normalise_by_image(points, 640, 360)
    back = pixels_from_normalised(normalised, 640, 360)
    np.testing.assert_allclose(back[..., :2], points[..., :2], atol=1e-3)


def test_fill_gaps_interpolates_and_zeroes_confidence():
    keypoints = np.ones((6, 26, 3), dtype=np.float32)
    keypoints[:, :, 0] = np.arange(6)[:, None] * 10.0
    keypoints[2:4] = np.nan                            # two frames without a pose
    keypoints[:, 5, :2] = np.nan                       # a joint never seen
    filled, observed = fill_gaps(keypoints)
    assert observed.tolist() == [True, True, False, False, True, True]
    np.testing.assert_allclose(filled[2:4, 0, 0], [20.0, 30.0])
    assert np.all(filled[2:4, :, 2] == 0) and np.all(filled[:, 5, 2] == 0)
    assert np.isfinite(filled).all()
    with pytest.raises(ValueError, match="no 2D keypoints"):
        fill_gaps(np.full((3, 26, 3), np.nan))
