"""Slice discovery: planted weaknesses found first, false discoveries within the rate, a slow reference, bad input."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reportgen.analysis.discovery import (
    Measure,
    candidate_families,
    discover,
    error_measure,
    slice_text,
)
from reportgen.config import DataSection
from reportgen.errors import ConfigError, InputError
from reportgen.io import check_predictions


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "noise": rng.choice(["car", "street", "quiet"], n),
        "device": rng.choice(["a", "b", "c", "d"], n),
        "speaker": rng.choice(["f", "m"], n),
        "snr": rng.normal(20, 5, n),
    })


def _errors(frame: pd.DataFrame, weak: np.ndarray, seed: int, low: float = 0.1, high: float = 0.3) -> Measure:
    rng = np.random.default_rng(seed + 1)
    values = (rng.random(len(frame)) < np.where(weak, high, low)).astype(np.float64)
    return Measure("error_rate", "error rate", values, True)


def _discover(frame: pd.DataFrame, measure: Measure, depth: int = 2, min_support: int = 30, fdr: float = 0.05):
    families, _ = candidate_families(frame, None, set(), max_values=50, quantiles=4, source="preds.csv")
    return discover(families, measure, depth=depth, min_support=min_support, fdr=fdr, level=0.95)


@pytest.mark.parametrize("seed", range(3))
def test_a_planted_weak_value_is_found_first_at_depth_one_and_two(seed):
    frame = _frame(6000, seed)
    measure = _errors(frame, (frame["noise"] == "car").to_numpy(), seed)
    for depth in (1, 2):
        found = _discover(frame, measure, depth=depth)
        assert found.reported.loc[0, "conditions"] == (("noise", "car"),)
        # its children add nothing beyond it, so none is reported
        assert not any(("noise", "car") in c and len(c) > 1 for c in found.reported["conditions"])


@pytest.mark.parametrize("seed", range(3))
def test_a_planted_weak_intersection_is_found_first_at_depth_two(seed):
    frame = _frame(8000, seed)
    measure = _errors(frame, ((frame["noise"] == "street") & (frame["device"] == "b")).to_numpy(), seed, high=0.4)
    found = _discover(frame, measure, depth=2)
    assert set(found.reported.loc[0, "conditions"]) == {("noise", "street"), ("device", "b")}
    assert found.reported.loc[0, "rank"] == 1


def test_on_null_data_runs_with_any_false_discovery_stay_within_the_rate():
    """Errors independent of every column: any reported slice is a false discovery."""
    runs = 60
    with_discoveries = 0
    for seed in range(runs):
        frame = _frame(2000, 100 + seed)
        measure = _errors(frame, np.zeros(len(frame), dtype=bool), 100 + seed)
        with_discoveries += bool(len(_discover(frame, measure, depth=2).reported))
    # under the complete null, Benjamini–Hochberg's rate is the chance of any discovery: at most 5% of runs
    # (3 of 60) in expectation; 7 leaves room for chance (binomial 60 × 0.05: P(≥ 8) < 2%)
    assert with_discoveries <= 7


def test_counts_and_tests_equal_a_slow_reference():
    frame = _frame(1500, 7)
    rng = np.random.default_rng(3)
    values = rng.exponential(1.0, len(frame)) * np.where(frame["device"] == "c", 1.6, 1.0)
    measure = Measure("abs_error", "mean absolute error", values, False)
    families, _ = candidate_families(frame, None, set(), max_values=50, quantiles=4, source="preds.csv")
    found = discover(families, measure, depth=2, min_support=20, fdr=0.05, level=0.95)
    labels = {f.columns[0]: np.asarray(f.labels, dtype=object)[f.codes] for f in families}
    grouped = pd.DataFrame(labels).assign(v=values)
    expected = []
    for depth in (1, 2):
        for columns in itertools.combinations(labels, depth):
            for key, rows in grouped.groupby(list(columns)):
                key = key if isinstance(key, tuple) else (key,)
                rest = grouped.v.drop(rows.index)
                if len(rows) < 20 or len(rest) < 20:
                    continue
                z = (rows.v.mean() - rest.mean()) / np.sqrt(rows.v.var() / len(rows) + rest.var() / len(rest))
                expected.append((frozenset(zip(columns, key, strict=True)), len(rows), rows.v.mean(), rest.mean(),
                                 stats.norm.sf(z)))  # Welch's z, one-sided: worse inside
    got = {frozenset(r.conditions): r for r in found.tested.itertuples()}
    assert len(got) == len(expected)
    for conditions, n, value, rest, p_value in expected:
        row = got[conditions]
        assert (row.n, row.value, row.rest) == (n, pytest.approx(value), pytest.approx(rest))
        assert row.p_rest == pytest.approx(p_value, rel=1e-9, abs=1e-15)


def test_error_measures_match_their_definitions():
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.4, 0.9, 0.7]})
    predictions = check_predictions(frame, DataSection(label="y", score="p"), source="preds.csv")
    assert error_measure(predictions, None).values.tolist() == [0, 1, 0, 1]
    assert error_measure(predictions, "brier").values == pytest.approx([0.04, 0.36, 0.01, 0.49])
    assert error_measure(predictions, "log_loss").values == pytest.approx(-np.log([0.8, 0.4, 0.9, 0.3]))
    with pytest.raises(ConfigError, match=r'^c.toml: \[error_analysis\] metric: "abs_error" does not apply to a binary task'):
        error_measure(predictions, "abs_error", source="c.toml")


def test_slices_read_as_their_conditions():
    assert slice_text((("noise", "car"), ("device", "b"))) == "noise = car & device = b"


# Bad input ----------------------------------------------------------------------------------------


def test_no_candidate_columns_is_one_line():
    frame = pd.DataFrame({"id": range(50), "one": ["x"] * 50})
    with pytest.raises(InputError) as error:
        candidate_families(frame, None, set(), max_values=50, quantiles=4, source="preds.csv")
    assert str(error.value) == (
        'preds.csv: no candidate columns for error analysis ("id" looks like an identifier (every value distinct); '
        '"one" has a single value); add metadata columns to the predictions or list them in [error_analysis] columns'
    )


def test_a_named_column_with_a_single_value_is_one_line():
    frame = pd.DataFrame({"one": ["x"] * 50, "two": ["a", "b"] * 25})
    with pytest.raises(InputError, match=re.escape(
        'preds.csv: column "one" ([error_analysis] columns) has a single value, so it cannot separate slices; '
        "remove it")):
        candidate_families(frame, ["two", "one"], set(), max_values=50, quantiles=4, source="preds.csv")


def test_a_minimum_support_larger_than_the_data_tests_nothing():
    frame = _frame(100, 0)
    found = _discover(frame, _errors(frame, np.zeros(100, dtype=bool), 0), min_support=80)
    assert found.tested.empty and found.reported.empty


def test_numeric_columns_are_cut_into_quantiles_and_text_columns_capped():
    frame = _frame(400, 0).assign(city=[f"c{i % 60}" for i in range(400)])
    families, notes = candidate_families(frame, None, set(), max_values=50, quantiles=4, source="preds.csv")
    assert {f.columns[0]: f.kind for f in families} == {"noise": "values", "device": "values", "speaker": "values",
                                                        "snr": "quantiles"}
    assert notes == ['Left out: "city" has 60 distinct values (more than 50).']


def test_issue_12_the_search_is_bounded_by_a_combination_budget():
    from reportgen.analysis.discovery import _combinations

    combos, notes = _combinations(100, 2, 10_000)
    assert len(combos) == 100 + 4950 and notes == []
    combos, notes = _combinations(100, 3, 10_000)
    assert len(combos) <= 10_000 and sum(len(c) == 3 for c in combos) == 4495  # C(31, 3): the first 31 columns
    assert notes == ["Slices of 3 conditions combine only the first 31 of the 100 candidate columns "
                     "(at most 10,000 combinations of columns are searched)."]
    combos, notes = _combinations(50, 2, 50)
    assert len(combos) == 50 and "Slices of 2 conditions were not searched" in notes[0]
