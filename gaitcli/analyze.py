"""`gait analyze FILE --out DIR`: the gait analysis alone on a motion-capture file (TRC, C3D, CSV
of named joints) or, in 2D mode, on 2D keypoints (`.npy` of Halpe-26 or COCO-17 x, y, score per
frame, as pose2d writes keypoints2d.npy): in this process, or with `--service` through the
analysis service (GAIT_ANALYSIS_ADDR, else one started on loopback) and the store."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from gait.analysis.recording import AnalyzeOptions
from gait.contracts import ANALYSIS
from gait.errors import InvalidInput
from gaitcli.exits import EXIT_OK, EXIT_USAGE, exit_code, fail

__all__ = ["AnalyzeOptions", "analyze_file"]


def _report(summary: dict, out: Path) -> None:
    parameters = summary["spatiotemporal_parameters"]
    cadence = parameters.get("cadence_steps_per_min")
    counted = "strides (one leg)" if cadence and cadence.get("from_strides") else "steps"
    line = f"cadence {cadence['mean']:.1f} steps/min from {cadence['n']} {counted}" if cadence else "no complete steps found"
    print(f"{summary['events']} events ({summary['mode']}), {line}; outputs in {out}", file=sys.stderr)
    for warning in summary["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)


def analyze_file(path: Path, out: Path, options: AnalyzeOptions, service: bool = False) -> int:
    if service:
        return _analyze_via_service(path, out, options)
    from gait.analysis.recording import analyze_recording

    try:
        if not path.is_file():
            raise InvalidInput("the file does not exist")
        out.mkdir(parents=True, exist_ok=True)
        _, _, summary = analyze_recording(path, options, hashlib.sha256(path.read_bytes()).hexdigest()[:16], out)
    except (InvalidInput, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    _report(summary, out)
    return EXIT_OK


def _analyze_via_service(path: Path, out: Path, options: AnalyzeOptions) -> int:
    import json
    import os

    from gait.artifacts import Bundle
    from gait.client import StageCallFailed, call_stage
    from gait.config import ClientConfig, gait_home
    from gait.ingest import ingest_recording
    from gait.logs import configure_logging
    from gait.store import open_store
    from gait.v1 import stages_pb2
    from gaitcli.launcher import LocalServices

    # the terminal shows at most one error line; the service's log goes to a file
    configure_logging("INFO", path=gait_home() / "logs" / "gait-analyze.log")
    try:
        store = open_store()
        recording = ingest_recording(store, path)
    except InvalidInput as exc:
        return fail(str(exc), EXIT_USAGE)
    request = stages_pb2.RecordingAnalysisRequest(
        recording_bundle_key=recording.key, units=options.units or "", markers=options.markers or "",
        cutoff_auto=options.cutoff_hz == "auto", events_method=options.events, sex=options.sex or "",
        up_axis=options.up_axis or "", forward_axis=options.forward_axis or "")
    for field, value in (("rate_hz", options.rate_hz), ("filter_order", options.order), ("height_m", options.height_m),
                         ("age_years", options.age_years)):
        if value is not None:
            setattr(request, field, value)
    if options.cutoff_hz not in (None, "auto"):
        request.cutoff_hz = float(options.cutoff_hz)
    local = None if os.environ.get("GAIT_ANALYSIS_ADDR") else LocalServices((ANALYSIS,))
    config = local.client_config() if local else ClientConfig.from_env()
    try:
        response = call_stage(ANALYSIS, "AnalyzeRecording", request, config, wait_for_ready=False)
    except StageCallFailed as exc:
        return fail(exc.details, exit_code(exc))
    finally:
        if local:
            local.stop()
    bundle = Bundle.open(store, response.outcome.bundle_key, expected_stage=ANALYSIS)
    out.mkdir(parents=True, exist_ok=True)
    for name in bundle.files:
        bundle.fetch(name, out)
    _report(json.loads((out / "analysis.json").read_text()), out)
    return EXIT_OK
