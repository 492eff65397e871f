"""MotionBERT's DSTformer: frames per second per configuration and batch size.

For each released configuration (lite: MB_ft_h36m_global_lite, full: MB_ft_h36m) with random
weights (the speed does not depend on their values), times forward passes over batches of
243-frame clips and prints network frames/s (clip frames through the network per second); then
the in-the-wild inference as the lift3d backend runs it (flip augmentation, so two passes per
clip, plus the mapping and normalisation) over a 4-clip sequence, in output frames/s.

    python benchmarks/lift3d_models.py                          # CPU, 2 threads, batches 1 2 4
    python benchmarks/lift3d_models.py --device cuda --batch-sizes 8 32 64 128   # half precision on a GPU
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from services.lift3d.motionbert.configs import CONFIGS
from services.lift3d.motionbert.inference import CLIP_LEN, ClipLifter, infer_wild

LAYOUTS = {"lite": "MB_ft_h36m_global_lite", "full": "MB_ft_h36m"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def network_fps(model: torch.nn.Module, batch: int, device: torch.device, dtype: torch.dtype, repeats: int) -> float:
    """Clip frames per second through the network for batches of `batch` 243-frame clips."""
    x = torch.rand(batch, CLIP_LEN, 17, 3, device=device, dtype=dtype)
    with torch.inference_mode():
        model(x)                                                   # warm-up (kernels, allocator)
        _sync(device)
        started = time.perf_counter()
        for _ in range(repeats):
            model(x)
        _sync(device)
    return repeats * batch * CLIP_LEN / (time.perf_counter() - started)


def pipeline_fps(model: torch.nn.Module, config_name: str, device: torch.device, half: bool, clips_per_batch: int) -> float:
    """Output frames per second of the backend's inference (flip on) over 4 clips of Halpe-26 input."""
    frames = 4 * CLIP_LEN
    rng = np.random.default_rng(0)
    keypoints = np.concatenate([rng.uniform(0, 720, (frames, 26, 2)), rng.uniform(0, 1, (frames, 26, 1))], -1)
    lifter = ClipLifter(model, CONFIGS[config_name], device=device, half=half, clips_per_batch=clips_per_batch)
    infer_wild(lifter, keypoints[:CLIP_LEN], (1280.0, 720.0))     # warm-up
    _sync(device)
    started = time.perf_counter()
    infer_wild(lifter, keypoints, (1280.0, 720.0))
    _sync(device)
    return frames / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help="clips per forward pass")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes per batch size")
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--float32", action="store_true", help="no half precision on CUDA")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    torch.set_num_threads(args.threads)
    half = device.type == "cuda" and not args.float32
    dtype = torch.float16 if half else torch.float32
    batch_sizes = args.batch_sizes or ([8, 32, 64, 128] if device.type == "cuda" else [1, 2, 4])
    repeats = args.repeats or (10 if device.type == "cuda" else 1)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"{platform.processor() or platform.machine()}, {args.threads} threads"
    print(f"DSTformer on {where}, {dtype}, clips of {CLIP_LEN} frames, torch {torch.__version__}")
    for layout in args.layouts:
        config = CONFIGS[LAYOUTS[layout]]
        torch.manual_seed(0)
        model = config.build().to(device, dtype).eval()
        params = sum(p.numel() for p in model.parameters()) / 1e6
        for batch in batch_sizes:
            fps = network_fps(model, batch, device, dtype, repeats)
            print(f"  {layout:4s} ({config.name}, {params:.1f} M parameters) batch {batch:4d} clips: "
                  f"{fps:10.0f} network frames/s")
        fps = pipeline_fps(model, config.name, device, half, max(batch_sizes))
        print(f"  {layout:4s} in-the-wild inference (flip, {max(batch_sizes)} clips per pass): {fps:10.0f} output frames/s")


if __name__ == "__main__":
    main()
