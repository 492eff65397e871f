"""Speed and memory of the pipeline on the demo clip, printed as a table. `make bench` runs it.

1. each stage in its own process: seconds, frames per second, peak RSS;
2. pose2d's BlazePose core and mediapipe's own `solutions.pose` loop on the same clip, in this
   run (mediapipe in its own venv, .venv-mediapipe, made on first use), and their ratio;
3. the whole `gait run` (start-up, services, Prefect flow, export) as a multiple of the clip's
   duration, with an empty store (everything computed) and then again (everything cached).
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MEDIAPIPE_VENV = REPO / ".venv-mediapipe"


def run_json(command: list[str], env: dict[str, str]) -> dict:
    result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def stage_figures(clip: Path, env: dict[str, str], frames: int) -> list[dict]:
    from gait.ingest import ingest_video
    from gait.store import open_store

    video = ingest_video(open_store(), clip)
    rows, keys = [], {}
    plan = [("rotate", [video.key]), ("pose2d", None), ("lift3d", None), ("analysis", None)]
    for stage, inputs in plan:
        inputs = inputs or {"pose2d": [keys.get("rotate")], "lift3d": [keys.get("pose2d")],
                            "analysis": [keys.get("pose2d"), keys.get("lift3d")]}[stage]
        row = run_json([PYTHON, "benchmarks/stage_probe.py", stage, *inputs], env)
        keys[stage] = row["key"]
        row["frames_per_second"] = frames / row["seconds"]
        rows.append(row)
    return rows


def core_pose_fps(rotate_key: str, frames: int) -> float:
    """pose2d's estimation alone (no overlay, no files) on what pose2d reads: the rotate stage's
    upright video and its detection proxy."""
    from gait.artifacts import Bundle
    from gait.store import open_store
    from services.pose2d.blazepose.backend import BlazePoseBackend

    rotated = Bundle.open(open_store(), rotate_key, expected_stage="rotate")
    with tempfile.TemporaryDirectory() as tmp:
        video, proxy = rotated.fetch("upright.mp4", Path(tmp)), rotated.fetch("proxy.mp4", Path(tmp))
        backend = BlazePoseBackend(num_threads=min(4, os.cpu_count() or 1))
        started = time.perf_counter()
        backend.estimate(video, rotated.meta["fps"], None, lambda: True, proxy)
        return frames / (time.perf_counter() - started)


def mediapipe_fps(clip: Path) -> float:
    if not (MEDIAPIPE_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(MEDIAPIPE_VENV)], check=True)
        subprocess.run([str(MEDIAPIPE_VENV / "bin" / "pip"), "install", "--quiet", "mediapipe==0.10.21", "numpy<2"],
                       check=True)
    return run_json([str(MEDIAPIPE_VENV / "bin" / "python"), "benchmarks/mediapipe_reference.py", str(clip)],
                    dict(os.environ))["frames_per_second"]


def whole_run(clip: Path, env: dict[str, str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run([str(Path(PYTHON).parent / "gait"), "run", str(clip), "--out", out], env=env, cwd=REPO,
                       check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> None:
    from gait.assets import demo_clip_path
    from gait.video import probe

    clip = demo_clip_path()
    info = probe(clip)
    home = Path(tempfile.mkdtemp(prefix="gait-bench-"))
    env = {**os.environ, "GAIT_HOME": str(home)}
    os.environ["GAIT_HOME"] = str(home)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"clip: {info.frames} frames, {info.width}x{info.height}, {info.fps:g} fps, {info.duration_s:.2f} s\n")
    print(f"{'stage':<10}{'seconds':>9}{'frames/s':>10}{'peak RSS MB':>13}")
    rows = stage_figures(clip, env, info.frames)
    for row in rows:
        print(f"{row['stage']:<10}{row['seconds']:>9.2f}{row['frames_per_second']:>10.1f}{row['peak_rss_mb']:>13.0f}")
    ours, theirs = core_pose_fps(rows[0]["key"], info.frames), mediapipe_fps(clip)
    print(f"\npose2d estimation (detection on the proxy, tracking, subject choice, landmarks): {ours:.1f} frames/s")
    print(f"mediapipe 0.10.21 solutions.pose loop (single person): {theirs:.1f} frames/s")
    print(f"ratio ours / mediapipe: {ours / theirs:.2f}\n")
    fresh = {**env, "GAIT_HOME": tempfile.mkdtemp(prefix="gait-bench-home-")}
    warm = {**fresh, "GAIT_STORE_DIR": tempfile.mkdtemp(prefix="gait-bench-store-")}
    for label, run_env in (("first ever (new Prefect database, empty store)", fresh),
                           ("usual (empty store)", warm), ("again (everything cached)", warm)):
        seconds = whole_run(clip, run_env)
        print(f"gait run, {label}: {seconds:.1f} s = {seconds / info.duration_s:.2f} x the clip's duration")


if __name__ == "__main__":
    main()
