"""Freed memory leaves the process after a stage call (glibc's malloc_trim)."""
from __future__ import annotations

import ctypes.util
import threading

import numpy as np
import pytest

from gait import memory


def _resident_mb() -> float:
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20


def _frames_freed_on_threads(kept: list) -> None:
    """As pose2d does: frame-sized arrays made and dropped on several threads, small ones kept."""
    def work() -> None:
        for _ in range(30):
            frames = [np.ones((994, 1768, 3), np.uint8) for _ in range(8)]
            kept.append(np.ones(40_000))  # a small allocation above them: the heap's top cannot shrink
            del frames
    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.skipif(memory._malloc_trim() is None, reason="this C library has no malloc_trim (not glibc)")
def test_the_pages_a_call_freed_are_returned():
    kept: list = []
    _frames_freed_on_threads(kept)
    before = _resident_mb()
    assert memory.release_free_memory()
    assert _resident_mb() < before - 30, "the arenas' free pages are given back"


def test_without_malloc_trim_nothing_is_done(monkeypatch):
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    try:
        assert memory.release_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()
