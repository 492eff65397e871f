"""AlphaPose FastPose: person crops per second per configuration and batch size.

For each released configuration (halpe26: Halpe-26, coco17: COCO-17; both ResNet-50 at 256x192)
with random weights (the speed does not depend on their values), times forward passes over
batches of person crops and prints network crops/s; then the top-down inference as the pose2d
backend runs it (crop with the affine warp, normalise, flip test so two crops per person,
decode) on boxes in a 1920x1080 frame, in persons/s.

    python benchmarks/pose2d_models.py                          # CPU, 2 threads, batches 1 8 32
    python benchmarks/pose2d_models.py --device cuda --batch-sizes 32 64 128 256   # half precision on a GPU
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from services.pose2d.alphapose.configs import CONFIGS
from services.pose2d.alphapose.inference import TopDownEstimator

LAYOUTS = {"halpe26": "halpe_26/resnet/256x192_res50_lr1e-3_1x", "coco17": "coco/resnet/256x192_res50_lr1e-3_1x"}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def network_crops_per_s(model: torch.nn.Module, batch: int, device: torch.device, dtype: torch.dtype,
                        repeats: int) -> float:
    x = torch.rand(batch, 3, 256, 192, device=device, dtype=dtype)
    with torch.inference_mode():
        model(x)                                                   # warm-up (kernels, allocator)
        _sync(device)
        started = time.perf_counter()
        for _ in range(repeats):
            model(x)
        _sync(device)
    return repeats * batch / (time.perf_counter() - started)


def pipeline_persons_per_s(model: torch.nn.Module, config_name: str, device: torch.device, half: bool,
                           batch: int, persons: int) -> float:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    corner = rng.uniform([0, 0], [1700, 600], (persons, 2))
    boxes = np.concatenate([corner, corner + rng.uniform([80, 250], [200, 450], (persons, 2))], 1).astype(np.float32)
    estimator = TopDownEstimator(model, CONFIGS[config_name], device=device, half=half, flip=True, batch_size=batch)
    estimator.estimate([frame], np.zeros(min(batch, persons), int), boxes[:batch])     # warm-up
    _sync(device)
    started = time.perf_counter()
    estimator.estimate([frame], np.zeros(persons, int), boxes)
    _sync(device)
    return persons / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help="crops per forward pass")
    parser.add_argument("--repeats", type=int, default=None, help="timed passes per batch size")
    parser.add_argument("--layouts", nargs="+", default=["halpe26"], choices=list(LAYOUTS))
    parser.add_argument("--float32", action="store_true", help="no half precision on CUDA")
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    torch.set_num_threads(args.threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    half = device.type == "cuda" and not args.float32
    dtype = torch.float16 if half else torch.float32
    batch_sizes = args.batch_sizes or ([32, 64, 128, 256] if device.type == "cuda" else [1, 8, 32])
    repeats = args.repeats or (20 if device.type == "cuda" else 1)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"{platform.processor() or platform.machine()}, {args.threads} threads"
    print(f"FastPose on {where}, {dtype}, 256x192 crops, torch {torch.__version__}")
    for layout in args.layouts:
        config = CONFIGS[LAYOUTS[layout]]
        torch.manual_seed(0)
        model = config.build().to(device, dtype).eval()
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        for batch in batch_sizes:
            rate = network_crops_per_s(model, batch, device, dtype, repeats)
            print(f"  {layout} (ResNet-50, {params:.1f} M parameters) batch {batch:4d}: {rate:9.1f} crops/s")
        batch = max(batch_sizes)
        persons = 4 * batch if device.type == "cuda" else batch
        rate = pipeline_persons_per_s(model, config.name, device, half, batch, persons)
        print(f"  {layout} top-down inference (crop, flip test, decode; {batch} persons per pass): "
              f"{rate:9.1f} persons/s")


if __name__ == "__main__":
    main()
