"""Run one stage once, in this process, and print its time, CPU time and peak memory as JSON.

Used by benchmarks/run.py and benchmarks/capacity.py, one process per stage, so each peak RSS is
the stage's own. CPU seconds are this process's and its children's (ffmpeg) user + system time
during the call: what the stage costs a cluster's cores, whatever the machine's load.
Usage: python benchmarks/stage_probe.py STAGE INPUT_KEY [SECOND_INPUT_KEY]
"""
from __future__ import annotations

import json
import resource
import sys
import time

import grpc

from gait.v1 import stages_pb2, stages_pb2_grpc
from gaitcli.launcher import LocalServices


def call(stage: str, channel: grpc.Channel, keys: list[str]):
    if stage == "rotate":
        return stages_pb2_grpc.RotateServiceStub(channel).Rotate(stages_pb2.RotateRequest(video_key=keys[0]))
    if stage == "pose2d":
        return stages_pb2_grpc.Pose2DServiceStub(channel).EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=keys[0]))
    if stage == "lift3d":
        return stages_pb2_grpc.Lift3DServiceStub(channel).Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=keys[0]))
    return stages_pb2_grpc.AnalysisServiceStub(channel).Analyze(
        stages_pb2.AnalysisRequest(lift3d_bundle_key=keys[1]))


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(stage: str, keys: list[str]) -> None:
    with LocalServices((stage,)) as services, grpc.insecure_channel(services.addresses[stage]) as channel:
        started, cpu_started = time.perf_counter(), cpu_seconds()
        response = call(stage, channel, keys)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    print(json.dumps({
        "stage": stage, "key": response.outcome.bundle_key, "cached": response.outcome.cached, "seconds": seconds,
        "cpu_seconds": cpu, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
