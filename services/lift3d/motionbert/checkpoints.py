"""Strict loading of MotionBERT checkpoints into our DSTformer (the rules: gait/checkpoints.py).

Upstream's `best_epoch.bin` is a dict whose `model_pos` entry is the network's state dict, saved
from nn.DataParallel (keys prefixed `module.`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gait.checkpoints import CheckpointError, build_and_load, load_state_dict, read_torch_file, tensor_state
from services.lift3d.motionbert.configs import CONFIGS, MotionBERTConfig
from services.lift3d.motionbert.dstformer import DSTformer

__all__ = ["CheckpointError", "load_checkpoint", "load_state_dict", "read_checkpoint"]

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
    content = read_torch_file(path, "MotionBERT checkpoint", _NUMPY_GLOBALS)
    state = content.get("model_pos", content) if isinstance(content, dict) else content
    return tensor_state(state, path, "'model_pos' state dict of tensors")


def load_checkpoint(path: Path, config: str | MotionBERTConfig) -> DSTformer:
    """Build the network of `config` (a CONFIGS name or a config) and load `path` into it strictly."""
    return build_and_load(path, config, CONFIGS, "MotionBERT", read_checkpoint)
