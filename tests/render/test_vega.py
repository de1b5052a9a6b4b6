"""Charts to SVG: worker processes and the cache give the bytes vl-convert gives for each spec alone."""

from __future__ import annotations

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


def _alone(spec: dict) -> str:
    return vl_convert.vegalite_to_svg(spec, vl_version=vega.VEGA_LITE_VERSION)


def test_worker_processes_give_the_same_svgs(specs: list[dict], empty_cache: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 3)
    monkeypatch.setattr(vega, "MIN_SHARE", 1)
    started = []
    start = vega._start
    monkeypatch.setattr(vega, "_start", lambda share: started.append(len(share)) or start(share))
    assert len(specs) >= 6
    assert vega.to_svgs(specs) == [_alone(spec) for spec in specs]
    assert len(started) == 2 and sum(started) == len(specs) - len(specs[0::3])  # two workers, a third each


def test_a_failed_worker_is_replaced_by_this_process(specs: list[dict], empty_cache: None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 2)
    monkeypatch.setattr(vega, "MIN_SHARE", 1)
    monkeypatch.setattr(vega.sys, "executable", "/bin/false")  # the worker exits 1 at once
    assert vega.to_svgs(specs[:4]) == [_alone(spec) for spec in specs[:4]]


def test_identical_specs_are_rendered_once(specs: list[dict], empty_cache: None,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 1)
    rendered = []
    svg = vega._svg
    monkeypatch.setattr(vega, "_svg", lambda spec: rendered.append(spec) or svg(spec))
    first = vega.to_svgs([specs[0], specs[1], dict(specs[0])])
    assert first[0] == first[2] == _alone(specs[0]) and len(rendered) == 2
    assert vega.to_svgs([specs[1], specs[0]]) == [first[1], first[0]] and len(rendered) == 2  # from the cache


def test_the_cache_keeps_the_latest(specs: list[dict], empty_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "CACHE_SIZE", 2)
    monkeypatch.setattr(vega, "_cpus", lambda: 1)
    vega.to_svgs(specs[:3])
    assert len(vega._cache) == 2


def _running(workers: list[vega.Worker]) -> list[vega.Worker]:
    return [w for w in workers if w.process is not None and w.process.poll() is None]


def test_warm_workers_render_a_batch_as_it_is_made(specs: list[dict], empty_cache: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 2)
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
        assert batch.svgs() == [_alone(spec) for spec in specs]
    assert rendered_here == [] and _running(workers) == []


def test_unused_warm_workers_stop_and_failed_ones_are_replaced(specs: list[dict], empty_cache: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 2)
    with vega.warm_workers():
        idle = list(vega._warm)
    assert len(idle) == 2 and _running(idle) == []
    monkeypatch.setattr(vega.sys, "executable", "/bin/false")
    with vega.warm_workers():
        assert vega.to_svgs(specs[:3]) == [_alone(spec) for spec in specs[:3]]


def test_one_cpu_starts_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vega, "_cpus", lambda: 1)
    with vega.warm_workers():
        assert vega._warm == []
