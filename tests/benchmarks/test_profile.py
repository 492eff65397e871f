"""benchmarks/profile.py's pure parts: the phases read from a run's log lines and the background
server's CPU between two readings (no pipeline run)."""
from __future__ import annotations

import importlib.util
import sys
from datetime import datetime, timezone
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location("benchmarks_profile",
                                               Path(__file__).parents[2] / "benchmarks" / "profile.py")
profile = sys.modules["benchmarks_profile"] = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(profile)

STARTED = datetime(2026, 12, 2, 6, 0, 0, tzinfo=timezone.utc)


def _record(at_s: float, **fields) -> dict:
    return {"ts": f"2026-12-02T06:00:{at_s:06.3f}Z", "logger": "gait.rpc", **fields}


def test_phases_are_the_marked_log_lines_in_order_with_their_figures():
    records = [
        _record(2.5, msg="serving", stage="rotate"),
        _record(3.0, msg="prefect api ready", seconds=2.9),
        _record(3.1, msg="some other line"),
        _record(4.0, msg="Beginning flow run 'x' for flow 'gait'", logger="prefect.flow_runs"),
        _record(9.0, msg="ffmpeg: ...", phase="rotate.ffmpeg", cpu_s=7.1),
        _record(9.1, msg="request done", stage="rotate", seconds=5.0),
        _record(30.0, msg="videos written", phase="pose2d.videos", encoder_cpu_s={"upright": 5.0}, face_s=2.0),
        _record(31.0, msg="Finished in state Completed()", logger="prefect.task_runs"),
        _record(40.0, msg="Finished in state Completed()", logger="prefect.flow_runs"),
    ]
    rows = profile.phases({"records": records, "started_at": STARTED})
    assert [name for _, name, _ in rows] == ["rotate service started", "Prefect API ready", "flow run began",
                                             "rotate.ffmpeg", "rotate call done", "pose2d.videos", "flow run finished"]
    assert rows[0][0] == 2.5 and rows[-1][0] == 40.0
    assert rows[3][2] == "cpu_s 7.1"
    assert rows[5][2] == "encoder_cpu_s {'upright': 5.0}, face_s 2.0"


def test_server_cpu_counts_only_what_was_spent_between_the_readings():
    assert profile.server_cpu_between((10, 5.0), (10, 7.5)) == 2.5
    assert profile.server_cpu_between(None, (11, 9.0)) == 9.0      # started during the run
    assert profile.server_cpu_between((10, 5.0), (11, 9.0)) == 9.0  # stopped and another started
    assert profile.server_cpu_between((10, 5.0), None) == 0.0       # stopped during the run
