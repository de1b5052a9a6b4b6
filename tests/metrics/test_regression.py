"""Regression kernels: the registry, the undefined policy, per-group statistics and the intervals."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import t as student_t

from reportgen.metrics import intervals
from reportgen.metrics.regression import (
    BY_NAME,
    LABELS,
    METRICS,
    ErrorRows,
    ErrorStats,
    group_stats,
)
from reportgen.metrics.table import metric_frame

NAMES = ["count", "mae", "mse", "rmse", "r2", "mape", "median_absolute_error", "max_error",
         "explained_variance", "mean_residual"]


def _stats(y, yp, codes=None, n_groups: int = 1) -> ErrorStats:
    y, yp = np.asarray(y, dtype=np.float64), np.asarray(yp, dtype=np.float64)
    codes = np.zeros(len(y), dtype=np.int64) if codes is None else np.asarray(codes)
    return group_stats(codes, ErrorRows.prepare(y, yp), n_groups).errors


def _values(name: str, y, yp) -> tuple[float, str | None]:
    values = BY_NAME[name].values(_stats(y, yp, n_groups=1) if len(y) else _stats([1.0], [1.0], [-1], 1))
    return float(values.value[0]), values.reason[0]


def test_registry_names_labels_and_intervals():
    assert [m.name for m in METRICS] == NAMES
    assert set(BY_NAME) == set(NAMES) and list(LABELS) == NAMES
    assert LABELS["r2"] == "R²" and LABELS["mae"] == "MAE"
    for metric in METRICS:
        assert metric.source == "errors"
        assert metric.compute.__doc__ and "undefined" in metric.compute.__doc__.lower() or metric.name == "count"
        assert (metric.interval is None) == (metric.confidence is None), metric.name
    intervals_by_name = {m.name: m.interval for m in METRICS}
    assert intervals_by_name == {
        "count": None, "mae": "log-scale t", "mse": "log-scale t", "rmse": "log-scale t (square root of MSE's)",
        "r2": "delta method (log scale)", "mape": "log-scale t", "median_absolute_error": None, "max_error": None,
        "explained_variance": "delta method (log scale)", "mean_residual": "student t",
    }
    directions = {m.name: m.higher_is_better for m in METRICS}
    assert directions["r2"] is True and directions["mae"] is False and directions["mean_residual"] is None


@pytest.mark.parametrize(
    ("name", "y", "yp", "reason"),
    [
        ("mae", [], [], "no rows in this group"),
        ("mse", [], [], "no rows in this group"),
        ("rmse", [], [], "no rows in this group"),
        ("mean_residual", [], [], "no rows in this group"),
        ("median_absolute_error", [], [], "no rows in this group"),
        ("max_error", [], [], "no rows in this group"),
        ("mape", [], [], "no rows in this group"),
        ("r2", [], [], "no rows in this group"),
        ("explained_variance", [], [], "no rows in this group"),
        ("r2", [3.0], [2.0], "only one row in this group"),
        ("explained_variance", [3.0], [3.0], "only one row in this group"),
        ("r2", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0], "all targets in this group are equal"),
        ("explained_variance", [0.1, 0.1, 0.1], [0.1, 0.1, 0.1], "all targets in this group are equal"),
        ("mape", [0.0, 0.0], [1.0, -1.0], "all targets in this group are zero"),
    ],
)
def test_undefined_is_nan_with_a_reason(name, y, yp, reason):
    value, why = _values(name, y, yp)
    assert math.isnan(value)
    assert why == reason


@pytest.mark.parametrize(
    ("name", "y", "yp", "expected"),
    [
        ("count", [], [], 0.0),
        ("mae", [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], 1.0),
        ("mse", [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], 5 / 3),
        ("rmse", [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], math.sqrt(5 / 3)),
        ("mean_residual", [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], 1 / 3),  # y_true - y_pred: under-predicting is positive
        ("median_absolute_error", [1.0, 2.0, 4.0, 8.0], [1.0, 3.0, 2.0, 4.0], 1.5),  # even count: middle two
        ("max_error", [1.0, 2.0, 4.0], [1.0, 3.0, 2.0], 2.0),
        ("mape", [0.0, 2.0, 4.0], [5.0, 3.0, 2.0], 0.5),  # the zero target is left out
        ("r2", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 1.0),
        ("r2", [1.0, 2.0, 3.0], [2.0, 2.0, 2.0], 0.0),  # predicting the mean
        ("explained_variance", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0], 1.0),  # a constant bias is not counted
        ("mae", [5.0], [5.0], 0.0),  # 0 is a value when defined
    ],
)
def test_defined_values(name, y, yp, expected):
    value, why = _values(name, y, yp)
    assert value == pytest.approx(expected, rel=1e-12)
    assert why is None


def test_statistics_per_group_equal_direct_computation():
    rng = np.random.default_rng(1)
    n, n_groups = 400, 5
    y = rng.normal(50, 10, n).round(1)
    y[:30] = 0.0
    yp = y + rng.normal(0, 3, n).round(1)  # rounded: ties in the absolute errors
    codes = rng.integers(-1, n_groups - 1, n)  # -1: in no group; the last group is empty
    e = _stats(y, yp, codes, n_groups)
    for g in range(n_groups):
        yg, eg = y[codes == g], (y - yp)[codes == g]
        nonzero = yg != 0
        assert e.n[g] == len(yg) and e.zero_targets[g] == np.sum(yg == 0)
        if len(yg) == 0:
            assert math.isnan(e.median_abs_error[g]) and math.isnan(e.max_abs_error[g]) and e.targets_equal[g]
            continue
        expected = {
            "residual_sum": eg.sum(), "abs_error_sum": np.abs(eg).sum(), "squared_error_sum": (eg**2).sum(),
            "squared_error_sq": (eg**4).sum(), "ape_sum": (np.abs(eg[nonzero]) / np.abs(yg[nonzero])).sum(),
            "ape_sq": ((np.abs(eg[nonzero]) / np.abs(yg[nonzero])) ** 2).sum(),
            "target_ss": ((yg - yg.mean()) ** 2).sum(), "target_ss_sq": ((yg - yg.mean()) ** 4).sum(),
            "residual_ss": ((eg - eg.mean()) ** 2).sum(), "residual_ss_sq": ((eg - eg.mean()) ** 4).sum(),
            "cross_squared_error": (eg**2 * (yg - yg.mean()) ** 2).sum(),
            "cross_residual": ((eg - eg.mean()) ** 2 * (yg - yg.mean()) ** 2).sum(),
            "median_abs_error": np.median(np.abs(eg)), "max_abs_error": np.abs(eg).max(),
        }
        for field, value in expected.items():
            assert getattr(e, field)[g] == pytest.approx(value, rel=1e-11), (g, field)
        assert not e.targets_equal[g]


def test_moments_of_the_mean_metrics():
    y, yp = np.array([2.0, 0.0, 4.0, 5.0]), np.array([1.0, 1.0, 5.0, 5.0])
    e = _stats(y, yp)
    total, squares, n = e.moments("mae")
    assert (total.tolist(), squares.tolist(), n.tolist()) == ([3.0], [3.0], [4])
    total, squares, n = e.moments("mean_residual")
    assert (total.tolist(), squares.tolist(), n.tolist()) == ([-1.0], [3.0], [4])
    total, squares, n = e.moments("mse")
    assert (total.tolist(), squares.tolist(), n.tolist()) == ([3.0], [3.0], [4])
    total, squares, n = e.moments("mape")
    assert total.tolist() == pytest.approx([0.5 + 0.25]) and squares.tolist() == pytest.approx([0.3125])
    assert n.tolist() == [3]  # the zero target is left out
    for name in ("mae", "mean_residual", "mse", "mape"):  # the metric is the mean of the moments' rows
        total, _, n = e.moments(name)
        assert BY_NAME[name].values(e).value == pytest.approx(total / n)
    with pytest.raises(ValueError, match="r2"):
        e.moments("r2")


def test_precision_with_a_large_mean_and_a_small_spread():
    """Exact sums of squares (fractions) against the two-pass ones; one pass would lose every digit."""
    rng = np.random.default_rng(7)
    y = 1e8 + rng.integers(-400, 400, 1000) / 64  # exactly representable
    yp = y + rng.integers(-40, 40, 1000) / 64
    e = _stats(y, yp)
    exact_y = [Fraction(v) for v in y]
    mean = sum(exact_y) / len(exact_y)
    exact_ss = float(sum((v - mean) ** 2 for v in exact_y))
    assert e.target_ss[0] == pytest.approx(exact_ss, rel=1e-12)
    one_pass = np.sum(y**2) - np.sum(y) ** 2 / len(y)
    assert abs(one_pass - exact_ss) > 0.01 * exact_ss  # the precision the two passes keep


def test_invariant_to_row_order_and_group_labels():
    rng = np.random.default_rng(2)
    y = rng.normal(0, 5, 300).round(2)
    yp = y + rng.normal(1, 2, 300).round(2)
    codes = rng.integers(0, 4, 300)
    base = _stats(y, yp, codes, 4)
    shuffle = rng.permutation(300)
    shuffled = _stats(y[shuffle], yp[shuffle], codes[shuffle], 4)
    relabel = np.array([2, 0, 3, 1])
    relabelled = _stats(y, yp, relabel[codes], 4)
    for metric in METRICS:
        value = metric.values(base).value
        np.testing.assert_allclose(metric.values(shuffled).value, value, rtol=1e-12, err_msg=metric.name)
        np.testing.assert_allclose(metric.values(relabelled).value[relabel], value, rtol=1e-12, err_msg=metric.name)


def test_a_single_group_equals_overall_and_rows_in_no_group_are_left_out():
    rng = np.random.default_rng(4)
    y = rng.normal(10, 2, 200)
    yp = y + rng.normal(0, 1, 200)
    codes = np.where(rng.random(200) < 0.3, -1, 0)
    kept = codes == 0
    with_outsiders = _stats(y, yp, codes, 1)
    alone = _stats(y[kept], yp[kept])
    for metric in METRICS:
        np.testing.assert_allclose(metric.values(with_outsiders).value, metric.values(alone).value, rtol=1e-12)


def test_many_groups_equal_each_group_alone():
    rng = np.random.default_rng(5)
    n_groups = 300
    codes = rng.integers(0, n_groups, 3000)
    y = rng.normal(0, 1, 3000).round(1)
    yp = y + rng.normal(0, 1, 3000).round(1)
    together = _stats(y, yp, codes, n_groups)
    for g in rng.choice(n_groups, 20, replace=False):
        alone = _stats(y[codes == g], yp[codes == g])
        for metric in METRICS:
            np.testing.assert_allclose(metric.values(together).value[g], metric.values(alone).value[0],
                                       rtol=1e-12, err_msg=metric.name)


# Intervals ----------------------------------------------------------------------------------------


def _bounds(name: str, e: ErrorStats, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    metric = BY_NAME[name]
    return metric.confidence(e, metric.values(e).value, level)


def test_mean_intervals_are_t_intervals_of_the_per_row_values():
    """Losses: t interval of the log of the mean (delta method); the signed mean residual: plain t interval."""
    rng = np.random.default_rng(8)
    y = rng.normal(20, 5, 150)
    yp = y + rng.normal(-0.1, 2, 150)
    e = _stats(y, yp)
    residual = y - yp
    per_row = {"mae": np.abs(residual), "mse": residual**2, "mape": np.abs(residual) / np.abs(y),
               "mean_residual": residual}
    t = student_t.ppf(0.975, 149)
    for name, values in per_row.items():
        half = t * values.std(ddof=1) / math.sqrt(len(values))
        low, high = _bounds(name, e)
        if name == "mean_residual":
            expected = (values.mean() - half, values.mean() + half)
        else:
            expected = (values.mean() * math.exp(-half / values.mean()), values.mean() * math.exp(half / values.mean()))
        assert (low[0], high[0]) == pytest.approx(expected, rel=1e-9), name
    low, high = _bounds("rmse", e)
    mse_low, mse_high = _bounds("mse", e)
    assert (low[0], high[0]) == pytest.approx((math.sqrt(mse_low[0]), math.sqrt(mse_high[0])))
    assert _bounds("mean_residual", e)[0][0] < 0  # not clipped at 0: residuals are signed


def test_delta_interval_equals_influence_functions_computed_per_row():
    rng = np.random.default_rng(9)
    y = rng.normal(0, 2, 80)
    yp = 0.7 * y + rng.normal(0.3, 1, 80)
    e = _stats(y, yp)
    residual = y - yp
    b = (y - y.mean()) ** 2
    t = student_t.ppf(0.975, 79)
    for name, a in (("r2", residual**2), ("explained_variance", (residual - residual.mean()) ** 2)):
        ratio = a.sum() / b.sum()
        influence = (ratio * b - a) / b.mean()
        se = math.sqrt(np.sum(influence**2) / ((len(y) - 1) * len(y)))
        low, high = _bounds(name, e)  # the interval of log(ratio) is log(ratio) ± t·se / ratio
        assert low[0] == pytest.approx(1 - ratio * math.exp(t * se / ratio), rel=1e-9), name
        assert high[0] == pytest.approx(1 - ratio * math.exp(-t * se / ratio), rel=1e-9), name
        assert low[0] < 1 - ratio < high[0] < 1


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """y = x + ε with x ~ U(1, 3), ε ~ U(-0.5, 0.5); the model predicts 0.8·x + 0.5."""
    x = rng.uniform(1, 3, n)
    return x + rng.uniform(-0.5, 0.5, n), 0.8 * x + 0.5


def test_intervals_cover_the_true_values_at_the_stated_level():
    """1000 simulated groups of 200 rows, in one pass: each interval holds the truth about 95% of the time.

    Truths: e = 0.2·x - 0.5 + ε, so E[e] = -0.1, Var(e) = 29/300, E[e²] = 8/75, Var(y) = 5/12; MAE
    and MAPE from a large sample. With 1000 repetitions the coverage's standard error is 0.007.
    """
    truth = {"mse": 8 / 75, "rmse": math.sqrt(8 / 75), "r2": 1 - (8 / 75) / (5 / 12),
             "explained_variance": 1 - (29 / 300) / (5 / 12), "mean_residual": -0.1}
    y, yp = _draw(np.random.default_rng(0), 1_000_000)
    truth["mae"] = float(np.mean(np.abs(y - yp)))
    truth["mape"] = float(np.mean(np.abs(y - yp) / y))
    repetitions, size = 1000, 200
    y, yp = _draw(np.random.default_rng(1), repetitions * size)
    codes = np.repeat(np.arange(repetitions), size)
    stats = group_stats(codes, ErrorRows.prepare(y, yp), repetitions)
    table = metric_frame("simulation", [str(i) for i in range(repetitions)], stats, METRICS, level=0.95)
    for name, value in truth.items():
        rows = table[table.metric == name]
        coverage = np.mean((rows.ci_low <= value) & (value <= rows.ci_high))
        assert 0.925 <= coverage <= 0.975, (name, coverage)


def test_no_interval_below_two_rows_nor_where_undefined():
    e = _stats([1.0, 5.0, 5.0, 5.0], [2.0, 5.0, 4.0, 6.0], [0, 1, 1, 1], 2)  # group 1: equal targets
    for name in ("mae", "mse", "rmse", "mape", "mean_residual", "r2", "explained_variance"):
        low, high = _bounds(name, e)
        assert math.isnan(low[0]) and math.isnan(high[0]), name
    table = metric_frame("g", ["a", "b"], group_stats(np.array([0, 1, 1, 1]), ErrorRows.prepare(
        np.array([1.0, 5.0, 5.0, 5.0]), np.array([2.0, 5.0, 4.0, 6.0])), 2), METRICS, level=0.95)
    b = table[table.group == "b"].set_index("metric")
    assert math.isnan(b.loc["r2", "ci_low"]) and not math.isnan(b.loc["mae", "ci_low"])


def test_mean_interval_is_the_shared_interval():
    """The mean metrics' intervals are `intervals.mean_interval` of their moments, nothing else."""
    rng = np.random.default_rng(10)
    y = rng.normal(5, 1, 50)
    e = _stats(y, y + rng.normal(0, 1, 50))
    # pytest >= 9.2's approx refuses a tuple of arrays: compare the bounds as one flat array
    for name in ("mae", "mse", "mape"):
        np.testing.assert_allclose(np.ravel(_bounds(name, e)), np.ravel(intervals.mean_interval(*e.moments(name), 0.95)),
                                   rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(
        np.ravel(_bounds("mean_residual", e)),
        np.ravel(intervals.mean_interval(*e.moments("mean_residual"), 0.95, positive=False)), rtol=1e-6, atol=1e-12)
