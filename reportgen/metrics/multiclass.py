"""Multiclass-classification metrics: per-group statistics, then pure arithmetic, in one registry.

A group's statistics are its K×K confusion matrix (labels × predictions, from one `bincount`),
and, with class probabilities, the one-vs-rest rank statistics of each class (`score_stats` on
that class's column), the sum and sum of squares of the per-row log loss, and how many rows have
their label among the k highest-scored classes. Every value equals scikit-learn's on the group's
rows, with one policy on top: where scikit-learn puts in 0 for a value with no definition (MCC),
reportgen says it is undefined and why.

Averages follow `precision_recall_fscore_support` with its default labels and `zero_division`:
a group averages over the classes that occur in its labels or its predictions, and a class never
predicted (or never a label) counts with precision (recall) 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from math import isqrt

import numpy as np

from reportgen.metrics import intervals
from reportgen.metrics.binary import ONE_CLASS, BinaryStats
from reportgen.metrics.intervals import AUC_SCORE, BAYESIAN_BOOTSTRAP, LOG_T
from reportgen.metrics.metric import Bounds, Fraction, Metric, Support, count_values, smaller_class, with_supports
from reportgen.metrics.statistics import (
    EPS,
    Confusion,
    Ranking,
    Rows,
    ScoreStats,
    score_order,
    score_stats,
)
from reportgen.metrics.values import EMPTY, Values, divide, empty_is_no_rows

ALL_ONE_CLASS = "labels or predictions are all one class"
ONE_SHARED_CLASS = "labels and predictions are all one and the same class"
MISSING_CLASS = "a class has no rows in this group (one-vs-rest AUC needs every class)"
CLASS_ABSENT = "no rows of this class in this group"
CLASS_NOT_PREDICTED = "this class is never predicted in this group"
CLASS_UNSEEN = "this class is neither a label nor predicted in this group"
CLASS_ONLY = "every row in this group is of this class"
CLASS_ROWS = "rows of the class"
PREDICTED_AS_CLASS = "rows predicted as the class"
SMALLEST_CLASS = "rows of the smallest class"


@dataclass(frozen=True)
class ClassRows:
    """Per-row arrays shared by every slice family, prepared once.

    Attributes
    ----------
    y_true, y_pred : ndarray of intp
        Class codes in [0, n_classes).
    probabilities : ndarray of float64, shape (rows, n_classes), or None
        Class probabilities (finite, in [0, 1], rows summing to 1), or None without them.
    n_classes : int
        Number of classes K (at least 2).
    top_k : tuple of int
        The k of the top-k accuracies, each in [1, n_classes).
    cell : ndarray of int16 or int32
        Confusion cell per row, ``y_true * n_classes + y_pred``.
    log_loss : ndarray of float64, or None
        Per-row ``-log(p)`` of the label's probability clipped to [eps, 1 - eps], as scikit-learn.
    true_rank : ndarray of uint8 or int32, or None
        Where the label stands among the classes ordered as `top_k_accuracy_score` orders them
        (0: first); None without `top_k`. Rows with ``true_rank < k`` are top-k hits.
    one_vs_rest : tuple of Rows, or None
        Per class, its rows against the rest: class-vs-rest labels and predictions (int8), the
        class's probabilities, the rows sorted by them (ties in any order) and their dense ranks.
        Their losses are empty: they are not reported one-vs-rest.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    probabilities: np.ndarray | None
    n_classes: int
    top_k: tuple[int, ...]
    cell: np.ndarray
    log_loss: np.ndarray | None
    true_rank: np.ndarray | None
    one_vs_rest: tuple[Rows, ...] | None

    @classmethod
    def prepare(
        cls,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        probabilities: np.ndarray | None,
        n_classes: int,
        top_k: tuple[int, ...] = (),
    ) -> ClassRows:
        """Compute every derived per-row array once: one sort per class, the losses, the top-k ranks.

        Parameters
        ----------
        y_true, y_pred : ndarray of int
            Class codes in [0, n_classes).
        probabilities : ndarray of float64, shape (rows, n_classes), or None
            Checked upstream: finite, in [0, 1], each row summing to 1.
        n_classes : int
            Number of classes, at least 2.
        top_k : tuple of int
            Each k in [1, n_classes).

        Examples
        --------
        >>> rows = ClassRows.prepare(np.array([0, 1, 2]), np.array([0, 2, 2]), None, 3)
        >>> rows.cell.tolist()
        [0, 5, 8]
        """
        y_true = np.asarray(y_true).astype(np.intp, copy=False)
        y_pred = np.asarray(y_pred).astype(np.intp, copy=False)
        cell_type = np.int16 if n_classes * n_classes <= np.iinfo(np.int16).max else np.int32
        cell = y_true.astype(cell_type)
        cell *= cell_type(n_classes)
        cell += y_pred.astype(cell_type, copy=False)
        if probabilities is None:
            return cls(y_true, y_pred, None, n_classes, tuple(top_k), cell, None, None, None)
        p_true = np.take_along_axis(probabilities, y_true[:, None], axis=1)[:, 0]
        log_loss = -np.log(np.clip(p_true, EPS, 1 - EPS))
        narrow = np.uint8 if n_classes <= 256 else np.int32  # compared once per class
        labels, predictions = y_true.astype(narrow), y_pred.astype(narrow)
        positions = np.arange(len(y_true), dtype=np.uint32) if len(y_true) <= 1 << 32 else None
        ranked = bool(top_k) and n_classes > 2  # with two classes, `_true_rank` reads the prediction instead

        def per_class(k: int) -> tuple[Rows, np.ndarray | None]:
            column = np.ascontiguousarray(probabilities[:, k])
            return (_against_the_rest(column, labels, predictions, k, positions),
                    _ahead(column, p_true, labels, k) if ranked else None)

        # One sort per class; numpy's sorts release the GIL, so the classes are sorted on every core.
        with ThreadPoolExecutor(max_workers=min(n_classes, os.cpu_count() or 1)) as pool:
            per_class_rows = list(pool.map(per_class, range(n_classes)))
        one_vs_rest = tuple(class_rows for class_rows, _ in per_class_rows)
        true_rank = _true_rank(probabilities, y_true, [ahead for _, ahead in per_class_rows]) if top_k else None
        return cls(
            y_true=y_true,
            y_pred=y_pred,
            probabilities=probabilities,
            n_classes=n_classes,
            top_k=tuple(top_k),
            cell=cell,
            log_loss=log_loss,
            true_rank=true_rank,
            one_vs_rest=one_vs_rest,
        )


