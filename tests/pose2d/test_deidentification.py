"""De-identification by default: an independent face detector (CenterFace, tests/face_check.py) finds
faces in the input and none in the videos pose2d writes or `gait run` exports; `skip_deidentify`
(research use) keeps them, and the manifests say which."""
from __future__ import annotations

from pathlib import Path

import cv2
import matplotlib
import numpy as np
import pytest

from gait.artifacts import Bundle
from gait.assets import FACE_DETECTOR
from gait.config import models_dir
from gait.contracts import DEIDENTIFIED_UPRIGHT, DETECTION_PROXY, OVERLAY, POSE2D, ROTATE, UPRIGHT_VIDEO
from gait.export import export_outputs
from gait.ingest import ingest_video
from gait.v1 import stages_pb2
from gait.video import iter_frames
from services.pose2d.faces import FaceDetector
from services.pose2d.videos import VideoOutputs
from tests.face_check import CenterFace

CHECKED_FRAMES = (0, 40, 80)  # of the short clip: the man on the roof throughout, the walker crossing


@pytest.fixture(scope="module")
def centerface() -> CenterFace:
    return CenterFace()


@pytest.fixture(scope="module")
def rotated(stubs, store, short_clip) -> str:
    video = ingest_video(store, short_clip)
    return stubs.rotate.Rotate(stages_pb2.RotateRequest(video_key=video.key), timeout=120).outcome.bundle_key


def _pose2d(stubs, store, rotated: str, **options) -> Bundle:
    response = stubs.pose2d.EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=rotated, **options), timeout=300)
    return Bundle.open(store, response.outcome.bundle_key, expected_stage=POSE2D)


@pytest.fixture(scope="module")
def deidentified(stubs, store, rotated) -> Bundle:
    return _pose2d(stubs, store, rotated)  # the default


def _frames(path: Path, wanted: tuple[int, ...]) -> dict[int, np.ndarray]:
    return {i: frame for i, frame in enumerate(iter_frames(path, limit=max(wanted) + 1)) if i in wanted}


def test_no_face_is_left_in_the_videos_pose2d_writes(deidentified, short_clip, centerface, tmp_path):
    inputs = _frames(short_clip, CHECKED_FRAMES)
    for index, frame in inputs.items():
        assert centerface.faces(frame), f"the check finds no face in input frame {index}: it proves nothing"
    for name in (DEIDENTIFIED_UPRIGHT, OVERLAY):
        outputs = _frames(deidentified.fetch(name, tmp_path), CHECKED_FRAMES)
        assert sorted(outputs) == list(CHECKED_FRAMES)
        for index, frame in outputs.items():
            found = centerface.faces(frame)
            assert found == [], f"{name} frame {index}: faces at {[box.round() for _, box in found]}"


def test_the_manifest_says_the_videos_are_deidentified(deidentified):
    assert deidentified.manifest["config"]["deidentify"] is True
    meta = deidentified.meta["deidentification"]
    assert meta["deidentified"] is True and meta["frames_with_heads_blurred"] == 90
    assert meta["face_detector_frames"] == 8, "BlazeFace on every 12th of the 90 frames"
    assert "BlazeFace" in meta["method"]
    assert deidentified.file_meta(DEIDENTIFIED_UPRIGHT)["frames"] == 90
    assert deidentified.file_meta(OVERLAY)["deidentified"] is True


def test_export_carries_the_deidentified_video_and_never_the_proxy(deidentified, store, rotated, tmp_path):
    written = export_outputs(store, {ROTATE: rotated, POSE2D: deidentified.key}, tmp_path)
    exported = tmp_path / "video" / UPRIGHT_VIDEO
    assert exported in written and exported.read_bytes() == deidentified.read_bytes(DEIDENTIFIED_UPRIGHT)
    assert not (tmp_path / "video" / DETECTION_PROXY).exists()
    assert not (tmp_path / "alphapose-results" / DEIDENTIFIED_UPRIGHT).exists()
    assert (tmp_path / "alphapose-results" / OVERLAY).is_file()
    # a run that stopped after rotate exports no upright video at all
    export_outputs(store, {ROTATE: rotated}, tmp_path / "rotate-only")
    assert not (tmp_path / "rotate-only" / "video" / UPRIGHT_VIDEO).exists()
    assert (tmp_path / "rotate-only" / "video" / "video.json").is_file()


def test_research_use_keeps_the_faces_and_says_so(stubs, store, rotated, deidentified, tmp_path):
    research = _pose2d(stubs, store, rotated, skip_deidentify=True)
    assert research.key != deidentified.key, "de-identification is part of the cache key"
    assert research.manifest["config"]["deidentify"] is False
    assert research.meta["deidentification"]["deidentified"] is False
    assert DEIDENTIFIED_UPRIGHT not in research.files
    np.testing.assert_array_equal(research.read_npy("keypoints2d.npy"), deidentified.read_npy("keypoints2d.npy"))
    export_outputs(store, {ROTATE: rotated, POSE2D: research.key}, tmp_path)
    upright = Bundle.open(store, rotated, expected_stage=ROTATE)
    assert (tmp_path / "video" / UPRIGHT_VIDEO).read_bytes() == upright.read_bytes(UPRIGHT_VIDEO)


def _face_on_background(background: np.ndarray, width_px: int) -> np.ndarray:
    """A real face (Grace Hopper, matplotlib's sample image) pasted, `width_px` wide, onto a background."""
    face = cv2.imread(str(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"))[60:420, 110:420]
    face = cv2.resize(face, (width_px, int(width_px * face.shape[0] / face.shape[1])), interpolation=cv2.INTER_AREA)
    frame = background.copy()
    frame[60:60 + face.shape[0], 300:300 + width_px] = face
    return frame


def test_a_face_no_pose_covers_is_blurred(demo_clip, centerface, tmp_path):
    """Someone the pose model does not track (here a face alone, no body): BlazeFace finds it and the
    frames come out without a face, in every frame, not only the ones BlazeFace runs on."""
    path = models_dir() / FACE_DETECTOR.target
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make setup` (gait fetch-assets) first")
    background = next(iter_frames(demo_clip))[0:360, 1100:1740]  # trees and buildings, nobody
    frames = [_face_on_background(background, 60) for _ in range(16)]
    assert centerface.faces(frames[0]), "the check finds no face in the input: it proves nothing"
    fps = 30.0
    with VideoOutputs(640, 360, fps, None, tmp_path / "blurred.mp4", FaceDetector(path)) as videos:
        for index, frame in enumerate(frames):
            videos.on_frame(index, frame, None, np.zeros((0, 4), np.float32))
    written = list(iter_frames(tmp_path / "blurred.mp4"))
    assert len(written) == 16 and videos.face_frames == 2, "BlazeFace ran on frames 0 and 12 only"
    for index in (0, 6, 15):
        assert centerface.faces(written[index]) == [], f"a face left in frame {index}"
    unchanged = np.abs(written[0].astype(int) - background.astype(int))[200:, :].mean()
    assert unchanged < 4, "the rest of the frame is as it was (up to the encoder)"
