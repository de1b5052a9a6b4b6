"""Multiclass and regression fairness against Fairlearn 0.15's definitions.

Multiclass: per class (one against the rest: y == k, pred == k), the per-group selection rate and
TPR equal `MetricFrame(...).by_group` with `selection_rate` / `true_positive_rate` on the binarized
columns, and the per-class gaps equal `demographic_parity_difference` /
`equal_opportunity_difference(method="between_groups")`. The documented difference: a group with no
rows of class k has no TPR for k; reportgen leaves it out (undefined, with a reason) where Fairlearn
counts its TPR as 0.

Regression: per-group MAE and mean residual (actual − predicted) equal `MetricFrame` with
scikit-learn's `mean_absolute_error` and a mean-residual function; the gaps equal
`MetricFrame.difference(method="between_groups")`, their intervals a direct Welch normal interval
between the two groups named in `between`, and `breached` compares with `max_error_difference`
(default 10% of the overall MAE).
"""

from __future__ import annotations

import math
import warnings

import fairlearn.metrics as flm
import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import scipy.stats
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reportgen

GROUPS = ("f", "m", "x", "nb")
CLASSES = ("a", "b", "c", "d")
TOL = 1e-12
Z = scipy.stats.norm.ppf(0.975)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ----------------------------------------------------------------------------------------- multiclass


@st.composite
def multiclass_frames(draw: st.DrawFn) -> pd.DataFrame:
    n_groups = draw(st.integers(2, len(GROUPS)))
    n_classes = draw(st.integers(3, len(CLASSES)))
    n = draw(st.integers(0, 120))
    s = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    pred = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_classes - 1)))
    # every class occurs in group 0 and every group has a row; other groups may lack a class
    # (so a TPR may be undefined there)
    fixed_y = np.r_[np.arange(n_classes), np.zeros(n_groups - 1, dtype=np.int64)]
    fixed_s = np.r_[np.zeros(n_classes, dtype=np.int64), np.arange(1, n_groups)]
    other = draw(hnp.arrays(np.int64, n_groups - 1, elements=st.integers(0, n_classes - 1)))
    fixed_pred = np.r_[np.arange(n_classes), other]
    labels = np.array(CLASSES)
    return pd.DataFrame(
        {
            "y": labels[np.r_[y, fixed_y]],
            "pred": labels[np.r_[pred, fixed_pred]],
            "s": np.array(GROUPS)[np.r_[s, fixed_s]],
        }
    )


def _evaluate_multiclass(frame: pd.DataFrame) -> reportgen.Evaluation:
    return reportgen.evaluate(
        frame, label="y", prediction="pred", task="multiclass", sensitive=["s"], resamples=100
    )


def _binarized(frame: pd.DataFrame, k: str) -> tuple[pd.Series, pd.Series]:
    return (frame["y"] == k).astype(int), (frame["pred"] == k).astype(int)


def _class_rates(frame: pd.DataFrame, k: str) -> pd.DataFrame:
    y, pred = _binarized(frame, k)
    return flm.MetricFrame(
        metrics={"selection_rate": flm.selection_rate, "tpr": flm.true_positive_rate},
        y_true=y, y_pred=pred, sensitive_features=frame["s"],
    ).by_group


