"""`gait health`: is a stage service, the Prefect API or the whole deployed stack healthy?

- `gait health HOST:PORT [--service NAME]` asks a service's standard gRPC health service
  (grpc.health.v1.Health/Check) and exits 0 when it answers SERVING, 1 otherwise, printing one
  line either way. `--service gait.v1.RotateService` checks that the stage behind the address is
  the expected one (its servicer registers its full name); the default "" is the whole server.
- `gait health --prefect` checks that the Prefect API named by PREFECT_API_URL is ready
  (`/ready`, which answers without the API's basic auth).
- `gait health --flow [--work-pool POOL]` runs the small Prefect flow `gait-smoke` against the
  Prefect API the environment names: a store round trip (write, read back, delete a small object
  under `smoke/`), the gRPC health of the four services at GAIT_<STAGE>_ADDR, and, with a work
  pool, that a worker is polling it and that `gait/full` and `gait/batch` are deployed on it.
  It is the chart's `helm test` of the wiring a real run needs, in a few seconds and without a
  patient's or a demo video (k8s/README.md, "helm test").

`--wait SECONDS` retries a failing check every 2 s until it passes or the time is up (a
starting pod, a migrating server). Exit codes: 0 healthy, 1 not, 2 bad usage.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Callable

from gait.config import STAGES, ClientConfig

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2
DEPLOYMENTS = ("gait/full", "gait/batch")


def check_grpc(address: str, service: str = "", timeout_s: float = 5.0) -> tuple[bool, str]:
    """(healthy, one line) from grpc.health.v1.Health/Check on `address` for `service`."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    label = f"{address} {service or '(server)'}"
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout_s)
        except grpc.RpcError as exc:
            return False, f"{label}: {exc.code().name} ({exc.details()})"
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


def build_smoke_flow():
    """The `gait-smoke` flow (built on demand: importing Prefect costs a second)."""
    from flows.runtime import configure_prefect

    configure_prefect()
    from prefect import flow, task

    @task(name="store-round-trip")
    def store_round_trip() -> str:
        from gait.store import open_store

        store = open_store()
        key, payload = f"smoke/{uuid.uuid4().hex}.txt", uuid.uuid4().bytes
        store.put_bytes(key, payload)
        try:
            if store.get_bytes(key) != payload:
                raise RuntimeError(f"{store.location}: read back different bytes")
        finally:
            store.delete(key)
        return store.location

    @task(name="service-health")
    def service_health(stage: str, address: str) -> str:
        ok, line = check_grpc(address)
        if not ok:
            raise RuntimeError(f"{stage}: {line}")
        return line

    @task(name="work-pool-deployments")
    def work_pool_deployments(work_pool: str) -> str:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.objects import WorkPoolStatus

        with get_client(sync_client=True) as client:
            pool = client.read_work_pool(work_pool)
            if pool.status != WorkPoolStatus.READY:
                raise RuntimeError(f"work pool {work_pool!r} is {pool.status}: no worker is polling it")
            for name in DEPLOYMENTS:
                deployment = client.read_deployment_by_name(name)
                if deployment.work_pool_name != work_pool:
                    raise RuntimeError(f"{name} is on work pool {deployment.work_pool_name!r}, not {work_pool!r}")
        return f"work pool {work_pool}: READY with {', '.join(DEPLOYMENTS)}"

    @flow(name="gait-smoke", log_prints=False)
    def smoke_flow(work_pool: str | None = None) -> list[str]:
        """Store round trip, the four services' health, and the work pool's worker and deployments."""
        addresses = ClientConfig.from_env().addresses
        futures = [service_health.submit(stage, addresses[stage]) for stage in STAGES]
        lines = [f"store {store_round_trip()}: write, read, delete ok"]
        lines += [future.result() for future in futures]
        if work_pool:
            lines.append(work_pool_deployments(work_pool))
        return lines

    return smoke_flow


def run_smoke(work_pool: str | None) -> tuple[bool, str]:
    try:
        lines = build_smoke_flow()(work_pool=work_pool)
    except Exception as exc:  # the failing task's message, one line
        return False, f"gait-smoke failed: {exc}"
    return True, "gait-smoke passed: " + "; ".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", nargs="?", help="HOST:PORT of a gRPC service")
    parser.add_argument("--service", default="", help="the gRPC service name to check (default: the whole server)")
    parser.add_argument("--prefect", action="store_true", help="check the Prefect API at PREFECT_API_URL instead")
    parser.add_argument("--flow", action="store_true",
                        help="run the gait-smoke flow: store, the four services, work pool and deployments")
    parser.add_argument("--work-pool", default=None, help="with --flow: check this work pool's worker and deployments")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per check (default 5)")
    parser.add_argument("--wait", type=float, default=0.0, help="retry for up to this many seconds (default: once)")


def main(args: argparse.Namespace) -> int:
    chosen = [bool(args.address), args.prefect, args.flow]
    if sum(chosen) != 1:
        print("gait health: error: give exactly one of HOST:PORT, --prefect or --flow", file=sys.stderr)
        return EXIT_USAGE
    if args.address:
        check = lambda: check_grpc(args.address, args.service, args.timeout)  # noqa: E731
    elif args.prefect:
        api_url = os.environ.get("PREFECT_API_URL", "").strip()
        if not api_url:
            print("gait health: error: --prefect needs PREFECT_API_URL", file=sys.stderr)
            return EXIT_USAGE
        check = lambda: check_prefect(api_url, args.timeout)  # noqa: E731
    else:
        check = lambda: run_smoke(args.work_pool)  # noqa: E731
    ok, line = waiting(check, args.wait)
    print(line)
    return EXIT_OK if ok else EXIT_UNHEALTHY
