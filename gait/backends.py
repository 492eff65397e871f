"""The backend rule both model stages share: the official PyTorch backend (AlphaPose, MotionBERT)
when one of its checkpoints is placed in GAIT_MODELS_DIR, else the embedded default; a backend
is chosen by name from a stage's registry, and a PyTorch backend is imported only when chosen."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, TypeVar

from gait.config import models_dir
from gait.errors import InvalidInput, ModelMissing

T = TypeVar("T")


def official_if_placed(official: str, checkpoints: Iterable[Any], embedded: str) -> str:
    """`official` when one of its `checkpoints` (each with a `path` under the models folder) is
    there, else `embedded`; paths only, no PyTorch needed to look."""
    root = models_dir()
    return official if any((root / checkpoint.path).is_file() for checkpoint in checkpoints) else embedded


def from_registry(registry: Mapping[str, Callable[[], T]], name: str, default: Callable[[], str], stage: str) -> T:
    """What the registry makes for `name` (empty: `default()`); an unknown name is INVALID_ARGUMENT."""
    try:
        factory = registry[name or default()]
    except KeyError:
        raise InvalidInput(f"unknown {stage} backend {name!r}; available: {', '.join(sorted(registry))}") from None
    return factory()


def needing_torch(load: Callable[[], T], backend: str) -> T:
    """`load()` (which imports a PyTorch backend); without PyTorch a FAILED_PRECONDITION that says
    how to install it."""
    try:
        return load()
    except ImportError as exc:
        raise ModelMissing(f"the {backend} backend needs PyTorch (pip install 'gait[official]'): {exc}") from None
