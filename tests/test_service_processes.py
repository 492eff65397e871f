"""Each stage as its own process (`python -m services.STAGE`, as in a pod): health, then SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("stage", ["rotate", "pose2d", "lift3d", "analysis"])
def test_service_process_serves_and_stops_on_sigterm(stage, tmp_path):
    port = _free_port()
    env = {**os.environ, "GAIT_HOME": str(tmp_path), f"GAIT_{stage.upper()}_PORT": str(port), "GAIT_GRACE_S": "2"}
    process = subprocess.Popen([sys.executable, "-m", f"services.{stage}"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        process.send_signal(signal.SIGTERM)
        started = time.perf_counter()
        assert process.wait(timeout=15) == 0
        assert time.perf_counter() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
        _, stderr = process.communicate()
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    messages = [r["msg"] for r in records]
    assert "serving" in messages and "shutting down" in messages
    assert all(r["logger"] for r in records)


@pytest.mark.parametrize("command", [["-m", "services.rotate"], ["-m", "gaitcli.main", "serve", "rotate"]])
def test_a_port_in_use_is_one_line_and_exit_2(command, tmp_path):
    """`python -m services.rotate` (a pod) and `gait serve rotate` on a port another process
    holds: exit status 2 and one line naming the address and the variable, no traceback."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "GAIT_HOME": str(tmp_path), "GAIT_ROTATE_PORT": str(port)}
        done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"gait: error: cannot listen on 127.0.0.1:{port}: the port is in use or the "
                                   "address is not this machine's (GAIT_ROTATE_PORT / GAIT_ROTATE_HOST set it)")
