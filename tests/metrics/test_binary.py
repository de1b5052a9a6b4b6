"""The undefined policy of each registry metric, on hand-made confusion counts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.metrics.binary import BY_NAME, METRICS
from reportgen.metrics.intervals import AUC_SCORE, BAYESIAN_BOOTSTRAP, LOG_T
from reportgen.metrics.statistics import Confusion


def _values(name: str, tp: int, fp: int, tn: int, fn: int):
    c = Confusion(tp=np.array([tp]), fp=np.array([fp]), tn=np.array([tn]), fn=np.array([fn]))
    values = BY_NAME[name].values(c)
    return float(values.value[0]), values.reason[0]


def test_registry_names_are_unique_and_complete():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    assert set(BY_NAME) == set(names)
    for metric in METRICS:
        assert metric.source in ("confusion", "scores")
        assert metric.interval in (None, "wilson", BAYESIAN_BOOTSTRAP, AUC_SCORE, LOG_T)
        assert metric.compute.__doc__, metric.name  # every metric says when it is undefined
        if metric.interval in (AUC_SCORE, LOG_T):
            assert metric.confidence is not None


@pytest.mark.parametrize(
    ("name", "cells", "reason"),
    [
        ("precision", (0, 0, 5, 3), "no predicted positives in this group"),
        ("recall", (0, 2, 5, 0), "no positive labels in this group"),
        ("fnr", (0, 2, 5, 0), "no positive labels in this group"),
        ("specificity", (3, 0, 0, 2), "no negative labels in this group"),
        ("fpr", (3, 0, 0, 2), "no negative labels in this group"),
        ("f1", (0, 0, 7, 0), "no positive labels and no predicted positives"),
        ("mcc", (3, 2, 0, 0), "labels or predictions are all one class"),  # all predicted positive
        ("mcc", (3, 0, 0, 2), "labels or predictions are all one class"),  # all labels positive
        ("accuracy", (0, 0, 0, 0), "no rows in this group"),
        ("prevalence", (0, 0, 0, 0), "no rows in this group"),
        ("selection_rate", (0, 0, 0, 0), "no rows in this group"),
        ("balanced_accuracy", (0, 0, 0, 0), "no rows in this group"),
        ("mcc", (0, 0, 0, 0), "no rows in this group"),
    ],
)
def test_undefined_is_nan_with_a_reason(name, cells, reason):
    value, why = _values(name, *cells)
    assert math.isnan(value)
    assert why == reason


@pytest.mark.parametrize(
    ("name", "cells", "expected"),
    [
        ("precision", (3, 1, 0, 0), 0.75),
        ("recall", (0, 0, 4, 2), 0.0),  # 0 is a value when defined
        ("f1", (0, 2, 3, 1), 0.0),
        ("mcc", (2, 0, 2, 0), 1.0),
        ("mcc", (0, 2, 0, 2), -1.0),
        ("balanced_accuracy", (0, 1, 3, 0), 0.75),  # one class present: that class's recall
        ("balanced_accuracy", (2, 1, 3, 2), (0.5 + 0.75) / 2),
        ("count", (0, 0, 0, 0), 0.0),
    ],
)
def test_defined_values(name, cells, expected):
    value, why = _values(name, *cells)
    assert value == pytest.approx(expected)
    assert why is None


def test_vectorized_over_groups_and_resamples():
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 4, size=(7, 5, 4))
    c = Confusion.from_cells(cells)
    for metric in METRICS:
        if metric.source != "confusion":
            continue
        together = metric.values(c).value
        assert together.shape == (7, 5)
        for i in range(7):
            one = metric.values(Confusion.from_cells(cells[i])).value
            np.testing.assert_array_equal(together[i], one, err_msg=metric.name)
