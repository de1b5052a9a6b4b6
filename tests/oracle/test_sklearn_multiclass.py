"""Every multiclass metric, registry and per class, for every group, against scikit-learn on that group's rows.

The oracles below are written here, independently of reportgen; a metric added to the registry
without an oracle fails `test_every_registry_metric_has_an_oracle`. Where reportgen says a metric
is undefined, the test checks that the condition in `UNDEFINED` holds, that a reason is given, and
what scikit-learn returns there instead (NaN, or 0 for MCC: the documented difference).
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.metrics.multiclass import ClassRows, class_metrics, group_stats, registry
from reportgen.metrics.table import metric_frame


def _labels(n_classes: int) -> np.ndarray:
    return np.arange(n_classes)


def _roc_auc(average: str):
    def oracle(y, yp, p, n_classes):
        if n_classes == 2:  # scikit-learn takes two classes as a binary task: average its one-vs-rest AUCs here
            aucs = [skm.roc_auc_score(y == k, p[:, k]) for k in range(2)]
            weights = [np.sum(y == k) for k in range(2)] if average == "weighted" else None
            return float(np.average(aucs, weights=weights))
        return skm.roc_auc_score(y, p, multi_class="ovr", average=average, labels=_labels(n_classes))

    return oracle


pytestmark = pytest.mark.usefixtures("quiet_sklearn")

ORACLES = {
    "count": lambda y, yp, p, n_classes: float(len(y)),
    "accuracy": lambda y, yp, p, n_classes: skm.accuracy_score(y, yp),
    "balanced_accuracy": lambda y, yp, p, n_classes: skm.balanced_accuracy_score(y, yp),
    "cohen_kappa": lambda y, yp, p, n_classes: skm.cohen_kappa_score(y, yp),
    "mcc": lambda y, yp, p, n_classes: skm.matthews_corrcoef(y, yp),
    "macro_precision": lambda y, yp, p, n_classes: skm.precision_score(y, yp, average="macro", zero_division=0),
    "macro_recall": lambda y, yp, p, n_classes: skm.recall_score(y, yp, average="macro", zero_division=0),
    "macro_f1": lambda y, yp, p, n_classes: skm.f1_score(y, yp, average="macro", zero_division=0),
    "micro_precision": lambda y, yp, p, n_classes: skm.precision_score(y, yp, average="micro", zero_division=0),
    "micro_recall": lambda y, yp, p, n_classes: skm.recall_score(y, yp, average="micro", zero_division=0),
    "micro_f1": lambda y, yp, p, n_classes: skm.f1_score(y, yp, average="micro", zero_division=0),
    "weighted_precision": lambda y, yp, p, n_classes: skm.precision_score(y, yp, average="weighted", zero_division=0),
    "weighted_recall": lambda y, yp, p, n_classes: skm.recall_score(y, yp, average="weighted", zero_division=0),
    "weighted_f1": lambda y, yp, p, n_classes: skm.f1_score(y, yp, average="weighted", zero_division=0),
    "roc_auc_macro": _roc_auc("macro"),
    "roc_auc_weighted": _roc_auc("weighted"),
    "log_loss": lambda y, yp, p, n_classes: skm.log_loss(y, p, labels=_labels(n_classes)),
}


def _top_k_oracle(k: int):
    def oracle(y, yp, p, n_classes):
        scores = p[:, 1] if n_classes == 2 else p  # two classes: scikit-learn wants the positive column
        return skm.top_k_accuracy_score(y, scores, k=k, labels=_labels(n_classes))

    return oracle


def _oracle(name: str):
    if name.startswith("top_"):
        return _top_k_oracle(int(name.split("_")[1]))
    return ORACLES[name]


def _one_class(y: np.ndarray) -> bool:
    return len(np.unique(y)) == 1


# When each metric has no value (the policy), stated on the group's labels and predictions.
UNDEFINED = {
    "count": lambda y, yp, n_classes: False,
    "cohen_kappa": lambda y, yp, n_classes: len(y) == 0 or len(np.union1d(y, yp)) == 1,
    "mcc": lambda y, yp, n_classes: len(y) == 0 or _one_class(y) or _one_class(yp),
    "roc_auc_macro": lambda y, yp, n_classes: len(np.unique(y)) < n_classes,
    "roc_auc_weighted": lambda y, yp, n_classes: len(np.unique(y)) < 2,
}
def _undefined(name: str):
    """The metric's condition; every metric not in `UNDEFINED` is undefined only for an empty group."""
    return UNDEFINED.get(name, lambda y, yp, n_classes: len(y) == 0)


