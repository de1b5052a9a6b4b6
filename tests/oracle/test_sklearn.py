"""Every registry metric, for every group of every slice, against scikit-learn on that group's rows.

The oracle table below is written here, independently of reportgen; a metric added to the
registry without an oracle fails `test_every_registry_metric_has_an_oracle`. Where reportgen says
a metric is undefined, the test checks that the definition says so too (the conditions in
`UNDEFINED`) and that a reason is given; where scikit-learn puts in 0 instead (MCC, average
precision) the test checks that it does, to document the deliberate difference.
"""

from __future__ import annotations

import math

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings

import reportgen
from reportgen.metrics.binary import METRICS
from reportgen.metrics.calibration import METRICS as CALIBRATION_METRICS

from .strategies import SLICES, expected_groups, members, prediction_frames

pytestmark = pytest.mark.usefixtures("quiet_sklearn")

CALIBRATION = [m.name for m in CALIBRATION_METRICS]
ORACLES = {
    "count": lambda y, yp, p: float(len(y)),
    "prevalence": lambda y, yp, p: float(np.mean(y)),
    "accuracy": lambda y, yp, p: skm.accuracy_score(y, yp),
    "balanced_accuracy": lambda y, yp, p: skm.balanced_accuracy_score(y, yp),
    "precision": lambda y, yp, p: skm.precision_score(y, yp, labels=[0, 1], zero_division=np.nan),
    "recall": lambda y, yp, p: skm.recall_score(y, yp, labels=[0, 1], zero_division=np.nan),
    "specificity": lambda y, yp, p: skm.recall_score(y, yp, labels=[0, 1], pos_label=0, zero_division=np.nan),
    "fpr": lambda y, yp, p: 1 - skm.recall_score(y, yp, labels=[0, 1], pos_label=0, zero_division=np.nan),
    "fnr": lambda y, yp, p: 1 - skm.recall_score(y, yp, labels=[0, 1], zero_division=np.nan),
    "f1": lambda y, yp, p: skm.f1_score(y, yp, labels=[0, 1], zero_division=np.nan),
    "mcc": lambda y, yp, p: skm.matthews_corrcoef(y, yp),
    "selection_rate": lambda y, yp, p: flm.selection_rate(y, yp),
    "roc_auc": lambda y, yp, p: skm.roc_auc_score(y, p),
    "average_precision": lambda y, yp, p: skm.average_precision_score(y, p),
    "log_loss": lambda y, yp, p: skm.log_loss(y, p, labels=[0, 1]),
    "brier": lambda y, yp, p: skm.brier_score_loss(y, p, labels=[0, 1]),
}


def _counts(y: np.ndarray, yp: np.ndarray) -> tuple[int, int, int, int]:
    tp = int(np.sum((y == 1) & (yp == 1)))
    fp = int(np.sum((y == 0) & (yp == 1)))
    tn = int(np.sum((y == 0) & (yp == 0)))
    fn = int(np.sum((y == 1) & (yp == 0)))
    return tp, fp, tn, fn


def _undefined_mcc(y: np.ndarray, yp: np.ndarray) -> bool:
    tp, fp, tn, fn = _counts(y, yp)
    return 0 in (tp + fp, tp + fn, tn + fp, tn + fn)


# When each metric has no value (the policy), stated on the group's labels and predictions.
UNDEFINED = {
    "count": lambda y, yp: False,
    "prevalence": lambda y, yp: len(y) == 0,
    "accuracy": lambda y, yp: len(y) == 0,
    "balanced_accuracy": lambda y, yp: len(y) == 0,
    "precision": lambda y, yp: yp.sum() == 0,
    "recall": lambda y, yp: y.sum() == 0,
    "specificity": lambda y, yp: (1 - y).sum() == 0,
    "fpr": lambda y, yp: (1 - y).sum() == 0,
    "fnr": lambda y, yp: y.sum() == 0,
    "f1": lambda y, yp: 2 * _counts(y, yp)[0] + _counts(y, yp)[1] + _counts(y, yp)[3] == 0,
    "mcc": _undefined_mcc,
    "selection_rate": lambda y, yp: len(y) == 0,
    "roc_auc": lambda y, yp: len(np.unique(y)) < 2,
    "average_precision": lambda y, yp: y.sum() == 0,
    "log_loss": lambda y, yp: len(y) == 0,
    "brier": lambda y, yp: len(y) == 0,
}


def _evaluate(frame: pd.DataFrame, slices: list[dict], prediction: str | None = "pred") -> reportgen.Evaluation:
    return reportgen.evaluate(frame, label="y", score="p", prediction=prediction, slices=slices, resamples=100)


