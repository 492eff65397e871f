"""BlazePose pieces on known geometry and on real frames of the demo clip."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gait.video import iter_frames
from services.pose2d.blazepose import BlazePoseEstimator, BlazePoseModels, EstimationCancelled, NoPersonFound
from services.pose2d.blazepose.anchors import ssd_anchor_centres
from services.pose2d.blazepose.detector import Detection, PoseDetector
from services.pose2d.blazepose.roi import Roi
from services.pose2d.blazepose.tracking import link_tracks, rank_walkers

WALKER_AT_FRAME_100 = np.array([1030.0, 725.0])  # the woman's mid-hip, by eye


@pytest.fixture(scope="module")
def models(model_files) -> BlazePoseModels:
    return BlazePoseModels(model_files["pose_detection"], model_files["pose_landmark_full"])


@pytest.fixture(scope="module")
def frame_100(demo_clip) -> np.ndarray:
    return list(iter_frames(demo_clip, limit=101))[100]


def test_anchor_layout():
    anchors = ssd_anchor_centres()
    assert anchors.shape == (2254, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])      # first cell of the 28x28 map
    np.testing.assert_allclose(anchors[1], anchors[0])                 # two anchors per cell
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])   # the 14x14 map starts after 28*28*2
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])       # 7x7 map, 6 anchors per cell


def test_roi_crop_maps_points_back_to_the_image():
    roi = Roi.from_alignment_points(np.array([400.0, 300.0]), np.array([430.0, 180.0]))
    assert roi.size == pytest.approx(2 * math.hypot(30, 120) * 1.25)
    image = np.zeros((600, 800, 3), np.uint8)
    image[290:311, 390:411] = 255  # a bright square around the centre
    crop = roi.crop(image, 256)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    centre = np.array([[xs.mean() / 256, ys.mean() / 256]])
    np.testing.assert_allclose(roi.to_image(centre)[0], [400, 300], atol=2)
    # the hip -> scale-point direction points straight up in the crop
    top = roi.to_image(np.array([[0.5, 0.0]]))[0]
    direction = (top - [400, 300]) / np.linalg.norm(top - [400, 300])
    np.testing.assert_allclose(direction, np.array([30, -120]) / math.hypot(30, 120), atol=1e-6)


def test_detector_finds_the_walker(models, frame_100):
    detections = PoseDetector(models.detector, num_threads=2).detect(frame_100)
    assert any(np.linalg.norm(d.hip - WALKER_AT_FRAME_100) < 100 and d.score > 0.5 for d in detections)


def _detection(x: float, y: float, size: float = 400.0) -> Detection:
    return Detection(0.9, np.zeros(4, np.float32), np.array([[x, y], [x, y - size / 2], [x, y - 100], [x, y - 150]]))


def test_tracks_keep_identities_and_the_walker_wins():
    frames = []
    for i in range(60):
        walker = _detection(1500 - 15 * i, 700)          # walks left, 0.5 m/s-ish
        bystander = _detection(300 + (i % 3), 300, 380)  # stands, jitters
        frames.append([bystander, walker] if i % 2 else [walker, bystander])
    frames[20] = []  # a dropped frame
    tracks = link_tracks(frames, 30.0)
    assert len(tracks) == 2
    ranked = rank_walkers(tracks, 30.0)
    best = ranked[0].track
    assert best.hips()[0][0] == 1500 and best.hips()[-1][0] == 1500 - 15 * 59
    assert ranked[0].displacement_body > 1.5 and ranked[1].displacement_body < 0.1


def test_estimate_cancels_and_reports_no_person(models):
    estimator = BlazePoseEstimator(models, num_threads=2)
    blank = lambda: iter([np.full((240, 320, 3), 90, np.uint8)] * 5)  # noqa: E731
    with pytest.raises(NoPersonFound, match="no person"):
        estimator.estimate(blank, 30.0)
    with pytest.raises(EstimationCancelled):
        estimator.estimate(blank, 30.0, should_continue=lambda: False)
