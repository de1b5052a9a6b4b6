"""Charts to SVG: worker processes and the cache give the bytes vl-convert gives for each spec alone, finding
fonts as the workers do."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import vl_convert

import reportgen
from reportgen import charts
from reportgen.figures import card_charts
from reportgen.render import vega
from tests.helpers import synthetic_predictions


@pytest.fixture(scope="module")
def specs() -> list[dict]:
    report = reportgen.evaluate(synthetic_predictions(500), label="y", score="p",
                                slices=[{"column": "sex"}, {"column": "race"}],
                                sensitive=["sex"], resamples=100).to_report()
    return [charts.spec(figure.chart) for figure in card_charts(report)]


@pytest.fixture
def empty_cache() -> None:
    vega.clear_cache()


def _alone(specs: list[dict]) -> list[str]:
    """The oracle: vl-convert on each spec, in one fresh process that finds fonts as the workers do."""
    program = ("import json, sys, vl_convert; print(json.dumps([vl_convert.vegalite_to_svg(s, vl_version=sys.argv[1])"
               " for s in json.load(sys.stdin)]))")
    config = vega.font_config()
    environment = None if config is None else {**os.environ, "FONTCONFIG_FILE": config}
    done = subprocess.run([sys.executable, "-c", program, vega.VEGA_LITE_VERSION], input=json.dumps(specs),
                          capture_output=True, text=True, check=True, env=environment)
    return json.loads(done.stdout)


def _here(spec: dict) -> str:
    return vl_convert.vegalite_to_svg(spec, vl_version=vega.VEGA_LITE_VERSION)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[vega.Worker]:
    """Every worker started, as it is started."""
    workers: list[vega.Worker] = []
    init = vega.Worker.__init__

    def record(self: vega.Worker, **options: bool) -> None:
        init(self, **options)
        workers.append(self)

    monkeypatch.setattr(vega.Worker, "__init__", record)
    return workers


def test_worker_processes_give_the_same_svgs(specs: list[dict], empty_cache: None, started: list[vega.Worker],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_processes", lambda: 3)
    assert len(specs) >= 6
    assert vega.to_svgs(specs) == _alone(specs)
    assert len(started) == 3 and all(w.specs for w in started)  # a worker for each of the first three specs
    assert sorted(spec for w in started for spec in w.texts) == sorted(
        json.dumps(spec, sort_keys=True, separators=(",", ":")) for spec in specs)


def test_a_failed_worker_is_replaced_by_this_process(specs: list[dict], empty_cache: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_processes", lambda: 2)
    monkeypatch.setattr(vega.sys, "executable", "/bin/false")  # the worker exits 1 at once
    assert vega.to_svgs(specs[:4]) == [_here(spec) for spec in specs[:4]]


def test_identical_specs_are_rendered_once(specs: list[dict], empty_cache: None, started: list[vega.Worker],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_processes", lambda: 1)
    first = vega.to_svgs([specs[0], specs[1], dict(specs[0])])
    assert first[0] == first[2] and [len(w.specs) for w in started] == [2]
    assert vega.to_svgs([specs[1], specs[0]]) == [first[1], first[0]]
    assert [len(w.specs) for w in started] == [2]  # from the cache: the second batch started no worker


def test_the_cache_keeps_the_latest(specs: list[dict], empty_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "CACHE_SIZE", 2)
    monkeypatch.setattr(vega, "_processes", lambda: 1)
    vega.to_svgs(specs[:3])
    assert len(vega._cache) == 2


def test_workers_find_every_font_directory_but_liberation_sans(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    tree = {"truetype/dejavu/DejaVuSans.ttf", "truetype/liberation/LiberationSans-Regular.ttf",
            "truetype/liberation/LiberationMono-Regular.ttf", "opentype/noto/NotoSansCJK-Regular.ttc",
            "liberation2/Liberation_Sans-Bold.TTF", "misc/fonts.dir", "user & co/Font.otf"}
    for name in tree:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setattr(vega, "FONT_DIRS", (str(tmp_path), str(tmp_path / "missing")))
    monkeypatch.setattr(vega.sys, "platform", "linux")
    config = Path(vega.font_config.__wrapped__())
    dirs = re.findall(r"<dir>(.*)</dir>", config.read_text())
    assert dirs[0] == str(config.parent) and list(config.parent.iterdir()) == [config]  # an empty one first
    assert sorted(dirs[1:]) == sorted(str(tmp_path / d) for d in ("opentype/noto", "truetype/dejavu", "user &amp; co"))


def test_workers_lay_text_out_with_the_built_in_liberation_sans(empty_cache: None) -> None:
    """Whatever Liberation Sans the machine has (this one may have none, or another version), the workers
    measure with vl-convert's own: the widths are the same as with fonts hidden altogether."""
    chart = {"mark": {"type": "text", "align": "left", "fontSize": 100}, "config": {"font": charts.FONT},
             "data": {"values": [{"t": "AVATAR Wave −0.25 → better"}]}, "encoding": {"text": {"field": "t"}}}
    empty = vega.font_config()
    if empty is None:
        pytest.skip("vl-convert reads fontconfig on Linux only")
    svg = vega.to_svgs([chart])[0]
    program = ("import json, sys, vl_convert; print(json.dumps(vl_convert.vegalite_to_svg(json.load(sys.stdin), "
               "vl_version=sys.argv[1])))")
    hidden = Path(tempfile.mkdtemp()) / "fonts.conf"
    hidden.write_text(f"<fontconfig><dir>{hidden.parent}</dir></fontconfig>")
    done = subprocess.run([sys.executable, "-c", program, vega.VEGA_LITE_VERSION], input=json.dumps(chart),
                          capture_output=True, text=True, check=True, env={**os.environ, "FONTCONFIG_FILE": str(hidden)})
    assert re.search(r'width="(\d+)"', svg).group(1) == re.search(r'width="(\d+)"', json.loads(done.stdout)).group(1)


