"""BlazePose through ai-edge-litert: the geometry on known numbers, the models on the demo clip.

Assets: $GAIT_ASSETS_DIR/{pose_detection.tflite, pose_landmark_full.tflite, demo.mp4} when that
variable is set, else pretrained_models/blazepose/*.tflite and data/demo/demo.mp4 of the
checkout. Missing assets fail the tests (nothing is skipped).

The demo clip (1768x994, 30 fps): a man stands on a hut roof at the left (jumps down at ~frame
165), a woman walks from right to left across the grass (frames ~40-195; her mid-hip at frame 100
is at about (1028, 727) px, she is ~400 px tall), a flare in the tree gives the detector a
persistent false detection.
"""
from __future__ import annotations

import math
import os
from itertools import islice
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import pytest

from services.pose2d.blazepose import (
    BlazePoseEstimator,
    BlazePoseModels,
    EstimationCancelled,
    NoPersonFound,
    PoseDetector,
    PoseLandmarker,
    Roi,
)
from services.pose2d.blazepose.anchors import ssd_anchor_centres
from services.pose2d.blazepose.detector import Detection, weighted_nms
from services.pose2d.blazepose.tracking import link_tracks, rank_walkers

REPO = Path(__file__).resolve().parents[2]
WALKER_HIP_AT_100 = np.array([1028.0, 727.0])  # the woman's mid-hip at frame 100, checked on the frame
SHORT = 120  # frames of the clip the estimate test runs on: the woman walks from ~40


@pytest.fixture(scope="session")
def assets() -> dict[str, Path]:
    base = os.environ.get("GAIT_ASSETS_DIR")
    if base:
        root = Path(base)
        paths = {"detector": root / "pose_detection.tflite", "landmarker": root / "pose_landmark_full.tflite",
                 "clip": root / "demo.mp4"}
    else:
        paths = {"detector": REPO / "pretrained_models/blazepose/pose_detection.tflite",
                 "landmarker": REPO / "pretrained_models/blazepose/pose_landmark_full.tflite",
                 "clip": REPO / "data/demo/demo.mp4"}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        pytest.fail(f"missing test assets {missing}: run `gait fetch-assets` (or set GAIT_ASSETS_DIR)")
    return paths


@pytest.fixture(scope="session")
def models(assets) -> BlazePoseModels:
    return BlazePoseModels(assets["detector"], assets["landmarker"])


def _frames(clip: Path, limit: int | None = None) -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(clip))
    try:
        index = 0
        while limit is None or index < limit:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
            index += 1
    finally:
        capture.release()


@pytest.fixture(scope="session")
def frame_100(assets) -> np.ndarray:
    return next(islice(_frames(assets["clip"]), 100, None))


@pytest.fixture(scope="session")
def short_estimate(models, assets):
    """The estimate over the clip's first 120 frames, with what on_frame saw."""
    seen: list[tuple[int, tuple, bool, int]] = []
    estimator = BlazePoseEstimator(models, num_threads=2)
    pose = estimator.estimate(lambda: _frames(assets["clip"], SHORT), 30.0,
                              on_frame=lambda i, frame, p, people: seen.append((i, frame.shape, p is not None,
                                                                                len(people))))
    return pose, seen


# --- geometry -------------------------------------------------------------------------------

def test_anchor_layout():
    anchors = ssd_anchor_centres()
    assert anchors.shape == (2254, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 28, 0.5 / 28])      # first cell of the 28x28 map
    np.testing.assert_allclose(anchors[1], anchors[0])                 # two anchors per cell
    np.testing.assert_allclose(anchors[2], [1.5 / 28, 0.5 / 28])      # x runs fastest
    np.testing.assert_allclose(anchors[1567], [27.5 / 28, 27.5 / 28])  # last of the 28x28 map
    np.testing.assert_allclose(anchors[1568], [0.5 / 14, 0.5 / 14])   # the 14x14 map starts after 28*28*2
    np.testing.assert_allclose(anchors[1960], [0.5 / 7, 0.5 / 7])     # three stride-32 layers share the 7x7 map
    np.testing.assert_allclose(anchors[-1], [6.5 / 7, 6.5 / 7])       # ... with 6 anchors per cell


