"""The AlphaPose pose2d backend: choice by the models folder, and a synthetic video end to end."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from gait.joints import HALPE_26
from services.pose2d import registry as pose2d_registry
from services.pose2d.alphapose.backend import AlphaPoseBackend, boxes_from_keypoints
from services.pose2d.alphapose.configs import CHECKPOINTS
from services.pose2d.blazepose.backend import BlazePoseBackend
from services.pose2d.outputs import alphapose_results
from services.pose2d.protocol import Pose2DResult
from services.pose2d.registry import backend_class, backend_version, default_backend


def test_default_is_alphapose_only_with_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("GAIT_MODELS_DIR", str(tmp_path))
    assert default_backend() == "blazepose-full"
    assert backend_class("") is BlazePoseBackend
    path = tmp_path / CHECKPOINTS[1].path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"a COCO checkpoint")
    assert default_backend() == "alphapose-fastpose"
    assert backend_class("") is AlphaPoseBackend and backend_class("blazepose-full") is BlazePoseBackend
    assert backend_version(AlphaPoseBackend).startswith("fast_res50_256x192-")          # name and SHA-256
    with pytest.raises(Exception, match="unknown pose2d backend 'openpose'"):
        backend_class("openpose")


def test_missing_or_wrong_checkpoint_says_so(tmp_path):
    from gait.errors import ModelMissing

    with pytest.raises(ModelMissing, match="no AlphaPose checkpoint: put upstream's FastPose .pth at"):
        AlphaPoseBackend(root=tmp_path)
    path = tmp_path / CHECKPOINTS[0].path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"junk")
    with pytest.raises(ModelMissing, match="not a PyTorch checkpoint"):
        AlphaPoseBackend(root=tmp_path)


def test_boxes_from_keypoints():
    points = np.full((2, 26, 3), np.nan, np.float32)
    points[0, :, 0] = np.linspace(100, 140, 26)
    points[0, :, 1] = np.linspace(50, 250, 26)
    boxes = boxes_from_keypoints(points, margin=0.1)
    np.testing.assert_allclose(boxes[0], [80, 30, 160, 270])
    assert np.isnan(boxes[1]).all()


def _walker_video(path, frames=3, size=(320, 240)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, size)
    for i in range(frames):
        frame = np.full((size[1], size[0], 3), 90, np.uint8)
        cv2.rectangle(frame, (120 + 10 * i, 60), (160 + 10 * i, 200), (40, 70, 150), -1)
        cv2.circle(frame, (140 + 10 * i, 45), 15, (170, 200, 230), -1)
        writer.write(frame)
    writer.release()
    return path


def test_synthetic_video_end_to_end(tmp_path, halpe_checkpoint_dir, monkeypatch):
    """Random (generated) weights: shapes, coordinates inside the image, AlphaPose JSON; boxes given
    as BlazePose would give them (its landmark box), one frame without a person."""
    video = _walker_video(tmp_path / "walk.avi")
    backend = AlphaPoseBackend(root=halpe_checkpoint_dir, device="cpu", flip=True, batch_size=2)
    assert backend.version.startswith("halpe26_fast_res50_256x192-")

    def person_boxes(video, fps, should_continue, proxy):
        boxes = np.array([[110 + 10 * i, 25, 170 + 10 * i, 205] for i in range(3)], np.float32)
        boxes[1] = np.nan
        scores = np.array([0.9, 0.0, 0.8], np.float32)
        source = Pose2DResult(keypoints=np.zeros((3, 26, 3), np.float32), scores=scores, boxes=boxes,
                              subject={"track_id": 4, "reason": "the only walker", "candidates": []},
                              world=np.zeros((3, 33, 4), np.float32),
                              heads=[np.array([[130, 20, 150, 40]], np.float32), np.zeros((0, 4)), np.zeros((0, 4))])
        return boxes, scores, source

    monkeypatch.setattr(backend, "person_boxes", person_boxes)
    from gait.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no pose in the subject's boxes"):     # generated weights score < 0.3
        backend.estimate(video, 25.0, None, lambda: True)
    monkeypatch.setattr("services.pose2d.alphapose.inference.NMS_SCORE_THRESHOLD", -1.0)
    seen = []
    result = backend.estimate(video, 25.0, lambda i, f, k, heads: seen.append((i, f.shape, None if k is None else k.shape,
                                                                                len(heads))), lambda: True)
    # every frame once, in order, with the heads BlazePose's person tracks give (for de-identification)
    assert seen == [(0, (240, 320, 3), (26, 3), 1), (1, (240, 320, 3), None, 0), (2, (240, 320, 3), (26, 3), 0)]
    assert len(result.heads) == 3
    assert result.keypoints.shape == (3, 26, 3) and result.layout == "halpe26"
    assert np.isnan(result.keypoints[1, :, :2]).all() and result.scores[1] == 0
    xy = result.keypoints[[0, 2], :, :2]
    assert np.isfinite(xy).all()
    # inside the cropped box (the box at the 3:4 aspect ratio, x 1.25: 168.75 x 225 px), which lies in the image
    for frame, centre_x in ((0, 140), (1, 160)):
        assert (np.abs(xy[frame, :, 0] - centre_x) <= 168.75 / 2).all() and (np.abs(xy[frame, :, 1] - 115) <= 112.5).all()
    assert (xy >= 0).all() and (xy[..., 0] < 320).all() and (xy[..., 1] < 240).all()
    assert (result.scores[[0, 2]] > 0.8).all()                          # proposal score includes the box score
    assert result.world.shape == (3, 33, 4) and result.subject["track_id"] == 4
    assert "non-commercial" in result.notes["checkpoint"] and "flip test" in result.notes["method"]
    entries = json.loads(json.dumps(alphapose_results(result.keypoints, result.scores, result.boxes, 4)))
    assert [e["image_id"] for e in entries] == ["0.jpg", "2.jpg"]
    assert all(len(e["keypoints"]) == 3 * len(HALPE_26) and e["category_id"] == 1 and e["idx"] == 4
               and len(e["box"]) == 4 for e in entries)


def test_registry_lists_alphapose():
    assert set(pose2d_registry.BACKENDS) == {"blazepose-full", "alphapose-fastpose"}