def _sklearn_fills_in(name: str, y, yp, p, n_classes: int, where: str) -> None:
    """Where reportgen says undefined on a non-empty group, document what scikit-learn returns."""
    if len(y) == 0:
        return
    result = _oracle(name)(y, yp, p, n_classes)
    if name == "mcc":
        assert result == 0.0, where
    else:
        assert math.isnan(result), where


@st.composite
def class_predictions(draw: st.DrawFn, min_classes: int = 3, max_classes: int = 5, max_rows: int = 60):
    """Labels, predictions, probabilities and group codes of a small multiclass task.

    Each group draws its labels from a subset of the classes (often one class, often all), so
    classes absent from a group are common; probabilities come from a few small weights, so ties
    are common; codes of -1 (rows in no group) and empty groups occur.
    """
    n_classes = draw(st.integers(min_classes, max_classes))
    n = draw(st.integers(0, max_rows))
    n_groups = draw(st.integers(1, 4))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    every = frozenset(range(n_classes))
    subsets = [draw(st.one_of(st.just(every), st.sets(st.sampled_from(sorted(every)), min_size=1)))
               for _ in range(n_groups)] + [every]  # the last: rows in no group
    table = np.array([[sorted(s)[i % len(s)] for i in range(n_classes)] for s in subsets])
    raw = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    y = table[codes, raw]
    if draw(st.booleans()):
        weights = draw(hnp.arrays(np.int64, (n, n_classes), elements=st.integers(0, 3))).astype(np.float64)
    else:
        weights = draw(hnp.arrays(np.float64, (n, n_classes), elements=st.floats(0, 1, width=32)))
    weights[weights.sum(axis=1) == 0] = 1.0
    p = weights / weights.sum(axis=1, keepdims=True)
    mode = draw(st.sampled_from(["random", "argmax", "label", "constant"]))
    if mode == "random":
        yp = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    elif mode == "argmax":
        yp = p.argmax(axis=1)
    elif mode == "label":
        yp = y.copy()
    else:
        yp = np.full(n, draw(st.integers(0, n_classes - 1)), dtype=np.int64)
    top_k = tuple(sorted(draw(st.sets(st.integers(1, n_classes - 1), max_size=2))))
    return y, yp, p, n_classes, codes, n_groups, top_k


def _tables(y, yp, p, n_classes, codes, n_groups, top_k):
    rows = ClassRows.prepare(y, yp, p, n_classes, top_k)
    stats = group_stats(codes, rows, n_groups)
    labels = [str(g) for g in range(n_groups)]
    metrics = registry(n_classes, top_k, p is not None)
    main = metric_frame("g", labels, stats, metrics, level=None)
    per_class = {k: metric_frame("g", labels, stats.one_vs_rest(k), class_metrics(p is not None), level=None)
                 for k in range(n_classes)}
    return main, per_class


def check_against_sklearn(y, yp, p, n_classes, codes, n_groups, top_k, *, groups=None) -> None:
    """Every registry and per-class value of every group (or of `groups`) equals scikit-learn on the group's rows."""
    main, per_class = _tables(y, yp, p, n_classes, codes, n_groups, top_k)
    names = [m.name for m in registry(n_classes, top_k, p is not None)]
    for group in range(n_groups) if groups is None else groups:
        mask = codes == group
        gy, gyp, gp = y[mask], yp[mask], p[mask]
        rows = main[main.group == str(group)]
        assert list(rows.metric) == names
        for row in rows.itertuples():
            where = f"group {group} {row.metric} (n={len(gy)}, K={n_classes})"
            assert row.n == len(gy), where
            if _undefined(row.metric)(gy, gyp, n_classes):
                assert math.isnan(row.value), where
                assert isinstance(row.undefined_reason, str) and row.undefined_reason, where
                if len(gy) == 0:
                    assert row.undefined_reason == "no rows in this group", where
                _sklearn_fills_in(row.metric, gy, gyp, gp, n_classes, where)
                continue
            assert row.undefined_reason is None, where
            expected = _oracle(row.metric)(gy, gyp, gp, n_classes)
            assert row.value == pytest.approx(expected, abs=1e-9, rel=1e-12), where
        if len(gy):
            _check_classes(per_class, group, gy, gyp, gp, n_classes)