def test_roi_from_points_and_the_crop_round_trip():
    roi = Roi.from_alignment_points(np.array([400.0, 300.0]), np.array([430.0, 180.0]))
    assert roi.size == pytest.approx(2 * math.hypot(30, 120) * 1.25)
    assert roi.rotation == pytest.approx(math.atan2(30, 120))  # leaning right: turned clockwise
    # the matrices are inverses, and the point maps agree with them
    forward, backward = roi.crop_to_image(256), roi.image_to_crop(256)
    np.testing.assert_allclose(backward @ np.vstack([forward, [0, 0, 1]]), [[1, 0, 0], [0, 1, 0]], atol=1e-9)
    points = np.array([[0.5, 0.5], [0.1, 0.9], [1.0, 0.0], [0.3, 0.25]])
    np.testing.assert_allclose(roi.to_crop(roi.to_image(points)), points, atol=1e-9)
    np.testing.assert_allclose(roi.to_image(points), (forward @ np.c_[points * 256, np.ones(4)].T).T, atol=1e-9)
    np.testing.assert_allclose(roi.to_image(np.array([[0.5, 0.5]]))[0], [400, 300])
    # the hip -> scale-point direction points straight up in the crop
    up = roi.to_image(np.array([[0.5, 0.0]]))[0] - [400, 300]
    np.testing.assert_allclose(up / np.linalg.norm(up), np.array([30, -120]) / math.hypot(30, 120), atol=1e-9)
    # pixels go where the matrices say: a bright square in the image lands where to_crop puts it
    image = np.zeros((600, 800, 3), np.uint8)
    image[340:361, 440:461] = 255
    crop = roi.crop(image, 256)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    expected = roi.to_crop(np.array([[450.0, 350.0]]))[0] * 256
    np.testing.assert_allclose([xs.mean(), ys.mean()], expected, atol=1.0)
    spread = abs(math.cos(roi.rotation)) + abs(math.sin(roi.rotation))
    assert roi.box()[2] == pytest.approx(roi.size * spread, rel=1e-5)


def test_roi_from_landmarks_uses_alignment_points_33_and_34():
    landmarks = np.zeros((39, 5))
    landmarks[33, :2], landmarks[34, :2] = [500, 600], [500, 400]
    roi = Roi.from_landmarks(landmarks)
    assert (roi.cx, roi.cy, roi.rotation) == (500, 600, 0)
    assert roi.size == pytest.approx(2 * 200 * 1.25)


def test_weighted_nms_averages_a_cluster_by_score():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    keypoints = np.zeros((3, 4, 2))
    keypoints[:, 0, 0] = [0, 10, 100]
    scores = np.array([0.9, 0.6, 0.8])
    out = list(weighted_nms(scores, boxes, keypoints, 0.3))
    assert len(out) == 2
    (score, box, points), (score2, box2, _) = out
    assert score == pytest.approx(0.9) and score2 == pytest.approx(0.8)
    assert box[0] == pytest.approx(0.6 / 1.5) and points[0, 0] == pytest.approx(6 / 1.5)
    np.testing.assert_allclose(box2, [50, 50, 60, 60])


# --- tracks and the choice of the walker -------------------------------------------------------

def _detection(x: float, y: float, size: float = 460.0) -> Detection:
    box = np.array([x - size / 3, y - size / 2, x + size / 3, y + size / 6], np.float32)
    return Detection(0.9, box, np.array([[x, y], [x, y - size / 2], [x, y - 150], [x, y - 200]], np.float32))


def test_tracks_survive_gaps_and_do_not_swap_when_people_cross():
    rng = np.random.default_rng(0)
    frames = []
    for i in range(90):
        a = _detection(1500 - 14 * i + rng.normal(0, 6), 700 + rng.normal(0, 6))   # walks left
        b = _detection(250 + 14 * i + rng.normal(0, 6), 690 + rng.normal(0, 6))    # walks right, crosses a at i ~ 45
        c = _detection(1650 + rng.normal(0, 3), 600, 200)                          # far away, stands
        people = [a, b, c]
        rng.shuffle(people)
        frames.append(people)
    for gap in (20, 21, 22, 23, 60, 61):  # missed detections
        frames[gap] = []
    tracks = link_tracks(frames, 30.0)
    assert len(tracks) == 3 and all(len(t.frames) == 84 for t in tracks)
    for track in tracks:  # each moves in a straight line, no V where the walkers meet
        t, x = np.array(track.frames), track.hips()[:, 0]
        slope, intercept = np.polyfit(t, x, 1)
        assert np.std(x - (slope * t + intercept)) < 15
    slopes = sorted(np.polyfit(np.array(t.frames), t.hips()[:, 0], 1)[0] for t in tracks)
    np.testing.assert_allclose(slopes, [-14, 0, 14], atol=1)


