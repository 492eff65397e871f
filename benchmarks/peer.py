"""A cold `gait run` against the closest peer, myogait 0.9.2 (MIT) with mediapipe 0.10.21, on the
demo clip (or --clip): wall time, CPU time and peak memory, each as a median of --runs runs, their
ratios gait/myogait, and per second of video. `make bench-peer` runs it.

Why: myogait also goes from a walking video to gait events and joint angles on a CPU with
BlazePose, in one call; how much our services, Prefect flow, 3D lift and exports cost on top is
the question a user choosing between the two asks.

- gait: `.venv/bin/gait run CLIP --out TMP` with GAIT_STORE_DIR a new empty folder per run
  (nothing cached), GAIT_HOME as it is (Prefect's database already made, as for a user's second
  video);
- myogait: benchmarks/peer_myogait.py in .venv-peer (made on first use), `run_pipeline(CLIP,
  model="mediapipe")` with mediapipe's legacy `solutions.pose` (see that file), its JSON into TMP;
- the runs alternate, gait first (gait, myogait, gait, ...), each in a subprocess: wall time
  around it; CPU = user + sys from os.wait4 (the child and every descendant it waited for);
  peak RSS = the largest sum of RSS over the child's process tree, sampled from /proc every 0.1 s
  (Linux; psutil is not in .venv; pages shared between processes count once per process).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PEER_VENV = REPO / ".venv-peer"
PEER_PACKAGES = ("myogait==0.9.2", "mediapipe==0.10.21")  # pip resolves numpy 1.26 and protobuf 4 (mediapipe's pins)
TOOLS = ("gait", "myogait")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Figures:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def tree_rss_bytes(root: int) -> int:
    """The summed resident memory of `root` and all its descendants, read from /proc."""
    parent, rss = {}, {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(entry.path, "stat").read_text().rpartition(")")[2].split()
            except OSError:  # gone meanwhile
                continue
            parent[int(entry.name)], rss[int(entry.name)] = int(fields[1]), int(fields[21]) * PAGE
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, ppid in parent.items() if ppid in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    return sum(rss.get(pid, 0) for pid in tree)


def measure(command: list[str], env: dict[str, str], cwd: Path) -> Figures:
    """Run `command` to its end; its wall time, CPU time (with its descendants) and peak tree RSS."""
    peak, done = [0], threading.Event()
    with open(cwd / "log.txt", "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], tree_rss_bytes(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        tail = (cwd / "log.txt").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{command[:2]} exited with {process.returncode}:\n{tail}")
    return Figures(wall, usage.ru_utime + usage.ru_stime, peak[0] / 2**20)


def peer_python() -> Path:
    """.venv-peer's python, the venv made first if missing or made for other versions."""
    python, marker = PEER_VENV / "bin" / "python", PEER_VENV / ".installed"
    if not marker.exists() or marker.read_text().split() != list(PEER_PACKAGES):
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_PACKAGES], check=True)
        marker.write_text("\n".join(PEER_PACKAGES) + "\n")
    return python


def run_once(tool: str, clip: Path, python: Path) -> Figures:
    with tempfile.TemporaryDirectory(prefix=f"bench-peer-{tool}-") as tmp:
        work = Path(tmp)
        if tool == "gait":
            (work / "store").mkdir()
            env = {**os.environ, "GAIT_STORE_DIR": str(work / "store")}
            command = [str(REPO / ".venv" / "bin" / "gait"), "run", str(clip), "--out", str(work / "out")]
        else:
            env, command = dict(os.environ), [str(python), str(REPO / "benchmarks" / "peer_myogait.py"), str(clip), tmp]
        return measure(command, env, work)


def medians(runs: list[tuple[str, Figures]]) -> dict[str, Figures]:
    """Each tool's median wall time, CPU time and peak RSS (each figure on its own)."""
    by_tool: dict[str, list[Figures]] = {}
    for tool, figures in runs:
        by_tool.setdefault(tool, []).append(figures)
    return {tool: Figures(*(statistics.median(getattr(f, name) for f in rows) for name in Figures.__dataclass_fields__))
            for tool, rows in by_tool.items()}


