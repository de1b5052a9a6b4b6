"""Regression chart data against straightforward numpy references, and the exact quantile selection."""

from __future__ import annotations

import json
from dataclasses import asdict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.metrics import residuals
from reportgen.metrics.regression import ErrorRows
from reportgen.metrics.residuals import (
    BAND_QUANTILES,
    TAILS,
    density,
    residual_bands,
    residual_histogram,
)


def _rows(n: int = 2000, seed: int = 0, offset: float = 0.0) -> ErrorRows:
    rng = np.random.default_rng(seed)
    y = offset + rng.normal(0, 10, n)
    return ErrorRows.prepare(y, y + rng.normal(0.5, 3, n) + 0.1 * y)


def _decimals(span: float) -> int:
    return 4 - int(np.floor(np.log10(span)))


# Density -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_density_equals_histogram2d_on_a_shared_range(offset):
    rows = _rows(offset=offset)
    grid = density(rows, bins=30)
    low, high = np.quantile(np.concatenate([rows.y_pred, rows.y_true]), TAILS)
    decimals = _decimals(high - low)
    assert (grid.low, grid.high) == pytest.approx((round(low, decimals), round(high, decimals)))
    edges = np.linspace(low, high, 31)
    counts, _, _ = np.histogram2d(rows.y_pred, rows.y_true, bins=[edges, edges])
    used = np.argwhere(counts > 0)
    assert grid.count == counts[counts > 0].astype(int).tolist()  # row-major: by predicted, then actual
    rounded = np.round(edges, decimals)
    assert grid.x0 == rounded[used[:, 0]].tolist() and grid.x1 == rounded[used[:, 0] + 1].tolist()
    assert grid.y0 == rounded[used[:, 1]].tolist() and grid.y1 == rounded[used[:, 1] + 1].tolist()
    inside = (rows.y_pred >= low) & (rows.y_pred <= high) & (rows.y_true >= low) & (rows.y_true <= high)
    assert grid.outside == np.sum(~inside) > 0
    assert sum(grid.count) + grid.outside == len(rows.y_true)
    assert len(set(rounded)) == 31  # rounding keeps every edge apart, even around 1e6


def test_density_values_on_edges_go_where_histogram2d_puts_them():
    y = np.repeat(np.arange(0.0, 101.0), 3)  # integers: many values exactly on edges
    rows = ErrorRows.prepare(y, np.roll(y, 7))
    grid = density(rows, bins=20)
    low, high = np.quantile(np.concatenate([rows.y_pred, rows.y_true]), TAILS)
    edges = np.linspace(low, high, 21)
    counts, _, _ = np.histogram2d(rows.y_pred, rows.y_true, bins=[edges, edges])
    assert grid.count == counts[counts > 0].astype(int).tolist()


def test_density_of_constant_values():
    rows = ErrorRows.prepare(np.full(10, 3.0), np.full(10, 3.0))
    grid = density(rows, bins=4)
    assert (grid.low, grid.high) == (2.5, 3.5)
    assert grid.count == [10] and grid.outside == 0
    assert grid.x0 == [3.0] and grid.x1 == [3.25]


# Residual bands ----------------------------------------------------------------------------------


def _bands_reference(rows: ErrorRows, bins: int) -> dict[str, list]:
    cuts = np.quantile(rows.y_pred, np.linspace(0, 1, bins + 1))
    inner = np.unique(cuts[1:-1])
    index = np.searchsorted(inner, rows.y_pred, side="left")  # x0 < prediction <= x1
    edges = np.concatenate([cuts[:1], inner, cuts[-1:]])
    reference: dict[str, list] = {key: [] for key in ("x0", "x1", "mean_predicted", "mean_residual", "q", "n")}
    for b in range(len(inner) + 1):
        mine = index == b
        if not mine.any():
            continue
        reference["x0"].append(edges[b])
        reference["x1"].append(edges[b + 1])
        reference["mean_predicted"].append(rows.y_pred[mine].mean())
        reference["mean_residual"].append(rows.residual[mine].mean())
        reference["q"].append(np.quantile(rows.residual[mine], BAND_QUANTILES))
        reference["n"].append(int(mine.sum()))
    return reference