def _running(workers: list[vega.Worker]) -> list[vega.Worker]:
    return [w for w in workers if w.process is not None and w.process.poll() is None]


def test_warm_workers_render_a_batch_as_it_is_made(specs: list[dict], empty_cache: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_processes", lambda: 2)
    rendered_here = []
    svg = vega._svg
    monkeypatch.setattr(vega, "_svg", lambda spec: rendered_here.append(spec) or svg(spec))
    with vega.warm_workers():
        workers = list(vega._warm)
        assert len(workers) == 2 and len(_running(workers)) == 2  # started before any spec is known
        batch = vega.Batch()
        assert vega._warm == []  # the batch took them
        for spec in specs:
            batch.add(spec)
        assert all(w.specs for w in workers)  # sent at once, spread over both
        assert sum(len(w.specs) for w in workers) == len(specs)
        assert batch.svgs() == _alone(specs)
    assert rendered_here == [] and _running(workers) == []


def test_unused_warm_workers_stop_and_failed_ones_are_replaced(specs: list[dict], empty_cache: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_processes", lambda: 2)
    with vega.warm_workers():
        idle = list(vega._warm)
    assert len(idle) == 2 and _running(idle) == []
    monkeypatch.setattr(vega.sys, "executable", "/bin/false")
    with vega.warm_workers():
        assert vega.to_svgs(specs[:3]) == [_here(spec) for spec in specs[:3]]


def test_one_warm_worker_per_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega.os, "sched_getaffinity", lambda pid: {0})
    with vega.warm_workers():
        assert len(vega._warm) == 1
    monkeypatch.setattr(vega.os, "sched_getaffinity", lambda pid: set(range(64)))
    with vega.warm_workers():
        assert len(vega._warm) == vega.MAX_PROCESSES


def test_a_failure_while_charts_are_built_leaves_no_worker_waiting(started: list[vega.Worker], empty_cache: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.render import html

    report = reportgen.evaluate(synthetic_predictions(300), label="y", score="p", slices=[{"column": "sex"}],
                                resamples=100).to_report()
    built = html.each_chart

    def failing(*args: object) -> object:
        for number, figure in enumerate(built(*args)):
            if number == 2:
                raise RuntimeError("a chart could not be built")
            yield figure

    monkeypatch.setattr(html, "each_chart", failing)
    with pytest.raises(RuntimeError, match="could not be built"):
        html.render_charts(report, interactive=False)
    assert started and _running(started) == []
