"""Where the time of one cold `gait run` goes, phase by phase. `make bench-profile` runs it.

Runs `gait run` on the demo clip (or `--clip`) with an empty store, then again with everything
cached, and prints from the run's own log lines (GAIT_HOME/logs/gait-run.log, JSON) when each
phase ended and what it cost: the start-up (imports, each service's start, the Prefect API), each
stage's call, and inside the stages what they log with a `phase` field (rotate's ffmpeg, pose2d's
two passes, its encoders and face detector, the analysis parts). CPU seconds are the command's
own and its children's (os.wait4), plus what gait's background Prefect server spent meanwhile.
`--server temporary` measures the first command after an idle stop (GAIT_PREFECT_SERVER=temporary:
the server's start on the critical path, as every command had before).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GAIT = Path(sys.executable).parent / "gait"


def _ticks_to_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def background_server_cpu() -> tuple[int, float] | None:
    """(pid, CPU seconds used so far) of gait's background Prefect server; None: none running."""
    from flows.local_server import running
    from flows.runtime import configure_prefect

    configure_prefect()
    server = running()
    cpu = None if server is None else _ticks_to_s(server.pid)
    return None if cpu is None else (server.pid, cpu)


def server_cpu_between(before: tuple[int, float] | None, after: tuple[int, float] | None) -> float:
    """What the background server spent between two readings (all of it if it started between)."""
    if after is None:
        return 0.0
    return after[1] - (before[1] if before is not None and before[0] == after[0] else 0.0)


def run_measured(command: list[str], env: dict[str, str], cwd: Path) -> dict:
    """Run `command` to its end: wall, CPU (its own and its children's, os.wait4), the largest
    process's peak RSS, what the background Prefect server spent meanwhile, and its stderr (to a
    file: a pipe left unread until the end could fill up and stall the command)."""
    server_before = background_server_cpu()
    with tempfile.TemporaryFile() as stderr_file:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr_file)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        stderr_file.seek(0)
        stderr = stderr_file.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed:\n{stderr[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024,
            "server_cpu_s": server_cpu_between(server_before, background_server_cpu()), "stderr": stderr}


def timed_run(clip: Path, out: Path, env: dict[str, str]) -> dict:
    """One `gait run` (see `run_measured`) and the log lines it wrote."""
    log = Path(env.get("GAIT_HOME", Path.home() / ".cache" / "gait")) / "logs" / "gait-run.log"
    offset = log.stat().st_size if log.exists() else 0
    started_at = datetime.now(timezone.utc)
    run = run_measured([str(GAIT), "run", str(clip), "--out", str(out)], env, REPO)
    with open(log, "rb") as lines:
        lines.seek(offset)
        records = [json.loads(line) for line in lines if line.startswith(b"{")]
    return {**run, "server_started": "started in the background" in run["stderr"], "started_at": started_at,
            "records": records}


def phases(run: dict) -> list[tuple[float, str, str]]:
    """(seconds since the command started, phase, figures) for each log line that marks a phase."""
    rows = []
    for record in run["records"]:
        at = (datetime.fromisoformat(record["ts"].replace("Z", "+00:00")) - run["started_at"]).total_seconds()
        message, extra = record.get("msg", ""), ""
        if record.get("phase"):
            name = record["phase"]
            extra = ", ".join(f"{key} {record[key]}" for key in ("seconds", "cpu_s", "encoder_cpu_s", "face_s")
                              if key in record)
        elif message == "serving":
            name = f"{record.get('stage')} service started"
        elif message == "prefect api ready":
            name, extra = "Prefect API ready", f"{record.get('seconds')} s after the runtime began"
        elif message == "request done":
            name, extra = f"{record.get('stage')} call done", f"seconds {record.get('seconds')}"
        elif message.startswith("Beginning flow run"):
            name = "flow run began"
        elif message.startswith("export done"):
            name = "outputs exported"
        elif record.get("logger") == "prefect.flow_runs" and message.startswith("Finished in state"):
            name = "flow run finished"
        else:
            continue
        rows.append((at, name, extra))
    return rows


def print_run(label: str, run: dict, clip_s: float) -> None:
    print(f"\n{label}: {run['wall_s']:.1f} s wall ({run['wall_s'] / clip_s:.2f} x the clip), "
          f"{run['cpu_s']:.1f} CPU s ({run['cpu_s'] / clip_s:.2f} per s of video) + Prefect server "
          f"{run['server_cpu_s']:.1f} CPU s{' (started by this run)' if run['server_started'] else ''}, "
          f"largest process {run['peak_rss_mb']:.0f} MB")
    for at, name, extra in phases(run):
        print(f"  {at:7.2f} s  {name:<28} {extra}")
    print(f"  {run['wall_s']:7.2f} s  command exited")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", type=Path, help="a video (default: the demo clip)")
    parser.add_argument("--server", choices=("background", "temporary"), default="background",
                        help="GAIT_PREFECT_SERVER for the runs (default background: a server kept running)")
    args = parser.parse_args(argv)
    from gait.assets import demo_clip_path
    from gait.video import probe

    clip = args.clip or demo_clip_path()
    info = probe(clip)
    clip_s = info.frames / info.fps
    env = {**os.environ, "GAIT_STORE_DIR": tempfile.mkdtemp(prefix="gait-profile-store-"),
           "GAIT_PREFECT_SERVER": args.server}
    print(f"{datetime.now().isoformat(timespec='seconds')}  {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"clip: {clip.name}, {info.frames} frames {info.width}x{info.height} {info.fps:g} fps, {clip_s:.2f} s; "
          f"Prefect server: {args.server}")
    with tempfile.TemporaryDirectory() as out:
        print_run("cold (empty store)", timed_run(clip, Path(out) / "cold", env), clip_s)
        print_run("cached (everything in the store)", timed_run(clip, Path(out) / "cached", env), clip_s)
    print(f"\nload average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
