"""What the card records of an engine's run: its name and version, the rows it scanned and its stages."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stage:
    """One stage of an engine's run: what it did and how long it took (wall-clock seconds)."""

    name: str
    seconds: float


@dataclass(frozen=True)
class EngineRun:
    """Which engine computed the statistics, its version, the rows it scanned and its stages.

    Attributes
    ----------
    name : str
        "numpy", "duckdb" or "spark".
    version : str
        The engine's version (numpy's for the numpy engine).
    rows : int
        Rows scanned.
    stages : list of Stage
        In order.
    notes : list of str
        How the engine was chosen, and the analyses it did not run, with why.
    """

    name: str
    version: str
    rows: int
    stages: list[Stage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Stages:
    """Times an engine's stages, reporting each through `progress` as it starts and ends."""

    def __init__(self, engine: str, progress: Callable[[str], None], done: list[Stage] | None = None) -> None:
        self.engine, self.progress = engine, progress
        self.done: list[Stage] = list(done or [])

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as the stage `name`."""
        self.progress(f"{self.engine}: {name}")
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.done.append(Stage(name, round(seconds, 3)))
        self.progress(f"{self.engine}: {name}: {seconds:.1f} s")
