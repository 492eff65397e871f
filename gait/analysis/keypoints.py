"""The pipeline's keypoint arrays (2D pose in pixels, pelvis-relative 3D lifting) as inputs of
the gait analysis: foot trajectories, Trajectories, the camera's viewpoint and the side view's
image-plane angles."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from gait.analysis.analyze import GaitAnalysis, cycle_kinematics
from gait.analysis.crosscheck import is_side_view
from gait.analysis.filtering import ButterworthLowPass, finite_runs
from gait.analysis.kinematics import angle_source_evidence
from gait.analysis.planar import trajectories_2d
from gait.analysis.trajectories import Trajectories
from gait.errors import InvalidInput
from gait.joints import FOOT_JOINTS_2D, FOOT_JOINTS_3D, FOOT_POINTS, H36M_17, HALPE_26

MIN_KEYPOINT_SCORE = 0.3  # 2D points below this confidence count as missing
CAMERA_UP = np.array([0.0, -1.0, 0.0])  # the 3D keypoints' y axis points down


def foot_trajectories_2d(keypoints2d: np.ndarray) -> np.ndarray:
    """(frames, 26 or 17, 3) Halpe-26 or COCO-17 x, y, score -> (frames, 6, 2) pixels, NaN where
    unsure or absent (COCO-17 has no heels and toes)."""
    points = np.full((len(keypoints2d), len(FOOT_JOINTS_2D), 2), np.nan)
    for column, name in enumerate(FOOT_JOINTS_2D):
        index = HALPE_26.index(name)
        if index < keypoints2d.shape[1]:
            sure = keypoints2d[:, index, 2] >= MIN_KEYPOINT_SCORE
            points[sure, column] = keypoints2d[sure, index, :2]
    return points


def foot_trajectories_3d(h36m: np.ndarray, feet: np.ndarray) -> np.ndarray:
    """Ankles from the H36M array, heels and toes from the feet array -> (frames, 6, 3) metres."""
    ankles = h36m[:, [H36M_17.index("left_ankle"), H36M_17.index("right_ankle")]]
    order = [FOOT_POINTS.index(n) for n in ("left_heel", "right_heel", "left_toe", "right_toe")]
    return np.concatenate([ankles, feet[:, order]], axis=1).astype(np.float64)


BODY_JOINTS_3D = ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "thorax")


SIDEWAYS_DEG = 45.0  # a trunk further than this from upright in most frames: the video is not upright


def trunk_tilt_deg(keypoints2d: np.ndarray, min_score: float = MIN_KEYPOINT_SCORE) -> float | None:
    """Median angle (deg) between the mid-hip-to-mid-shoulder line and the image's up direction,
    over the frames where hips and shoulders are confident; None without such frames. A walker
    filmed upright reads under about 20 deg; a video rotated the wrong way about 90."""
    index = {name: HALPE_26.index(name) for name in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")}
    points = keypoints2d[:, list(index.values())]
    sure = (points[..., 2] >= min_score).all(axis=1)
    if not sure.any():
        return None
    shoulders, hips = points[sure, :2, :2].mean(axis=1), points[sure, 2:, :2].mean(axis=1)
    trunk = shoulders - hips
    angle = np.degrees(np.arctan2(np.abs(trunk[:, 0]), -trunk[:, 1]))  # image y points down
    return float(np.median(angle))


def orientation_warning(keypoints2d: np.ndarray) -> str | None:
    """The sentence for a walker lying sideways (or upside down) in the rotated video, or None."""
    tilt = trunk_tilt_deg(keypoints2d)
    if tilt is None or tilt <= SIDEWAYS_DEG:
        return None
    return (f"implausible orientation: the walker's trunk is {tilt:.0f} deg from upright in the rotated video, so the "
            "rotation is probably wrong (give it with `gait run --rotation`) and no result of this run is a finding")


def camera_view_warnings(forward: np.ndarray | None) -> list[str]:
    """What the camera's viewpoint does to the numbers (z is the camera's line of sight)."""
    if forward is None:
        return []
    if is_side_view(forward):
        return ["side view: step width lies along the camera's line of sight, where a single camera "
                "judges depth poorly; read it as approximate",
                "side view: the leg farther from the camera is often hidden behind the other; its angles "
                "and toe offs (so its stance, swing and double support) are less reliable"]
    return ["walking towards or away from the camera: step lengths lie along the line of sight, where a "
            "single camera judges depth poorly; read them as approximate"]


def image_plane_angles(gait: GaitAnalysis, keypoints2d: np.ndarray, lowpass: ButterworthLowPass,
                       fps: float) -> tuple[GaitAnalysis, pd.DataFrame]:
    """Side view: the sagittal angles from the 2D keypoints (the image is the sagittal plane; the
    monocular 3D adds its depth errors to a plane the camera sees directly), over the 3D analysis's
    bouts and events. Returns the analysis with those angles (and their calibration's notes) and
    the evidence table comparing them with the 3D ones (`angle_source_evidence`)."""
    planar = trajectories_2d(keypoints2d, fps, "2D keypoints")
    filtered = {name: lowpass.filter(p, fps) for name, p in planar.positions.items()}
    bouts = gait.bouts.assign(forward_x=np.sign(gait.bouts.forward_x), forward_y=0.0, forward_z=0.0)
    angles, kinematics, cycles, notes = cycle_kinematics(filtered, bouts, planar.up, gait.events, fps)
    evidence = angle_source_evidence(kinematics, gait.kinematics)
    return replace(gait, angles=angles, kinematics=kinematics, cycles=cycles, angle_notes=notes), evidence


def keypoint_trajectories(h36m: np.ndarray, feet3d: np.ndarray, fps: float,
                          confidence3d: np.ndarray | None = None) -> Trajectories:
    """The pipeline's pelvis-relative 3D keypoints (Human3.6M joints plus feet) as Trajectories,
    with each joint's confidence when `confidence3d` (frames, 17) is given."""
    if not np.isfinite(h36m).any():
        raise InvalidInput("no pose in any frame of the video: nobody to analyze (is the walker in view?)")
    feet = foot_trajectories_3d(h36m, feet3d)
    # a backend without feet (MotionBERT on COCO-17) writes NaN heels and toes: the ankles stand in
    positions = {name: feet[:, i] for i, name in enumerate(FOOT_JOINTS_3D) if np.isfinite(feet[:, i]).any()}
    positions.update({name: h36m[:, H36M_17.index(name)].astype(np.float64) for name in BODY_JOINTS_3D})
    confidence = {} if confidence3d is None else {name: confidence3d[:, index].astype(np.float64)
                                                  for index, name in enumerate(H36M_17)}
    return Trajectories(positions, fps, CAMERA_UP, "3D keypoints (pelvis-relative)", root_relative=True,
                        confidence=confidence)


def high_frequency_power_ratio(raw: np.ndarray, filtered: np.ndarray, fps: float, above_hz: float) -> float:
    """Power above `above_hz` in the filtered signal relative to the raw one, over the longest run
    of frames where both are finite (linear trend removed and a Hann window applied, so walking
    across the image does not leak into high frequencies)."""
    from scipy.signal import detrend

    finite = np.isfinite(raw).all(axis=(1, 2)) & np.isfinite(filtered).all(axis=(1, 2))
    runs = finite_runs(np.where(finite, 0.0, np.nan))
    if not runs or max(stop - start for start, stop in runs) < 16:
        return float("nan")
    start, stop = max(runs, key=lambda run: run[1] - run[0])
    freqs = np.fft.rfftfreq(stop - start, d=1 / fps)
    window = np.hanning(stop - start)[:, None, None]

    def power(x: np.ndarray) -> float:
        spectrum = np.fft.rfft(detrend(x[start:stop], axis=0) * window, axis=0)
        return float((np.abs(spectrum) ** 2)[freqs > above_hz].sum())

    raw_power = power(raw)
    return power(filtered) / raw_power if raw_power > 0 else float("nan")
