"""Two models on the same rows: per-group differences (candidate − baseline), intervals and tests.

Every kernel works from sufficient statistics of the pair, never by resampling rows:

- metrics of the confusion counts: a **paired Bayesian bootstrap** over the joint cells (label,
  candidate's prediction, baseline's prediction): each replicate draws the group's joint cell
  probabilities from a Dirichlet (`intervals.posterior_counts`), so both models are evaluated on the
  same reweighted rows, and a group where both models are perfect still gets an interval. A
  proportion over the same rows for both models (accuracy, recall, specificity, ...) is tested
  with **McNemar's** exact test on its discordant rows; other count metrics with a z-test on the
  bootstrap standard error;
- the ROC AUC: **DeLong's** paired test, from both models' placement values on the same rows, and
  the **MOVER** interval of the difference (`intervals.mover_difference`), from each model's score
  interval and the correlation of the two AUCs (DeLong): it does not collapse when both are 1;
- means of a per-row value (log loss, Brier score, MAE, ...) and smooth functions of such means
  (RMSE, R²): a **paired t** interval from the per-row differences (their linearization for
  the smooth functions) and the t-test that agrees with it; top-k accuracy is a proportion, tested with McNemar's test.

Other metrics (average precision, calibration errors, medians, maxima) get their difference
without an interval or a test.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from reportgen.metrics import intervals
from reportgen.metrics.metric import Fraction, Metric
from reportgen.metrics.multiclass import ClassConfusion
from reportgen.metrics.statistics import Confusion, Rows
from reportgen.metrics.tasks import Engine, Statistics

BOOTSTRAP = "paired Bayesian bootstrap"
AUC_MOVER = "MOVER (score intervals, DeLong correlation)"
PAIRED_T = "paired t"
MCNEMAR = "McNemar (exact)"
Z_TEST = "z-test"
T_TEST = "t-test"

NO_PAIRED_INTERVAL = "no paired interval for this metric"
TOO_MANY_CLASSES = "too many classes for the paired bootstrap"
COLUMNS = [
    "slice", "group", "metric", "candidate", "baseline", "difference", "ci_low", "ci_high",
    "method", "p_value", "test", "n", "undefined_reason",
]

# Metrics of the labels alone: the same for both models.
SAME_FOR_BOTH = ("count", "prevalence")
# Joint cells per group are K³ for K classes; beyond this the bootstrap would not fit in memory.
MAX_JOINT_CELLS = 20**3
# Up to this many (group, joint cell) pairs are counted in one table, else only the occupied ones.
_DENSE_COUNTS = 1 << 24
# Cells drawn at once (replicates × groups × joint cells) in the bootstrap: bounds its memory.
_DRAW_BUDGET = 1 << 23


@dataclass(frozen=True)
class JointCells:
    """Rows per joint cell (label, candidate's prediction, baseline's prediction) per group.

    `counts` has shape (..., K³), cell index ``(label · K + candidate) · K + baseline``.
    """

    counts: np.ndarray

    def cells(self) -> np.ndarray:
        """The counts (as `intervals.posterior_counts` reads them)."""
        return self.counts

    @classmethod
    def from_cells(cls, cells: np.ndarray) -> JointCells:
        """Inverse of `cells`."""
        return cls(cells)

    @property
    def n_classes(self) -> int:
        """K, the number of classes (2 for a binary task)."""
        return round(self.counts.shape[-1] ** (1 / 3))


def _marginals(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each model's own confusion cells, shape (..., K²) row-major (label, prediction), from the joint cells."""
    cube = counts.reshape(*counts.shape[:-1], k, k, k)
    return cube.sum(axis=-1).reshape(*counts.shape[:-1], k * k), cube.sum(axis=-2).reshape(*counts.shape[:-1], k * k)


