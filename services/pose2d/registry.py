"""The 2D pose backends by name, and which one runs by default: AlphaPose when one of its
official checkpoints is in GAIT_MODELS_DIR, else the embedded BlazePose."""
from __future__ import annotations

from typing import Callable

from gait.backends import from_registry, needing_torch, official_if_placed
from services.pose2d.blazepose.backend import BlazePoseBackend


def _alphapose_backend() -> type:
    """AlphaPose, imported on use: it needs PyTorch, which the default backend does not."""
    def load() -> type:
        import torch  # noqa: F401

        from services.pose2d.alphapose.backend import AlphaPoseBackend

        return AlphaPoseBackend

    return needing_torch(load, "AlphaPose")


ALPHAPOSE = "alphapose-fastpose"
BACKENDS: dict[str, Callable[[], type]] = {BlazePoseBackend.name: lambda: BlazePoseBackend, ALPHAPOSE: _alphapose_backend}
DEFAULT_BACKEND = BlazePoseBackend.name


def default_backend() -> str:
    """AlphaPose when one of its official checkpoints is in GAIT_MODELS_DIR, else the embedded default."""
    from services.pose2d.alphapose.configs import CHECKPOINTS

    return official_if_placed(ALPHAPOSE, CHECKPOINTS, DEFAULT_BACKEND)


def backend_class(name: str) -> type:
    """The backend class of `name`; an empty name picks default_backend()."""
    return from_registry(BACKENDS, name, default_backend, "pose2d")


def backend_version(cls: type) -> str:
    """The version that goes into cache keys: for AlphaPose the present checkpoint's name and SHA-256."""
    cache_version = getattr(cls, "cache_version", None)
    return cache_version() if cache_version is not None else cls.version
