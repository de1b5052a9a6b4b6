"""`metric_frame`: the tidy table's shape, and its values from the low-level API against scikit-learn."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm

from reportgen.metrics.binary import METRICS, group_stats
from reportgen.metrics.statistics import Rows
from reportgen.metrics.table import COLUMNS, metric_frame


def _stats(seed: int = 0, n: int = 200, n_groups: int = 3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    scores = rng.integers(0, 11, n) / 10
    y_pred = rng.integers(0, 2, n).astype(np.int8)
    codes = rng.integers(-1, n_groups, n)  # -1: rows in no group
    rows = Rows.prepare(y, y_pred, scores)
    return rows, codes, group_stats(codes, rows, n_groups)


def test_columns_and_one_row_per_group_and_metric():
    _, _, stats = _stats()
    table = metric_frame("fam", ["a", "b", "c"], stats, METRICS, level=None)
    assert list(table.columns) == COLUMNS
    assert len(table) == 3 * len(METRICS)
    assert table.groupby(["group", "metric"]).size().eq(1).all()
    assert (table["slice"] == "fam").all()
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()  # no level: no intervals


def test_low_level_values_equal_sklearn():
    rows, codes, stats = _stats(seed=4)
    table = metric_frame("fam", ["a", "b", "c"], stats, METRICS, level=0.9, rng=np.random.default_rng(0), resamples=200)
    oracle = {
        "accuracy": lambda y, yp, p: skm.accuracy_score(y, yp),
        "f1": lambda y, yp, p: skm.f1_score(y, yp),
        "mcc": lambda y, yp, p: skm.matthews_corrcoef(y, yp),
        "roc_auc": lambda y, yp, p: skm.roc_auc_score(y, p),
        "average_precision": lambda y, yp, p: skm.average_precision_score(y, p),
        "log_loss": lambda y, yp, p: skm.log_loss(y, p, labels=[0, 1]),
    }
    for group, label in enumerate(["a", "b", "c"]):
        mask = codes == group
        rows_of = table[table.group == label].set_index("metric")
        assert (rows_of["n"] == mask.sum()).all()
        for name, function in oracle.items():
            expected = function(rows.y_true[mask], rows.y_pred[mask], rows.scores[mask])
            assert rows_of.loc[name, "value"] == pytest.approx(expected, abs=1e-9), (label, name)
            low, value, high = rows_of.loc[name, ["ci_low", "value", "ci_high"]]
            if name != "average_precision":  # the one metric without an interval
                assert low <= value <= high


def test_undefined_reason_is_none_not_nan_where_defined():
    _, _, stats = _stats()
    table = metric_frame("fam", ["a", "b", "c"], stats, METRICS, level=None)
    defined = table["value"].notna()
    assert all(reason is None for reason in table.loc[defined, "undefined_reason"])


def test_no_warnings_for_undefined_metrics():
    rows = Rows.prepare(np.array([1, 1], np.int8), np.array([0, 0], np.int8), np.array([0.5, 0.5]))
    stats = group_stats(np.array([0, 0]), rows, 2)  # group 1 is empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = metric_frame("fam", ["a", "b"], stats, METRICS, level=0.95, rng=np.random.default_rng(0), resamples=100)
    empty = table[table.group == "b"]
    assert empty.loc[empty.metric != "count", "value"].isna().all()
