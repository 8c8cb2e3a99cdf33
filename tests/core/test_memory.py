"""Freed heap memory goes back to the system when the search asks for it."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from dedup_gui.core.memory import _malloc_trim, release_freed_memory

pytestmark = pytest.mark.skipif(_malloc_trim() is None, reason="needs glibc's malloc_trim")


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_freed_heap_arrays_leave_the_resident_set() -> None:
    # Freeing a 30 MB array raises glibc's mmap threshold, so the 1 MB arrays after it come from the heap;
    # the last one stays allocated on top, so freeing the others cannot shrink the heap by itself.
    big = np.ones(30 * 2**20, dtype=np.uint8)
    del big
    arrays = [np.ones(2**20, dtype=np.uint8) for _ in range(300)]
    keep = arrays.pop()
    before = _resident_mb()
    del arrays
    gc.collect()
    assert release_freed_memory()
    after = _resident_mb()
    assert before - after > 200, f"resident {before:.0f} MB -> {after:.0f} MB"
    assert keep.sum() == 2**20
