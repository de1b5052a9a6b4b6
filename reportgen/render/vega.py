"""Vega-Lite specs to SVG with vl-convert, in worker processes: cached by spec, several at once.

vl-convert renders in one JavaScript engine per process, behind a lock, and holds the GIL while it
works, so threads render one chart at a time (measured in `benchmarks/publish.md`). Charts are
therefore rendered in worker processes (one per CPU, at most `MAX_PROCESSES`), each a fresh ``python -m
reportgen.render.vega`` that reads specs from stdin, one JSON document a line, and writes the list of
their SVGs on stdout when its input ends: no fork of a process whose engine is running, no re-import of
the caller's script. A `Batch` gives each spec to the least busy worker as soon as it is added, so charts
render while the next ones are built. A worker's engine takes about half a second to start:
`reportgen build` starts its workers before it reads the data (`warm_workers`), so they are ready when
the first chart is; otherwise a batch starts a worker for each of its first specs, up to one per CPU.

Workers lay text out with vl-convert's built-in Liberation Sans, the font the charts name after the
page's embedded "Reportgen Sans" (`charts.FONT`), never with a copy installed on the machine: vl-convert
reopens an installed font's file for every character it measures (three times the CPU of the card's
charts), and an installed copy may be another version. On Linux, where vl-convert finds installed fonts
through fontconfig, each worker gets a fontconfig file (`font_config`) listing every font directory but
those holding Liberation Sans; the others stay for characters Liberation Sans lacks. Every chart is
rendered this way, so its SVG is the same bytes whichever worker renders it.

SVGs are cached in this process by the spec's canonical JSON (`CACHE_SIZE` entries), so a card
rendered twice (the HTML page, then the PDF alone) renders each chart once.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

VEGA_LITE_VERSION = "6.4"
CACHE_SIZE = 256  # SVGs kept (a card's charts are 20–60 KB each)
MAX_PROCESSES = 4
WARM_UP = {"mark": "text", "data": {"values": [{"t": "0"}]}, "encoding": {"text": {"field": "t"}}}
# Where fontdb (vl-convert's font finder) looks without fontconfig, and where fontconfig usually looks
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")
FONT_FILES = (".ttf", ".otf", ".ttc", ".otc", ".pfa", ".pfb")
BUILT_IN_FONT = "liberationsans"  # file names of Liberation Sans, lowercased, without "-", "_" or spaces

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
        config = font_config()
        environment = None if config is None else {**os.environ, "FONTCONFIG_FILE": config}
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment)
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
    started = [Worker(warm=True) for _ in range(_processes())]
    _warm.extend(started)
    try:
        yield
    finally:
        _warm.clear()
        for worker in started:  # those a batch finished with have stopped already
            worker.stop()


class Batch:
    """Specs rendered to SVG together: `add` each as it is made, then `svgs`. Identical specs, and specs in
    the cache, are rendered once. Each new spec goes at once to the worker with the least work: the warm
    workers (`warm_workers`) if there are any, else one started for each new spec up to one per CPU."""

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
        if len(self.workers) < min(len(self.new), _processes()):
            self.workers.append(Worker())
        min(self.workers, key=lambda worker: worker.load).send(spec, key)

    def stop(self) -> None:
        """End the batch's workers unfinished (the caller failed before asking for the SVGs)."""
        for worker in self.workers:
            worker.stop()

    def svgs(self) -> list[str]:
        """The SVG of every spec added, in order."""
        rendered: dict[str, str] = {}
        for worker in self.workers:
            svgs = worker.svgs() or [_svg(spec) for spec in worker.specs]
            rendered.update(zip(worker.texts, svgs, strict=True))
        svgs = [rendered[key] if key in rendered else _cache[key] for key in self.keys]
        for key, svg in zip(self.keys, svgs, strict=True):
            _cache[key] = svg
            _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return svgs


def to_svgs(specs: Sequence[dict]) -> list[str]:
    """The SVG of each Vega-Lite spec, in order (one `Batch`)."""
    batch = Batch()
    for spec in specs:
        batch.add(spec)
    return batch.svgs()


def clear_cache() -> None:
    """Forget every SVG rendered so far (benchmarks time the rendering itself)."""
    _cache.clear()


@functools.cache
def font_config() -> str | None:
    """The fontconfig file the workers' vl-convert finds fonts with (Linux): every directory of `FONT_DIRS`
    holding font files, but those with Liberation Sans in them or below (`BUILT_IN_FONT`), and an empty one
    (fontdb reads the default directories again when a file lists none). None elsewhere, where vl-convert
    does not read fontconfig."""
    if not sys.platform.startswith("linux"):
        return None
    kept, built_in = [], set()
    for root in FONT_DIRS:
        for folder, _, files in os.walk(os.path.expanduser(root)):
            names = [name.lower() for name in files if name.lower().endswith(FONT_FILES)]
            if any(BUILT_IN_FONT in name.replace("-", "").replace("_", "").replace(" ", "") for name in names):
                built_in.add(Path(folder))
            elif names:
                kept.append(Path(folder))
    kept = [folder for folder in kept if not any(folder in found.parents for found in built_in)]
    empty = Path(tempfile.mkdtemp(prefix="reportgen-fonts-"))
    config = empty / "fonts.conf"
    config.write_text("<?xml version=\"1.0\"?>\n<fontconfig>\n" + "".join(
        f"  <dir>{escape(str(folder))}</dir>\n" for folder in [empty, *kept]) + "</fontconfig>\n", encoding="utf-8")
    atexit.register(lambda: (config.unlink(missing_ok=True), empty.rmdir()))
    return str(config)


def _processes() -> int:
    """How many workers a batch uses: one per CPU, at most `MAX_PROCESSES`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_PROCESSES)


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
