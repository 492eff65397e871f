"""`gait lift RESULTS.json --rate-hz F --image-size WxH --out DIR`: a lab's own AlphaPose results
(made elsewhere) lifted to 3D and analyzed, pose2d skipped.

The file becomes a `pose2d` bundle (gait.ingest.ingest_alphapose_results); the lift3d and
analysis services, started on loopback, take it as they take pose2d's own; their bundles are
exported as `gait run` exports them (alphapose-results/, results/, analysis/, manifests/).
Lifting 2D keypoints needs MotionBERT's checkpoint in GAIT_MODELS_DIR (`gait models`); without it
`gait analyze RESULTS.json --rate-hz F` gives the 2D analysis.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from gait.contracts import ANALYSIS, LIFT3D, POSE2D
from gait.errors import InvalidInput
from gaitcli.exits import EXIT_OK, EXIT_USAGE, exit_code, fail

SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def parse_image_size(text: str) -> tuple[int, int]:
    match = SIZE.match(text)
    if match is None or 0 in (int(match.group(1)), int(match.group(2))):
        raise InvalidInput(f"--image-size must be WIDTHxHEIGHT in pixels, e.g. 1920x1080 (got {text!r})")
    return int(match.group(1)), int(match.group(2))


def lift_alphapose(path: Path, rate_hz: float, image_size: str, out: Path) -> int:
    from gait.client import StageCallFailed, call_stage
    from gait.config import gait_home
    from gait.export import export_outputs
    from gait.ingest import ingest_alphapose_results
    from gait.logs import configure_logging
    from gait.store import open_store
    from gait.v1 import stages_pb2
    from gaitcli.launcher import LocalServices

    configure_logging("INFO", path=gait_home() / "logs" / "gait-lift.log")
    try:
        width, height = parse_image_size(image_size)
        store = open_store()
        pose2d = ingest_alphapose_results(store, path, rate_hz, width, height)
    except InvalidInput as exc:
        return fail(str(exc), EXIT_USAGE)
    try:
        with LocalServices((LIFT3D, ANALYSIS)) as services:
            config = services.client_config()
            lifted = call_stage(LIFT3D, "Lift", stages_pb2.Lift3DRequest(pose2d_bundle_key=pose2d.key), config)
            analyzed = call_stage(ANALYSIS, "Analyze", stages_pb2.AnalysisRequest(
                lift3d_bundle_key=lifted.outcome.bundle_key), config)
    except StageCallFailed as exc:
        return fail(str(exc), exit_code(exc))
    keys = {POSE2D: pose2d.key, LIFT3D: lifted.outcome.bundle_key, ANALYSIS: analyzed.outcome.bundle_key}
    export_outputs(store, keys, out)
    print(f"3D by {lifted.outcome.backend}, {lifted.frames} frames; outputs in {out}", file=sys.stderr)
    return EXIT_OK
