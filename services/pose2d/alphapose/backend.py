"""The AlphaPose pose2d backend: FastPose (Halpe-26 or COCO-17) on the walking subject's box in every frame.

Person boxes: upstream's default detector is YOLOv3-SPP, whose weights are not distributed with
this project and which is not implemented here. The boxes come from the embedded default's
person detection, tracking and subject choice (services/pose2d/blazepose): BlazePose gives the
subject's keypoints in every frame where it follows them, and the subject's box is the box of
those 33 landmarks (every landmark, visible or not: BlazePose places occluded ones too) widened
by `box_margin` of its longer side on every side, about the extent of a person detector's box
around the keypoints (the hands and the top of the head lie beyond the wrist and head points).
The box's score is BlazePose's pose score. AlphaPose's own enlargement (x 1.25) comes on top, as
upstream. BlazePose's metric world landmarks are kept in the bundle (lift3d uses them to scale).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np

from gait.artifacts import sha256_file
from gait.config import models_dir
from gait.errors import Cancelled, InvalidInput, ModelMissing
from gait.joints import HALPE_26
from gait.video import iter_frames
from services.pose2d.alphapose.configs import CHECKPOINTS, CONFIGS, Checkpoint
from services.pose2d.backend import BlazePoseBackend, FrameCallback, Pose2DResult

log = logging.getLogger(__name__)

BOX_MARGIN = 0.1
_SHA256: dict[tuple[str, int, int], str] = {}


def find_checkpoint(root: Path | None = None) -> Checkpoint | None:
    """The first released checkpoint (in CHECKPOINTS' order of preference) present under `root`."""
    root = models_dir() if root is None else Path(root)
    return next((c for c in CHECKPOINTS if (root / c.path).is_file()), None)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, remembered per (path, size, modification time)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256:
        _SHA256[key] = sha256_file(path)
    return _SHA256[key]


def boxes_from_keypoints(points: np.ndarray, margin: float = BOX_MARGIN) -> np.ndarray:
    """(frames, K, 2+) keypoints (NaN where none) -> (frames, 4) x1, y1, x2, y2 boxes around them,
    widened by `margin` x the longer side on every side; NaN where a frame has no keypoints."""
    xy = np.asarray(points, dtype=np.float32)[..., :2]
    boxes = np.full((len(xy), 4), np.nan, dtype=np.float32)
    found = np.isfinite(xy).all(axis=(1, 2))
    if found.any():
        low, high = xy[found].min(axis=1), xy[found].max(axis=1)
        pad = margin * (high - low).max(axis=1, keepdims=True)
        boxes[found] = np.concatenate([low - pad, high + pad], axis=1)
    return boxes


def to_halpe_layout(keypoints: np.ndarray) -> np.ndarray:
    """(..., 17 | 26, 3) -> (..., 26, 3): COCO-17 padded with unseen joints (NaN, score 0) for drawing."""
    if keypoints.shape[-2] == len(HALPE_26):
        return keypoints
    pad = np.zeros(keypoints.shape[:-2] + (len(HALPE_26) - keypoints.shape[-2], 3), dtype=keypoints.dtype)
    pad[..., :2] = np.nan
    return np.concatenate([keypoints, pad], axis=-2)


class AlphaPoseBackend:
    """AlphaPose FastPose (Fang et al. 2022, TPAMI, arXiv:2211.03375) on the subject's box in every
    frame, with upstream's top-down inference (services/pose2d/alphapose/inference.py).

    Parameters
    ----------
    num_threads
        CPU threads for PyTorch and for the BlazePose person boxes.
    min_detection_score
        BlazePose person detector's threshold (the boxes' source).
    root
        Folder holding the checkpoints (default GAIT_MODELS_DIR).
    device
        "cuda", "cpu" or None (CUDA when available; half precision on CUDA).
    batch_size
        Person crops per forward pass (default 64 on CUDA, 8 on CPU; flipped copies on top).
    flip
        Upstream's flip test (--flip): average with the flipped crop's heatmaps.
    box_margin
        Margin around BlazePose's landmarks that makes the person box, times its longer side.
    """

    name = "alphapose-fastpose"
    version = "fastpose-1"

    def __init__(self, num_threads: int = 2, min_detection_score: float = 0.5, root: Path | None = None,
                 device: str | None = None, batch_size: int | None = None, flip: bool = True,
                 box_margin: float = BOX_MARGIN) -> None:
        import torch

        from services.pose2d.alphapose.checkpoints import CheckpointError, load_checkpoint
        from services.pose2d.alphapose.inference import TopDownEstimator

        root = models_dir() if root is None else Path(root)
        checkpoint = find_checkpoint(root)
        if checkpoint is None:
            wanted = " or ".join(str(root / c.path) for c in CHECKPOINTS)
            raise ModelMissing(f"no AlphaPose checkpoint: put upstream's FastPose .pth at {wanted}")
        path = root / checkpoint.path
        self.checkpoint, self.config = checkpoint, CONFIGS[checkpoint.config]
        self.sha256 = sha256_of(path)
        self.version = f"{checkpoint.name}-{self.sha256[:12]}"
        try:
            model = load_checkpoint(path, self.config)
        except CheckpointError as exc:
            raise ModelMissing(str(exc)) from None
        if device is None or device == "cpu":
            torch.set_num_threads(num_threads)
        self.estimator = TopDownEstimator(model, self.config, device=device, flip=flip, batch_size=batch_size)
        self.num_threads, self.min_detection_score, self.box_margin = num_threads, min_detection_score, box_margin

    @classmethod
    def cache_version(cls, root: Path | None = None) -> str:
        """The version the present checkpoint gives (its name and SHA-256), for cache keys before loading."""
        checkpoint = find_checkpoint(root)
        if checkpoint is None:
            return cls.version
        return f"{checkpoint.name}-{sha256_of((models_dir() if root is None else Path(root)) / checkpoint.path)[:12]}"

    def person_boxes(self, video: Path, fps: float, should_continue: Callable[[], bool],
                     proxy: Path | None) -> tuple[np.ndarray, np.ndarray, Pose2DResult]:
        """The subject's (frames, 4) x1, y1, x2, y2 boxes and (frames,) scores from BlazePose."""
        blaze = BlazePoseBackend(num_threads=self.num_threads, min_detection_score=self.min_detection_score)
        found = blaze.estimate(video, fps, None, should_continue, proxy)
        return boxes_from_keypoints(found.keypoints, self.box_margin), found.scores, found

    def estimate(self, video: Path, fps: float, on_frame: FrameCallback | None,
                 should_continue: Callable[[], bool], proxy: Path | None = None) -> Pose2DResult:
        from services.pose2d.alphapose.inference import nms_scores

        started = time.perf_counter()
        boxes, box_scores, source = self.person_boxes(video, fps, should_continue, proxy)
        boxes_s = time.perf_counter() - started
        frames = len(boxes)
        joints = self.config.num_joints
        keypoints = np.full((frames, joints, 3), np.nan, dtype=np.float32)
        keypoints[..., 2] = 0.0
        scores = np.zeros(frames, dtype=np.float32)
        has_box = np.isfinite(boxes).all(axis=1) & (box_scores > 0)

        pending: list[tuple[int, np.ndarray]] = []            # (index, BGR frame) waiting for their poses

        def flush() -> None:
            with_box = [(i, f) for i, f in pending if has_box[i]]
            if with_box:
                index = np.array([i for i, _ in with_box])
                coords, joint_scores, _ = self.estimator.estimate([f for _, f in with_box], np.arange(len(index)),
                                                                  boxes[index])
                joint_scores, kept, proposal = nms_scores(joint_scores, box_scores[index])
                keypoints[index[kept], :, :2] = coords[kept]
                keypoints[index[kept], :, 2] = joint_scores[kept]
                scores[index[kept]] = proposal[kept]
            if on_frame is not None:
                for i, frame in pending:
                    on_frame(i, frame, to_halpe_layout(keypoints[i]) if scores[i] > 0 else None)
            pending.clear()

        started = time.perf_counter()
        count = 0
        for index, frame in enumerate(iter_frames(video)):
            if not should_continue():
                raise Cancelled("pose estimation cancelled: the request's deadline passed")
            if index >= frames:
                break
            pending.append((index, frame))
            count += has_box[index]
            if count >= self.estimator.batch_size:
                flush()
                count = 0
        flush()
        pose_s = time.perf_counter() - started
        if not (scores > 0).any():
            raise InvalidInput("AlphaPose found no pose in the subject's boxes")
        log.info("alphapose: boxes in %.2f s, %d crops in %.2f s (%.0f crops/s)", boxes_s, int(has_box.sum()),
                 pose_s, has_box.sum() / max(pose_s, 1e-9))
        xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        xywh[scores <= 0] = np.nan
        subject = dict(source.subject)
        subject["reason"] = f"{subject['reason']} (found by BlazePose; AlphaPose ran on that person's boxes)"
        estimator = self.estimator
        return Pose2DResult(
            keypoints=keypoints, scores=scores, boxes=xywh, subject=subject, world=source.world,
            layout=self.config.layout,
            notes={"method": "AlphaPose FastPose (Fang et al. 2022), upstream's top-down inference: boxes x 1.25 "
                             "at 256x192, heatmap arg-max with quarter-pixel refinement"
                             + (", flip test" if estimator.flip else ""),
                   "checkpoint": f"{self.checkpoint.path} (sha256 {self.sha256}; {self.checkpoint.licence})",
                   "config": self.config.name,
                   "person_boxes": f"BlazePose {BlazePoseBackend.version} subject landmarks' box, margin "
                                   f"{self.box_margin} of its longer side (no AlphaPose detector)",
                   "device": f"{estimator.device.type} ({'float16' if estimator.half else 'float32'})"},
        )
