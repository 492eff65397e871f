"""Rotate on an upright, constant-rate H.264 video: the stream copy against the re-encoding it
replaces, interleaved, medians of --runs each, with the load average.

The source is the demo clip's frames re-encoded once as H.264 (x264 `medium`, CRF 18: about a
phone's bit rate at this size), since the demo itself is VP9 and is re-encoded either way.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from gait.assets import demo_clip_path
from gait.video import ffmpeg_exe, probe
from services.rotate import upright


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _phone_like_h264(folder: Path) -> Path:
    import subprocess

    path = folder / "upright_h264.mp4"
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(demo_clip_path()), "-an", "-c:v", "libx264",
                    "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def _timed(source: Path, folder: Path, copy: bool) -> tuple[float, float, bool]:
    chooser = upright.can_stream_copy
    if not copy:
        upright.can_stream_copy = lambda *_: False  # the re-encoding every video had before
    try:
        started, cpu = time.perf_counter(), _children_cpu_s()
        result = upright.make_upright(source, folder / "upright.mp4", folder / "proxy.mp4")
        return time.perf_counter() - started, _children_cpu_s() - cpu, result.stream_copied
    finally:
        upright.can_stream_copy = chooser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gait-bench-rotate-") as tmp:
        folder = Path(tmp)
        source = _phone_like_h264(folder)
        info = probe(source)
        figures: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.runs):
            for copy in (False, True):
                wall, cpu, copied = _timed(source, folder, copy)
                assert copied == copy
                figures[copy].append((wall, cpu))
    print(f"rotate on {info.width}x{info.height}, {info.frames} frames of H.264 at {info.fps:g} fps; "
          f"medians of {args.runs}, load average {os.getloadavg()[0]:.1f}")
    print("| | wall s | CPU s (ffmpeg) |\n| --- | --- | --- |")
    encoding = f"x264 {upright.UPRIGHT_PRESET} CRF {upright.UPRIGHT_CRF}, deblocked"
    for copy, label in ((False, f"re-encoded ({encoding}) + proxy"), (True, "stream copy + proxy")):
        walls, cpus = zip(*figures[copy])
        print(f"| {label} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} |")
    ratio = statistics.median(c for _, c in figures[True]) / statistics.median(c for _, c in figures[False])
    print(f"CPU ratio copy / re-encode: {ratio:.2f}")


if __name__ == "__main__":
    main()