def _check_classes(per_class: dict[int, pd.DataFrame], group: int, y, yp, p, n_classes: int) -> None:
    """Per-class support, precision, recall, F1 and one-vs-rest AUC against scikit-learn (NaN where it divides by 0)."""
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y, yp, labels=_labels(n_classes), average=None, zero_division=np.nan
    )
    for k in range(n_classes):
        table = per_class[k]
        values = table[table.group == str(group)].set_index("metric")
        auc = skm.roc_auc_score(y == k, p[:, k]) if len(np.unique(y == k)) == 2 else np.nan
        expected = {"support": support[k], "precision": precision[k], "recall": recall[k], "f1": f1[k], "roc_auc": auc}
        assert list(values.index) == list(expected)
        for name, value in expected.items():
            where = f"group {group} class {k} {name}"
            got, reason = values.loc[name, "value"], values.loc[name, "undefined_reason"]
            if math.isnan(value):
                assert math.isnan(got) and isinstance(reason, str) and reason, where
            else:
                assert got == pytest.approx(value, abs=1e-9, rel=1e-12), where
                assert reason is None, where


def test_every_registry_metric_has_an_oracle():
    names = [m.name for m in registry(6, (2, 5), True)]
    assert names[:-2] == list(ORACLES)
    assert names[-2:] == ["top_2_accuracy", "top_5_accuracy"]
    assert set(UNDEFINED) <= set(ORACLES)


HYPOTHESIS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(HYPOTHESIS, max_examples=60)
@given(data=class_predictions())
def test_metrics_equal_sklearn_on_every_group(data):
    check_against_sklearn(*data)


@settings(HYPOTHESIS, max_examples=15)
@given(data=class_predictions(min_classes=2, max_classes=2))
def test_two_classes_equal_sklearn(data):
    """Two classes: top-1 follows scikit-learn's binary rule (class 1 where its probability is above 0.5)."""
    check_against_sklearn(*data)


# Pinned edge cases -------------------------------------------------------------------------------