def test_the_walker_beats_a_jumper_a_bystander_and_a_jittering_false_detection():
    rng = np.random.default_rng(1)
    frames = []
    for i in range(230):
        people = []
        if 40 <= i < 195:  # the woman: 3.5 body heights in 5 s
            people.append(_detection(1540 - 9 * (i - 40), 740 + rng.normal(0, 8), 460))
        if i < 165:        # the man stands on the roof, then jumps down and runs off right
            people.append(_detection(640 + rng.normal(0, 5), 300 + rng.normal(0, 5), 420))
        elif i < 225:
            people.append(_detection(640 + 14 * (i - 165), 300 + 8 * min(i - 165, 40), 420))
        people.append(_detection(1480, 610, 80))  # the tiny bystander far away
        if i % 3:  # the flare in the tree, jumping around
            people.append(_detection(800 + rng.normal(0, 60), 400 + rng.normal(0, 60), 800))
        frames.append(people)
    ranked = rank_walkers(link_tracks(frames, 30.0), 30.0)
    best = ranked[0]
    assert best.track.first_frame == 40 and best.track.last_frame == 194
    assert 2.5 < best.displacement_heights < 3.5 and best.moving_s > 4  # medians over the first and last second
    assert all(c.score < 0.6 * best.score for c in ranked[1:])


def test_walking_toward_the_camera_counts_as_walking():
    frames = [[_detection(900, 500 + i, 200 * 1.012 ** i), _detection(300, 600, 400)] for i in range(120)]
    ranked = rank_walkers(link_tracks(frames, 30.0), 30.0)
    assert ranked[0].track.detections[0].hip[0] == 900 and ranked[0].displacement_heights > 1.5


# --- the models on real frames ------------------------------------------------------------------

def test_detector_finds_the_walker(models, frame_100):
    detector = PoseDetector(models.detector, num_threads=2)
    found = detector.detect(frame_100)  # MediaPipe's way: the whole frame letterboxed
    assert any(d.box[0] < 1030 < d.box[2] and d.box[1] < 700 < d.box[3] and d.score > 0.5 for d in found)
    tiled = detector.detect_tiled(frame_100)  # plus two square tiles: people 1.8 times larger
    walker = min(tiled, key=lambda d: np.linalg.norm(d.hip - WALKER_HIP_AT_100))
    assert np.linalg.norm(walker.hip - WALKER_HIP_AT_100) < 40 and walker.score > 0.8
    assert 380 < walker.body_size / 1.15 < 520  # she is ~400 px tall
    assert detector.detect(np.full((480, 640, 3), 120, np.uint8)) == []


def test_landmarker_on_the_walker(models, frame_100):
    detector = PoseDetector(models.detector, num_threads=2)
    walker = min(detector.detect_tiled(frame_100), key=lambda d: np.linalg.norm(d.hip - WALKER_HIP_AT_100))
    pose = PoseLandmarker(models.landmarker, num_threads=2).run(frame_100, Roi.from_detection(walker.keypoints))
    assert pose is not None and pose.score > 0.9
    assert pose.image_landmarks.shape == (39, 5) and pose.world_landmarks.shape == (39, 3)
    assert np.linalg.norm(pose.hip_centre - WALKER_HIP_AT_100) < 25
    assert np.all((pose.image_landmarks[:, 3:] >= 0) & (pose.image_landmarks[:, 3:] <= 1))
    assert np.all(pose.image_landmarks[[23, 24, 25, 26, 27, 28], 4] > 0.9)  # presence of hips, knees, ankles
    np.testing.assert_allclose(pose.world_landmarks[[23, 24]].mean(axis=0), 0, atol=0.02)  # hip-centred
    empty = PoseLandmarker(models.landmarker, num_threads=2).run(frame_100, Roi(300, 900, 250, 0.0))  # grass
    assert empty is None


