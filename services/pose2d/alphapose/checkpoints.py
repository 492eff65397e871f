"""Strict loading of AlphaPose FastPose checkpoints into our network (the rules: gait/checkpoints.py).

Upstream's checkpoint files are bare state dicts (`model.state_dict()`, saved with torch.save);
some were saved from nn.DataParallel (keys prefixed `module.`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from gait.checkpoints import CheckpointError, build_and_load, load_state_dict, read_torch_file, tensor_state
from services.pose2d.alphapose.configs import CONFIGS, FastPoseConfig
from services.pose2d.alphapose.fastpose import FastPose

__all__ = ["CheckpointError", "load_checkpoint", "load_state_dict", "read_checkpoint"]


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of an upstream checkpoint file (a bare state dict, or one under 'state_dict'/'model')."""
    content = read_torch_file(path, "AlphaPose checkpoint")
    state = content
    if isinstance(content, dict):
        for wrapper in ("state_dict", "model"):
            if isinstance(content.get(wrapper), dict):
                state = content[wrapper]
    return tensor_state(state, path, "state dict of tensors")


def load_checkpoint(path: Path, config: str | FastPoseConfig) -> FastPose:
    """Build the network of `config` (a CONFIGS name or a config) and load `path` into it strictly."""
    return build_and_load(path, config, CONFIGS, "FastPose", read_checkpoint)
