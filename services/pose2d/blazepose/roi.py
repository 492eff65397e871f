"""Rotated square regions of interest, as MediaPipe's pose graphs compute them, and their crops."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_SCALE = 1.25  # the rect transformation both the detector and the tracker apply


@dataclass(frozen=True)
class Roi:
    """A square in image pixels: centre, side length and clockwise rotation (radians, y down)."""

    cx: float
    cy: float
    size: float
    rotation: float

    @classmethod
    def from_alignment_points(cls, centre: np.ndarray, scale_point: np.ndarray) -> Roi:
        """Centre on `centre`, side 2 x |scale_point - centre| x 1.25, rotated so that the line
        centre -> scale_point points up in the crop (the body's hip -> head axis)."""
        dx, dy = float(scale_point[0] - centre[0]), float(scale_point[1] - centre[1])
        rotation = math.pi / 2 - math.atan2(-dy, dx)
        rotation = (rotation + math.pi) % (2 * math.pi) - math.pi
        return cls(float(centre[0]), float(centre[1]), 2.0 * math.hypot(dx, dy) * ROI_SCALE, rotation)

    def crop_to_image(self, crop_size: int) -> np.ndarray:
        """2x3 affine matrix from crop pixels to image pixels."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        k = self.size / crop_size
        linear = np.array([[cos, -sin], [sin, cos]]) * k
        offset = np.array([self.cx, self.cy]) - linear @ np.array([crop_size / 2, crop_size / 2])
        return np.hstack([linear, offset[:, None]])

    def crop(self, image: np.ndarray, crop_size: int) -> np.ndarray:
        """The ROI resampled to crop_size x crop_size (zero outside the image)."""
        return cv2.warpAffine(image, self.crop_to_image(crop_size), (crop_size, crop_size),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N, 2) points normalised to the crop ([0, 1]) -> image pixels."""
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        x, y = points[:, 0] - 0.5, points[:, 1] - 0.5
        return np.stack([self.cx + (cos * x - sin * y) * self.size, self.cy + (sin * x + cos * y) * self.size], axis=1)

    def box(self) -> np.ndarray:
        """Axis-aligned x, y, w, h of the rotated square."""
        corners = self.to_image(np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64))
        low, high = corners.min(axis=0), corners.max(axis=0)
        return np.array([low[0], low[1], high[0] - low[0], high[1] - low[1]], dtype=np.float32)
