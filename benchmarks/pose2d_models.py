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

import numpy as np
import torch
from torch_timing import Device, add_device_arguments, device_from, seconds_per_call

from services.pose2d.alphapose.configs import CONFIGS
from services.pose2d.alphapose.inference import TopDownEstimator

LAYOUTS = {"halpe26": "halpe_26/resnet/256x192_res50_lr1e-3_1x", "coco17": "coco/resnet/256x192_res50_lr1e-3_1x"}


def network_crops_per_s(model: torch.nn.Module, batch: int, bench: Device) -> float:
    x = torch.rand(batch, 3, 256, 192, device=bench.device, dtype=bench.dtype)
    return batch / seconds_per_call(lambda: model(x), bench.device, bench.repeats)


def pipeline_persons_per_s(model: torch.nn.Module, config_name: str, bench: Device, batch: int, persons: int) -> float:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    corner = rng.uniform([0, 0], [1700, 600], (persons, 2))
    boxes = np.concatenate([corner, corner + rng.uniform([80, 250], [200, 450], (persons, 2))], 1).astype(np.float32)
    estimator = TopDownEstimator(model, CONFIGS[config_name], device=bench.device, half=bench.half, flip=True,
                                 batch_size=batch)
    return persons / seconds_per_call(lambda: estimator.estimate([frame], np.zeros(persons, int), boxes), bench.device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_device_arguments(parser, "crops per forward pass")
    parser.add_argument("--layouts", nargs="+", default=["halpe26"], choices=list(LAYOUTS))
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    args = parser.parse_args()
    bench = device_from(args, cpu_batches=[1, 8, 32], cuda_batches=[32, 64, 128, 256], cuda_repeats=20)
    print(f"FastPose on {bench.where}, {bench.dtype}, 256x192 crops, torch {torch.__version__}")
    for layout in args.layouts:
        config = CONFIGS[LAYOUTS[layout]]
        torch.manual_seed(0)
        model = config.build().to(bench.device, bench.dtype).eval()
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        for batch in bench.batch_sizes:
            rate = network_crops_per_s(model, batch, bench)
            print(f"  {layout} (ResNet-50, {params:.1f} M parameters) batch {batch:4d}: {rate:9.1f} crops/s")
        batch = max(bench.batch_sizes)
        persons = 4 * batch if bench.device.type == "cuda" else batch
        rate = pipeline_persons_per_s(model, config.name, bench, batch, persons)
        print(f"  {layout} top-down inference (crop, flip test, decode; {batch} persons per pass): "
              f"{rate:9.1f} persons/s")


if __name__ == "__main__":
    main()
