"""The `gait/batch` flow: every video under a store prefix (or in a list of keys) through the
per-video pipeline of `gait/full`, a few at a time, then one summary table for the batch.

- Fan-out: one `process_video` task per video on a pool of `concurrency` threads; inside it the
  pipeline's own tasks (`flows.gait_flow.run_pipeline`) with their retries for transient faults.
  A video that fails (a corrupt file, a stage that refuses it) fails its own task and becomes a
  `failed` row with the reason; the other videos go on.
- Resumable: a finished video leaves a record, `batches/done/<hash>.json`, whose key derives from
  the source key, the settings and gait's release. A re-run (after a crash, or over a prefix that
  has grown) skips those videos without calling any service (`skipped-already-done`) and does
  only the rest. `skip_done=False` asks the services again: they still reuse every bundle whose
  inputs, settings and stage version are unchanged (their keys are content-derived).
- The summary, `batches/<hash>/summary.csv` and `summary.xlsx` with the sidecar `batch.json`, where
  the hash is that of the sorted source keys and the settings: the same batch always writes to the
  same place (a re-run replaces its summary). Copied to `out_dir` when given.

The flow is named `gait`, like the one-video flow, so that its deployment is `gait/batch`. It ends
Completed when every video is done or skipped, Failed (with the summary written) otherwise.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.futures import PrefectFuture
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from flows.gait_flow import TASK_OPTIONS, run_pipeline
from gait.artifacts import Bundle, canonical_json, find_bundle
from gait.client import StageCallFailed
from gait.contracts import ANALYSIS, INGEST, POSE2D, RECORDING, ROTATE, STAGE_VERSIONS, STAGES, VIDEO
from gait.errors import ArtifactNotFound, GaitError, InvalidInput
from gait.ingest import VIDEO_SUFFIXES
from gait.store import open_store

BATCHES = "batches/"
SCHEMA = "gait.batch/1"
DONE, FAILED, SKIPPED = "done", "failed", "skipped-already-done"
# Done, but the numbers cannot be stood behind: no or too few steps, or outside physiological limits.
CANNOT_MEASURE, IMPLAUSIBLE = "done-cannot-measure", "done-implausible"
STATUSES = (DONE, CANNOT_MEASURE, IMPLAUSIBLE, SKIPPED, FAILED)
# Where the pipeline keeps its own objects: never taken for an archive's videos.
OWN_PREFIXES = tuple(f"{name}/" for name in (VIDEO, RECORDING, *STAGES, BATCHES.rstrip("/"), "smoke"))
STEPS = (INGEST, *STAGES)
# The analysis's spatiotemporal parameters in the summary (the mean over the clip's steps).
PARAMETERS = ("cadence_steps_per_min", "speed_m_s", "step_length_m", "stride_length_m", "step_width_m",
              "stride_time_s", "double_support_pct")
COLUMNS = {
    "source": "the video's key in the store, as given or listed",
    "status": f"{DONE}; {CANNOT_MEASURE} (no walking bout, no or too few steps: see warnings); {IMPLAUSIBLE} "
              f"(a result outside wide physiological limits: see warnings); {FAILED}; or {SKIPPED} (finished by an "
              "earlier run with the same settings: its warnings say how it went)",
    "reason": "why the video failed: the stage and its message",
    "warnings": "what the analysis could not measure or stand behind, as `gait run` prints them ('; ' between)",
    "video_key": "the ingested video's bundle key (content hash)",
    "analysis_key": "the analysis bundle: report, tables, plots (`gait` outputs)",
    "video_s": "duration of the clip, s",
    "detection_rate": "share of frames in which the walker's 2D pose was found",
    "total_s": "wall time of the five steps, s (for skipped videos: of the run that made the results)",
    **{f"{step}_s": f"wall time of the {step} step, s" for step in STEPS},
    "steps": "steps the parameters are averaged over",
    "cadence_steps_per_min": "cadence, steps/min",
    "speed_m_s": "walking speed, m/s",
    "step_length_m": "step length, m",
    "stride_length_m": "stride length, m",
    "step_width_m": "step width, m",
    "stride_time_s": "stride time, s",
    "double_support_pct": "double support, % of the stride",
}


def _digest(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj)).hexdigest()[:32]


def batch_settings(rotation_deg: int | None, cutoff_hz: float | None, filter_order: int | None,
                   deidentify: bool = True) -> dict[str, Any]:
    """What the results of a video depend on besides the video: the parameters and the stages'
    versions (the same versions that key the stages' bundles, so a new stage version redoes the
    videos it changes)."""
    return {"rotation_deg": rotation_deg, "cutoff_hz": cutoff_hz, "filter_order": filter_order,
            "deidentify": deidentify, "stage_versions": dict(STAGE_VERSIONS)}


def done_record_key(source: str, settings: dict[str, Any]) -> str:
    return f"{BATCHES}done/{_digest({'source': source, 'settings': settings})}.json"


def batch_key(sources: list[str], settings: dict[str, Any]) -> str:
    return f"{BATCHES}{_digest({'sources': sorted(sources), 'settings': settings})}"


def is_archive_video(key: str) -> bool:
    return PurePosixPath(key).suffix.lower() in VIDEO_SUFFIXES and not key.startswith(OWN_PREFIXES)


@task(name="list_videos", **TASK_OPTIONS)
def list_videos(prefix: str) -> list[str]:
    """The video objects under `prefix` (by file extension), sorted; the pipeline's own objects are left out."""
    return [key for key in open_store().list(prefix) if is_archive_video(key)]


