"""What the checkpoint tests of each model family (FastPose, DSTformer) check alike: our network
against the layout recorded from upstream's (tests/fixtures/<family>/checkpoint_layouts.json), and
the reasons the family's reader gives for files it cannot read."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import torch

from gait.checkpoints import CheckpointError, load_state_dict


def assert_loads_recorded_layout(model: torch.nn.Module, recorded: dict, output_weight: torch.nn.Parameter,
                                 label: str) -> None:
    """`model` has every key and shape of the recorded layout and its parameter count, and strictly
    loads a state dict of that layout, bare and with DataParallel's `module.` prefix (each load seen
    in `output_weight`, the last layer's weight, which the zeros replace)."""
    ours = {key: list(value.shape) for key, value in model.state_dict().items()}
    assert ours == recorded["keys"]
    assert sum(p.numel() for p in model.parameters()) == recorded["parameters"]
    zeros = {key: torch.zeros(shape, dtype=torch.long if key.endswith("num_batches_tracked") else torch.float32)
             for key, shape in recorded["keys"].items()}
    for prefix in ("", "module."):
        load_state_dict(model, {prefix + key: value for key, value in zeros.items()}, label)
        assert float(output_weight.detach().abs().sum()) == 0.0
        with torch.no_grad():
            output_weight.fill_(1.0)


def assert_unreadable_files_refused(read: Callable[[Path], object], folder: Path, suffix: str,
                                    without_state: dict, no_state: str) -> None:
    """`read` says why it refuses a file that does not exist, one that is no torch.save archive, and
    the archive `without_state` (the message matching `no_state`); the last is left at
    `folder/other<suffix>`."""
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read(folder / f"absent{suffix}")
    (folder / f"text{suffix}").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint"):
        read(folder / f"text{suffix}")
    torch.save(without_state, folder / f"other{suffix}")
    with pytest.raises(CheckpointError, match=no_state):
        read(folder / f"other{suffix}")
