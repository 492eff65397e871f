"""De-identification of the videos the pipeline writes: where a head is, and blurring it.

Head boxes come from pose keypoints (COCO-17 and Halpe-26 share their first 13 joints: nose,
eyes, ears, shoulders, elbows, wrists, hips) or from a torso (mid-shoulder and mid-hip, e.g. a
person detector's keypoints); the services add a face detector's boxes for people no pose covers.
`DeidentifiedFrames` blurs a stream of frames under the boxes of each frame and, where a head was
found in the frames around it but not in it, under those frames' boxes too (temporal padding), so
a head the models lose for a moment stays blurred. docs/deidentification.md says what is blurred
where and what stays in the store.

Boxes are float arrays x0, y0, x1, y1 in image pixels, (4,) for one, (n, 4) for several.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Generic, TypeVar

import cv2
import numpy as np

NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR, LEFT_SHOULDER, RIGHT_SHOULDER = range(7)
LEFT_HIP, RIGHT_HIP = 11, 12
FACE = (NOSE, LEFT_EYE, RIGHT_EYE, LEFT_EAR, RIGHT_EAR)

MIN_SCORE = 0.2          # keypoints at least this confident place a head (low: a blurred cheek costs nothing)
HEAD_PER_TORSO = 0.75    # head box side / shoulder-to-hip length: the head (chin to crown, ~23 cm) is ~0.45
                         # of the torso (~50 cm); the rest is hair, a turned head and the keypoints' error
HEAD_PER_SHOULDERS = 1.0  # head box side / shoulder width (~39 cm biacromial, Winter 2009), when no hips
HEAD_PER_FACE_SPREAD = 2.5  # head box side / the face keypoints' extent, when no body keypoint gives a scale
PAD_S = 0.4              # a head found this long before or after a frame is blurred in it where it was
BLOCKS = 6               # a blurred head keeps at most this many colour blocks across: no face survives


def no_boxes() -> np.ndarray:
    return np.zeros((0, 4), np.float32)


def square(centre: np.ndarray, side: float) -> np.ndarray:
    half = side / 2
    return np.array([centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half], np.float32)


def head_box(keypoints: np.ndarray, min_score: float = MIN_SCORE) -> np.ndarray | None:
    """The head box of one person's COCO-17 or Halpe-26 keypoints `(joints, 3)` x, y, score.

    Centred on the visible face keypoints (nose, eyes, ears), sized from the torso (shoulders to
    hips) or else the shoulders' width or else the face keypoints' spread; without face keypoints,
    the box above the neck (the shoulders' midpoint) along the torso. None when neither the face nor
    both shoulders were found."""
    points = np.asarray(keypoints, np.float64)
    seen = np.isfinite(points[:, :2]).all(axis=1) & (np.nan_to_num(points[:, 2]) >= min_score)
    xy = points[:, :2]
    shoulders = seen[LEFT_SHOULDER] and seen[RIGHT_SHOULDER]
    hips = len(points) > RIGHT_HIP and seen[LEFT_HIP] and seen[RIGHT_HIP]
    neck = (xy[LEFT_SHOULDER] + xy[RIGHT_SHOULDER]) / 2 if shoulders else None
    pelvis = (xy[LEFT_HIP] + xy[RIGHT_HIP]) / 2 if hips else None
    side = 0.0
    if neck is not None and pelvis is not None:
        side = HEAD_PER_TORSO * float(np.hypot(*(neck - pelvis)))
    if neck is not None:
        side = max(side, HEAD_PER_SHOULDERS * float(np.hypot(*(xy[LEFT_SHOULDER] - xy[RIGHT_SHOULDER]))))
    face = [j for j in FACE if seen[j]]
    if face:
        centre = xy[face].mean(axis=0)
        spread = float(np.ptp(xy[face], axis=0).max()) if len(face) > 1 else 0.0
        side = max(side, HEAD_PER_FACE_SPREAD * spread)
        return square(centre, side) if side > 0 else None
    if neck is None or side <= 0:
        return None
    return head_above(neck, pelvis, side)


def head_above(neck: np.ndarray, pelvis: np.ndarray | None, side: float) -> np.ndarray:
    """The square of `side` standing on the neck, along the torso (pelvis to neck; upright without a pelvis)."""
    up = np.array([0.0, -1.0]) if pelvis is None else np.asarray(neck, np.float64) - pelvis
    length = float(np.hypot(*up))
    up = up / length if length > 0 else np.array([0.0, -1.0])
    return square(np.asarray(neck, np.float64) + up * side / 2, side)


def head_from_torso(neck: np.ndarray, pelvis: np.ndarray) -> np.ndarray:
    """The head box of a person of whom only the mid-shoulder and mid-hip points are known."""
    return head_above(neck, pelvis, HEAD_PER_TORSO * float(np.hypot(*(np.asarray(neck) - np.asarray(pelvis)))))


def enlarged(boxes: np.ndarray, factor: float) -> np.ndarray:
    """Boxes scaled by `factor` about their centres."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) / 2 * factor
    return np.concatenate([centre - half, centre + half], axis=1)


def overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    """Does `box` intersect any of `boxes`?"""
    if not len(boxes):
        return False
    return bool(((np.minimum(box[2], boxes[:, 2]) > np.maximum(box[0], boxes[:, 0]))
                 & (np.minimum(box[3], boxes[:, 3]) > np.maximum(box[1], boxes[:, 1]))).any())


def blur_boxes(frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Blur `frame` in place under each box (clipped to the frame): the region is shrunk to at most
    BLOCKS blocks across and smoothed back up, which leaves a skin-coloured blob and no face."""
    height, width = frame.shape[:2]
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        if not np.isfinite([x0, y0, x1, y1]).all():
            continue
        left, top = max(0, int(np.floor(x0))), max(0, int(np.floor(y0)))
        right, bottom = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
        if right - left < 2 or bottom - top < 2:
            continue
        region = frame[top:bottom, left:right]
        across = max(1, min(BLOCKS, (right - left) // 2, (bottom - top) // 2))
        small = cv2.resize(region, (across, across), interpolation=cv2.INTER_AREA)
        region[...] = cv2.resize(small, (right - left, bottom - top), interpolation=cv2.INTER_LINEAR)
    return frame


def padded_boxes(found: list[np.ndarray], index: int, pad: int) -> np.ndarray:
    """The boxes to blur in frame `index` of `found` (each frame's (n, 4) boxes): its own, plus every
    box of the frames within `pad` of it that meets none of its own (a head lost in this frame)."""
    own = found[index]
    extra = [box for other in range(max(0, index - pad), min(len(found), index + pad + 1)) if other != index
             for box in found[other] if not overlaps(box, own)]
    return np.concatenate([own, np.array(extra, np.float32).reshape(-1, 4)]) if extra else own


Payload = TypeVar("Payload")


class DeidentifiedFrames(Generic[Payload]):
    """Frames in, the same frames blurred out, `pad` frames later (the boxes of the frames after a
    frame are needed to pad it). Each frame goes to `sink(index, blurred frame, payload)` in order;
    `close()` releases the last ones. The frames handed in are blurred in place."""

    def __init__(self, pad: int, sink: Callable[[int, np.ndarray, Payload], None]) -> None:
        self.pad = pad
        self.sink = sink
        self._waiting: deque[tuple[int, np.ndarray, Payload]] = deque()
        self._found: dict[int, np.ndarray] = {}
        self.blurred_frames = 0
        self.boxes = 0

    @classmethod
    def for_rate(cls, fps: float, sink: Callable[[int, np.ndarray, Payload], None],
                 pad_s: float = PAD_S) -> DeidentifiedFrames[Payload]:
        return cls(max(1, int(round(pad_s * fps))), sink)

    def push(self, index: int, frame: np.ndarray, boxes: np.ndarray, payload: Payload) -> None:
        """Frame `index` (the next one) and the head boxes found in it."""
        self._waiting.append((index, frame, payload))
        self._found[index] = np.asarray(boxes, np.float32).reshape(-1, 4)
        while self._waiting and self._waiting[0][0] + self.pad <= index:
            self._release()

    def close(self) -> None:
        while self._waiting:
            self._release()

    def _release(self) -> None:
        index, frame, payload = self._waiting.popleft()
        first = min(self._found)
        window = [self._found.get(i, no_boxes()) for i in range(first, index + self.pad + 1)]
        boxes = padded_boxes(window, index - first, self.pad)
        for old in [i for i in self._found if i < index + 1 - self.pad]:
            del self._found[old]
        self.boxes += len(boxes)
        self.blurred_frames += bool(len(boxes))
        self.sink(index, blur_boxes(frame, boxes), payload)
