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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from reportgen.metrics import intervals, regression
from reportgen.metrics.metric import Fraction, Metric
from reportgen.metrics.multiclass import ClassConfusion
from reportgen.metrics.statistics import Confusion
from reportgen.metrics.tasks import Statistics

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


def shared_metrics(candidate: tuple[Metric, ...], baseline: tuple[Metric, ...]) -> tuple[Metric, ...]:
    """The metrics both models have, in the candidate's order, but those of the labels alone (`SAME_FOR_BOTH`)."""
    shared = {metric.name for metric in baseline} - set(SAME_FOR_BOTH)
    return tuple(metric for metric in candidate if metric.name in shared)


@dataclass(frozen=True)
class Sums:
    """Per group: the sum and the sum of squares of a per-row value, and the rows summed.

    A group with a non-finite value has NaN sums.
    """

    total: np.ndarray
    squares: np.ndarray
    n: np.ndarray


@dataclass(frozen=True)
class Linearization:
    """Per-group constants of the per-row differences of a regression's smooth functions of means.

    The first-order (delta method) linearization of RMSE's difference on a row is
    e₁² / (2·RMSE₁) − e₂² / (2·RMSE₂); of R²'s, −(e₁² − e₂²) / Var(y); of the explained variance's,
    −((e₁ − ē₁)² − (e₂ − ē₂)²) / Var(y), for residuals e and their group means ē.

    Attributes
    ----------
    double_rmse : tuple of ndarray
        2·RMSE of the candidate and of the baseline, per group.
    target_variance : ndarray
        The targets' (population) variance per group.
    mean_residual : tuple of ndarray
        The mean residual of the candidate and of the baseline, per group.
    """

    double_rmse: tuple[np.ndarray, np.ndarray]
    target_variance: np.ndarray
    mean_residual: tuple[np.ndarray, np.ndarray]

    @classmethod
    def of(cls, candidate: Statistics, baseline: Statistics) -> Linearization:
        """The constants from both models' regression statistics of one family."""
        first, second = candidate.errors, baseline.errors
        rmse = regression.BY_NAME["rmse"]
        with np.errstate(divide="ignore", invalid="ignore"):
            return cls(
                double_rmse=(2 * rmse.values(first).value, 2 * rmse.values(second).value),
                target_variance=first.target_ss / first.n,
                mean_residual=(first.residual_sum / first.n, second.residual_sum / second.n),
            )


# The paired differences a regression linearizes with `Linearization`.
LINEARIZED = ("rmse", "r2", "explained_variance")
# DeLong's placements: of each model and of their difference, among the positives (1) and the negatives (0).
PLACEMENTS = tuple((model, label) for model in ("candidate", "baseline", "difference") for label in (1, 0))


@dataclass(frozen=True)
class PairedStats:
    """What the paired comparison of one family reads: the sufficient statistics of two models on the same rows.

    Attributes
    ----------
    task : str
        "binary", "multiclass" or "regression".
    metrics : tuple of Metric
        The metrics compared (`shared_metrics`).
    joint : OccupiedCells or None
        Rows per joint cell (label, candidate's prediction, baseline's prediction) per group; None for regression.
    differences : dict of str to Sums
        Per metric of a per-row mean (or smooth function of means), the sums of its per-row difference
        (candidate − baseline; for the smooth functions its linearization, `Linearization`).
    indicators : frozenset of str
        The metrics among `differences` whose per-row differences are of 0/1 outcomes (McNemar's test applies).
    placements : dict or None
        Binary tasks with ROC AUC: (model, label) → `Sums` of DeLong's placement values (`PLACEMENTS`).
    """

    task: str
    metrics: tuple[Metric, ...]
    joint: OccupiedCells | None
    differences: Mapping[str, Sums]
    indicators: frozenset[str] = frozenset()
    placements: Mapping[tuple[str, int], Sums] | None = None


@dataclass(frozen=True)
class MeasuredBaseline:
    """A baseline measured on the candidate's slice families, by any engine: what `comparison.compare` reads.

    Attributes
    ----------
    name, source, fingerprint : str
        The baseline's name, its predictions as written in the config, and their hash.
    join : str
        How its rows were matched to the candidate's, in words.
    unmatched : int
        Baseline rows left out because no candidate row has their id.
    metrics : tuple of Metric
        The baseline's own metrics.
    statistics : dict of str to Statistics
        The baseline's statistics of each family, by family name.
    paired : dict of str to PairedStats
        The paired statistics of each family, by family name.
    """

    name: str
    source: str
    fingerprint: str
    join: str
    unmatched: int
    metrics: tuple[Metric, ...]
    statistics: Mapping[str, Statistics]
    paired: Mapping[str, PairedStats]


