"""The client's wait for a service: a server that answers is reached (with or without a health
service), a port where nobody listens is named unreachable once the reach budget is spent."""
from __future__ import annotations

import socket
import time
from concurrent import futures

import grpc
import pytest

from gait.client import StageCallFailed, call
from gait.config import TlsConfig
from gait.v1 import stages_pb2, stages_pb2_grpc

PLAINTEXT = TlsConfig()


class CannedLift(stages_pb2_grpc.Lift3DServiceServicer):
    def Lift(self, request, context):
        return stages_pb2.Lift3DResponse(frames=7, outcome=stages_pb2.StageOutcome(bundle_key=request.pose2d_bundle_key))


def _lift(address: str, reach_s: float):
    return call("lift3d", address, stages_pb2_grpc.Lift3DServiceStub, "Lift",
                stages_pb2.Lift3DRequest(pose2d_bundle_key="pose2d/abc"), timeout_s=10, reach_s=reach_s, tls=PLAINTEXT)


def test_a_server_without_a_health_service_is_reached():
    server = grpc.server(futures.ThreadPoolExecutor(2))
    stages_pb2_grpc.add_Lift3DServiceServicer_to_server(CannedLift(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        response = _lift(f"127.0.0.1:{port}", reach_s=5)
    finally:
        server.stop(0)
    assert response.frames == 7 and response.outcome.bundle_key == "pose2d/abc"


def test_a_port_nobody_listens_on_is_named_unreachable_after_the_reach_budget():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    started = time.monotonic()
    with pytest.raises(StageCallFailed) as failed:
        _lift(f"127.0.0.1:{port}", reach_s=1.0)
    assert failed.value.unreachable and not failed.value.transient
    assert "cannot be reached: no connection within 1 s" in str(failed.value)
    assert time.monotonic() - started >= 0.9, "the reach budget was waited, not cut short"
