"""Freed memory kept for reuse while an evaluation runs (glibc only; elsewhere nothing changes).

An evaluation of millions of rows allocates and frees many arrays of tens of megabytes. glibc
serves each such block with its own `mmap` and gives it back with `munmap` when freed, so the
next array of the same size is faulted in page by page again; on virtual machines, where a page
fault is dear, that system time was 26–45% of the engine's CPU time at 10M rows (`benchmarks/results.md`).
Within `reused_memory`, large blocks come from the heap and freed memory stays there for the
next array; on leaving, glibc's settings are put back and the free memory is returned to the
system (`malloc_trim`), so the process does not keep the evaluation's peak.
"""

from __future__ import annotations

import ctypes
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

# mallopt parameters (malloc.h) and glibc's defaults, put back on leaving.
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
KEEP_ALL = 2**31 - 1  # mallopt takes an int: the largest trim threshold it can be given

_lock = threading.Lock()
_inside = 0  # evaluations running now (threads may nest them): the settings change on the first, back on the last


@cache
def _glibc() -> Any | None:
    """The C library when it is glibc with `mallopt` and `malloc_trim`, else None."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


@contextmanager
def reused_memory() -> Iterator[None]:
    """Keep freed memory in the process for reuse while the block runs; return it to the system after.

    Examples
    --------
    >>> with reused_memory():
    ...     pass
    """
    libc = _glibc()
    if libc is None:
        yield
        return
    global _inside
    with _lock:
        _inside += 1
        if _inside == 1:
            libc.mallopt(M_MMAP_MAX, 0)
            libc.mallopt(M_TRIM_THRESHOLD, KEEP_ALL)
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
                libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)
