"""The embedded default 2D pose backend: BlazePose GHUM full via ai-edge-litert."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from gait.config import models_dir
from gait.provenance import model_identity
from gait.deidentify import head_from_torso, no_boxes
from gait.errors import Cancelled, InvalidInput, ModelMissing
from gait.joints import blazepose_confidence_to_halpe26, blazepose_to_halpe26
from gait.video import iter_frames, probe
from services.pose2d.protocol import FrameCallback, Pose2DResult


class BlazePoseBackend:
    """BlazePose GHUM full (Bazarevsky et al. 2020, arXiv:2006.10204; Xu et al. 2022, GHUM): the
    models of the mediapipe 0.10.21 wheel, run with ai-edge-litert and our own pre/post-processing."""

    name = "blazepose-full"
    version = "mediapipe-0.10.21"
    detector_file = "blazepose/pose_detection.tflite"
    landmarker_file = "blazepose/pose_landmark_full.tflite"

    def __init__(self, num_threads: int = 2, min_detection_score: float = 0.5) -> None:
        from services.pose2d.blazepose import BlazePoseEstimator, BlazePoseModels

        root = models_dir()
        models = BlazePoseModels(detector=root / self.detector_file, landmarker=root / self.landmarker_file)
        for path in (models.detector, models.landmarker):
            if not path.is_file():
                raise ModelMissing(f"model file {path} is missing: run `gait fetch-assets` (see README)")
        self.estimator = BlazePoseEstimator(models, num_threads=num_threads, min_detection_score=min_detection_score)
        self.models = self.model_identities()

    @classmethod
    def model_identities(cls) -> tuple[dict[str, str], ...]:
        """The two model files as the audit trail names them (name, sha256 of the bytes loaded)."""
        return tuple(model_identity(name, models_dir() / name) for name in (cls.detector_file, cls.landmarker_file))

    def estimate(self, video: Path, fps: float, on_frame: FrameCallback | None,
                 should_continue: Callable[[], bool], proxy: Path | None = None) -> Pose2DResult:
        heads: list[np.ndarray] = []

        def forward(index: int, frame: np.ndarray, pose, people: list) -> None:
            heads.append(head_boxes(people))
            if on_frame is not None:
                on_frame(index, frame, None if pose is None else halpe_from_image_landmarks(pose.image_landmarks[:33]),
                         heads[-1])

        from services.pose2d.blazepose import EstimationCancelled, NoPersonFound

        try:
            scale = probe(video).width / probe(proxy).width if proxy is not None else 1.0
            pose = self.estimator.estimate(
                lambda: iter_frames(video), fps, forward, should_continue,
                open_detection_frames=(lambda: iter_frames(proxy)) if proxy is not None else None,
                detection_scale=scale,
            )
        except NoPersonFound as exc:
            raise InvalidInput(str(exc)) from None
        except EstimationCancelled:
            raise Cancelled("pose estimation cancelled: the request's deadline passed") from None
        keypoints = halpe_from_image_landmarks(pose.image_landmarks)
        world = np.concatenate([pose.world_landmarks, pose.image_landmarks[..., 3:4]], axis=-1)
        subject = {"track_id": pose.subject.track_id, "reason": pose.subject.reason, "candidates": pose.subject.candidates}
        return Pose2DResult(keypoints=keypoints, scores=pose.pose_score, boxes=pose.boxes, subject=subject, world=world,
                            heads=heads)


def head_boxes(people: list) -> np.ndarray:
    """The head boxes of person detections (services/pose2d/blazepose/detector.Detection): above the
    mid-shoulder point (keypoint 2) along the torso from the mid-hip (keypoint 0)."""
    if not people:
        return no_boxes()
    return np.stack([head_from_torso(d.keypoints[2], d.keypoints[0]) for d in people])


def halpe_from_image_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """(..., 33, 5) BlazePose x, y, z, visibility, presence -> (..., 26, 3) Halpe x, y, score."""
    xy = blazepose_to_halpe26(landmarks[..., :2])
    score = blazepose_confidence_to_halpe26(np.nan_to_num(landmarks[..., 3] * landmarks[..., 4], nan=0.0))
    return np.concatenate([xy, score[..., None]], axis=-1).astype(np.float32)
