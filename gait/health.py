"""Health checks of the stack's parts, one line each: a stage service's standard gRPC health
service (grpc.health.v1.Health/Check), the Prefect API's readiness, and a retry loop for a part
that is still starting. Used by `gait health`, the `gait-smoke` flow and `gait deploy`."""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Callable


def check_grpc(address: str, service: str = "", timeout_s: float = 5.0, server_name: str = "") -> tuple[bool, str]:
    """(healthy, one line) from grpc.health.v1.Health/Check on `address` for `service`, over TLS when
    GAIT_TLS_CA is set (`server_name`: the name the certificate must carry, if not the address's host)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from gait.client import StageCallFailed, call

    label = f"{address} {service or '(server)'}"
    try:
        reply = call(label, address, health_pb2_grpc.HealthStub, "Check", health_pb2.HealthCheckRequest(service=service),
                     timeout_s, wait_for_ready=False, server_name=server_name)
    except StageCallFailed as exc:
        return False, f"{label}: {exc.code_name} ({exc.details})"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, f"{label}: {status}"


def check_prefect(api_url: str, timeout_s: float = 5.0) -> tuple[bool, str]:
    """(healthy, one line) from the Prefect API's readiness endpoint."""
    url = api_url.rstrip("/") + "/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return True, f"{url}: ready (HTTP {reply.status})"
    except urllib.error.HTTPError as exc:
        return False, f"{url}: HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{url}: {getattr(exc, 'reason', exc)}"


def waiting(check: Callable[[], tuple[bool, str]], wait_s: float, interval_s: float = 2.0) -> tuple[bool, str]:
    """Run `check` until it passes or `wait_s` seconds have passed; the last result."""
    deadline = time.monotonic() + wait_s
    while True:
        ok, line = check()
        if ok or time.monotonic() + interval_s > deadline:
            return ok, line
        time.sleep(interval_s)
