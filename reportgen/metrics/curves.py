"""Small, fixed-size curve data for charts: whatever the row count, a few hundred points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics.intervals import wilson
from reportgen.metrics.statistics import Rows

MAX_POINTS = 200


@dataclass(frozen=True)
class Curve:
    """Points of a curve, x and y of equal length, rounded to 4 decimals."""

    x: list[float]
    y: list[float]


@dataclass(frozen=True)
class CalibrationBins:
    """Reliability diagram data on uniform score bins (empty bins left out)."""

    mean_score: list[float]
    observed: list[float]
    ci_low: list[float]
    ci_high: list[float]
    n: list[int]


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


def calibration_bins(rows: Rows, n_bins: int = 10, level: float = 0.95) -> CalibrationBins:
    """Observed positive rate against mean score in `n_bins` uniform bins, with Wilson intervals."""
    index = np.minimum((rows.scores * n_bins).astype(np.int64), n_bins - 1)
    n = np.bincount(index, minlength=n_bins)
    positives = np.bincount(index, weights=rows.y_true, minlength=n_bins)
    total = np.bincount(index, weights=rows.scores, minlength=n_bins)
    used = n > 0
    low, high = wilson(positives[used], n[used], level)
    return CalibrationBins(
        mean_score=np.round(total[used] / n[used], 4).tolist(),
        observed=np.round(positives[used] / n[used], 4).tolist(),
        ci_low=np.round(low, 4).tolist(),
        ci_high=np.round(high, 4).tolist(),
        n=n[used].astype(int).tolist(),
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
