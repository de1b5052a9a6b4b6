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


@dataclass(frozen=True)
class _Vertices:
    """Cumulative true and false positives (int64) at each distinct score, from the highest score down, after a
    first vertex (0, 0); `first`: for each distinct score, highest first, the position in ascending score order
    of its first row."""

    tps: np.ndarray
    fps: np.ndarray
    first: np.ndarray | None  # None: every score distinct, so distinct score i (highest first) is row n - 1 - i


def _vertices(rows: Rows) -> _Vertices:
    ranking = rows.ranking
    n_rows = len(ranking.sorted_ranks)
    tps = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(ranking.sorted_y_true[::-1], out=tps[1:])  # positives among the rows scored highest, one row at a time
    if ranking.n_scores == n_rows:
        fps = np.arange(n_rows + 1, dtype=np.int64)
        fps -= tps
        return _Vertices(tps, fps, None)
    first = np.flatnonzero(np.diff(ranking.sorted_ranks, prepend=-1))[::-1]
    seen = np.r_[0, n_rows - first]  # rows scored at or above each distinct score
    tps = tps[seen]
    return _Vertices(tps, seen - tps, first)


def thinned(n_points: int) -> np.ndarray:
    """The vertices a curve of `n_points` is drawn at: at most `MAX_POINTS`, evenly spaced, first and last kept."""
    return np.unique(np.linspace(0, n_points - 1, min(n_points, MAX_POINTS)).round().astype(int))


def roc_points(tps: np.ndarray, fps: np.ndarray, positives: float, negatives: float) -> Curve:
    """ROC curve through vertices with these cumulative true and false positives."""
    return Curve(x=np.round(fps / negatives, 4).tolist(), y=np.round(tps / positives, 4).tolist())


def precision_recall_points(at: np.ndarray, tps: np.ndarray, fps: np.ndarray, positives: float) -> Curve:
    """Precision-recall curve through vertices `at` with these cumulative counts; vertex 0 is (0, 1)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(at == 0, 0.0, tps / positives)
        precision = np.where(at == 0, 1.0, tps / (tps + fps))
    return Curve(x=np.round(recall, 4).tolist(), y=np.round(precision, 4).tolist())


def roc_curve(rows: Rows) -> Curve | None:
    """ROC curve (x: false positive rate, y: true positive rate); None with one class."""
    v = _vertices(rows)
    if v.tps[-1] == 0 or v.fps[-1] == 0:
        return None
    at = thinned(len(v.tps))
    return roc_points(v.tps[at], v.fps[at], v.tps[-1], v.fps[-1])


def precision_recall_curve(rows: Rows) -> Curve | None:
    """Precision-recall curve (x: recall, y: precision); None without positives.

    Point 0 is (0, 1); point i ≥ 1 is vertex i's recall and precision.
    """
    v = _vertices(rows)
    if v.tps[-1] == 0:
        return None
    at = thinned(len(v.tps))
    return precision_recall_points(at, v.tps[at], v.fps[at], v.tps[-1])


def best_thresholds(rows: Rows) -> ThresholdChoice:
    """The thresholds that maximize F1 and Youden's J over the distinct scores (see `ThresholdChoice`)."""
    v = _vertices(rows)
    positives, negatives = v.tps[-1], v.fps[-1]
    if positives == 0 or negatives == 0:
        return ThresholdChoice(None, None, None, None)
    # vertex i (i ≥ 1) predicts positive the rows scored at or above the i-th highest distinct score
    tps, fps = v.tps[1:], v.fps[1:]
    f1 = 2 * tps / (tps + fps + positives)
    youden = tps / positives - fps / negatives
    best_f1, best_j = int(np.argmax(f1)), int(np.argmax(youden))  # first maximum: the highest threshold

    def threshold(i: int) -> float:
        position = len(rows.order) - 1 - i if v.first is None else v.first[i]
        return float(rows.scores[rows.order[position]])

    return ThresholdChoice(
        f1_threshold=threshold(best_f1), f1=float(f1[best_f1]),
        youden_threshold=threshold(best_j), youden_j=float(youden[best_j]),
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
