"""The BlazePose GHUM full landmark model on a rotated ROI: 39 landmarks (the 33 body points plus
alignment points 33 and 34 that track the ROI) in the image and in metric world coordinates.

Decoding follows MediaPipe's pose_landmark graph: coordinates / 256, sigmoid visibility and
presence, heatmap refinement (7x7 window of the sigmoid heatmap, for landmarks whose window peaks
at 0.5 or more), projection through the ROI, z scaled like x, world landmarks rotated by the
ROI's rotation. The pose flag output is already a probability (the model ends in a sigmoid).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from services.pose2d.blazepose.interpreter import TfliteModel
from services.pose2d.blazepose.roi import Roi

log = logging.getLogger(__name__)

CROP_SIZE = 256
NUM_LANDMARKS = 39
BODY_LANDMARKS = 33
REFINE_KERNEL = 7
REFINE_MIN_CONFIDENCE = 0.5
POSE_PRESENT = 0.5
LANDMARKS, POSE_FLAG, HEATMAP, WORLD = "Identity", "Identity_1", "Identity_3", "Identity_4"


@dataclass(frozen=True)
class FramePose:
    image_landmarks: np.ndarray  # (39, 5) x px, y px, z (x's scale, relative to the hips), visibility, presence
    world_landmarks: np.ndarray  # (39, 3) metres, mid-hip origin, x right, y down, z away from the camera
    score: float                 # probability that a pose is present in the ROI
    roi: Roi                     # the ROI the landmarks were found in

    @property
    def hip_centre(self) -> np.ndarray:
        return self.image_landmarks[[23, 24], :2].mean(axis=0)

    def next_roi(self) -> Roi:
        """The ROI for the next frame, from alignment landmarks 33 (centre) and 34 (scale)."""
        return Roi.from_landmarks(self.image_landmarks)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -80, 80)))


class PoseLandmarker:
    def __init__(self, model_path: Path, num_threads: int = 2, min_pose_score: float = POSE_PRESENT) -> None:
        self.model = TfliteModel(model_path, num_threads)
        self.model.require(LANDMARKS, POSE_FLAG, HEATMAP, WORLD)
        if self.model.input_shape[1:3] != (CROP_SIZE, CROP_SIZE):
            raise ValueError(f"{model_path}: expected a {CROP_SIZE}x{CROP_SIZE} input, got {self.model.input_shape}")
        self.min_pose_score = min_pose_score
        self._crop = np.empty((CROP_SIZE, CROP_SIZE, 3), np.uint8)
        self._rgb = np.empty((CROP_SIZE, CROP_SIZE, 3), np.uint8)
        offsets = np.arange(REFINE_KERNEL) - REFINE_KERNEL // 2
        rows, cols = np.meshgrid(offsets, offsets, indexing="ij")
        self._window_rows, self._window_cols = rows.ravel(), cols.ravel()
        self._channels = np.arange(NUM_LANDMARKS)[:, None]

    def run(self, image_bgr: np.ndarray, roi: Roi) -> FramePose | None:
        """Landmarks in `roi` of a BGR uint8 image, or None when the model finds no pose there."""
        roi.crop(image_bgr, CROP_SIZE, dst=self._crop)
        cv2.cvtColor(self._crop, cv2.COLOR_BGR2RGB, dst=self._rgb)
        view = self.model.input_view()
        view[...] = self._rgb
        view *= 1 / 255
        del view
        raw, flag, heatmap, world = self.model.run(LANDMARKS, POSE_FLAG, HEATMAP, WORLD)
        score = float(flag.reshape(-1)[0])
        if not score > self.min_pose_score:
            return None
        landmarks = raw.reshape(NUM_LANDMARKS, 5).astype(np.float64)
        normalised = refine_from_heatmap(landmarks[:, :2] / CROP_SIZE, heatmap, self._window_rows,
                                         self._window_cols, self._channels)
        image = np.empty((NUM_LANDMARKS, 5), np.float32)
        image[:, :2] = roi.to_image(normalised)
        image[:, 2] = landmarks[:, 2] / CROP_SIZE * roi.size
        image[:, 3:] = sigmoid(landmarks[:, 3:5])
        cos, sin = np.cos(roi.rotation), np.sin(roi.rotation)
        world = world.reshape(NUM_LANDMARKS, 3)
        world_rotated = np.stack([cos * world[:, 0] - sin * world[:, 1], sin * world[:, 0] + cos * world[:, 1],
                                  world[:, 2]], axis=1).astype(np.float32)
        return FramePose(image, world_rotated, score, roi)


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, window_rows: np.ndarray,
                        window_cols: np.ndarray, channels: np.ndarray) -> np.ndarray:
    """(N, 2) crop-normalised points moved to the sigmoid-weighted mean position of the (H, W, N)
    heatmap in a window around each (cell index / size, as MediaPipe computes it), where the window's
    peak confidence is at least 0.5; points off the heatmap stay as they are."""
    height, width, _ = heatmap.shape
    centre_col = (points[:, 0] * width).astype(int)  # truncation toward zero, as MediaPipe's int cast
    centre_row = (points[:, 1] * height).astype(int)
    rows = centre_row[:, None] + window_rows[None]  # (N, k*k)
    cols = centre_col[:, None] + window_cols[None]
    inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
    confidence = sigmoid(heatmap[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1), channels]) * inside
    total = confidence.sum(axis=1)
    refine = (confidence.max(axis=1) >= REFINE_MIN_CONFIDENCE) & (total > 0)
    refine &= (centre_col >= 0) & (centre_col < width) & (centre_row >= 0) & (centre_row < height)
    refined = points.copy()
    safe = np.where(total > 0, total, 1)
    refined[refine, 0] = ((cols * confidence).sum(axis=1) / safe / width)[refine]
    refined[refine, 1] = ((rows * confidence).sum(axis=1) / safe / height)[refine]
    return refined
