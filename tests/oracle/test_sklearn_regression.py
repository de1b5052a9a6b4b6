"""Every regression registry metric, for every group, against scikit-learn on that group's rows.

The oracle table below is written here, independently of reportgen; a metric added to the registry
without an oracle fails `test_every_registry_metric_has_an_oracle`. Where reportgen says a metric is
undefined, the test checks that the definition says so too (`UNDEFINED`) and that a reason is given;
where scikit-learn puts in a number instead, the pinned tests below show which.
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.metrics.regression import METRICS, ErrorRows, group_stats
from reportgen.metrics.table import metric_frame


def _mape_on_nonzero_targets(y: np.ndarray, yp: np.ndarray) -> float:
    nonzero = y != 0
    return skm.mean_absolute_percentage_error(y[nonzero], yp[nonzero])


pytestmark = pytest.mark.usefixtures("quiet_sklearn")

ORACLES = {
    "count": lambda y, yp: float(len(y)),
    "mae": skm.mean_absolute_error,
    "mse": skm.mean_squared_error,
    "rmse": skm.root_mean_squared_error,
    "r2": skm.r2_score,
    "mape": _mape_on_nonzero_targets,
    "median_absolute_error": skm.median_absolute_error,
    "max_error": skm.max_error,
    "explained_variance": skm.explained_variance_score,
    "mean_residual": lambda y, yp: float(np.mean(y - yp)),
}

# When each metric has no value (the policy), stated on the group's targets.
UNDEFINED = {
    "count": lambda y: False,
    "mae": lambda y: len(y) == 0,
    "mse": lambda y: len(y) == 0,
    "rmse": lambda y: len(y) == 0,
    "r2": lambda y: len(y) < 2 or len(np.unique(y)) == 1,
    "mape": lambda y: not np.any(y != 0),
    "median_absolute_error": lambda y: len(y) == 0,
    "max_error": lambda y: len(y) == 0,
    "explained_variance": lambda y: len(y) < 2 or len(np.unique(y)) == 1,
    "mean_residual": lambda y: len(y) == 0,
}


def test_every_registry_metric_has_an_oracle():
    assert [m.name for m in METRICS] == list(ORACLES)
    assert set(UNDEFINED) == set(ORACLES)


def _table(y: np.ndarray, yp: np.ndarray, codes: np.ndarray, n_groups: int):
    rows = ErrorRows.prepare(y, yp)
    stats = group_stats(codes, rows, n_groups)
    return metric_frame("g", [str(g) for g in range(n_groups)], stats, METRICS, level=0.95), stats


def check_against_sklearn(y: np.ndarray, yp: np.ndarray, codes: np.ndarray, n_groups: int) -> None:
    """Every metric of every group of `codes` equals the oracle on that group's rows, or is undefined as stated."""
    table, stats = _table(y, yp, codes, n_groups)
    assert len(table) == n_groups * len(METRICS)
    for row in table.itertuples():
        mask = codes == int(row.group)
        where = f"group {row.group} {row.metric} (n={mask.sum()})"
        assert row.n == mask.sum(), where
        if UNDEFINED[row.metric](y[mask]):
            assert math.isnan(row.value), where
            assert isinstance(row.undefined_reason, str) and row.undefined_reason.strip(), where
            assert math.isnan(row.ci_low) and math.isnan(row.ci_high), where
            continue
        assert row.undefined_reason is None, where
        expected = ORACLES[row.metric](y[mask], yp[mask])
        assert row.value == pytest.approx(expected, rel=_tolerance(row.metric, y[mask]), abs=1e-9), where
        if not math.isnan(row.ci_low):  # an interval, where there is one, contains the value
            assert row.ci_low <= row.value <= row.ci_high, where
    zero_targets = [int(np.sum(y[codes == g] == 0)) for g in range(n_groups)]
    assert stats.errors.zero_targets.tolist() == zero_targets


