"""The 2D pose backends by name, and which one runs by default: AlphaPose when one of its
official checkpoints is in GAIT_MODELS_DIR, else the embedded BlazePose."""
from __future__ import annotations

from typing import Callable

from gait.config import models_dir
from gait.errors import InvalidInput, ModelMissing
from services.pose2d.blazepose.backend import BlazePoseBackend


def _alphapose_backend() -> type:
    """AlphaPose (issue 5), imported on use: it needs PyTorch, which the default backend does not."""
    try:
        import torch  # noqa: F401

        from services.pose2d.alphapose.backend import AlphaPoseBackend
    except ImportError as exc:
        raise ModelMissing(f"the AlphaPose backend needs PyTorch (pip install 'gait[official]'): {exc}") from None
    return AlphaPoseBackend


ALPHAPOSE = "alphapose-fastpose"
BACKENDS: dict[str, Callable[[], type]] = {BlazePoseBackend.name: lambda: BlazePoseBackend, ALPHAPOSE: _alphapose_backend}
DEFAULT_BACKEND = BlazePoseBackend.name


def default_backend() -> str:
    """AlphaPose when one of its official checkpoints is in GAIT_MODELS_DIR, else the embedded default."""
    from services.pose2d.alphapose.configs import CHECKPOINTS  # paths only: no PyTorch needed to look

    root = models_dir()
    return ALPHAPOSE if any((root / c.path).is_file() for c in CHECKPOINTS) else DEFAULT_BACKEND


def backend_class(name: str) -> type:
    """The backend class of `name`; an empty name picks default_backend()."""
    try:
        factory = BACKENDS[name or default_backend()]
    except KeyError:
        raise InvalidInput(f"unknown pose2d backend {name!r}; available: {', '.join(sorted(BACKENDS))}") from None
    return factory()


def backend_version(cls: type) -> str:
    """The version that goes into cache keys: for AlphaPose the present checkpoint's name and SHA-256."""
    cache_version = getattr(cls, "cache_version", None)
    return cache_version() if cache_version is not None else cls.version
