"""The readers against hostile bytes: the seed corpus reads, every crash the fuzzers found (or a
review found, where the fuzzers had not reached it) ends in one readable line, and each reader's
fuzzer runs briefly with a fixed seed (tests/fuzz/run.py; docs/fuzzing.md)."""
from __future__ import annotations


import pytest

from gait.errors import GaitError
from tests.fuzz.harness import check_error
from tests.fuzz.run import CRASHES, READERS, SEEDS, fuzz_reader
from tests.fuzz.target import TARGETS, Target

# each committed crash input: the reader's answer now (a message; None: a valid result). Found
# by the fuzzer unless marked "review".
ANSWERS = {
    "alphapose/infinite_keypoint.json": "keypoints and score must be finite numbers",  # 1e400 accepted
    "alphapose/frame_number_huge.json": "is frame 432000 or later",             # review: MemoryError
    "alphapose/frame_number_huge_int.json": "is frame 432000 or later",         # review: 17 GiB allocated
    "alphapose/frame_number_5000_digits.json": "is frame 432000 or later",      # review: ValueError (int digits)
    "alphapose/nested_too_deeply.json": "nested too deeply",                    # review: RecursionError
    "alphapose/image_id_true.json": "has no frame number",                      # review: IndexError
    "c3d/parser_unbound_local.c3d": r"not a readable C3D file \(UnboundLocalError\)",
    "c3d/feet_at_pelvis_height.c3d": "cannot tell which way is up",            # up was (0, 0, 0)
    "c3d/labels_in_many_dimensions.c3d": "no readable list of point labels",    # timeout: 2.8 million label slots
    "c3d/no_points_65535_frames.c3d": "holds no 3D points",                     # review: 65535 empty frames, IndexError
    "c3d/more_labels_than_points.c3d": None,                                    # review: IndexError
    "csv/time_not_a_number.csv": "time column holds a value that is not a number",  # ValueError
    "csv/infinite_coordinate.csv": "holds infinite coordinates",                # review: inf in the result
    # OpenCV reads its display matrix as -2**31 + 361, an int overflow whose value depends on the
    # CPU (read as 232 degrees here, 233 on CI, before the reader refused it)
    "video/rotation_232_deg.mp4": "rotation tag is not a readable angle",
    "video/negative_frame_count.mp4": None,                                     # frames was -2**63
}
# inputs per reader in the suite's run (2 to 5 s of fuzzing each here, plus 1 to 3 s of imports),
# and a cap on its time for a slow machine (the run stops there: fewer inputs, the same ones first)
SUITE_RUNS = {"trc": 300, "c3d": 400, "csv": 200, "alphapose": 1000, "video": 300}
SUITE_SECONDS = 6


def _target(reader: str) -> Target:
    return TARGETS[reader]


@pytest.mark.parametrize("reader", READERS)
def test_the_seeds_are_valid_files(reader):
    seeds = sorted((SEEDS / reader).iterdir())
    assert seeds
    for seed in seeds:
        _target(reader).read(seed)


def test_the_runner_fuzzes_every_target():
    assert READERS == tuple(TARGETS)


def test_every_committed_crash_has_its_answer():
    committed = {f"{p.parent.name}/{p.name}" for p in CRASHES.glob("*/*")}
    assert committed == set(ANSWERS)


@pytest.mark.parametrize("name", sorted(ANSWERS))
def test_a_crash_found_ends_in_a_clear_answer(name):
    reader, answer = name.split("/")[0], ANSWERS[name]
    read = _target(reader).read
    if answer is None:
        read(CRASHES / name)
        return
    with pytest.raises(GaitError, match=answer) as caught:
        read(CRASHES / name)
    check_error(caught.value)


@pytest.mark.parametrize("reader", READERS)
def test_a_short_fuzzing_run_finds_no_crash(reader, tmp_path):
    outcome = fuzz_reader(reader, tmp_path, SUITE_SECONDS, runs=SUITE_RUNS[reader], seed=1)
    assert not outcome.failed, outcome.report()
    inputs = [p for folder in (SEEDS / reader, CRASHES / reader) if folder.is_dir() for p in folder.iterdir()]
    assert outcome.executions >= len(inputs), outcome.summary()  # at least the seeds and the crash inputs ran
