"""The `gait` flow: ingest a video, then rotate, 2D pose, 3D lift and analysis, one service call each.

Each task is one step, named for what it does, and returns the key of the bundle it produced (the
task results are the artifact keys; the artifacts stay in the store). Remote tasks declare their
retries, and `retry_on_transient` lets only transient faults be retried (see `gait.client`).
Nothing here holds a client: every call opens its own channel to GAIT_<STAGE>_ADDR.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NONE
from prefect.context import TaskRunContext

from flows import progress
from flows.steps import StageCall, analysis_call, lift3d_call, pose2d_call, rotate_call
from gait.client import StageCallFailed, call_stage
from gait.contracts import ANALYSIS, EXPORT, INGEST, LIFT3D, POSE2D, ROTATE, VIDEO
from gait.errors import InvalidInput, TransientError

VIDEO_KEY_PREFIX = f"{VIDEO}/"
RETRIES = 3
RETRY_DELAYS_S = [2.0, 5.0, 15.0]


def retry_on_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition of every task: retry only faults a retry may cure (UNAVAILABLE, a store
    that is momentarily unreachable); fail at once on anything else. A busy service's
    RESOURCE_EXHAUSTED is waited out inside the call (gait.client, GAIT_BUSY_WAIT_S), not here."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:
        return False
    if isinstance(exc, StageCallFailed):
        return exc.transient
    return isinstance(exc, TransientError)


# Shared by every task: Prefect-side caching and result files add nothing (the services' bundles
# are content-addressed and cached already), so both are off; the results are small strings.
TASK_OPTIONS: dict[str, Any] = dict(
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS_S,
    retry_jitter_factor=0.2,
    retry_condition_fn=retry_on_transient,
    cache_policy=NONE,
    persist_result=False,
)


def _will_retry(exc: BaseException) -> bool:
    transient = exc.transient if isinstance(exc, StageCallFailed) else isinstance(exc, TransientError)
    context = TaskRunContext.get()
    if not transient or context is None or context.task_run is None:
        return False
    return context.task_run.run_count <= context.task.retries


def _run_step(stage: str, step: Callable[[], tuple[str, bool, str, dict[str, Any]]]) -> str:
    """Run one step, timing it and telling the run log and the progress listener how it went.

    `step` returns (bundle_key, cached, backend, summary figures)."""
    logger = get_run_logger()
    progress.report(progress.StageEvent(stage, progress.STARTED))
    started = time.perf_counter()
    try:
        key, cached, backend, summary = step()
    except Exception as exc:
        called = isinstance(exc, StageCallFailed)
        event = progress.StageEvent(stage, progress.FAILED, seconds=time.perf_counter() - started,
                                    message=exc.details if called else str(exc),
                                    code=exc.code_name if called else "", will_retry=_will_retry(exc))
        progress.report(event)
        logger.warning(event.line())
        raise
    event = progress.StageEvent(stage, progress.DONE, bundle_key=key, cached=cached,
                                seconds=time.perf_counter() - started, backend=backend, summary=summary)
    progress.report(event)
    logger.info("%s%s%s", event.line(), f" -> {key}" if key else "", f" [{backend}]" if backend else "")
    return key


def _remote(call: StageCall) -> Callable:
    def step() -> tuple[str, bool, str, dict[str, Any]]:
        response = call_stage(call.stage, call.method, call.request)
        outcome = response.outcome
        return outcome.bundle_key, outcome.cached, outcome.backend, call.summarise(response)

    return step


@task(name="ingest_video", **TASK_OPTIONS)
def ingest(video: str) -> str:
    """Put a local video file, or a video object already in the store (an archive's file), into the
    store as a bundle keyed by its content hash, or check that `video` is the key of one already
    there. Returns the `video/...` bundle key."""

    def step() -> tuple[str, bool, str, dict[str, Any]]:
        from gait.artifacts import find_bundle
        from gait.ingest import ingest_stored_video, ingest_video
        from gait.store import open_store
        from gait.store.base import check_key

        store = open_store()
        path = Path(video).expanduser()
        if path.is_file():
            bundle = ingest_video(store, path)
            return bundle.key, False, "", {"MB": round(path.stat().st_size / 1e6, 1)}
        if video.startswith(VIDEO_KEY_PREFIX) and find_bundle(store, video) is not None:
            return video, True, "", {}
        try:
            stored = store.exists(check_key(video))
        except ValueError:  # not a key: a path that does not exist here
            stored = False
        if stored:
            bundle = ingest_stored_video(store, video)
            return bundle.key, False, "", {"MB": round(bundle.meta["bytes"] / 1e6, 1)}
        # The message does not repeat the value: a clinic's file names can identify a patient.
        raise InvalidInput("`video` is neither a readable video file on this machine, nor the key of an ingested "
                           "video, nor a video object in the store")

    return _run_step(INGEST, step)


@task(name="rotate_video", **TASK_OPTIONS)
def rotate_video(video_key: str, rotation_deg: int | None = None) -> str:
    """Make the video upright (RotateService.Rotate); returns the `rotate/...` bundle key."""
    return _run_step(ROTATE, _remote(rotate_call(video_key, rotation_deg)))


@task(name="estimate_pose_2d", **TASK_OPTIONS)
def estimate_pose_2d(video_bundle_key: str, deidentify: bool = True) -> str:
    """2D keypoints of the walking subject (Pose2DService.EstimatePose); returns the `pose2d/...` key.
    `deidentify=False` (research use): the videos keep the faces as filmed."""
    return _run_step(POSE2D, _remote(pose2d_call(video_bundle_key, deidentify)))


@task(name="lift_to_3d", **TASK_OPTIONS)
def lift_to_3d(pose2d_bundle_key: str) -> str:
    """Lift the 2D keypoints to 3D (Lift3DService.Lift); returns the `lift3d/...` key."""
    return _run_step(LIFT3D, _remote(lift3d_call(pose2d_bundle_key)))


@task(name="analyze_gait", **TASK_OPTIONS)
def analyze_gait(lift3d_bundle_key: str, cutoff_hz: float | None = None, filter_order: int | None = None) -> str:
    """Filter the trajectories, plot them and write the tables (AnalysisService.Analyze)."""
    return _run_step(ANALYSIS, _remote(analysis_call(lift3d_bundle_key, cutoff_hz, filter_order)))


@task(name="export_outputs", **TASK_OPTIONS)
def export(bundle_keys: dict[str, str], out_dir: str) -> str:
    """Copy every output of the run into `out_dir` (gait.export.export_outputs); returns `out_dir`."""

    def step() -> tuple[str, bool, str, dict[str, Any]]:
        from gait.export import export_outputs
        from gait.store import open_store

        written = export_outputs(open_store(), bundle_keys, Path(out_dir).expanduser())
        return "", False, "", {"files": len(written)}

    _run_step(EXPORT, step)
    return out_dir


@dataclass(frozen=True)
class PipelineRun:
    """What `run_pipeline` did to one video."""

    keys: dict[str, str]  # the bundle key of each step: video, rotate, pose2d, lift3d, analysis
    seconds: dict[str, float]  # each step's wall time as the flow saw it (retries included)


def run_pipeline(video: str, rotation_deg: int | None = None, cutoff_hz: float | None = None,
                 filter_order: int | None = None, deidentify: bool = True) -> PipelineRun:
    """The per-video chain of the `gait/full` and `gait/batch` deployments: ingest, rotate, 2D pose,
    3D lift, analysis, one task each. Call it inside a flow run (or a task of one); a failing step
    raises its exception and the steps after it do not run."""
    seconds: dict[str, float] = {}

    def timed(step: str, call: Callable[..., str], *args: Any) -> str:
        started = time.perf_counter()
        key = call(*args)
        seconds[step] = time.perf_counter() - started
        return key

    video_key = timed(INGEST, ingest, video)
    rotated = timed(ROTATE, rotate_video, video_key, rotation_deg)
    pose2d = timed(POSE2D, estimate_pose_2d, rotated, deidentify)
    lifted = timed(LIFT3D, lift_to_3d, pose2d)
    analyzed = timed(ANALYSIS, analyze_gait, lifted, cutoff_hz, filter_order)
    keys = {VIDEO: video_key, ROTATE: rotated, POSE2D: pose2d, LIFT3D: lifted, ANALYSIS: analyzed}
    return PipelineRun(keys, seconds)


@flow(name="gait", persist_result=True, result_serializer="json", validate_parameters=True)
def gait_flow(
    video: str,
    rotation_deg: int | None = None,
    cutoff_hz: float | None = None,
    filter_order: int | None = None,
    out_dir: str | None = None,
    deidentify: bool = True,
) -> dict[str, str]:
    """3D gait analysis of one walking video: rotate, 2D pose, 3D lift, filtering, plots and tables.

    Args:
        video: Path of a video file on the machine that runs the flow (it is ingested into the
            store first), the key of an already ingested video (`video/<hash>`), or the key of
            a video object in the store (e.g. an archive's file; ingested first as well).
        rotation_deg: Clockwise rotation to apply (0, 90, 180 or 270); empty: the rotation the
            file declares.
        cutoff_hz: Butterworth low-pass cutoff in Hz (below half the frame rate); empty: 6 Hz.
        filter_order: Butterworth order, 1 to 8; empty: 4.
        out_dir: Folder on the machine that runs the flow to copy every output into; empty: the
            outputs stay in the store only.
        deidentify: Blur every head in the videos the run writes and exports (the default); off
            (research use): the videos show faces as filmed. docs/deidentification.md.

    Returns:
        The bundle key of each step's output: video, rotate, pose2d, lift3d, analysis.
    """
    keys = run_pipeline(video, rotation_deg, cutoff_hz, filter_order, deidentify).keys
    if out_dir:
        export(keys, out_dir)
    create_table_artifact(
        key="gait-outputs",
        table=[{"step": step, "bundle_key": key} for step, key in keys.items()],
        description="Bundle keys of this run's outputs in the gait store (content hashes).",
    )
    return keys
