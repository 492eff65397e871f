"""Strict loading of upstream PyTorch checkpoints (AlphaPose, MotionBERT) into our networks.

Every key and every shape must match the network, batch norm's running statistics included;
nothing is dropped or renamed besides the `module.` prefix of weights saved from
nn.DataParallel. Files are read with `weights_only=True`: tensors only, no pickled code runs.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from gait.artifacts import sha256_file
from gait.errors import ModelMissing

if TYPE_CHECKING:  # PyTorch is an optional extra: imported where a checkpoint is read
    import torch

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


def load_state_dict(model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint") -> torch.nn.Module:
    """Load a state dict (with or without `module.`) strictly: every key, every shape."""
    state = strip_module_prefix(state)
    check_state_dict(model, state, source)
    model.load_state_dict(state, strict=True)
    return model


def build_and_load(path: Path, config: Any, configs: Mapping[str, Any], family: str,
                   read: Callable[[Path], Mapping[str, torch.Tensor]]) -> torch.nn.Module:
    """The network of `config` (a name in `configs`, or a config with `.name` and `.build()`) with
    the state dict `read(path)` loaded strictly, in eval mode."""
    if isinstance(config, str):
        try:
            config = configs[config]
        except KeyError:
            raise CheckpointError(f"unknown {family} config {config!r}; known: {', '.join(configs)}") from None
    return load_state_dict(config.build(), read(path), f"checkpoint {path} (config {config.name})").eval()


def read_torch_file(path: Path, what: str, safe_globals: Iterable[Any] = ()) -> Any:
    """The content of a torch.save file, read with weights_only=True; `what` names it in errors.

    `safe_globals`: the non-tensor objects the file may hold besides tensors (e.g. numpy scalars).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a PyTorch checkpoint (not a torch.save zip archive)")
    import torch

    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError or RuntimeError with the reason
        raise CheckpointError(f"{path} cannot be read as a checkpoint: {str(exc).splitlines()[0]}") from None


def tensor_state(content: Any, path: Path, expected: str) -> dict[str, torch.Tensor]:
    """`content` if it is a non-empty dict of tensors, else CheckpointError naming what was found."""
    import torch

    if not isinstance(content, dict) or not content or not all(isinstance(v, torch.Tensor) for v in content.values()):
        keys = ", ".join(map(str, list(content)[:6])) if isinstance(content, dict) else type(content).__name__
        raise CheckpointError(f"{path} holds no {expected} (found: {keys})")
    return content


@dataclass(frozen=True)
class PlacedModel:
    """An official checkpoint found in the models folder and loaded strictly."""

    checkpoint: Any   # the configs' Checkpoint entry that was found (path, name, config)
    sha256: str
    model: torch.nn.Module

    @property
    def version(self) -> str:
        """The checkpoint's name and SHA-256 prefix: a new file is a new cache key."""
        return f"{self.checkpoint.name}-{self.sha256[:12]}"


def load_placed(root: Path, checkpoints: Sequence[Any], missing: str, load: Callable[[Path, Any], torch.nn.Module],
                sha256: Callable[[Path], str] = sha256_file) -> PlacedModel:
    """The first of `checkpoints` (in order of preference) present under `root`, loaded by
    `load(path, checkpoint)`. ModelMissing when none is there ("`missing` at <paths>") or when the
    file does not fit the network."""
    checkpoint = next((c for c in checkpoints if (root / c.path).is_file()), None)
    if checkpoint is None:
        raise ModelMissing(f"{missing} at {' or '.join(str(root / c.path) for c in checkpoints)}")
    path = root / checkpoint.path
    try:
        model = load(path, checkpoint)
    except CheckpointError as exc:
        raise ModelMissing(str(exc)) from None
    return PlacedModel(checkpoint, sha256(path), model)