def _check_multiclass(frame: pd.DataFrame) -> reportgen.Evaluation:
    evaluation = _evaluate_multiclass(frame)
    classes = sorted(set(frame["y"]) | set(frame["pred"]))
    assert [str(c) for c in evaluation.predictions.classes] == classes
    by_group, gaps = evaluation.fairness_by_group, evaluation.fairness
    assert set(by_group["class_label"]) == set(classes)
    assert set(gaps["class_label"]) == set(classes)
    for k in classes:
        expected = _class_rates(frame, k)
        rows = by_group[by_group["class_label"] == k]
        assert set(rows["rate"]) == {"selection_rate", "tpr"}
        positives = frame.assign(pos=frame["y"] == k).groupby("s")["pos"].sum()
        for rate in ("selection_rate", "tpr"):
            table = rows[rows["rate"] == rate].set_index("group")
            assert set(table.index) == set(expected.index), (k, rate)
            for group, value in expected[rate].items():
                row = table.loc[group]
                assert row["n"] == (frame["s"] == group).sum()
                if rate == "tpr" and positives[group] == 0:
                    # documented difference: undefined here, 0 in Fairlearn
                    assert math.isnan(row["value"]) and row["undefined_reason"], (k, group)
                    assert value == 0.0
                else:
                    assert row["value"] == pytest.approx(value, abs=TOL), (k, rate, group)
        class_gaps = gaps[gaps["class_label"] == k].set_index("gap")
        assert set(class_gaps.index) == {"demographic_parity_difference", "equal_opportunity_difference"}
        y, pred = _binarized(frame, k)
        dpd = flm.demographic_parity_difference(y, pred, sensitive_features=frame["s"], method="between_groups")
        assert class_gaps.loc["demographic_parity_difference", "value"] == pytest.approx(dpd, abs=TOL), k
        # equal opportunity: Fairlearn on the groups whose TPR is defined (all of them when every group has
        # a row of class k: then it is Fairlearn's number as it is)
        defined = positives[positives > 0].index
        eod_row = class_gaps.loc["equal_opportunity_difference"]
        if len(defined) < 2:
            assert math.isnan(eod_row["value"]) and eod_row["undefined_reason"], k
        else:
            keep = frame["s"].isin(defined)  # all rows when every group has a row of class k
            eod = flm.equal_opportunity_difference(
                y[keep], pred[keep], sensitive_features=frame["s"][keep], method="between_groups"
            )
            assert eod_row["value"] == pytest.approx(eod, abs=TOL), k
        for gap, rate in (("demographic_parity_difference", "selection_rate"), ("equal_opportunity_difference", "tpr")):
            row = class_gaps.loc[gap]
            if row["undefined_reason"] is not None:
                continue
            first, second = row["between"].split(" vs ")
            rates = expected[rate]
            assert row["value"] == pytest.approx(rates[first] - rates[second], abs=TOL), (k, gap)
            assert row["breached"] == (row["value"] > 0.1)
            assert row["ci_low"] <= row["value"] <= row["ci_high"], (k, gap)
    return evaluation


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=multiclass_frames())
def test_multiclass_rates_and_gaps_equal_fairlearn(frame):
    _check_multiclass(frame)


def test_multiclass_explicit_every_group_has_every_class():
    frame = pd.DataFrame(
        {
            "y":    ["a", "b", "c", "a", "b", "c", "a", "a", "b", "c", "c", "b"],
            "pred": ["a", "b", "b", "c", "b", "a", "a", "b", "b", "c", "a", "a"],
            "s":    ["f", "f", "f", "f", "f", "f", "m", "m", "m", "m", "m", "m"],
        }
    )
    gaps = _check_multiclass(frame).fairness.set_index(["class_label", "gap"])
    # class a: selection f 2/6, m 3/6; TPR f 1/2, m 1/2
    assert gaps.loc[("a", "demographic_parity_difference"), "value"] == pytest.approx(1 / 6, abs=TOL)
    assert gaps.loc[("a", "demographic_parity_difference"), "between"] == "m vs f"
    assert gaps.loc[("a", "equal_opportunity_difference"), "value"] == pytest.approx(0.0, abs=TOL)
    # class b: TPR f 2/2, m 1/2
    assert gaps.loc[("b", "equal_opportunity_difference"), "value"] == pytest.approx(0.5, abs=TOL)
    assert gaps.loc[("b", "equal_opportunity_difference"), "between"] == "f vs m"


def test_multiclass_undefined_tpr_left_out_where_fairlearn_counts_zero():
    """Group "x" has no row of class "c": reportgen leaves it out of the TPR gap, Fairlearn counts TPR 0."""
    frame = pd.DataFrame(
        {
            "y":    ["a", "b", "c", "c", "a", "b", "c", "c", "a", "b", "a"],
            "pred": ["a", "b", "c", "a", "a", "b", "c", "c", "c", "a", "b"],
            "s":    ["f", "f", "f", "f", "m", "m", "m", "m", "x", "x", "x"],
        }
    )
    evaluation = _check_multiclass(frame)
    rows = evaluation.fairness_by_group.query("class_label == 'c' and rate == 'tpr'").set_index("group")
    assert rows.loc["f", "value"] == pytest.approx(0.5) and rows.loc["m", "value"] == pytest.approx(1.0)
    assert math.isnan(rows.loc["x", "value"]) and rows.loc["x", "undefined_reason"]
    y, pred = _binarized(frame, "c")
    fairlearn_tpr = _class_rates(frame, "c")["tpr"]
    assert fairlearn_tpr["x"] == 0.0
    gap = evaluation.fairness.query("class_label == 'c' and gap == 'equal_opportunity_difference'").iloc[0]
    fairlearn_gap = flm.equal_opportunity_difference(y, pred, sensitive_features=frame["s"], method="between_groups")
    assert fairlearn_gap == pytest.approx(1.0)  # m (1.0) − x (counted as 0)
    assert gap["value"] == pytest.approx(0.5)  # m (1.0) − f (0.5); x left out
    assert gap["between"] == "m vs f"
    # the selection-rate gap is unaffected: x has rows, so its selection rate of "c" is defined (1/3)
    dp = evaluation.fairness.query("class_label == 'c' and gap == 'demographic_parity_difference'").iloc[0]
    assert dp["value"] == pytest.approx(
        flm.demographic_parity_difference(y, pred, sensitive_features=frame["s"]), abs=TOL
    )


