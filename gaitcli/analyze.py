"""`gait analyze FILE --out DIR`: the gait analysis alone on a motion-capture file (TRC, C3D, CSV
of named joints) or, in 2D mode, on 2D keypoints (`.npy` of Halpe-26 or COCO-17 x, y, score per
frame, as pose2d writes keypoints2d.npy): in this process, or with `--service` through the
analysis service (GAIT_ANALYSIS_ADDR, else one started on loopback) and the store."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from gait.analysis.recording import AnalyzeOptions
from gait.contracts import ANALYSIS
from gait.errors import InvalidInput
from gaitcli.exits import EXIT_OK, EXIT_USAGE, exit_code, fail

__all__ = ["AnalyzeOptions", "analyze_file", "analyze_files"]


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
    try:
        summary = _analyze_here(path, out, options)
    except (InvalidInput, ValueError) as exc:
        return fail(str(exc), EXIT_USAGE)
    _report(summary, out)
    return EXIT_OK


def _analyze_here(path: Path, out: Path, options: AnalyzeOptions) -> dict:
    from gait.analysis.recording import analyze_recording

    if not path.is_file():
        raise InvalidInput("the file does not exist")
    out.mkdir(parents=True, exist_ok=True)
    return analyze_recording(path, options, hashlib.sha256(path.read_bytes()).hexdigest()[:16], out)[2]


def analyze_files(paths: list[Path], out: Path, options: AnalyzeOptions, service: bool = False) -> int:
    """A session of trials (several files, or a folder of them): each analyzed into out/<its
    name>/ as `gait analyze` of it alone would, then out/trials.csv and out/trials.xlsx with a
    row per trial (its main parameters, or why it could not be analyzed) and the mean of the
    analyzed trials. A folder is searched for C3D and TRC files. One failing trial does not stop
    the others; the exit code is 2 if any failed."""
    files = [f for p in paths for f in (sorted(c for c in p.iterdir() if c.suffix.lower() in SESSION_SUFFIXES)
                                        if p.is_dir() else [p])]
    if not files:
        return fail(f"no motion-capture file ({', '.join(SESSION_SUFFIXES)}) in {', '.join(map(str, paths))}", EXIT_USAGE)
    rows, failed = [], 0
    for path, folder in zip(files, _trial_folders(files)):
        print(f"{path.name}:", file=sys.stderr)
        if service:
            summary = None if _analyze_via_service(path, out / folder, options) != EXIT_OK else json.loads(
                (out / folder / "analysis.json").read_text())
            reason = "see the line above"
        else:
            try:
                summary = _analyze_here(path, out / folder, options)
                _report(summary, out / folder)
            except (InvalidInput, ValueError) as exc:
                summary, reason = None, str(exc)
                fail(f"{path.name}: {exc}", EXIT_USAGE)
                if (out / folder).is_dir() and not any((out / folder).iterdir()):
                    (out / folder).rmdir()  # nothing half-written is left for a trial that failed
        if summary is None:
            failed += 1
            rows.append({"trial": path.name, "status": f"not analyzed: {reason}"})
        else:
            rows.append(trial_row(path.name, folder, summary))
    _write_trials(out, rows)
    print(f"{len(rows) - failed} of {len(rows)} trials analyzed; one row each in {out / 'trials.csv'} and "
          f"{out / 'trials.xlsx'}", file=sys.stderr)
    return EXIT_USAGE if failed else EXIT_OK


SESSION_SUFFIXES = (".c3d", ".trc")  # what a folder is searched for (files named one by one may be of any kind)
TRIAL_PARAMETERS = ("cadence_steps_per_min", "speed_m_s", "step_length_m", "stride_length_m", "step_time_s",
                    "stride_time_s", "stance_pct", "double_support_pct", "step_width_m")


def trial_row(name: str, folder: str, summary: dict) -> dict:
    """A trial's line of the session table: its events, steps (a one-legged trial's strides), the
    means of its main parameters and how many warnings it has."""
    parameters = summary["spatiotemporal_parameters"]
    means = {column: parameters[column]["mean"] if column in parameters else None for column in TRIAL_PARAMETERS}
    return {"trial": name, "status": "analyzed", "outputs": folder, "events": summary["events"],
            "steps": parameters.get("cadence_steps_per_min", {}).get("n", 0), **means,
            "warnings": len(summary["warnings"])}


def _trial_folders(files: list[Path]) -> list[str]:
    """A folder name per trial: its file name without the extension, with it where two trials
    share a name (walk01.c3d, walk01.trc)."""
    stems = [f.stem for f in files]
    return [f.name.replace(".", "_") if stems.count(f.stem) > 1 else f.stem for f in files]


def _write_trials(out: Path, rows: list[dict]) -> None:
    import pandas as pd

    from gait.tables import write_workbook

    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(rows)
    analyzed = table[table.status == "analyzed"]
    if len(analyzed) > 1:
        mean = {"trial": f"mean of {len(analyzed)} trials", "status": "", **analyzed[list(TRIAL_PARAMETERS)].mean().to_dict()}
        table = pd.concat([table, pd.DataFrame([mean])], ignore_index=True)
    table.to_csv(out / "trials.csv", index=False, float_format="%.6g")
    write_workbook(out / "trials.xlsx", {"trials": table}, {
        "what": "one row per trial: the mean of each parameter over its steps (each trial's own outputs are in "
                "its folder), and the mean over the analyzed trials",
        "units": "steps/min, m/s, m, s, % of the stride"})


def _analyze_via_service(path: Path, out: Path, options: AnalyzeOptions) -> int:
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