def test_estimate_picks_the_walking_woman(short_estimate):
    pose, _ = short_estimate
    assert pose.image_landmarks.shape == (SHORT, 33, 5) and pose.world_landmarks.shape == (SHORT, 33, 3)
    assert pose.pose_score.shape == (SHORT,) and pose.boxes.shape == (SHORT, 4)
    hips = pose.image_landmarks[:, [23, 24], :2].mean(axis=1)
    assert np.linalg.norm(hips[100] - WALKER_HIP_AT_100) < 60
    found = pose.pose_score > 0
    assert found[60:SHORT].all() and not found[:30].any()  # she appears ~40; nobody else is followed before
    assert np.isnan(pose.image_landmarks[~found]).all() and np.isnan(pose.boxes[~found]).all()
    assert (hips[found][-1, 0] < hips[found][0, 0] - 400), "she walks to the left"
    choice = pose.subject
    assert choice.track_id == choice.candidates[0]["track_id"] and "body heights" in choice.reason
    keys = {"track_id", "first_frame", "last_frame", "frames", "displacement_body_heights", "score"}
    assert all(keys <= set(candidate) for candidate in choice.candidates)
    assert len(choice.candidates) >= 2, "the man on the roof is a candidate too"
    assert choice.candidates[0]["displacement_body_heights"] > 1.0


def test_estimate_landmarks_are_anatomically_plausible(short_estimate):
    pose, _ = short_estimate
    found = pose.pose_score > 0
    image, world = pose.image_landmarks[found], pose.world_landmarks[found]
    hip_y = image[:, [23, 24], 1].mean(axis=1)
    height = np.median(image[:, [29, 30], 1].max(axis=1) - image[:, [2, 5], 1].mean(axis=1)) / 0.93
    assert 350 < height < 460
    assert (image[:, [27, 28], 1] > hip_y[:, None] + 0.2 * height).all(), "ankles below the hips"
    for foot, ankle in ((29, 27), (30, 28), (31, 27), (32, 28)):  # heels and toes next to their ankles
        assert np.linalg.norm(image[:, foot, :2] - image[:, ankle, :2], axis=1).max() < 0.2 * height
    def limb(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(world[:, a] - world[:, b], axis=1)
    for a, b in ((23, 25), (24, 26)):  # thighs
        assert 0.3 < np.median(limb(a, b)) < 0.6 and limb(a, b).min() > 0.25
    for a, b in ((25, 27), (26, 28)):  # shanks
        assert 0.3 < np.median(limb(a, b)) < 0.55
    np.testing.assert_allclose(np.nanmedian(world[:, [23, 24]].mean(axis=1), axis=0), 0, atol=0.02)
    assert (pose.pose_score[found] > 0.5).all() and (pose.pose_score[found] <= 1).all()


def test_on_frame_sees_every_frame_once(short_estimate):
    pose, seen = short_estimate
    assert [i for i, _, _, _ in seen] == list(range(SHORT))
    assert all(shape == (994, 1768, 3) for _, shape, _, _ in seen)
    assert [has for _, _, has, _ in seen] == list(pose.pose_score > 0)
    # every tracked person's detections come along (for de-identification): the walker and the man
    # on the roof, on the frames the detector runs on (every 2nd at 30 fps)
    people = np.array([count for _, _, _, count in seen])
    assert (people[::2] >= 1).mean() > 0.8 and (people >= 2).any() and (people[1::2] == 0).all()


def test_cancellation_and_nobody_there(models, assets):
    estimator = BlazePoseEstimator(models, num_threads=2)
    calls = []

    def allow(n: int):
        return lambda: calls.append(1) or len(calls) <= n

    with pytest.raises(EstimationCancelled):
        estimator.estimate(lambda: _frames(assets["clip"], 60), 30.0, should_continue=allow(10))
    assert len(calls) == 11
    calls.clear()
    with pytest.raises(EstimationCancelled):  # in pass 2: 60 frames of pass 1 went through
        estimator.estimate(lambda: _frames(assets["clip"], 60), 30.0, should_continue=allow(80))
    blank = lambda: iter([np.full((240, 320, 3), 90, np.uint8)] * 5)  # noqa: E731
    with pytest.raises(NoPersonFound, match="no person"):
        estimator.estimate(blank, 30.0)
