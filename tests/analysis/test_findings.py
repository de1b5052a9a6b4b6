"""Findings: every rule fires on data made to trigger it, stays quiet otherwise, and the order is by severity."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

import reportgen
from reportgen.analysis import findings
from reportgen.analysis.base import Evidence, Finding
from reportgen.analysis.findings import benjamini_hochberg, derive_findings
from reportgen.config import FindingsSection

R = 100  # bootstrap resamples: the minimum the config allows, to keep the file fast


def of(ev: reportgen.Evaluation, rule_id: str) -> list[Finding]:
    return [f for f in ev.findings if f.id == rule_id]


def overall(ev: reportgen.Evaluation, metric: str) -> float:
    table = ev.metrics
    return float(table.query("slice == 'overall' and metric == @metric")["value"].iloc[0])


def calibrated(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Binary labels drawn from their scores: well calibrated, balanced, errors independent of everything."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    return pd.DataFrame({"y": (rng.random(n) < p).astype(int), "p": p})


def by_correctness(accuracy: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Balanced binary labels; each row is predicted right with its own probability (score 0.8 or 0.2)."""
    rng = np.random.default_rng(seed)
    n = len(accuracy)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < accuracy, y, 1 - y)
    return pd.DataFrame({"y": y, "p": np.where(pred == 1, 0.8, 0.2)})


