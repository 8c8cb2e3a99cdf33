"""Handing freed memory back to the system between the neighbour search's large stages."""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> bool:
    """Return the heap's free pages to the system; True if the C library could be asked to.

    After a large array is freed, glibc raises its mmap threshold (up to 32 MB), so the next stage's many
    mid-size arrays come from the heap, and once freed their pages stay resident: at a million images the
    hash pair search left about a gigabyte that the neighbour queries then piled onto.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
