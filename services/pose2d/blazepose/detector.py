"""The BlazePose person detector: letterboxed 224x224 input, SSD decoding, weighted NMS.

Post-processing follows MediaPipe's pose_detection graph: 12 coords per anchor (box x, y, w, h,
then 4 keypoints x, y), offsets / 224 added to the anchor centre, sigmoid scores clipped at
+-100, weighted non-maximum suppression at IoU 0.3, letterbox removal. Keypoint 0 is the mid-hip
centre and keypoint 1 encodes the full body's size and rotation; 2 and 3 do the same for the
upper body.

`detect_tiled` adds two square tiles of wide (or tall) frames: letterboxing a 16:9 frame into
224x224 leaves a walker 3 m away about 50 px tall, where the detector misses people and its hip
keypoint wanders by ~70 px (full-resolution pixels, demo clip); on the tiles, people are 1.8 times
larger and the hip error is ~10 px.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from services.pose2d.blazepose.anchors import INPUT_SIZE, ssd_anchor_centres
from services.pose2d.blazepose.interpreter import TfliteModel

log = logging.getLogger(__name__)

NMS_IOU = 0.3
SCORE_CLIP = 100.0
TILE_MIN_ASPECT = 1.4     # frames at least this elongated are also searched in two square tiles
SAME_PERSON_HIP = 0.2     # detections whose hips are closer than this (body sizes) are one person
REGRESSORS, SCORES = "Identity", "Identity_1"


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray        # x0, y0, x1, y1 image pixels
    keypoints: np.ndarray  # (4, 2) image pixels: 0 mid-hip, 1 full-body scale point,
                           # 2 mid-shoulder, 3 upper-body scale point

    @property
    def hip(self) -> np.ndarray:
        return self.keypoints[0]

    @property
    def body_size(self) -> float:
        """2 x mid-hip to scale-point distance: the circle around the whole body, about 1.3 x
        the person's standing height."""
        return float(2 * np.hypot(*(self.keypoints[1] - self.keypoints[0])))

    def box_xywh(self) -> np.ndarray:
        return np.array([self.box[0], self.box[1], self.box[2] - self.box[0], self.box[3] - self.box[1]],
                        np.float32)

    def scaled(self, factor: float) -> Detection:
        """The same detection in an image `factor` times larger."""
        return Detection(self.score, self.box * factor, self.keypoints * factor)

    def shifted(self, dx: float, dy: float) -> Detection:
        offset = np.array([dx, dy], np.float32)
        return Detection(self.score, self.box + np.tile(offset, 2), self.keypoints + offset)


