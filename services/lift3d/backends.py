"""3D lifting backends. Each turns a pose2d bundle into Human3.6M-17 3D keypoints plus feet.

The embedded default uses the metric world landmarks BlazePose GHUM predicts with its 2D
keypoints; MotionBERT (services/lift3d/motionbert/) lifts the 2D keypoints alone and is the default
when one of its official checkpoints is in GAIT_MODELS_DIR.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from gait.artifacts import Bundle
from gait.config import models_dir
from gait.errors import InvalidInput, ModelMissing
from gait.joints import (
    BLAZEPOSE_33,
    blazepose_confidence_to_halpe26,
    blazepose_to_halpe26,
    halpe26_foot_points,
    halpe26_to_h36m17,
)

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

    def lift(self, pose2d: Bundle) -> Lifted3D: ...


class BlazePoseWorldBackend:
    """Metric 3D from BlazePose GHUM's world landmarks (Bazarevsky et al. 2020; Xu et al. 2022)."""

    name = "blazepose-world"
    version = "1"

    def lift(self, pose2d: Bundle) -> Lifted3D:
        if "blazepose_world.npy" not in pose2d.files:
            raise InvalidInput(
                f"the pose2d bundle {pose2d.key!r} has no BlazePose world landmarks (it was not made by BlazePose); "
                "lifting 2D keypoints needs MotionBERT: place its checkpoint in GAIT_MODELS_DIR (see `gait models`)"
            )
        world = pose2d.read_npy("blazepose_world.npy")
        if world.ndim != 3 or world.shape[1:] != (len(BLAZEPOSE_33), 4):
            raise InvalidInput(f"blazepose_world.npy has shape {world.shape}, expected (frames, 33, 4)")
        halpe = blazepose_to_halpe26(world[..., :3])
        confidence = halpe26_to_h36m17(blazepose_confidence_to_halpe26(world[..., 3])[..., None])[..., 0]
        return Lifted3D(
            h36m=halpe26_to_h36m17(halpe),
            feet=halpe26_foot_points(halpe),
            confidence=np.nan_to_num(confidence, nan=0.0),
            units="m",
            axes=CAMERA_AXES,
            notes={"method": "BlazePose GHUM world landmarks mapped to Human3.6M-17 through Halpe-26 (MotionBERT's joint map)"},
        )


def _motionbert_backend() -> Lift3DBackend:
    """MotionBERT (issue 5), imported on use: it needs PyTorch, which the default backends do not."""
    try:
        from services.lift3d.motionbert.backend import MotionBERTBackend
    except ImportError as exc:
        raise ModelMissing(f"the MotionBERT backend needs PyTorch (pip install 'gait[official]'): {exc}") from None
    return MotionBERTBackend()


BACKENDS: dict[str, Callable[[], Lift3DBackend]] = {
    BlazePoseWorldBackend.name: BlazePoseWorldBackend,
    "motionbert": _motionbert_backend,
}
DEFAULT_BACKEND = BlazePoseWorldBackend.name


def default_backend() -> str:
    """MotionBERT when one of its official checkpoints is in GAIT_MODELS_DIR, else the embedded default."""
    from services.lift3d.motionbert.configs import CHECKPOINTS  # paths only: no PyTorch needed to look

    root = models_dir()
    return "motionbert" if any((root / c.path).is_file() for c in CHECKPOINTS) else DEFAULT_BACKEND


def make_backend(name: str) -> Lift3DBackend:
    try:
        factory = BACKENDS[name or default_backend()]
    except KeyError:
        raise InvalidInput(f"unknown lift3d backend {name!r}; available: {', '.join(sorted(BACKENDS))}") from None
    return factory()
