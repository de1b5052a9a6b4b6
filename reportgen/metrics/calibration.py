"""Calibration per group: binned statistics, ECE and MCE, and reliability-diagram data.

Every row has a confidence in [0, 1] and a 0/1 outcome. A binary task uses the positive class's
probability and the label; a multiclass task uses the top label (`top_label`): the highest class
probability, and whether that class is the true one.

Rows are binned exactly as scikit-learn's `calibration_curve`:

- ``uniform``: edges ``np.linspace(0, 1, n_bins + 1)``;
- ``quantile``: edges ``np.percentile(confidence, np.linspace(0, 1, n_bins + 1) * 100)`` over every
  row of the data set;

and a row's bin is the number of inner edges strictly below its confidence, which is
``np.searchsorted(edges[1:-1], confidence)``. So a bin holds ``low < confidence <= high``, the first
bin also its lower edge: a confidence exactly on an inner edge belongs to the lower bin. The edges
are floats, not the decimals they stand for (``np.linspace(0, 1, 13)[5] < 5 / 12``), so which bin
a "round" confidence falls in follows the float edge.

Quantile edges are computed once, from the whole data set, and every group is binned on them, so
that groups are compared on the same bins. A group's quantile bins are therefore not its own
quantiles (they need not hold equal counts), and its result differs from `calibration_curve` on
that group's rows alone. Tied confidences can make quantile edges repeat; a bin between two equal
edges is always empty, and empty bins are left out of every statistic, as in scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics.intervals import wilson
from reportgen.metrics.metric import Metric
from reportgen.metrics.values import EMPTY, Values, divide

STRATEGIES = ("uniform", "quantile")

# Up to this many bins, counting the inner edges below each confidence (one vectorized comparison
# per edge) is faster than a binary search per row, and the count fits in an int8.
_COMPARE_MAX_BINS = 32


def top_label(probabilities: np.ndarray, y_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence and outcome of each row of a multiclass task.

    Parameters
    ----------
    probabilities : ndarray of float, shape (rows, classes)
        Class probabilities per row, each in [0, 1].
    y_true : ndarray of int, shape (rows,)
        True class per row, as a column index of `probabilities`.

    Returns
    -------
    confidence : ndarray of float64
        The highest class probability of each row.
    outcome : ndarray of int8
        1 where the top class (`np.argmax`: the first of tied classes) is the true class, else 0.

    Examples
    --------
    >>> confidence, outcome = top_label(np.array([[0.2, 0.7, 0.1], [0.4, 0.4, 0.2]]), np.array([1, 1]))
    >>> confidence.tolist(), outcome.tolist()
    ([0.7, 0.4], [1, 0])
    """
    predicted = np.argmax(probabilities, axis=1)
    confidence = np.take_along_axis(probabilities, predicted[:, None], axis=1)[:, 0]
    return confidence.astype(np.float64, copy=False), (predicted == y_true).astype(np.int8)


@dataclass(frozen=True)
class CalibrationRows:
    """Per-row confidences, outcomes and bins, prepared once for the whole data set.

    Attributes
    ----------
    confidence : ndarray of float64
        Confidence per row, in [0, 1].
    outcome : ndarray of int8
        1 where the row's outcome happened (positive label, or correct top label), else 0.
    uniform_bin, quantile_bin : ndarray of int
        Bin index per row, in [0, n_bins), for each strategy (int8 up to 32 bins, intp above).
    uniform_edges, quantile_edges : ndarray of float64
        The n_bins + 1 bin edges of each strategy; quantile edges come from every row.
    """

    confidence: np.ndarray
    outcome: np.ndarray
    uniform_bin: np.ndarray
    quantile_bin: np.ndarray
    uniform_edges: np.ndarray
    quantile_edges: np.ndarray

    @property
    def n_bins(self) -> int:
        """Bins per strategy."""
        return len(self.uniform_edges) - 1

    @classmethod
    def prepare(cls, confidence: np.ndarray, outcome: np.ndarray, n_bins: int = 10) -> CalibrationRows:
        """Compute both strategies' edges and each row's bins, as scikit-learn's `calibration_curve`.

        Parameters
        ----------
        confidence : ndarray of float
            Confidence per row, in [0, 1] (no NaN).
        outcome : ndarray of int
            0/1 outcome per row.
        n_bins : int
            Bins per strategy, at least 1.

        Returns
        -------
        CalibrationRows
            With no rows, the quantile edges are the uniform ones.

        Examples
        --------
        >>> rows = CalibrationRows.prepare(np.array([0.1, 0.5, 0.55, 0.9]), np.array([0, 1, 0, 1]), n_bins=2)
        >>> rows.uniform_bin.tolist(), rows.quantile_edges.tolist(), rows.quantile_bin.tolist()
        ([0, 0, 1, 1], [0.1, 0.525, 0.9], [0, 0, 1, 1])
        """
        confidence = np.asarray(confidence, dtype=np.float64)
        uniform_edges = np.linspace(0.0, 1.0, n_bins + 1)
        if len(confidence):
            quantile_edges = np.percentile(confidence, np.linspace(0, 1, n_bins + 1) * 100)
        else:
            quantile_edges = uniform_edges.copy()
        return cls(
            confidence=confidence,
            outcome=np.asarray(outcome).astype(np.int8, copy=False),
            uniform_bin=_bin_index(confidence, uniform_edges),
            quantile_bin=_bin_index(confidence, quantile_edges),
            uniform_edges=uniform_edges,
            quantile_edges=quantile_edges,
        )


