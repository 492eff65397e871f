"""Joint layouts (BlazePose-33, Halpe-26, COCO-17, Human3.6M-17) and the maps between them.

Project joint names follow DESIGN.md: pelvis, thorax, neck, head, nose, left_/right_ + shoulder,
elbow, wrist, hip, knee, ankle, heel, toe.
"""
from __future__ import annotations

import numpy as np

BLAZEPOSE_33 = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)

# AlphaPose's Halpe-26 order (halpe_26 in AlphaPose's configs).
HALPE_26 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle", "head", "neck", "pelvis",
    "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe", "left_heel", "right_heel",
)

COCO_17 = HALPE_26[:17]

# Human3.6M 17-joint order as MotionBERT writes it.
H36M_17 = (
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "nose", "head", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
)

# Foot points kept beside the H36M-17 array, under the project's names.
FOOT_POINTS = ("left_heel", "right_heel", "left_toe", "right_toe")
# the foot trajectories the analysis filters and writes: 2D in Halpe-26 names, 3D in the lifted names
FOOT_JOINTS_2D = ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_big_toe", "right_big_toe")
FOOT_JOINTS_3D = ("left_ankle", "right_ankle", "left_heel", "right_heel", "left_toe", "right_toe")

# Skeleton edges in Halpe-26 indices, for drawing.
HALPE_26_EDGES = (
    (17, 18), (18, 19), (18, 5), (18, 6), (5, 7), (7, 9), (6, 8), (8, 10), (19, 11), (19, 12),
    (11, 13), (13, 15), (12, 14), (14, 16), (15, 24), (15, 20), (20, 22), (16, 25), (16, 21),
    (21, 23), (0, 1), (0, 2), (1, 3), (2, 4), (0, 18),
)

_B = {name: i for i, name in enumerate(BLAZEPOSE_33)}
_H = {name: i for i, name in enumerate(HALPE_26)}

# Halpe joints that BlazePose has under the same meaning.
_HALPE_FROM_BLAZEPOSE_DIRECT = {
    "nose": "nose", "left_eye": "left_eye", "right_eye": "right_eye", "left_ear": "left_ear",
    "right_ear": "right_ear", "left_shoulder": "left_shoulder", "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow", "right_elbow": "right_elbow", "left_wrist": "left_wrist",
    "right_wrist": "right_wrist", "left_hip": "left_hip", "right_hip": "right_hip",
    "left_knee": "left_knee", "right_knee": "right_knee", "left_ankle": "left_ankle",
    "right_ankle": "right_ankle", "left_heel": "left_heel", "right_heel": "right_heel",
    # BlazePose's foot index is the tip of the foot, between the big and second toes; it stands
    # in for both toe points (the small-toe point is therefore an approximation, documented).
    "left_big_toe": "left_foot_index", "right_big_toe": "right_foot_index",
    "left_small_toe": "left_foot_index", "right_small_toe": "right_foot_index",
}

# Halpe joints BlazePose lacks, and that are derived, with a reduced confidence.
DERIVED_HALPE_JOINTS = ("head", "neck", "pelvis", "left_small_toe", "right_small_toe")
DERIVED_CONFIDENCE_FACTOR = 0.8


def blazepose_to_halpe26(points: np.ndarray) -> np.ndarray:
    """Map (..., 33, C) BlazePose coordinates (C = 2 or 3) to (..., 26, C) Halpe-26.

    Confidences map with blazepose_confidence_to_halpe26. neck = mid-shoulders, pelvis = mid-hips, head (top of head) = ear midpoint moved away from the
    mouth by the ear-to-mouth distance (the head is about that much taller above the ears).
    """
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-2] != len(BLAZEPOSE_33):
        raise ValueError(f"expected 33 BlazePose joints, got shape {points.shape}")
    out = np.full(points.shape[:-2] + (len(HALPE_26), points.shape[-1]), np.nan, dtype=np.float32)
    for halpe, blaze in _HALPE_FROM_BLAZEPOSE_DIRECT.items():
        out[..., _H[halpe], :] = points[..., _B[blaze], :]

    def mid(a: str, b: str) -> np.ndarray:
        return 0.5 * (points[..., _B[a], :] + points[..., _B[b], :])

    out[..., _H["neck"], :] = mid("left_shoulder", "right_shoulder")
    out[..., _H["pelvis"], :] = mid("left_hip", "right_hip")
    ears, mouth = mid("left_ear", "right_ear"), mid("mouth_left", "mouth_right")
    out[..., _H["head"], :] = ears + (ears - mouth)
    return out