def _check_bands(rows: ErrorRows, bins: int) -> None:
    bands = residual_bands(rows, bins=bins)
    reference = _bands_reference(rows, bins)
    x_tolerance = 0.6 * 10.0 ** -_decimals(max(np.ptp(rows.y_pred), 1e-300)) if np.ptp(rows.y_pred) else 1e-4
    quantiles = np.array(reference["q"])
    span = quantiles[:, -1].max() - quantiles[:, 0].min()
    y_tolerance = 0.6 * 10.0 ** -_decimals(span) if span > 0 else 1e-4
    assert bands.n == reference["n"]
    for key in ("x0", "x1", "mean_predicted"):
        assert getattr(bands, key) == pytest.approx(reference[key], abs=x_tolerance), key
    assert bands.mean_residual == pytest.approx(reference["mean_residual"], abs=y_tolerance)
    for column, key in enumerate(("q10", "q25", "median", "q75", "q90")):
        assert getattr(bands, key) == pytest.approx(quantiles[:, column].tolist(), abs=y_tolerance), key


@pytest.mark.parametrize(("offset", "bins"), [(0.0, 20), (1e6, 20), (0.0, 50)])
def test_residual_bands_equal_quantiles_per_bin(offset, bins):
    rows = _rows(3000, offset=offset)
    _check_bands(rows, bins)
    bands = residual_bands(rows, bins=bins)
    assert len(bands.n) == bins and max(bands.n) - min(bands.n) <= 1  # distinct predictions: equal counts


def test_residual_bands_keep_tied_predictions_in_one_bin():
    rng = np.random.default_rng(3)
    y_pred = np.where(rng.random(1000) < 0.4, 0.0, rng.integers(1, 6, 1000).astype(float))
    rows = ErrorRows.prepare(y_pred + rng.normal(0, 1, 1000), y_pred)
    _check_bands(rows, 20)
    bands = residual_bands(rows, bins=20)
    assert len(bands.n) <= 6  # six distinct predictions: at most six bins
    assert bands.n[0] == np.sum(y_pred == 0)  # the tied zeros, alone in the first bin
    assert sum(bands.n) == 1000


def test_residual_bands_of_constant_predictions_and_one_row():
    rows = ErrorRows.prepare(np.array([1.0, 2.0, 4.0]), np.full(3, 2.0))
    bands = residual_bands(rows)
    assert bands.n == [3] and bands.x0 == bands.x1 == [2.0] and bands.median == [0.0]
    single = residual_bands(ErrorRows.prepare(np.array([5.0]), np.array([4.0])))
    assert single.n == [1] and single.q10 == single.q90 == [1.0]


# Residual histogram ------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [0.0, 1e6])
def test_residual_histogram_equals_numpy(offset):
    rows = _rows(5000, offset=offset)
    histogram = residual_histogram(rows, bins=40)
    low, high = np.quantile(rows.residual, TAILS)
    counts, edges = np.histogram(rows.residual, 40, range=(low, high))
    assert histogram.counts == counts.tolist()
    assert histogram.edges == np.round(edges, _decimals(high - low)).tolist()
    assert histogram.below == np.sum(rows.residual < low) > 0
    assert histogram.above == np.sum(rows.residual > high) > 0
    assert histogram.below + sum(histogram.counts) + histogram.above == 5000


def test_residual_histogram_of_a_perfect_model():
    rows = ErrorRows.prepare(np.arange(5.0), np.arange(5.0))
    histogram = residual_histogram(rows, bins=4)
    assert histogram.edges == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert histogram.counts == [0, 0, 5, 0] and histogram.below == histogram.above == 0


# Size and serialization --------------------------------------------------------------------------


