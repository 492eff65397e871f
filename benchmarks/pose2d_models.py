"""AlphaPose FastPose: person crops per second per configuration and batch size.

For each released configuration (halpe26: Halpe-26, coco17: COCO-17; both ResNet-50 at 256x192)
with random weights (the speed does not depend on their values), times forward passes over
batches of person crops and prints network crops/s; then the top-down inference as the pose2d
backend runs it (crop with the affine warp, normalise, flip test so two crops per person,
decode) on boxes in a 1920x1080 frame, in persons/s. With --yolo, also AlphaPose's person
detector, YOLOv3-SPP at 608x608 (random weights), on 1920x1080 frames: letterbox, forward pass,
decoding, person filter and NMS, in frames/s per batch of frames.

    python benchmarks/pose2d_models.py                          # CPU, 2 threads, batches 1 8 32
    python benchmarks/pose2d_models.py --device cuda --batch-sizes 32 64 128 256   # half precision on a GPU
    python benchmarks/pose2d_models.py --yolo --yolo-batches 1 2                   # and the detector
"""
from __future__ import annotations

import numpy as np
import torch
from torch_timing import Device, benchmark_parser, device_from, random_model, seconds_per_call

from services.pose2d.alphapose.configs import CONFIGS
from services.pose2d.alphapose.detector import YOLODetector
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


def yolo_frames_per_s(bench: Device, batch: int, size: int = 608) -> float:
    from services.pose2d.alphapose.yolo import YOLOv3SPP

    torch.manual_seed(0)
    detector = YOLODetector(YOLOv3SPP(), input_size=size, device=bench.device, half=bench.half, batch_size=batch)
    frames = [np.random.default_rng(i).integers(0, 255, (1080, 1920, 3), dtype=np.uint8) for i in range(batch)]
    return batch / seconds_per_call(lambda: detector.detect(frames), bench.device)


def main() -> None:
    parser = benchmark_parser(__doc__, "crops per forward pass", list(LAYOUTS), ["halpe26"])
    parser.add_argument("--channels-last", action="store_true", help="channels-last memory format")
    parser.add_argument("--yolo", action="store_true", help="also time the YOLOv3-SPP person detector")
    parser.add_argument("--yolo-batches", type=int, nargs="+", help="frames per detector pass (default 1 2 on "
                                                                    "the CPU, 8 16 32 on CUDA)")
    args = parser.parse_args()
    bench = device_from(args, cpu_batches=[1, 8, 32], cuda_batches=[32, 64, 128, 256], cuda_repeats=20)
    print(f"FastPose on {bench.where}, {bench.dtype}, 256x192 crops, torch {torch.__version__}")
    for layout in args.layouts:
        config = CONFIGS[LAYOUTS[layout]]
        model, params = random_model(config, bench)
        if args.channels_last:
            model = model.to(memory_format=torch.channels_last)
        for batch in bench.batch_sizes:
            rate = network_crops_per_s(model, batch, bench)
            print(f"  {layout} (ResNet-50, {params:.1f} M parameters) batch {batch:4d}: {rate:9.1f} crops/s")
        batch = max(bench.batch_sizes)
        persons = 4 * batch if bench.device.type == "cuda" else batch
        rate = pipeline_persons_per_s(model, config.name, bench, batch, persons)
        print(f"  {layout} top-down inference (crop, flip test, decode; {batch} persons per pass): "
              f"{rate:9.1f} persons/s")
    if args.yolo:
        for batch in args.yolo_batches or ([8, 16, 32] if bench.device.type == "cuda" else [1, 2]):
            rate = yolo_frames_per_s(bench, batch)
            print(f"  YOLOv3-SPP 608x608 on 1920x1080 frames (letterbox, network, decode, NMS), batch {batch:3d}: "
                  f"{rate:7.2f} frames/s")


if __name__ == "__main__":
    main()
