"""The paired statistics of two models from their per-row arrays (the numpy engine): joint confusion cells,
sums of per-row differences and DeLong's placement values, per group of a family (`paired.PairedStats`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics.metric import Metric
from reportgen.metrics.paired import LINEARIZED, Linearization, OccupiedCells, PairedStats, Sums, shared_metrics
from reportgen.metrics.statistics import Rows
from reportgen.metrics.tasks import Engine, Statistics

# Up to this many (group, joint cell) pairs are counted in one table, else only the occupied ones.
_DENSE_COUNTS = 1 << 24


@dataclass(frozen=True)
class Pair:
    """A candidate's and a baseline's prepared per-row arrays on the same rows.

    Attributes
    ----------
    candidate, baseline : Engine
        Each model's engine (`tasks.prepare`), labels identical.
    joint : ndarray of int64 or None
        Joint confusion cell per row (`paired.JointCells`); None for regression.
    """

    candidate: Engine
    baseline: Engine
    joint: np.ndarray | None

    @classmethod
    def prepare(cls, candidate: Engine, baseline: Engine) -> Pair:
        """Pair two engines of one task on the same rows."""
        assert candidate.task == baseline.task, "the baseline's task is checked when it is read"
        joint = None
        if candidate.task != "regression":
            k = n_classes(candidate)
            rows_c, rows_b = candidate.rows, baseline.rows
            joint = rows_c.y_true.astype(np.int64) * k
            joint += rows_c.y_pred
            joint *= k
            joint += rows_b.y_pred
        return cls(candidate, baseline, joint)

    @property
    def task(self) -> str:
        """"binary", "multiclass" or "regression"."""
        return self.candidate.task

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """The metrics compared (`paired.shared_metrics`)."""
        return shared_metrics(self.candidate.metrics, self.baseline.metrics)

    def statistics(self, codes: np.ndarray, candidate: Statistics, baseline: Statistics) -> PairedStats:
        """The paired statistics of one family: `codes` in [0, n_groups), negative for rows in no group;
        `candidate` and `baseline` each model's statistics of the family."""
        n_groups = len(candidate.n)
        metrics = self.metrics
        names = {metric.name for metric in metrics}
        joint = None if self.joint is None else _occupied(codes, self.joint, n_classes(self.candidate), n_groups)
        differences, indicators = {}, set()
        for name, (values, counted, indicator) in _per_row_differences(self, codes, names, candidate,
                                                                        baseline).items():
            differences[name] = _sums(codes, values, counted, n_groups)
            if indicator:
                indicators.add(name)
        placements = None
        if self.task == "binary" and "roc_auc" in names:
            placements = _placement_sums(codes, n_groups, self)
        return PairedStats(self.task, metrics, joint, differences, frozenset(indicators), placements)


def n_classes(engine: Engine) -> int:
    """K, the classes of a classification engine (2 for a binary task)."""
    return 2 if engine.task == "binary" else engine.rows.n_classes


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


def _per_row_differences(
    pair: Pair, codes: np.ndarray, names: set[str], candidate: Statistics, baseline: Statistics
) -> dict[str, tuple[np.ndarray, np.ndarray | None, bool]]:
    """Metric → (per-row paired difference, rows counted or None for all, whether it is of 0/1 outcomes).

    For a mean of a per-row value the group mean of the difference is the metric's difference;
    for a smooth function of means (RMSE, R², explained variance) it is its linearization (`paired.Linearization`).
    """
    rows_c, rows_b = pair.candidate.rows, pair.baseline.rows
    group = np.maximum(codes, 0)  # rows in no group are left out of every sum; any index will do
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
        found["mae"] = (rows_c.abs_error - rows_b.abs_error, None, False)
        found["mse"] = (rows_c.squared_error - rows_b.squared_error, None, False)
        found["mean_residual"] = (rows_c.residual - rows_b.residual, None, False)
        found["mape"] = (rows_c.ape - rows_b.ape, rows_c.y_true != 0, False)
        if names & set(LINEARIZED):
            constants = Linearization.of(candidate, baseline)

            def at_group(per_group: np.ndarray) -> np.ndarray:
                return np.asarray(per_group, dtype=np.float64)[group]

            variance = at_group(constants.target_variance)
            (rmse_c, rmse_b), (mean_c, mean_b) = constants.double_rmse, constants.mean_residual
            with np.errstate(divide="ignore", invalid="ignore"):
                found["rmse"] = (rows_c.squared_error / at_group(rmse_c) - rows_b.squared_error / at_group(rmse_b),
                                 None, False)
                found["r2"] = (-(rows_c.squared_error - rows_b.squared_error) / variance, None, False)
                spread_c = np.square(rows_c.residual - at_group(mean_c))
                spread_b = np.square(rows_b.residual - at_group(mean_b))
                found["explained_variance"] = (-(spread_c - spread_b) / variance, None, False)
    return {name: value for name, value in found.items() if name in names}


def _sums(codes: np.ndarray, values: np.ndarray, counted: np.ndarray | None, n_groups: int) -> Sums:
    """Per group: the sum and sum of squares of `values`, and the rows, over the counted rows."""
    keep = codes >= 0 if counted is None else (codes >= 0) & counted
    kept, values = codes[keep], values[keep]
    values = np.where(np.isfinite(values), values, np.nan)  # a non-finite term makes its group's sum NaN
    return Sums(
        np.bincount(kept, weights=values, minlength=n_groups),
        np.bincount(kept, weights=np.square(values), minlength=n_groups),
        np.bincount(kept, minlength=n_groups),
    )


def _placement_sums(codes: np.ndarray, n_groups: int, pair: Pair) -> dict[tuple[str, int], Sums]:
    """`Sums` of DeLong's placement values of each model and of their difference, among each label's rows."""
    y_true = pair.candidate.rows.y_true
    first = _placements(codes, pair.candidate.rows, n_groups)
    second = _placements(codes, pair.baseline.rows, n_groups)
    values = {"candidate": first, "baseline": second, "difference": first - second}
    return {(model, label): _sums(codes, values[model], y_true == label, n_groups)
            for model in values for label in (1, 0)}


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
