"""Rotated square regions of interest as MediaPipe's pose graphs compute them, and their crops.

From a detection (keypoints 0 and 1) or from the previous frame's alignment landmarks (33 and
34) alike: centre on the first point, side 2 x the distance to the second, rotation that turns
the first -> second direction straight up, then scaled by 1.25 (square already, in pixels).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_SCALE = 1.25
TARGET_ANGLE = math.pi / 2  # the centre -> scale-point direction points up in the crop


@dataclass(frozen=True)
class Roi:
    """A square in image pixels: centre, side length and rotation (radians; positive turns the crop's
    axes clockwise on screen, y pointing down)."""

    cx: float
    cy: float
    size: float
    rotation: float

    @classmethod
    def from_alignment_points(cls, centre: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE) -> Roi:
        dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
        rotation = TARGET_ANGLE - math.atan2(-dy, dx)
        rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
        return cls(float(centre[0]), float(centre[1]), 2.0 * math.hypot(dx, dy) * scale, rotation)

    @classmethod
    def from_detection(cls, keypoints: np.ndarray) -> Roi:
        """From a detection's (4, 2) keypoints: mid-hip and the full-body scale point."""
        return cls.from_alignment_points(keypoints[0], keypoints[1])

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> Roi:
        """From the (39, >=2) image landmarks of a frame: alignment points 33 and 34."""
        return cls.from_alignment_points(landmarks[33, :2], landmarks[34, :2])

    @property
    def centre(self) -> np.ndarray:
        return np.array([self.cx, self.cy])

    def crop_to_image(self, crop_size: int) -> np.ndarray:
        """2x3 affine matrix: crop pixels -> image pixels."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / crop_size
        linear = np.array([[cos, -sin], [sin, cos]]) * k
        offset = self.centre - linear @ np.array([crop_size / 2, crop_size / 2])
        return np.hstack([linear, offset[:, None]])

    def image_to_crop(self, crop_size: int) -> np.ndarray:
        """2x3 affine matrix: image pixels -> crop pixels."""
        return cv2.invertAffineTransform(self.crop_to_image(crop_size))

    def crop(self, image: np.ndarray, crop_size: int, dst: np.ndarray | None = None) -> np.ndarray:
        """The ROI resampled to crop_size x crop_size; outside the image the edge pixels repeat
        (MediaPipe's default border for the landmark model)."""
        return cv2.warpAffine(image, self.crop_to_image(crop_size), (crop_size, crop_size), dst=dst,
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) points normalised to the crop ([0, 1]) -> image pixels."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
        return np.stack([self.cx + (cos * x - sin * y) * self.size, self.cy + (sin * x + cos * y) * self.size], axis=1)

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) image pixels -> points normalised to the crop; the inverse of `to_image`."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        x, y = (points[:, 0] - self.cx) / self.size, (points[:, 1] - self.cy) / self.size
        return np.stack([cos * x + sin * y + 0.5, -sin * x + cos * y + 0.5], axis=1)

    def box(self) -> np.ndarray:
        """x, y, w, h of the axis-aligned box around the rotated square."""
        corners = self.to_image(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64))
        low, high = corners.min(axis=0), corners.max(axis=0)
        return np.array([low[0], low[1], high[0] - low[0], high[1] - low[1]], dtype=np.float32)
