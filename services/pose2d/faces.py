"""Faces that no pose covers: MediaPipe's BlazeFace full-range detector on tiles of the frame.

BlazeFace full range (Bazarevsky et al. 2019, arXiv:1907.05047; the model card's "full range",
faces up to 5 m) takes 192x192 RGB in [-1, 1] and predicts, per anchor of one 48x48 grid (stride 4,
one anchor per cell, fixed size), a box and six face keypoints; post-processing as MediaPipe's
face_detection_full_range graph: offsets / 192 added to the anchor centre, sigmoid scores,
weighted non-maximum suppression at IoU 0.3. The whole frame letterboxed into 192 px leaves a
walker's face 3 m away at 2-3 px, which it cannot see, so the frame is scaled to at most 960 px on
its long side and searched in overlapping 192 px tiles (15 for a 16:9 frame): on the demo clip
that finds both people's faces, ~30 px at full resolution, in 0.13 s a frame on two cores.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from gait.deidentify import no_boxes
from services.pose2d.blazepose.anchors import ssd_anchor_centres
from services.pose2d.blazepose.detector import weighted_nms
from services.pose2d.blazepose.interpreter import TfliteModel

INPUT_SIZE = 192
TILE_STEP = 160          # tiles overlap by 32 px: a face cut by one tile's edge is whole in the next
LONG_SIDE = 960          # frames are searched at most this large (faces ~15 px and up are found)
MIN_SCORE = 0.5
NMS_IOU = 0.3
REGRESSORS, SCORES = "Identity", "Identity_1"


class FaceDetector:
    """`detect(frame)`: face boxes (n, 4) x0, y0, x1, y1 in the frame's pixels."""

    def __init__(self, model_path: Path, num_threads: int = 2, min_score: float = MIN_SCORE) -> None:
        self.model = TfliteModel(model_path, num_threads)
        self.model.require(REGRESSORS, SCORES)
        if self.model.input_shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"{model_path}: expected a {INPUT_SIZE}x{INPUT_SIZE} input, got {self.model.input_shape}")
        self.anchors = ssd_anchor_centres(INPUT_SIZE, (4,), per_layer=1)
        self.min_logit = float(np.log(min_score / (1 - min_score)))

    def detect(self, frame_bgr: np.ndarray) -> np.ndarray:
        height, width = frame_bgr.shape[:2]
        scale = min(1.0, LONG_SIDE / max(height, width))
        image = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else frame_bgr
        image = cv2.copyMakeBorder(image, 0, max(0, INPUT_SIZE - image.shape[0]), 0, max(0, INPUT_SIZE - image.shape[1]),
                                   cv2.BORDER_CONSTANT, value=(0, 0, 0))
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        found = [self._detect_tile(rgb[y:y + INPUT_SIZE, x:x + INPUT_SIZE]) + [x, y, x, y]
                 for y in _starts(rgb.shape[0]) for x in _starts(rgb.shape[1])]
        boxes = np.concatenate(found) if found else no_boxes()
        return (boxes / scale).astype(np.float32)

    def _detect_tile(self, tile_rgb: np.ndarray) -> np.ndarray:
        """Faces in one 192x192 RGB tile, tile pixels."""
        view = self.model.input_view()
        view[...] = tile_rgb
        view *= 1 / 127.5
        view -= 1.0
        del view
        raw_boxes, raw_scores = self.model.run(REGRESSORS, SCORES)
        logits = np.clip(raw_scores[:, 0], -100.0, 100.0)
        keep = np.flatnonzero(logits >= self.min_logit)
        if keep.size == 0:
            return no_boxes()
        coords = raw_boxes[keep].astype(np.float64) / INPUT_SIZE
        centres = self.anchors[keep]
        half = coords[:, 2:4] / 2
        boxes = np.concatenate([coords[:, 0:2] + centres - half, coords[:, 0:2] + centres + half], axis=1)
        keypoints = coords[:, 4:16].reshape(-1, 6, 2) + centres[:, None, :]
        scores = 1 / (1 + np.exp(-logits[keep]))
        merged = [box for _, box, _ in weighted_nms(scores, boxes, keypoints, NMS_IOU)]
        return (np.array(merged) * INPUT_SIZE).astype(np.float32)


def _starts(length: int) -> list[int]:
    """Tile origins along a side of `length` (at least INPUT_SIZE): every TILE_STEP, the last flush with the end."""
    starts = list(range(0, length - INPUT_SIZE + 1, TILE_STEP))
    if starts[-1] + INPUT_SIZE < length:
        starts.append(length - INPUT_SIZE)
    return starts