class PoseDetector:
    def __init__(self, model_path: Path, num_threads: int = 2, min_score: float = 0.5) -> None:
        self.model = TfliteModel(model_path, num_threads)
        self.model.require(REGRESSORS, SCORES)
        if self.model.input_shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"{model_path}: expected a {INPUT_SIZE}x{INPUT_SIZE} input, got {self.model.input_shape}")
        self.anchors = ssd_anchor_centres()
        self.min_logit = float(np.log(min_score / (1 - min_score)))

    def detect(self, image_bgr: np.ndarray) -> list[Detection]:
        """People in a BGR uint8 image as MediaPipe finds them, best first; image pixels."""
        scale_x, scale_y, left, top = self._letterbox(image_bgr)
        raw_boxes, raw_scores = self.model.run(REGRESSORS, SCORES)
        logits = np.clip(raw_scores[:, 0], -SCORE_CLIP, SCORE_CLIP)
        keep = np.flatnonzero(logits >= self.min_logit)
        if keep.size == 0:
            return []
        coords = raw_boxes[keep].astype(np.float64) / INPUT_SIZE
        centres = self.anchors[keep]
        box_centre = coords[:, 0:2] + centres
        half = coords[:, 2:4] / 2
        boxes = np.concatenate([box_centre - half, box_centre + half], axis=1)  # letterboxed, normalised
        keypoints = coords[:, 4:12].reshape(-1, 4, 2) + centres[:, None, :]
        scores = 1 / (1 + np.exp(-logits[keep]))
        offset = np.array([left, top])
        scale = np.array([scale_x, scale_y])
        detections = []
        for score, box, points in weighted_nms(scores, boxes, keypoints, NMS_IOU):
            box_px = (box.reshape(2, 2) * INPUT_SIZE - offset) / scale
            points_px = (points * INPUT_SIZE - offset) / scale
            detections.append(Detection(float(score), box_px.reshape(4).astype(np.float32),
                                        points_px.astype(np.float32)))
        return detections

    def detect_tiled(self, image_bgr: np.ndarray) -> list[Detection]:
        """`detect` on the whole frame plus, for frames at least 1.4 times longer than wide (or the
        reverse), on the two square tiles at either end of the long side. A tile's detection counts
        unless its box crosses the tile's inner edge (a person cut in two); where tile and whole-frame
        detections are the same person, the tile's, more precise, is kept."""
        whole = self.detect(image_bgr)
        height, width = image_bgr.shape[:2]
        short, long = min(height, width), max(height, width)
        if long < TILE_MIN_ASPECT * short:
            return whole
        horizontal = width >= height
        axis = 0 if horizontal else 1  # box / keypoint coordinate along the long side
        tiled = []
        for start in (0, long - short):
            tile = image_bgr[:, start:start + short] if horizontal else image_bgr[start:start + short]
            for found in self.detect(tile):
                low, high = found.box[axis], found.box[axis + 2]
                if (start == 0 and high >= short) or (start > 0 and low <= 0):
                    continue
                tiled.append(found.shifted(start, 0) if horizontal else found.shifted(0, start))
        merged: list[Detection] = []
        for candidate in sorted(tiled, key=lambda d: -d.score) + whole:
            if not any(same_person(candidate, kept) for kept in merged):
                merged.append(candidate)
        return sorted(merged, key=lambda d: -d.score)

    def _letterbox(self, image_bgr: np.ndarray) -> tuple[float, float, int, int]:
        """Write the image, fitted into 224x224 with its aspect ratio kept, centred on black, as RGB in
        [-1, 1] into the model's input. Returns the x and y scales and the left and top padding."""
        height, width = image_bgr.shape[:2]
        scale = INPUT_SIZE / max(height, width)
        new_w = min(INPUT_SIZE, max(1, round(width * scale)))
        new_h = min(INPUT_SIZE, max(1, round(height * scale)))
        resized = cv2.resize(image_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        left, top = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
        padded = cv2.copyMakeBorder(resized, top, INPUT_SIZE - new_h - top, left, INPUT_SIZE - new_w - left,
                                    cv2.BORDER_CONSTANT, value=(0, 0, 0))
        view = self.model.input_view()
        view[...] = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)
        view *= 1 / 127.5
        view -= 1.0
        del view
        return new_w / width, new_h / height, left, top


def same_person(a: Detection, b: Detection) -> bool:
    """Overlapping boxes (IoU > 0.3) or hips within 0.2 body sizes."""
    if box_iou(a.box, b.box[None])[0] > NMS_IOU:
        return True
    return float(np.hypot(*(a.hip - b.hip))) < SAME_PERSON_HIP * max(a.body_size, b.body_size)


def weighted_nms(scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, threshold: float):
    """MediaPipe's WEIGHTED suppression. Boxes are x0, y0, x1, y1. Going down the scores, each best
    remaining box takes every remaining box overlapping it by IoU > threshold into its cluster; the
    cluster yields the score-weighted mean box and keypoints with the best box's score."""
    order = np.argsort(-scores, kind="stable")
    scores, boxes, keypoints = scores[order], boxes[order], keypoints[order]
    remaining = np.arange(len(scores))
    while remaining.size:
        overlap = box_iou(boxes[remaining[0]], boxes[remaining])
        in_cluster = overlap > threshold
        in_cluster[0] = True  # a degenerate (zero-area) box still stands for itself
        cluster = remaining[in_cluster]
        weights = scores[cluster]
        total = weights.sum()
        box = (boxes[cluster] * weights[:, None]).sum(axis=0) / total
        points = (keypoints[cluster] * weights[:, None, None]).sum(axis=0) / total
        yield scores[remaining[0]], box, points
        remaining = remaining[~in_cluster]


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one x0, y0, x1, y1 box with each of (N, 4) boxes."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    intersection = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - intersection
    return np.where(union > 0, intersection / np.where(union > 0, union, 1), 0.0)