def test_multiclass_tpr_gap_undefined_when_one_group_has_the_class():
    frame = pd.DataFrame(
        {"y": ["a", "b", "c", "a", "b"], "pred": ["a", "c", "c", "b", "b"], "s": ["f", "f", "f", "m", "m"]}
    )
    gap = _check_multiclass(frame).fairness.query("class_label == 'c' and gap == 'equal_opportunity_difference'")
    assert gap["undefined_reason"].iloc[0] == "fewer than two groups with a defined tpr"
    y, pred = _binarized(frame, "c")
    assert flm.equal_opportunity_difference(y, pred, sensitive_features=frame["s"]) == pytest.approx(1.0)


# ----------------------------------------------------------------------------------------- regression

VALUES = st.floats(-100, 100, allow_nan=False, allow_infinity=False).map(lambda v: round(v, 3))


def _mean_residual(y_true, y_pred) -> float:
    return float(np.mean(np.asarray(y_true) - np.asarray(y_pred)))


@st.composite
def regression_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, float | None]:
    n_groups = draw(st.integers(2, len(GROUPS)))
    n = draw(st.integers(0, 120))
    s = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    fixed = np.arange(n_groups)  # every group has a row (some only one: no interval)
    y = draw(hnp.arrays(np.float64, n + n_groups, elements=VALUES))
    pred = draw(hnp.arrays(np.float64, n + n_groups, elements=VALUES))
    frame = pd.DataFrame({"y": y, "pred": pred, "s": np.array(GROUPS)[np.r_[s, fixed]]})
    limit = draw(st.one_of(st.none(), st.floats(0.01, 50).map(lambda v: round(v, 2))))
    return frame, limit


def _evaluate_regression(frame: pd.DataFrame, limit: float | None) -> reportgen.Evaluation:
    return reportgen.evaluate(
        frame, label="y", prediction="pred", task="regression", sensitive=["s"],
        max_error_difference=limit, resamples=100,
    )


def _error_frame(frame: pd.DataFrame) -> flm.MetricFrame:
    return flm.MetricFrame(
        metrics={"mae": skm.mean_absolute_error, "mean_residual": _mean_residual},
        y_true=frame["y"], y_pred=frame["pred"], sensitive_features=frame["s"],
    )


def _welch(frame: pd.DataFrame, rate: str, first: str, second: str) -> tuple[float, float]:
    errors = frame["y"] - frame["pred"]
    if rate == "mae":
        errors = errors.abs()
    a, b = errors[frame["s"] == first].to_numpy(), errors[frame["s"] == second].to_numpy()
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan
    difference = a.mean() - b.mean()
    half = Z * math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    return difference - half, difference + half


