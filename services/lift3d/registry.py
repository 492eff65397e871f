"""The 3D lifting backends by name, and which one runs by default: MotionBERT when one of its
official checkpoints is in GAIT_MODELS_DIR, else BlazePose's world landmarks."""
from __future__ import annotations

from typing import Callable

from gait.config import models_dir
from gait.errors import InvalidInput, ModelMissing
from services.lift3d.blazepose_world import BlazePoseWorldBackend
from services.lift3d.protocol import Lift3DBackend


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
