"""gRPC plumbing shared by the four services: server start-up with health and reflection,
graceful shutdown, deadlines, the mapping of errors to status codes and admission control."""
from __future__ import annotations

import functools
import logging
import signal
import socket
import sys
import tempfile
import threading
import time
from concurrent import futures
from typing import Any, Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from gait.config import ServiceConfig
from gait.errors import BUSY_TRAILER, NO_SPACE_ERRNOS, Cancelled, GaitError, StorageFull
from gait.memory import release_free_memory
from gait.provenance import REQUESTED_BY_HEADER, requested_by
from gait.tls import TlsMisconfigured, server_credentials
from gait.v1 import stages_pb2

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024 * 1024  # requests carry keys, not payloads


class CallGuard:
    """Lets long-running work notice that the caller went away or its deadline passed."""

    def __init__(self, context: grpc.ServicerContext) -> None:
        self.context = context

    def should_continue(self) -> bool:
        remaining = self.context.time_remaining()
        return self.context.is_active() and (remaining is None or remaining > 0)

    def check(self) -> None:
        if not self.should_continue():
            raise Cancelled("the request was cancelled or its deadline passed")


def stage_method(stage: str) -> Callable:
    """Decorate a servicer method: log the call, map GaitError to its status, hide internals,
    and hand the memory the call freed back to the system (gait.memory).

    Unexpected exceptions become INTERNAL with a generic message; the traceback goes to the log
    (which never contains patient data: keys are content hashes).
    """

    def decorate(method: Callable) -> Callable:
        @functools.wraps(method)
        def wrapper(self, request, context: grpc.ServicerContext):
            started = time.perf_counter()
            rpc = method.__name__
            caller = requested_by.set(_requester(context))
            try:
                response = method(self, request, context)
            except OSError as exc:
                if exc.errno not in NO_SPACE_ERRNOS:
                    log.exception("internal error", extra={"stage": stage, "rpc": rpc})
                    context.abort(grpc.StatusCode.INTERNAL, f"{stage}: internal error (see the service log)")
                full = StorageFull(f"{stage}: no space left on the disk of the service's work folder "
                                   f"({tempfile.gettempdir()}); nothing was stored")
                log.warning("request failed", extra={"stage": stage, "rpc": rpc, "code": full.status.name, "reason": str(full)})
                context.abort(full.status, str(full))
            except GaitError as exc:
                log.warning("request failed", extra={"stage": stage, "rpc": rpc, "code": exc.status.name, "reason": str(exc)})
                context.abort(exc.status, str(exc))
            except Exception:
                log.exception("internal error", extra={"stage": stage, "rpc": rpc})
                context.abort(grpc.StatusCode.INTERNAL, f"{stage}: internal error (see the service log)")
            finally:
                requested_by.reset(caller)
                release_free_memory()  # what the call freed leaves the process, not only its heap
            log.info("request done", extra={"stage": stage, "rpc": rpc, "seconds": round(time.perf_counter() - started, 3)})
            return response

        return wrapper

    return decorate


def _requester(context: grpc.ServicerContext) -> str | None:
    """Who the caller says it acts for (the audit trail's `requested_by`), printable and bounded."""
    value = dict(context.invocation_metadata() or ()).get(REQUESTED_BY_HEADER)
    if not isinstance(value, str):
        return None
    return "".join(c for c in value if c.isprintable())[:200] or None


class AdmissionLimit(grpc.ServerInterceptor):
    """At most `limit` calls of the stage's own service run at once; one more is answered
    RESOURCE_EXHAUSTED at once (naming the stage and the limit, with the `gait-busy` trailer)
    instead of queueing for memory the pod does not have. Health checks and reflection are not
    counted: a busy service still answers its probes."""

    def __init__(self, stage: str, service_full_name: str, limit: int) -> None:
        self.stage, self.limit = stage, limit
        self._prefix = f"/{service_full_name}/"
        self._slots = threading.BoundedSemaphore(limit)

    def intercept_service(self, continuation: Callable, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not handler_call_details.method.startswith(self._prefix):
            return handler
        return handler._replace(unary_unary=self._admitted(handler.unary_unary, handler_call_details.method))

    def _admitted(self, behaviour: Callable, method: str) -> Callable:
        def admitted(request: Any, context: grpc.ServicerContext) -> Any:
            if not self._slots.acquire(blocking=False):
                log.warning("request refused: busy", extra={"stage": self.stage, "rpc": method.rsplit("/", 1)[-1],
                                                            "limit": self.limit})
                context.set_trailing_metadata(((BUSY_TRAILER, str(self.limit)),))
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                              f"{self.stage}: busy, at its limit of {self.limit} concurrent requests "
                              "(GAIT_MAX_CONCURRENT); ask again shortly")
            try:
                return behaviour(request, context)
            finally:
                self._slots.release()

        return admitted


