"""The `gait` command's exit (gaitcli.exits.exit_without_teardown) owes what an interpreter's exit
owes: the exit code, the atexit handlers, the non-daemon threads' work, buffered output."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from gait.config import REPO_ROOT


def test_the_exit_keeps_the_code_the_handlers_the_threads_and_the_output(tmp_path):
    script = textwrap.dedent(f"""
        import atexit, threading, time
        from pathlib import Path
        from concurrent.futures import ThreadPoolExecutor
        from gaitcli.exits import exit_without_teardown
        folder = Path({str(tmp_path)!r})
        atexit.register(lambda: (folder / "atexit").write_text("ran"))
        def late():
            time.sleep(0.3)
            (folder / "thread").write_text("finished")
        threading.Thread(target=late).start()
        ThreadPoolExecutor(2).submit(lambda: None).result()  # idle workers left running, never shut down
        print("buffered, no newline", end="")
        exit_without_teardown(3)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, result.stderr
    assert result.stdout == "buffered, no newline"
    assert (tmp_path / "atexit").read_text() == "ran"
    assert (tmp_path / "thread").read_text() == "finished"


def test_the_gait_command_exits_with_mains_code():
    result = subprocess.run([sys.executable, "-m", "gaitcli.main", "run", "/no/such/video.mp4", "--out", "/tmp/unused"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("gait: error: the video file does not exist or is not a file")
