"""Fuzz target: the AlphaPose results reader, gait.alphapose_json.read_alphapose_json.

    python -m tests.fuzz.fuzz_alphapose CORPUS_DIR... [libFuzzer options]   (or: python -m tests.fuzz.run)
"""
from __future__ import annotations

from pathlib import Path

from tests.fuzz.harness import fuzz, instrumented

with instrumented():
    from gait.alphapose_json import read_alphapose_json

from tests.fuzz.checks import check_subject  # noqa: E402

SUFFIX = ".json"


def read(path: Path) -> None:
    check_subject(read_alphapose_json(path))


if __name__ == "__main__":
    fuzz(read, SUFFIX)
