"""Prefect's environment for gait, and the temporary API server the in-process run uses.

Prefect reads its settings from the environment when it is imported, so `configure_prefect()`
runs before the first `import prefect` of a `gait` command (it also refreshes Prefect's settings
if Prefect was imported already). The defaults it sets (only where the variable is unset):

- PREFECT_HOME = $GAIT_HOME/prefect: one persistent Prefect home, so the database migrations run
  once (a fresh home costs ~5 s more on the first run) and the runs of `gait run` and of
  `gait stack` share one history;
- DO_NOT_TRACK=1 and PREFECT_SERVER_ANALYTICS_ENABLED=false: a clinical tool does not report
  usage to a third party (and hospital networks often cannot reach it).

`TemporaryPrefectAPI` is the server a flow run starts by itself when no PREFECT_API_URL is set
(Prefect's "temporary server": uvicorn serving `prefect.server.api.server:create_app` in ephemeral
mode, that is without UI and with only the services a flow run needs), started as a subprocess by
us instead, so that it can start first thing and come up (~2.5 s) while the stage services start
and the video is ingested, instead of after them.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from gait.config import gait_home

log = logging.getLogger(__name__)


def prefect_home() -> Path:
    """Where gait's Prefect database and results live unless PREFECT_HOME says otherwise."""
    return gait_home() / "prefect"


def prefect_defaults() -> dict[str, str]:
    return {
        "PREFECT_HOME": str(prefect_home()),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def configure_prefect() -> None:
    """Apply `prefect_defaults()` to os.environ where unset; refresh Prefect's settings if imported."""
    for name, value in prefect_defaults().items():
        if not os.environ.get(name, "").strip():
            os.environ[name] = value
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    if "prefect.context" in sys.modules:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def api_is_healthy(api_url: str, timeout_s: float = 2.0) -> bool:
    """True when `<api_url>/health` answers 200 (api_url ends in /api)."""
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_healthy(api_url: str, timeout_s: float, process: subprocess.Popen | None = None) -> None:
    """Poll the health endpoint every 0.1 s; raise RuntimeError on timeout or if `process` exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if api_is_healthy(api_url, timeout_s=1.0):
            return
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with code {process.returncode} before answering")
        time.sleep(0.1)
    raise RuntimeError(f"the Prefect server at {api_url} did not answer within {timeout_s:g} s")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


_LIBC = None


def _die_with_parent_preexec():
    """A `preexec_fn` (Linux) that has the kernel send SIGTERM to the child when this process dies,
    even by SIGKILL, so that no Prefect server outlives the `gait` command that started it."""
    global _LIBC
    if sys.platform != "linux":
        return None
    try:
        _LIBC = _LIBC or ctypes.CDLL(None, use_errno=True)  # loaded here, in the parent
    except OSError:
        return None
    libc = _LIBC

    def preexec() -> None:
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG; a plain C call, safe after fork

    return preexec


def spawn(command: list[str], **kwargs) -> subprocess.Popen:
    """Popen for a child that must not outlive this process (see `_die_with_parent_preexec`)."""
    return subprocess.Popen(command, preexec_fn=_die_with_parent_preexec(), **kwargs)


def stop_process(process: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM, wait up to `grace_s`, then SIGKILL; always reaps the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class TemporaryPrefectAPI:
    """Prefect's temporary (ephemeral-mode) API server on 127.0.0.1, as a child process.

    `start()` returns at once; `wait_ready()` blocks until /api/health answers. Use as a context
    manager, or call `stop()`: the process is always terminated and reaped.
    """

    def __init__(self, port: int | None = None, startup_timeout_s: float = 60.0) -> None:
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen | None = None
        self._output = None
        self._ready = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> TemporaryPrefectAPI:
        configure_prefect()
        if self.process is None:
            self.port = self.port or free_port()
            self._output = tempfile.TemporaryFile()
            env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_UI_ENABLED": "0",
                   "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
            env.pop("PREFECT_API_URL", None)
            self.process = spawn(
                [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                env=env, stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT,
            )
        return self

    def wait_ready(self) -> str:
        """Block until the server answers; returns its API URL. Raises RuntimeError with its output."""
        if self.process is None:
            self.start()
        if not self._ready:
            try:
                wait_until_healthy(self.api_url, self.startup_timeout_s, self.process)
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}: {self._tail()}") from None
            self._ready = True
        return self.api_url

    def _tail(self, chars: int = 2000) -> str:
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")[-chars:].strip()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace_s=5.0)
            self.process = None
        if self._output is not None:
            self._output.close()
            self._output = None
        self._ready = False

    def __enter__(self) -> TemporaryPrefectAPI:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def prepare_prefect_home() -> float:
    """Create (or migrate) Prefect's database under PREFECT_HOME now, so that the first `gait run`
    does not pay for it (~5-8 s on a fresh home). For `make setup` / `gait fetch-assets`.
    Returns the seconds it took."""
    started = time.perf_counter()
    with TemporaryPrefectAPI() as api:
        api.wait_ready()
    return time.perf_counter() - started


def drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process to the API (before it stops)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=5)
        except Exception:  # nothing queued / worker never started
            log.debug("drain failed", exc_info=True)