def _tolerance(metric: str, y: np.ndarray) -> float:
    """1e-9 relative, but for R² of targets whose spread is tiny beside their size: its denominator, the targets'
    variance, then keeps only the digits float64 has beyond mean² / variance (a condition number past 1e15 leaves
    none: no two ways of computing it agree), so the tolerance grows with that ratio."""
    spread = float(np.var(y))
    if metric != "r2" or spread == 0.0:
        return 1e-9
    return max(1e-9, 100 * np.finfo(np.float64).eps * float(np.mean(y)) ** 2 / spread)


# Groups are drawn with a kind each, so that the edges are frequent: every target equal, every
# target 0, ties, a large offset with a small spread (where one-pass variances lose every digit).
KINDS = ("mixed", "mixed", "ties", "constant", "zeros", "offset")
TIED_VALUES = (0.0, 1.0, 2.0, 5.0)


@st.composite
def regression_data(draw: st.DrawFn, max_rows: int = 150) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Targets, predictions, group codes (-1: in no group) and the number of groups (some empty)."""
    n = draw(st.integers(1, max_rows))
    n_groups = draw(st.integers(1, 6))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    kinds = np.array(draw(st.lists(st.sampled_from(KINDS), min_size=n_groups, max_size=n_groups)) + ["mixed"])
    kind = kinds[codes]  # rows in no group (code -1) take the last kind, "mixed"
    floats = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)
    mixed = np.round(draw(hnp.arrays(np.float64, n, elements=floats)), 6)  # no tiny nonzero targets
    tied = draw(hnp.arrays(np.float64, n, elements=st.sampled_from(TIED_VALUES)))
    constant = draw(st.sampled_from((0.1, 2.0, -7.5, 1e6)))
    offset = 1e6 + np.round(draw(hnp.arrays(np.float64, n, elements=st.floats(-1, 1))), 6)
    y = np.select(
        [kind == "mixed", kind == "ties", kind == "constant", kind == "zeros"],
        [mixed, tied, np.full(n, constant), np.zeros(n)],
        offset,
    )
    noise = draw(st.sampled_from(["floats", "tied", "none"]))
    if noise == "floats":
        yp = y + np.round(draw(hnp.arrays(np.float64, n, elements=st.floats(-10, 10))), 6)
    elif noise == "tied":
        yp = y + draw(hnp.arrays(np.float64, n, elements=st.sampled_from((-1.0, 0.0, 0.5, 2.0))))
    else:
        yp = y.copy()  # perfect predictions: every error 0
    return y, yp, codes, n_groups


HYPOTHESIS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(HYPOTHESIS, max_examples=60)
@given(data=regression_data())
def test_metrics_equal_sklearn_on_every_group(data):
    check_against_sklearn(*data)


# Pinned edge cases -------------------------------------------------------------------------------


def _base(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return y, y + rng.normal(0.5, 1, n)


def _group(table, group: int):
    return table[table.group == str(group)].set_index("metric")


def test_empty_group_is_undefined_except_count():
    y, yp = _base()
    codes = np.zeros(len(y), dtype=np.int64)  # group 1 has no rows
    check_against_sklearn(y, yp, codes, 2)
    empty = _group(_table(y, yp, codes, 2)[0], 1)
    assert empty.loc["count", "value"] == 0 and empty.loc["count", "undefined_reason"] is None
    rest = empty.drop(index="count")
    assert rest["value"].isna().all() and rest["ci_low"].isna().all() and rest["ci_high"].isna().all()
    assert set(rest["undefined_reason"]) == {"no rows in this group"}


def test_one_row_group():
    y, yp = _base()
    codes = np.r_[np.zeros(len(y) - 1, dtype=np.int64), 1]
    check_against_sklearn(y, yp, codes, 2)
    one = _group(_table(y, yp, codes, 2)[0], 1)
    for metric in ("r2", "explained_variance"):
        assert math.isnan(one.loc[metric, "value"])
        assert one.loc[metric, "undefined_reason"] == "only one row in this group"
    assert one.loc["mae", "value"] == pytest.approx(abs(y[-1] - yp[-1]))
    assert math.isnan(one.loc["mae", "ci_low"])  # no interval from one row
    # scikit-learn: R² is NaN with a warning, explained variance is forced to 1.0 (0 / 0)
    assert math.isnan(skm.r2_score(y[-1:], yp[-1:]))
    assert skm.explained_variance_score(y[-1:], yp[-1:]) == 1.0


@pytest.mark.parametrize("value", [2.0, 0.1, 1e6])
def test_equal_targets(value):
    y, yp = _base()
    y[:20] = value  # group 1: every target equal
    codes = np.r_[np.ones(20, dtype=np.int64), np.zeros(len(y) - 20, dtype=np.int64)]
    check_against_sklearn(y, yp, codes, 2)
    equal = _group(_table(y, yp, codes, 2)[0], 1)
    for metric in ("r2", "explained_variance"):
        assert math.isnan(equal.loc[metric, "value"]), metric
        assert equal.loc[metric, "undefined_reason"] == "all targets in this group are equal"
    if value == 2.0:  # an exact mean: scikit-learn forces 0.0 (errors, but no variance to explain)
        assert skm.r2_score(y[:20], yp[:20]) == 0.0
        assert skm.explained_variance_score(y[:20], yp[:20]) in (0.0, 1.0)


def test_perfect_predictions_of_equal_targets_are_still_undefined():
    y = np.full(5, 3.0)
    check_against_sklearn(y, y.copy(), np.zeros(5, dtype=np.int64), 1)
    assert skm.r2_score(y, y) == 1.0  # scikit-learn's forced value


def test_zero_targets_are_left_out_of_mape():
    y, yp = _base()
    y[[3, 7, 11]] = 0.0
    codes = np.zeros(len(y), dtype=np.int64)
    check_against_sklearn(y, yp, codes, 1)
    table, stats = _table(y, yp, codes, 1)
    assert stats.errors.zero_targets.tolist() == [3]
    mape = _group(table, 0).loc["mape", "value"]
    assert mape == pytest.approx(skm.mean_absolute_percentage_error(y[y != 0], yp[y != 0]), rel=1e-12)
    assert skm.mean_absolute_percentage_error(y, yp) > 1e12  # scikit-learn divides by machine epsilon


def test_all_zero_targets_make_mape_undefined():
    y = np.zeros(6)
    yp = np.array([0.0, 1.0, -1.0, 0.5, 2.0, 0.0])
    check_against_sklearn(y, yp, np.zeros(6, dtype=np.int64), 1)
    row = _group(_table(y, yp, np.zeros(6, dtype=np.int64), 1)[0], 0).loc["mape"]
    assert math.isnan(row["value"]) and row["undefined_reason"] == "all targets in this group are zero"
    assert skm.mean_absolute_percentage_error(y, yp) > 1e14


@pytest.mark.parametrize("offset", [1e6, 1e9])
def test_large_offset_small_spread_keeps_r2_precision(offset):
    rng = np.random.default_rng(3)
    y = offset + rng.normal(0, 1e-2, 500)
    yp = y + rng.normal(0, 5e-3, 500)
    codes = rng.integers(0, 3, 500)
    check_against_sklearn(y, yp, codes, 3)


def test_rows_in_no_group_are_left_out():
    y, yp = _base(80)
    codes = np.tile([0, 1, -1, 1], 20)
    check_against_sklearn(y, yp, codes, 2)


def test_ties_in_absolute_errors_and_even_counts():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    yp = np.array([2.0, 1.0, 3.0, 5.0, 5.0, 4.0, 7.0, 8.0])  # absolute errors 1, 1, 0, 1, 0, 2, 0, 0
    codes = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    check_against_sklearn(y, yp, codes, 2)
