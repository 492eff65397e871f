"""Named 3D trajectories, whatever they come from: the pipeline's keypoints or a lab's
motion-capture file. Names follow DESIGN.md (pelvis, left_heel, right_knee, ...)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gait.errors import InvalidInput

SIDES = ("left", "right")


def foot_point(positions: dict[str, np.ndarray], side: str) -> np.ndarray | None:
    """The side's ankle, or its heel where the markers have no ankle (a foot-only marker set)."""
    return positions.get(f"{side}_ankle", positions.get(f"{side}_heel"))


def sides_present(positions: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The sides with a foot (ankle or heel): both, or one for a one-legged marker set."""
    return tuple(side for side in SIDES if foot_point(positions, side) is not None)


@dataclass
class Trajectories:
    positions: dict[str, np.ndarray]  # name -> (frames, 3) metres, NaN where missing
    sampling_rate_hz: float
    up: np.ndarray                    # unit vector of the vertical axis in these coordinates
    source: str                       # what they come from, for the report
    notes: dict[str, str] = field(default_factory=dict)
    root_relative: bool = False       # True: relative to the pelvis (keypoints), no heights above the ground
    length_uncertainty: float = 0.0   # relative SD of the length scale (0: calibrated markers)
    planar: bool = False              # 2D mode: the image plane only, no depth (no step width)
    length_unit: str = "m"            # "m", or "leg" when lengths are relative to the leg (2D without scale)
    confidence: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (frames,) keypoint confidence 0-1
    near_side: str | None = None      # a side view's leg nearer the camera, where the keypoints' scores tell
    file_events: pd.DataFrame | None = None  # events the file carries (side, event, time_s) ...
    file_events_source: str = ""             # ... and where from: a C3D's EVENT group or its force plates
    file_events_partial: bool = False        # True: they cover only some steps (the feet that landed on a plate)

    def __post_init__(self) -> None:
        if not sides_present(self.positions):
            raise InvalidInput("the trajectories have no ankle or heel (need at least one foot)")
        if not 0 < self.sampling_rate_hz < 10_000:
            raise InvalidInput(f"implausible sampling rate {self.sampling_rate_hz:g} Hz")
        lengths = {len(p) for p in self.positions.values()}
        if len(lengths) != 1:
            raise InvalidInput("the trajectories do not all have the same number of frames")

    @property
    def frames(self) -> int:
        return len(next(iter(self.positions.values())))


def detect_up_axis(positions: dict[str, np.ndarray]) -> np.ndarray:
    """The coordinate axis (with sign) that points from the feet to the pelvis (or the knees):
    labs use y-up or z-up, cameras y-down; this finds which."""
    feet = [positions[n] for n in positions if n.endswith(("_ankle", "_heel", "_toe"))]
    upper = [positions[n] for n in ("pelvis", "left_hip", "right_hip", "left_knee", "right_knee") if n in positions]
    if not feet or not upper:
        raise InvalidInput("cannot tell which way is up: need feet and a pelvis, hip or knee trajectory")
    direction = np.nanmean(np.concatenate(upper), axis=0) - np.nanmean(np.concatenate(feet), axis=0)
    if not np.isfinite(direction).all():
        raise InvalidInput("cannot tell which way is up: the trajectories are empty")
    axis = int(np.argmax(np.abs(direction)))
    if direction[axis] == 0:
        raise InvalidInput("cannot tell which way is up: the feet are where the pelvis, hips or knees are")
    up = np.zeros(3)
    up[axis] = np.sign(direction[axis])
    return up
