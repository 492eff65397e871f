"""Fuzz target: the C3D reader, gait.analysis.readers.read_trajectories on a .c3d file.

    python -m tests.fuzz.fuzz_c3d CORPUS_DIR... [libFuzzer options]   (or: python -m tests.fuzz.run)
"""
from __future__ import annotations

from pathlib import Path

from tests.fuzz.harness import fuzz, instrumented

with instrumented():
    from gait.analysis.readers import read_trajectories

from tests.fuzz.checks import check_trajectories  # noqa: E402

SUFFIX = ".c3d"


def read(path: Path) -> None:
    check_trajectories(read_trajectories(path))


if __name__ == "__main__":
    fuzz(read, SUFFIX)
