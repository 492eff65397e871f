"""What the model benchmarks (pose2d_models.py, lift3d_models.py) share: the command line (device
options, the released configurations to time), half precision on CUDA, the networks with random
weights, and timing that waits for the GPU to finish."""
from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import torch


@dataclass(frozen=True)
class Device:
    device: torch.device
    half: bool
    batch_sizes: list[int]
    repeats: int
    where: str  # the GPU's name, or the CPU and its threads

    @property
    def dtype(self) -> torch.dtype:
        return torch.float16 if self.half else torch.float32


def add_device_arguments(parser: argparse.ArgumentParser, batch_help: str) -> None:
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help=batch_help)
    parser.add_argument("--repeats", type=int, default=None, help="timed passes per batch size")
    parser.add_argument("--float32", action="store_true", help="no half precision on CUDA")


def benchmark_parser(doc: str, batch_help: str, layouts: list[str], default_layouts: list[str]) -> argparse.ArgumentParser:
    """The benchmark's options: the device ones and --layouts, which of `layouts` to time."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    add_device_arguments(parser, batch_help)
    parser.add_argument("--layouts", nargs="+", default=default_layouts, choices=layouts)
    return parser


def device_from(args: argparse.Namespace, cpu_batches: list[int], cuda_batches: list[int], cuda_repeats: int) -> Device:
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    torch.set_num_threads(args.threads)
    cuda = device.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    where = torch.cuda.get_device_name(device) if cuda else \
        f"{platform.processor() or platform.machine()}, {args.threads} threads"
    return Device(device, cuda and not args.float32, args.batch_sizes or (cuda_batches if cuda else cpu_batches),
                  args.repeats or (cuda_repeats if cuda else 1), where)


class Buildable(Protocol):
    """A released configuration (MotionBERTConfig, FastPoseConfig): it builds its network."""

    def build(self) -> torch.nn.Module: ...


def random_model(config: Buildable, bench: Device) -> tuple[torch.nn.Module, float]:
    """`config.build()` with seeded random weights (the speed does not depend on their values), in
    eval mode on the bench's device and dtype, and its parameters in millions."""
    torch.manual_seed(0)
    model = config.build().to(bench.device, bench.dtype).eval()
    return model, sum(p.numel() for p in model.parameters()) / 1e6


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(call: Callable[[], object], device: torch.device, repeats: int = 1) -> float:
    """Wall seconds of one `call()` after a warm-up call (kernels, allocator), GPU work included."""
    with torch.inference_mode():
        call()
        sync(device)
        started = time.perf_counter()
        for _ in range(repeats):
            call()
        sync(device)
    return (time.perf_counter() - started) / repeats
