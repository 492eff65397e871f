"""The AlphaPose pose2d backend: FastPose (Halpe-26 or COCO-17) on the walking subject's box in every frame.

Person boxes: the embedded default's person detection, tracking and subject choice
(services/pose2d/blazepose) finds the walker: BlazePose gives the subject's keypoints in every
frame where it follows them, and the subject's box is the box of those 33 landmarks (every
landmark, visible or not: BlazePose places occluded ones too) widened by `box_margin` of its
longer side on every side, about the extent of a person detector's box around the keypoints (the
hands and the top of the head lie beyond the wrist and head points). The box's score is
BlazePose's pose score. BlazePose's metric world landmarks are kept in the bundle (lift3d uses
them to scale).

When AlphaPose's own detector's weights (YOLOv3-SPP, DETECTOR in configs.py) are in the models
folder, the boxes FastPose runs on are YOLOv3-SPP's, as upstream's demo gives them
(detector.py): in each frame where BlazePose follows the subject, the YOLO person box with the
highest IoU with the subject's box, when that IoU is at least `min_box_iou` (0.3), with YOLO's
person score; else that frame keeps the BlazePose-derived box (such frames are counted in the
notes). Frames where BlazePose does not follow the subject have no pose, as without the detector.
AlphaPose's own enlargement (x 1.25) comes on top, as upstream.
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
from services.pose2d.alphapose.configs import CHECKPOINTS, CONFIGS, DETECTOR, Checkpoint
from services.pose2d.blazepose.backend import BlazePoseBackend
from services.pose2d.protocol import FrameCallback, Pose2DResult

log = logging.getLogger(__name__)

BOX_MARGIN = 0.1
MIN_BOX_IOU = 0.3
_SHA256: dict[tuple[str, int, int], str] = {}


def find_checkpoint(root: Path | None = None) -> Checkpoint | None:
    """The first released checkpoint (in CHECKPOINTS' order of preference) present under `root`."""
    root = models_dir() if root is None else Path(root)
    return next((c for c in CHECKPOINTS if (root / c.path).is_file()), None)


def find_detector(root: Path | None = None) -> Path | None:
    """The YOLOv3-SPP weights file under `root` (default GAIT_MODELS_DIR), or None when absent."""
    path = (models_dir() if root is None else Path(root)) / DETECTOR.path
    return path if path.is_file() else None


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


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of (N, 4) and (M, 4) x1, y1, x2, y2 boxes -> (N, M) (continuous areas; 0 for empty boxes)."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    lo, hi = np.maximum(a[:, None, :2], b[None, :, :2]), np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(hi - lo, 0, None).prod(axis=-1)
    area = lambda x: np.clip(x[:, 2:] - x[:, :2], 0, None).prod(axis=-1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def choose_boxes(subject: np.ndarray, scores: np.ndarray, detections: list[np.ndarray], min_iou: float = MIN_BOX_IOU
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame, the detected person box (rows x1, y1, x2, y2, objectness, person score) with the
    highest IoU with the subject's box (N, 4), when it reaches `min_iou`; else the subject's box.
    -> (N, 4) boxes, (N,) scores (the detector's person score, or `scores`), (N,) bool: detector's box."""
    boxes = np.array(subject, dtype=np.float32).reshape(-1, 4)
    scores = np.array(scores, dtype=np.float32)
    matched = np.zeros(len(boxes), dtype=bool)
    for i, found in enumerate(detections):                      # a handful of boxes per frame
        if len(found) == 0 or not np.isfinite(boxes[i]).all():
            continue
        iou = box_iou(boxes[i], found[:, :4])[0]
        best = int(iou.argmax())
        if iou[best] >= min_iou:
            boxes[i], scores[i], matched[i] = found[best, :4], found[best, 5], True
    return boxes, scores, matched


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
        Margin around BlazePose's landmarks that makes the subject's box, times its longer side.
    detector_size
        YOLOv3-SPP's input size (upstream's 608; a multiple of 32), when its weights are present.
    min_box_iou
        The IoU with the subject's box a YOLO person box needs to replace it in a frame.
    """

    name = "alphapose-fastpose"
    version = "fastpose-1"

    def __init__(self, num_threads: int = 2, min_detection_score: float = 0.5, root: Path | None = None,
                 device: str | None = None, batch_size: int | None = None, flip: bool = True,
                 box_margin: float = BOX_MARGIN, detector_size: int = 608, min_box_iou: float = MIN_BOX_IOU) -> None:
        import torch

        from gait.checkpoints import load_placed
        from services.pose2d.alphapose.checkpoints import load_checkpoint
        from services.pose2d.alphapose.detector import YOLODetector
        from services.pose2d.alphapose.inference import TopDownEstimator
        from services.pose2d.alphapose.yolo import DarknetWeightsError, load_yolo

        root = models_dir() if root is None else Path(root)
        placed = load_placed(root, CHECKPOINTS, "no AlphaPose checkpoint: put upstream's FastPose .pth",
                             lambda path, checkpoint: load_checkpoint(path, CONFIGS[checkpoint.config]), sha256_of)
        self.checkpoint, self.config = placed.checkpoint, CONFIGS[placed.checkpoint.config]
        self.sha256, self.version, model = placed.sha256, placed.version, placed.model
        if device is None or device == "cpu":
            torch.set_num_threads(num_threads)
        self.estimator = TopDownEstimator(model, self.config, device=device, flip=flip, batch_size=batch_size)
        self.num_threads, self.min_detection_score, self.box_margin = num_threads, min_detection_score, box_margin
        self.min_box_iou = min_box_iou
        self.detector, self.detector_sha256 = None, None
        detector_path = find_detector(root)
        if detector_path is not None:
            self.detector_sha256 = sha256_of(detector_path)
            try:
                yolo = load_yolo(detector_path)
            except DarknetWeightsError as exc:
                raise ModelMissing(str(exc)) from None
            self.detector = YOLODetector(yolo, input_size=detector_size, device=self.estimator.device,
                                         half=self.estimator.half)
            self.version = f"{self.version}+{DETECTOR.name}-{self.detector_sha256[:12]}"
        detector_model = () if detector_path is None else ({"name": DETECTOR.path, "sha256": self.detector_sha256},)
        self.models = ({"name": self.checkpoint.path, "sha256": self.sha256}, *detector_model,
                       *BlazePoseBackend.model_identities())  # BlazePose finds the subject's box

    @classmethod
    def cache_version(cls, root: Path | None = None) -> str:
        """The version the present checkpoint gives (its name and SHA-256), for cache keys before loading."""
        checkpoint = find_checkpoint(root)
        if checkpoint is None:
            return cls.version
        version = f"{checkpoint.name}-{sha256_of((models_dir() if root is None else Path(root)) / checkpoint.path)[:12]}"
        detector = find_detector(root)
        return version if detector is None else f"{version}+{DETECTOR.name}-{sha256_of(detector)[:12]}"

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
        used_boxes, used_scores = boxes.copy(), box_scores.copy()     # the detector's where it has the subject
        from_detector = np.zeros(frames, dtype=bool)

        pending: list[tuple[int, np.ndarray]] = []            # (index, BGR frame) waiting for their poses

        def flush() -> None:
            with_box = [(i, f) for i, f in pending if has_box[i]]
            if with_box:
                index = np.array([i for i, _ in with_box])
                images = [f for _, f in with_box]
                if self.detector is not None:
                    chosen, chosen_scores, matched = choose_boxes(boxes[index], box_scores[index],
                                                                  self.detector.detect(images), self.min_box_iou)
                    used_boxes[index], used_scores[index], from_detector[index] = chosen, chosen_scores, matched
                coords, joint_scores, _ = self.estimator.estimate(images, np.arange(len(index)), used_boxes[index])
                joint_scores, kept, proposal = nms_scores(joint_scores, used_scores[index])
                keypoints[index[kept], :, :2] = coords[kept]
                keypoints[index[kept], :, 2] = joint_scores[kept]
                scores[index[kept]] = proposal[kept]
            if on_frame is not None:
                for i, frame in pending:
                    on_frame(i, frame, to_halpe_layout(keypoints[i]) if scores[i] > 0 else None, source.heads[i])
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
        xywh = np.concatenate([used_boxes[:, :2], used_boxes[:, 2:] - used_boxes[:, :2]], axis=1)
        xywh[scores <= 0] = np.nan
        subject = dict(source.subject)
        subject["reason"] = f"{subject['reason']} (found by BlazePose; AlphaPose ran on that person's boxes)"
        estimator = self.estimator
        blaze_box = (f"BlazePose {BlazePoseBackend.version} subject landmarks' box, margin {self.box_margin} of its "
                     f"longer side")
        notes = {}
        if self.detector is None:
            notes["person_boxes"] = f"{blaze_box} (no AlphaPose detector weights: {DETECTOR.path} absent)"
        else:
            fallback = int((has_box & ~from_detector).sum())
            detector = self.detector
            notes["person_boxes"] = (
                f"YOLOv3-SPP (AlphaPose's detector) at {detector.input_size}x{detector.input_size}, objectness > "
                f"{detector.confidence:g}, NMS {detector.nms_threshold:g}: per frame the person box with the highest IoU "
                f"with the {blaze_box}, when >= {self.min_box_iou:g}; else that box: {fallback} of "
                f"{int(has_box.sum())} frames with the subject")
            notes["detector"] = f"{DETECTOR.path} (sha256 {self.detector_sha256}; {DETECTOR.licence})"
            notes["person_box_fallback_frames"] = fallback
        return Pose2DResult(
            keypoints=keypoints, scores=scores, boxes=xywh, subject=subject, world=source.world,
            layout=self.config.layout, heads=source.heads,
            notes={"method": "AlphaPose FastPose (Fang et al. 2022), upstream's top-down inference: boxes x 1.25 "
                             "at 256x192, heatmap arg-max with quarter-pixel refinement"
                             + (", flip test" if estimator.flip else ""),
                   "checkpoint": f"{self.checkpoint.path} (sha256 {self.sha256}; {self.checkpoint.licence})",
                   "config": self.config.name,
                   **notes,
                   "device": f"{estimator.device.type} ({'float16' if estimator.half else 'float32'})"},
        )
