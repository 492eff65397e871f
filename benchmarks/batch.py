"""Batch throughput: `gait batch` on N videos (default 4) at concurrency C (default 2), from an
empty store, in videos per CPU-hour and per hour of wall time. `make bench-batch` runs it.

Every video is the demo clip with a 2x2 corner patch of its own colour (benchmarks/load.py
`variant`), so every stage computes for each. CPU seconds are the command's and its children's
(os.wait4: the services run in the command's process, ffmpeg as its children) plus what gait's
background Prefect server spent meanwhile. `--repo PATH` runs another checkout's code (a `git
worktree` of an earlier commit, e.g.) with this venv, for a before/after in the same session.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.load import variant  # noqa: E402
from benchmarks.profile import run_measured  # noqa: E402


def run_batch(repo: Path, videos: list[Path], concurrency: int) -> dict:
    store = tempfile.mkdtemp(prefix="gait-batch-store-")
    from gait.config import data_dir, models_dir
    from gait.store.local import LocalStore

    # another checkout's code, with this one's fetched models and data
    env = {"GAIT_MODELS_DIR": str(models_dir()), "GAIT_DATA_DIR": str(data_dir()), **os.environ,
           "GAIT_STORE_DIR": store, "PYTHONPATH": str(repo)}

    local = LocalStore(Path(store))
    for index, video in enumerate(videos):
        local.put_file(f"archive/bench/walk{index}.mp4", video)
    run = run_measured([sys.executable, "-m", "gaitcli.main", "batch", "archive/bench/", "--concurrency",
                        str(concurrency)], env, repo)
    cpu = run["cpu_s"] + run["server_cpu_s"]
    return {"wall_s": run["wall_s"], "cpu_s": cpu, "server_cpu_s": run["server_cpu_s"], "videos": len(videos)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose code runs (default: this one)")
    args = parser.parse_args(argv)
    from gait.assets import demo_clip_path

    with tempfile.TemporaryDirectory() as tmp:
        videos = [variant(demo_clip_path(), Path(tmp) / f"walk{i}.mp4", f"batch-{i}") for i in range(args.videos)]
        load_before = os.getloadavg()
        result = run_batch(args.repo.resolve(), videos, args.concurrency)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=args.repo, capture_output=True,
                            text=True).stdout.strip()
    print(f"{datetime.now().isoformat(timespec='seconds')}  {os.cpu_count()} cores, code {commit}, load average "
          f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"gait batch: {result['videos']} videos at concurrency {args.concurrency}: {result['wall_s']:.1f} s wall, "
          f"{result['cpu_s']:.1f} CPU s (Prefect server {result['server_cpu_s']:.1f})")
    print(f"  {result['cpu_s'] / result['videos']:.1f} CPU s per video; "
          f"{3600 * result['videos'] / result['cpu_s']:.0f} videos per CPU-hour; "
          f"{3600 * result['videos'] / result['wall_s']:.0f} videos per hour on this machine")


if __name__ == "__main__":
    main()
