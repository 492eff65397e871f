"""The embedded default 3D lifting backend: the metric world landmarks BlazePose GHUM predicts with
its 2D keypoints."""
from __future__ import annotations

import numpy as np

from gait.artifacts import Bundle
from gait.contracts import BLAZEPOSE_WORLD
from gait.errors import InvalidInput
from gait.joints import (
    BLAZEPOSE_33,
    blazepose_confidence_to_halpe26,
    blazepose_to_halpe26,
    halpe26_foot_points,
    halpe26_to_h36m17,
)
from services.lift3d.protocol import CAMERA_AXES, Lifted3D


class BlazePoseWorldBackend:
    """Metric 3D from BlazePose GHUM's world landmarks (Bazarevsky et al. 2020; Xu et al. 2022)."""

    name = "blazepose-world"
    version = "1"
    models: tuple[dict[str, str], ...] = ()  # none of its own: the world landmarks come from pose2d's BlazePose

    def lift(self, pose2d: Bundle) -> Lifted3D:
        if BLAZEPOSE_WORLD not in pose2d.files:
            raise InvalidInput(
                f"the pose2d bundle {pose2d.key!r} has no BlazePose world landmarks (it was not made by BlazePose); "
                "lifting 2D keypoints needs MotionBERT: place its checkpoint in GAIT_MODELS_DIR (see `gait models`)"
            )
        world = pose2d.read_npy(BLAZEPOSE_WORLD)
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
