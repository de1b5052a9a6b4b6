"""Vega-Lite specs to SVG with vl-convert: cached by spec, and several processes at once for many charts.

vl-convert renders in one JavaScript engine per process, behind a lock, and holds the GIL while it
works, so threads render one chart at a time (measured in `benchmarks/publish.md`). Charts are
therefore rendered in worker processes, each a fresh ``python -m reportgen.render.vega`` that reads
specs from stdin, one JSON document a line, and writes the list of their SVGs on stdout when its input
ends: no fork of a process whose engine is running, no re-import of the caller's script. vl-convert
gives the same bytes for the same spec in any process, so the split changes no output.

A worker's engine takes about half a second to start. `reportgen build` starts its workers first
(`warm_workers`), so the engines start while the data is read and evaluated, and a `Batch` hands each
spec to a warm worker as soon as it is made, so the charts render while the next ones are built.
Without warm workers (the Python API), a batch of at least ``2 * MIN_SHARE`` specs is split between
this process and workers started then.

SVGs are cached in this process by the spec's canonical JSON (`CACHE_SIZE` entries), so a card
rendered twice (the HTML page, then the PDF alone) renders each chart once.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Iterator, Sequence

VEGA_LITE_VERSION = "6.4"
CACHE_SIZE = 256  # SVGs kept (a card's charts are 20–60 KB each)
MIN_SHARE = 6  # charts per process below which a cold worker costs more (its engine starts) than it saves
MAX_PROCESSES = 4
WARM_UP = {"mark": "text", "data": {"values": [{"t": "0"}]}, "encoding": {"text": {"field": "t"}}}

_cache: OrderedDict[str, str] = OrderedDict()
_warm: list[Worker] = []


class Worker:
    """A worker process, fed specs one at a time; `svgs` ends its input and collects what it rendered.

    A worker that cannot be started, or fails, gives None from `svgs`, and its specs are rendered in
    this process instead (so a bad spec raises vl-convert's own error here).
    """

    def __init__(self, *, warm: bool = False) -> None:
        self.specs: list[dict] = []
        self.texts: list[str] = []
        self.load = 0  # bytes of spec sent, to spread the work
        command = [sys.executable, "-m", __name__] + (["--warm"] if warm else [])
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            self.process = None

    def send(self, spec: dict, text: str) -> None:
        """Give the worker one spec (`text`, its JSON on one line)."""
        self.specs.append(spec)
        self.texts.append(text)
        self.load += len(text)
        if self.process is not None:
            assert self.process.stdin is not None
            try:
                self.process.stdin.write(text.encode("utf-8") + b"\n")
            except OSError:  # it exited: `svgs` finds it failed
                self.stop()

    def svgs(self) -> list[str] | None:
        """The SVGs of the specs sent, in order; None if the worker failed."""
        if self.process is None:
            return None
        assert self.process.stdin is not None and self.process.stdout is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        output = self.process.stdout.read()
        self.process.stdout.close()
        status = self.process.wait()
        self.process = None
        if status != 0:
            return None
        svgs = json.loads(output)
        return svgs if isinstance(svgs, list) and len(svgs) == len(self.specs) else None

    def stop(self) -> None:
        """End the process, whatever it is doing."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            for stream in (self.process.stdin, self.process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self.process = None


@contextlib.contextmanager
def warm_workers() -> Iterator[None]:
    """Start one worker per CPU (at most `MAX_PROCESSES`) whose engines start now, for the next `Batch`
    of this process; those no batch took are stopped on leaving."""
    started = [Worker(warm=True) for _ in range(min(_cpus(), MAX_PROCESSES))] if _cpus() > 1 else []
    _warm.extend(started)
    try:
        yield
    finally:
        _warm.clear()
        for worker in started:  # those a batch finished with have stopped already
            worker.stop()


class Batch:
    """Specs rendered to SVG together: `add` each as it is made, then `svgs`. Identical specs, and specs in
    the cache, are rendered once. With warm workers (`warm_workers`) each new spec goes at once to the
    worker with the least work; otherwise all are rendered in `svgs`."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.new: dict[str, dict] = {}  # specs neither cached nor added before, by key
        self.workers = list(_warm)
        _warm.clear()

    def add(self, spec: dict) -> None:
        """Queue one Vega-Lite spec."""
        key = json.dumps(spec, sort_keys=True, separators=(",", ":"))
        self.keys.append(key)
        if key in _cache or key in self.new:
            return
        self.new[key] = spec
        if self.workers:
            min(self.workers, key=lambda worker: worker.load).send(spec, key)

    def svgs(self) -> list[str]:
        """The SVG of every spec added, in order."""
        rendered = self._render_new()
        svgs = [rendered[key] if key in rendered else _cache[key] for key in self.keys]
        for key, svg in zip(self.keys, svgs, strict=True):
            _cache[key] = svg
            _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return svgs

    def _render_new(self) -> dict[str, str]:
        specs = list(self.new.values())
        if not self.workers:
            return dict(zip(self.new, _render(specs), strict=True))
        rendered: dict[str, str] = {}
        for worker in self.workers:
            svgs = worker.svgs() or [_svg(spec) for spec in worker.specs]
            rendered.update(zip(worker.texts, svgs, strict=True))
        return rendered


def to_svgs(specs: Sequence[dict]) -> list[str]:
    """The SVG of each Vega-Lite spec, in order (one `Batch`)."""
    batch = Batch()
    for spec in specs:
        batch.add(spec)
    return batch.svgs()


def clear_cache() -> None:
    """Forget every SVG rendered so far (benchmarks time the rendering itself)."""
    _cache.clear()


def _render(specs: list[dict]) -> list[str]:
    """Render specs here and, when there are at least ``2 * MIN_SHARE`` of them and more than one CPU, in
    cold workers at the same time (one per CPU), dealt round-robin so that slow charts spread out."""
    processes = min(_cpus(), MAX_PROCESSES, len(specs) // MIN_SHARE)
    if processes <= 1:
        return [_svg(spec) for spec in specs]
    shares = [specs[i::processes] for i in range(processes)]
    workers = [_start(share) for share in shares[1:]]
    results = [[_svg(spec) for spec in shares[0]]]
    for worker in workers:
        results.append(worker.svgs() or [_svg(spec) for spec in worker.specs])
    svgs: list[str] = [""] * len(specs)
    for index, result in enumerate(results):
        svgs[index::processes] = result
    return svgs


def _start(specs: list[dict]) -> Worker:
    """A cold worker, its input already sent."""
    worker = Worker()
    for spec in specs:
        worker.send(spec, json.dumps(spec, separators=(",", ":")))
    return worker


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _svg(spec: dict) -> str:
    """One chart's SVG; the spec is given as a dict (vl-convert reads a dict's keys sorted, JSON text in its
    order, and the order can change the last digits of a coordinate)."""
    import vl_convert

    return vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)


def _main() -> None:
    """Worker: Vega-Lite specs on stdin, one JSON document a line; the JSON list of their SVGs on stdout.
    With ``--warm``, its engine starts before the first spec arrives."""
    if "--warm" in sys.argv[1:]:
        _svg(WARM_UP)
    svgs = [_svg(json.loads(line)) for line in sys.stdin.buffer if line.strip()]
    sys.stdout.write(json.dumps(svgs))


if __name__ == "__main__":
    _main()