def _single(task: str) -> Callable[[np.ndarray], Any]:
    """One model's confusion statistics from its cells."""
    return Confusion.from_cells if task == "binary" else ClassConfusion.from_cells


def compare_family(
    name: str,
    labels: list[str],
    paired: PairedStats,
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
    paired : PairedStats
        The two models' paired statistics of this family (`paired_rows.Pair.statistics`, or an SQL engine's).
    candidate, baseline : Statistics
        Each model's statistics of this family.
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
    values_c = {m.name: m.values(getattr(candidate, m.source)) for m in paired.metrics}
    values_b = {m.name: m.values(getattr(baseline, m.source)) for m in paired.metrics}
    occupied = paired.joint
    confusion_metrics = [m for m in paired.metrics if m.source == "confusion"]
    bootstrap = {}
    if occupied is not None and occupied.n_classes**3 <= MAX_JOINT_CELLS:
        bootstrap = _bootstrap(occupied.dense(), confusion_metrics, paired.task, resamples, rng, level)

    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for metric in paired.metrics:
        first, second = values_c[metric.name], values_b[metric.name]
        difference = first.value - second.value
        if metric.source == "confusion" and occupied is not None:
            low, high, se = bootstrap.get(metric.name, (np.full(n_groups, np.nan),) * 3)
            low, high = np.minimum(low, difference), np.maximum(high, difference)  # as `metric_frame`
            method: str | None = BOOTSTRAP if metric.name in bootstrap else None
            counts = _discordant(occupied, metric, paired.task)
            if counts is not None:
                p_value, test = mcnemar(*counts), MCNEMAR
            else:
                p_value, test = _z_test(difference, se, candidate.n), Z_TEST if method else None
        elif metric.name == "roc_auc" and paired.placements is not None:
            se, correlation = _delong(paired.placements)
            low, high = intervals.mover_difference(
                first.value, intervals.auc_score(candidate.scores, first.value, level),
                second.value, intervals.auc_score(baseline.scores, second.value, level), correlation)
            p_value, method, test = _z_test(difference, se, candidate.n), AUC_MOVER, Z_TEST
        elif metric.name in paired.differences:
            sums = paired.differences[metric.name]
            total, squares, n = sums.total, sums.squares, sums.n
            se = _standard_error(total, squares, n)
            low, high = _t_bounds(difference, se, n, level)
            if metric.name in paired.indicators:  # differences of 0/1 outcomes: the discordant rows are (n₊, n₋)
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
    if not paired.metrics:
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


def _standard_error(total: np.ndarray, squares: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Standard error of a mean from its sum and sum of squares; NaN with fewer than two rows."""
    _, variance = intervals.mean_and_variance(total, squares, n)
    return np.where(np.asarray(n) >= 2, np.sqrt(variance), np.nan)


def _delong(placements: Mapping[tuple[str, int], Sums]) -> tuple[np.ndarray, np.ndarray]:
    """Standard error of the AUC difference by DeLong's paired method, and the correlation of the two AUCs.

    With each row's placement value in its group (a positive: the share of the group's negatives
    scored below it, ties counting half; a negative: the share of positives scored above it), the
    placements v give Var(AUC) = Var(v | positives) / m + Var(v | negatives) / n, for m positives
    and n negatives; the difference of the two models' placements gives Var(ΔAUC) the same way, and
    Cov = (Var₁ + Var₂ − Var(ΔAUC)) / 2. The correlation is NaN where a model's variance is 0 (up to rounding).
    """
    def variance(model: str) -> np.ndarray:
        found = [placements[model, label] for label in (1, 0)]
        return sum(_standard_error(sums.total, sums.squares, sums.n) ** 2 for sums in found)

    of_first, of_second, of_difference = variance("candidate"), variance("baseline"), variance("difference")
    with np.errstate(divide="ignore", invalid="ignore"):
        correlation = (of_first + of_second - of_difference) / (2 * np.sqrt(of_first * of_second))
    # A model whose placements do not vary (an AUC of 0 or 1) has no correlation: the numerator is then rounding
    # noise, whose sign would decide between -1 and 1.
    degenerate = (of_first <= _NO_VARIANCE) | (of_second <= _NO_VARIANCE)
    return np.sqrt(of_difference), np.where(degenerate, np.nan, np.clip(correlation, -1.0, 1.0))


# A variance of the AUC at or below this is 0 up to rounding: placements lie in [0, 1], so rounding their sums leaves
# a few times 1e-16 of a variance that is 0 (the variance of a real AUC on 1e9 rows is still above 1e-12).
_NO_VARIANCE = 1e-15


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
