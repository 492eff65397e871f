"""The Prefect API server `gait run` and `gait batch` keep running on 127.0.0.1 between commands.

Starting Prefect's server costs ~8 CPU seconds (importing `prefect.server.api.server` builds
hundreds of pydantic models), more than rotating a clip. So the first command that needs an API
starts this one detached (its own session: it outlives the command), records it in
`$PREFECT_HOME/gait-server.json`, and later commands reuse it. It stops by itself after
GAIT_PREFECT_IDLE_S seconds (300) without a request, and when its state file is removed (`stop()`).
It is Prefect's own server in ephemeral mode (no UI, only the services flow runs need), as the
temporary server of `flows.runtime`, on the same database.

Run as `python -m flows.local_server PORT IDLE_S` by `ensure_running()`, never by hand.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from flows.runtime import configure_prefect, free_port, wait_until_healthy
from gait.config import prefect_idle_s

log = logging.getLogger(__name__)

STATE_FILE = "gait-server.json"
FOUND_ANSWER_S = 5.0  # a server left running answers at once; one that does not is replaced
MODULE = "flows.local_server"


@dataclass(frozen=True)
class LocalServer:
    pid: int
    port: int
    started_here: bool  # this command started it (the first one after an idle stop)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def wait_ready(self, timeout_s: float = 60.0) -> str:
        """Its API URL once it answers. One found running that does not answer within
        FOUND_ANSWER_S (hung, or its port taken by another program) is stopped and replaced."""
        if not self.started_here:
            try:
                wait_until_healthy(self.api_url, FOUND_ANSWER_S)
                return self.api_url
            except RuntimeError:
                log.warning("the background Prefect server does not answer; starting another",
                            extra={"pid": self.pid, "port": self.port})
                stop()
                return ensure_running().wait_ready(timeout_s)
        try:
            wait_until_healthy(self.api_url, timeout_s)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc} (its log: {server_log()})") from None
        return self.api_url


def state_path() -> Path:
    return Path(os.environ["PREFECT_HOME"]).expanduser() / STATE_FILE


def server_log() -> Path:
    from gait.config import gait_home

    return gait_home() / "logs" / "prefect-server.log"


def _recorded() -> tuple[int, int] | None:
    """(pid, port) of the state file."""
    try:
        state = json.loads(state_path().read_text())
        return int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running() -> LocalServer | None:
    """The server a previous command left running, if its process is still there."""
    recorded = _recorded()
    if recorded is None or not _is_our_server(recorded[0]):
        return None
    return LocalServer(*recorded, started_here=False)


def ensure_running() -> LocalServer:
    """The running server, else one started now (returns at once: `wait_ready()` waits for it).
    A lock file makes two commands starting at the same moment share one server."""
    configure_prefect()
    state = state_path()
    with open(state.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = running()
        if found is not None:
            return found
        port = free_port()
        log_file = server_log()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_UI_ENABLED": "0"}
        env.pop("PREFECT_API_URL", None)
        with open(log_file, "ab") as output:
            process = subprocess.Popen([sys.executable, "-m", MODULE, str(port), f"{prefect_idle_s():g}"], env=env,
                                       stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        state.write_text(json.dumps({"pid": process.pid, "port": port}))
        log.info("prefect server started in the background", extra={"port": port, "idle_s": prefect_idle_s()})
        return LocalServer(process.pid, port, started_here=True)


def stop(timeout_s: float = 10.0) -> bool:
    """Stop the running server (SIGTERM, then SIGKILL); False when none was running."""
    found = running()
    state_path().unlink(missing_ok=True)
    if found is None:
        return False
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.kill(found.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait_s
        while _is_our_server(found.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not _is_our_server(found.pid):
            break
    return True


def _is_our_server(pid: int) -> bool:
    """Alive and this module (not a process that got the recorded pid later). A process that is
    exiting has an empty command line before it is a zombie: it counts as still ours, so `stop`
    returns only once it is gone (it did return while the process was still exiting, once)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            command = cmdline.read()
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return _alive_elsewhere(pid)
    return is_server_process(command, state)


def is_server_process(command: bytes, state: str) -> bool:
    """From /proc/<pid>/cmdline and the state field of /proc/<pid>/stat."""
    return (not command or MODULE.encode() in command.split(b"\0")) and state != "Z"


def _alive_elsewhere(pid: int) -> bool:
    """Where there is no /proc (macOS): the process exists."""
    if Path("/proc/self").exists():
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


class _Activity:
    """ASGI middleware: when the last request ended, and how many are open (a websocket counts
    while connected)."""

    def __init__(self, app) -> None:
        self.app = app
        self.last = time.monotonic()
        self.open = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.open += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.open else time.monotonic() - self.last


def serve(port: int, idle_s: float) -> None:
    """Prefect's server on 127.0.0.1:`port` until idle for `idle_s`, SIGTERM, or the state file
    no longer names this process."""
    os.environ.update({"PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"})
    import uvicorn
    from prefect.server.api.server import create_app

    activity = _Activity(create_app())
    server = uvicorn.Server(uvicorn.Config(activity, host="127.0.0.1", port=port, log_level="error", lifespan="on"))

    def watch() -> None:
        while not (server.started or server.should_exit):  # the database's migrations may take a while
            time.sleep(0.2)
        activity.last = time.monotonic()
        while not server.should_exit:
            time.sleep(1.0)
            if activity.idle_for() > idle_s or not _recorded_is_me():
                server.should_exit = True

    threading.Thread(target=watch, daemon=True, name="idle-watch").start()
    try:
        server.run()
    finally:
        if _recorded_is_me():
            state_path().unlink(missing_ok=True)


def _recorded_is_me() -> bool:
    recorded = _recorded()
    return recorded is not None and recorded[0] == os.getpid()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]))
