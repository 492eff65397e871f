"""Per-stage progress for whoever runs the flow in-process (the `gait run` terminal).

The flow's tasks log each stage through Prefect's run logger (shown in the UI) and also call
`report()`, which forwards a `StageEvent` to the one listener registered here, if any:

    from flows import progress
    progress.set_listener(lambda event: print(event.line(), file=sys.stderr))

A listener runs in the task's thread; it must be quick, and its exceptions are logged and
otherwise ignored (progress display never fails a run). Served deployments run flows in a
separate process, where no listener is registered: there the run logger is the record.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

log = logging.getLogger(__name__)

STARTED, DONE, FAILED = "started", "done", "failed"


@dataclass(frozen=True)
class StageEvent:
    """One stage started, finished or failed. Keys are content hashes: nothing identifies a patient."""

    stage: str  # "ingest", "rotate", "pose2d", "lift3d", "analysis" or "export"
    status: str  # STARTED, DONE or FAILED
    bundle_key: str = ""
    cached: bool = False
    seconds: float = 0.0  # wall time of the stage as seen by the flow (includes the call)
    backend: str = ""
    summary: dict[str, Any] = field(default_factory=dict)  # small figures, e.g. {"frames": 231}
    message: str = ""  # why it failed (the server's message); for FAILED events
    code: str = ""  # the gRPC status name of a failed call, e.g. "INVALID_ARGUMENT"
    will_retry: bool = False  # FAILED with a transient error: the task will be retried

    def line(self) -> str:
        """A terminal line such as `rotate done (cached) 1.2 s`."""
        if self.status == STARTED:
            return f"{self.stage} ..."
        if self.status == FAILED:
            code = f" ({self.code})" if self.code else ""
            return f"{self.stage} failed{code}{', will retry' if self.will_retry else ''}: {self.message}"
        cached = " (cached)" if self.cached else ""
        figures = "".join(f", {name} {_fmt(value)}" for name, value in self.summary.items())
        return f"{self.stage} done{cached} {self.seconds:.1f} s{figures}"


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


Listener = Callable[[StageEvent], None]
_lock = threading.Lock()
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> Listener | None:
    """Register the in-process listener (None removes it); returns the one it replaces."""
    global _listener
    with _lock:
        previous, _listener = _listener, listener
    return previous


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Register `listener` for the duration of a `with` block."""
    previous = set_listener(listener)
    try:
        yield
    finally:
        set_listener(previous)


def report(event: StageEvent) -> None:
    """Forward `event` to the listener, if one is registered."""
    with _lock:
        listener = _listener
    if listener is None:
        return
    try:
        listener(event)
    except Exception:  # a broken display must not fail the pipeline
        log.exception("progress listener failed", extra={"stage": event.stage})
