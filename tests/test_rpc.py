"""The gRPC plumbing every service shares: status codes, health, reflection, deadlines, shutdown."""
from __future__ import annotations

import json
import logging
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from gait.config import ServiceConfig
from gait.errors import ArtifactNotFound, InvalidInput, TransientError
from gait.logs import JsonFormatter
from gait.rpc import CallGuard, build_server, stage_method, stop_gracefully
from gait.v1 import stages_pb2, stages_pb2_grpc


class ScriptedRotate(stages_pb2_grpc.RotateServiceServicer):
    """Behaves as its request's video_key says."""

    started = threading.Event()

    @stage_method("rotate")
    def Rotate(self, request, context):
        if request.video_key == "bad":
            raise InvalidInput("the video is empty")
        if request.video_key == "missing":
            raise ArtifactNotFound("no artifact bundle at key 'missing'")
        if request.video_key == "store-down":
            raise TransientError("object store unreachable")
        if request.video_key == "bug":
            raise RuntimeError("secret internals /home/clinic/patient.mp4")
        if request.video_key == "slow":
            guard = CallGuard(context)
            while True:
                guard.check()
                time.sleep(0.01)
        if request.video_key == "one-second":
            self.started.set()
            time.sleep(1.0)
        return stages_pb2.RotateResponse(frames=7)


@pytest.fixture
def server():
    config = ServiceConfig(stage="rotate", port=0)
    server, port = build_server(config, "RotateService",
                                lambda s: stages_pb2_grpc.add_RotateServiceServicer_to_server(ScriptedRotate(), s))
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield server, channel, port
    channel.close()
    server.stop(0)


def _rotate(channel, key, timeout=5.0):
    return stages_pb2_grpc.RotateServiceStub(channel).Rotate(stages_pb2.RotateRequest(video_key=key), timeout=timeout)


@pytest.mark.parametrize("key, code, words", [
    ("bad", grpc.StatusCode.INVALID_ARGUMENT, "the video is empty"),
    ("missing", grpc.StatusCode.NOT_FOUND, "no artifact bundle"),
    ("store-down", grpc.StatusCode.UNAVAILABLE, "unreachable"),
    ("bug", grpc.StatusCode.INTERNAL, "rotate: internal error (see the service log)"),
])
def test_errors_map_to_status_codes(server, key, code, words):
    _, channel, _ = server
    with pytest.raises(grpc.RpcError) as error:
        _rotate(channel, key)
    assert error.value.code() == code and words in error.value.details()
    assert "patient" not in error.value.details() and "Traceback" not in error.value.details()


def test_health_and_reflection(server):
    _, channel, _ = server
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "gait.v1.RotateService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    services = ProtoReflectionDescriptorDatabase(channel).get_services()
    assert "gait.v1.RotateService" in services and "grpc.health.v1.Health" in services


def test_deadline_stops_long_work(server):
    _, channel, _ = server
    started = time.perf_counter()
    with pytest.raises(grpc.RpcError) as error:
        _rotate(channel, "slow", timeout=0.3)
    assert error.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.perf_counter() - started < 2


def test_graceful_shutdown_finishes_calls_in_flight(server):
    grpc_server, channel, port = server
    result = {}
    call = threading.Thread(target=lambda: result.setdefault("frames", _rotate(channel, "one-second").frames))
    call.start()
    assert ScriptedRotate.started.wait(5)
    stop_gracefully(grpc_server, grace_s=5)
    call.join(5)
    assert result == {"frames": 7}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as fresh, pytest.raises(grpc.RpcError) as error:
        _rotate(fresh, "ok", timeout=1)
    assert error.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_json_log_lines_carry_extra_fields():
    record = logging.LogRecord("gait.rpc", logging.INFO, __file__, 1, "request done", None, None)
    record.stage, record.seconds = "pose2d", 1.5
    entry = json.loads(JsonFormatter().format(record))
    assert entry["msg"] == "request done" and entry["stage"] == "pose2d" and entry["seconds"] == 1.5
    assert entry["level"] == "info" and entry["ts"].endswith("Z")
