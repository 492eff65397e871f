"""2D mode and length scaling.

2D mode: when only 2D keypoints exist (a side-view video, no 3D), the image is taken as the
sagittal plane: x across the image, vertical up the image, no depth. Sagittal angles and timing
come out as in 3D; lengths are in leg lengths unless the subject's height gives the scale, and
step width (depth) is not measured. Everything is labelled 2D.

Scale from height: the hip-to-ankle length is 0.491 of stature (hip 0.530 H, ankle 0.039 H;
Winter 2009, Biomechanics and Motor Control of Human Movement, fig. 4.1); individual proportions
vary by about 3 %, which is the scale uncertainty then carried into the length intervals.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from gait.analysis.trajectories import Trajectories
from gait.errors import InvalidInput
from gait.joints import COCO_17, HALPE_26

LEG_TO_STATURE = 0.491
PROPORTION_UNCERTAINTY = 0.03
MIN_SCORE = 0.3
JOINTS_2D = ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
             "left_heel", "right_heel", "left_big_toe", "right_big_toe", "neck")
RENAMED = {"left_big_toe": "left_toe", "right_big_toe": "right_toe", "neck": "thorax"}


LEG_POINTS_2D = ("knee", "ankle", "heel", "big_toe")


NEAR_SCORE_MARGIN = 0.05


def near_side(keypoints2d: np.ndarray) -> str | None:
    """The side nearer the camera in a side view: the one whose knee, ankle, heel and toe the 2D
    detector is surer of (the far leg is partly hidden behind the near one), by at least
    NEAR_SCORE_MARGIN in mean score; None when the scores do not tell (equal, COCO-17, absent)."""
    if keypoints2d.ndim != 3 or keypoints2d.shape[1] != len(HALPE_26):
        return None
    scores = {side: np.nanmean(keypoints2d[:, [HALPE_26.index(f"{side}_{p}") for p in LEG_POINTS_2D], 2])
              for side in ("left", "right")}
    if not all(np.isfinite(v) for v in scores.values()) or abs(scores["left"] - scores["right"]) < NEAR_SCORE_MARGIN:
        return None
    return max(scores, key=scores.get)


def leg_length(positions: dict[str, np.ndarray]) -> float:
    """Median over frames and sides of hip-knee plus knee-ankle, in the data's unit."""
    lengths = []
    for side in ("left", "right"):
        if all(f"{side}_{j}" in positions for j in ("hip", "knee", "ankle")):
            hip, knee, ankle = (positions[f"{side}_{j}"] for j in ("hip", "knee", "ankle"))
            lengths.append(np.linalg.norm(knee - hip, axis=1) + np.linalg.norm(ankle - knee, axis=1))
    values = np.concatenate(lengths) if lengths else np.empty(0)
    values = values[np.isfinite(values)]
    if values.size < 10:
        raise InvalidInput("too few frames with hip, knee and ankle to measure the leg length")
    return float(np.median(values))


def scale_to_height(trajectories: Trajectories, height_m: float) -> Trajectories:
    """Lengths rescaled so the leg is 0.491 x `height_m` long; notes the scale and its uncertainty."""
    if not 0.5 <= height_m <= 2.5:
        raise InvalidInput(f"implausible height {height_m:g} m (expected 0.5-2.5 m)")
    factor = LEG_TO_STATURE * height_m / leg_length(trajectories.positions)
    notes = {**trajectories.notes, "scale": f"lengths scaled by {factor:.4g} so the leg is {LEG_TO_STATURE} x the "
             f"given height {height_m:g} m (Winter 2009); about {100 * PROPORTION_UNCERTAINTY:.0f} % uncertain"}
    return replace(trajectories, positions={n: p * factor for n, p in trajectories.positions.items()}, notes=notes,
                   length_uncertainty=PROPORTION_UNCERTAINTY)


def trajectories_2d(keypoints: np.ndarray, rate_hz: float, source: str, height_m: float | None = None) -> Trajectories:
    """(frames, 26 or 17, 3) x, y, score in pixels (Halpe-26 or COCO-17) -> Trajectories in the
    image plane, in leg lengths (or metres when `height_m` is given); points scored below
    MIN_SCORE are missing."""
    keypoints = np.asarray(keypoints, dtype=float)
    if keypoints.ndim != 3 or keypoints.shape[2] != 3 or keypoints.shape[1] not in (len(HALPE_26), len(COCO_17)):
        raise InvalidInput(f"2D keypoints must be (frames, 26 or 17, 3) x, y, score; got shape {keypoints.shape}")
    layout = HALPE_26 if keypoints.shape[1] == len(HALPE_26) else COCO_17
    positions = {}
    for name in JOINTS_2D:
        if name not in layout:
            continue
        point = keypoints[:, layout.index(name)]
        xyz = np.stack([point[:, 0], -point[:, 1], np.zeros(len(point))], axis=1)  # image y points down
        xyz[point[:, 2] < MIN_SCORE] = np.nan
        if np.isfinite(xyz).any():
            positions[RENAMED.get(name, name)] = xyz
    for needed in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"):
        if needed not in positions:
            raise InvalidInput(f"the 2D keypoints have no confident {needed} (score >= {MIN_SCORE})")
    if "pelvis" not in positions:
        positions["pelvis"] = 0.5 * (positions["left_hip"] + positions["right_hip"])
    pixels_per_leg = leg_length(positions)
    if height_m is None:
        positions = {n: p / pixels_per_leg for n, p in positions.items()}
        unit = "leg lengths (no scale given: lengths are relative to the leg, hip to ankle)"
        uncertainty, length_unit = 0.0, "leg"
    else:
        factor = LEG_TO_STATURE * height_m / pixels_per_leg
        positions = {n: p * factor for n, p in positions.items()}
        unit = f"metres, scaled from the given height {height_m:g} m (Winter 2009 proportions)"
        uncertainty, length_unit = PROPORTION_UNCERTAINTY, "m"
    notes = {"mode": "2D: the image is the sagittal plane; no depth, no step width", "lengths": unit}
    return Trajectories(positions, rate_hz, np.array([0.0, 1.0, 0.0]), source, notes,
                        length_uncertainty=uncertainty, planar=True, length_unit=length_unit,
                        near_side=near_side(keypoints))
