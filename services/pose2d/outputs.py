"""What pose2d writes besides arrays: AlphaPose-format results and the skeleton overlay."""
from __future__ import annotations

import cv2
import numpy as np

from gait.joints import HALPE_26, HALPE_26_EDGES

MIN_DRAW_SCORE = 0.3


def alphapose_results(keypoints: np.ndarray, scores: np.ndarray, boxes: np.ndarray, track_id: int) -> list[dict]:
    """AlphaPose's result format (video mode): one entry per frame where the subject was found.

    `image_id` is "<frame>.jpg" as AlphaPose writes it for videos; `idx` is the person's track id.
    """
    results = []
    for frame, (points, score, box) in enumerate(zip(keypoints, scores, boxes)):
        if not np.isfinite(points[:, :2]).all() or score <= 0:
            continue
        results.append({
            "image_id": f"{frame}.jpg",
            "category_id": 1,
            "keypoints": [round(float(v), 3) for v in points.reshape(-1)],
            "score": round(float(score), 4),
            "box": [round(float(v), 2) for v in box],
            "idx": int(track_id),
        })
    return results


def overlay_scale(width: int, max_width: int = 960) -> float:
    """The overlay is written at most `max_width` wide: enough to review, far cheaper to encode."""
    return min(1.0, max_width / width)


def draw_skeleton(frame: np.ndarray, keypoints: np.ndarray | None, scale: float) -> np.ndarray:
    """Resize `frame` by `scale` and draw the Halpe-26 skeleton (left red, right blue, centre green)."""
    canvas = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR) if scale != 1 else frame.copy()
    if keypoints is None:
        return canvas
    points = keypoints[:, :2] * scale
    visible = (keypoints[:, 2] >= MIN_DRAW_SCORE) & np.isfinite(points).all(axis=1)
    thickness = max(2, int(round(canvas.shape[1] / 400)))
    for a, b in HALPE_26_EDGES:
        if visible[a] and visible[b]:
            cv2.line(canvas, _pt(points[a]), _pt(points[b]), _colour(a, b), thickness, cv2.LINE_AA)
    for index in np.flatnonzero(visible):
        cv2.circle(canvas, _pt(points[index]), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)
    return canvas


def _pt(point: np.ndarray) -> tuple[int, int]:
    return int(round(point[0])), int(round(point[1]))


def _colour(a: int, b: int) -> tuple[int, int, int]:
    names = HALPE_26[a] + HALPE_26[b]
    if "left" in names and "right" not in names:
        return (40, 40, 214)
    if "right" in names and "left" not in names:
        return (180, 119, 31)
    return (44, 160, 44)
