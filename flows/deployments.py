"""The deployments of the `gait` flows, declared in this one place, and the two ways to run them.

- `gait/full`: the whole pipeline on one video (`prefect deployment run gait/full -p video=...`).
- `gait/batch`: every video under a store prefix or in a list of keys, with a summary table
  (`prefect deployment run gait/batch -p prefix=archive/2024/`).

`serve_deployments()` (`gait stack`) serves them from this process: each flow run is a child
process that inherits its environment (GAIT_<STAGE>_ADDR, GAIT_STORE*, PREFECT_API_URL).
`deploy_to_work_pool()` (`gait deploy`, the chart's registration job) registers them on a work
pool of type `process`, whose workers run them from the installed package: the entrypoints are
module paths and there are no pull steps, so any image with gait installed runs them as they are.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

FLOW_NAME = "gait"
FULL = "full"
BATCH = "batch"
WORK_POOL_TYPE = "process"
DEPLOYMENTS = (f"{FLOW_NAME}/{FULL}", f"{FLOW_NAME}/{BATCH}")


def build_deployments() -> list[RunnerDeployment]:
    """Every deployment of the `gait` flows: `gait/full` and `gait/batch`."""
    from prefect.types.entrypoint import EntrypointType

    from flows.batch_flow import batch_flow
    from flows.gait_flow import gait_flow

    # Module-path entrypoints (`flows.gait_flow.gait_flow`): the same from any working directory
    # and in any image that has the package installed.
    common = dict(tags=["gait"], enforce_parameter_schema=True, entrypoint_type=EntrypointType.MODULE_PATH)
    return [
        gait_flow.to_deployment(
            name=FULL,
            description="The whole pipeline on one video: ingest, rotate, 2D pose, 3D lift, analysis "
                        "(and export to out_dir when given).",
            **common,
        ),
        batch_flow.to_deployment(
            name=BATCH,
            description="Every video under a store prefix (or in a list of keys) through the pipeline, "
                        "a few at a time, skipping those already done; writes a summary table.",
            **common,
        ),
    ]


def serve_deployments(limit: int | None = None) -> None:
    """Serve the deployments until SIGTERM or Ctrl-C (Prefect's `serve`), then return.

    `limit` caps the flow runs this process runs at once (None: no cap; each stage's thread pool,
    GAIT_MAX_WORKERS, still bounds the work a service does at once).
    """
    from prefect import serve

    serve(*build_deployments(), limit=limit, pause_on_shutdown=False, print_starting_message=False)


def deploy_to_work_pool(work_pool: str) -> list[str]:
    """Register every deployment on `work_pool`, creating it (type `process`) if missing.

    Idempotent: a second call updates the same deployments. Returns one line per deployment.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(
                name=work_pool, type=WORK_POOL_TYPE, base_job_template=ProcessWorker.get_default_base_job_template()))
        except ObjectAlreadyExists:
            pass
        pool_type = client.read_work_pool(work_pool).type
    lines = []
    for deployment in build_deployments():
        deployment_id = deployment.apply(work_pool_name=work_pool)
        lines.append(f"{FLOW_NAME}/{deployment.name}: deployment {deployment_id} "
                     f"on work pool {work_pool} ({pool_type})")
    return lines
