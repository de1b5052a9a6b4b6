"""Vega-Lite specs to SVG with vl-convert: cached by spec, and several processes at once for many charts.

vl-convert renders in one JavaScript engine per process, behind a lock, and holds the GIL while it
works, so threads render one chart at a time (measured in `benchmarks/publish.md`). Many charts are
therefore split between this process and worker processes, each a fresh ``python -m
reportgen.render.vega`` that reads a JSON list of specs on stdin and writes the list of their SVGs on
stdout: no fork of a process whose engine is running, no re-import of the caller's script. vl-convert
gives the same bytes for the same spec in any process, so the split changes no output.

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
from collections.abc import Sequence

VEGA_LITE_VERSION = "6.4"
CACHE_SIZE = 256  # SVGs kept (a card's charts are 20–60 KB each)
MIN_SHARE = 6  # charts per process below which a worker costs more (its engine starts in about 1 s) than it saves
MAX_PROCESSES = 4

_cache: OrderedDict[str, str] = OrderedDict()


def to_svgs(specs: Sequence[dict]) -> list[str]:
    """The SVG of each Vega-Lite spec, in order; identical specs are rendered once.

    Specs not in the cache are rendered here and, when there are at least ``2 * MIN_SHARE`` of them
    and more than one CPU, in worker processes at the same time (one per CPU, at most `MAX_PROCESSES`).
    """
    keys = [json.dumps(spec, sort_keys=True, separators=(",", ":")) for spec in specs]
    missing = {key: spec for key, spec in zip(keys, specs, strict=True) if key not in _cache}
    for key, svg in zip(missing, _render(list(missing.values())), strict=True):
        _cache[key] = svg
    svgs = [_cache[key] for key in keys]
    for key in keys:
        _cache.move_to_end(key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return svgs


def clear_cache() -> None:
    """Forget every SVG rendered so far (benchmarks time the rendering itself)."""
    _cache.clear()


def _render(specs: list[dict]) -> list[str]:
    """Render specs here and in worker processes, dealt round-robin so that slow charts spread out."""
    processes = min(_cpus(), MAX_PROCESSES, len(specs) // MIN_SHARE)
    if processes <= 1:
        return [_svg(spec) for spec in specs]
    shares = [specs[i::processes] for i in range(processes)]
    workers = [_start(share) for share in shares[1:]]
    results = [[_svg(spec) for spec in shares[0]]]
    for worker, share in zip(workers, shares[1:], strict=True):
        results.append(_finish(worker, share))
    svgs: list[str] = [""] * len(specs)
    for index, result in enumerate(results):
        svgs[index::processes] = result
    return svgs


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


def _start(specs: list[dict]) -> subprocess.Popen[bytes] | None:
    """A worker process rendering `specs`, its input already sent; None if it could not be started."""
    try:
        worker = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
    except OSError:
        return None
    assert worker.stdin is not None
    with contextlib.suppress(OSError):  # it exited before reading its input: `_finish` finds it failed
        worker.stdin.write(json.dumps(specs).encode("utf-8"))
    with contextlib.suppress(OSError):
        worker.stdin.close()
    return worker


def _finish(worker: subprocess.Popen[bytes] | None, specs: list[dict]) -> list[str]:
    """The worker's SVGs; if it failed (it could not start, or vl-convert refused a spec), they are rendered
    here, so a bad spec raises vl-convert's own error in this process."""
    if worker is not None:
        assert worker.stdout is not None
        output = worker.stdout.read()
        worker.stdout.close()
        if worker.wait() == 0:
            svgs = json.loads(output)
            if isinstance(svgs, list) and len(svgs) == len(specs):
                return svgs
    return [_svg(spec) for spec in specs]


def _main() -> None:
    """Worker: a JSON list of specs on stdin, the JSON list of their SVGs on stdout."""
    specs = json.load(sys.stdin.buffer)
    sys.stdout.write(json.dumps([_svg(spec) for spec in specs]))


if __name__ == "__main__":
    _main()
