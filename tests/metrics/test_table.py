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


# ---------------------------------------------------------------------------------------------- support

BINARY_SUPPORT = {  # what each binary metric's support counts, by the confusion matrix's cells
    "recall": ("positives", lambda tn, fp, fn, tp: tp + fn),
    "fnr": ("positives", lambda tn, fp, fn, tp: tp + fn),
    "average_precision": ("positives", lambda tn, fp, fn, tp: tp + fn),
    "specificity": ("negatives", lambda tn, fp, fn, tp: tn + fp),
    "fpr": ("negatives", lambda tn, fp, fn, tp: tn + fp),
    "precision": ("predicted positives", lambda tn, fp, fn, tp: tp + fp),
    "roc_auc": ("rows of the smaller class", lambda tn, fp, fn, tp: min(tp + fn, tn + fp)),
}


def test_binary_support_counts_each_metrics_denominator_against_sklearn():
    rows, codes, stats = _stats(n=300)
    table = metric_frame("fam", ["a", "b", "c"], stats, METRICS, level=None)
    for g, label in enumerate(["a", "b", "c"]):
        inside = codes == g
        cells = skm.confusion_matrix(rows.y_true[inside], rows.y_pred[inside], labels=[0, 1]).ravel()
        for metric in METRICS:
            row = table[(table["group"] == label) & (table["metric"] == metric.name)].iloc[0]
            unit, count = BINARY_SUPPORT.get(metric.name, ("rows", lambda *c: sum(c)))
            assert (row["support"], row["support_unit"]) == (count(*cells), unit), metric.name
            assert row["n"] == inside.sum()


def test_many_rows_few_positives_has_a_small_recall_support_but_not_accuracy():
    y = np.r_[np.ones(6), np.zeros(185)].astype(np.int8)  # 191 rows, 6 positives
    y_pred = np.r_[1, 1, 1, 0, 0, 0, np.zeros(185)].astype(np.int8)
    rows = Rows.prepare(y, y_pred, y_pred.astype(np.float64))
    stats = group_stats(np.zeros(191, dtype=np.int64), rows, 1)
    table = metric_frame("fam", ["small"], stats, METRICS, level=None).set_index("metric")
    assert table.loc["recall", ["value", "support", "support_unit"]].tolist() == [0.5, 6, "positives"]
    assert table.loc["accuracy", ["support", "support_unit"]].tolist() == [191, "rows"]
    assert table.loc["specificity", ["support", "support_unit"]].tolist() == [185, "negatives"]


def test_multiclass_per_class_support_counts_the_class_rows_and_predictions():
    from reportgen.metrics import multiclass

    rng = np.random.default_rng(3)
    n, k = 400, 3
    y = rng.choice(k, n, p=[0.8, 0.15, 0.05])
    y_pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    p = rng.dirichlet(np.ones(k), n)
    codes = rng.integers(0, 2, n)
    rows = multiclass.ClassRows.prepare(y, y_pred, p, k)
    stats = multiclass.group_stats(codes, rows, 2)
    overall = metric_frame("fam", ["a", "b"], stats, multiclass.registry(k, (), True), level=None)
    for g in range(2):
        inside = codes == g
        matrix = skm.confusion_matrix(y[inside], y_pred[inside], labels=list(range(k)))
        per_group = overall[overall["group"] == ["a", "b"][g]].set_index("metric")
        assert per_group.loc["accuracy", "support"] == inside.sum()
        smallest = min(min(c, inside.sum() - c) for c in matrix.sum(axis=1))
        assert per_group.loc["roc_auc_macro", ["support", "support_unit"]].tolist() == [
            smallest, "rows of the smallest class"]
        for c in range(k):
            table = metric_frame("fam", ["a", "b"], stats.one_vs_rest(c), multiclass.class_metrics(True), level=None)
            of_class = table[table["group"] == ["a", "b"][g]].set_index("metric")
            labelled, predicted = matrix[c].sum(), matrix[:, c].sum()
            assert of_class.loc["recall", ["support", "support_unit"]].tolist() == [labelled, "rows of the class"]
            assert of_class.loc["f1", ["support", "support_unit"]].tolist() == [labelled, "rows of the class"]
            assert of_class.loc["precision", ["support", "support_unit"]].tolist() == [
                predicted, "rows predicted as the class"]
            assert of_class.loc["roc_auc", "support"] == min(labelled, inside.sum() - labelled)


def test_regression_support_counts_rows_and_mape_the_nonzero_targets():
    from reportgen.metrics import regression

    y = np.array([0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 5.0])
    rows = regression.ErrorRows.prepare(y, y + 0.5)
    codes = np.array([0, 0, 0, 1, 1, 1, 1])
    stats = regression.group_stats(codes, rows, 2)
    table = metric_frame("fam", ["a", "b"], stats, regression.METRICS, level=None)
    mape = table[table["metric"] == "mape"]
    assert mape["support"].tolist() == [1, 3] and set(mape["support_unit"]) == {"rows with a nonzero target"}
    mae = table[table["metric"] == "mae"]
    assert mae["support"].tolist() == [3, 4] and set(mae["support_unit"]) == {"rows"}