def build_server(config: ServiceConfig, service_name: str, register: Callable[[grpc.Server], Any]) -> tuple[grpc.Server, int]:
    """A started server with the stage's service, health checking, reflection and an admission
    limit of config.max_concurrent stage calls (the thread pool keeps two threads beyond it, so
    refusals and probes are answered at once rather than queued).

    It listens with TLS when config.tls names a certificate and key (mutual TLS with a client CA),
    else in plaintext; a TLS file that cannot be used is a TlsMisconfigured naming its variable.

    Returns the server and the bound port (config.port 0 picks a free one).
    """
    credentials = server_credentials(config.tls)  # first: a bad TLS file is named before anything starts
    full_name = stages_pb2.DESCRIPTOR.services_by_name[service_name].full_name
    threads = max(config.max_workers, config.max_concurrent + 2)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"gait-{config.stage}"),
        interceptors=[AdmissionLimit(config.stage, full_name, config.max_concurrent)],
        options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES), ("grpc.so_reuseport", 0)],
    )
    register(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((full_name, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    unusable = OSError(f"cannot listen on {config.host}:{config.port}: the port is in use or the address is not this "
                       f"machine's (GAIT_{config.stage.upper()}_PORT / GAIT_{config.stage.upper()}_HOST set it)")
    if config.port and not _can_bind(config.host, config.port):  # before gRPC, which logs its own error line
        raise unusable
    try:
        address = f"{config.host}:{config.port}"
        port = server.add_insecure_port(address) if credentials is None else server.add_secure_port(address, credentials)
    except RuntimeError:  # grpcio >= 1.6x raises where older ones returned 0
        port = 0
    if port == 0:
        raise unusable
    server.start()
    for name in ("", full_name):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    server.health_servicer = health_servicer  # type: ignore[attr-defined]
    log.info("serving", extra={"stage": config.stage, "service": full_name, "address": f"{config.host}:{port}",
                               "tls": "off" if credentials is None else "mutual" if config.tls.client_ca else "on"})
    return server, port


def _can_bind(host: str, port: int) -> bool:
    try:
        family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, port))
    except OSError:
        return False
    return True


def stop_gracefully(server: grpc.Server, grace_s: float) -> None:
    """Report NOT_SERVING (so load balancers drain), then let in-flight calls finish."""
    health_servicer = getattr(server, "health_servicer", None)
    if health_servicer is not None:
        health_servicer.enter_graceful_shutdown()
    server.stop(grace_s).wait()


def serve_until_signalled(server: grpc.Server, grace_s: float) -> None:
    """Block until SIGTERM or SIGINT, then shut down gracefully."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    log.info("shutting down", extra={"grace_s": grace_s})
    stop_gracefully(server, grace_s)


def run_service(stage: str, create_server: Callable[[ServiceConfig], tuple[grpc.Server, int]]) -> None:
    """Run one stage's service, configured from the environment, until SIGTERM (`python -m
    services.STAGE`, `gait serve STAGE`)."""
    from gait.logs import configure_logging

    configure_logging()
    config = ServiceConfig.from_env(stage)
    try:
        server, _ = create_server(config)
    except (OSError, TlsMisconfigured) as exc:  # the port is taken, a TLS file unusable: one line and exit status 2
        print(f"gait: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    serve_until_signalled(server, config.grace_s)


def outcome(bundle_key: str, cached: bool, started: float, backend: str) -> stages_pb2.StageOutcome:
    return stages_pb2.StageOutcome(
        bundle_key=bundle_key, cached=cached, seconds=time.perf_counter() - started, backend=backend
    )
