"""The BlazePose GHUM full landmark model on a rotated ROI: 39 landmarks (33 body points plus
alignment points 33 and 34 used to track the ROI) in the image and in metric world coordinates.

Decoding follows MediaPipe's pose_landmark graph: coordinates / 256, sigmoid visibility and
presence, heatmap refinement (7x7 window of the sigmoid heatmap, landmarks whose window peaks at
0.5 or more), projection through the ROI, and world landmarks rotated by the ROI's rotation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from services.pose2d.blazepose.interpreter import TfliteModel
from services.pose2d.blazepose.roi import Roi

CROP_SIZE = 256
NUM_LANDMARKS = 39
BODY_LANDMARKS = 33
REFINE_KERNEL = 7
REFINE_MIN_CONFIDENCE = 0.5
POSE_PRESENT = 0.5


@dataclass(frozen=True)
class FramePose:
    image_landmarks: np.ndarray  # (39, 5) x px, y px, z (x's scale, relative to the hips), visibility, presence
    world_landmarks: np.ndarray  # (39, 3) metres, mid-hip origin, x right, y down, z away from the camera
    score: float                 # probability that a pose is present in the ROI
    roi: Roi

    def next_roi(self) -> Roi:
        """The ROI for the next frame, from alignment landmarks 33 (centre) and 34 (scale)."""
        return Roi.from_alignment_points(self.image_landmarks[33, :2], self.image_landmarks[34, :2])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


class PoseLandmarker:
    def __init__(self, model_path: Path, num_threads: int) -> None:
        self.model = TfliteModel(model_path, num_threads)
        offsets = np.arange(REFINE_KERNEL) - REFINE_KERNEL // 2
        self._window_rows, self._window_cols = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))

    def run(self, image_bgr: np.ndarray, roi: Roi) -> FramePose | None:
        """Landmarks in `roi`, or None when the model says no pose is there."""
        crop = cv2.cvtColor(roi.crop(image_bgr, CROP_SIZE), cv2.COLOR_BGR2RGB).astype(np.float32) * (1 / 255)
        raw, flag, heatmap, world = self.model(crop, "Identity", "Identity_1", "Identity_3", "Identity_4")
        score = float(flag[0])  # the model outputs a probability already (checked: 0.9995 on a person, 0 on grass)
        if score < POSE_PRESENT:
            return None
        landmarks = raw.reshape(NUM_LANDMARKS, 5).astype(np.float64)
        normalised = landmarks[:, :2] / CROP_SIZE
        normalised = self._refine(normalised, heatmap)
        image = np.empty((NUM_LANDMARKS, 5), np.float32)
        image[:, :2] = roi.to_image(normalised)
        image[:, 2] = landmarks[:, 2] / CROP_SIZE * roi.size
        image[:, 3:] = _sigmoid(landmarks[:, 3:5])
        cos, sin = np.cos(roi.rotation), np.sin(roi.rotation)
        world = world.reshape(NUM_LANDMARKS, 3)
        world_rotated = np.stack([cos * world[:, 0] - sin * world[:, 1], sin * world[:, 0] + cos * world[:, 1],
                                  world[:, 2]], axis=1).astype(np.float32)
        return FramePose(image, world_rotated, score, roi)

    def _refine(self, points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
        """Weighted mean of the sigmoid heatmap in a 7x7 window around each landmark."""
        height, width, joints = heatmap.shape
        centre_col = (points[:, 0] * width).astype(int)
        centre_row = (points[:, 1] * height).astype(int)
        rows = centre_row[:, None] + self._window_rows[None]  # (joints, 49)
        cols = centre_col[:, None] + self._window_cols[None]
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        confidence = _sigmoid(heatmap[np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1),
                                      np.arange(joints)[:, None]]) * inside
        total = confidence.sum(axis=1)
        refine = (confidence.max(axis=1) >= REFINE_MIN_CONFIDENCE) & (total > 0)
        refine &= (centre_col >= 0) & (centre_col < width) & (centre_row >= 0) & (centre_row < height)
        refined = points.copy()
        safe = np.where(total > 0, total, 1)
        refined[refine, 0] = ((cols * confidence).sum(axis=1) / safe / width)[refine]
        refined[refine, 1] = ((rows * confidence).sum(axis=1) / safe / height)[refine]
        return refined
