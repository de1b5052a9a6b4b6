"""Binary-classification metrics: each a pure function of per-group statistics, in one registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reportgen.metrics import intervals
from reportgen.metrics.intervals import AUC_SCORE, BAYESIAN_BOOTSTRAP, LOG_T
from reportgen.metrics.metric import (
    NEGATIVES,
    POSITIVES,
    PREDICTED_POSITIVES,
    Bounds,
    Fraction,
    Metric,
    count_values,
    positives,
    smaller_class,
    with_supports,
)
from reportgen.metrics.statistics import (
    Confusion,
    Rows,
    ScoreStats,
    confusion,
    score_stats,
)
from reportgen.metrics.values import EMPTY, Values, divide, empty_is_no_rows

NO_POSITIVES = "no positive labels in this group"
NO_NEGATIVES = "no negative labels in this group"
ONE_CLASS = "only one class in this group"


def prevalence(c: Confusion) -> Fraction:
    """Share of positive labels; undefined for an empty group."""
    return Fraction(c.tp + c.fn, c.n, EMPTY)


def accuracy(c: Confusion) -> Fraction:
    """Share of correct predictions; undefined for an empty group."""
    return Fraction(c.tp + c.tn, c.n, EMPTY)


def precision(c: Confusion) -> Fraction:
    """TP / (TP + FP); undefined when nothing is predicted positive."""
    return Fraction(c.tp, c.tp + c.fp, "no predicted positives in this group", PREDICTED_POSITIVES)


def recall(c: Confusion) -> Fraction:
    """True positive rate TP / (TP + FN); undefined without positive labels."""
    return Fraction(c.tp, c.tp + c.fn, NO_POSITIVES, POSITIVES)


def specificity(c: Confusion) -> Fraction:
    """True negative rate TN / (TN + FP); undefined without negative labels."""
    return Fraction(c.tn, c.tn + c.fp, NO_NEGATIVES, NEGATIVES)


def fpr(c: Confusion) -> Fraction:
    """False positive rate FP / (FP + TN); undefined without negative labels."""
    return Fraction(c.fp, c.fp + c.tn, NO_NEGATIVES, NEGATIVES)


def fnr(c: Confusion) -> Fraction:
    """False negative rate FN / (FN + TP); undefined without positive labels."""
    return Fraction(c.fn, c.fn + c.tp, NO_POSITIVES, POSITIVES)


def selection_rate(c: Confusion) -> Fraction:
    """Share predicted positive; undefined for an empty group."""
    return Fraction(c.tp + c.fp, c.n, EMPTY)


def balanced_accuracy(c: Confusion) -> Values:
    """Mean recall over the classes present, as scikit-learn; undefined for an empty group.

    A group with one class gets that class's recall (scikit-learn averages the classes that occur).
    """
    tpr = recall(c).values().value
    tnr = specificity(c).values().value
    present = np.isfinite(tpr).astype(np.float64) + np.isfinite(tnr)
    total = np.nan_to_num(tpr) + np.nan_to_num(tnr)
    return divide(total, present, undefined=EMPTY)


def f1(c: Confusion) -> Values:
    """2·TP / (2·TP + FP + FN); undefined when there are no positive labels and no predicted positives."""
    return divide(2 * c.tp, 2 * c.tp + c.fp + c.fn, undefined="no positive labels and no predicted positives")


def mcc(c: Confusion) -> Values:
    """Matthews correlation coefficient; undefined when labels or predictions are all one class.

    scikit-learn returns 0 there; 0/0 is undefined, so reportgen says so instead.
    """
    tp, fp, tn, fn = (np.asarray(a, dtype=np.float64) for a in (c.tp, c.fp, c.tn, c.fn))
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    values = divide(tp * tn - fp * fn, denominator, undefined="labels or predictions are all one class")
    return empty_is_no_rows(values, c.n)


def roc_auc(s: ScoreStats) -> Values:
    """Area under the ROC curve; tied scores count one half (Mann-Whitney U); undefined with one class."""
    values = divide(s.auc_sum, s.n_pos * s.n_neg.astype(np.float64), undefined=ONE_CLASS)
    return empty_is_no_rows(values, s.n)


def average_precision(s: ScoreStats) -> Values:
    """Step-wise area under the precision-recall curve, as scikit-learn; undefined without positives."""
    values = divide(s.ap_sum, s.n_pos, undefined=NO_POSITIVES)
    return empty_is_no_rows(values, s.n)


def log_loss(s: ScoreStats) -> Values:
    """Mean negative log-likelihood (natural log, probabilities clipped to machine epsilon)."""
    return divide(s.log_loss_sum, s.n, undefined=EMPTY)


def brier(s: ScoreStats) -> Values:
    """Mean squared difference between score and label; undefined for an empty group."""
    return divide(s.brier_sum, s.n, undefined=EMPTY)


def count(c: Confusion) -> Values:
    """Rows in the group; always defined."""
    return count_values(c.n)


def _auc_score(s: ScoreStats, auc: np.ndarray, level: float) -> Bounds:
    return intervals.auc_score(s, auc, level)


def _mean_interval(total: str, squares: str) -> Callable[[ScoreStats, np.ndarray, float], Bounds]:
    """Log-scale t interval of a per-row mean loss whose sum and sum of squares are fields of ScoreStats."""

    def bounds(s: ScoreStats, value: np.ndarray, level: float) -> Bounds:
        return intervals.mean_interval(getattr(s, total), getattr(s, squares), s.n, level)

    return bounds


METRICS: tuple[Metric, ...] = (
    Metric("count", "Count", "confusion", count, None, None),
    Metric("prevalence", "Prevalence", "confusion", prevalence, "wilson", None),
    Metric("accuracy", "Accuracy", "confusion", accuracy, "wilson", True),
    Metric("balanced_accuracy", "Balanced accuracy", "confusion", balanced_accuracy, BAYESIAN_BOOTSTRAP, True),
    Metric("precision", "Precision", "confusion", precision, "wilson", True),
    Metric("recall", "Recall (TPR)", "confusion", recall, "wilson", True),
    Metric("specificity", "Specificity (TNR)", "confusion", specificity, "wilson", True),
    Metric("fpr", "False positive rate", "confusion", fpr, "wilson", False),
    Metric("fnr", "False negative rate", "confusion", fnr, "wilson", False),
    Metric("f1", "F1", "confusion", f1, BAYESIAN_BOOTSTRAP, True),
    Metric("mcc", "MCC", "confusion", mcc, BAYESIAN_BOOTSTRAP, True),
    Metric("selection_rate", "Selection rate", "confusion", selection_rate, "wilson", None),
    Metric("roc_auc", "ROC AUC", "scores", roc_auc, AUC_SCORE, True, _auc_score),
    Metric("average_precision", "Average precision", "scores", average_precision, None, True),
    Metric("log_loss", "Log loss", "scores", log_loss, LOG_T, False, _mean_interval("log_loss_sum", "log_loss_sq")),
    Metric("brier", "Brier score", "scores", brier, LOG_T, False, _mean_interval("brier_sum", "brier_sq")),
)

METRICS = with_supports(METRICS, {"roc_auc": smaller_class, "average_precision": positives})
"""The registry; the proportions' supports are their denominators, the rest count rows."""

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}
LABELS: dict[str, str] = {metric.name: metric.label for metric in METRICS}


@dataclass(frozen=True)
class BinaryStats:
    """Sufficient statistics of one slice family's groups for a binary task."""

    confusion: Confusion
    scores: ScoreStats

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.confusion.n


def group_stats(codes: np.ndarray, rows: Rows, n_groups: int) -> BinaryStats:
    """All sufficient statistics of a family: one bincount pass and one stable sort.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups), negative for rows in no group.
    rows : Rows
        Shared per-row arrays.
    n_groups : int
        Number of groups.
    """
    return BinaryStats(confusion(codes, rows, n_groups), score_stats(codes, rows, n_groups))
