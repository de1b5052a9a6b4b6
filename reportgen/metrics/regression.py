"""Regression metrics: per-group sums of the errors in one pass, then pure arithmetic per group, in one registry.

Every metric equals scikit-learn's on the group's rows, with three deliberate differences, each an
undefined value with a reason where scikit-learn puts in a number:

- `r2` and `explained_variance` are undefined for a group with fewer than two rows or whose
  targets are all equal (scikit-learn returns NaN, or forces 1.0 or 0.0);
- `mape` leaves out rows whose target is 0 (scikit-learn divides their error by machine epsilon,
  so one such row dominates the mean) and is undefined when every target is 0;
- an empty group has every metric undefined except `count`, which is 0.

Sums of squares about a group's mean are computed in two passes (the group means from one
`bincount`, then a `bincount` of the squared deviations), so R² keeps its precision for targets
with a large mean and a small spread, where the one-pass Σy² - (Σy)²/n loses every digit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reportgen.metrics import intervals
from reportgen.metrics.intervals import LOG_T, STUDENT_T
from reportgen.metrics.metric import Bounds, Metric, Support, count_values, with_supports
from reportgen.metrics.values import EMPTY, Values, divide, empty_is_no_rows

ONE_ROW = "only one row in this group"
EQUAL_TARGETS = "all targets in this group are equal"
ZERO_TARGETS = "all targets in this group are zero"

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class ErrorRows:
    """Per-row arrays shared by every slice family, prepared once.

    Attributes
    ----------
    y_true, y_pred : ndarray of float64
        Targets and predictions, finite.
    residual : ndarray of float64
        y_true - y_pred: positive where the model under-predicts.
    abs_error, squared_error : ndarray of float64
        |residual| and residual².
    ape : ndarray of float64
        Absolute percentage error |residual| / max(|y_true|, eps) (scikit-learn's divisor); 0 where
        the target is 0, as those rows are left out of MAPE.
    zero_rows : ndarray of intp
        Indices of the rows whose target is 0.
    order : ndarray of intp
        Row indices by ascending absolute error (ties in any order).
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    residual: np.ndarray
    abs_error: np.ndarray
    squared_error: np.ndarray
    ape: np.ndarray
    zero_rows: np.ndarray
    order: np.ndarray

    @classmethod
    def prepare(cls, y_true: np.ndarray, y_pred: np.ndarray) -> ErrorRows:
        """Compute the per-row errors and sort the rows by absolute error, once.

        Parameters
        ----------
        y_true, y_pred : ndarray of float
            Targets and predictions, finite, of one length.

        Examples
        --------
        >>> rows = ErrorRows.prepare(np.array([3.0, 0.0, 2.0]), np.array([2.5, 1.0, 2.0]))
        >>> rows.residual.tolist(), rows.order.tolist(), rows.zero_rows.tolist()
        ([0.5, -1.0, 0.0], [2, 0, 1], [1])
        """
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        residual = y_true - y_pred
        abs_error = np.abs(residual)
        squared_error = np.square(residual)
        zero = y_true == 0
        ape = np.abs(y_true)
        np.maximum(ape, EPS, out=ape)
        np.divide(abs_error, ape, out=ape)
        ape[zero] = 0.0
        return cls(
            y_true=y_true,
            y_pred=y_pred,
            residual=residual,
            abs_error=abs_error,
            squared_error=squared_error,
            ape=ape,
            zero_rows=np.flatnonzero(zero),
            order=np.argsort(abs_error),
        )


@dataclass(frozen=True)
class ErrorStats:
    """Sufficient statistics of the errors per group; every array has shape (groups,).

    With e = y_true - y_pred and ȳ, ē the group's means of y_true and of e:

    Attributes
    ----------
    n : ndarray of int64
        Rows per group.
    zero_targets : ndarray of int64
        Rows whose target is 0 (left out of MAPE).
    targets_equal : ndarray of bool
        Whether all the group's targets are equal (true for groups of zero or one row).
    residual_sum, abs_error_sum, squared_error_sum, squared_error_sq : ndarray of float64
        Σe, Σ|e|, Σe² and Σe⁴.
    ape_sum, ape_sq : ndarray of float64
        Σ and Σ of squares of |e| / |y_true| over the rows whose target is not 0.
    target_ss, target_ss_sq : ndarray of float64
        Σ(y_true - ȳ)² (the total sum of squares) and Σ(y_true - ȳ)⁴.
    residual_ss, residual_ss_sq : ndarray of float64
        Σ(e - ē)² and Σ(e - ē)⁴.
    cross_squared_error, cross_residual : ndarray of float64
        Σe²·(y_true - ȳ)² and Σ(e - ē)²·(y_true - ȳ)², for the intervals of R² and explained variance.
    median_abs_error, max_abs_error : ndarray of float64
        Median and largest |e|; NaN for an empty group.
    """

    n: np.ndarray
    zero_targets: np.ndarray
    targets_equal: np.ndarray
    residual_sum: np.ndarray
    abs_error_sum: np.ndarray
    squared_error_sum: np.ndarray
    squared_error_sq: np.ndarray
    ape_sum: np.ndarray
    ape_sq: np.ndarray
    target_ss: np.ndarray
    target_ss_sq: np.ndarray
    residual_ss: np.ndarray
    residual_ss_sq: np.ndarray
    cross_squared_error: np.ndarray
    cross_residual: np.ndarray
    median_abs_error: np.ndarray
    max_abs_error: np.ndarray

    def moments(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sum, sum of squares and count, per group, of the per-row values whose mean is metric `name`.

        Parameters
        ----------
        name : str
            "mae", "mse", "mape" or "mean_residual".

        Returns
        -------
        total, squares, n : ndarray
            For "mae": Σ|e|, Σe², n; "mean_residual": Σe, Σe², n; "mse": Σe², Σe⁴, n;
            "mape": the sums over the rows with a nonzero target, and their count.
        """
        if name == "mae":
            return self.abs_error_sum, self.squared_error_sum, self.n
        if name == "mean_residual":
            return self.residual_sum, self.squared_error_sum, self.n
        if name == "mse":
            return self.squared_error_sum, self.squared_error_sq, self.n
        if name == "mape":
            return self.ape_sum, self.ape_sq, self.n - self.zero_targets
        raise ValueError(f"no per-row moments for metric {name!r}")


def error_stats(codes: np.ndarray, rows: ErrorRows, n_groups: int) -> ErrorStats:
    """Sums of the errors per group from `bincount`s, and medians and maxima from one stable sort.

    Rows in no group go to one extra group, dropped at the end, so every pass covers all rows.
    Centered sums take two passes: the group means, then the deviations from them. Medians and
    maxima come from `rows.order` (rows by absolute error) stably sorted by group: each group's
    rows are then contiguous and in order of absolute error, so its median and maximum are read
    at known positions, O(groups) work after the sort.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); rows with a negative code are in no group.
    rows : ErrorRows
        The shared per-row arrays.
    n_groups : int
        Number of groups.
    """
    keep = codes >= 0
    size = n_groups if keep.all() else n_groups + 1
    group = np.where(keep, codes, n_groups) if size > n_groups else codes
    group = group.astype(np.intp, copy=False)  # bincount's index type: no conversion in each call
    one = size == 1  # one group of every row: plain sums (bincount into one bin is a serial chain)

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.array([weights.sum()]) if one else np.bincount(group, weights=weights, minlength=size)

    def deviation(values: np.ndarray, means: np.ndarray) -> np.ndarray:
        """values - means[group], in a new row-sized buffer."""
        if one:
            return np.subtract(values, means[0])
        spread = np.take(means, group)
        return np.subtract(values, spread, out=spread)

    n = np.array([len(group)]) if one else np.bincount(group, minlength=size)
    zero_targets = np.bincount(group[rows.zero_rows], minlength=size)
    residual_sum = per_group(rows.residual)
    some = np.maximum(n, 1)
    median, largest, first = _order_statistics(group, size, rows, n)

    # Second pass, in three row-sized buffers: b = (y - ȳ)², c = (e - ē)², and products (a = e²).
    b = deviation(rows.y_true, per_group(rows.y_true) / some)
    np.square(b, out=b)
    c = deviation(rows.residual, residual_sum / some)
    np.square(c, out=c)
    product = np.empty_like(b)
    target_ss, residual_ss = per_group(b), per_group(c)
    target_ss_sq = per_group(np.square(b, out=product))
    residual_ss_sq = per_group(np.square(c, out=product))
    cross_squared_error = per_group(np.multiply(rows.squared_error, b, out=product))
    cross_residual = per_group(np.multiply(c, b, out=product))
    squared_error_sq = per_group(np.square(rows.squared_error, out=product))
    ape_sq = per_group(np.square(rows.ape, out=product))
    del b, c, product

    # Targets are all equal where Σ|y - y_r| is 0, y_r the target of any one row of the group
    # (exact: distinct doubles never subtract to 0).
    differences = deviation(rows.y_true, np.where(n > 0, rows.y_true[first], 0.0))
    targets_equal = per_group(np.abs(differences, out=differences)) == 0
    del differences

    def mine(values: np.ndarray) -> np.ndarray:
        return values[:n_groups]

    return ErrorStats(
        n=mine(n).astype(np.int64),
        zero_targets=mine(zero_targets).astype(np.int64),
        targets_equal=mine(targets_equal),
        residual_sum=mine(residual_sum),
        abs_error_sum=mine(per_group(rows.abs_error)),
        squared_error_sum=mine(per_group(rows.squared_error)),
        squared_error_sq=mine(squared_error_sq),
        ape_sum=mine(per_group(rows.ape)),
        ape_sq=mine(ape_sq),
        target_ss=mine(target_ss),
        target_ss_sq=mine(target_ss_sq),
        residual_ss=mine(residual_ss),
        residual_ss_sq=mine(residual_ss_sq),
        cross_squared_error=mine(cross_squared_error),
        cross_residual=mine(cross_residual),
        median_abs_error=mine(median),
        max_abs_error=mine(largest),
    )


def _order_statistics(
    group: np.ndarray, size: int, rows: ErrorRows, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median and maximum absolute error per group (NaN where empty), and one row of each group."""
    if size == 1:
        row_at = rows.order  # one group: the error order is already the group's order
    else:
        narrow = group.astype(np.int16 if size < 2**15 else np.int32)  # radix sort for 16-bit keys
        position = np.argsort(narrow[rows.order], kind="stable")
        row_at = _Composed(rows.order, position)
    start = np.cumsum(n) - n
    has_rows = n > 0
    start, count = start[has_rows], n[has_rows]
    low = rows.abs_error[row_at[start + (count - 1) // 2]]
    high = rows.abs_error[row_at[start + count // 2]]
    median = np.full(size, np.nan)
    median[has_rows] = np.where(count % 2 == 1, low, (low + high) / 2)
    largest = np.full(size, np.nan)
    largest[has_rows] = rows.abs_error[row_at[start + count - 1]]
    first = np.zeros(size, dtype=np.intp)
    first[has_rows] = row_at[start]
    return median, largest, first


@dataclass(frozen=True)
class _Composed:
    """`outer[inner[k]]` for the few positions k asked for, without building the composed array."""

    outer: np.ndarray
    inner: np.ndarray

    def __getitem__(self, k: np.ndarray) -> np.ndarray:
        return self.outer[self.inner[k]]


@dataclass(frozen=True)
class RegressionStats:
    """Sufficient statistics of one slice family's groups for a regression task."""

    errors: ErrorStats

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.errors.n


def group_stats(codes: np.ndarray, rows: ErrorRows, n_groups: int) -> RegressionStats:
    """All sufficient statistics of a family: `bincount` passes and one stable sort.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups), negative for rows in no group.
    rows : ErrorRows
        Shared per-row arrays.
    n_groups : int
        Number of groups.

    Examples
    --------
    >>> rows = ErrorRows.prepare(np.array([1.0, 2.0, 4.0, 8.0]), np.array([1.5, 2.0, 3.0, 7.0]))
    >>> stats = group_stats(np.array([0, 0, 1, -1]), rows, 3)
    >>> stats.n.tolist(), mae(stats.errors).value.tolist()
    ([2, 1, 0], [0.25, 1.0, nan])
    >>> r2(stats.errors).reason.tolist()
    [None, 'only one row in this group', 'no rows in this group']
    """
    return RegressionStats(error_stats(codes, rows, n_groups))


# Metrics ------------------------------------------------------------------------------------------


def count(e: ErrorStats) -> Values:
    """Rows in the group; always defined."""
    return count_values(e.n)


def mae(e: ErrorStats) -> Values:
    """Mean absolute error; undefined for an empty group."""
    return divide(e.abs_error_sum, e.n, undefined=EMPTY)


def mse(e: ErrorStats) -> Values:
    """Mean squared error; undefined for an empty group."""
    return divide(e.squared_error_sum, e.n, undefined=EMPTY)


def rmse(e: ErrorStats) -> Values:
    """Square root of the mean squared error; undefined for an empty group."""
    values = mse(e)
    return Values(value=np.sqrt(values.value), reason=values.reason)


def mean_residual(e: ErrorStats) -> Values:
    """Mean of y_true - y_pred (positive: the model under-predicts); undefined for an empty group."""
    return divide(e.residual_sum, e.n, undefined=EMPTY)


def mape(e: ErrorStats) -> Values:
    """Mean of |y_true - y_pred| / |y_true| over the rows whose target is not 0, as a fraction.

    Rows with a zero target are left out (scikit-learn divides them by machine epsilon); undefined
    when every target of the group is 0, or the group is empty.
    """
    values = divide(e.ape_sum, e.n - e.zero_targets, undefined=ZERO_TARGETS)
    return empty_is_no_rows(values, e.n)


def median_absolute_error(e: ErrorStats) -> Values:
    """Median of |y_true - y_pred| (mean of the two middle values for an even count); undefined when empty."""
    return empty_is_no_rows(Values(e.median_abs_error, np.full(len(e.n), None, dtype=object)), e.n)


def max_error(e: ErrorStats) -> Values:
    """Largest |y_true - y_pred|; undefined for an empty group."""
    return empty_is_no_rows(Values(e.max_abs_error, np.full(len(e.n), None, dtype=object)), e.n)


def r2(e: ErrorStats) -> Values:
    """Coefficient of determination 1 - Σe² / Σ(y - ȳ)².

    Undefined with fewer than two rows or when all targets are equal (scikit-learn returns NaN,
    or forces 1.0 or 0.0).
    """
    return _share_explained(e.squared_error_sum, e)


def explained_variance(e: ErrorStats) -> Values:
    """1 - Var(y_true - y_pred) / Var(y_true): R² that does not count a constant bias.

    Undefined with fewer than two rows or when all targets are equal (scikit-learn forces 1.0 or 0.0).
    """
    return _share_explained(e.residual_ss, e)


def _share_explained(unexplained: np.ndarray, e: ErrorStats) -> Values:
    """1 - unexplained / target_ss, undefined for fewer than two rows or equal targets."""
    ratio = divide(unexplained, np.where(e.targets_equal, 0.0, e.target_ss), undefined=EQUAL_TARGETS)
    reason = np.where(e.n == 0, EMPTY, np.where(e.n == 1, ONE_ROW, ratio.reason)).astype(object)
    return Values(value=np.where(e.n >= 2, 1.0 - ratio.value, np.nan), reason=reason)


# Intervals ----------------------------------------------------------------------------------------


def _mean_interval(name: str, *, positive: bool = True) -> Callable[[ErrorStats, np.ndarray, float], Bounds]:
    """t interval of the mean of the per-row values of metric `name` (`ErrorStats.moments`), log scale if `positive`."""

    def bounds(e: ErrorStats, value: np.ndarray, level: float) -> Bounds:
        return intervals.mean_interval(*e.moments(name), level, positive=positive)

    return bounds


def _rmse_interval(e: ErrorStats, value: np.ndarray, level: float) -> Bounds:
    """Square roots of the bounds of MSE's interval (a monotone transform keeps the coverage)."""
    low, high = intervals.mean_interval(*e.moments("mse"), level)
    return np.sqrt(low), np.sqrt(high)


def _share_explained_interval(
    unexplained: np.ndarray,
    unexplained_sq: np.ndarray,
    cross: np.ndarray,
    e: ErrorStats,
    level: float,
) -> Bounds:
    """Delta-method interval of 1 - A / B, A the mean of per-row a_i, B = mean of (y_i - ȳ)² (log scale of A / B).

    With b_i = (y_i - ȳ)² and ρ = A / B, the estimator's influence function at row i is

        IF_i = -(a_i - A) / B + (A / B²)(b_i - B) = (ρ·b_i - a_i) / B,

    (estimating ȳ adds nothing to first order, since the mean of y_i - ȳ is 0), whose mean is 0.
    So Var ≈ Σ IF_i² / ((n - 1)·n) = n·Σ(a_i - ρ·b_i)² / ((n - 1)·(Σb)²), with
    Σ(a_i - ρ·b_i)² = Σa² - 2ρ·Σab + ρ²·Σb², all per-group sums. R² takes a_i = e_i² and
    explained variance a_i = (e_i - ē)² (estimating ē also adds nothing to first order). The interval
    is taken for log(A / B), whose standard error is se / ρ, with Student's t (n − 1 degrees of
    freedom): A / B is a ratio of means of squares, skewed in small groups, and the upper bound stays
    below 1 (the normal interval on the raw scale covered 90% at n = 20). Where ρ is 0 (a perfect fit)
    the interval is [1, 1]. NaN with fewer than two rows or a zero total sum of squares.

    Parameters
    ----------
    unexplained, unexplained_sq, cross : ndarray
        Σa, Σa² and Σab per group.
    e : ErrorStats
        The group's statistics (n, target_ss = Σb, target_ss_sq = Σb²).
    level : float
        Confidence level.
    """
    n = e.n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = unexplained / e.target_ss
        spread = np.maximum(unexplained_sq - 2 * rho * cross + rho**2 * e.target_ss_sq, 0.0)
        se = np.sqrt(n * spread / (n - 1)) / e.target_ss
        spread_of_log = np.where(rho > 0, intervals.t_value(level, n - 1) * se / rho, 0.0)
    ok = (n >= 2) & (e.target_ss > 0)
    return np.where(ok, 1 - rho * np.exp(spread_of_log), np.nan), np.where(ok, 1 - rho * np.exp(-spread_of_log), np.nan)


def _r2_interval(e: ErrorStats, value: np.ndarray, level: float) -> Bounds:
    return _share_explained_interval(e.squared_error_sum, e.squared_error_sq, e.cross_squared_error, e, level)


def _explained_variance_interval(e: ErrorStats, value: np.ndarray, level: float) -> Bounds:
    return _share_explained_interval(e.residual_ss, e.residual_ss_sq, e.cross_residual, e, level)


ROOT_OF_MSE = f"{LOG_T} (square root of MSE's)"
DELTA_LOG = "delta method (log scale)"

METRICS: tuple[Metric, ...] = (
    Metric("count", "Count", "errors", count, None, None),
    Metric("mae", "MAE", "errors", mae, LOG_T, False, _mean_interval("mae")),
    Metric("mse", "MSE", "errors", mse, LOG_T, False, _mean_interval("mse")),
    Metric("rmse", "RMSE", "errors", rmse, ROOT_OF_MSE, False, _rmse_interval),
    Metric("r2", "R²", "errors", r2, DELTA_LOG, True, _r2_interval),
    Metric("mape", "MAPE", "errors", mape, LOG_T, False, _mean_interval("mape")),
    Metric("median_absolute_error", "Median absolute error", "errors", median_absolute_error, None, False),
    Metric("max_error", "Max error", "errors", max_error, None, False),
    Metric("explained_variance", "Explained variance", "errors", explained_variance, DELTA_LOG, True,
           _explained_variance_interval),
    Metric("mean_residual", "Mean residual", "errors", mean_residual, STUDENT_T, None,
           _mean_interval("mean_residual", positive=False)),
)



def _nonzero_targets(e: ErrorStats) -> Support:
    """The rows whose target is not 0: the support of MAPE (it leaves the others out)."""
    return Support(e.n - e.zero_targets, "rows with a nonzero target")


METRICS = with_supports(METRICS, {"mape": _nonzero_targets})
"""The registry; every metric's support is its group's rows, but MAPE's."""

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
LABELS: dict[str, str] = {metric.name: metric.label for metric in METRICS}