def multiclass_by_correctness(accuracy: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Three balanced classes; a row is predicted right with its probability, else as another class."""
    rng = np.random.default_rng(seed)
    n = len(accuracy)
    y = rng.integers(0, 3, n)
    wrong = (y + rng.integers(1, 3, n)) % 3
    pred = np.where(rng.random(n) < accuracy, y, wrong)
    names = np.array(["ant", "bee", "cat"])
    return pd.DataFrame({"y": names[y], "pred": names[pred]})


def regression_by_noise(sd: np.ndarray, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, len(sd))
    return pd.DataFrame({"y": y, "pred": y + rng.normal(0, 1, len(sd)) * sd})


# ---------------------------------------------------------------------------------------------- constant_predictions


def test_constant_predictions_binary_all_negative() -> None:
    df = calibrated(1000).assign(p=lambda d: d["p"] * 0.4)  # every score below the 0.5 threshold
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    (finding,) = of(ev, "constant_predictions")
    assert finding.severity == "high"
    assert finding.section == "#overall"
    assert finding.detail == "The model predicts negative for 100.0% of rows."


def test_constant_predictions_multiclass_near_constant() -> None:
    df = multiclass_by_correctness(np.full(1000, 0.5))
    df["pred"] = "bee"
    df.loc[:4, "pred"] = "ant"  # 5 of 1000 differ: 99.5% one class, above the 99% line
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R)
    (finding,) = of(ev, "constant_predictions")
    assert (finding.severity, finding.section) == ("high", "#overall")
    assert finding.detail == "The model predicts bee for 99.5% of rows."


def test_constant_predictions_regression_barely_varies() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0, 2, 500)
    df = pd.DataFrame({"y": y, "pred": 0.001 * y})  # spread 0.1% of the target's
    ev = reportgen.evaluate(df, label="y", prediction="pred", resamples=R)
    (finding,) = of(ev, "constant_predictions")
    assert (finding.severity, finding.section) == ("high", "#overall")
    assert f"{np.std(0.001 * y):.4g}, against {np.std(y):.4g}" in finding.detail


def test_constant_predictions_quiet_when_predictions_vary() -> None:
    df = calibrated(1000)
    df.loc[:979, "p"] = 0.1  # 98% negative predictions: below the 99% line
    df.loc[980:, "p"] = 0.9
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    assert of(ev, "constant_predictions") == []
    ev = reportgen.evaluate(regression_by_noise(np.ones(500)), label="y", prediction="pred", resamples=R)
    assert of(ev, "constant_predictions") == []


# ---------------------------------------------------------------------------------------------- class_imbalance


def test_class_imbalance_binary() -> None:
    df = by_correctness(np.full(1000, 0.9))
    df["y"] = (np.arange(1000) < 100).astype(int)  # 10% positive
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    (finding,) = of(ev, "class_imbalance")
    assert (finding.severity, finding.section) == ("medium", "#overall")
    assert "Only 10.0% of rows are positive" in finding.detail
    assert "would score an accuracy of 0.900" in finding.detail
    assert f"balanced accuracy is {overall(ev, 'balanced_accuracy'):.3f}" in finding.detail
    assert [e.metric for e in finding.evidence] == ["prevalence", "accuracy", "balanced_accuracy",
                                                   "average_precision", "mcc"]
    assert finding.evidence[0].value == pytest.approx(0.1)
    assert finding.evidence[0].n == 1000


def test_class_imbalance_binary_rare_negative() -> None:
    df = by_correctness(np.full(500, 0.9))
    df["y"] = (np.arange(500) >= 50).astype(int)  # 10% negative
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    (finding,) = of(ev, "class_imbalance")
    assert "Only 10.0% of rows are negative" in finding.detail


def test_class_imbalance_multiclass() -> None:
    y = ["ant"] * 300 + ["bee"] * 100 + ["cat"] * 50  # 6×
    df = pd.DataFrame({"y": y, "pred": y})
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R)
    (finding,) = of(ev, "class_imbalance")
    assert (finding.severity, finding.section) == ("medium", "#overall")
    assert 'Class "ant" has 66.7% of rows and "cat" 11.1% (6×)' in finding.detail
    assert [e.metric for e in finding.evidence] == ["accuracy", "balanced_accuracy", "macro_f1"]


@pytest.mark.parametrize(
    ("counts", "fires"), [((250, 100, 50), True), ((249, 100, 50), False), ((200, 200, 200), False)]
)
def test_class_imbalance_multiclass_ratio_boundary(counts: tuple[int, int, int], fires: bool) -> None:
    y = [name for name, k in zip(("ant", "bee", "cat"), counts, strict=True) for _ in range(k)]
    df = pd.DataFrame({"y": y, "pred": y})
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R)
    assert bool(of(ev, "class_imbalance")) is fires


@pytest.mark.parametrize("positives", [200, 500])
def test_class_imbalance_quiet_when_balanced_enough(positives: int) -> None:
    df = by_correctness(np.full(1000, 0.9))
    df["y"] = (np.arange(1000) < positives).astype(int)  # 20% (the line itself) and 50%
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    assert of(ev, "class_imbalance") == []


def test_class_imbalance_not_for_regression() -> None:
    ev = reportgen.evaluate(regression_by_noise(np.ones(300)), label="y", prediction="pred", resamples=R)
    assert of(ev, "class_imbalance") == []


# ---------------------------------------------------------------------------------------------- weak_slices


def planted(n: int = 1200, bad_share: float = 0.25, good: float = 0.85, bad: float = 0.55, seed: int = 0) -> pd.DataFrame:
    """Binary data whose `region == "bad"` rows are predicted worse; `noise` is an unrelated column."""
    rng = np.random.default_rng(seed + 100)  # not the labels' generator: the two would be correlated
    region = np.where(np.arange(n) < bad_share * n, "bad", "good")
    df = by_correctness(np.where(region == "bad", bad, good), seed=seed)
    return df.assign(region=region, noise=rng.choice(["x", "y"], n))


def test_weak_slice_binary_planted_weakness_is_found() -> None:
    df = planted()
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "noise"}, {"column": "region"}], resamples=R)
    weak = of(ev, "weak_slice")
    assert weak, "the planted weak group was not found"
    assert {(f.evidence[0].slice, f.evidence[0].group) for f in weak} == {("region", "bad")}
    accuracy = next(f for f in weak if f.evidence[0].metric == "accuracy")
    assert accuracy.severity == "high"
    assert accuracy.section == "#slice-2"  # the second configured slice
    assert accuracy.title == 'Accuracy is significantly worse for region = "bad" than for the rest of the data.'
    evidence = accuracy.evidence[0]
    assert evidence.n == 300
    bad_rows = df[df["region"] == "bad"]
    assert evidence.value == pytest.approx(((bad_rows["p"] >= 0.5) == bad_rows["y"]).mean())
    assert evidence.compared_with == pytest.approx(overall(ev, "accuracy"))
    assert evidence.q_value is not None and evidence.p_value is not None
    assert evidence.p_value <= evidence.q_value <= 0.05
    assert evidence.ci_low < evidence.value < evidence.ci_high
    assert "over 12 tests" in accuracy.detail  # 2 slices × 2 groups × 3 metrics
    assert "false discovery rate 0.05" in accuracy.detail
    assert f"{evidence.value:.3f}" in accuracy.detail and "300 rows" in accuracy.detail


def test_weak_slice_small_gap_is_medium() -> None:
    n = 20000
    region = np.where(np.arange(n) < n // 4, "bad", "good")
    df = by_correctness(np.where(region == "bad", 0.75, 0.80)).assign(region=region)
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "region"}], resamples=R)
    accuracy = next(f for f in of(ev, "weak_slice") if f.evidence[0].metric == "accuracy")
    assert accuracy.severity == "medium"
    assert accuracy.evidence[0].group == "bad"
    assert abs(accuracy.evidence[0].value - accuracy.evidence[0].compared_with) < findings.LARGE_GAP


def test_weak_slice_multiclass() -> None:
    n = 1200
    region = np.where(np.arange(n) < 300, "bad", "good")
    df = multiclass_by_correctness(np.where(region == "bad", 0.4, 0.8)).assign(region=region)
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", slices=[{"column": "region"}],
                            resamples=R)
    (finding,) = of(ev, "weak_slice")
    assert (finding.severity, finding.section) == ("high", "#slice-1")
    evidence = finding.evidence[0]
    assert (evidence.slice, evidence.group, evidence.metric, evidence.n) == ("region", "bad", "accuracy", 300)
    assert evidence.value == pytest.approx((df["y"] == df["pred"])[region == "bad"].mean())
    assert "over 2 tests" in finding.detail


def test_weak_slice_regression() -> None:
    n = 1200
    region = np.where(np.arange(n) < 300, "bad", "good")
    df = regression_by_noise(np.where(region == "bad", 2.0, 1.0)).assign(region=region)
    ev = reportgen.evaluate(df, label="y", prediction="pred", slices=[{"column": "region"}], resamples=R)
    (finding,) = of(ev, "weak_slice")
    assert (finding.severity, finding.section) == ("high", "#slice-1")
    evidence = finding.evidence[0]
    assert (evidence.group, evidence.metric) == ("bad", "mae")
    errors = (df["y"] - df["pred"]).abs()
    assert evidence.value == pytest.approx(errors[region == "bad"].mean())
    assert evidence.compared_with == pytest.approx(errors.mean())
    difference = errors[region == "bad"].mean() - errors[region == "good"].mean()
    assert f"{difference:+.3f}" in finding.detail


def test_weak_slice_regression_small_excess_is_medium() -> None:
    n = 20000
    region = np.where(np.arange(n) < n // 2, "bad", "good")
    df = regression_by_noise(np.where(region == "bad", 1.1, 1.0)).assign(region=region)
    ev = reportgen.evaluate(df, label="y", prediction="pred", slices=[{"column": "region"}], resamples=R)
    (finding,) = of(ev, "weak_slice")
    assert finding.severity == "medium"  # about 10% above the rest, below the 20% line


def test_weak_slice_better_group_is_not_weak() -> None:
    # "good" is significantly different from the rest too, but better: only "bad" is reported
    ev = reportgen.evaluate(planted(), label="y", score="p", slices=[{"column": "region"}], resamples=R)
    assert all(f.evidence[0].group == "bad" for f in of(ev, "weak_slice"))


def test_weak_slice_skips_groups_below_min_support() -> None:
    df = planted()
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "region"}], min_support=301, resamples=R)
    assert of(ev, "weak_slice") == []


def test_weak_slice_caps_at_five_plus_a_summary() -> None:
    n = 4000
    region = np.array([f"r{i}" for i in range(8)])[np.arange(n) % 8]
    accuracy = np.where(np.isin(region, ["r0", "r1"]), 0.95, 0.5)  # 6 groups much worse than the rest
    df = by_correctness(accuracy).assign(region=region)
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "region"}], resamples=R)
    accuracy_findings = [f for f in of(ev, "weak_slice") if f.evidence and f.evidence[0].metric == "accuracy"]
    weak = of(ev, "weak_slice")
    assert len([f for f in weak if f.evidence]) == findings.MAX_WEAK_SLICES
    (summary,) = [f for f in weak if not f.evidence]
    assert summary.severity == "low" and summary.section == "#slices"
    assert summary.title.endswith("more groups are significantly worse than the rest of the data.")
    assert accuracy_findings  # the gaps are large, so accuracy is among the five


def test_weak_slice_null_no_finding_for_most_seeds() -> None:
    """Errors independent of the slice column: Benjamini–Hochberg keeps false findings rare."""
    n = 800
    quiet = 0
    for seed in range(20):
        rng = np.random.default_rng(1000 + seed)
        df = by_correctness(np.full(n, 0.75), seed=seed).assign(region=rng.choice(list("abcd"), n))
        ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "region"}], resamples=R)
        quiet += not of(ev, "weak_slice")
    assert quiet >= 18


# ---------------------------------------------------------------------------------------------- fairness_breaches


def test_fairness_gap_significant_is_high() -> None:
    df = calibrated(2000, seed=1)
    df["sex"] = np.where(np.arange(2000) % 2 == 0, "f", "m")
    df["race"] = np.where(np.arange(2000) % 4 < 2, "a", "b")  # independent of everything: no gap
    df.loc[df["sex"] == "m", "p"] = np.clip(df["p"] + 0.3, 0, 1)
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["race", "sex"], resamples=R)
    (finding,) = of(ev, "fairness_gap")
    assert finding.severity == "high"
    assert finding.section == "#fairness-2"  # sex is the second sensitive column
    breached = ev.fairness[(ev.fairness["sensitive"] == "sex") & ev.fairness["breached"].eq(True)]
    assert len(finding.evidence) == len(breached) >= 2
    assert [e.metric for e in finding.evidence] == breached["gap"].tolist()
    parity = next(e for e in finding.evidence if e.metric == "demographic_parity_difference")
    selection = df.assign(s=df["p"] >= 0.5).groupby("sex")["s"].mean()
    assert parity.value == pytest.approx(selection["m"] - selection["f"])
    assert parity.compared_with == 0.1
    assert f"demographic parity difference {parity.value:.3f}" in finding.detail
    assert finding.title.startswith(f"{len(breached)} fairness gaps across sex are beyond the threshold, ")


def test_fairness_gap_not_significant_is_medium() -> None:
    # 20 rows per group: selection rates 0.5 and 0.65 differ by 0.15 > 0.1, but the interval includes 0
    y = np.tile([1, 0], 20)
    f_pred = np.arange(20) < 10
    m_pred = np.arange(20) < 13
    df = pd.DataFrame({"y": y, "p": np.where(np.concatenate([f_pred, m_pred]), 0.9, 0.1),
                       "sex": ["f"] * 20 + ["m"] * 20})
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["sex"], min_support=10, resamples=R)
    (finding,) = of(ev, "fairness_gap")
    assert finding.severity == "medium"
    assert finding.section == "#fairness-1"
    assert finding.title.endswith(", none significantly.")
    assert "not significant" in finding.detail and "may be noise" in finding.detail
    parity = next(e for e in finding.evidence if e.metric == "demographic_parity_difference")
    assert parity.value == pytest.approx(0.15)
    assert parity.ci_low <= 0 <= parity.ci_high


def test_fairness_gap_quiet_when_groups_are_identical() -> None:
    df = calibrated(1000)
    df = pd.concat([df.assign(sex="f"), df.assign(sex="m")], ignore_index=True)
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["sex"], resamples=R)
    assert of(ev, "fairness_gap") == []
    assert not ev.fairness["breached"].eq(True).any()


# ---------------------------------------------------------------------------------------------- poor_calibration


def test_poor_calibration_binary_overconfident() -> None:
    df = calibrated(2000)
    df["p"] = np.where(df["p"] >= 0.5, 0.99, 0.01)
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    (finding,) = of(ev, "poor_calibration")
    assert (finding.severity, finding.section) == ("medium", "#calibration")
    ece = overall(ev, "ece")
    assert ece > 0.2
    assert finding.title == f"The model's scores are poorly calibrated (ECE {ece:.3f}, above 0.05)."
    assert f"MCE, is {overall(ev, 'mce'):.3f}" in finding.detail
    assert [e.metric for e in finding.evidence] == ["ece", "mce", "ece_quantile"]
    assert finding.evidence[0].value == pytest.approx(ece)


def test_poor_calibration_multiclass_top_label() -> None:
    rng = np.random.default_rng(0)
    n = 600
    y = rng.choice(["ant", "bee", "cat"], n)
    probabilities = rng.dirichlet([1, 1, 1], n)  # unrelated to the labels, often confident
    df = pd.DataFrame({"y": y, **{f"p_{c}": probabilities[:, k] for k, c in enumerate(["ant", "bee", "cat"])}})
    ev = reportgen.evaluate(df, label="y", score_prefix="p_", resamples=R)
    (finding,) = of(ev, "poor_calibration")
    assert "top-label probabilities" in finding.title
    assert "temperature scaling" in finding.suggestions[0]


def test_poor_calibration_quiet_when_calibrated() -> None:
    ev = reportgen.evaluate(calibrated(4000), label="y", score="p", resamples=R)
    assert overall(ev, "ece") < 0.05
    assert of(ev, "poor_calibration") == []


def test_poor_calibration_follows_max_ece() -> None:
    df = calibrated(2000)
    df["p"] = np.where(df["p"] >= 0.5, 0.99, 0.01)
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    lenient = replace(ev, config=ev.config.model_copy(update={"findings": FindingsSection(max_ece=0.9)}))
    assert findings.poor_calibration(lenient) == []
    assert findings.poor_calibration(ev)


def test_poor_calibration_not_without_probabilities() -> None:
    df = multiclass_by_correctness(np.full(300, 0.1))  # no probability columns: no ECE
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R)
    assert of(ev, "poor_calibration") == []


# ---------------------------------------------------------------------------------------------- threshold_choice


def test_threshold_choice_better_f1_threshold() -> None:
    ev = reportgen.evaluate(calibrated(2000, seed=1), label="y", score="p", resamples=R)
    (finding,) = of(ev, "threshold_choice")
    choice = ev.curves.thresholds
    f1 = overall(ev, "f1")
    assert (finding.severity, finding.section) == ("low", "#overall")
    assert choice.f1 - f1 >= findings.F1_GAIN
    assert finding.title == (f"A decision threshold of {choice.f1_threshold:.3g} would raise F1 from {f1:.3f} "
                             f"to {choice.f1:.3f}.")
    assert finding.detail.startswith("With threshold 0.5, F1 is")
    (evidence,) = finding.evidence
    assert (evidence.metric, evidence.value, evidence.compared_with) == ("f1", pytest.approx(f1), choice.f1)


def test_threshold_choice_names_the_prediction_column() -> None:
    df = calibrated(2000, seed=1)
    df["pred"] = (df["p"] >= 0.5).astype(int)
    ev = reportgen.evaluate(df, label="y", score="p", prediction="pred", resamples=R)
    (finding,) = of(ev, "threshold_choice")
    assert finding.detail.startswith('With the "pred" column, F1 is')


def test_threshold_choice_quiet_when_threshold_is_best() -> None:
    df = calibrated(1000)
    df["p"] = np.where(df["y"] == 1, 0.6 + 0.4 * df["p"], 0.4 * df["p"])  # separable at 0.5: F1 = 1
    ev = reportgen.evaluate(df, label="y", score="p", resamples=R)
    assert overall(ev, "f1") == 1.0
    assert of(ev, "threshold_choice") == []


# ---------------------------------------------------------------------------------------------- systematic_bias


@pytest.mark.parametrize(("shift", "direction"), [(0.5, "under-predicts"), (-0.5, "over-predicts")])
def test_systematic_bias(shift: float, direction: str) -> None:
    df = regression_by_noise(np.full(500, 0.2))
    df["pred"] -= shift
    ev = reportgen.evaluate(df, label="y", prediction="pred", resamples=R)
    (finding,) = of(ev, "systematic_bias")
    mean_residual = float((df["y"] - df["pred"]).mean())
    assert (finding.severity, finding.section) == ("low", "#overall")
    assert finding.title == f"The model {direction} on average, by {abs(mean_residual):.4g}."
    (evidence,) = finding.evidence
    assert evidence.metric == "mean_residual"
    assert evidence.value == pytest.approx(mean_residual)
    assert not evidence.ci_low <= 0 <= evidence.ci_high


def test_systematic_bias_quiet_when_residuals_centred() -> None:
    y = np.linspace(0, 10, 400)
    df = pd.DataFrame({"y": y, "pred": y + np.tile([0.3, -0.3], 200)})  # mean residual exactly 0
    ev = reportgen.evaluate(df, label="y", prediction="pred", resamples=R)
    assert of(ev, "systematic_bias") == []


def test_systematic_bias_not_for_classification() -> None:
    ev = reportgen.evaluate(calibrated(500), label="y", score="p", resamples=R)
    assert of(ev, "systematic_bias") == []


# ---------------------------------------------------------------------------------------------- undefined_metrics


def test_undefined_metrics_overall_constant_targets() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": np.full(200, 3.0), "pred": 3.0 + rng.normal(0, 0.1, 200)})
    ev = reportgen.evaluate(df, label="y", prediction="pred", task="regression", resamples=R)
    (finding,) = of(ev, "undefined_metrics")
    assert (finding.severity, finding.section) == ("medium", "#overall")
    assert {e.metric for e in finding.evidence} == {"r2", "explained_variance"}
    labels = [ev.registry[m].label for m in ("r2", "explained_variance")]
    assert all(label in finding.title for label in labels)
    assert finding.title.endswith("are undefined on the whole evaluation set.")
    assert finding.detail == "Reasons: 2 × all targets in this group are equal."


def test_undefined_metrics_in_some_groups_is_low() -> None:
    df = by_correctness(np.full(600, 0.8))
    df["region"] = np.where(np.arange(600) < 100, "neg", "mixed")
    df.loc[df["region"] == "neg", "y"] = 0  # no positives there: recall and friends undefined
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "region"}], resamples=R)
    (finding,) = of(ev, "undefined_metrics")
    assert (finding.severity, finding.section) == ("low", "#slices")
    undefined = ev.metrics[ev.metrics["value"].isna() & (ev.metrics["n"] > 0)]
    assert set(undefined["group"]) == {"neg"}
    assert "recall" in set(undefined["metric"])
    assert finding.title == f"{len(undefined)} metric values are undefined in some groups (shown as n/a, never as 0)."
    assert finding.evidence == []
    total = sum(int(part.split(" × ")[0]) for part in finding.detail.removeprefix("Reasons: ").split("; "))
    assert total == len(undefined)


def test_undefined_metrics_quiet_when_all_defined() -> None:
    ev = reportgen.evaluate(calibrated(500), label="y", score="p", resamples=R)
    assert not ev.metrics["value"].isna().any()
    assert of(ev, "undefined_metrics") == []


# ---------------------------------------------------------------------------------------------- small_slices


def test_small_slices() -> None:
    df = calibrated(500)
    df["site"] = np.where(np.arange(500) < 12, "tiny", np.where(np.arange(500) < 40, "small", "big"))
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "site"}], resamples=R)
    (finding,) = of(ev, "small_slices")
    assert (finding.severity, finding.section) == ("low", "#slices")
    assert finding.title.startswith("2 groups have fewer than 30 rows")
    assert 'site = "small" (28)' in finding.detail and 'site = "tiny" (12)' in finding.detail
    counts = {e.group: (e.value, e.n, e.metric) for e in finding.evidence}
    assert counts == {"small": (28.0, 28, "count"), "tiny": (12.0, 12, "count")}


def test_small_slices_many_groups_are_capped() -> None:
    df = calibrated(300)
    df["site"] = [f"s{i:02d}" for i in range(10)] * 30  # 10 groups of 30
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "site"}], min_support=31, resamples=R)
    (finding,) = of(ev, "small_slices")
    assert finding.title.startswith("10 groups have fewer than 31 rows")
    assert finding.detail.count('site = "') == 8 and ", and 2 more" in finding.detail


def test_small_slices_quiet_at_min_support() -> None:
    df = calibrated(300)
    df["site"] = ["a", "b", "c"] * 100
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "site"}], min_support=100, resamples=R)
    assert of(ev, "small_slices") == []


# ---------------------------------------------------------------------------------------------- benjamini_hochberg


def reference_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg by its definition: q_i = min over j with p_j ≥ p_i of p_j·m/rank_j, capped at 1."""
    m = len(p)
    ranks = np.array([np.sum(p <= v) for v in p])  # ties share the largest rank
    q = np.array([min(min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i]), 1.0) for i in range(m)])
    return q


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_matches_references(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 20), rng.uniform(0, 0.01, 5), [0.03, 0.03, 1.0, 0.0]])
    rng.shuffle(p)
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q, false_discovery_control(p, method="bh"), rtol=0, atol=1e-12)
    np.testing.assert_allclose(q, reference_bh(p), rtol=0, atol=1e-12)


