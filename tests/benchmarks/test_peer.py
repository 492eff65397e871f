"""benchmarks/peer.py's pure parts: arguments, medians, ratios, the table, the process-tree memory
(nothing installed, neither pipeline run)."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("benchmarks_peer", Path(__file__).parents[2] / "benchmarks" / "peer.py")
peer = sys.modules["benchmarks_peer"] = importlib.util.module_from_spec(_SPEC)  # dataclasses look it up
_SPEC.loader.exec_module(peer)
Figures = peer.Figures

RUNS = [("gait", Figures(60.0, 90.0, 1500.0)), ("myogait", Figures(30.0, 20.0, 400.0)),
        ("gait", Figures(50.0, 80.0, 1400.0)), ("myogait", Figures(20.0, 22.0, 410.0)),
        ("gait", Figures(70.0, 85.0, 1600.0)), ("myogait", Figures(25.0, 21.0, 390.0))]
CONTEXT = {"date": "2025-12-02T06:00:00+00:00", "machine": "x86_64", "cores": 2, "load_before": [1.0, 1.0, 1.0],
           "load_after": [2.0, 1.5, 1.1], "clip": "demo.mp4", "clip_info": "230 frames 1768x994 30 fps",
           "clip_s": 230 / 30, "gait_commit": "abc1234"}


def test_defaults_and_options():
    args = peer.parse_args([])
    assert (args.runs, args.clip, args.json) == (3, None, None)
    args = peer.parse_args(["--runs", "1", "--clip", "walk.mp4", "--json", "out.json"])
    assert (args.runs, args.clip, args.json) == (1, Path("walk.mp4"), Path("out.json"))
    with pytest.raises(SystemExit):
        peer.parse_args(["--runs", "0"])


def test_medians_per_figure_and_ratios():
    middle = peer.medians(RUNS)
    assert middle == {"gait": Figures(60.0, 85.0, 1500.0), "myogait": Figures(25.0, 21.0, 400.0)}
    assert peer.ratios(middle) == Figures(2.4, 85.0 / 21.0, 3.75)


def test_table_has_each_run_the_medians_and_the_ratios():
    lines = peer.report(RUNS, CONTEXT).splitlines()
    assert "2 cores" in lines[0] and "[1.0, 1.0, 1.0] before" in lines[0] and "7.67 s" in lines[1]
    header = next(i for i, line in enumerate(lines) if line.startswith("run"))
    assert [line.split()[:2] for line in lines[header + 1:header + 7]] == [
        ["1", "gait"], ["1", "myogait"], ["2", "gait"], ["2", "myogait"], ["3", "gait"], ["3", "myogait"]]
    assert lines[header + 1].split()[2:] == ["60.0", "90.0", "1500"]
    medians = next(i for i, line in enumerate(lines) if line.startswith("median"))
    rows = {line.split()[0]: line.split()[1:] for line in lines[medians + 1:]}
    assert rows["gait"] == ["60.0", "7.83", "85.0", "11.09", "1500"]  # x clip and CPU s per video second
    assert rows["myogait"] == ["25.0", "3.26", "21.0", "2.74", "400"]
    assert rows["gait/myogait"] == ["2.40", "4.05", "3.75"]


def test_json_has_the_same_figures():
    figures = json.loads(json.dumps(peer.as_json(RUNS, CONTEXT)))
    assert figures["cores"] == 2 and len(figures["runs"]) == 6 and figures["runs"][1]["tool"] == "myogait"
    assert figures["medians"]["gait"] == {"wall_s": 60.0, "cpu_s": 85.0, "peak_rss_mb": 1500.0}
    assert figures["per_video_second"]["myogait"]["cpu_s"] == pytest.approx(21.0 / (230 / 30))
    assert figures["gait_over_myogait"]["wall_s"] == pytest.approx(2.4)


def test_one_tool_only_has_no_ratio_row():
    assert "gait/myogait" not in peer.report(RUNS[::2], CONTEXT)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_tree_memory_counts_this_process():
    assert peer.tree_rss_bytes(os.getpid()) > 10 * 2**20
