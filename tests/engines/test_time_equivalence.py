"""Monitoring over time through the SQL engines: windows, drift by window, performance by window and slice × window
against the reference's level, and the change detectors' alarms, as the numpy engine gives them (itself tested
against scikit-learn, scipy and river in tests/analysis/test_monitoring.py and tests/metrics), from counts made where
the data lies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.errors import InputError
from tests.engines.conftest import SQL_ENGINES
from tests.engines.test_drift_equivalence import CASES, rows

ESTIMATES = ("Estimates from the probabilities alone", "The metrics are not estimated from the model's probabilities")


def timed(n: int, seed: int, *, change: bool) -> pd.DataFrame:
    """`rows` with distinct times over 60 days (2% missing); with `change`, from day 35 on the model turns worse and
    the ages move."""
    data = rows(n, seed)
    rng = np.random.default_rng(seed + 11)
    seconds = rng.permutation(60 * 86_400)[:n]
    times = pd.Series(pd.Timestamp("2024-03-14 15:00") + pd.to_timedelta(seconds, unit="s")).astype("datetime64[us]")
    times[rng.random(n) < 0.02] = pd.NaT
    data["scored_at"] = times
    if change:
        late = seconds > 35 * 86_400
        data.loc[late, "p"] = 1 - data.loc[late, "p"]
        data.loc[late, "age"] += 8
        data.loc[late, "kind_predicted"] = np.where(rng.random(int(late.sum())) < 0.5, "dog", "fox")
    return data


SLICES = [{"column": "sex"}, {"column": "region"}, {"column": "scored_at", "window": "W"}]


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize(("case", "with_reference", "window", "waiting"),
                         [("binary", True, "W", False), ("binary", False, None, False),
                          ("binary", True, "W", True), ("regression", True, "7D", False),
                          ("multiclass", True, "W", False)],
                         ids=["binary", "binary, time only, window chosen", "binary, the latest rows without a label",
                              "regression", "multiclass"])
def test_monitoring_over_time_equals_the_numpy_engines(engine: str, case: str, with_reference: bool,
                                                       window: str | None, waiting: bool, spark_session) -> None:
    current, reference = timed(6000, 0, change=True), timed(3000, 5, change=False).drop(columns=["scored_at"])
    if waiting:  # the labels of the latest fifth have not arrived
        current.loc[current["scored_at"] > current["scored_at"].quantile(0.8), "y"] = None
    monitoring = {"time": "scored_at", **({"window": window} if window else {}),
                  **({"data": reference} if with_reference else {})}
    options = {"resamples": 100, "monitoring": monitoring, "error_analysis": {"enabled": False}, "slices": SLICES,
               **CASES[case]}
    expected = reportgen.evaluate(current, engine="numpy", **options)
    actual = reportgen.evaluate(current, engine=engine, **options)
    left, right = expected.results["monitoring"], actual.results["monitoring"]
    for name in ("time", "window", "windows", "missing_times", "unlabelled", "skipped", "performance_tests",
                 "reference_labels", "current_rows"):
        assert getattr(right, name) == getattr(left, name), name
    assert len(right.windows) >= 8 and right.missing_times > 0
    assert any(right.unlabelled) == waiting
    assert [n for n in right.notes if not n.startswith(ESTIMATES) and "without a label yet" not in n] == [
        n for n in left.notes if not n.startswith(ESTIMATES) and "without a label yet" not in n]
    if waiting:
        assert f"{sum(right.unlabelled)} current rows without a label yet: compared with the reference; measured " \
               f"only once labelled (the {engine} engine does not estimate their metrics)." in right.notes
    if case == "binary":  # the multiclass case has no probabilities: nothing to estimate from
        assert any(n.startswith(f"The metrics are not estimated from the model's probabilities alone with the {engine}")
                   for n in right.notes)
    if with_reference:
        mine, theirs = right.by_window, left.by_window
        assert (mine.columns, mine.windows, mine.drifted, mine.tests) == (
            theirs.columns, theirs.windows, theirs.drifted, theirs.tests)
        np.testing.assert_allclose(np.array(mine.psi, float), np.array(theirs.psi, float), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(np.array(mine.q_value, float), np.array(theirs.q_value, float), rtol=1e-9)
        assert "age" in [c for c, row in zip(mine.columns, mine.drifted, strict=True) if any(row)]
    else:
        assert right.by_window is None and left.by_window is None
    assert [(s.metric, s.slice, s.group, s.below_reference) for s in right.performance] == [
        (s.metric, s.slice, s.group, s.below_reference) for s in left.performance]
    assert {s.slice for s in right.performance} == {"overall", "sex", "region"}  # not the window slice
    for mine, theirs in zip(right.performance, left.performance, strict=True):
        for name in ("reference", "reference_low", "reference_high"):
            assert _close(getattr(mine, name), getattr(theirs, name)), (mine.metric, name)
        assert [(v.window, v.n, v.undefined_reason) for v in mine.values] == [
            (v.window, v.n, v.undefined_reason) for v in theirs.values]
        for v, w in zip(mine.values, theirs.values, strict=True):
            for name in ("value", "ci_low", "ci_high"):
                assert _close(getattr(v, name), getattr(w, name)), (mine.metric, name)
            assert v.estimate is None
    assert [(c.detector, c.metric, c.window, c.start, c.worse) for c in right.changes] == [
        (c.detector, c.metric, c.window, c.start, c.worse) for c in left.changes]
    for mine, theirs in zip(right.changes, left.changes, strict=True):
        assert (mine.before, mine.after) == pytest.approx((theirs.before, theirs.after), rel=1e-12)
    if case != "regression":
        assert {c.detector for c in left.changes} >= {"ddm"}  # the change is seen: the comparison is not of silence
    if with_reference:
        assert any(s.below_reference for s in left.performance)
    assert [(f.id, f.title, f.detail) for f in actual.findings if f.section == "monitoring"] == [
        (f.id, f.title, f.detail) for f in expected.findings if f.section == "monitoring"]
    assert not any(note.startswith("not run: monitoring") for note in actual.engine.notes)


def _close(value: float | None, oracle: float | None) -> bool:
    """Both undefined, or equal to 1e-9 relative (the engines add the same numbers in other orders)."""
    return value is None and oracle is None or (value is not None and oracle is not None
                                                and value == pytest.approx(oracle, rel=1e-9, abs=1e-12))


BAD = {
    "a missing time column": ({"time": "sent_at"}, 'no column "sent_at" ('),
    "too many windows": ({"time": "scored_at", "window": "1min", "max_windows": 50},
                         'window "1min" makes 86,'),
}


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("bad", list(BAD))
def test_a_bad_time_column_is_refused_in_one_line_as_by_the_numpy_engine(engine: str, bad: str, spark_session) -> None:
    monitoring, words = BAD[bad]
    messages = []
    for name in ("numpy", engine):
        with pytest.raises(InputError) as raised:
            reportgen.evaluate(timed(400, 0, change=False), engine=name, label="y", score="p", resamples=100,
                               monitoring=monitoring)
        messages.append(str(raised.value))
    assert messages[1] == messages[0] and words in messages[1] and "\n" not in messages[1]


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_times_written_as_text_are_refused_naming_the_engine_that_reads_them(engine: str, spark_session) -> None:
    data = timed(400, 0, change=False)
    data["scored_at"] = data["scored_at"].astype("string")
    with pytest.raises(InputError) as raised:
        reportgen.evaluate(data, engine=engine, label="y", score="p", resamples=100, monitoring={"time": "scored_at"})
    message = str(raised.value)
    assert 'column "scored_at" (monitoring["time"]): holds' in message and "\n" not in message
    assert f"the {engine} engine forms windows of dates or timestamps" in message and 'engine="numpy"' in message
    assert reportgen.evaluate(data, engine="numpy", label="y", score="p", resamples=100,
                              monitoring={"time": "scored_at"}).results["monitoring"].windows


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_rows_without_a_label_are_checked_as_by_the_numpy_engine(engine: str, spark_session) -> None:
    data = timed(400, 0, change=False)
    data.loc[:99, "y"] = None
    options = {"label": "y", "score": "p", "resamples": 100, "monitoring": {"time": "scored_at"}}
    bad_score = data.assign(p=np.where(np.arange(400) == 5, 1.5, data["p"]))  # on a row without a label
    for frame, words in ((bad_score, ('column "p": 1 value', "outside [0, 1]")),
                         (data.assign(y=None), ('column "y" (label): no row has a label',))):
        for name in ("numpy", engine):
            with pytest.raises(InputError) as raised:
                reportgen.evaluate(frame, engine=name, **options)
            assert all(word in str(raised.value) for word in words) and "\n" not in str(raised.value)
    without_monitoring = {key: value for key, value in options.items() if key != "monitoring"}
    with pytest.raises(InputError, match="100 missing values; fill or drop them"):
        reportgen.evaluate(data, engine=engine, **without_monitoring)
