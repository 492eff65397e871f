"""Fuzz target: the video probe, gait.video.probe (OpenCV's FFmpeg demuxers, compiled code: the
mutations are blind there, guided only by the probe's own Python).

    python -m tests.fuzz.fuzz_video CORPUS_DIR... [libFuzzer options]   (or: python -m tests.fuzz.run)
"""
from __future__ import annotations

from pathlib import Path

from tests.fuzz.harness import fuzz, instrumented

with instrumented():
    from gait.video import probe

from tests.fuzz.checks import check_video  # noqa: E402

SUFFIX = ".mp4"


def read(path: Path) -> None:
    check_video(probe(path))


if __name__ == "__main__":
    fuzz(read, SUFFIX)
