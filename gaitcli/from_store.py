"""`gait run` on a video whose every step is already in the store, answered from the store.

The same four service calls as the flow, each with `cached_only` (the service returns its bundle
if committed, else NOT_FOUND and computes nothing), without Prefect: a flow run's start and its
five task runs are most of the wait when nothing is computed. Any call that is not answered from
the store leaves the run to the flow (`gaitcli.local.run_local`), which then reuses whatever is
cached. Such a run is not recorded in Prefect's database: nothing ran.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from flows.progress import DONE, STARTED, Listener, StageEvent
from flows.steps import StageCall, analysis_call, lift3d_call, pose2d_call, rotate_call
from gait.contracts import ANALYSIS, EXPORT, INGEST, LIFT3D, POSE2D, ROTATE, VIDEO

log = logging.getLogger(__name__)


def run_from_store(video_key: str, out_dir: Path | None, rotation_deg: int | None, cutoff_hz: float | None,
                   filter_order: int | None, deidentify: bool, listener: Listener | None) -> dict[str, str] | None:
    """The bundle keys of every step of `video_key`'s chain when each is in the store (the outputs
    exported to `out_dir`, the listener told each step as the flow would tell it), else None."""
    from gait.client import StageCallFailed, call_stage
    from gaitcli.launcher import LocalServices

    keys = {VIDEO: video_key}
    events = [StageEvent(INGEST, DONE, bundle_key=video_key, cached=True)]
    chain = ((ROTATE, lambda: rotate_call(keys[VIDEO], rotation_deg, cached_only=True)),
             (POSE2D, lambda: pose2d_call(keys[ROTATE], deidentify, cached_only=True)),
             (LIFT3D, lambda: lift3d_call(keys[POSE2D], cached_only=True)),
             (ANALYSIS, lambda: analysis_call(keys[LIFT3D], cutoff_hz, filter_order, cached_only=True)))
    with LocalServices() as services:
        config = services.client_config()
        for stage, make_call in chain:
            call: StageCall = make_call()
            started = time.perf_counter()
            try:
                response = call_stage(call.stage, call.method, call.request, config)
            except StageCallFailed as exc:
                log.info("not all in the store: the flow runs", extra={"stage": stage, "why": exc.code_name})
                return None
            outcome = response.outcome
            keys[stage] = outcome.bundle_key
            events.append(StageEvent(stage, DONE, bundle_key=outcome.bundle_key, cached=True,
                                     seconds=time.perf_counter() - started, backend=outcome.backend,
                                     summary=call.summarise(response)))
    log.info("answered from the store: every step cached, no flow run", extra={"analysis": keys[ANALYSIS]})
    if out_dir is not None:
        from gait.export import export_outputs
        from gait.store import open_store

        started = time.perf_counter()
        written = export_outputs(open_store(), keys, Path(out_dir).expanduser())
        events.append(StageEvent(EXPORT, DONE, seconds=time.perf_counter() - started, summary={"files": len(written)}))
    for event in events if listener is not None else ():
        listener(StageEvent(event.stage, STARTED))
        listener(event)
    return keys