def _against_the_rest(
    scores: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, k: int, positions: np.ndarray | None
) -> Rows:
    """Class `k` against the rest: its labels and predictions, and its probabilities' order and `Ranking`."""
    order, ascending = score_order(scores, positions)
    no_losses = np.zeros(0)
    return Rows(
        y_true=np.equal(y_true, k).view(np.int8),
        y_pred=np.equal(y_pred, k).view(np.int8),
        scores=scores,
        order=order,
        log_loss=no_losses,
        squared_error=no_losses,
        ranking=Ranking.of(order, ascending, np.equal(y_true[order], k).view(np.int8)),
    )


def _ahead(column: np.ndarray, p_true: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Rows whose class `k` comes before their label in `top_k_accuracy_score`'s order: a higher probability, or
    an equal one and a higher class code (`column`: class k's probabilities; `p_true`: the label's)."""
    ahead = np.equal(column, p_true)
    ahead &= labels < k
    ahead |= column > p_true
    return ahead


def _true_rank(probabilities: np.ndarray, y_true: np.ndarray, aheads: list[np.ndarray | None]) -> np.ndarray:
    """Position of each row's label in scikit-learn's top-k order (0 is the top): the classes `_ahead` of it.

    `top_k_accuracy_score` orders classes by descending probability and, among equal ones, puts
    the higher class code first (a reversed stable argsort). With two classes it instead predicts
    class 1 where its probability is above 0.5, so a row is a hit (rank 0) or a miss (rank 1).
    """
    n_classes = probabilities.shape[1]
    if n_classes == 2:
        return np.not_equal(probabilities[:, 1] > 0.5, y_true == 1).view(np.uint8)
    rank = np.zeros(len(y_true), dtype=np.uint8 if n_classes <= 256 else np.int32)
    for ahead in aheads:
        rank += ahead
    return rank


@dataclass(frozen=True)
class ClassConfusion:
    """Confusion matrices per group: ``matrix[..., true, predicted]``, int64 (float in Bayesian-bootstrap draws).

    The leading shape is (groups,) or, for bootstrap replicates, (resamples, groups). The margins
    are summed once and kept: every metric of a bootstrap replicate's matrices reads them.
    """

    matrix: np.ndarray

    @cached_property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.true_counts.sum(axis=-1)

    @property
    def n_classes(self) -> int:
        """Number of classes K."""
        return self.matrix.shape[-1]

    @cached_property
    def true_counts(self) -> np.ndarray:
        """Rows labelled with each class (the support), shape (..., K)."""
        return self.matrix.sum(axis=-1)

    @cached_property
    def predicted_counts(self) -> np.ndarray:
        """Rows predicted as each class, shape (..., K)."""
        return self.matrix.sum(axis=-2)

    @property
    def correct(self) -> np.ndarray:
        """Rows of each class predicted as that class (the diagonal), shape (..., K)."""
        return np.diagonal(self.matrix, axis1=-2, axis2=-1)

    def cells(self) -> np.ndarray:
        """Counts as an array of shape (..., K·K), row-major (true class, then predicted)."""
        return self.matrix.reshape(*self.matrix.shape[:-2], -1)

    @classmethod
    def from_cells(cls, cells: np.ndarray) -> ClassConfusion:
        """Inverse of `cells`."""
        n_classes = isqrt(cells.shape[-1])
        assert n_classes * n_classes == cells.shape[-1], "cells must hold a square matrix"
        cells = np.asarray(cells)  # int64 counts, or the floats of a Bayesian bootstrap replicate
        return cls((cells if cells.dtype.kind == "f" else cells.astype(np.int64)).reshape(
            *cells.shape[:-1], n_classes, n_classes))

    def ovr(self, k: int) -> Confusion:
        """One-vs-rest counts of class `k` (class k positive, every other class negative)."""
        tp = self.matrix[..., k, k]
        fn = self.matrix[..., k, :].sum(axis=-1) - tp
        fp = self.matrix[..., :, k].sum(axis=-1) - tp
        return Confusion(tp=tp, fp=fp, tn=self.n - tp - fn - fp, fn=fn)


@dataclass(frozen=True)
class ClassScores:
    """Probability-based statistics per group.

    Attributes
    ----------
    n : ndarray of int64
        Rows per group.
    one_vs_rest : tuple of ScoreStats
        Per class, its rank statistics against the rest (`score_stats` on its probability column).
        Their log-loss and Brier fields are NaN: they are not computed one-vs-rest.
    log_loss_sum, log_loss_sq : ndarray of float64
        Sum and sum of squares of the per-row log loss.
    top_k_hits : dict of int to ndarray of int64
        For each k, rows whose label is among the k classes ranked first.
    """

    n: np.ndarray
    one_vs_rest: tuple[ScoreStats, ...]
    log_loss_sum: np.ndarray
    log_loss_sq: np.ndarray
    top_k_hits: dict[int, np.ndarray]


@dataclass(frozen=True)
class MulticlassStats:
    """Sufficient statistics of one slice family's groups for a multiclass task.

    Attributes
    ----------
    confusion : ClassConfusion
        K×K confusion matrix per group.
    scores : ClassScores or None
        None without probabilities.
    """

    confusion: ClassConfusion
    scores: ClassScores | None

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.confusion.n

    def one_vs_rest(self, k: int) -> BinaryStats:
        """Binary statistics of class `k` against the rest, for `class_metrics`.

        Without probabilities its `scores` is None (and `class_metrics(False)` does not use it).
        """
        scores = self.scores.one_vs_rest[k] if self.scores is not None else None
        return BinaryStats(self.confusion.ovr(k), scores)  # type: ignore[arg-type]


def group_stats(codes: np.ndarray, rows: ClassRows, n_groups: int) -> MulticlassStats:
    """All sufficient statistics of a family: a few bincounts, and `score_stats` once per class.

    Nothing is cached on `rows`, so families can be computed on several threads.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups), negative for rows in no group.
    rows : ClassRows
        Shared per-row arrays.
    n_groups : int
        Number of groups.

    Examples
    --------
    >>> rows = ClassRows.prepare(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]), None, 3)
    >>> stats = group_stats(np.array([0, 0, 1, -1]), rows, 2)
    >>> stats.n.tolist(), stats.confusion.correct.tolist()
    ([2, 1], [[1, 0, 0], [0, 0, 1]])
    """
    keep = codes >= 0
    all_kept = bool(keep.all())
    n_classes = rows.n_classes
    matrix = _count(codes, keep, all_kept, rows.cell, n_classes * n_classes, n_groups)
    confusion = ClassConfusion(matrix.reshape(n_groups, n_classes, n_classes))
    if rows.probabilities is None:
        return MulticlassStats(confusion, None)
    assert rows.log_loss is not None and rows.one_vs_rest is not None

    kept, losses = (codes, rows.log_loss) if all_kept else (codes[keep], rows.log_loss[keep])
    log_loss_sum = np.bincount(kept, weights=losses, minlength=n_groups)
    log_loss_sq = np.bincount(kept, weights=np.square(losses), minlength=n_groups)
    del kept, losses
    top_k_hits: dict[int, np.ndarray] = {}
    if rows.top_k:
        assert rows.true_rank is not None
        by_rank = _count(codes, keep, all_kept, rows.true_rank, n_classes, n_groups).reshape(n_groups, n_classes)
        within = np.cumsum(by_rank, axis=1)
        top_k_hits = {k: within[:, k - 1] for k in rows.top_k}

    # Each class against the rest, ranked once by `ClassRows.prepare`; its losses are not reported one-vs-rest.
    one_vs_rest = [score_stats(codes, class_rows, n_groups, losses=False) for class_rows in rows.one_vs_rest]
    scores = ClassScores(confusion.n, tuple(one_vs_rest), log_loss_sum, log_loss_sq, top_k_hits)
    return MulticlassStats(confusion, scores)


def _count(
    codes: np.ndarray, keep: np.ndarray, all_kept: bool, cell: np.ndarray, cells_per_group: int, n_groups: int
) -> np.ndarray:
    """Rows per (group, cell), flat, int64; rows with a negative code left out."""
    key = np.multiply(codes, cells_per_group, dtype=np.int64)
    key += cell
    counts = np.bincount(key if all_kept else key[keep], minlength=cells_per_group * n_groups)
    return counts.astype(np.int64, copy=False)


# Metrics of the confusion matrix ------------------------------------------------------------------
# Each takes a ClassConfusion of any leading shape (groups, or resamples × groups).


def count(c: ClassConfusion) -> Values:
    """Rows in the group; always defined."""
    return count_values(c.n)


def accuracy(c: ClassConfusion) -> Fraction:
    """Share of rows predicted as their label; undefined for an empty group.

    It is also the micro-averaged precision, recall and F1, and the support-weighted recall.
    """
    return Fraction(c.correct.sum(axis=-1), c.n, EMPTY)


def balanced_accuracy(c: ClassConfusion) -> Values:
    """Mean recall over the classes present in the labels, as scikit-learn; undefined for an empty group."""
    support = c.true_counts
    recall = _ratio(c.correct, support)
    return divide(recall.sum(axis=-1), (support > 0).sum(axis=-1), undefined=EMPTY)


def cohen_kappa(c: ClassConfusion) -> Values:
    """Cohen's kappa, (observed − chance agreement) / (1 − chance agreement).

    Undefined for an empty group, and where chance agreement is 1: every label and every
    prediction is one and the same class (scikit-learn returns NaN there too).
    """
    n = c.n.astype(np.float64)
    chance = _dot(c.true_counts, c.predicted_counts)
    values = divide(n * c.correct.sum(axis=-1) - chance, n * n - chance, undefined=ONE_SHARED_CLASS)
    return empty_is_no_rows(values, c.n)


def mcc(c: ClassConfusion) -> Values:
    """Matthews correlation coefficient, multiclass (Gorodkin's R_K, as scikit-learn).

    Undefined for an empty group, and where all labels or all predictions are one class:
    scikit-learn returns 0 there; 0/0 is undefined, so reportgen says so instead.
    """
    n = c.n.astype(np.float64)
    true_counts, predicted_counts = c.true_counts, c.predicted_counts
    covariance = n * c.correct.sum(axis=-1) - _dot(true_counts, predicted_counts)
    spread_pred = n * n - _dot(predicted_counts, predicted_counts)
    spread_true = n * n - _dot(true_counts, true_counts)
    values = divide(covariance, np.sqrt(spread_pred * spread_true), undefined=ALL_ONE_CLASS)
    return empty_is_no_rows(values, c.n)


def macro_precision(c: ClassConfusion) -> Values:
    """Unweighted mean precision over the classes in the group's labels or predictions.

    A class never predicted counts as precision 0 (scikit-learn's `zero_division` default).
    Undefined for an empty group.
    """
    return _macro(_ratio(c.correct, c.predicted_counts), c)


def macro_recall(c: ClassConfusion) -> Values:
    """Unweighted mean recall over the classes in the group's labels or predictions.

    A class predicted but never a label counts as recall 0, as scikit-learn. Undefined for an
    empty group.
    """
    return _macro(_ratio(c.correct, c.true_counts), c)


def macro_f1(c: ClassConfusion) -> Values:
    """Unweighted mean F1 over the classes in the group's labels or predictions; undefined for an empty group."""
    return _macro(_f1_per_class(c), c)


def micro_precision(c: ClassConfusion) -> Fraction:
    """Precision over all rows pooled; for single-label classes it is the accuracy. Undefined for an empty group."""
    return accuracy(c)


def micro_recall(c: ClassConfusion) -> Fraction:
    """Recall over all rows pooled; for single-label classes it is the accuracy. Undefined for an empty group."""
    return accuracy(c)


def micro_f1(c: ClassConfusion) -> Fraction:
    """F1 over all rows pooled; for single-label classes it is the accuracy. Undefined for an empty group."""
    return accuracy(c)


def weighted_precision(c: ClassConfusion) -> Values:
    """Mean precision over the classes weighted by support; a class never predicted counts as 0.

    Undefined for an empty group.
    """
    return _weighted(_ratio(c.correct, c.predicted_counts), c)


def weighted_recall(c: ClassConfusion) -> Fraction:
    """Mean recall over the classes weighted by support, which is exactly the accuracy.

    Undefined for an empty group.
    """
    return accuracy(c)


def weighted_f1(c: ClassConfusion) -> Values:
    """Mean F1 over the classes weighted by support; undefined for an empty group."""
    return _weighted(_f1_per_class(c), c)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Per-class ratio with 0 where the denominator is 0 (those classes drop out of the averages)."""
    return np.divide(numerator, denominator, out=np.zeros(np.shape(numerator)), where=denominator > 0)


def _f1_per_class(c: ClassConfusion) -> np.ndarray:
    """2·TP / (labels + predictions) per class, 0 for a class neither a label nor predicted."""
    return _ratio(2.0 * c.correct, c.true_counts + c.predicted_counts)


def _macro(per_class: np.ndarray, c: ClassConfusion) -> Values:
    """Mean over the classes that occur in the labels or the predictions (per class 0 elsewhere)."""
    present = ((c.true_counts + c.predicted_counts) > 0).sum(axis=-1)
    return divide(per_class.sum(axis=-1), present, undefined=EMPTY)


def _weighted(per_class: np.ndarray, c: ClassConfusion) -> Values:
    """Support-weighted mean over the classes."""
    return divide((per_class * c.true_counts).sum(axis=-1), c.n, undefined=EMPTY)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over classes of a · b, in float64."""
    return np.einsum("...k,...k->...", a.astype(np.float64), b.astype(np.float64))


# Metrics of the probabilities ---------------------------------------------------------------------


def _class_aucs(s: ClassScores) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest AUC and positives per class, shape (K, groups); NaN where a class lacks a side."""
    positives = np.stack([ovr.n_pos for ovr in s.one_vs_rest]).astype(np.float64)
    pairs = positives * np.stack([ovr.n_neg for ovr in s.one_vs_rest])
    sums = np.stack([ovr.auc_sum for ovr in s.one_vs_rest])
    auc = np.divide(sums, pairs, out=np.full(pairs.shape, np.nan), where=pairs > 0)
    return auc, positives


def roc_auc_macro(s: ClassScores) -> Values:
    """Mean over classes of the one-vs-rest ROC AUC (tied scores count one half).

    Undefined for an empty group and where any class has no rows in the group (scikit-learn
    gives NaN there: that class's AUC has no positives).
    """
    auc, _ = _class_aucs(s)
    every_class = np.isfinite(auc).all(axis=0)
    total = np.where(every_class, auc, 0.0).sum(axis=0)
    values = divide(total, every_class * auc.shape[0], undefined=MISSING_CLASS)
    return empty_is_no_rows(values, s.n)


def roc_auc_weighted(s: ClassScores) -> Values:
    """Support-weighted mean of the one-vs-rest ROC AUC over the classes present in the group.

    Classes without rows have weight 0 and drop out, as in scikit-learn. Undefined for an empty
    group and where the group has only one class (that class has no negatives).
    """
    auc, positives = _class_aucs(s)
    present = positives > 0
    total = np.where(present, auc * positives, 0.0).sum(axis=0)  # with two classes present, each has negatives
    values = divide(total, np.where(present.sum(axis=0) >= 2, s.n, 0), undefined=ONE_CLASS)
    return empty_is_no_rows(values, s.n)


def log_loss(s: ClassScores) -> Values:
    """Mean −log of the label's probability (natural log, clipped to machine epsilon, rows not renormalized).

    Undefined for an empty group.
    """
    return divide(s.log_loss_sum, s.n, undefined=EMPTY)


def top_k_accuracy(k: int) -> Callable[[ClassScores], Fraction]:
    """The top-k accuracy for one k, as a metric function of `ClassScores`."""

    def compute(s: ClassScores) -> Fraction:
        return Fraction(s.top_k_hits[k], s.n, EMPTY)

    compute.__name__ = compute.__qualname__ = f"top_{k}_accuracy"
    compute.__doc__ = (
        f"Share of rows whose label is among the {k} most probable classes; undefined for an empty group.\n\n"
        "Equal probabilities are ordered as scikit-learn orders them: the higher class code first\n"
        "(with two classes: class 1 where its probability is above 0.5)."
    )
    return compute


def _log_loss_interval(s: ClassScores, value: np.ndarray, level: float) -> Bounds:
    """Log-scale t interval of the mean per-row log loss."""
    return intervals.mean_interval(s.log_loss_sum, s.log_loss_sq, s.n, level)


METRICS: tuple[Metric, ...] = (
    Metric("count", "Count", "confusion", count, None, None),
    Metric("accuracy", "Accuracy", "confusion", accuracy, "wilson", True),
    Metric("balanced_accuracy", "Balanced accuracy", "confusion", balanced_accuracy, BAYESIAN_BOOTSTRAP, True),
    Metric("cohen_kappa", "Cohen's kappa", "confusion", cohen_kappa, BAYESIAN_BOOTSTRAP, True),
    Metric("mcc", "MCC", "confusion", mcc, BAYESIAN_BOOTSTRAP, True),
    Metric("macro_precision", "Macro precision", "confusion", macro_precision, BAYESIAN_BOOTSTRAP, True),
    Metric("macro_recall", "Macro recall", "confusion", macro_recall, BAYESIAN_BOOTSTRAP, True),
    Metric("macro_f1", "Macro F1", "confusion", macro_f1, BAYESIAN_BOOTSTRAP, True),
    Metric("micro_precision", "Micro precision", "confusion", micro_precision, "wilson", True),
    Metric("micro_recall", "Micro recall", "confusion", micro_recall, "wilson", True),
    Metric("micro_f1", "Micro F1", "confusion", micro_f1, "wilson", True),
    Metric("weighted_precision", "Weighted precision", "confusion", weighted_precision, BAYESIAN_BOOTSTRAP, True),
    Metric("weighted_recall", "Weighted recall", "confusion", weighted_recall, "wilson", True),
    Metric("weighted_f1", "Weighted F1", "confusion", weighted_f1, BAYESIAN_BOOTSTRAP, True),
)
"""The metrics of labels and predictions alone."""

SCORE_METRICS: tuple[Metric, ...] = (
    Metric("roc_auc_macro", "ROC AUC (OvR, macro)", "scores", roc_auc_macro, None, True),
    Metric("roc_auc_weighted", "ROC AUC (OvR, weighted)", "scores", roc_auc_weighted, None, True),
    Metric("log_loss", "Log loss", "scores", log_loss, LOG_T, False, _log_loss_interval),
)


def _smallest_class(s: ClassScores) -> Support:
    """The fewest rows on either side of any class's one-vs-rest split: the support of the macro ROC AUC."""
    sides = [np.minimum(ovr.n_pos, ovr.n_neg) for ovr in s.one_vs_rest]
    return Support(np.min(sides, axis=0).astype(np.int64), SMALLEST_CLASS)


SCORE_METRICS = with_supports(SCORE_METRICS, {"roc_auc_macro": _smallest_class})
"""The metrics of the probabilities, before the top-k accuracies; every metric but the macro ROC AUC counts rows."""


def registry(n_classes: int, top_k: tuple[int, ...], has_probabilities: bool) -> tuple[Metric, ...]:
    """The task's metrics: `METRICS`, then with probabilities `SCORE_METRICS` and one top-k accuracy per k.

    Parameters
    ----------
    n_classes : int
        Number of classes; each k of `top_k` must be below it.
    top_k : tuple of int
        The k of the top-k accuracies (named ``top_{k}_accuracy``).
    has_probabilities : bool
        Whether class probabilities were given; without them there are no score metrics.

    Examples
    --------
    >>> [m.name for m in registry(5, (3,), True)][-4:]
    ['roc_auc_macro', 'roc_auc_weighted', 'log_loss', 'top_3_accuracy']
    >>> len(registry(5, (3,), False)) == len(METRICS)
    True
    """
    if not has_probabilities:
        return METRICS
    assert all(1 <= k < n_classes for k in top_k), f"top_k {top_k} must lie in [1, {n_classes})"
    top = tuple(
        Metric(f"top_{k}_accuracy", f"Top-{k} accuracy", "scores", top_k_accuracy(k), "wilson", True) for k in top_k
    )
    return METRICS + SCORE_METRICS + top


# Per-class metrics, on `MulticlassStats.one_vs_rest(k)` -------------------------------------------


def support(c: Confusion) -> Values:
    """Rows labelled with the class; always defined."""
    return count_values(c.tp + c.fn)


def class_precision(c: Confusion) -> Fraction:
    """Of the rows predicted as the class, the share labelled with it; undefined where it is never predicted."""
    return Fraction(c.tp, c.tp + c.fp, CLASS_NOT_PREDICTED, PREDICTED_AS_CLASS)


def class_recall(c: Confusion) -> Fraction:
    """Of the rows labelled with the class, the share predicted as it; undefined without such rows."""
    return Fraction(c.tp, c.tp + c.fn, CLASS_ABSENT, CLASS_ROWS)


def class_f1(c: Confusion) -> Values:
    """2·TP / (2·TP + FP + FN) of the class; undefined where it is neither a label nor predicted."""
    values = divide(2 * c.tp, 2 * c.tp + c.fp + c.fn, undefined=CLASS_UNSEEN)
    return empty_is_no_rows(values, c.n)


def class_roc_auc(s: ScoreStats) -> Values:
    """ROC AUC of the class's probability, the class against the rest; tied scores count one half.

    Undefined for an empty group, where the class has no rows, and where every row is of the class.
    """
    pairs = s.n_pos * s.n_neg.astype(np.float64)
    value = np.divide(s.auc_sum, pairs, out=np.full(pairs.shape, np.nan), where=pairs > 0)
    reason = np.where(s.n_neg == 0, CLASS_ONLY, None).astype(object)
    reason = np.where(s.n_pos == 0, CLASS_ABSENT, reason)
    reason = np.where(s.n == 0, EMPTY, reason)
    return Values(value=value, reason=np.where(pairs > 0, None, reason).astype(object))


def _auc_score(s: ScoreStats, auc: np.ndarray, level: float) -> Bounds:
    """Score interval of the one-vs-rest AUC (`intervals.auc_score`)."""
    return intervals.auc_score(s, auc, level)


CLASS_METRICS: tuple[Metric, ...] = (
    Metric("support", "Support", "confusion", support, None, None),
    Metric("precision", "Precision", "confusion", class_precision, "wilson", True),
    Metric("recall", "Recall", "confusion", class_recall, "wilson", True),
    Metric("f1", "F1", "confusion", class_f1, BAYESIAN_BOOTSTRAP, True),
    Metric("roc_auc", "ROC AUC (one-vs-rest)", "scores", class_roc_auc, AUC_SCORE, True, _auc_score),
)


def _class_rows(c: Confusion) -> Support:
    """The rows labelled with the class: the support of its F1."""
    return Support(c.tp + c.fn, CLASS_ROWS)


CLASS_METRICS = with_supports(CLASS_METRICS, {"f1": _class_rows, "roc_auc": smaller_class})
"""Per-class metrics, each computed on one class's one-vs-rest `BinaryStats`; their supports count the class's
rows (recall, F1), the rows predicted as it (precision), the smaller side (ROC AUC)."""


def class_metrics(has_probabilities: bool) -> tuple[Metric, ...]:
    """The per-class metrics: support, precision, recall, F1, and with probabilities ROC AUC.

    Examples
    --------
    >>> [m.name for m in class_metrics(False)]
    ['support', 'precision', 'recall', 'f1']
    """
    return CLASS_METRICS if has_probabilities else tuple(m for m in CLASS_METRICS if m.source != "scores")
