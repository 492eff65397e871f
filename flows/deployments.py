"""The deployments of the `gait` flow, declared in this one place, and the process that serves them.

`gait/full` is the whole pipeline (`prefect deployment run gait/full -p video=/path/to/video.mp4`).
Served deployments run each flow run in a child process of the server process, which inherits its
environment: GAIT_<STAGE>_ADDR (where the services are), GAIT_STORE* and PREFECT_API_URL.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

FLOW_NAME = "gait"
FULL = "full"


def build_deployments() -> list[RunnerDeployment]:
    """Every deployment of the `gait` flow (today one: `gait/full`)."""
    from prefect.types.entrypoint import EntrypointType

    from flows.gait_flow import gait_flow

    return [
        gait_flow.to_deployment(
            name=FULL,
            description="The whole pipeline on one video: ingest, rotate, 2D pose, 3D lift, analysis "
                        "(and export to out_dir when given).",
            tags=["gait"],
            enforce_parameter_schema=True,
            # `flows.gait_flow.gait_flow`, imported as a module: the same from any working
            # directory and in any image that has the package installed.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
    ]


def serve_deployments(limit: int | None = None) -> None:
    """Serve the deployments until SIGTERM or Ctrl-C (Prefect's `serve`), then return.

    `limit` caps the flow runs this process runs at once (None: no cap; each stage's thread pool,
    GAIT_MAX_WORKERS, still bounds the work a service does at once).
    """
    from prefect import serve

    serve(*build_deployments(), limit=limit, pause_on_shutdown=False, print_starting_message=False)