def check_against_sklearn(frame: pd.DataFrame, evaluation: reportgen.Evaluation) -> None:
    """Compare every metric row of `evaluation` with the oracle on the group's rows of `frame`."""
    y_all = frame["y"].to_numpy()
    yp_all = frame["pred"].to_numpy()
    p_all = frame["p"].to_numpy(dtype=np.float64)
    table = evaluation.metrics
    for slice_name, rows in table.groupby("slice", sort=False):
        assert set(rows["group"]) == expected_groups(frame, slice_name), slice_name
        for group, group_rows in rows.groupby("group", sort=False):
            mask = members(frame, slice_name, group)
            y, yp, p = y_all[mask], yp_all[mask], p_all[mask]
            assert sorted(group_rows["metric"]) == sorted([*ORACLES, *CALIBRATION])  # calibration: test_calibration.py
            for row in group_rows[group_rows["metric"].isin(list(ORACLES))].itertuples():
                where = f"{slice_name}={group} {row.metric} (n={len(y)})"
                assert row.n == len(y), where
                if UNDEFINED[row.metric](y, yp):
                    assert math.isnan(row.value), where
                    assert isinstance(row.undefined_reason, str) and row.undefined_reason.strip(), where
                    _check_sklearn_fills_in(row.metric, y, yp, p, where)
                    continue
                assert row.undefined_reason is None, where
                expected = ORACLES[row.metric](y, yp, p)
                assert row.value == pytest.approx(expected, abs=1e-9, rel=1e-12), where


def _check_sklearn_fills_in(metric: str, y: np.ndarray, yp: np.ndarray, p: np.ndarray, where: str) -> None:
    """Where reportgen says undefined but scikit-learn returns 0, assert that it does (documents the choice)."""
    if len(y) == 0:
        return
    if metric == "mcc":
        assert skm.matthews_corrcoef(y, yp) == 0.0, where
    if metric == "average_precision":
        assert skm.average_precision_score(y, p) == 0.0, where


def check_confusion(frame: pd.DataFrame, evaluation: reportgen.Evaluation) -> None:
    """The confusion table equals `confusion_matrix(labels=[0, 1])` on each group's rows."""
    for row in evaluation.confusion.itertuples():
        mask = members(frame, row.slice, row.group)
        if not mask.any():
            assert (row.tn, row.fp, row.fn, row.tp) == (0, 0, 0, 0), (row.slice, row.group)
            continue
        tn, fp, fn, tp = skm.confusion_matrix(
            frame["y"].to_numpy()[mask], frame["pred"].to_numpy()[mask], labels=[0, 1]
        ).ravel()
        assert (row.tn, row.fp, row.fn, row.tp) == (tn, fp, fn, tp), (row.slice, row.group)


def test_every_registry_metric_has_an_oracle():
    assert [m.name for m in METRICS] == list(ORACLES)
    assert set(UNDEFINED) == set(ORACLES)


HYPOTHESIS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VALUE_SLICES = [s for s in SLICES if "columns" not in s]  # g, h, bins on x, a where query
INTERSECTION = [s for s in SLICES if "columns" in s]


@settings(HYPOTHESIS, max_examples=40)
@given(frame=prediction_frames())
def test_metrics_equal_sklearn_on_every_group(frame):
    evaluation = _evaluate(frame, VALUE_SLICES)
    check_against_sklearn(frame, evaluation)
    check_confusion(frame, evaluation)


@settings(HYPOTHESIS, max_examples=15)
@given(frame=prediction_frames(max_rows=120))
def test_metrics_equal_sklearn_on_every_intersection_group(frame):
    evaluation = _evaluate(frame, INTERSECTION)
    check_against_sklearn(frame, evaluation)
    check_confusion(frame, evaluation)


@settings(HYPOTHESIS, max_examples=15)
@given(frame=prediction_frames())
def test_metrics_equal_sklearn_with_threshold_predictions(frame):
    """Without a prediction column, predictions are score >= threshold."""
    frame = frame.assign(pred=(frame["p"] >= 0.5).astype(np.int64))
    evaluation = _evaluate(frame.drop(columns="pred"), SLICES[:1], prediction=None)
    check_against_sklearn(frame, evaluation)
    check_confusion(frame, evaluation)


# Pinned edge cases -------------------------------------------------------------------------------


def _base_frame(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "y": rng.integers(0, 2, n),
            "p": rng.choice([0.1, 0.3, 0.5, 0.7, 0.9], n),
            "pred": rng.integers(0, 2, n),
            "g": rng.choice(["a", "b"], n),
            "h": rng.choice(["x", "y"], n).astype(object),
            "x": rng.choice([0.1, 0.6, 0.8], n),
        }
    )


def _value(evaluation: reportgen.Evaluation, slice_name: str, group: str, metric: str) -> pd.Series:
    table = evaluation.metrics
    row = table[(table.slice == slice_name) & (table.group == group) & (table.metric == metric)]
    assert len(row) == 1
    return row.iloc[0]


