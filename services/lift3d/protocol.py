"""What every 3D lifting backend is: it turns a pose2d bundle into Human3.6M-17 3D keypoints plus
feet. The embedded default uses BlazePose GHUM's world landmarks (services/lift3d/blazepose_world.py);
MotionBERT (services/lift3d/motionbert/) lifts the 2D keypoints alone; services/lift3d/registry.py
chooses between them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gait.artifacts import Bundle

CAMERA_AXES = {
    "x": "right in the image",
    "y": "down in the image",
    "z": "away from the camera (depth)",
    "origin": "mid-hip (pelvis) of each frame: root-relative, no global translation",
}


@dataclass
class Lifted3D:
    h36m: np.ndarray            # (frames, 17, 3) float32, NaN where no pose
    feet: np.ndarray            # (frames, 4, 3) float32, FOOT_POINTS order
    confidence: np.ndarray      # (frames, 17) float32 in [0, 1]
    units: str
    axes: dict[str, str]
    notes: dict[str, str] = field(default_factory=dict)


class Lift3DBackend(Protocol):
    name: str
    version: str
    models: tuple[dict[str, str], ...]  # the model files it loaded, name and sha256 (the audit trail)

    def lift(self, pose2d: Bundle) -> Lifted3D: ...
