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

from gait.health import check_grpc, check_prefect, waiting

EXIT_OK, EXIT_UNHEALTHY, EXIT_USAGE = 0, 1, 2


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
        from flows.smoke_flow import run_smoke

        check = lambda: run_smoke(args.work_pool)  # noqa: E731
    ok, line = waiting(check, args.wait)
    print(line)
    return EXIT_OK if ok else EXIT_UNHEALTHY