def blazepose_confidence_to_halpe26(confidence: np.ndarray) -> np.ndarray:
    """Map (..., 33) BlazePose confidences to (..., 26): derived joints take the weakest source x 0.8."""
    confidence = np.asarray(confidence, dtype=np.float32)
    out = np.empty(confidence.shape[:-1] + (len(HALPE_26),), dtype=np.float32)
    for halpe, blaze in _HALPE_FROM_BLAZEPOSE_DIRECT.items():
        out[..., _H[halpe]] = confidence[..., _B[blaze]]
    sources = {
        "neck": ("left_shoulder", "right_shoulder"),
        "pelvis": ("left_hip", "right_hip"),
        "head": ("left_ear", "right_ear", "mouth_left", "mouth_right"),
    }
    for halpe, names in sources.items():
        out[..., _H[halpe]] = np.min(confidence[..., [_B[n] for n in names]], axis=-1)
    for halpe in DERIVED_HALPE_JOINTS:
        out[..., _H[halpe]] *= DERIVED_CONFIDENCE_FACTOR
    return out


def halpe26_to_h36m17(points: np.ndarray) -> np.ndarray:
    """Map (..., 26, C) Halpe-26 to (..., 17, C) Human3.6M order, as MotionBERT does for in-the-wild
    input: spine = midpoint of pelvis and neck, thorax = neck, H36M 'nose' (neck/nose) = nose."""
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-2] != len(HALPE_26):
        raise ValueError(f"expected 26 Halpe joints, got shape {points.shape}")
    source = {
        "pelvis": "pelvis", "right_hip": "right_hip", "right_knee": "right_knee", "right_ankle": "right_ankle",
        "left_hip": "left_hip", "left_knee": "left_knee", "left_ankle": "left_ankle", "thorax": "neck",
        "nose": "nose", "head": "head", "left_shoulder": "left_shoulder", "left_elbow": "left_elbow",
        "left_wrist": "left_wrist", "right_shoulder": "right_shoulder", "right_elbow": "right_elbow",
        "right_wrist": "right_wrist",
    }
    out = np.empty(points.shape[:-2] + (len(H36M_17), points.shape[-1]), dtype=np.float32)
    for i, name in enumerate(H36M_17):
        if name == "spine":
            out[..., i, :] = 0.5 * (points[..., _H["pelvis"], :] + points[..., _H["neck"], :])
        else:
            out[..., i, :] = points[..., _H[source[name]], :]
    return out


def halpe26_foot_points(points: np.ndarray) -> np.ndarray:
    """(..., 26, C) Halpe-26 to (..., 4, C) heels and toes in FOOT_POINTS order (toe = big toe)."""
    return np.asarray(points)[..., [_H["left_heel"], _H["right_heel"], _H["left_big_toe"], _H["right_big_toe"]], :]


# Human3.6M-17 joints that swap under a horizontal flip (flip_data's left and right lists).
_H36M_LEFT = [H36M_17.index(n) for n in ("left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist")]
_H36M_RIGHT = [H36M_17.index(n) for n in ("right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
                                         "right_wrist")]
H36M_FLIP_PERMUTATION = np.arange(len(H36M_17))
H36M_FLIP_PERMUTATION[_H36M_LEFT + _H36M_RIGHT] = _H36M_RIGHT + _H36M_LEFT


def coco17_to_h36m17(points: np.ndarray) -> np.ndarray:
    """(..., 17, C) COCO-17 -> (..., 17, C) Human3.6M-17 as upstream's coco2h36m: pelvis = mid-hips,
    thorax = mid-shoulders, spine = their midpoint, head = mid-eyes (every channel averaged)."""
    x = np.asarray(points, dtype=np.float32)
    if x.shape[-2] != 17:
        raise ValueError(f"expected 17 COCO joints, got shape {x.shape}")
    pelvis = 0.5 * (x[..., 11, :] + x[..., 12, :])
    thorax = 0.5 * (x[..., 5, :] + x[..., 6, :])
    return np.stack([
        pelvis, x[..., 12, :], x[..., 14, :], x[..., 16, :], x[..., 11, :], x[..., 13, :], x[..., 15, :],
        0.5 * (pelvis + thorax), thorax, x[..., 0, :], 0.5 * (x[..., 1, :] + x[..., 2, :]),
        x[..., 5, :], x[..., 7, :], x[..., 9, :], x[..., 6, :], x[..., 8, :], x[..., 10, :],
    ], axis=-2)


def to_h36m17(keypoints: np.ndarray) -> np.ndarray:
    """(frames, 26 | 17, 3) Halpe-26 or COCO-17 x, y, confidence -> (frames, 17, 3) Human3.6M-17."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim != 3 or keypoints.shape[-1] != 3 or keypoints.shape[1] not in (26, 17):
        raise ValueError(f"2D keypoints must be (frames, 26 or 17, 3) x, y, confidence; got shape {keypoints.shape}")
    return halpe26_to_h36m17(keypoints) if keypoints.shape[1] == 26 else coco17_to_h36m17(keypoints)
