"""The BlazePose person detector: letterboxed 224x224 input, SSD decoding, weighted NMS.

Post-processing follows MediaPipe's pose_detection graph (TensorsToDetections with 12 coords:
box x, y, w, h then 4 keypoints; sigmoid scores clipped at 100; weighted non-maximum suppression
at IoU 0.3); keypoint 0 is the mid-hip centre and keypoint 1 sets the body's scale and rotation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from services.pose2d.blazepose.anchors import INPUT_SIZE, ssd_anchor_centres
from services.pose2d.blazepose.interpreter import TfliteModel

NMS_IOU = 0.3


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray        # x0, y0, x1, y1 image pixels
    keypoints: np.ndarray  # (4, 2) image pixels: 0 mid-hip, 1 scale point, 2 mid-shoulder, 3 upper body

    @property
    def hip(self) -> np.ndarray:
        return self.keypoints[0]

    def scaled(self, factor: float) -> Detection:
        return Detection(self.score, self.box * factor, self.keypoints * factor)

    @property
    def body_size(self) -> float:
        """2 x mid-hip to scale-point distance: about the person's height in pixels."""
        return float(2 * np.hypot(*(self.keypoints[1] - self.keypoints[0])))


class PoseDetector:
    def __init__(self, model_path: Path, num_threads: int, min_score: float = 0.5) -> None:
        self.model = TfliteModel(model_path, num_threads)
        self.anchors = ssd_anchor_centres()
        self.min_logit = float(np.log(min_score / (1 - min_score)))

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        tensor, scale, pad_x, pad_y = self._letterbox(image_bgr)
        raw_boxes, raw_scores = self.model(tensor, "Identity", "Identity_1")
        logits = np.clip(raw_scores[:, 0], -100, 100)
        keep = np.flatnonzero(logits > self.min_logit)
        if keep.size == 0:
            return []
        coords = raw_boxes[keep] / INPUT_SIZE
        centres = self.anchors[keep]
        box_centre = coords[:, 0:2] + centres
        half = coords[:, 2:4] / 2
        boxes = np.concatenate([box_centre - half, box_centre + half], axis=1)  # normalised letterbox coords
        keypoints = coords[:, 4:12].reshape(-1, 4, 2) + centres[:, None, :]
        scores = 1 / (1 + np.exp(-logits[keep]))
        detections = []
        for score, box, points in _weighted_nms(scores, boxes, keypoints):
            # letterbox -> image pixels
            box_px = (box.reshape(2, 2) * INPUT_SIZE - (pad_x, pad_y)) / scale
            points_px = (points * INPUT_SIZE - (pad_x, pad_y)) / scale
            detections.append(Detection(float(score), box_px.reshape(4).astype(np.float32), points_px.astype(np.float32)))
        return detections

    @staticmethod
    def _letterbox(image_bgr: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        """Fit the image into 224x224 keeping its aspect ratio, black padding centred; values in [-1, 1]."""
        height, width = image_bgr.shape[:2]
        scale = INPUT_SIZE / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        pad_x, pad_y = (INPUT_SIZE - new_w) / 2, (INPUT_SIZE - new_h) / 2
        canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
        top, left = int(pad_y), int(pad_x)
        canvas[top:top + new_h, left:left + new_w] = resized
        tensor = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) * (1 / 127.5) - 1
        return tensor, scale, float(left), float(top)


def _weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray):
    """MediaPipe's WEIGHTED suppression: each cluster (IoU > 0.3 with its best box) is averaged,
    weighted by score; the cluster keeps its best score."""
    order = np.argsort(-scores)
    scores, boxes, keypoints = scores[order], boxes[order], keypoints[order]
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        overlap = _iou(boxes[best], boxes[remaining])
        cluster = remaining[overlap > NMS_IOU]
        weights = scores[cluster][:, None]
        total = weights.sum()
        box = (boxes[cluster] * weights).sum(axis=0) / total
        points = (keypoints[cluster] * weights[:, :, None]).sum(axis=0) / total
        yield scores[best], box, points
        remaining = remaining[overlap <= NMS_IOU]


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return intersection / np.maximum(area + areas - intersection, 1e-12)
