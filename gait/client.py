"""The one gRPC client: a call to a stage service (or its health service), with the deadline,
readiness wait and error mapping that the flows, the command line and the health checks share.

No client lives at module level: each call opens a channel to the address the environment names
(GAIT_<STAGE>_ADDR, see `gait.config.ClientConfig`) and closes it, so a retried call resolves and
connects afresh (a restarted pod, a new address) and nothing outlives the task.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gait.config import ClientConfig, TlsConfig
from gait.contracts import ANALYSIS, LIFT3D, POSE2D, ROTATE
from gait.errors import BUSY_TRAILER
from gait.provenance import REQUESTED_BY_HEADER, requester
from gait.tls import TlsMisconfigured, open_channel
from gait.v1 import stages_pb2_grpc

STUBS = {
    ROTATE: stages_pb2_grpc.RotateServiceStub,
    POSE2D: stages_pb2_grpc.Pose2DServiceStub,
    LIFT3D: stages_pb2_grpc.Lift3DServiceStub,
    ANALYSIS: stages_pb2_grpc.AnalysisServiceStub,
}

# Status codes a (Prefect) retry may cure: the service is restarting or draining (UNAVAILABLE).
# A service at its admission limit answers RESOURCE_EXHAUSTED with the `gait-busy` trailer: that
# is waited out here, in the call, with backoff, for up to GAIT_BUSY_WAIT_S (a queue can take
# minutes to drain, longer than the tasks' three retries), and a call still refused then is done
# waiting, as an unreachable one is, so Prefect does not multiply the wait. Other RESOURCE_EXHAUSTED
# answers (a full disk, a message too large) fail at once with their message. Not
# DEADLINE_EXCEEDED: the deadline is the whole budget of a call that already waited for the
# service to be ready (wait_for_ready), the stages are deterministic in cost, so a call that ran
# out of time would run out again, and each retry would cost the user another full
# GAIT_RPC_TIMEOUT_S; the cure is a larger timeout, which the failure message says. Every other
# code (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, DATA_LOSS, INTERNAL, ...) is a property
# of the input or of the deployment and fails at once.
TRANSIENT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE})
BUSY_BACKOFF_S = (0.25, 5.0)  # first and longest pause between asks of a busy service (doubling, jittered)


class StageCallFailed(Exception):
    """A stage's RPC failed. `str()` is one readable line: the stage, the status and the server's message."""

    def __init__(self, stage: str, code_name: str, details: str, unreachable: bool = False, busy: bool = False) -> None:
        super().__init__(stage, code_name, details)
        self.stage, self.code_name, self.details = stage, code_name, details
        self.unreachable = unreachable  # no connection within the reach budget: the waiting is done
        self.busy = busy  # the service refused it at its admission limit (asked again within the busy budget)

    @property
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode[self.code_name]

    @property
    def transient(self) -> bool:
        """A retry may cure it: not when the client already waited its whole reach budget."""
        return self.code in TRANSIENT_CODES and not self.unreachable

    def __str__(self) -> str:
        return f"{self.stage} failed ({self.code_name}): {self.details}"


def call(stage: str, address: str, stub: Callable[[grpc.Channel], Any], method: str, request: Any, timeout_s: float,
         wait_for_ready: bool = True, deadline_hint: str = "", reach_s: float | None = None,
         busy_s: float = 0.0, tls: TlsConfig | None = None, server_name: str = "") -> Any:
    """`method` of the `stub` service at `address`, on a channel of its own; any failure is a
    StageCallFailed naming `stage`. wait_for_ready: a service that is still starting (or being
    rescheduled) is waited for, up to `reach_s` seconds for the connection (then an unreachable
    UNAVAILABLE, not retried: the waiting is done) and `timeout_s` for the answer, each attempt.
    A service that answers busy (at its admission limit) is asked again with backoff for up to
    `busy_s` seconds; then the call fails, not retried either. The channel is TLS when `tls`
    (default: GAIT_TLS_* of the environment) names a CA (gait.tls.open_channel; `server_name`: the
    name the server's certificate must carry, when not the address's host); an unusable TLS file is
    a FAILED_PRECONDITION naming its variable."""
    tls = TlsConfig.from_env() if tls is None else tls
    waited_s, pause_s = 0.0, BUSY_BACKOFF_S[0]
    while True:
        try:
            return _call_once(stage, address, stub, method, request, timeout_s, wait_for_ready, deadline_hint, reach_s,
                              tls, server_name)
        except StageCallFailed as failure:
            if not failure.busy:
                raise
            if waited_s >= busy_s:
                if busy_s > 0:
                    failure.details += f" (still busy after {waited_s:.1f} s of asking again; GAIT_BUSY_WAIT_S sets the wait)"
                raise
        pause = min(pause_s * random.uniform(0.8, 1.2), busy_s - waited_s)
        time.sleep(pause)
        waited_s += pause
        pause_s = min(2 * pause_s, BUSY_BACKOFF_S[1])


def _call_once(stage: str, address: str, stub: Callable[[grpc.Channel], Any], method: str, request: Any,
               timeout_s: float, wait_for_ready: bool, deadline_hint: str, reach_s: float | None, tls: TlsConfig,
               server_name: str) -> Any:
    try:
        channel = open_channel(address, tls, server_name)
    except TlsMisconfigured as exc:
        raise StageCallFailed(stage, exc.status.name, str(exc)) from None
    with channel:
        if wait_for_ready and reach_s is not None and not _reachable(channel, reach_s):
            raise StageCallFailed(stage, grpc.StatusCode.UNAVAILABLE.name,
                                  f"the {stage} service at {address} cannot be reached: no connection within "
                                  f"{reach_s:g} s, so it is not running or not reachable from here "
                                  "(GAIT_REACH_S sets the wait)", unreachable=True)
        rpc = getattr(stub(channel), method)
        try:
            return rpc(request, timeout=timeout_s, wait_for_ready=wait_for_ready,
                       metadata=((REQUESTED_BY_HEADER, requester()),))
        except grpc.RpcError as exc:
            code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
            details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                details = (f"{details or 'deadline exceeded'} (no answer from {address} within "
                           f"{timeout_s:g} s{deadline_hint})")
            trailers = exc.trailing_metadata() if callable(getattr(exc, "trailing_metadata", None)) else None
            busy = code == grpc.StatusCode.RESOURCE_EXHAUSTED and any(
                name == BUSY_TRAILER for name, _ in (trailers or ()))
            raise StageCallFailed(stage, code.name, details or code.name, busy=busy) from None


def _reachable(channel: grpc.Channel, reach_s: float) -> bool:
    """Does anything answer on `channel` within `reach_s` (waiting for a service that is starting)?
    Asked with a health check, which every stage server answers from threads kept free of stage
    calls; any answer, an error too, means a connection. Not `grpc.channel_ready_future`: after
    it, closing the channel waits for gRPC's connectivity poll, 0.2 s a call (grpc/grpc#19100)."""
    try:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=reach_s, wait_for_ready=True)
    except grpc.RpcError as exc:
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        return code != grpc.StatusCode.DEADLINE_EXCEEDED
    return True


def call_stage(stage: str, method: str, request: Any, config: ClientConfig | None = None,
               wait_for_ready: bool = True) -> Any:
    """Call `method` of `stage`'s service at GAIT_<STAGE>_ADDR with the configured deadline; raise
    StageCallFailed on error."""
    config = config or ClientConfig.from_env()
    return call(stage, config.addresses[stage], STUBS[stage], method, request, config.timeout_s, wait_for_ready,
                "; GAIT_RPC_TIMEOUT_S sets the limit", config.reach_s, config.busy_s, config.tls)
