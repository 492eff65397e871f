"""The 3D lifting backends by name, and which one runs by default: MotionBERT when one of its
official checkpoints is in GAIT_MODELS_DIR, else BlazePose's world landmarks."""
from __future__ import annotations

from typing import Callable

from gait.backends import from_registry, needing_torch, official_if_placed
from services.lift3d.blazepose_world import BlazePoseWorldBackend
from services.lift3d.protocol import Lift3DBackend


def _motionbert_backend() -> Lift3DBackend:
    """MotionBERT, imported on use: it needs PyTorch, which the default backends do not."""
    def load() -> Lift3DBackend:
        from services.lift3d.motionbert.backend import MotionBERTBackend

        return MotionBERTBackend()

    return needing_torch(load, "MotionBERT")


MOTIONBERT = "motionbert"
BACKENDS: dict[str, Callable[[], Lift3DBackend]] = {
    BlazePoseWorldBackend.name: BlazePoseWorldBackend,
    MOTIONBERT: _motionbert_backend,
}
DEFAULT_BACKEND = BlazePoseWorldBackend.name


def default_backend() -> str:
    """MotionBERT when one of its official checkpoints is in GAIT_MODELS_DIR, else the embedded default."""
    from services.lift3d.motionbert.configs import CHECKPOINTS

    return official_if_placed(MOTIONBERT, CHECKPOINTS, DEFAULT_BACKEND)


def make_backend(name: str) -> Lift3DBackend:
    return from_registry(BACKENDS, name, default_backend, "lift3d")