@task(name="find_finished_video", **TASK_OPTIONS)
def find_finished_video(record_key: str) -> dict[str, Any] | None:
    """The row an earlier run of this video with these settings recorded, if its analysis bundle is still there."""
    store = open_store()
    try:
        row = json.loads(store.get_bytes(record_key))
    except ArtifactNotFound:
        return None
    return row if find_bundle(store, row["analysis_key"]) is not None else None


@task(name="record_finished_video", **TASK_OPTIONS)
def record_finished_video(record_key: str, source: str, keys: dict[str, str],
                          seconds: dict[str, float]) -> dict[str, Any]:
    """The video's summary row, from its bundles' manifests, stored as its done record; returns the row."""
    store = open_store()
    rotate = Bundle.open(store, keys[ROTATE], expected_stage=ROTATE).meta
    analysis = Bundle.open(store, keys[ANALYSIS], expected_stage=ANALYSIS).meta
    parameters = analysis.get("spatiotemporal_parameters", {})
    row = {
        "source": source, "video_key": keys[VIDEO], "analysis_key": keys[ANALYSIS],
        "video_s": rotate["frames"] / rotate["fps"],
        "detection_rate": Bundle.open(store, keys[POSE2D], expected_stage=POSE2D).meta["detection_rate"],
        "total_s": sum(seconds.values()), **{f"{step}_s": seconds[step] for step in STEPS},
        "steps": parameters.get("cadence_steps_per_min", {}).get("n", 0),
        **{name: parameters[name]["mean"] for name in PARAMETERS if name in parameters},
        "status": measured_status(analysis), "warnings": "; ".join(analysis.get("warnings", [])),
    }
    store.put_bytes(record_key, json.dumps(row, indent=1).encode())
    return row


def measured_status(analysis: dict[str, Any]) -> str:
    """A finished video's status from its analysis: done, or why its numbers cannot be stood behind."""
    steps = analysis.get("spatiotemporal_parameters", {}).get("cadence_steps_per_min", {})
    if not steps.get("n") or steps.get("few", True):
        return CANNOT_MEASURE
    return IMPLAUSIBLE if analysis.get("implausible") else DONE


@task(name="process_video", cache_policy=NONE, persist_result=False)
def process_video(source: str, rotation_deg: int | None, cutoff_hz: float | None, filter_order: int | None,
                  skip_done: bool, deidentify: bool = True) -> dict[str, Any]:
    """One video of the batch: skipped when a finished run is on record, else the whole pipeline.

    No retries here: each step retries its own transient faults; anything else is the video's.
    """
    record_key = done_record_key(source, batch_settings(rotation_deg, cutoff_hz, filter_order, deidentify))
    if skip_done:
        row = find_finished_video(record_key)
        if row is not None:
            return {**row, "status": SKIPPED}
    run = run_pipeline(source, rotation_deg, cutoff_hz, filter_order, deidentify)
    return record_finished_video(record_key, source, run.keys, run.seconds)


