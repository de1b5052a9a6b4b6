"""Multiclass kernels: registry, undefined policy on hand-made counts, vectorization, intervals, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reportgen.metrics import intervals
from reportgen.metrics.multiclass import (
    CLASS_METRICS,
    METRICS,
    ClassConfusion,
    ClassRows,
    ClassScores,
    class_metrics,
    group_stats,
    registry,
)
from reportgen.metrics.statistics import ScoreStats
from reportgen.metrics.table import metric_frame

EMPTY = "no rows in this group"
BY_NAME = {m.name: m for m in registry(4, (1, 3), True)}


def _confusion(matrix) -> ClassConfusion:
    return ClassConfusion(np.asarray(matrix, dtype=np.int64)[None])


def _value(name: str, matrix) -> tuple[float, object]:
    values = BY_NAME[name].values(_confusion(matrix))
    return float(values.value[0]), values.reason[0]


def _data(n: int = 300, n_classes: int = 4, n_groups: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    y_pred = np.where(rng.random(n) < 0.5, y, rng.integers(0, n_classes, n))
    weights = rng.integers(0, 4, (n, n_classes)).astype(np.float64) + 0.1 * np.eye(n_classes)[y]
    p = weights / weights.sum(axis=1, keepdims=True)
    codes = rng.integers(-1, n_groups, n)
    return y, y_pred, p, codes


def test_registry_names_labels_and_intervals():
    names = [m.name for m in registry(5, (1, 3), True)]
    assert names == [
        "count", "accuracy", "balanced_accuracy", "cohen_kappa", "mcc",
        "macro_precision", "macro_recall", "macro_f1", "micro_precision", "micro_recall", "micro_f1",
        "weighted_precision", "weighted_recall", "weighted_f1",
        "roc_auc_macro", "roc_auc_weighted", "log_loss", "top_1_accuracy", "top_3_accuracy",
    ]
    assert registry(5, (1, 3), False) == METRICS
    labels = {m.name: m.label for m in registry(5, (3,), True)}
    assert labels["macro_f1"] == "Macro F1"
    assert labels["roc_auc_macro"] == "ROC AUC (OvR, macro)"
    assert labels["top_3_accuracy"] == "Top-3 accuracy"
    for metric in registry(5, (1, 3), True):
        assert metric.source in ("confusion", "scores"), metric.name
        assert metric.compute.__doc__ and "defined" in metric.compute.__doc__, metric.name
        if metric.name in ("count", "roc_auc_macro", "roc_auc_weighted"):
            assert metric.interval is None, metric.name
        elif metric.name == "log_loss":
            assert metric.interval == intervals.LOG_T and metric.confidence is not None
        elif metric.name in ("accuracy", "weighted_recall") or metric.name.startswith(("micro_", "top_")):
            assert metric.interval == "wilson", metric.name
        else:
            assert metric.interval == intervals.BAYESIAN_BOOTSTRAP, metric.name
    assert [m.name for m in class_metrics(True)] == ["support", "precision", "recall", "f1", "roc_auc"]
    assert [m.name for m in class_metrics(False)] == ["support", "precision", "recall", "f1"]
    assert class_metrics(True) == CLASS_METRICS
    for metric in CLASS_METRICS:
        assert metric.compute.__doc__ and "defined" in metric.compute.__doc__, metric.name


# Undefined and defined values on hand-made confusion matrices ------------------------------------

ONE_SHARED = [[5, 0, 0], [0, 0, 0], [0, 0, 0]]  # every label and prediction class 0
ONE_PREDICTED = [[2, 0, 0], [3, 0, 0], [1, 0, 0]]  # labels vary, predictions all class 0
ONE_LABEL = [[2, 1, 3], [0, 0, 0], [0, 0, 0]]  # labels all class 0, predictions vary


@pytest.mark.parametrize("name", [m.name for m in METRICS if m.name != "count"])
def test_empty_group_is_undefined(name):
    value, reason = _value(name, np.zeros((3, 3)))
    assert math.isnan(value) and reason == EMPTY


@pytest.mark.parametrize(
    ("name", "matrix", "reason"),
    [
        ("cohen_kappa", ONE_SHARED, "labels and predictions are all one and the same class"),
        ("mcc", ONE_SHARED, "labels or predictions are all one class"),
        ("mcc", ONE_PREDICTED, "labels or predictions are all one class"),
        ("mcc", ONE_LABEL, "labels or predictions are all one class"),
    ],
)
def test_undefined_is_nan_with_a_reason(name, matrix, reason):
    value, why = _value(name, matrix)
    assert math.isnan(value)
    assert why == reason


@pytest.mark.parametrize(
    ("name", "matrix", "expected"),
    [
        ("count", np.zeros((3, 3)), 0.0),
        ("cohen_kappa", ONE_LABEL, 0.0),  # chance agreement below 1: defined
        ("cohen_kappa", ONE_PREDICTED, 0.0),
        ("cohen_kappa", [[2, 0], [0, 2]], 1.0),
        ("mcc", [[2, 0, 0], [0, 3, 0], [0, 0, 1]], 1.0),
        ("accuracy", ONE_SHARED, 1.0),
        ("balanced_accuracy", ONE_LABEL, 2 / 6),  # one class present: its recall
        ("balanced_accuracy", [[1, 1, 0], [0, 2, 0], [0, 0, 0]], (0.5 + 1.0) / 2),  # class 2 absent: left out
        # class 2 never predicted: its precision 0 still counts in the macro average
        ("macro_precision", [[1, 1, 0], [0, 2, 0], [1, 0, 0]], (0.5 + 2 / 3 + 0) / 3),
        # class 2 never a label nor predicted: left out of the macro average
        ("macro_recall", [[1, 1, 0], [0, 2, 0], [0, 0, 0]], (0.5 + 1.0) / 2),
        ("macro_f1", [[1, 1, 0], [0, 2, 0], [0, 0, 0]], (2 / 3 + 0.8) / 2),
        ("weighted_precision", [[1, 1, 0], [0, 2, 0], [1, 0, 0]], (2 * 0.5 + 2 * 2 / 3 + 1 * 0) / 5),
        ("weighted_recall", [[1, 1, 0], [0, 2, 0], [1, 0, 0]], 3 / 5),
        ("micro_f1", [[1, 1, 0], [0, 2, 0], [1, 0, 0]], 3 / 5),
    ],
)
def test_defined_values(name, matrix, expected):
    value, why = _value(name, matrix)
    assert value == pytest.approx(expected, abs=1e-12)
    assert why is None


def _scores(n_pos, n_neg, auc_sum, n_rows=None) -> ClassScores:
    """ClassScores with given per-class positives, negatives and AUC sums (one group)."""
    one_vs_rest = []
    for pos, neg, total in zip(n_pos, n_neg, auc_sum, strict=True):
        zero = np.zeros(1)
        one_vs_rest.append(ScoreStats(np.array([pos]), np.array([neg]), np.array([float(total)]), *([zero] * 7)))
    n = np.array([n_rows if n_rows is not None else n_pos[0] + n_neg[0]])
    return ClassScores(n, tuple(one_vs_rest), np.zeros(1), np.zeros(1), {1: np.zeros(1, dtype=np.int64)})


@pytest.mark.parametrize(
    ("name", "scores", "expected", "reason"),
    [
        ("roc_auc_macro", _scores([2, 2, 0], [2, 2, 4], [4, 2, 0]), math.nan,
         "a class has no rows in this group (one-vs-rest AUC needs every class)"),
        ("roc_auc_weighted", _scores([2, 2, 0], [2, 2, 4], [4, 2, 0]), (2 * 1.0 + 2 * 0.5) / 4, None),
        ("roc_auc_weighted", _scores([3, 0, 0], [0, 3, 3], [0, 0, 0]), math.nan, "only one class in this group"),
        ("roc_auc_macro", _scores([1, 1, 2], [3, 3, 2], [3, 0, 2]), (1.0 + 0.0 + 0.5) / 3, None),
        ("roc_auc_macro", _scores([0, 0, 0], [0, 0, 0], [0, 0, 0]), math.nan, EMPTY),
        ("roc_auc_weighted", _scores([0, 0, 0], [0, 0, 0], [0, 0, 0]), math.nan, EMPTY),
        ("log_loss", _scores([0, 0, 0], [0, 0, 0], [0, 0, 0]), math.nan, EMPTY),
        ("top_1_accuracy", _scores([0, 0, 0], [0, 0, 0], [0, 0, 0]), math.nan, EMPTY),
    ],
)
def test_score_metrics(name, scores, expected, reason):
    values = BY_NAME[name].values(scores)
    if math.isnan(expected):
        assert math.isnan(values.value[0])
    else:
        assert values.value[0] == pytest.approx(expected)
    assert values.reason[0] == reason


def test_class_metric_reasons():
    y = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 0])  # class 2 never predicted
    p = np.full((6, 4), 0.25)  # class 3: neither a label nor predicted
    codes = np.array([0, 0, 0, 0, 0, 1])  # group 1: one row, of class 2; group 2: empty
    stats = group_stats(codes, ClassRows.prepare(y, y_pred, p, 4), 3)
    by_name = {m.name: m for m in class_metrics(True)}

    def reasons(k: int, name: str) -> list:
        metric = by_name[name]
        return list(metric.values(getattr(stats.one_vs_rest(k), metric.source)).reason)

    assert reasons(2, "precision")[0] == "this class is never predicted in this group"
    assert reasons(3, "recall")[0] == "no rows of this class in this group"
    assert reasons(3, "f1") == ["this class is neither a label nor predicted in this group"] * 2 + [EMPTY]
    assert reasons(3, "roc_auc") == ["no rows of this class in this group"] * 2 + [EMPTY]
    assert reasons(2, "roc_auc")[1] == "every row in this group is of this class"
    assert reasons(0, "support") == [None] * 3
    support = by_name["support"].values(stats.one_vs_rest(2).confusion)
    assert support.value.tolist() == [1.0, 1.0, 0.0]


# Statistics ----------------------------------------------------------------------------------------


def test_confusion_cells_round_trip_and_one_vs_rest():
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, 5, (2, 3, 4, 4))
    confusion = ClassConfusion(matrix)
    assert confusion.cells().shape == (2, 3, 16)
    np.testing.assert_array_equal(ClassConfusion.from_cells(confusion.cells()).matrix, matrix)
    np.testing.assert_array_equal(confusion.n, matrix.sum(axis=(2, 3)))
    for k in range(4):
        ovr = confusion.ovr(k)
        np.testing.assert_array_equal(ovr.tp, matrix[..., k, k])
        np.testing.assert_array_equal(ovr.tp + ovr.fn, matrix[..., k, :].sum(-1))
        np.testing.assert_array_equal(ovr.tp + ovr.fp, matrix[..., :, k].sum(-1))
        np.testing.assert_array_equal(ovr.n, confusion.n)


def test_group_stats_counts_each_groups_rows():
    y, y_pred, p, codes = _data()
    rows = ClassRows.prepare(y, y_pred, p, 4, (1, 2))
    stats = group_stats(codes, rows, 3)
    for group in range(3):
        mask = codes == group
        expected = np.zeros((4, 4), dtype=np.int64)
        np.add.at(expected, (y[mask], y_pred[mask]), 1)
        np.testing.assert_array_equal(stats.confusion.matrix[group], expected)
        ranked = np.argsort(-p[mask], axis=1, kind="stable")  # no ties between the label and the rest here
        assert stats.scores.top_k_hits[2][group] == np.sum(ranked[:, :2] == y[mask][:, None])
        assert stats.scores.log_loss_sum[group] == pytest.approx(-np.log(p[mask, y[mask]]).sum())


def test_prepare_keeps_lean_dtypes():
    y, y_pred, p, _ = _data()
    rows = ClassRows.prepare(y, y_pred, p, 4, (2,))
    assert rows.cell.dtype == np.int16
    assert rows.true_rank.dtype == np.uint8
    assert all(r.order.dtype == np.int32 for r in rows.one_vs_rest)
    assert all(r.ranking.ranks.dtype == np.int32 and r.ranking.sorted_y_true.dtype == np.int8 for r in rows.one_vs_rest)
    assert ClassRows.prepare(y, y_pred, p, 4).true_rank is None  # no top-k asked for


def test_without_probabilities():
    y, y_pred, _, codes = _data()
    rows = ClassRows.prepare(y, y_pred, None, 4)
    assert rows.one_vs_rest is None and rows.log_loss is None
    stats = group_stats(codes, rows, 3)
    assert stats.scores is None
    assert stats.one_vs_rest(1).scores is None
    table = metric_frame("f", ["a", "b", "c"], stats, registry(4, (), False), level=None)
    assert len(table) == 3 * len(METRICS)
    per_class = metric_frame("f", ["a", "b", "c"], stats.one_vs_rest(1), class_metrics(False), level=None)
    assert set(per_class.metric) == {"support", "precision", "recall", "f1"}


def test_two_class_top_1_is_the_binary_rule():
    """scikit-learn's top-1 with two classes predicts class 1 only above 0.5 (not on a tie)."""
    p = np.array([[0.5, 0.5], [0.5, 0.5], [0.4, 0.6], [0.7, 0.3]])
    y = np.array([0, 1, 1, 1])
    rows = ClassRows.prepare(y, y, p, 2, (1,))
    assert rows.true_rank.tolist() == [0, 1, 0, 1]


