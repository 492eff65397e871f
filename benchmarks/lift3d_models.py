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

import numpy as np
import torch
from torch_timing import Device, benchmark_parser, device_from, random_model, seconds_per_call

from services.lift3d.motionbert.configs import CONFIGS
from services.lift3d.motionbert.inference import CLIP_LEN, ClipLifter, infer_wild

LAYOUTS = {"lite": "MB_ft_h36m_global_lite", "full": "MB_ft_h36m"}


def network_fps(model: torch.nn.Module, batch: int, bench: Device) -> float:
    """Clip frames per second through the network for batches of `batch` 243-frame clips."""
    x = torch.rand(batch, CLIP_LEN, 17, 3, device=bench.device, dtype=bench.dtype)
    return batch * CLIP_LEN / seconds_per_call(lambda: model(x), bench.device, bench.repeats)


def pipeline_fps(model: torch.nn.Module, config_name: str, bench: Device, clips_per_batch: int) -> float:
    """Output frames per second of the backend's inference (flip on) over 4 clips of Halpe-26 input."""
    frames = 4 * CLIP_LEN
    rng = np.random.default_rng(0)
    keypoints = np.concatenate([rng.uniform(0, 720, (frames, 26, 2)), rng.uniform(0, 1, (frames, 26, 1))], -1)
    lifter = ClipLifter(model, CONFIGS[config_name], device=bench.device, half=bench.half, clips_per_batch=clips_per_batch)
    return frames / seconds_per_call(lambda: infer_wild(lifter, keypoints, (1280.0, 720.0)), bench.device)


def main() -> None:
    args = benchmark_parser(__doc__, "clips per forward pass", list(LAYOUTS), list(LAYOUTS)).parse_args()
    bench = device_from(args, cpu_batches=[1, 2, 4], cuda_batches=[8, 32, 64, 128], cuda_repeats=10)
    print(f"DSTformer on {bench.where}, {bench.dtype}, clips of {CLIP_LEN} frames, torch {torch.__version__}")
    for layout in args.layouts:
        config = CONFIGS[LAYOUTS[layout]]
        model, params = random_model(config, bench)
        for batch in bench.batch_sizes:
            fps = network_fps(model, batch, bench)
            print(f"  {layout:4s} ({config.name}, {params:.1f} M parameters) batch {batch:4d} clips: "
                  f"{fps:10.0f} network frames/s")
        fps = pipeline_fps(model, config.name, bench, max(bench.batch_sizes))
        print(f"  {layout:4s} in-the-wild inference (flip, {max(bench.batch_sizes)} clips per pass): {fps:10.0f} output frames/s")


if __name__ == "__main__":
    main()