def _bin_index(confidence: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Number of inner edges strictly below each confidence: ``np.searchsorted(edges[1:-1], confidence)``."""
    inner = edges[1:-1]
    if len(edges) - 1 > _COMPARE_MAX_BINS:
        return np.searchsorted(inner, confidence)
    index = np.zeros(len(confidence), dtype=np.int8)
    above = np.empty(len(confidence), dtype=bool)
    for edge in inner:
        np.greater(confidence, edge, out=above)
        index += above.view(np.int8)
    return index


@dataclass(frozen=True)
class BinStats:
    """Sums per group and bin, arrays of shape (groups, bins).

    Attributes
    ----------
    n : ndarray of int64
        Rows per bin.
    confidence_sum : ndarray of float64
        Sum of the rows' confidences.
    outcome_sum : ndarray of int64
        Rows whose outcome is 1.
    """

    n: np.ndarray
    confidence_sum: np.ndarray
    outcome_sum: np.ndarray


@dataclass(frozen=True)
class CalibrationStats:
    """Calibration statistics of one slice family's groups, for both binning strategies."""

    uniform: BinStats
    quantile: BinStats

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.uniform.n.sum(axis=-1)


def calibration_stats(codes: np.ndarray, rows: CalibrationRows, n_groups: int) -> CalibrationStats:
    """Binned sums per group: one `bincount` per array over ``codes * n_bins + bin``.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); -1 for rows in no group.
    rows : CalibrationRows
        The data set's prepared rows.
    n_groups : int
        Number of groups.

    Returns
    -------
    CalibrationStats
        Arrays of shape (n_groups, n_bins).

    Examples
    --------
    >>> rows = CalibrationRows.prepare(np.array([0.1, 0.5, 0.55, 0.9]), np.array([0, 1, 0, 1]), n_bins=2)
    >>> stats = calibration_stats(np.array([0, 0, 1, -1]), rows, 2)
    >>> stats.n.tolist(), stats.uniform.n.tolist(), stats.uniform.outcome_sum.tolist()
    ([2, 1], [[2, 0], [0, 1]], [[1, 0], [0, 0]])
    """
    # Rows in no group are counted as a group of their own, placed first and then dropped: one
    # more pass over the keys instead of filtering every per-row array.
    skip = 1 if codes.min(initial=0) < 0 else 0
    return CalibrationStats(
        uniform=_bin_stats(codes, rows.uniform_bin, rows, n_groups, skip),
        quantile=_bin_stats(codes, rows.quantile_bin, rows, n_groups, skip),
    )


def _bin_stats(codes: np.ndarray, bin_index: np.ndarray, rows: CalibrationRows, n_groups: int, skip: int) -> BinStats:
    """Sums per (group, bin), keyed (code + skip) * n_bins + bin; the first `skip` groups are dropped.

    The rows and outcomes come from one count of (group, bin, outcome) cells, the confidences from one weighted
    count: two passes over the rows, none of them over the outcomes as floats.
    """
    n_bins = rows.n_bins
    key = np.multiply(codes, n_bins, dtype=np.int64)
    key += bin_index
    if skip:
        key += skip * n_bins
    size = (n_groups + skip) * n_bins
    confidence_sum = np.bincount(key, rows.confidence, minlength=size).reshape(-1, n_bins)[skip:]
    key *= 2
    key += rows.outcome
    by_outcome = np.bincount(key, minlength=2 * size).reshape(-1, n_bins, 2)[skip:].astype(np.int64)
    return BinStats(n=by_outcome.sum(axis=-1), confidence_sum=confidence_sum, outcome_sum=by_outcome[..., 1])


def _bin_gaps(bins: BinStats) -> np.ndarray:
    """|observed rate − mean confidence| per bin, times the bin's rows."""
    return np.abs(bins.outcome_sum - bins.confidence_sum)


def _ece(bins: BinStats) -> Values:
    """Σ_b (n_b / n)·|observed_b − mean confidence_b| = Σ_b |outcomes_b − confidences_b| / n."""
    return divide(_bin_gaps(bins).sum(axis=-1), bins.n.sum(axis=-1), undefined=EMPTY)


def _mce(bins: BinStats) -> Values:
    """Largest |observed_b − mean confidence_b| over the non-empty bins."""
    gaps = divide(_bin_gaps(bins), bins.n, undefined=EMPTY).value  # NaN in empty bins
    worst = np.fmax.reduce(gaps, axis=-1)  # NaN only where every bin is empty
    empty = bins.n.sum(axis=-1) == 0
    return Values(value=worst, reason=np.where(empty, EMPTY, None).astype(object))


def ece(c: CalibrationStats) -> Values:
    """Expected calibration error on uniform bins: Σ_b (n_b / n)·|observed_b − mean confidence_b|.

    Undefined for an empty group.
    """
    return _ece(c.uniform)


def mce(c: CalibrationStats) -> Values:
    """Maximum calibration error on uniform bins: the largest gap of a non-empty bin.

    Undefined for an empty group.
    """
    return _mce(c.uniform)


def ece_quantile(c: CalibrationStats) -> Values:
    """Expected calibration error on the data set's quantile bins; undefined for an empty group."""
    return _ece(c.quantile)


def mce_quantile(c: CalibrationStats) -> Values:
    """Maximum calibration error on the data set's quantile bins; undefined for an empty group."""
    return _mce(c.quantile)


METRICS: tuple[Metric, ...] = (
    Metric("ece", "ECE", "calibration", ece, None, False),
    Metric("mce", "MCE", "calibration", mce, None, False),
    Metric("ece_quantile", "ECE (quantile bins)", "calibration", ece_quantile, None, False),
    Metric("mce_quantile", "MCE (quantile bins)", "calibration", mce_quantile, None, False),
)


@dataclass(frozen=True)
class Reliability:
    """One group's reliability diagram on one strategy's bins; empty bins left out.

    Lists hold one entry per non-empty bin, in bin order, rounded to 4 decimals.

    Attributes
    ----------
    strategy : str
        "uniform" or "quantile".
    mean_confidence : list of float
        Mean confidence of the bin's rows.
    observed : list of float
        Share of the bin's rows whose outcome is 1.
    ci_low, ci_high : list of float
        Wilson interval of `observed`.
    n : list of int
        Rows in the bin.
    edges_low, edges_high : list of float
        The bin's bounds: it holds edges_low < confidence <= edges_high (the first bin also edges_low).
    ece, mce : float or None
        The group's ECE and MCE on these bins; None for an empty group.
    """

    strategy: str
    mean_confidence: list[float]
    observed: list[float]
    ci_low: list[float]
    ci_high: list[float]
    n: list[int]
    edges_low: list[float]
    edges_high: list[float]
    ece: float | None
    mce: float | None


def reliability(stats: CalibrationStats, group: int, strategy: str, rows: CalibrationRows, level: float) -> Reliability:
    """Reliability-diagram data of one group: observed rate against mean confidence per bin.

    Parameters
    ----------
    stats : CalibrationStats
        The family's statistics, from `calibration_stats`.
    group : int
        The group's code, in [0, n_groups).
    strategy : str
        "uniform" or "quantile".
    rows : CalibrationRows
        The rows `stats` were computed from (for the bin edges).
    level : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    Reliability

    Examples
    --------
    >>> rows = CalibrationRows.prepare(np.array([0.1, 0.5, 0.55, 0.9]), np.array([0, 1, 0, 1]), n_bins=2)
    >>> diagram = reliability(calibration_stats(np.zeros(4, int), rows, 1), 0, "uniform", rows, 0.95)
    >>> diagram.mean_confidence, diagram.observed, diagram.n, diagram.ece
    ([0.3, 0.725], [0.5, 0.5], [2, 2], 0.2125)
    """
    bins: BinStats = getattr(stats, strategy)
    edges: np.ndarray = getattr(rows, f"{strategy}_edges")
    one = BinStats(n=bins.n[group], confidence_sum=bins.confidence_sum[group], outcome_sum=bins.outcome_sum[group])
    used = one.n > 0
    n, outcomes = one.n[used], one.outcome_sum[used]
    low, high = wilson(outcomes, n, level)
    return Reliability(
        strategy=strategy,
        mean_confidence=_rounded(one.confidence_sum[used] / n),
        observed=_rounded(outcomes / n),
        ci_low=_rounded(low),
        ci_high=_rounded(high),
        n=n.astype(int).tolist(),
        edges_low=_rounded(edges[:-1][used]),
        edges_high=_rounded(edges[1:][used]),
        ece=_rounded_or_none(_ece(one).value),
        mce=_rounded_or_none(_mce(one).value),
    )


def _rounded(values: np.ndarray) -> list[float]:
    return np.round(values, 4).tolist()


def _rounded_or_none(value: np.ndarray) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)