@dataclass(frozen=True)
class Pair:
    """A candidate's and a baseline's prepared per-row arrays on the same rows.

    Attributes
    ----------
    candidate, baseline : Engine
        Each model's engine (`tasks.prepare`), labels identical.
    metrics : tuple of Metric
        The metrics both models have, in the candidate's order.
    joint : ndarray of int64 or None
        Joint confusion cell per row (`JointCells`); None for regression.
    """

    candidate: Engine
    baseline: Engine
    metrics: tuple[Metric, ...]
    joint: np.ndarray | None

    @classmethod
    def prepare(cls, candidate: Engine, baseline: Engine) -> Pair:
        """Pair two engines of one task on the same rows."""
        assert candidate.task == baseline.task, "the baseline's task is checked when it is read"
        shared = {metric.name for metric in baseline.metrics} - set(SAME_FOR_BOTH)
        metrics = tuple(metric for metric in candidate.metrics if metric.name in shared)
        joint = None
        if candidate.task != "regression":
            k = _n_classes(candidate)
            rows_c, rows_b = candidate.rows, baseline.rows
            joint = rows_c.y_true.astype(np.int64) * k
            joint += rows_c.y_pred
            joint *= k
            joint += rows_b.y_pred
        return cls(candidate, baseline, metrics, joint)

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression"."""
        return self.candidate.task


def _n_classes(engine: Engine) -> int:
    return 2 if engine.task == "binary" else engine.rows.n_classes


def _single(task: str) -> Callable[[np.ndarray], Any]:
    """One model's confusion statistics from its cells."""
    return Confusion.from_cells if task == "binary" else ClassConfusion.from_cells


