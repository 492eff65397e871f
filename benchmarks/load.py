"""Load: K concurrent runs of the `gait` flow (the flow `gait/full` deploys) against one set of
services, for K = 1, 2, 4 (and 8), on loopback only; prints a table.

Each level starts the four services afresh as processes (`python -m services.STAGE`, each
admitting GAIT_MAX_CONCURRENT calls at once; so peak RSS is per level) on a store of its own, and
K `gait run VIDEO --services external` processes at once, reporting to one Prefect API. Every run
gets its own video (the clip with a 2x2 corner patch of its own colour: other frames, so no stage
finds another run's result), so every stage computes. Per level: runs completed, wall time, each stage's p50
and p95 latency as the flow saw it (the step's wall time, busy waits included), the calls each
service refused as busy (RESOURCE_EXHAUSTED, asked again by the flow), each service's peak RSS
(its process tree, ffmpeg included, sampled every 0.2 s) and the load average.

    nice .venv/bin/python benchmarks/load.py --levels 1,2,4,8 [--clip data/demo/demo.mp4]

Bounded: at most 8 runs at once, each level cut off after --level-timeout-s (default 900 s).
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

STAGES = ("rotate", "pose2d", "lift3d", "analysis")
MAX_LEVEL = 8
STEP_LINE = re.compile(r"^\[\d/6\] (rotate|pose2d|lift3d|analysis) done (?:\(cached\) )?([\d.]+) s")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def variant(clip: Path, target: Path, tag: str) -> Path:
    """`clip` with a 2x2 patch in its top-left corner coloured from `tag`: other frames, so no stage
    finds another run's result (the stages key their bundles by their inputs' content)."""
    import hashlib

    from gait.video import ffmpeg_exe

    colour = hashlib.sha256(tag.encode()).hexdigest()[:6]
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip), "-vf",
                    f"drawbox=x=0:y=0:w=2:h=2:color=0x{colour}:t=fill", "-c:v", "libx264", "-preset", "ultrafast",
                    "-crf", "18", "-pix_fmt", "yuv420p", "-an", str(target)], check=True, capture_output=True)
    return target


def tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and its descendants (from /proc), KiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text().split()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(statm[1]) * PAGE_KB
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run_level(k: int, videos: list[Path], work: Path, api_url: str, max_concurrent: int, timeout_s: float) -> dict:
    home = work / f"k{k}"
    env = {**os.environ, "GAIT_HOME": str(home), "PREFECT_API_URL": api_url,
           "GAIT_MAX_CONCURRENT": str(max_concurrent)}
    ports = {stage: free_port() for stage in STAGES}
    services, logs = {}, {}
    for stage in STAGES:
        logs[stage] = home / f"{stage}.log"
        home.mkdir(parents=True, exist_ok=True)
        services[stage] = subprocess.Popen([sys.executable, "-m", f"services.{stage}"], cwd=REPO,
                                           env={**env, f"GAIT_{stage.upper()}_PORT": str(ports[stage])},
                                           stdout=subprocess.DEVNULL, stderr=logs[stage].open("w"))
    client_env = {**env, **{f"GAIT_{s.upper()}_ADDR": f"127.0.0.1:{p}" for s, p in ports.items()}}
    peaks = {stage: 0 for stage in STAGES}
    loads: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            for stage, process in services.items():
                peaks[stage] = max(peaks[stage], tree_rss_kb(process.pid))
            loads.append(os.getloadavg()[0])

    try:
        _wait_serving(ports)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        videos = videos[:k]
        started = time.perf_counter()
        runs = [subprocess.Popen([sys.executable, "-m", "gaitcli.main", "run", str(video), "--out",
                                  str(home / f"out{i}"), "--services", "external"], cwd=REPO, env=client_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for i, video in enumerate(videos)]
        outputs = []
        for run in runs:
            try:
                _, err = run.communicate(timeout=max(1.0, timeout_s - (time.perf_counter() - started)))
            except subprocess.TimeoutExpired:
                run.kill()
                _, err = run.communicate()
            outputs.append((run.returncode, err))
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
    finally:
        for process in services.values():
            process.send_signal(signal.SIGTERM)
        for process in services.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    latencies: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _, err in outputs:
        for line in err.splitlines():
            match = STEP_LINE.match(line)
            if match:
                latencies[match.group(1)].append(float(match.group(2)))
    failures = [err.strip().splitlines()[-1] if err.strip() else f"exit {code}" for code, err in outputs if code != 0]
    refused = {stage: logs[stage].read_text().count('"request refused: busy"') for stage in STAGES}
    return {"k": k, "completed": sum(code == 0 for code, _ in outputs), "wall_s": wall, "latencies": latencies,
            "peak_rss_mb": {s: v / 1024 for s, v in peaks.items()}, "refused": refused, "failures": failures,
            "load": (min(loads), max(loads)) if loads else (float("nan"),) * 2}


def _wait_serving(ports: dict[str, int]) -> None:
    import grpc

    for port in ports.values():
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=120)


def table(rows: list[dict]) -> str:
    head = ["K", "completed", "wall s"] + [f"{s} p50/p95 s" for s in STAGES] + [
        "peak RSS MB (rotate/pose2d/lift3d/analysis)", "busy refusals", "load avg (1 min, min-max)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in rows:
        cells = [str(row["k"]), f"{row['completed']}/{row['k']}", f"{row['wall_s']:.1f}"]
        cells += [f"{percentile(row['latencies'][s], 50):.1f} / {percentile(row['latencies'][s], 95):.1f}"
                  for s in STAGES]
        cells.append(" / ".join(f"{row['peak_rss_mb'][s]:.0f}" for s in STAGES))
        cells.append(" / ".join(str(row["refused"][s]) for s in STAGES))
        cells.append(f"{row['load'][0]:.1f}-{row['load'][1]:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,2,4", help="comma-separated K (at most 8)")
    parser.add_argument("--clip", type=Path, default=REPO / "data" / "demo" / "demo.mp4")
    parser.add_argument("--max-concurrent", type=int, default=2, help="GAIT_MAX_CONCURRENT of every service")
    parser.add_argument("--level-timeout-s", type=float, default=900.0)
    args = parser.parse_args()
    levels = [int(k) for k in args.levels.split(",")]
    if any(not 1 <= k <= MAX_LEVEL for k in levels):
        parser.error(f"each K must be 1 to {MAX_LEVEL}")
    from flows.runtime import TemporaryPrefectAPI, configure_prefect

    rows = []
    with tempfile.TemporaryDirectory(prefix="gait-load-") as folder:
        os.environ["GAIT_HOME"] = folder
        os.environ.pop("PREFECT_HOME", None)
        configure_prefect()
        with TemporaryPrefectAPI() as api:
            url = api.wait_ready()
            # one video per concurrent run; each level has a store of its own, so they serve every level
            videos = [variant(args.clip, Path(folder) / f"video{i}.mp4", f"load run {i}") for i in range(max(levels))]
            for k in levels:
                row = run_level(k, videos, Path(folder), url, args.max_concurrent, args.level_timeout_s)
                rows.append(row)
                print(f"K={k}: {row['completed']}/{k} completed in {row['wall_s']:.1f} s"
                      + "".join(f"\n  failed: {line}" for line in row["failures"]), file=sys.stderr, flush=True)
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"GAIT_MAX_CONCURRENT={args.max_concurrent}, clip {args.clip.name}")
    print(table(rows))
    return 0 if all(row["completed"] == row["k"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
