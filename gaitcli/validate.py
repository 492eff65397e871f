"""`gait validate`: every event method on every recording of the validation corpus (real lab
recordings, the demo clip against our annotation, and the synthetic walker, labelled), as one
table of errors against the reference events."""
from __future__ import annotations

import argparse
from pathlib import Path

from gaitcli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video-results", type=Path, default=None,
                        help="the results/ folder of a `gait run` of the demo clip (default: run it into "
                             "$GAIT_HOME/validation/demo, cached in the store)")
    parser.add_argument("--no-video", action="store_true", help="leave out the demo clip (no pipeline run)")
    parser.add_argument("--csv", type=Path, default=None, help="also write the rows as CSV")
    parser.add_argument("--variants", action="store_true",
                        help="instead: `auto` on each marker recording as another lab would send it (other rates, "
                             "axes, noise, hidden markers; docs/validation.md \"Robustness\")")


def _demo_results(args: argparse.Namespace) -> Path | int:
    if args.video_results is not None:
        return args.video_results
    from gait.assets import demo_clip_path
    from gait.config import gait_home
    from gaitcli.run import run_and_report

    out = gait_home() / "validation" / "demo"
    code = run_and_report(demo_clip_path(), out, None, None, None)
    return out / "results" if code == EXIT_OK else code


def main(args: argparse.Namespace) -> int:
    import pandas as pd

    from gait.analysis.analyze import EVENT_METHODS
    from gait.analysis.validation.runner import (
        TOLERANCE_NOTE,
        demo_case,
        markdown_table,
        marker_cases,
        score_case,
        synthetic_cases,
    )
    from gait.errors import InvalidInput

    try:
        cases = marker_cases()
        if args.variants:
            from gait.analysis.validation.variants import variant_cases

            cases += variant_cases(cases)
            methods = ("auto",)
        else:
            if not args.no_video:
                results = _demo_results(args)
                if isinstance(results, int):
                    return results
                cases.append(demo_case(results))
            cases += synthetic_cases()
            methods = EVENT_METHODS
        rows = [row for case in cases for row in score_case(case, methods)]
    except InvalidInput as exc:
        return fail(str(exc), EXIT_USAGE)
    except (OSError, ValueError) as exc:
        return fail(f"validation failed: {exc}", EXIT_FAILED)
    print(markdown_table(rows))
    print(f"\n{TOLERANCE_NOTE}")
    for case in cases:
        print(f"- {case.recording.name}: {case.recording.description}; reference: {case.recording.reference}")
    if args.csv is not None:
        pd.DataFrame(rows).to_csv(args.csv, index=False)
    return EXIT_OK
