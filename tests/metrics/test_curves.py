"""Chart data against scikit-learn's curves and direct bin counts."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from reportgen.metrics import curves
from reportgen.metrics.statistics import Rows


def _rows(n: int, seed: int = 0, values: int | None = 25) -> Rows:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    scores = rng.random(n) if values is None else rng.integers(0, values + 1, n) / values
    return Rows.prepare(y, (scores >= 0.5).astype(np.int8), scores)


def test_roc_curve_equals_sklearn():
    rows = _rows(300)
    curve = curves.roc_curve(rows)
    fpr, tpr, _ = skm.roc_curve(rows.y_true, rows.scores, drop_intermediate=False)
    assert curve.x == pytest.approx(np.round(fpr, 4).tolist())
    assert curve.y == pytest.approx(np.round(tpr, 4).tolist())


def test_precision_recall_curve_equals_sklearn():
    rows = _rows(300)
    curve = curves.precision_recall_curve(rows)
    precision, recall, _ = skm.precision_recall_curve(rows.y_true, rows.scores)
    expected = sorted(zip(np.round(recall, 4), np.round(precision, 4), strict=True))
    # pytest >= 9.2's approx refuses a list of pairs: compare them as one array
    np.testing.assert_allclose(np.array(sorted(zip(curve.x, curve.y, strict=True))), np.array(expected),
                               rtol=1e-6, atol=1e-12)


def test_curves_are_downsampled():
    rows = _rows(5000, values=None)
    roc = curves.roc_curve(rows)
    assert len(roc.x) <= curves.MAX_POINTS and roc.x[0] == 0 and roc.x[-1] == 1 and roc.y[-1] == 1
    assert np.all(np.diff(roc.x) >= 0) and np.all(np.diff(roc.y) >= 0)


def test_curves_undefined_with_one_class():
    rows = Rows.prepare(np.zeros(5, np.int8), np.zeros(5, np.int8), np.linspace(0, 1, 5))
    assert curves.roc_curve(rows) is None
    assert curves.precision_recall_curve(rows) is None


def test_score_histogram_counts():
    rows = _rows(400, values=None)
    hist = curves.score_histogram(rows, n_bins=20)
    positives, _ = np.histogram(rows.scores[rows.y_true == 1], bins=20, range=(0, 1))
    negatives, _ = np.histogram(rows.scores[rows.y_true == 0], bins=20, range=(0, 1))
    assert hist.positives == positives.tolist() and hist.negatives == negatives.tolist()
    assert hist.edges == pytest.approx(np.linspace(0, 1, 21).tolist())


@pytest.mark.parametrize("values", [None, 10])
def test_best_thresholds_equal_a_search_with_sklearn(values):
    rows = _rows(400, seed=3, values=values)
    choice = curves.best_thresholds(rows)
    candidates = np.unique(rows.scores)[::-1]  # highest first: ties of the criterion go to the highest threshold
    f1 = [skm.f1_score(rows.y_true, rows.scores >= t, zero_division=0) for t in candidates]
    fpr, tpr, thresholds = skm.roc_curve(rows.y_true, rows.scores, drop_intermediate=False)
    best = int(np.argmax(tpr - fpr))
    assert choice.f1_threshold == candidates[int(np.argmax(f1))]
    assert choice.f1 == pytest.approx(max(f1), abs=1e-12)
    assert choice.youden_threshold == thresholds[best]
    assert choice.youden_j == pytest.approx((tpr - fpr)[best], abs=1e-12)


def test_best_thresholds_are_undefined_with_one_class():
    rows = Rows.prepare(np.ones(5, np.int8), np.ones(5, np.int8), np.linspace(0, 1, 5))
    assert curves.best_thresholds(rows) == curves.ThresholdChoice(None, None, None, None)
