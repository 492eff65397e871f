"""The Prefect plumbing of `gait run`: the temporary API server never outlives its parent, and
the Prefect environment defaults never override what the user set. (~2 s)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from gait.config import REPO_ROOT

PARENT = """
import sys, time
from flows.runtime import TemporaryPrefectAPI
api = TemporaryPrefectAPI().start()
print(api.process.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its (dead) parent's reaper counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_temporary_server_dies_with_its_parent_even_on_sigkill(tmp_path):
    env = {**os.environ, "GAIT_HOME": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PREFECT_HOME", None)
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the Prefect server outlived the process that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_prefect_defaults_keep_what_the_user_set(monkeypatch, tmp_path):
    from flows.runtime import configure_prefect

    monkeypatch.setenv("GAIT_HOME", str(tmp_path / "gait"))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "mine"))
    monkeypatch.setenv("DO_NOT_TRACK", "")
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")
    try:
        configure_prefect()
        assert os.environ["PREFECT_HOME"] == str(tmp_path / "mine")
        assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"
        assert os.environ["DO_NOT_TRACK"] == "1"
        monkeypatch.delenv("PREFECT_HOME")
        configure_prefect()
        assert os.environ["PREFECT_HOME"] == str(tmp_path / "gait" / "prefect")
    finally:
        monkeypatch.undo()
        configure_prefect()  # Prefect's settings follow the restored environment again


def _gait_home_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "GAIT_HOME": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect"),
           "PYTHONPATH": str(REPO_ROOT), **extra}
    env.pop("PREFECT_API_URL", None)
    (tmp_path / "prefect").mkdir(exist_ok=True)
    return env


ENSURE = """
from flows.local_server import ensure_running
server = ensure_running()
print(server.pid, server.port, server.started_here, server.wait_ready(), flush=True)
"""


def test_the_background_server_serves_later_commands_and_stops_when_idle(tmp_path):
    """The first command starts it, the second finds the same one (its start-up not paid again),
    and it stops by itself after GAIT_PREFECT_IDLE_S without a request, removing its state file."""
    env = _gait_home_env(tmp_path, GAIT_PREFECT_IDLE_S="4")
    first = subprocess.run([sys.executable, "-c", ENSURE], env=env, capture_output=True, text=True, timeout=120)
    pid, port, started, url = first.stdout.split()
    try:
        assert started == "True" and url == f"http://127.0.0.1:{port}/api"
        assert _alive(int(pid)), "the server did not outlive the command that started it"
        second = subprocess.run([sys.executable, "-c", ENSURE], env=env, capture_output=True, text=True, timeout=60)
        assert second.stdout.split()[:3] == [pid, port, "False"]
        deadline = time.monotonic() + 30
        while _alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(int(pid)), "the idle server did not stop"
        assert not (tmp_path / "prefect" / "gait-server.json").exists()
    finally:
        if _alive(int(pid)):
            os.kill(int(pid), signal.SIGKILL)


def test_stop_ends_the_background_server(tmp_path, monkeypatch):
    env = _gait_home_env(tmp_path)
    started = subprocess.run([sys.executable, "-c", ENSURE], env=env, capture_output=True, text=True, timeout=120)
    pid = int(started.stdout.split()[0])
    try:
        monkeypatch.setenv("PREFECT_HOME", env["PREFECT_HOME"])
        from flows.local_server import running, stop

        assert running() is not None and running().pid == pid
        assert stop() is True
        assert not _alive(pid) and running() is None
        assert stop() is False
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_server_left_running_that_does_not_answer_is_replaced(tmp_path, monkeypatch):
    """A process recorded as the server that never answers (hung, or its port taken) is stopped,
    and a new server serves the command."""
    env = _gait_home_env(tmp_path)
    hung = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "flows.local_server"],
                            start_new_session=True)
    new_pid = None
    try:
        (tmp_path / "prefect" / "gait-server.json").write_text(f'{{"pid": {hung.pid}, "port": 9}}')
        result = subprocess.run([sys.executable, "-c", ENSURE], env=env, capture_output=True, text=True, timeout=120)
        pid, port, started, url = result.stdout.split()
        assert started == "False" and int(pid) == hung.pid  # it was found first ...
        hung.wait(timeout=10)                               # ... then stopped and replaced
        monkeypatch.setenv("PREFECT_HOME", env["PREFECT_HOME"])
        from flows.local_server import running, stop

        replacement = running()
        assert replacement is not None and replacement.pid != hung.pid
        new_pid = replacement.pid
        assert url == f"http://127.0.0.1:{replacement.port}/api"
        stop()
    finally:
        if hung.poll() is None:
            hung.kill()
        if new_pid is not None and _alive(new_pid):
            os.kill(new_pid, signal.SIGKILL)


def test_a_server_process_that_is_exiting_still_counts_until_it_is_gone():
    from flows.local_server import is_server_process

    ours = sys.executable.encode() + b"\0-m\0flows.local_server\0" + b"4200\0300\0"
    assert is_server_process(ours, "S")
    assert is_server_process(b"", "R")  # exiting: its command line is released before it is a zombie
    assert not is_server_process(ours, "Z")
    assert not is_server_process(b"/usr/bin/python3\0-m\0http.server\0", "S")  # the pid taken by another process
