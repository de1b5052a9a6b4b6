"""Exact quantiles out of core (`reportgen.engines.quantiles`) against `np.quantile`, to the bit: ties, one value,
extreme magnitudes, groups (empty ones too), and buckets small enough to force several passes and fetches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen.engines import quantiles as module
from reportgen.engines.duckdb_engine import DuckDBConnection

FRACTIONS = [0.0, 0.005, 0.1, 0.25, 0.5, 0.75, 0.9, 0.995, 1.0]


def exact(values: np.ndarray, groups: np.ndarray, n_groups: int, fractions=FRACTIONS) -> np.ndarray:
    frame = pd.DataFrame({"v": values, "g": groups})
    connection = DuckDBConnection(frame, "test")
    try:
        return module.quantiles(connection, '"v"', [], fractions, group='"g"', n_groups=n_groups)
    finally:
        connection.close()


def expected(values: np.ndarray, groups: np.ndarray, n_groups: int, fractions=FRACTIONS) -> np.ndarray:
    rows = []
    for g in range(n_groups):
        mine = values[(groups == g) & ~np.isnan(values)]
        rows.append(np.quantile(mine, fractions) if len(mine) else np.full(len(fractions), np.nan))
    return np.array(rows)


numbers = st.one_of(st.floats(-1e300, 1e300, allow_nan=False), st.sampled_from([0.0, -0.0, 1.0, 0.1, 5e-324]))


@given(st.lists(st.tuples(numbers, st.integers(0, 3)), min_size=1, max_size=300), st.booleans())
def test_equal_to_numpys_quantiles_to_the_bit(rows: list[tuple[float, int]], tiny_buckets: bool) -> None:
    values = np.array([v for v, _ in rows])
    groups = np.array([g for _, g in rows])
    with pytest.MonkeyPatch.context() as patch:
        if tiny_buckets:  # several counting passes and fetches on a few hundred values
            patch.setattr(module, "BUCKETS", 4)
            patch.setattr(module, "FETCH", 3)
        np.testing.assert_array_equal(exact(values, groups, 5), expected(values, groups, 5))


def test_many_ties_and_a_wide_range_settle_in_a_few_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    values = np.concatenate([np.full(50_000, 0.25), rng.lognormal(0, 8, 50_000), [-1e308, 1e308]])
    groups = rng.integers(0, 3, len(values))
    values[rng.random(len(values)) < 0.01] = np.nan  # left out, as missing
    monkeypatch.setattr(module, "FETCH", 100)
    np.testing.assert_array_equal(exact(values, groups, 4), expected(values, groups, 4))


@given(st.lists(st.one_of(numbers, st.sampled_from([np.inf, -np.inf])), min_size=1, max_size=200), st.booleans())
def test_data_quantiles_equal_numpys_inverted_cdf_infinities_included(values: list[float], tiny_buckets: bool) -> None:
    values_array = np.array(values)
    frame = pd.DataFrame({"v": values_array})
    connection = DuckDBConnection(frame, "test")
    try:
        with pytest.MonkeyPatch.context() as patch:
            if tiny_buckets:  # several passes and fetches
                patch.setattr(module, "BUCKETS", 4)
                patch.setattr(module, "FETCH", 2)
            found = module.data_quantiles(connection, '"v"', [], FRACTIONS)
    finally:
        connection.close()
    np.testing.assert_array_equal(found, np.quantile(values_array, FRACTIONS, method="inverted_cdf"))


def test_data_quantiles_of_no_values_are_undefined() -> None:
    connection = DuckDBConnection(pd.DataFrame({"v": [np.nan, np.nan]}), "test")
    try:
        found = module.data_quantiles(connection, 'CASE WHEN isnan("v") THEN NULL ELSE "v" END', [], [0.0, 0.5])
    finally:
        connection.close()
    assert np.isnan(found).all()
