"""`gait run VIDEO --out DIR`: the whole pipeline from the terminal, with progress and a summary."""
from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from gait.contracts import ROTATE, STEPS
from gaitcli.exits import EXIT_FAILED, EXIT_OK, EXIT_USAGE, exit_code, fail

MIN_PACE_CLIP_S = 0.5  # a shorter clip's pace (run time over clip time) says nothing


class ProgressDisplay:
    """One line per step; on a terminal the running step shows a ticking clock."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self._running: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        if self.live:
            threading.Thread(target=self._tick, daemon=True, name="gait-progress").start()

    def __call__(self, event) -> None:
        with self._lock:
            number = STEPS.index(event.stage) + 1 if event.stage in STEPS else 0
            prefix = f"[{number}/{len(STEPS)}] "
            if event.status == "started":
                self._running = (prefix + event.stage, time.perf_counter())
                self._write(f"{prefix}{event.stage} ...", final=False)
            else:
                self._running = None
                self._write(prefix + event.line(), final=True)

    def _write(self, text: str, final: bool) -> None:
        if self.live:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        elif final:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            with self._lock:
                if self._running:
                    label, started = self._running
                    self._write(f"{label} ... {time.perf_counter() - started:.1f} s", final=False)

    def close(self) -> None:
        self._stop.set()


def run_and_report(video: Path, out: Path, rotation: int | None, cutoff_hz: float | None, order: int | None,
                   external: bool = False, deidentify: bool = True) -> int:
    """The whole pipeline on one video, as `gait run` shows it: progress lines, a summary, one line
    on failure; returns the exit code (flows.gait_flow.run_pipeline is the chain itself)."""
    if not Path(video).is_file():
        return fail("the video file does not exist or is not a file", EXIT_USAGE)
    from gait.config import gait_home
    from gait.logs import configure_logging

    # The terminal shows progress and at most one error line; the details go to the log file.
    log_path = gait_home() / "logs" / "gait-run.log"
    configure_logging("INFO", path=log_path)
    from gait.artifacts import Bundle
    from gait.client import StageCallFailed
    from gait.errors import GaitError, InvalidInput
    from gait.store import open_store
    from gaitcli.local import run_local
    from gaitcli.summary import analysis_warnings, summarize

    started = time.perf_counter()
    display = ProgressDisplay()
    try:
        keys = run_local(Path(video), Path(out), rotation, cutoff_hz, order, listener=display, prefect_console=False,
                         external=external, deidentify=deidentify)
    except InvalidInput as exc:
        return fail(str(exc), EXIT_USAGE)
    except StageCallFailed as exc:
        return fail(str(exc), exit_code(exc))
    except GaitError as exc:
        return fail(str(exc), EXIT_FAILED)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
    except Exception as exc:  # one line, never a traceback, for anything unforeseen
        logging.getLogger(__name__).exception("gait run failed")
        return fail(f"{type(exc).__name__}: {exc} (details in {log_path})", EXIT_FAILED)
    finally:
        display.close()
    seconds = time.perf_counter() - started
    store = open_store()
    duration = Bundle.open(store, keys[ROTATE], expected_stage=ROTATE).meta["duration_s"]
    print("\n".join(["", *summarize(store, keys), "", *analysis_warnings(store, keys)]), file=sys.stderr)
    pace = f" ({seconds / duration:.1f} x the clip's {duration:.1f} s)" if duration >= MIN_PACE_CLIP_S else ""
    print(f"done in {seconds:.1f} s{pace}; outputs in {out}", file=sys.stderr)
    return EXIT_OK