def _check_regression(frame: pd.DataFrame, limit: float | None) -> reportgen.Evaluation:
    evaluation = _evaluate_regression(frame, limit)
    metric_frame = _error_frame(frame)
    expected = metric_frame.by_group
    threshold = limit if limit is not None else 0.1 * skm.mean_absolute_error(frame["y"], frame["pred"])
    assert evaluation.fairness_thresholds.max_difference == pytest.approx(threshold, rel=1e-12, abs=1e-12)
    by_group = evaluation.fairness_by_group
    assert set(by_group["rate"]) == {"mae", "mean_residual"}
    ref = evaluation.references["s"]
    for rate in ("mae", "mean_residual"):
        table = by_group[by_group["rate"] == rate].set_index("group")
        assert set(table.index) == set(expected.index), rate
        for group, value in expected[rate].items():
            row = table.loc[group]
            assert row["n"] == (frame["s"] == group).sum()
            assert row["value"] == pytest.approx(value, rel=1e-9, abs=1e-9), (rate, group)
            assert row["difference"] == pytest.approx(value - expected[rate][ref], rel=1e-9, abs=1e-9)
            if group != ref:
                assert row["breached"] == (abs(row["difference"]) > evaluation.fairness_thresholds.max_difference)
    gaps = evaluation.fairness.set_index("gap")
    assert set(gaps.index) == {"mae_difference", "mean_residual_difference"}
    differences = metric_frame.difference(method="between_groups")
    for gap, rate in (("mae_difference", "mae"), ("mean_residual_difference", "mean_residual")):
        row = gaps.loc[gap]
        assert row["undefined_reason"] is None and row["rate"] == rate
        assert row["value"] == pytest.approx(differences[rate], rel=1e-9, abs=1e-9), gap
        first, second = row["between"].split(" vs ")
        assert row["value"] == pytest.approx(expected[rate][first] - expected[rate][second], rel=1e-9, abs=1e-9)
        low, high = _welch(frame, rate, first, second)
        if math.isnan(low):
            assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"]), gap
        else:
            assert row["ci_low"] == pytest.approx(low, rel=1e-7, abs=1e-6), gap
            assert row["ci_high"] == pytest.approx(high, rel=1e-7, abs=1e-6), gap
        assert row["threshold"] == pytest.approx(threshold, rel=1e-12, abs=1e-12)
        assert row["breached"] == (row["value"] > row["threshold"]), gap
    return evaluation


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=regression_frames())
def test_regression_errors_and_gaps_equal_metricframe(case):
    frame, limit = case
    _check_regression(frame, limit)


def test_regression_explicit_default_threshold_and_welch():
    frame = pd.DataFrame(
        {
            "y":    [1.0, 2.0, 3.0, 4.0, 10.0, 12.0, 11.0, 9.0, 5.0],
            "pred": [1.5, 2.0, 2.0, 4.5, 7.0, 13.0, 8.0, 9.5, 5.0],
            "s":    ["f", "f", "f", "f", "m", "m", "m", "m", "x"],
        }
    )
    evaluation = _check_regression(frame, None)
    overall_mae = skm.mean_absolute_error(frame["y"], frame["pred"])
    assert evaluation.fairness_thresholds.max_difference == pytest.approx(0.1 * overall_mae)
    gaps = evaluation.fairness.set_index("gap")
    # MAE: f 0.5, m 1.875, x 0 -> m vs x; x has one row, so no interval
    assert gaps.loc["mae_difference", "between"] == "m vs x"
    assert gaps.loc["mae_difference", "value"] == pytest.approx(1.875)
    assert math.isnan(gaps.loc["mae_difference", "ci_low"])
    # mean residual: f 0, m 1.125, x 0
    assert gaps.loc["mean_residual_difference", "value"] == pytest.approx(1.125)
    assert gaps.loc["mean_residual_difference", "breached"] is True


def test_regression_explicit_interval_and_explicit_limit():
    frame = pd.DataFrame(
        {
            "y":    [1.0, 2.0, 3.0, 4.0, 10.0, 12.0, 11.0, 9.0],
            "pred": [1.5, 2.0, 2.0, 4.5, 7.0, 13.0, 8.0, 9.5],
            "s":    ["f", "f", "f", "f", "m", "m", "m", "m"],
        }
    )
    for limit in (1.3, 1.45):
        evaluation = _check_regression(frame, limit)
        gap = evaluation.fairness.set_index("gap").loc["mae_difference"]
        assert gap["between"] == "m vs f" and gap["value"] == pytest.approx(1.375)
        # |errors| f: .5 0 1 .5 (mean .5, var 1/6); m: 3 1 3 .5 (mean 1.875, var 1.5625)
        a, b = np.array([3, 1, 3, 0.5]), np.array([0.5, 0, 1, 0.5])
        half = Z * math.sqrt(a.var(ddof=1) / 4 + b.var(ddof=1) / 4)
        assert gap["ci_low"] == pytest.approx(1.375 - half, abs=1e-12)
        assert gap["ci_high"] == pytest.approx(1.375 + half, abs=1e-12)
        assert gap["threshold"] == limit
        assert gap["breached"] is (limit < 1.375)
