"""The `gait-smoke` flow of `gait health --flow`: a store round trip, the four services' gRPC
health at GAIT_<STAGE>_ADDR, and, with a work pool, that a worker polls it and that `gait/full`
and `gait/batch` are deployed on it (the chart's `helm test`)."""
from __future__ import annotations

import uuid

from flows.deployments import DEPLOYMENTS
from gait.config import ClientConfig
from gait.contracts import STAGES
from gait.health import check_grpc


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
