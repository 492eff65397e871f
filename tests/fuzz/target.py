"""The fuzz target of each reader, for libFuzzer (atheris):

    python -m tests.fuzz.target READER CORPUS_DIR... [libFuzzer options]   (or: python -m tests.fuzz.run)

READER: `trc`, `c3d`, `csv` (gait.analysis.readers.read_trajectories on a file of that kind),
`alphapose` (gait.alphapose_json.read_alphapose_json) or `video` (gait.video.probe: OpenCV's FFmpeg
demuxers are compiled code, so the mutations are blind there, guided only by the probe's own Python).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tests.fuzz.harness import fuzz, instrumented

with instrumented():
    from gait.alphapose_json import read_alphapose_json
    from gait.analysis.readers import read_trajectories
    from gait.video import probe

from tests.fuzz.checks import check_subject, check_trajectories, check_video  # noqa: E402


@dataclass(frozen=True)
class Target:
    suffix: str                    # the input file's name ends so: the readers choose by it
    read: Callable[[Path], None]   # reads the file and checks the result's invariants


def _trajectories(path: Path) -> None:
    check_trajectories(read_trajectories(path))


TARGETS = {
    "trc": Target(".trc", _trajectories),
    "c3d": Target(".c3d", _trajectories),
    "csv": Target(".csv", _trajectories),
    "alphapose": Target(".json", lambda path: check_subject(read_alphapose_json(path))),
    "video": Target(".mp4", lambda path: check_video(probe(path))),
}


if __name__ == "__main__":
    target = TARGETS[sys.argv.pop(1)]
    fuzz(target.read, target.suffix)
