"""Freed memory kept for reuse during an evaluation: glibc's settings inside `reused_memory`, and back after."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from reportgen import memory
from reportgen.memory import reused_memory

BLOCK = 8_000_000  # float64: 64 MB, far above glibc's mmap threshold


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _mmapped_bytes() -> int:
    """Bytes glibc holds in blocks of their own `mmap` (mallinfo2's hblkhd)."""
    libc = memory._glibc()
    libc.mallinfo2.restype = _MallInfo2
    return libc.mallinfo2().hblkhd


def _mmapped_by_a_block(size: int = BLOCK) -> int:
    before = _mmapped_bytes()
    block = np.ones(size)
    grown = _mmapped_bytes() - before
    del block
    return grown


needs_glibc = pytest.mark.skipif(memory._glibc() is None or not hasattr(memory._glibc(), "mallinfo2"),
                                 reason="glibc (2.33 or later) only: elsewhere reused_memory changes nothing")


@needs_glibc
def test_large_blocks_come_from_the_heap_inside_and_from_mmap_again_after() -> None:
    assert _mmapped_by_a_block() >= BLOCK * 8  # glibc's default, before
    with reused_memory():
        assert _mmapped_by_a_block() == 0
    assert _mmapped_by_a_block() >= BLOCK * 8


@needs_glibc
def test_after_the_block_glibc_is_left_as_its_adaptation_leaves_it() -> None:
    """Blocks up to 32 MB come from the heap after (glibc's start-up threshold, 128 KB, would map them apart),
    larger ones are mapped apart and given back when freed."""
    with reused_memory():
        pass
    assert _mmapped_by_a_block(2_000_000) == 0  # 16 MB
    assert _mmapped_by_a_block(5_000_000) >= 40_000_000  # 40 MB


@needs_glibc
def test_nested_uses_keep_the_settings_until_the_outer_one_ends() -> None:
    with reused_memory():
        with reused_memory():
            pass
        assert _mmapped_by_a_block() == 0
    assert _mmapped_by_a_block() >= BLOCK * 8


@needs_glibc
def test_settings_are_restored_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), reused_memory():
        raise RuntimeError("a failed evaluation")
    assert memory._inside == 0
    assert _mmapped_by_a_block() >= BLOCK * 8


def test_without_glibc_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_glibc", lambda: None)
    with reused_memory():
        assert memory._inside == 0
