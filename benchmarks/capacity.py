"""How many videos an hour a cluster handles: each stage's measured CPU cost, and the capacity model.

    python benchmarks/capacity.py [--video-s 20] [--nodes 1 2 4 8] [--cores-per-node 16]
        [--gpus-per-node 1] [--pose2d-crops-per-s 3000] [--lift3d-frames-per-s 20000]

1. Runs the four stages on the demo clip, each in its own process (benchmarks/stage_probe.py),
   and prints each stage's CPU seconds (process + ffmpeg children, user + system) per second of
   video: what the stage costs a cluster's cores, whatever else the machine is doing. The
   analysis is counted per video (its cost is mostly drawing the report, not the frames).
2. Models a cluster of N nodes of C cores and G GPUs, for a clinic's video of `--video-s`
   seconds at the demo's frame rate and size, in three set-ups of the chart:
   - embedded backends with `gpu.enabled=false`: all four stages share the cores;
   - official backends (AlphaPose FastPose, MotionBERT) with the chart's default of one whole
     GPU per pose2d and per lift3d pod: pose2d has N x G - 1 pods of `--pose2d-pod-cores`;
   - the same with each GPU shared by `--gpu-share` pods (NVIDIA time-slicing or MIG).
   GPU seconds per video are frames x 2 (flip test) / the GPU throughput given (the issue's
   targets by default: no GPU was lent to measure them). pose2d's CPU cost is kept whole with the
   official backend (person detection, decoding and the overlay stay on CPU), an upper bound.
   Cores are used at `--utilisation` (the HorizontalPodAutoscalers' CPU target). The smallest of
   the limits (all cores, pose2d's pods, the GPUs) is the throughput and names the bottleneck.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

from run import stage_figures

FLIP_TEST_PASSES = 2


PER_VIDEO_STAGES = ("analysis",)


@dataclass(frozen=True)
class StageCost:
    stage: str
    cpu_s: float  # per second of video, or per video for PER_VIDEO_STAGES

    def for_video(self, video_s: float) -> float:
        return self.cpu_s if self.stage in PER_VIDEO_STAGES else self.cpu_s * video_s


@dataclass(frozen=True)
class Cluster:
    nodes: int
    cores_per_node: int
    gpus_per_node: int
    utilisation: float
    pose2d_pod_cores: float
    pose2d_crops_per_s: float
    lift3d_frames_per_s: float


def hourly(units: float, seconds_per_video: float) -> float:
    return units * 3600 / seconds_per_video


def capacity(costs: list[StageCost], cluster: Cluster, video_s: float, fps: float,
             official: bool, gpu_share: int = 1) -> tuple[float, str]:
    """(videos per hour, bottleneck): the smallest of the limits the set-up has.

    embedded: every stage on the cluster's cores. official: lift3d on its own GPU pod, pose2d on
    the rest of the GPU pods (each GPU shared by `gpu_share` pods), the cores shared by the rest.
    """
    cpu_s = {cost.stage: cost.for_video(video_s) for cost in costs}
    cores = cluster.nodes * cluster.cores_per_node * cluster.utilisation
    if not official:
        return hourly(cores, sum(cpu_s.values())), "CPU cores"
    gpu_pods = cluster.nodes * cluster.gpus_per_node * gpu_share
    if gpu_pods < 2:
        return 0.0, "needs 2 GPU pods (pose2d and lift3d)"
    frames = video_s * fps
    pose2d_gpu_s = FLIP_TEST_PASSES * frames / cluster.pose2d_crops_per_s
    lift3d_gpu_s = FLIP_TEST_PASSES * frames / cluster.lift3d_frames_per_s
    pose2d_pods = gpu_pods - 1
    limits = {
        "CPU cores": hourly(cores, sum(s for stage, s in cpu_s.items() if stage != "lift3d")),
        "pose2d pods' CPU (one per GPU slot)": hourly(
            pose2d_pods * cluster.pose2d_pod_cores * cluster.utilisation, cpu_s["pose2d"]),
        "GPU": hourly(gpu_pods / gpu_share, pose2d_gpu_s + lift3d_gpu_s),
    }
    bottleneck = min(limits, key=limits.get)
    return limits[bottleneck], bottleneck


def measured_costs(clip: Path, frames: int, duration_s: float) -> list[StageCost]:
    home = tempfile.mkdtemp(prefix="gait-capacity-")
    env = {**os.environ, "GAIT_HOME": home}
    os.environ["GAIT_HOME"] = home
    return [StageCost(row["stage"], row["cpu_seconds"] / (1.0 if row["stage"] in PER_VIDEO_STAGES else duration_s))
            for row in stage_figures(clip, env, frames)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video-s", type=float, default=20.0, help="length of one clinic video (s)")
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--cores-per-node", type=int, default=16)
    parser.add_argument("--gpus-per-node", type=int, default=1)
    parser.add_argument("--utilisation", type=float, default=0.7)
    parser.add_argument("--pose2d-crops-per-s", type=float, default=3000.0)
    parser.add_argument("--lift3d-frames-per-s", type=float, default=20000.0)
    parser.add_argument("--pose2d-pod-cores", type=float, default=2.0, help="pose2d's CPU request in the chart")
    parser.add_argument("--gpu-share", type=int, default=4, help="pods per GPU with time-slicing or MIG")
    args = parser.parse_args()

    from gait.assets import demo_clip_path
    from gait.video import probe

    clip = demo_clip_path()
    info = probe(clip)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; clip {info.width}x{info.height}, "
          f"{info.fps:g} fps, {info.duration_s:.2f} s\n")
    costs = measured_costs(clip, info.frames, info.duration_s)
    print(f"{'stage':<10}{'CPU s':>8}  per")
    for cost in costs:
        print(f"{cost.stage:<10}{cost.cpu_s:>8.2f}  {'video' if cost.stage in PER_VIDEO_STAGES else 'second of video'}")
    total = sum(cost.for_video(args.video_s) for cost in costs)
    print(f"one {args.video_s:g} s video: {total:.1f} CPU s\n")

    print(f"videos/h for {args.video_s:g} s videos; nodes of {args.cores_per_node} cores and "
          f"{args.gpus_per_node} GPU(s), cores used at {args.utilisation:.0%}; GPU figures assumed: "
          f"{args.pose2d_crops_per_s:g} crops/s, {args.lift3d_frames_per_s:g} frames/s")
    setups = (("embedded, CPU only", False, 1), ("official, whole GPUs", True, 1),
              (f"official, {args.gpu_share} pods/GPU", True, args.gpu_share))
    for nodes in args.nodes:
        cluster = Cluster(nodes, args.cores_per_node, args.gpus_per_node, args.utilisation,
                          args.pose2d_pod_cores, args.pose2d_crops_per_s, args.lift3d_frames_per_s)
        cells = []
        for label, official, share in setups:
            rate, bottleneck = capacity(costs, cluster, args.video_s, info.fps, official, share)
            cells.append(f"{label}: {rate:6.0f} ({bottleneck})")
        print(f"{nodes:>3} node(s)  " + "; ".join(cells))


if __name__ == "__main__":
    main()
