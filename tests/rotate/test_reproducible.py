"""Rotate writes the same bytes whatever the machine's core count: x264's output depends on its
thread count, which by default follows the cores, and pose2d's landmarks (so the gait events)
move with the upright video's encoding. (~15 s)"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gait.artifacts import sha256_file

ROTATE = """
import sys
from pathlib import Path
from services.rotate.upright import make_upright
make_upright(Path(sys.argv[1]), Path(sys.argv[2]) / "upright.mp4", Path(sys.argv[2]) / "proxy.mp4")
"""


def _rotate_on(cores: set[int], clip, folder):
    folder.mkdir()
    subprocess.run([sys.executable, "-c", ROTATE, str(clip), str(folder)], check=True, timeout=120,
                   preexec_fn=lambda: os.sched_setaffinity(0, cores))
    return sha256_file(folder / "upright.mp4"), sha256_file(folder / "proxy.mp4")


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and at least two cores to compare with one")
def test_the_upright_video_and_proxy_do_not_depend_on_the_cores(short_clip, tmp_path):
    every = os.sched_getaffinity(0)
    assert _rotate_on({min(every)}, short_clip, tmp_path / "one") == _rotate_on(every, short_clip, tmp_path / "all")
