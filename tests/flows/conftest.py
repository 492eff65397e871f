"""Fixtures for the flow tests: a Prefect API for the session and scripted stage services.

`prefect_api` starts Prefect's temporary API server once per session (PREFECT_HOME is the
session's, see tests/conftest.py: ~8 s the first time, for the database migrations; ~3 s when
that home already has a database) and points every flow run of the session at it.
"""
from __future__ import annotations

import os
import threading
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import grpc
import pytest

from gait.v1 import stages_pb2, stages_pb2_grpc

# Prefect creates PREFECT_HOME (without parents) when it is imported: make it exist first.
if os.environ.get("PREFECT_HOME"):
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def prefect_api():
    from flows.runtime import TemporaryPrefectAPI, configure_prefect, drain_prefect_workers

    configure_prefect()
    with TemporaryPrefectAPI() as api:
        url = api.wait_ready()
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield url
            drain_prefect_workers()


# What a scripted RPC does on its n-th call (0-based): return a response, or abort with a status.
Script = Callable[[int, grpc.ServicerContext], object]


@dataclass
class ScriptedStage:
    """One stage's service on 127.0.0.1 whose answers a test scripts; counts its calls."""

    stage: str
    script: Script
    calls: int = 0
    requests: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request, context):
        with self.lock:
            n = self.calls
            self.calls += 1
            self.requests.append(request)
        return self.script(n, context)


def answer(stage: str, **fields) -> Script:
    """A script that always succeeds with outcome.bundle_key = `<stage>/<n>`."""
    responses = {
        "rotate": lambda o: stages_pb2.RotateResponse(outcome=o, frames=10, fps=30.0, **fields),
        "pose2d": lambda o: stages_pb2.Pose2DResponse(outcome=o, frames=10, detection_rate=1.0, **fields),
        "lift3d": lambda o: stages_pb2.Lift3DResponse(outcome=o, frames=10, valid_fraction=1.0, **fields),
        "analysis": lambda o: stages_pb2.AnalysisResponse(outcome=o, cutoff_hz=6.0, filter_order=4, **fields),
    }

    def script(n: int, context) -> object:
        outcome = stages_pb2.StageOutcome(bundle_key=f"{stage}/fake{n}", cached=False, seconds=0.01, backend="fake/1")
        return responses[stage](outcome)

    return script


def fail_first(times: int, code: grpc.StatusCode, then: Script, message: str = "try again") -> Script:
    def script(n: int, context) -> object:
        if n < times:
            context.abort(code, message)
        return then(n, context)

    return script


def _servicer(stage: ScriptedStage):
    handle = stage.handle
    if stage.stage == "rotate":
        return type("S", (stages_pb2_grpc.RotateServiceServicer,), {"Rotate": lambda self, r, c: handle(r, c)})()
    if stage.stage == "pose2d":
        return type("S", (stages_pb2_grpc.Pose2DServiceServicer,), {"EstimatePose": lambda self, r, c: handle(r, c)})()
    if stage.stage == "lift3d":
        return type("S", (stages_pb2_grpc.Lift3DServiceServicer,), {"Lift": lambda self, r, c: handle(r, c)})()
    return type("S", (stages_pb2_grpc.AnalysisServiceServicer,), {"Analyze": lambda self, r, c: handle(r, c)})()


_ADD = {
    "rotate": stages_pb2_grpc.add_RotateServiceServicer_to_server,
    "pose2d": stages_pb2_grpc.add_Pose2DServiceServicer_to_server,
    "lift3d": stages_pb2_grpc.add_Lift3DServiceServicer_to_server,
    "analysis": stages_pb2_grpc.add_AnalysisServiceServicer_to_server,
}


def start_scripted_server(stages: list[ScriptedStage], port: int = 0) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    for stage in stages:
        _ADD[stage.stage](_servicer(stage), server)
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, port


@pytest.fixture
def scripted(monkeypatch):
    """scripted(rotate=script, ...) -> {stage: ScriptedStage}: serves the given stages (the
    others answer normally) on one loopback server and points GAIT_<STAGE>_ADDR at it."""
    servers: list[grpc.Server] = []

    def start(**scripts: Script) -> dict[str, ScriptedStage]:
        stages = {name: ScriptedStage(name, scripts.get(name) or answer(name))
                  for name in ("rotate", "pose2d", "lift3d", "analysis")}
        server, port = start_scripted_server(list(stages.values()))
        servers.append(server)
        for name in stages:
            monkeypatch.setenv(f"GAIT_{name.upper()}_ADDR", f"127.0.0.1:{port}")
        return stages

    yield start
    for server in servers:
        server.stop(None)


@pytest.fixture
def video_file(tmp_path):
    """A file the ingest task accepts (it checks the file, not the frames; the stages are scripted)."""
    path = tmp_path / "walk.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    return path