def compare_family(
    name: str,
    labels: list[str],
    codes: np.ndarray,
    pair: Pair,
    candidate: Statistics,
    baseline: Statistics,
    *,
    level: float,
    resamples: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Both models' metrics, their difference with its paired interval, and a test, per group of one family.

    Parameters
    ----------
    name, labels : str, list of str
        The slice family's name and group labels.
    codes : ndarray of int
        Group code per row in [0, n_groups), negative for rows in no group.
    pair : Pair
        The two models' per-row arrays.
    candidate, baseline : Statistics
        Each model's statistics of this family (`Engine.group_stats` on `codes`).
    level : float
        Confidence level of the intervals.
    resamples : int
        Bootstrap replicates.
    rng : numpy Generator
        Source of the bootstrap draws.

    Returns
    -------
    DataFrame
        Columns slice, group, metric, candidate, baseline, difference, ci_low, ci_high, method,
        p_value (two-sided, unadjusted), test, n, undefined_reason.
    """
    n_groups = len(labels)
    values_c = {m.name: m.values(getattr(candidate, m.source)) for m in pair.metrics}
    values_b = {m.name: m.values(getattr(baseline, m.source)) for m in pair.metrics}
    occupied = None if pair.joint is None else _occupied(codes, pair.joint, _n_classes(pair.candidate), n_groups)
    per_row = _per_row_differences(pair, codes, values_c, values_b, candidate)
    confusion_metrics = [m for m in pair.metrics if m.source == "confusion"]
    bootstrap = {}
    if occupied is not None and occupied.n_classes**3 <= MAX_JOINT_CELLS:
        bootstrap = _bootstrap(occupied.dense(), confusion_metrics, pair.task, resamples, rng, level)

    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for metric in pair.metrics:
        first, second = values_c[metric.name], values_b[metric.name]
        difference = first.value - second.value
        if metric.source == "confusion" and occupied is not None:
            low, high, se = bootstrap.get(metric.name, (np.full(n_groups, np.nan),) * 3)
            low, high = np.minimum(low, difference), np.maximum(high, difference)  # as `metric_frame`
            method: str | None = BOOTSTRAP if metric.name in bootstrap else None
            counts = _discordant(occupied, metric, pair.task)
            if counts is not None:
                p_value, test = mcnemar(*counts), MCNEMAR
            else:
                p_value, test = _z_test(difference, se, candidate.n), Z_TEST if method else None
        elif metric.name == "roc_auc" and pair.task == "binary":
            se, correlation = _delong(codes, n_groups, pair)
            low, high = intervals.mover_difference(
                first.value, intervals.auc_score(candidate.scores, first.value, level),
                second.value, intervals.auc_score(baseline.scores, second.value, level), correlation)
            p_value, method, test = _z_test(difference, se, candidate.n), AUC_MOVER, Z_TEST
        elif metric.name in per_row:
            psi, counted, indicator = per_row[metric.name]
            total, squares, n = _sums(codes, psi, counted, n_groups)
            se = _standard_error(total, squares, n)
            low, high = _t_bounds(difference, se, n, level)
            if indicator:  # differences of 0/1 outcomes: the discordant rows are (n₊, n₋)
                p_value, test = mcnemar((squares + total) / 2, (squares - total) / 2), MCNEMAR
            else:
                p_value, test = _t_test(difference, se, n), T_TEST
            method = PAIRED_T
        else:
            low = high = p_value = np.full(n_groups, np.nan)
            method = test = None
        defined = np.isfinite(difference)
        reason = _reason(first.reason, second.reason)
        if method is None:
            missing = TOO_MANY_CLASSES if metric.source == "confusion" else NO_PAIRED_INTERVAL
            reason = np.where(defined, missing, reason)
        for column, values in (
            ("slice", [name] * n_groups), ("group", labels), ("metric", [metric.name] * n_groups),
            ("candidate", first.value), ("baseline", second.value), ("difference", difference),
            ("ci_low", np.where(defined, low, np.nan)), ("ci_high", np.where(defined, high, np.nan)),
            ("method", [method] * n_groups), ("p_value", np.where(defined, p_value, np.nan)),
            ("test", [test] * n_groups), ("n", np.asarray(candidate.n, dtype=np.int64)),
            ("undefined_reason", reason),
        ):
            columns[column].append(values)
    if not pair.metrics:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame({
        column: pd.Series(np.concatenate(parts), dtype=object if column in _TEXT else None)
        for column, parts in columns.items()
    })


_TEXT = ("slice", "group", "metric", "method", "test", "undefined_reason")


def mcnemar(gains: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """McNemar's exact test: two-sided binomial p-value of the discordant counts (gains vs losses).

    `gains` counts rows only the candidate gets right, `losses` rows only the baseline gets right;
    p is 1 when there are none.

    Examples
    --------
    >>> mcnemar(np.array([10, 3, 0]), np.array([2, 3, 0])).round(4).tolist()
    [0.0386, 1.0, 1.0]
    """
    gains = np.rint(np.asarray(gains, dtype=np.float64))
    losses = np.rint(np.asarray(losses, dtype=np.float64))
    p = 2 * scipy_stats.binom.cdf(np.minimum(gains, losses), gains + losses, 0.5)
    return np.where(gains + losses > 0, np.minimum(p, 1.0), 1.0)


@dataclass(frozen=True)
class OccupiedCells:
    """The occupied joint cells of one family: per entry its group, its joint cell and its rows."""

    group: np.ndarray
    cell: np.ndarray
    rows: np.ndarray
    n_groups: int
    n_classes: int

    def dense(self) -> JointCells:
        """Rows of every joint cell of every group, shape (groups, K³)."""
        counts = np.zeros((self.n_groups, self.n_classes**3), dtype=np.int64)
        counts[self.group, self.cell] = self.rows
        return JointCells(counts)


def _occupied(codes: np.ndarray, joint: np.ndarray, k: int, n_groups: int) -> OccupiedCells:
    """Count the rows of each (group, joint cell): one bincount when the table is small, else np.unique."""
    keep = codes >= 0
    key = np.multiply(codes, k**3, dtype=np.int64)
    key += joint
    key = key if keep.all() else key[keep]
    if n_groups * k**3 <= _DENSE_COUNTS:
        counts = np.bincount(key, minlength=n_groups * k**3)
        found = np.flatnonzero(counts)
        rows = counts[found]
    else:
        found, rows = np.unique(key, return_counts=True)
    return OccupiedCells(found // k**3, found % k**3, rows.astype(np.int64), n_groups, k)


def _bootstrap(
    joint: JointCells, metrics: list[Metric], task: str, resamples: int, rng: np.random.Generator, level: float
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Percentile interval and standard error of each metric's difference, per group (Bayesian bootstrap).

    Groups are drawn in chunks so that at most `_DRAW_BUDGET` cells are held at once.
    """
    n_groups, n_cells = joint.counts.shape
    chunk = max(1, _DRAW_BUDGET // (resamples * n_cells))
    single = _single(task)
    found: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {m.name: [] for m in metrics}
    for start in range(0, n_groups, chunk):
        part = joint.counts[start:start + chunk]
        drawn = intervals.posterior_counts(JointCells(part), resamples, rng, axes=3).counts
        cells_c, cells_b = _marginals(drawn, joint.n_classes)
        first, second = single(cells_c), single(cells_b)
        for metric in metrics:
            with np.errstate(invalid="ignore", divide="ignore"):
                replicates = metric.values(first).value - metric.values(second).value
            low, high = intervals.percentile(replicates, level, n=part.sum(axis=1))
            found[metric.name].append((low, high, _spread(replicates)))
    return {name: tuple(np.concatenate(part) for part in zip(*chunks, strict=True))  # type: ignore[misc]
            for name, chunks in found.items()}


def _spread(replicates: np.ndarray) -> np.ndarray:
    """Standard deviation over the defined replicates (axis 0); NaN with fewer than two."""
    defined = np.isfinite(replicates)
    count = defined.sum(axis=0)
    safe = np.where(defined, replicates, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = safe.sum(axis=0) / count
        variance = np.where(defined, (safe - mean) ** 2, 0.0).sum(axis=0) / (count - 1)
    return np.where(count >= 2, np.sqrt(variance), np.nan)


def _discordant(joint: OccupiedCells, metric: Metric, task: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows counted by the candidate only and by the baseline only, for a proportion over the same rows.

    A proportion's numerator and denominator are sums of confusion cells. Evaluated on one row
    in each cell they say, per joint cell, whether each model counts that row; when the
    denominator never differs between the models, McNemar's test applies to the discordant rows.
    None for any other metric.
    """
    k = joint.n_classes
    one_row = _one_row(metric, task, k)
    if one_row is None:
        return None
    numerator, denominator = one_row
    by_label = denominator.reshape(k, k)
    if not (by_label == by_label[:, :1]).all():  # the rows counted depend on the prediction
        return None
    label, first, second = np.unravel_index(joint.cell, (k, k, k))
    cell_c, cell_b = label * k + first, label * k + second
    counted = joint.rows * denominator[cell_c]
    gains = counted * numerator[cell_c] * (1 - numerator[cell_b])
    losses = counted * (1 - numerator[cell_c]) * numerator[cell_b]
    return (np.bincount(joint.group, weights=gains, minlength=joint.n_groups),
            np.bincount(joint.group, weights=losses, minlength=joint.n_groups))


@functools.lru_cache(maxsize=128)
def _one_row(metric: Metric, task: str, k: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A proportion's numerator and denominator on one row in each confusion cell (0 or 1 each, K² cells).

    None for a metric that is not a proportion of rows. Evaluated on a few hundred cells at a time,
    so that many classes do not need a K⁴ array.
    """
    numerators, denominators = [], []
    for start in range(0, k * k, _CELLS_AT_ONCE):
        cells = np.arange(start, min(start + _CELLS_AT_ONCE, k * k))
        one_hot = np.zeros((len(cells), k * k), dtype=np.int64)
        one_hot[np.arange(len(cells)), cells] = 1
        result = metric.compute(_single(task)(one_hot))
        if not isinstance(result, Fraction):
            return None
        numerators.append(np.asarray(result.numerator, dtype=np.int64))
        denominators.append(np.asarray(result.denominator, dtype=np.int64))
    numerator, denominator = np.concatenate(numerators), np.concatenate(denominators)
    if not (np.isin(numerator, (0, 1)).all() and np.isin(denominator, (0, 1)).all()):
        return None
    return numerator, denominator


_CELLS_AT_ONCE = 256


def _per_row_differences(
    pair: Pair, codes: np.ndarray, values_c: dict[str, Any], values_b: dict[str, Any], stats: Statistics
) -> dict[str, tuple[np.ndarray, np.ndarray | None, bool]]:
    """Metric → (per-row paired difference, rows counted or None for all, whether it is of 0/1 outcomes).

    For a mean of a per-row value the group mean of the difference is the metric's difference;
    for a smooth function of means (RMSE, R², explained variance) it is the first-order (delta
    method) linearization of that difference.
    """
    rows_c, rows_b = pair.candidate.rows, pair.baseline.rows
    names = {metric.name for metric in pair.metrics}
    group = np.maximum(codes, 0)  # rows in no group are left out of every sum; any index will do

    def at_group(per_group: np.ndarray) -> np.ndarray:
        return np.asarray(per_group, dtype=np.float64)[group]

    found: dict[str, tuple[np.ndarray, np.ndarray | None, bool]] = {}
    if pair.task == "binary":
        found["log_loss"] = (rows_c.log_loss - rows_b.log_loss, None, False)
        found["brier"] = (rows_c.squared_error - rows_b.squared_error, None, False)
    elif pair.task == "multiclass":
        if rows_c.log_loss is not None and rows_b.log_loss is not None:
            found["log_loss"] = (rows_c.log_loss - rows_b.log_loss, None, False)
        for k in set(rows_c.top_k) & set(rows_b.top_k):
            if rows_c.true_rank is not None and rows_b.true_rank is not None:
                hits = (rows_c.true_rank < k).astype(np.float64) - (rows_b.true_rank < k)
                found[f"top_{k}_accuracy"] = (hits, None, True)
    else:
        errors = stats.task.errors
        found["mae"] = (rows_c.abs_error - rows_b.abs_error, None, False)
        found["mse"] = (rows_c.squared_error - rows_b.squared_error, None, False)
        found["mean_residual"] = (rows_c.residual - rows_b.residual, None, False)
        found["mape"] = (rows_c.ape - rows_b.ape, rows_c.y_true != 0, False)
        with np.errstate(divide="ignore", invalid="ignore"):
            if "rmse" in names:
                found["rmse"] = (rows_c.squared_error / (2 * at_group(values_c["rmse"].value))
                                 - rows_b.squared_error / (2 * at_group(values_b["rmse"].value)), None, False)
            target_variance = at_group(errors.target_ss / errors.n)
            found["r2"] = (-(rows_c.squared_error - rows_b.squared_error) / target_variance, None, False)
            if "explained_variance" in names:
                spread_c = np.square(rows_c.residual - at_group(_group_mean(codes, rows_c.residual, errors.n)))
                spread_b = np.square(rows_b.residual - at_group(_group_mean(codes, rows_b.residual, errors.n)))
                found["explained_variance"] = (-(spread_c - spread_b) / target_variance, None, False)
    return {name: value for name, value in found.items() if name in names}


def _group_mean(codes: np.ndarray, values: np.ndarray, n: np.ndarray) -> np.ndarray:
    keep = codes >= 0
    total = np.bincount(codes[keep], weights=values[keep], minlength=len(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / n


def _sums(
    codes: np.ndarray, values: np.ndarray, counted: np.ndarray | None, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group: the sum and sum of squares of `values`, and the rows, over the counted rows."""
    keep = codes >= 0 if counted is None else (codes >= 0) & counted
    kept, values = codes[keep], values[keep]
    values = np.where(np.isfinite(values), values, np.nan)  # a non-finite term makes its group's sum NaN
    return (
        np.bincount(kept, weights=values, minlength=n_groups),
        np.bincount(kept, weights=np.square(values), minlength=n_groups),
        np.bincount(kept, minlength=n_groups),
    )


def _standard_error(total: np.ndarray, squares: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Standard error of a mean from its sum and sum of squares; NaN with fewer than two rows."""
    _, variance = intervals.mean_and_variance(total, squares, n)
    return np.where(np.asarray(n) >= 2, np.sqrt(variance), np.nan)


def _delong(codes: np.ndarray, n_groups: int, pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    """Standard error of the AUC difference by DeLong's paired method, and the correlation of the two AUCs.

    With each row's placement value in its group (a positive: the share of the group's negatives
    scored below it, ties counting half; a negative: the share of positives scored above it), the
    placements v give Var(AUC) = Var(v | positives) / m + Var(v | negatives) / n, for m positives
    and n negatives; the difference of the two models' placements gives Var(ΔAUC) the same way, and
    Cov = (Var₁ + Var₂ − Var(ΔAUC)) / 2. The correlation is NaN where a model's variance is 0.
    """
    y_true = pair.candidate.rows.y_true
    first, second = _placements(codes, pair.candidate.rows, n_groups), _placements(codes, pair.baseline.rows, n_groups)

    def variance(placements: np.ndarray) -> np.ndarray:
        found = np.zeros(n_groups)
        for label in (1, 0):
            found = found + _standard_error(*_sums(codes, placements, y_true == label, n_groups)) ** 2
        return found

    of_first, of_second, of_difference = variance(first), variance(second), variance(first - second)
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = (of_first + of_second - of_difference) / (2 * np.sqrt(of_first * of_second))
    return np.sqrt(of_difference), np.clip(correlation, -1.0, 1.0)


def _placements(codes: np.ndarray, rows: Rows, n_groups: int) -> np.ndarray:
    """Each row's DeLong placement value within its group (NaN for rows in no group).

    The rows, already sorted by score (`rows.order`), are stably sorted by group: runs of one
    group and one score are then contiguous, in ascending score within each group.
    """
    by_score = codes[rows.order]
    order = rows.order[np.argsort(by_score, kind="stable")]
    order = order[codes[order] >= 0]
    group, score, label = codes[order], rows.scores[order], rows.y_true[order].astype(np.float64)
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = (group[1:] != group[:-1]) | (score[1:] != score[:-1])
    first = np.flatnonzero(starts)
    run = np.cumsum(starts) - 1
    if len(first) == 0:
        return np.full(len(codes), np.nan)
    run_pos = np.add.reduceat(label, first)
    run_neg = np.diff(first, append=len(order)) - run_pos
    run_group = group[first]
    positives = np.bincount(run_group, weights=run_pos, minlength=n_groups)
    negatives = np.bincount(run_group, weights=run_neg, minlength=n_groups)
    group_start = np.searchsorted(run_group, run_group)  # first run of each run's group
    neg_below = np.cumsum(run_neg) - run_neg
    neg_below -= neg_below[group_start]
    pos_below = np.cumsum(run_pos) - run_pos
    pos_below -= pos_below[group_start]
    with np.errstate(divide="ignore", invalid="ignore"):
        as_positive = (neg_below + 0.5 * run_neg) / negatives[run_group]
        as_negative = (positives[run_group] - pos_below - 0.5 * run_pos) / positives[run_group]
    placement = np.full(len(codes), np.nan)
    placement[order] = np.where(label == 1, as_positive[run], as_negative[run])
    return placement


def _t_bounds(difference: np.ndarray, se: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """difference ± t·se, t with n − 1 degrees of freedom (the same as `_t_test`)."""
    half = intervals.t_value(level, np.asarray(n) - 1) * se
    return difference - half, difference + half


def _z_test(difference: np.ndarray, se: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p-value of difference / se; 1 where both are 0, NaN with fewer than two rows."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(difference) / se
    p = 2 * scipy_stats.norm.sf(z)
    p = np.where((se == 0) & (difference == 0), 1.0, p)
    return np.where(np.asarray(n) >= 2, p, np.nan)


def _t_test(difference: np.ndarray, se: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p-value of difference / se against Student's t with n − 1 degrees of freedom (as `_t_bounds`).

    1 where both are 0, NaN with fewer than two rows.
    """
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(difference) / se
    p = 2 * scipy_stats.t.sf(t, np.maximum(n - 1, 1.0))
    p = np.where((se == 0) & (difference == 0), 1.0, p)
    return np.where(n >= 2, p, np.nan)


def _reason(candidate: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Why the difference is undefined: the candidate's reason, else the baseline's."""
    reasons = [
        f"candidate: {c}" if c is not None else (f"baseline: {b}" if b is not None else None)
        for c, b in zip(candidate, baseline, strict=True)
    ]
    return np.array(reasons, dtype=object)