# Vectorization and intervals ---------------------------------------------------------------------


def test_vectorized_over_groups_and_resamples():
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 3, size=(6, 5, 9))
    cells[0, 0] = 0  # an empty group
    cells[1, 1] = [4, 0, 0, 0, 0, 0, 0, 0, 0]  # one shared class
    together_stats = ClassConfusion.from_cells(cells)
    for metric in METRICS:
        together = metric.values(together_stats)
        assert together.value.shape == (6, 5), metric.name
        for i in range(6):
            one = metric.values(ClassConfusion.from_cells(cells[i]))
            np.testing.assert_array_equal(together.value[i], one.value, err_msg=metric.name)
            assert list(together.reason[i]) == list(one.reason), metric.name


def test_bootstrap_intervals_on_resampled_cells():
    y, y_pred, p, codes = _data(n=400)
    codes[codes == 2] = -1  # group 2 empty
    stats = group_stats(codes, ClassRows.prepare(y, y_pred, p, 4, (2,)), 3)
    replicates = intervals.posterior_counts(stats.confusion, 50, np.random.default_rng(0))
    assert replicates.matrix.shape == (50, 3, 4, 4)
    np.testing.assert_allclose(replicates.n, np.broadcast_to(stats.n, (50, 3)))

    metrics = registry(4, (2,), True)
    table = metric_frame("f", ["a", "b", "c"], stats, metrics, level=0.9, resamples=200, rng=np.random.default_rng(1))
    for metric in metrics:
        rows = table[table.metric == metric.name].set_index("group")
        if metric.interval is None:
            assert rows[["ci_low", "ci_high"]].isna().all().all(), metric.name
            continue
        for group in ("a", "b"):
            low, value, high = rows.loc[group, ["ci_low", "value", "ci_high"]]
            assert math.isfinite(low) and math.isfinite(high) and low <= high, (metric.name, group)
            assert low <= value <= high, (metric.name, group)
        assert math.isnan(rows.loc["c", "ci_low"]) and math.isnan(rows.loc["c", "ci_high"]), metric.name

    per_class = metric_frame("f", ["a", "b", "c"], stats.one_vs_rest(1), class_metrics(True), level=0.9,
                             resamples=200, rng=np.random.default_rng(2)).set_index(["metric", "group"])
    for name in ("precision", "recall", "f1", "roc_auc"):
        low, high = per_class.loc[(name, "a"), ["ci_low", "ci_high"]]
        assert math.isfinite(low) and low <= high, name


