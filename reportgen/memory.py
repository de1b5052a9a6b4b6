"""Freed memory kept for reuse while an evaluation runs (glibc only; elsewhere nothing changes).

An evaluation of millions of rows allocates and frees many arrays of tens of megabytes. glibc
serves each such block with its own `mmap` and gives it back with `munmap` when freed, so the
next array of the same size is faulted in page by page again; on virtual machines, where a page
fault is dear, that system time was 26–45% of the engine's CPU time at 10M rows (`benchmarks/results.md`).
Within `reused_memory`, large blocks come from the heap and freed memory stays there for the
next array; on leaving, the free memory is returned to the system (`malloc_trim`), so the process
does not keep the evaluation's peak, and glibc is left as its own adaptive settings leave a process
that has freed an array of 32 MB: blocks above 32 MB mapped apart and unmapped when freed, the heap
trimmed above 64 MB free. (A `mallopt` call turns glibc's adaptation off for good, so those values are set
rather than its start-up ones, which would map every block above 128 KB apart from then on.)
"""

from __future__ import annotations

import ctypes
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

# mallopt parameters (malloc.h), and the values set on leaving: glibc's limit of its adaptive mmap threshold on
# 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX), the trim threshold it adapts to beside it, its default mmap count.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
AFTER_MMAP_THRESHOLD = 32 * 1024 * 1024
AFTER_TRIM_THRESHOLD = 2 * AFTER_MMAP_THRESHOLD
DEFAULT_MMAP_MAX = 65536
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
                libc.mallopt(M_MMAP_THRESHOLD, AFTER_MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, AFTER_TRIM_THRESHOLD)
                libc.malloc_trim(0)