def test_chart_data_is_small_and_json_ready():
    rows = _rows(50_000)
    charts = [density(rows), residual_bands(rows), residual_histogram(rows)]
    for chart in charts:
        data = asdict(chart)
        text = json.dumps(data, allow_nan=False)  # plain floats and ints, no NaN
        assert len(text) < 60_000
        for value in data.values():
            items = value if isinstance(value, list) else [value]
            assert all(type(item) in (int, float) for item in items)
    assert len(charts[0].count) <= 40 * 40


def test_chart_data_does_not_depend_on_row_order():
    rows = _rows(3000, seed=5)
    order = np.random.default_rng(0).permutation(3000)
    shuffled = ErrorRows.prepare(rows.y_true[order], rows.y_pred[order])
    assert density(shuffled) == density(rows)
    assert residual_histogram(shuffled) == residual_histogram(rows)
    a, b = residual_bands(shuffled), residual_bands(rows)
    assert a.n == b.n and a.q10 == b.q10 and a.median == b.median and a.x1 == b.x1
    assert a.mean_residual == pytest.approx(b.mean_residual)


# Exact quantiles without sorting -----------------------------------------------------------------

SHAPES = ("normal", "ties", "skewed", "offset", "constant", "outlier")


@st.composite
def _values(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 300))
    shape = draw(st.sampled_from(SHAPES))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = {
        "normal": lambda: rng.normal(0, 1, n),
        "ties": lambda: rng.integers(0, 4, n).astype(float),
        "skewed": lambda: np.exp(rng.normal(0, 4, n)),
        "offset": lambda: 1e6 + rng.normal(0, 1e-3, n),
        "constant": lambda: np.full(n, 0.1),
        "outlier": lambda: np.r_[rng.normal(0, 1, n - 1), 1e300],
    }[shape]()
    return rng.permutation(values)


PROBABILITIES = (0.0, 0.005, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 0.995, 1.0)


@pytest.fixture(params=["default", "tiny cells"])
def cells(request, monkeypatch):
    """The default sizes, and tiny ones that send small data through every path (tables, refinement)."""
    if request.param == "tiny cells":
        for name, value in (("_CELLS", 4), ("_FINE", 16), ("_FEW", 3), ("_SAMPLE", 8), ("_BLOCK", 5), ("_CROWDED", 1)):
            monkeypatch.setattr(residuals, name, value)
    return request.param


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(values=_values(), data=st.data())
def test_quantiles_equal_numpy_exactly(cells, values, data):
    split = data.draw(st.integers(0, len(values)))
    together = residuals._quantiles((values[:split], values[split:]), PROBABILITIES)
    assert together.shape == (1, len(PROBABILITIES))
    np.testing.assert_array_equal(together[0], np.quantile(values, PROBABILITIES))
    n_groups = data.draw(st.integers(1, 5))
    groups = data.draw(hnp.arrays(np.int8, len(values), elements=st.integers(0, n_groups - 1)))
    per_group = residuals._quantiles((values,), PROBABILITIES, groups=(groups,), n_groups=n_groups)
    for g in range(n_groups):
        if np.any(groups == g):
            np.testing.assert_array_equal(per_group[g], np.quantile(values[groups == g], PROBABILITIES))
        else:
            assert np.isnan(per_group[g]).all()


def test_charts_with_tiny_cells_equal_the_references(monkeypatch):
    for name, value in (("_CELLS", 4), ("_FINE", 16), ("_FEW", 3), ("_SAMPLE", 8), ("_BLOCK", 7), ("_CROWDED", 1)):
        monkeypatch.setattr(residuals, name, value)
    rows = _rows(500, seed=11)
    _check_bands(rows, 10)
    histogram = residual_histogram(rows, bins=10)
    low, high = np.quantile(rows.residual, TAILS)
    assert histogram.counts == np.histogram(rows.residual, 10, range=(low, high))[0].tolist()
