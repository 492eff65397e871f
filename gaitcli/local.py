"""`gait run` and `gait batch` in one process: the four services on loopback (or the running ones,
`--services external`) and a real Prefect flow run of `gait` (one video) or of the batch flow
(`flows.batch_flow`).

The Prefect API the run reports to is, in order of preference: the one PREFECT_API_URL names when
it answers (e.g. a `gait stack` that is up: the run then shows in its UI), else gait's own Prefect
server on loopback (`flows.local_server`), which a previous command left running or this one starts
first thing, in the background, so that its start-up (~8 CPU s) overlaps the import of Prefect
and the services' start-up; it stops after GAIT_PREFECT_IDLE_S without a request. GAIT_PREFECT_SERVER=temporary: Prefect's temporary server instead, a child process
stopped at the end of the command.

The video is ingested here, before the flow run, and the flow gets its content-hash key: the
clinic's file name never reaches Prefect's database, logs or UI. A video that was in the store
already, with every step of its chain there too, is answered from the store with no flow run
(`gaitcli.from_store`).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from flows.progress import DONE, Listener, StageEvent
from flows.local_server import LocalServer, ensure_running
from flows.runtime import TemporaryPrefectAPI, api_is_healthy, configure_prefect, drain_prefect_workers
from gait.config import prefect_idle_s, prefect_server_mode
from gait.contracts import INGEST

if TYPE_CHECKING:
    from prefect.states import State

log = logging.getLogger(__name__)


@contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _quiet_prefect_console() -> Iterator[None]:
    from prefect.logging.handlers import PrefectConsoleHandler

    handlers = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    levels = [h.level for h in handlers]
    for handler in handlers:
        handler.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for handler, level in zip(handlers, levels):
            handler.setLevel(level)


EXTERNAL_CHECK_S = 5.0


def add_services_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--services", choices=("local", "external"), default="local",
                        help="local (default): start the four services in this process; external: use the running "
                             "ones at GAIT_<STAGE>_ADDR (`gait stack`, a cluster's port-forward)")


def check_external_services() -> None:
    """Each stage's service at GAIT_<STAGE>_ADDR answers its health check, else one error naming
    every one that does not (before any flow run, so nothing waits on a service that is not there)."""
    from gait.config import ClientConfig
    from gait.errors import GaitError
    from gait.health import check_grpc

    silent = []
    for stage, address in ClientConfig.from_env().addresses.items():
        healthy, line = check_grpc(address, timeout_s=EXTERNAL_CHECK_S)
        if not healthy:
            silent.append(f"{stage} at {address} (GAIT_{stage.upper()}_ADDR) {_why_silent(line)}")
    if silent:
        raise GaitError("--services external: no healthy service for " + "; ".join(silent))


def _why_silent(line: str) -> str:
    """A dead service (nothing listens) and a slow one (no answer in time) told apart."""
    if "Connection refused" in line or "failed to connect" in line:
        return "is not running (connection refused)"
    if "DEADLINE_EXCEEDED" in line:
        return f"does not answer within {EXTERNAL_CHECK_S:g} s (running but busy or stuck)"
    return f"is not serving ({line.split(': ', 1)[-1]})"


@contextmanager
def local_runtime(
    listener: Listener | None = None,
    prefect_console: bool = True,
    external: bool = False,
) -> Iterator[None]:
    """The four services on loopback (or, `external`, the running ones at GAIT_<STAGE>_ADDR) and a
    Prefect API for flow runs in this process, for a `with` block. See `run_local` for `listener`
    and `prefect_console`.
    """
    started = time.perf_counter()
    configure_prefect()
    with ExitStack() as stack:
        api_url = os.environ.get("PREFECT_API_URL", "").strip()
        api = None
        if not (api_url and api_is_healthy(api_url, timeout_s=1.0)):
            if api_url:
                log.warning("PREFECT_API_URL does not answer; using gait's own Prefect server", extra={"api": api_url})
            api = _own_prefect_api(stack)

        # While the API server starts: import Prefect, start the services.
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from flows import progress
        from gaitcli.launcher import LocalServices

        if external:
            check_external_services()
        else:
            services = stack.enter_context(LocalServices())
            stack.enter_context(_environment(services.environment()))
        if api is not None:
            api_url = api.wait_ready()
        log.info("prefect api ready", extra={"seconds": round(time.perf_counter() - started, 2)})

        settings: dict = {PREFECT_API_URL: api_url}
        if isinstance(api, TemporaryPrefectAPI):
            # Heartbeats let a long-lived server notice a crashed run; the temporary server dies
            # with this process, so nobody would read them, and stopping the heartbeat thread
            # costs up to 1 s at the end of every run (it sleeps in 1 s steps).
            settings[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
        stack.enter_context(temporary_settings(updates=settings))
        if api is not None:
            stack.callback(drain_prefect_workers)  # queued logs and events, before the command ends
        if not prefect_console:
            stack.enter_context(_quiet_prefect_console())
        if listener is not None:
            stack.enter_context(progress.listening(listener))
        yield


def _own_prefect_api(stack: ExitStack) -> TemporaryPrefectAPI | LocalServer:
    """The Prefect server of `flows.local_server`, kept running between commands (started now if
    none is), or with GAIT_PREFECT_SERVER=temporary one that stops with this command."""
    if prefect_server_mode() == "temporary":
        api = TemporaryPrefectAPI().start()
        stack.callback(api.stop)
        return api
    server = ensure_running()
    if server.started_here:
        print(f"Prefect server started in the background on 127.0.0.1:{server.port} for this and later commands; "
              f"it stops after {prefect_idle_s():g} s without a request (set GAIT_PREFECT_SERVER=temporary "
              f"for one per command instead)", file=sys.stderr)
    return server


def run_local(
    video: Path,
    out_dir: Path | None = None,
    rotation_deg: int | None = None,
    cutoff_hz: float | None = None,
    filter_order: int | None = None,
    listener: Listener | None = None,
    prefect_console: bool = True,
    external: bool = False,
    deidentify: bool = True,
) -> dict[str, str]:
    """Run the whole pipeline on `video` and export the outputs to `out_dir` (when given).

    Returns the bundle key of every step (see `flows.gait_flow.gait_flow`). Raises
    `gait.errors.InvalidInput` for an unreadable video (before any flow run) and the failing
    task's exception otherwise (`gait.client.StageCallFailed`: `str()` is one readable line).
    `listener`, if given, receives a `flows.progress.StageEvent` as each step starts and ends.
    `prefect_console=False` keeps Prefect's own console lines (run states, and the tracebacks it
    logs when a task fails) off the terminal during the run, for a CLI that shows the listener's
    lines and one error line instead; the API still gets every line (the runs of `gait run` are
    in the same database that `gait stack`'s UI shows). `external`: the services already running
    at GAIT_<STAGE>_ADDR (`gait stack`, a cluster's port-forward) instead of starting them here.
    `deidentify=False` (`--no-deidentify`, research use): the videos keep the faces as filmed.
    """
    from dataclasses import replace

    from gait.ingest import ingest_video_found
    from gait.store import open_store

    prefect_server_mode()  # a wrong setting is said before anything is stored
    # Ingested first: a video that was in the store already may have every step there too, and
    # then the services answer from the store without a flow run (gaitcli.from_store).
    bundle, found = ingest_video_found(open_store(), Path(video))
    if found and not external:
        from gaitcli.from_store import run_from_store

        keys = run_from_store(bundle.key, out_dir, rotation_deg, cutoff_hz, filter_order, deidentify, listener)
        if keys is not None:
            return keys

    def relay(event: StageEvent) -> None:
        # the flow gets the key of the video ingested just now: its ingest step finds the bundle, so
        # the listener is told what this process found (cached only if it was there before)
        if event.stage == INGEST and event.status == DONE:
            event = replace(event, cached=found)
        listener(event)

    with local_runtime(relay if listener is not None else None, prefect_console, external):
        from flows.gait_flow import gait_flow

        return gait_flow(
            video=bundle.key,
            rotation_deg=rotation_deg,
            cutoff_hz=cutoff_hz,
            filter_order=filter_order,
            out_dir=str(out_dir) if out_dir is not None else None,
            deidentify=deidentify,
        )


def run_batch_local(
    prefix: str | None,
    keys: list[str] | None,
    out_dir: Path | None = None,
    concurrency: int = 4,
    prefect_console: bool = True,
    external: bool = False,
    deidentify: bool = True,
) -> State:
    """Run the `gait/batch` flow in this process on videos already in the store (see
    `flows.batch_flow.batch_flow`). Returns the flow run's final state: Completed, or Failed when a
    video failed (its result is then still the batch's result) or the batch could not start."""
    with local_runtime(prefect_console=prefect_console, external=external):
        from flows.batch_flow import batch_flow

        return batch_flow(prefix=prefix, keys=keys, concurrency=concurrency,
                          out_dir=str(out_dir) if out_dir is not None else None, deidentify=deidentify,
                          return_state=True)