def ratios(middle: dict[str, Figures]) -> Figures:
    gait, peer = middle["gait"], middle["myogait"]
    return Figures(gait.wall_s / peer.wall_s, gait.cpu_s / peer.cpu_s, gait.peak_rss_mb / peer.peak_rss_mb)


def report(runs: list[tuple[str, Figures]], context: dict) -> str:
    """The printed table: the context, each run, the medians with their ratios and per video second."""
    clip_s, middle = context["clip_s"], medians(runs)
    lines = [f"{context['date']}  {context['machine']}, {context['cores']} cores, load average "
             f"{context['load_before']} before, {context['load_after']} after",
             f"clip: {context['clip']}, {context['clip_info']}, {clip_s:.2f} s",
             f"gait {context['gait_commit']} vs myogait 0.9.2 + mediapipe 0.10.21 (legacy solutions.pose, full model)",
             "", f"{'run':<5}{'tool':<9}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}"]
    counts: dict[str, int] = {}
    for tool, f in runs:
        counts[tool] = counts.get(tool, 0) + 1
        lines.append(f"{counts[tool]:<5}{tool:<9}{f.wall_s:>9.1f}{f.cpu_s:>9.1f}{f.peak_rss_mb:>13.0f}")
    lines += ["", f"{'median':<14}{'wall s':>8}{'x clip':>8}{'CPU s':>8}{'CPU s/video s':>15}{'peak RSS MB':>13}"]
    for tool, f in middle.items():
        lines.append(f"{tool:<14}{f.wall_s:>8.1f}{f.wall_s / clip_s:>8.2f}{f.cpu_s:>8.1f}{f.cpu_s / clip_s:>15.2f}"
                     f"{f.peak_rss_mb:>13.0f}")
    if set(TOOLS) <= middle.keys():
        r = ratios(middle)
        lines.append(f"{'gait/myogait':<14}{r.wall_s:>8.2f}{'':>8}{r.cpu_s:>8.2f}{'':>15}{r.peak_rss_mb:>13.2f}")
    return "\n".join(lines)


def as_json(runs: list[tuple[str, Figures]], context: dict) -> dict:
    middle, clip_s = medians(runs), context["clip_s"]
    return {**context, "runs": [{"tool": tool, **asdict(f)} for tool, f in runs],
            "medians": {tool: asdict(f) for tool, f in middle.items()},
            "per_video_second": {tool: {"wall_x": f.wall_s / clip_s, "cpu_s": f.cpu_s / clip_s}
                                 for tool, f in middle.items()},
            "gait_over_myogait": asdict(ratios(middle)) if set(TOOLS) <= middle.keys() else None}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each tool, alternating (default 3)")
    parser.add_argument("--clip", type=Path, help="the video (default: the demo clip)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    from gait.assets import demo_clip_path
    from gait.video import probe

    args = parse_args(argv)
    clip = (args.clip or demo_clip_path()).resolve()
    info, python = probe(clip), peer_python()
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True).stdout
    context = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.machine(),
               "cores": os.cpu_count(), "load_before": [round(x, 2) for x in os.getloadavg()],
               "clip": str(clip), "clip_s": info.duration_s, "gait_commit": commit.strip() or "?",
               "clip_info": f"{info.frames} frames {info.width}x{info.height} {info.fps:g} fps"}
    runs = []
    for index in range(1, args.runs + 1):
        for tool in TOOLS:
            print(f"run {index}/{args.runs}: {tool} ...", file=sys.stderr, flush=True)
            runs.append((tool, run_once(tool, clip, python)))
    context["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(report(runs, context))
    if args.json:
        args.json.write_text(json.dumps(as_json(runs, context), indent=2) + "\n")


if __name__ == "__main__":
    main()
