"""AlphaPose's top-down inference against upstream's: crops, heatmaps, flip test, decoding, pose NMS scores."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from services.pose2d.alphapose.configs import CONFIGS, HALPE_PAIRS
from services.pose2d.alphapose.inference import (
    TopDownEstimator,
    box_to_center_scale,
    crop_boxes,
    decode_heatmaps,
    flip_back,
    nms_scores,
)

HALPE = CONFIGS["halpe_26/resnet/256x192_res50_lr1e-3_1x"]


@pytest.fixture(scope="module")
def upstream_run(fastpose_model, alphapose_recording):
    """Our pipeline on the recorded image and boxes, without and with the flip test."""
    rec = alphapose_recording
    crops, cropped = crop_boxes([rec["image"]], np.zeros(len(rec["boxes"]), int), rec["boxes"], (256, 192), rgb=True)
    out = {"crops": crops, "cropped_boxes": cropped}
    for flip in (False, True):
        estimator = TopDownEstimator(fastpose_model, HALPE, device="cpu", flip=flip, batch_size=2)
        heatmaps = estimator.heatmaps(crops)
        coords, scores = decode_heatmaps(heatmaps, cropped)
        suffix = "_flip" if flip else ""
        out.update({f"heatmaps0{suffix}": heatmaps[0], f"coords{suffix}": coords, f"scores{suffix}": scores})
    return out


def test_crops_are_upstreams(upstream_run, alphapose_recording):
    np.testing.assert_allclose(upstream_run["cropped_boxes"], alphapose_recording["cropped_boxes"], atol=1e-4, rtol=0)
    # cv2.warpAffine's bilinear rounding depends on the CPU's vector path: a crop may differ from
    # upstream's recording by one grey level in a few pixels (seen on CI), never by more
    diff = np.abs(upstream_run["crops"].astype(int) - alphapose_recording["crops"].astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= 1e-3 * diff.size, (diff.max(), np.count_nonzero(diff))


@pytest.mark.parametrize("suffix", ["", "_flip"])
def test_heatmaps_and_coordinates_match_upstream(upstream_run, alphapose_recording, suffix):
    rec = alphapose_recording
    np.testing.assert_allclose(upstream_run[f"heatmaps0{suffix}"], rec[f"heatmaps0{suffix}"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(upstream_run[f"coords{suffix}"], rec[f"coords{suffix}"], atol=1e-4, rtol=0)
    np.testing.assert_allclose(upstream_run[f"scores{suffix}"], rec[f"scores{suffix}"], atol=1e-4, rtol=0)


def test_pose_nms_scores_match_upstream(upstream_run, alphapose_recording):
    rec = alphapose_recording
    scores, kept, proposal = nms_scores(upstream_run["scores_flip"], rec["box_scores"])
    assert np.array_equal(kept, rec["nms_kept"])
    np.testing.assert_allclose(scores[kept], rec["nms_scores"][kept], atol=1e-5, rtol=0)
    np.testing.assert_allclose(proposal[kept], rec["nms_proposal"][kept], atol=1e-4, rtol=0)
    _, kept, _ = nms_scores(np.full((1, 26), 0.29, np.float32), np.ones(1, np.float32))
    assert not kept[0]                                      # no joint at 0.3: pose_nms drops the pose


def test_same_estimate_when_boxes_come_from_many_frames(fastpose_model, alphapose_recording, upstream_run):
    """Batches mixing frames (BGR as OpenCV reads them) give each box's own result."""
    rec = alphapose_recording
    bgr = rec["image"][..., ::-1].copy()
    blank = np.zeros_like(bgr)
    estimator = TopDownEstimator(fastpose_model, HALPE, device="cpu", flip=False, batch_size=8)
    coords, scores, cropped = estimator.estimate([blank, bgr], np.array([1, 0, 1]), rec["boxes"][[0, 0, 2]])
    np.testing.assert_allclose(coords[[0, 2]], upstream_run["coords"][[0, 2]], atol=1e-4, rtol=0)
    np.testing.assert_allclose(scores[[0, 2]], upstream_run["scores"][[0, 2]], atol=1e-4, rtol=0)


def test_boxes_take_the_network_aspect_ratio():
    centre, scale = box_to_center_scale(np.array([[0, 0, 30, 200], [0, 0, 300, 100]], np.float32), 0.75)
    np.testing.assert_allclose(centre, [[15, 100], [150, 50]])
    np.testing.assert_allclose(scale, [[150 * 1.25, 200 * 1.25], [300 * 1.25, 400 * 1.25]])


def test_decoding_refines_by_a_quarter_pixel_and_maps_back():
    heatmaps = np.zeros((1, 3, 64, 48), np.float32)
    heatmaps[0, 0, 20, 10] = 1.0
    heatmaps[0, 0, 20, 11] = 0.5                      # right neighbour higher: +0.25 in x, none in y
    heatmaps[0, 1, 1, 30] = 0.8                       # next to the border: no refinement
    heatmaps[0, 1, 2, 30] = 0.7
    heatmaps[0, 2] = -1.0                             # no positive maximum: (0, 0)
    box = np.array([[100.0, 50.0, 148.0, 114.0]])     # 48 x 64: one heatmap cell per pixel
    coords, scores = decode_heatmaps(heatmaps, box)
    np.testing.assert_allclose(coords[0], [[110.25, 70.0], [130.0, 51.0], [100.0, 50.0]], atol=1e-4)
    np.testing.assert_allclose(scores[0], [1.0, 0.8, -1.0])


def test_flip_back_undoes_a_flip():
    x = torch.rand(2, 26, 8, 6)
    flipped = x.flip(dims=(3,))[:, torch.as_tensor(_swap(26))]
    back = flip_back(flipped, HALPE_PAIRS)
    assert torch.equal(back[..., 1:], x[..., :-1])    # upstream's shift: one column to the right
    assert torch.equal(back[..., 0], x[..., 0].flip(dims=()) * 0 + flipped.flip(dims=(3,))[..., 0][:, _swap(26)])


def _swap(joints: int) -> list[int]:
    order = list(range(joints))
    for a, b in HALPE_PAIRS:
        order[a], order[b] = b, a
    return order


def test_half_precision_stays_close(fastpose_model, alphapose_recording):
    if not torch.cuda.is_available():
        pytest.skip("half precision is for CUDA")
    estimator = TopDownEstimator(fastpose_model, HALPE, device="cuda", flip=True)
    heatmaps = estimator.heatmaps(alphapose_recording["crops"][:1])
    np.testing.assert_allclose(heatmaps[0], alphapose_recording["heatmaps0_flip"], atol=2e-2, rtol=0)