def _random(n: int, n_classes: int, seed: int = 0, decimals: int | None = 1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    p = rng.dirichlet(np.ones(n_classes), n)
    if decimals is not None:
        p = np.round(p, decimals) + 1e-3
        p /= p.sum(axis=1, keepdims=True)
    return y, rng.integers(0, n_classes, n), p


def test_one_row_groups_empty_groups_and_rows_in_no_group():
    y, yp, p = _random(30, 4)
    codes = np.r_[np.zeros(27, dtype=np.int64), 1, 2, -1]  # groups 1 and 2: one row each; group 3 empty
    check_against_sklearn(y, yp, p, 4, codes, 4, (1, 2, 3))


def test_every_group_one_class():
    _, yp, p = _random(40, 3)
    codes = np.arange(40) % 3
    check_against_sklearn(codes.copy(), yp, p, 3, codes, 3, (2,))  # group g holds only class g


def test_all_probabilities_tied():
    y, yp, _ = _random(50, 5)
    p = np.full((50, 5), 0.2)
    codes = np.arange(50) % 2
    check_against_sklearn(y, yp, p, 5, codes, 2, (1, 2, 4))
    main, _ = _tables(y, yp, p, 5, codes, 2, (1, 2, 4))
    # ties go to the higher class code first, as scikit-learn: top-k hits are the labels >= 5 - k
    for k in (1, 2, 4):
        row = main[(main.group == "0") & (main.metric == f"top_{k}_accuracy")].iloc[0]
        assert row.value == pytest.approx(np.mean(y[codes == 0] >= 5 - k))


def test_top_k_ties_follow_sklearn():
    p = np.array([[0.4, 0.4, 0.2], [0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [0.3, 0.3, 0.4], [1 / 3, 1 / 3, 1 / 3]] * 3)
    y = np.array([0, 1, 1, 0, 0] * 3)
    codes = np.zeros(len(y), dtype=np.int64)
    main, _ = _tables(y, y, p, 3, codes, 1, (1, 2))
    for k in (1, 2):
        value = main[main.metric == f"top_{k}_accuracy"].value.iloc[0]
        assert value == pytest.approx(skm.top_k_accuracy_score(y, p, k=k, labels=[0, 1, 2]), abs=1e-12)
    # top-1 hits only the second row: class 1 wins its tie with class 0
    assert main[main.metric == "top_1_accuracy"].value.iloc[0] == pytest.approx(1 / 5)


def test_many_groups_and_distinct_scores_take_the_sorting_path():
    """Enough (group, score) cells that `score_stats` sorts rather than counts; groups still equal scikit-learn.

    40 groups × 2000 distinct scores > 65,536 cells: `score_stats` takes its sorting path.
    """
    y, yp, p = _random(2000, 4, seed=3, decimals=None)
    codes = np.random.default_rng(4).integers(-1, 40, 2000)
    check_against_sklearn(y, yp, p, 4, codes, 40, (2,), groups=range(0, 40, 5))


def test_scores_a_few_ulps_apart_are_ordered_exactly():
    """Probabilities that differ only in their last bits (the sort's fix-up) rank as scikit-learn ranks them."""
    rng = np.random.default_rng(5)
    n = 500
    first = np.array([np.nextafter(0.1, 1.0), 0.1, np.nextafter(0.1, 0.0), 0.1 + 2e-16, 0.3])[rng.integers(0, 5, n)]
    second = rng.choice([0.2, 0.5], n)
    p = np.column_stack([first, second, 1.0 - first - second])
    y = rng.integers(0, 3, n)
    codes = rng.integers(0, 3, n)
    check_against_sklearn(y, y[::-1].copy(), p, 3, codes, 3, (1,))
    check_against_sklearn(y, y, p, 3, np.zeros(n, dtype=np.int64), 1, ())


def test_extreme_probabilities_log_loss_is_clipped_as_sklearn():
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    y = np.array([1, 1, 0, 2])
    main, _ = _tables(y, y, p, 3, np.zeros(4, dtype=np.int64), 1, ())
    value = main[main.metric == "log_loss"].value.iloc[0]
    assert math.isfinite(value)
    assert value == pytest.approx(skm.log_loss(y, p, labels=[0, 1, 2]), abs=1e-9)


def test_per_class_metrics_equal_classification_report():
    y, yp, p = _random(200, 4, seed=7)
    y[y == 3] = 2  # class 3 neither a label nor predicted
    yp[yp == 3] = 2
    yp[yp == 0] = 1  # class 0 never predicted
    main, per_class = _tables(y, yp, p, 4, np.zeros(200, dtype=np.int64), 1, ())
    report = skm.classification_report(y, yp, labels=[0, 1, 2, 3], output_dict=True, zero_division=np.nan)
    for k in range(4):
        values = per_class[k].set_index("metric")["value"]
        for name, key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score"), ("support", "support")):
            expected = report[str(k)][key]
            if math.isnan(expected):
                assert math.isnan(values[name]), (k, name)
            else:
                assert values[name] == pytest.approx(expected, abs=1e-9), (k, name)
    reasons = per_class[0].set_index("metric")["undefined_reason"]
    assert reasons["precision"] == "this class is never predicted in this group"
    reasons = per_class[3].set_index("metric")["undefined_reason"]
    assert reasons["recall"] == "no rows of this class in this group"
    assert reasons["f1"] == "this class is neither a label nor predicted in this group"
    assert reasons["roc_auc"] == "no rows of this class in this group"
    # the macro averages count the undefined per-class values as 0, over the classes that occur (0, 1, 2)
    macro = main.set_index("metric")["value"]
    assert macro["macro_precision"] == pytest.approx(skm.precision_score(y, yp, average="macro", zero_division=0))
    assert macro["macro_precision"] == pytest.approx(np.nansum([report[str(k)]["precision"] for k in range(3)]) / 3)
