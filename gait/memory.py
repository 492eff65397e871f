"""Giving freed memory back to the operating system after a stage call.

glibc's allocator keeps what a call freed in its arenas (one per thread that allocated) for reuse,
so a process's resident memory stays at the call's peak. pose2d's frames are allocated and freed on
its decode, model and video threads; what those arenas kept stayed resident through the analysis
that followed in the same process. `malloc_trim` returns the free pages of every arena.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    """glibc's malloc_trim, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim") if name else None
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that cannot be done."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