def test_one_row_group():
    frame = pd.concat(
        [_base_frame(), pd.DataFrame({"y": [1], "p": [0.7], "pred": [1], "g": ["e"], "h": ["x"], "x": [0.1]})],
        ignore_index=True,
    )
    evaluation = _evaluate(frame, SLICES)
    check_against_sklearn(frame, evaluation)
    check_confusion(frame, evaluation)
    assert _value(evaluation, "g", "e", "accuracy").value == 1.0
    for metric in ("roc_auc", "specificity", "fpr", "average_precision"):
        row = _value(evaluation, "g", "e", metric)
        if metric == "average_precision":
            assert row.value == 1.0
        else:
            assert math.isnan(row.value) and row.undefined_reason


def test_single_class_group():
    frame = _base_frame()
    frame.loc[frame.g == "b", "y"] = 0
    evaluation = _evaluate(frame, SLICES)
    check_against_sklearn(frame, evaluation)
    for metric in ("recall", "fnr", "roc_auc", "average_precision", "mcc"):
        row = _value(evaluation, "g", "b", metric)
        assert math.isnan(row.value) and row.undefined_reason, metric
    assert skm.matthews_corrcoef(frame.y[frame.g == "b"], frame.pred[frame.g == "b"]) == 0.0
    # balanced accuracy averages the classes present, as scikit-learn: here only the negatives' recall
    b = frame[frame.g == "b"]
    assert _value(evaluation, "g", "b", "balanced_accuracy").value == pytest.approx(
        np.mean(b.pred == 0), abs=1e-12
    )


def test_all_scores_tied():
    frame = _base_frame(60).assign(p=0.5)
    evaluation = _evaluate(frame, SLICES)
    check_against_sklearn(frame, evaluation)
    for group in ("a", "b"):
        rows = frame[frame.g == group]
        assert _value(evaluation, "g", group, "roc_auc").value == pytest.approx(0.5, abs=1e-12)
        assert _value(evaluation, "g", group, "average_precision").value == pytest.approx(rows.y.mean(), abs=1e-12)


def test_empty_bin_group_is_undefined_except_count():
    frame = _base_frame()  # x < 1: the bin [1, 2] is empty
    evaluation = _evaluate(frame, SLICES)
    check_against_sklearn(frame, evaluation)
    empty = evaluation.metrics.query("slice == 'x' and group == '[1, 2]'")
    assert len(empty) == len(METRICS) + len(CALIBRATION)
    assert (empty["n"] == 0).all()
    count = empty[empty.metric == "count"].iloc[0]
    assert count.value == 0 and count.undefined_reason is None
    rest = empty[empty.metric != "count"]
    assert rest["value"].isna().all()
    assert all(isinstance(r, str) and r for r in rest["undefined_reason"])
    assert rest["ci_low"].isna().all() and rest["ci_high"].isna().all()


def test_where_slice_matching_nothing():
    frame = _base_frame()
    slices = [{"name": "high", "where": "x >= 5"}]
    evaluation = _evaluate(frame, slices)
    rows = evaluation.metrics.query("slice == 'high'")
    assert set(rows["group"]) == {"x >= 5"}
    assert (rows["n"] == 0).all()
    assert rows.query("metric == 'count'")["value"].tolist() == [0.0]
    rest = rows.query("metric != 'count'")
    assert rest["value"].isna().all()
    assert all(isinstance(r, str) and r for r in rest["undefined_reason"])
    family = next(f for f in evaluation.families if f.name == "high")
    assert any("No row matches" in note for note in family.notes)
    confusion = evaluation.confusion.query("slice == 'high'")
    assert confusion[["tn", "fp", "fn", "tp"]].to_numpy().tolist() == [[0, 0, 0, 0]]


def test_empty_group_reason_says_no_rows():
    """An empty group has no classes at all: 'only one class' or 'all one class' would mislead."""
    evaluation = _evaluate(_base_frame(), [{"column": "x", "bins": [0, 0.5, 1, 2]}])
    empty = evaluation.metrics.query("slice == 'x' and group == '[1, 2]'").set_index("metric")
    for metric in ("roc_auc", "mcc", "average_precision", "accuracy", "log_loss", "brier"):
        assert empty.loc[metric, "undefined_reason"] == "no rows in this group", metric


def test_extreme_scores_log_loss_is_clipped_as_sklearn():
    frame = pd.DataFrame({"y": [1, 0, 1, 0, 1], "p": [0.0, 1.0, 1.0, 0.0, 0.5], "pred": [0, 1, 1, 0, 1],
                          "g": "a", "h": "x", "x": 0.1})
    evaluation = _evaluate(frame, [{"column": "g"}])
    check_against_sklearn(frame, evaluation)
    assert math.isfinite(_value(evaluation, "overall", "overall", "log_loss").value)