def failure_reason(exc: BaseException) -> str:
    """One line: a stage's failure names the stage; gait's errors are written to be shown as they are."""
    if isinstance(exc, (StageCallFailed, GaitError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _row(source: str, future: PrefectFuture) -> dict[str, Any]:
    future.wait()
    outcome = future.result(raise_on_failure=False)
    if isinstance(outcome, BaseException) or not future.state.is_completed():
        return {"source": source, "status": FAILED, "reason": failure_reason(outcome)}
    return outcome


@task(name="write_batch_summary", **TASK_OPTIONS)
def write_batch_summary(key: str, rows: list[dict[str, Any]], about: dict[str, Any],
                        out_dir: str | None) -> dict[str, str]:
    """summary.csv, summary.xlsx (a sheet per table plus `about`) and batch.json under `key`, and in
    `out_dir` when given. Returns the keys of the three objects."""
    import pandas as pd

    from gait.tables import write_workbook

    store = open_store()
    table = pd.DataFrame(rows).reindex(columns=list(COLUMNS))
    sidecar = {"schema": SCHEMA, **about, "columns": COLUMNS}
    keys = {name: f"{key}/{name}" for name in ("summary.csv", "summary.xlsx", "batch.json")}
    with tempfile.TemporaryDirectory(prefix="gait-batch-") as folder:
        files = {name: Path(folder) / name for name in keys}
        table.to_csv(files["summary.csv"], index=False, float_format="%.6g")
        write_workbook(files["summary.xlsx"], {"videos": table}, {**about, **COLUMNS})
        files["batch.json"].write_text(json.dumps(sidecar, indent=1, default=str))
        for name, path in files.items():
            store.put_file(keys[name], path)
        if out_dir:
            target = Path(out_dir).expanduser()
            target.mkdir(parents=True, exist_ok=True)
            for name, path in files.items():
                shutil.copyfile(path, target / name)
    return keys


def _sources(prefix: str | None, keys: list[str] | None) -> list[str]:
    if (prefix is None) == (keys is None):
        raise InvalidInput("give either `prefix` (every video under it) or `keys` (a list of video keys), not both")
    sources = list_videos(prefix) if prefix is not None else sorted(set(keys))
    if not sources:
        raise InvalidInput("no videos to process: the prefix holds no video objects (mp4, mov, ...)"
                           if prefix is not None else "`keys` is empty")
    return sources


@flow(name="gait", persist_result=True, result_serializer="json", validate_parameters=True)
def batch_flow(
    prefix: str | None = None,
    keys: list[str] | None = None,
    concurrency: Annotated[int, Field(ge=1, le=256)] = 4,
    rotation_deg: int | None = None,
    cutoff_hz: float | None = None,
    filter_order: int | None = None,
    skip_done: bool = True,
    out_dir: str | None = None,
    deidentify: bool = True,
) -> dict[str, Any] | State:
    """3D gait analysis of every video of an archive, a few at a time, with a summary table.

    Args:
        prefix: Store key prefix to take every video object under (mp4, mov, ...), e.g.
            `archive/2024/`; empty string: the whole store. Leave empty when giving `keys`.
        keys: The store keys of the videos (archive objects or ingested `video/<hash>` keys),
            instead of a prefix.
        concurrency: Videos in progress at once (each is one call at a time to the services).
        rotation_deg: Clockwise rotation for every video (0, 90, 180 or 270); empty: the
            rotation each file declares.
        cutoff_hz: Butterworth low-pass cutoff in Hz; empty: 6 Hz.
        filter_order: Butterworth order, 1 to 8; empty: 4.
        skip_done: Skip videos that an earlier run finished with the same settings; off: ask the
            services again (they reuse every result that is still valid).
        out_dir: Folder on the machine that runs the flow to copy the summary into; empty: the
            summary stays in the store only.
        deidentify: Blur every head in the videos each run writes (the default); off (research
            use): the videos in the store show faces as filmed.

    Returns:
        The batch key, the counts per status and the keys of the summary files.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    sources = _sources(prefix, keys)
    settings = batch_settings(rotation_deg, cutoff_hz, filter_order, deidentify)
    key = batch_key(sources, settings)
    logger.info("batch %s: %d videos, %d at a time", key, len(sources), concurrency)
    with ThreadPoolTaskRunner(max_workers=concurrency) as runner:
        futures = [runner.submit(process_video, {"source": source, "rotation_deg": rotation_deg,
                                                 "cutoff_hz": cutoff_hz, "filter_order": filter_order,
                                                 "skip_done": skip_done, "deidentify": deidentify})
                   for source in sources]
        rows = [_row(source, future) for source, future in zip(sources, futures)]
    counts = {status: sum(row["status"] == status for row in rows) for status in STATUSES}
    about = {"batch": key, "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "settings": settings,
             "videos": len(rows), **counts, "seconds": round(time.perf_counter() - started, 1)}
    summary = write_batch_summary(key, rows, about, out_dir)
    result = {"batch": key, "videos": len(rows), "counts": counts, "summary": summary}
    unsure = f" ({counts[CANNOT_MEASURE]} cannot be measured, {counts[IMPLAUSIBLE]} implausible)" \
        if counts[CANNOT_MEASURE] or counts[IMPLAUSIBLE] else ""
    message = (f"{counts[DONE] + counts[CANNOT_MEASURE] + counts[IMPLAUSIBLE]} done{unsure}, {counts[SKIPPED]} skipped "
               f"(already done), {counts[FAILED]} failed of {len(rows)} videos; summary: {summary['summary.xlsx']}")
    logger.info(message)
    if counts[FAILED]:
        return Failed(message=message, data=result)
    return result
