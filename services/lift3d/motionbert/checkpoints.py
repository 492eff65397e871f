"""Strict loading of MotionBERT checkpoints into our DSTformer.

Upstream's `best_epoch.bin` is a dict whose `model_pos` entry is the network's state dict, saved
from nn.DataParallel (keys prefixed `module.`). Every key and every shape must match the network;
nothing is dropped or renamed besides the `module.` prefix.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from services.lift3d.motionbert.configs import CONFIGS, MotionBERTConfig
from services.lift3d.motionbert.dstformer import DSTformer

MODULE_PREFIX = "module."


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into the configured network; the message says why."""


def strip_module_prefix(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Keys saved from nn.DataParallel start with `module.`; remove it when every key has it."""
    if state and all(key.startswith(MODULE_PREFIX) for key in state):
        return {key[len(MODULE_PREFIX):]: value for key, value in state.items()}
    return dict(state)


def check_state_dict(model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> None:
    """Raise CheckpointError listing missing keys, unexpected keys and shape mismatches, if any."""
    expected = {key: tuple(value.shape) for key, value in model.state_dict().items()}
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    wrong = [f"{key} {tuple(state[key].shape)} (expected {expected[key]})"
             for key in expected if key in state and tuple(state[key].shape) != expected[key]]
    problems = []
    for label, items in (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)):
        if items:
            shown = ", ".join(items[:5]) + (f", ... ({len(items)} in all)" if len(items) > 5 else "")
            problems.append(f"{label}: {shown}")
    if problems:
        raise CheckpointError(f"{source} does not fit the network: " + "; ".join(problems))


def load_state_dict(model: DSTformer, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> DSTformer:
    """Load a DSTformer state dict (with or without `module.`) strictly: every key, every shape."""
    state = strip_module_prefix(state)
    check_state_dict(model, state, source)
    model.load_state_dict(state, strict=True)
    return model


# Globals that upstream's checkpoints hold besides tensors (min_loss is a numpy float64), under
# numpy 1's and numpy 2's module names, allowed for torch.load(weights_only=True): no other
# pickled code is ever run.
_NUMPY_GLOBALS = [
    (np._core.multiarray.scalar, "numpy.core.multiarray.scalar"),
    np._core.multiarray.scalar,
    (np.dtype, "numpy.dtype"),
    np.dtypes.Float64DType,
    (np.dtypes.Float64DType, "numpy.dtype[float64]"),
]


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The `model_pos` state dict of an upstream checkpoint file (or a bare state dict)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"MotionBERT checkpoint {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (not a torch.save zip archive)")
    try:
        with torch.serialization.safe_globals(_NUMPY_GLOBALS):
            content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError or RuntimeError with the reason
        raise CheckpointError(f"{path} cannot be read as a checkpoint: {str(exc).splitlines()[0]}") from None
    state = content.get("model_pos", content) if isinstance(content, dict) else None
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        keys = ", ".join(map(str, list(content)[:6])) if isinstance(content, dict) else type(content).__name__
        raise CheckpointError(f"{path} holds no 'model_pos' state dict of tensors (found: {keys})")
    return state


def load_checkpoint(path: Path, config: str | MotionBERTConfig) -> DSTformer:
    """Build the network of `config` (a CONFIGS name or a config) and load `path` into it strictly."""
    if isinstance(config, str):
        try:
            config = CONFIGS[config]
        except KeyError:
            raise CheckpointError(f"unknown MotionBERT config {config!r}; known: {', '.join(CONFIGS)}") from None
    model = config.build()
    return load_state_dict(model, read_checkpoint(path), f"checkpoint {path} (config {config.name})").eval()
