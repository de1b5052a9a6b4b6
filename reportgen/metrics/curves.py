"""Small, fixed-size curve data for charts: whatever the row count, a few hundred points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics.statistics import Rows

MAX_POINTS = 200


@dataclass(frozen=True)
class Curve:
    """Points of a curve, x and y of equal length, rounded to 4 decimals."""

    x: list[float]
    y: list[float]


@dataclass(frozen=True)
class ThresholdChoice:
    """Decision thresholds that maximize F1 and Youden's J (TPR − FPR), predicting positive at score ≥ threshold.

    Candidates are the distinct scores; on ties of the criterion the highest threshold wins.
    Fields are None when the data has one class.
    """

    f1_threshold: float | None
    f1: float | None
    youden_threshold: float | None
    youden_j: float | None


@dataclass(frozen=True)
class ScoreHistogram:
    """Counts of scores per uniform bin, separately for each class."""

    edges: list[float]
    positives: list[int]
    negatives: list[int]


def _vertices(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative true and false positives at each distinct score, from the highest score down."""
    run_pos, run_neg = rows.score_runs
    return np.r_[0, np.cumsum(run_pos[::-1])], np.r_[0, np.cumsum(run_neg[::-1])]


def _thin(x: np.ndarray, y: np.ndarray) -> Curve:
    keep = np.unique(np.linspace(0, len(x) - 1, min(len(x), MAX_POINTS)).round().astype(int))
    return Curve(x=np.round(x[keep], 4).tolist(), y=np.round(y[keep], 4).tolist())


def roc_curve(rows: Rows) -> Curve | None:
    """ROC curve (x: false positive rate, y: true positive rate); None with one class."""
    tps, fps = _vertices(rows)
    if tps[-1] == 0 or fps[-1] == 0:
        return None
    return _thin(fps / fps[-1], tps / tps[-1])


def precision_recall_curve(rows: Rows) -> Curve | None:
    """Precision-recall curve (x: recall, y: precision); None without positives."""
    tps, fps = _vertices(rows)
    if tps[-1] == 0:
        return None
    tps, fps = tps[1:], fps[1:]
    return _thin(np.r_[0.0, tps / tps[-1]], np.r_[1.0, tps / (tps + fps)])


def best_thresholds(rows: Rows) -> ThresholdChoice:
    """The thresholds that maximize F1 and Youden's J over the distinct scores (see `ThresholdChoice`)."""
    tps, fps = _vertices(rows)
    positives, negatives = tps[-1], fps[-1]
    if positives == 0 or negatives == 0:
        return ThresholdChoice(None, None, None, None)
    # vertex i (i ≥ 1) predicts positive the rows scored at or above the i-th highest distinct score
    distinct = rows.scores[rows.order][np.flatnonzero(np.diff(rows.ranking.sorted_ranks, prepend=-1))][::-1]
    tps, fps = tps[1:], fps[1:]
    f1 = 2 * tps / (tps + fps + positives)
    youden = tps / positives - fps / negatives
    best_f1, best_j = int(np.argmax(f1)), int(np.argmax(youden))  # first maximum: the highest threshold
    return ThresholdChoice(
        f1_threshold=float(distinct[best_f1]), f1=float(f1[best_f1]),
        youden_threshold=float(distinct[best_j]), youden_j=float(youden[best_j]),
    )


def score_histogram(rows: Rows, n_bins: int = 20) -> ScoreHistogram:
    """Score counts in `n_bins` uniform bins over [0, 1], by class."""
    index = np.minimum((rows.scores * n_bins).astype(np.int64), n_bins - 1)
    key = index * 2 + rows.y_true
    counts = np.bincount(key, minlength=2 * n_bins).reshape(n_bins, 2)
    return ScoreHistogram(
        edges=np.round(np.linspace(0, 1, n_bins + 1), 4).tolist(),
        positives=counts[:, 1].astype(int).tolist(),
        negatives=counts[:, 0].astype(int).tolist(),
    )
