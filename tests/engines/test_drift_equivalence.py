"""Drift from the monitoring reference through the SQL engines: every column's tests, sizes and chart data as the
numpy engine gives them (itself tested against scipy in tests/metrics/test_drift.py), from counts made where the
data lies; the reference checked as the numpy engine checks it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.errors import InputError
from tests.engines.conftest import SQL_ENGINES
from tests.engines.test_equivalence import frame

HOSTILE = 'city"; DROP TABLE reportgen_input; --'


def rows(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    """`frame`'s columns (no times) with an identifier, a constant, infinities, a text column with a hostile name and
    values, and `shift` added to the ages."""
    data = frame(n, seed).drop(columns=["scored_at"])
    rng = np.random.default_rng(seed + 7)
    data["age"] = data["age"] + shift
    data["row_id"] = np.arange(n) + 10 * seed * n
    data["constant"] = 1.5
    data["spiky"] = np.where(rng.random(n) < 0.02, np.inf, rng.normal(0, 1, n))
    data[HOSTILE] = rng.choice(["r'0", "x\"); --", "plain"], n, p=[0.5, 0.3, 0.2] if shift else [0.34, 0.33, 0.33])
    data["kind"] = rng.choice(["cat", "dog", "fox"], n)
    data["kind_predicted"] = np.where(rng.random(n) < 0.7, data["kind"], "cat")
    return data


CASES = {
    "binary": dict(label="y", score="p"),
    "regression": dict(label="target", prediction="p"),
    "multiclass": dict(label="kind", prediction="kind_predicted", task="multiclass"),
}


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize(("case", "sizes"), [("binary", (3000, 2000)), ("binary", (12_000, 11_000)),
                                             ("regression", (2000, 1500)), ("multiclass", (2500, 2000))],
                         ids=["binary", "binary, asymptotic p-values", "regression", "multiclass"])
def test_drift_from_the_reference_equals_the_numpy_engines(engine: str, case: str, sizes: tuple[int, int],
                                                          spark_session) -> None:
    current, reference = rows(sizes[0], 0, shift=3.0), rows(sizes[1], 5)
    reference.loc[reference.index[:40], "sex"] = None  # missing on one side only
    options = {"resamples": 100, "monitoring": {"data": reference}, "error_analysis": {"enabled": False},
               **CASES[case]}
    expected = reportgen.evaluate(current, engine="numpy", **options)
    actual = reportgen.evaluate(current, engine=engine, **options)
    left, right = expected.results["monitoring"], actual.results["monitoring"]
    assert (right.reference_rows, right.current_rows, right.reference_labels) == (
        left.reference_rows, left.current_rows, left.reference_labels)
    assert right.skipped == left.skipped and right.notes == left.notes
    assert "row_id" in right.skipped and HOSTILE in [c.column for c in right.columns]
    assert [(c.column, c.role, c.kind, c.n_reference, c.n_current, c.drifted, c.note) for c in right.columns] == [
        (c.column, c.role, c.kind, c.n_reference, c.n_current, c.drifted, c.note) for c in left.columns]
    assert any(c.drifted for c in left.columns)  # "age" moved: the comparison is not of quiet columns only
    for mine, theirs in zip(right.columns, left.columns, strict=True):
        assert mine.missing_reference == pytest.approx(theirs.missing_reference, rel=1e-12)
        assert mine.missing_current == pytest.approx(theirs.missing_current, rel=1e-12)
        assert [t.test for t in mine.tests] == [t.test for t in theirs.tests]
        for a, b in zip(mine.tests, theirs.tests, strict=True):
            for name in ("statistic", "p_value", "q_value", "threshold"):
                value, oracle = getattr(a, name), getattr(b, name)
                assert (value is None) == (oracle is None), (mine.column, a.test, name)
                if oracle is not None:
                    assert value == pytest.approx(oracle, rel=1e-9, abs=1e-15), (mine.column, a.test, name)
        if theirs.distribution is None:
            assert mine.distribution is None
            continue
        assert mine.distribution.labels == theirs.distribution.labels
        for name in ("edges", "reference", "current"):
            value, oracle = getattr(mine.distribution, name), getattr(theirs.distribution, name)
            if oracle is not None:
                np.testing.assert_allclose(value, oracle, rtol=1e-12, atol=1e-6, err_msg=f"{mine.column} {name}")
    assert [(f.id, f.title) for f in actual.findings if f.section == "monitoring"] == [
        (f.id, f.title) for f in expected.findings if f.section == "monitoring"]
    assert not any(note.startswith("not run: monitoring") for note in actual.engine.notes)


BAD = {
    "empty": (lambda r: r.iloc[:0], "no rows; the reference is empty"),
    "a missing column": (lambda r: r.drop(columns=["income"]), 'no column "income", which the predictions have'),
    "another kind": (lambda r: r.assign(level=r["level"].astype(str)),
                     'columns of another kind than in the predictions: "level" (text here, numbers in data frame)'),
    "a label out of place": (lambda r: r.assign(p=r["p"] * 3), "values outside [0, 1]"),
}


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("bad", list(BAD))
def test_a_bad_reference_is_refused_in_one_line_as_by_the_numpy_engine(engine: str, bad: str, spark_session) -> None:
    current, reference = rows(500, 0), rows(400, 5)
    change, words = BAD[bad]
    options = {"label": "y", "score": "p", "resamples": 100, "monitoring": {"data": change(reference)}}
    messages = []
    for name in ("numpy", engine):
        with pytest.raises(InputError) as raised:
            reportgen.evaluate(current, engine=name, **options)
        messages.append(str(raised.value))
    assert words in messages[1] and "\n" not in messages[1]
    assert messages[1].split(":")[0] == messages[0].split(":")[0] == "reference data frame"


def test_noise_raises_no_drift_and_no_error_slice_on_an_sql_engine() -> None:
    """Reference and current rows from one distribution, errors independent of every column and of time: across
    seeds, the duckdb engine calls at most one seed's result significant (each family is held at a 5% false
    discovery rate, so under noise any discovery has at most a 5% chance per seed), drift and performance by
    window included."""
    fired = []
    for seed in range(6):
        rng = np.random.default_rng(seed)

        def noise(n: int) -> pd.DataFrame:
            return pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "amount": rng.normal(0, 1, n),
                                 "city": rng.choice([f"c{k}" for k in range(8)], n), "level": rng.integers(0, 5, n),
                                 "flag": rng.random(n) < 0.3,
                                 "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 70 * 86_400, n),
                                                                                    unit="s")})

        found = reportgen.evaluate(noise(3000), engine="duckdb", label="y", score="p", resamples=100,
                                   monitoring={"data": noise(2000).drop(columns=["at"]), "time": "at", "window": "W"})
        assert found.results["error_analysis"].tested > 0  # the search ran
        assert found.results["monitoring"].by_window.tests > 0 and found.results["monitoring"].performance_tests > 0
        fired.append([f.id for f in found.findings if f.id in ("data_drift", "error_slice", "performance_drop")])
    assert sum(bool(ids) for ids in fired) <= 1, fired