def test_benjamini_hochberg_edges() -> None:
    assert benjamini_hochberg(np.array([])).shape == (0,)
    assert benjamini_hochberg(np.array([0.2])).tolist() == [0.2]
    assert benjamini_hochberg(np.array([0.9, 0.95])).tolist() == [0.95, 0.95]


# ---------------------------------------------------------------------------------------------- order


def test_findings_are_ordered_by_severity() -> None:
    # constant (high), imbalance (medium), small slices (low) and more, all from one evaluation
    df = calibrated(1000)
    df["y"] = (np.arange(1000) < 100).astype(int)
    df["p"] = df["p"] * 0.4
    df["site"] = np.where(np.arange(1000) < 10, "tiny", "big")
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "site"}], resamples=R)
    severities = [f.severity for f in ev.findings]
    assert {"high", "medium", "low"} <= set(severities)
    assert severities == sorted(severities, key=findings.SEVERITIES.index)


def test_derive_findings_sorts_stably_by_severity(monkeypatch: pytest.MonkeyPatch) -> None:
    def make(name: str, severity: str) -> Finding:
        return Finding(id=name, severity=severity, title="", detail="", section="#overall", evidence=[],
                       suggestions=[])

    rules = (
        lambda ev: [make("a", "low"), make("b", "high")],
        lambda ev: [make("c", "medium"), make("d", "low")],
        lambda ev: [make("e", "high")],
    )
    monkeypatch.setattr(findings, "RULES", rules)
    assert [f.id for f in derive_findings(None)] == ["b", "e", "c", "a", "d"]  # type: ignore[arg-type]


def test_every_rule_is_covered() -> None:
    assert [rule.__name__ for rule in findings.RULES] == [
        "constant_predictions", "class_imbalance", "weak_slices", "fairness_breaches", "poor_calibration",
        "threshold_choice", "systematic_bias", "undefined_metrics", "small_slices",
    ]
    assert Evidence.__dataclass_fields__.keys() >= {"p_value", "q_value", "compared_with"}
