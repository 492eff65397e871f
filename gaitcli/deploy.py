"""`gait deploy --work-pool POOL`: register `gait/full` and `gait/batch` on a Prefect work pool.

The chart's registration job runs it after every install and upgrade; the pool (type `process`)
is created if missing, and a second run updates the same deployments. The API is the one
PREFECT_API_URL names (with PREFECT_API_AUTH_STRING when the server wants it).
Exit codes: 0 registered (one line per deployment), 1 the API is unreachable or refused, 2 usage.
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--work-pool", required=True, help="the work pool (type process; created if missing)")


def main(args: argparse.Namespace) -> int:
    from gait.health import check_prefect

    api_url = os.environ.get("PREFECT_API_URL", "").strip()
    if not api_url:
        print("gait deploy: error: PREFECT_API_URL is not set (the Prefect API to register with)", file=sys.stderr)
        return EXIT_USAGE
    ready, line = check_prefect(api_url)
    if not ready:
        print(f"gait deploy: error: the Prefect API does not answer: {line}", file=sys.stderr)
        return EXIT_FAILED
    from flows.runtime import configure_prefect

    configure_prefect()
    from flows.deployments import deploy_to_work_pool

    try:
        lines = deploy_to_work_pool(args.work_pool)
    except Exception as exc:  # the API refused (auth, validation): one line, not a traceback
        print(f"gait deploy: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print("\n".join(lines))
    return EXIT_OK