# Invariances ---------------------------------------------------------------------------------------


def _all_values(y, y_pred, p, codes, n_groups, top_k=(1, 2)) -> np.ndarray:
    stats = group_stats(codes, ClassRows.prepare(y, y_pred, p, p.shape[1], top_k), n_groups)
    registry_values = [m.values(getattr(stats, m.source)).value for m in registry(p.shape[1], top_k, True)]
    class_values = [m.values(getattr(stats.one_vs_rest(k), m.source)).value
                    for k in range(p.shape[1]) for m in class_metrics(True)]
    return np.array(registry_values + class_values)


def test_shuffling_rows_and_relabelling_groups_changes_no_value():
    y, y_pred, p, codes = _data()
    rng = np.random.default_rng(9)
    shuffle = rng.permutation(len(y))
    relabel = np.array([2, 0, 1])
    moved = np.where(codes[shuffle] >= 0, relabel[codes[shuffle]], -1)
    before = _all_values(y, y_pred, p, codes, 3)
    after = _all_values(y[shuffle], y_pred[shuffle], p[shuffle], moved, 3)
    np.testing.assert_allclose(after[:, relabel], before, rtol=1e-12, atol=1e-12)


def test_a_single_group_equals_overall():
    """One group holding every row (the one-group path) equals that group in a family with an empty second group."""
    y, y_pred, p, _ = _data()
    overall = _all_values(y, y_pred, p, np.zeros(len(y), dtype=np.int64), 1)
    with_empty = _all_values(y, y_pred, p, np.zeros(len(y), dtype=np.int64), 2)
    np.testing.assert_allclose(with_empty[:, 0], overall[:, 0], rtol=1e-12, atol=1e-12)
    subset = _data()[3] >= 0
    kept = _all_values(y[subset], y_pred[subset], p[subset], np.zeros(subset.sum(), dtype=np.int64), 1)
    left_out = _all_values(y, y_pred, p, np.where(subset, 0, -1), 1)  # rows with code -1 are in no group
    np.testing.assert_allclose(left_out, kept, rtol=1e-12, atol=1e-12)
