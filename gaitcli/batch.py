"""`gait batch PREFIX | --keys K1,K2 [--out DIR] [--concurrency N]`: the `gait/batch` flow from the
terminal, on videos already in the store (GAIT_STORE*), with the services on loopback.

Prints one line per video (status, key, figures or the reason it failed) and where the summary
is. Exit codes: 0 every video done or skipped, 1 a video (or the batch) failed, 2 bad usage.
"""
from __future__ import annotations

import argparse
import io
import logging
from pathlib import Path

from gaitcli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prefix", nargs="?", default=None,
                        help="store key prefix: every video object under it (e.g. archive/2024/)")
    parser.add_argument("--keys", default=None, help="comma-separated store keys of the videos, instead of a prefix")
    parser.add_argument("--out", type=Path, default=None, help="folder to copy the summary (CSV, Excel) into")
    parser.add_argument("--concurrency", type=int, default=4, help="videos in progress at once (default 4)")
    parser.add_argument("--no-deidentify", dest="deidentify", action="store_false",
                        help="research use: keep faces in the videos (default: every head blurred)")
    from gaitcli.local import add_services_argument

    add_services_argument(parser)


def video_line(row: dict) -> str:
    """`done     archive/a.mp4  9.8 s, cadence 99 steps/min, speed 1.1 m/s`, or the reason it failed
    (and the warnings, for a video whose numbers cannot be stood behind)."""
    from flows.batch_flow import CANNOT_MEASURE, IMPLAUSIBLE

    status, source = row["status"], row["source"]
    if status == "failed":
        detail = row["reason"]
    else:
        figures = [f"{row['total_s']:.1f} s"]
        for name, label, unit in (("cadence_steps_per_min", "cadence", " steps/min"), ("speed_m_s", "speed", " m/s")):
            if row.get(name) == row.get(name):  # present and not NaN
                figures.append(f"{label} {row[name]:.3g}{unit}")
        detail = ", ".join(figures)
        if status in (CANNOT_MEASURE, IMPLAUSIBLE) and isinstance(row.get("warnings"), str):
            detail += f"; {row['warnings']}"  # why its numbers cannot be stood behind
    return f"{status:<20}  {source}  {detail}"


def main(args: argparse.Namespace) -> int:
    if (args.prefix is None) == (args.keys is None):
        return fail("give a PREFIX or --keys, not both", EXIT_USAGE)
    if args.concurrency < 1:
        return fail("--concurrency must be at least 1", EXIT_USAGE)
    keys = [key.strip() for key in args.keys.split(",") if key.strip()] if args.keys is not None else None
    from gait.config import gait_home
    from gait.logs import configure_logging

    log_path = gait_home() / "logs" / "gait-batch.log"
    configure_logging("INFO", path=log_path)
    from gait.errors import InvalidInput
    from gaitcli.local import run_batch_local

    try:
        state = run_batch_local(args.prefix, keys, args.out, args.concurrency, prefect_console=False,
                                external=args.services == "external", deidentify=args.deidentify)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
    result = state.result(raise_on_failure=False)
    if isinstance(result, InvalidInput):
        return fail(str(result), EXIT_USAGE)
    if isinstance(result, BaseException):
        logging.getLogger(__name__).error("gait batch failed", exc_info=result)
        return fail(f"{type(result).__name__}: {result} (details in {log_path})", EXIT_FAILED)
    import pandas as pd

    from gait.store import open_store

    store = open_store()
    summary = result["summary"]
    table = pd.read_csv(io.BytesIO(store.get_bytes(summary["summary.csv"])))
    for row in table.to_dict("records"):
        print(video_line(row))
    where = args.out / "summary.xlsx" if args.out is not None else f"{store.location}/{summary['summary.xlsx']}"
    print(f"summary: {where}")
    return EXIT_FAILED if result["counts"]["failed"] else EXIT_OK
