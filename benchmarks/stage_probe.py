"""Run one stage once, in this process, and print its time and this process's peak memory as JSON.

Used by benchmarks/run.py, one process per stage, so each peak RSS is the stage's own.
Usage: python benchmarks/stage_probe.py STAGE INPUT_KEY [SECOND_INPUT_KEY]
"""
from __future__ import annotations

import json
import resource
import sys
import time

import grpc

from gait.launcher import LocalServices
from gait.v1 import stages_pb2, stages_pb2_grpc


def call(stage: str, channel: grpc.Channel, keys: list[str]):
    if stage == "rotate":
        return stages_pb2_grpc.RotateServiceStub(channel).Rotate(stages_pb2.RotateRequest(video_key=keys[0]))
    if stage == "pose2d":
        return stages_pb2_grpc.Pose2DServiceStub(channel).EstimatePose(stages_pb2.Pose2DRequest(video_bundle_key=keys[0]))
    if stage == "lift3d":
        return stages_pb2_grpc.Lift3DServiceStub(channel).Lift(stages_pb2.Lift3DRequest(pose2d_bundle_key=keys[0]))
    return stages_pb2_grpc.AnalysisServiceStub(channel).Analyze(
        stages_pb2.AnalysisRequest(pose2d_bundle_key=keys[0], lift3d_bundle_key=keys[1]))


def main(stage: str, keys: list[str]) -> None:
    with LocalServices((stage,)) as services, grpc.insecure_channel(services.addresses[stage]) as channel:
        started = time.perf_counter()
        response = call(stage, channel, keys)
        seconds = time.perf_counter() - started
    print(json.dumps({
        "stage": stage, "key": response.outcome.bundle_key, "cached": response.outcome.cached, "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
