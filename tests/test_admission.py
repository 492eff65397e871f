"""Admission control on a real server (gait.rpc.AdmissionLimit) and the client that waits it out."""
from __future__ import annotations

import logging
import threading
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gait.client import StageCallFailed, call
from gait.config import ServiceConfig
from gait.rpc import build_server, stage_method, stop_gracefully
from gait.v1 import stages_pb2, stages_pb2_grpc


class HeldRotate(stages_pb2_grpc.RotateServiceServicer):
    """Each call enters, then waits until the test releases it."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.lock = threading.Lock()

    @stage_method("rotate")
    def Rotate(self, request, context):
        with self.lock:
            self.calls += 1
        self.entered.set()
        self.release.wait(timeout=60)
        return stages_pb2.RotateResponse(outcome=stages_pb2.StageOutcome(bundle_key=f"rotate/{request.video_key}"))


class Refusals(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen = threading.Event()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "request refused: busy":
            self.count += 1
            self.seen.set()


@pytest.fixture
def held_server():
    servicer = HeldRotate()
    config = ServiceConfig(stage="rotate", port=0, max_workers=1, max_concurrent=1)
    server, port = build_server(config, "RotateService",
                                lambda s: stages_pb2_grpc.add_RotateServiceServicer_to_server(servicer, s))
    refusals = Refusals()
    logging.getLogger("gait.rpc").addHandler(refusals)
    try:
        yield servicer, f"127.0.0.1:{port}", refusals
    finally:
        servicer.release.set()
        logging.getLogger("gait.rpc").removeHandler(refusals)
        stop_gracefully(server, 1)


def _rotate(address: str, key: str, busy_s: float):
    return call("rotate", address, stages_pb2_grpc.RotateServiceStub, "Rotate", stages_pb2.RotateRequest(video_key=key),
                timeout_s=60, reach_s=10, busy_s=busy_s)


def test_a_call_beyond_the_limit_is_refused_naming_the_stage_and_the_limit(held_server):
    servicer, address, refusals = held_server
    with futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(_rotate, address, "a", 0)
        assert servicer.entered.wait(30)
        with pytest.raises(StageCallFailed) as refused:
            _rotate(address, "b", 0)
        # a busy service still answers its health check (probes are not counted)
        with grpc.insecure_channel(address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        servicer.release.set()
        assert first.result(timeout=60).outcome.bundle_key == "rotate/a"
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and refused.value.busy
    assert not refused.value.transient  # Prefect does not retry it: the client's busy wait is the retry
    assert str(refused.value) == ("rotate failed (RESOURCE_EXHAUSTED): rotate: busy, at its limit of 1 concurrent "
                                  "requests (GAIT_MAX_CONCURRENT); ask again shortly")
    assert servicer.calls == 1 and refusals.count == 1


def test_two_concurrent_calls_with_limit_one_both_complete(held_server):
    """One call is admitted, the other answered RESOURCE_EXHAUSTED, asked again with backoff by the
    client, and admitted once the first is done."""
    servicer, address, refusals = held_server
    with futures.ThreadPoolExecutor(2) as pool:
        first = pool.submit(_rotate, address, "a", 0)
        assert servicer.entered.wait(30)
        second = pool.submit(_rotate, address, "b", 60)
        assert refusals.seen.wait(30)
        assert not second.done()
        servicer.release.set()
        keys = {first.result(timeout=60).outcome.bundle_key, second.result(timeout=60).outcome.bundle_key}
    assert keys == {"rotate/a", "rotate/b"}
    assert servicer.calls == 2 and refusals.count >= 1
