"""Findings: each rule, on narrow inputs built directly, fires on data made to trigger it and stays quiet otherwise.

The inputs (`FindingInputs`) are built from a small frame with `check_predictions` and `measure`, the
fairness gaps with `measure_fairness` or by hand; only the last test runs a whole evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, false_discovery_control
from sklearn.metrics import balanced_accuracy_score, f1_score, precision_recall_curve

import reportgen
from reportgen.analysis import fairness, findings
from reportgen.analysis.base import SECTIONS, SEVERITIES, Finding, ordered
from reportgen.analysis.findings import FindingInputs, derive_findings
from reportgen.config import DataSection, FairnessSection, ReportSection, SliceSpec
from reportgen.io import check_predictions
from reportgen.metrics.measure import measure

MINUS = "\u2212"
HYPOTHESIS = settings(max_examples=25, deadline=None)


def inputs_for(
    df: pd.DataFrame,
    *,
    task: str | None = None,
    slices: Sequence[str] = (),
    sensitive: Sequence[str] = (),
    min_support: int = 30,
    fdr: float = 0.05,
    max_ece: float = 0.05,
    **data: object,
) -> FindingInputs:
    """The rules' inputs for `df` (label column "y"; `data` names the other columns as `[data]` does).

    `slices` and `sensitive` are columns sliced by value; the fairness gaps are measured with the
    default thresholds (0.1 and 0.8), the largest group as reference.
    """
    section = DataSection(label="y", **data)
    predictions = check_predictions(df, section, task=task, source="test.csv")
    columns = [*slices, *[c for c in sensitive if c not in slices]]
    measured = measure(predictions, [SliceSpec(column=c) for c in columns],
                       ReportSection(resamples=100, min_support=min_support))
    families = {}
    for column in sensitive:
        family = fairness.sensitive_family(measured.families, column)
        families[column] = (family, measured.statistics[family.name])
    gaps = fairness.measure_fairness(
        families, task=measured.task, classes=predictions.classes, references={},
        thresholds=fairness.thresholds_for(FairnessSection(), measured.task, measured.overall("mae")), level=0.95,
        fdr=fdr,
    ).gaps
    return FindingInputs(predictions, measured, gaps, min_support=min_support, fdr=fdr, max_ece=max_ece,
                         threshold=section.threshold, prediction_column=section.prediction)


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


def signed_text(value: float) -> str:
    """A difference as the card writes it: sign, three decimals, U+2212 for minus."""
    return f"{value:+.3f}".replace("-", MINUS)


def q_text(q: float) -> str:
    return "q < 0.001" if q < 0.001 else f"q = {q:.3g}"


def assert_card_numbers(text: str) -> None:
    """No ASCII hyphen used as a minus sign."""
    assert not re.search(r"(?<![\w])-\d", text), text


def assert_well_formed(finding: Finding) -> None:
    assert finding.severity in SEVERITIES and finding.section in SECTIONS
    assert "#" not in finding.section
    assert_card_numbers(finding.title)
    assert_card_numbers(finding.detail)


# ---------------------------------------------------------------------------------------------- constant_predictions


def test_constant_predictions_binary_all_negative() -> None:
    df = calibrated(1000).assign(p=lambda d: d["p"] * 0.4)  # every score below the 0.5 threshold
    (finding,) = findings.constant_predictions(inputs_for(df, score="p"))
    assert (finding.id, finding.severity, finding.section, finding.subject) == (
        "constant_predictions", "high", "overall", None)
    assert finding.detail == "The model predicts negative for 100.0% of rows."
    assert finding.evidence == []


def test_constant_predictions_binary_all_positive_names_the_label() -> None:
    df = calibrated(500).assign(y=lambda d: np.where(d["y"] == 1, "yes", "no"), p=lambda d: 0.6 + 0.4 * d["p"])
    (finding,) = findings.constant_predictions(inputs_for(df, score="p", positive_label="yes"))
    assert finding.detail == "The model predicts positive (yes) for 100.0% of rows."


def test_constant_predictions_multiclass_near_constant() -> None:
    df = multiclass_by_correctness(np.full(1000, 0.5))
    df["pred"] = "bee"
    df.loc[:4, "pred"] = "ant"  # 5 of 1000 differ: 99.5% one class, above the 99% line
    (finding,) = findings.constant_predictions(inputs_for(df, prediction="pred", task="multiclass"))
    assert (finding.severity, finding.section, finding.subject) == ("high", "overall", None)
    assert finding.detail == "The model predicts bee for 99.5% of rows."


def test_constant_predictions_regression_barely_varies() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0, 2, 500)
    df = pd.DataFrame({"y": y, "pred": 0.001 * y})  # spread 0.1% of the target's
    (finding,) = findings.constant_predictions(inputs_for(df, prediction="pred"))
    assert (finding.severity, finding.section, finding.subject) == ("high", "overall", None)
    assert f"{np.std(0.001 * y):.4g}, against {np.std(y):.4g}" in finding.detail


def test_constant_predictions_quiet_when_predictions_vary() -> None:
    df = calibrated(1000)
    df.loc[:979, "p"] = 0.1  # 98% negative predictions: below the 99% line
    df.loc[980:, "p"] = 0.9
    assert findings.constant_predictions(inputs_for(df, score="p")) == []
    assert findings.constant_predictions(inputs_for(regression_by_noise(np.ones(500)), prediction="pred")) == []


@HYPOTHESIS
@given(n=st.integers(100, 400), differing=st.integers(0, 8), seed=st.integers(0, 2**16))
def test_constant_predictions_fires_from_99_percent_of_one_class(n: int, differing: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.full(n, 0.1)
    p[rng.choice(n, differing, replace=False)] = 0.9
    df = pd.DataFrame({"y": rng.integers(0, 2, n), "p": p})
    fired = findings.constant_predictions(inputs_for(df, score="p"))
    assert bool(fired) is ((n - differing) / n >= 0.99)


# ---------------------------------------------------------------------------------------------- class_imbalance


def test_class_imbalance_binary() -> None:
    df = by_correctness(np.full(1000, 0.9))
    df["y"] = (np.arange(1000) < 100).astype(int)  # 10% positive
    (finding,) = findings.class_imbalance(inputs_for(df, score="p"))
    assert (finding.severity, finding.section, finding.subject) == ("medium", "overall", None)
    assert "Only 10.0% of rows are positive" in finding.detail
    assert "would score an accuracy of 0.900" in finding.detail
    balanced = balanced_accuracy_score(df["y"], df["p"] >= 0.5)
    assert f"balanced accuracy is {balanced:.3f}" in finding.detail
    assert [e.metric for e in finding.evidence] == ["prevalence", "accuracy", "balanced_accuracy",
                                                   "average_precision", "mcc"]
    assert finding.evidence[0].value == pytest.approx(0.1)
    assert finding.evidence[0].n == 1000
    assert_well_formed(finding)


def test_class_imbalance_binary_rare_negative() -> None:
    df = by_correctness(np.full(500, 0.9))
    df["y"] = (np.arange(500) >= 50).astype(int)  # 10% negative
    (finding,) = findings.class_imbalance(inputs_for(df, score="p"))
    assert "Only 10.0% of rows are negative" in finding.detail


@HYPOTHESIS
@given(positives=st.integers(1, 399))
def test_class_imbalance_binary_fires_below_a_fifth(positives: int) -> None:
    df = by_correctness(np.full(400, 0.9))
    df["y"] = (np.arange(400) < positives).astype(int)
    fired = findings.class_imbalance(inputs_for(df, score="p"))
    assert bool(fired) is (min(positives, 400 - positives) / 400 < 0.2)


@pytest.mark.parametrize("positives", [80, 320])
def test_class_imbalance_binary_line_is_the_same_for_either_rare_class(positives: int) -> None:
    # a fifth of the rows negative used to fire: 1 - 0.8 is 0.19999999999999996 in floating point
    df = by_correctness(np.full(400, 0.9))
    df["y"] = (np.arange(400) < positives).astype(int)
    assert findings.class_imbalance(inputs_for(df, score="p")) == []


def test_class_imbalance_multiclass() -> None:
    y = ["ant"] * 300 + ["bee"] * 100 + ["cat"] * 50  # 6×
    df = pd.DataFrame({"y": y, "pred": y})
    (finding,) = findings.class_imbalance(inputs_for(df, prediction="pred", task="multiclass"))
    assert (finding.severity, finding.section, finding.subject) == ("medium", "overall", None)
    assert 'Class "ant" has 66.7% of rows and "cat" 11.1% (6×)' in finding.detail
    assert [e.metric for e in finding.evidence] == ["accuracy", "balanced_accuracy", "macro_f1"]


@pytest.mark.parametrize(
    ("counts", "fires"), [((250, 100, 50), True), ((249, 100, 50), False), ((200, 200, 200), False)]
)
def test_class_imbalance_multiclass_ratio_boundary(counts: tuple[int, int, int], fires: bool) -> None:
    y = [name for name, k in zip(("ant", "bee", "cat"), counts, strict=True) for _ in range(k)]
    df = pd.DataFrame({"y": y, "pred": y})
    assert bool(findings.class_imbalance(inputs_for(df, prediction="pred", task="multiclass"))) is fires


def test_class_imbalance_not_for_regression() -> None:
    assert findings.class_imbalance(inputs_for(regression_by_noise(np.ones(300)), prediction="pred")) == []


# ---------------------------------------------------------------------------------------------- weak_slices


def planted(n: int = 1200, bad_share: float = 0.25, good: float = 0.85, bad: float = 0.55, seed: int = 0) -> pd.DataFrame:
    """Binary data whose `region == "bad"` rows are predicted worse; `noise` is an unrelated column."""
    rng = np.random.default_rng(seed + 100)  # not the labels' generator: the two would be correlated
    region = np.where(np.arange(n) < bad_share * n, "bad", "good")
    df = by_correctness(np.where(region == "bad", bad, good), seed=seed)
    return df.assign(region=region, noise=rng.choice(["x", "y"], n))


def weak_oracle(df: pd.DataFrame, columns: Sequence[str], min_support: int = 30, fdr: float = 0.05) -> dict:
    """Binary weak slices by their definition, with scipy: each group against the rest of the data on
    accuracy, recall and FPR (the chi-squared test without correction is the pooled z-test) where the
    rows each metric is computed on (all rows, the positives, the negatives) number `min_support` in the
    group and in the rest, then Benjamini–Hochberg. Returns (slice, group, metric) → (difference, p, q, weak)."""
    predicted = df["p"].to_numpy() >= 0.5
    y = df["y"].to_numpy() == 1
    counted = {"accuracy": (predicted == y, np.ones(len(df), bool)), "recall": (predicted, y), "fpr": (predicted, ~y)}
    keys, differences, p_values = [], [], []
    for column in columns:
        for group in sorted(df[column].unique()):
            inside = (df[column] == group).to_numpy()
            for metric, (hit, among) in counted.items():
                k, m = hit[inside & among].sum(), (inside & among).sum()
                k_rest, m_rest = hit[~inside & among].sum(), (~inside & among).sum()
                if m < min_support or m_rest < min_support:
                    continue
                table = [[k, m - k], [k_rest, m_rest - k_rest]]
                pooled = (k + k_rest) / (m + m_rest)
                p = chi2_contingency(table, correction=False).pvalue if 0 < pooled < 1 else 1.0
                keys.append((column, str(group), metric))
                differences.append(k / m - k_rest / m_rest)
                p_values.append(p)
    q_values = false_discovery_control(np.array(p_values), method="bh")
    return {
        key: (d, p, q, q <= fdr and (d < 0 if metric != "fpr" else d > 0))
        for key, d, p, q, metric in zip(keys, differences, p_values, q_values, [k[2] for k in keys], strict=True)
    }


def test_weak_slices_binary_planted_weakness_is_found() -> None:
    df = planted()
    weak = findings.weak_slices(inputs_for(df, score="p", slices=["noise", "region"]))
    assert weak, "the planted weak group was not found"
    assert {(f.evidence[0].slice, f.evidence[0].group) for f in weak} == {("region", "bad")}
    assert {(f.section, f.subject) for f in weak} == {("slices", "region")}
    accuracy = next(f for f in weak if f.evidence[0].metric == "accuracy")
    assert accuracy.severity == "high"
    assert accuracy.title == 'Accuracy is significantly worse for region = "bad" than for the rest of the data.'
    evidence = accuracy.evidence[0]
    bad_rows, good_rows = df[df["region"] == "bad"], df[df["region"] == "good"]
    assert evidence.n == 300
    assert evidence.value == pytest.approx(((bad_rows["p"] >= 0.5) == bad_rows["y"]).mean())
    assert evidence.compared_with == pytest.approx(((df["p"] >= 0.5) == df["y"]).mean())
    assert evidence.ci_low < evidence.value < evidence.ci_high
    oracle = weak_oracle(df, ["noise", "region"])
    assert len(oracle) == 12  # 2 slices × 2 groups × 3 metrics
    difference, p, q, _ = oracle[("region", "bad", "accuracy")]
    # two_sided loses p-values below about 1e-16 to 0: agreement is absolute
    assert (evidence.p_value, evidence.q_value) == (pytest.approx(p, rel=1e-6, abs=1e-12),
                                                    pytest.approx(q, rel=1e-6, abs=1e-12))
    assert difference < 0
    good_accuracy = ((good_rows["p"] >= 0.5) == good_rows["y"]).mean()
    assert difference == pytest.approx(evidence.value - good_accuracy)
    assert f"the rest of the data, {signed_text(difference)}, is significant" in accuracy.detail
    assert f"over 12 tests ({q_text(q)}, false discovery rate 0.05)" in accuracy.detail
    assert f"{evidence.value:.3f} ({evidence.ci_low:.3f}–{evidence.ci_high:.3f}, 300 rows)" in accuracy.detail
    assert_well_formed(accuracy)


@HYPOTHESIS
@given(
    accuracies=st.lists(st.sampled_from([0.5, 0.6, 0.7, 0.8, 0.9]), min_size=2, max_size=6),
    sizes=st.lists(st.integers(10, 200), min_size=6, max_size=6),
    seed=st.integers(0, 2**16),
)
def test_weak_slices_binary_agree_with_scipy(accuracies: list[float], sizes: list[int], seed: int) -> None:
    groups = np.repeat([f"g{i}" for i in range(len(accuracies))], sizes[: len(accuracies)])
    per_row = np.repeat(accuracies, sizes[: len(accuracies)])
    df = by_correctness(per_row, seed=seed).assign(region=groups)
    found = findings.weak_slices(inputs_for(df, score="p", slices=["region"]))
    weak = {key: value for key, value in weak_oracle(df, ["region"]).items() if value[3]}
    listed = [f for f in found if f.evidence]
    assert len(listed) == min(len(weak), findings.MAX_WEAK_SLICES)
    for finding in listed:
        evidence = finding.evidence[0]
        _, p, q, _ = weak[(evidence.slice, evidence.group, evidence.metric)]
        assert (evidence.p_value, evidence.q_value) == (pytest.approx(p, rel=1e-6, abs=1e-12),
                                                        pytest.approx(q, rel=1e-6, abs=1e-12))
    largest = sorted(abs(v[0]) for v in weak.values())[::-1][: findings.MAX_WEAK_SLICES]
    shown = sorted((abs(weak[(f.evidence[0].slice, f.evidence[0].group, f.evidence[0].metric)][0])
                    for f in listed), reverse=True)
    np.testing.assert_allclose(shown, largest, rtol=1e-12)
    assert len(found) - len(listed) == (len(weak) > findings.MAX_WEAK_SLICES)


def test_weak_slices_small_gap_is_medium() -> None:
    n = 20000
    region = np.where(np.arange(n) < n // 4, "bad", "good")
    df = by_correctness(np.where(region == "bad", 0.75, 0.80)).assign(region=region)
    weak = findings.weak_slices(inputs_for(df, score="p", slices=["region"]))
    accuracy = next(f for f in weak if f.evidence[0].metric == "accuracy")
    assert accuracy.severity == "medium"
    assert accuracy.evidence[0].group == "bad"
    assert abs(accuracy.evidence[0].value - accuracy.evidence[0].compared_with) < findings.LARGE_GAP


def test_weak_slices_multiclass() -> None:
    n = 1200
    region = np.where(np.arange(n) < 300, "bad", "good")
    df = multiclass_by_correctness(np.where(region == "bad", 0.4, 0.8)).assign(region=region)
    (finding,) = findings.weak_slices(inputs_for(df, prediction="pred", task="multiclass", slices=["region"]))
    assert (finding.severity, finding.section, finding.subject) == ("high", "slices", "region")
    evidence = finding.evidence[0]
    assert (evidence.slice, evidence.group, evidence.metric, evidence.n) == ("region", "bad", "accuracy", 300)
    assert evidence.value == pytest.approx((df["y"] == df["pred"])[region == "bad"].mean())
    assert "over 2 tests" in finding.detail


def test_weak_slices_regression() -> None:
    n = 1200
    region = np.where(np.arange(n) < 300, "bad", "good")
    df = regression_by_noise(np.where(region == "bad", 2.0, 1.0)).assign(region=region)
    (finding,) = findings.weak_slices(inputs_for(df, prediction="pred", slices=["region"]))
    assert (finding.severity, finding.section, finding.subject) == ("high", "slices", "region")
    evidence = finding.evidence[0]
    assert (evidence.group, evidence.metric) == ("bad", "mae")
    errors = (df["y"] - df["pred"]).abs()
    assert evidence.value == pytest.approx(errors[region == "bad"].mean())
    assert evidence.compared_with == pytest.approx(errors.mean())
    difference = errors[region == "bad"].mean() - errors[region == "good"].mean()
    assert f"{signed_text(difference)}, is significant" in finding.detail
    assert_well_formed(finding)


def test_weak_slices_regression_small_excess_is_medium() -> None:
    n = 20000
    region = np.where(np.arange(n) < n // 2, "bad", "good")
    df = regression_by_noise(np.where(region == "bad", 1.1, 1.0)).assign(region=region)
    (finding,) = findings.weak_slices(inputs_for(df, prediction="pred", slices=["region"]))
    assert finding.severity == "medium"  # about 10% above the rest, below the 20% line


def test_weak_slices_better_group_is_not_weak() -> None:
    # "good" is significantly different from the rest too, but better: only "bad" is reported
    weak = findings.weak_slices(inputs_for(planted(), score="p", slices=["region"]))
    assert weak and all(f.evidence[0].group == "bad" for f in weak)


def test_weak_slices_skip_groups_below_min_support() -> None:
    assert findings.weak_slices(inputs_for(planted(), score="p", slices=["region"], min_support=301)) == []
    assert findings.weak_slices(inputs_for(planted(), score="p", slices=["region"], min_support=300))


def test_weak_slices_skip_a_group_that_is_everything() -> None:
    df = planted().assign(everyone="all")
    assert findings.weak_slices(inputs_for(df, score="p", slices=["everyone"])) == []


def test_weak_slices_follow_fdr() -> None:
    df = planted(n=400, good=0.8, bad=0.65, seed=3)
    inputs = inputs_for(df, score="p", slices=["region"])
    q_values = [f.evidence[0].q_value for f in findings.weak_slices(inputs)]
    assert q_values
    stricter = replace(inputs, fdr=min(q_values) / 2)
    assert findings.weak_slices(stricter) == []


def test_weak_slices_cap_at_five_plus_a_summary() -> None:
    n = 4000
    region = np.array([f"r{i}" for i in range(8)])[np.arange(n) % 8]
    accuracy = np.where(np.isin(region, ["r0", "r1"]), 0.95, 0.5)  # 6 groups much worse than the rest
    df = by_correctness(accuracy).assign(region=region)
    weak = findings.weak_slices(inputs_for(df, score="p", slices=["region"]))
    listed = [f for f in weak if f.evidence]
    assert len(listed) == findings.MAX_WEAK_SLICES
    assert weak[: findings.MAX_WEAK_SLICES] == listed  # the summary comes last
    (summary,) = [f for f in weak if not f.evidence]
    assert (summary.severity, summary.section, summary.subject) == ("low", "slices", None)
    oracle_weak = [key for key, value in weak_oracle(df, ["region"]).items() if value[3]]
    more = len(oracle_weak) - findings.MAX_WEAK_SLICES
    assert more > 1
    assert summary.title == f"{more} more groups are significantly worse than the rest of the data."
    assert any(f.evidence[0].metric == "accuracy" for f in listed)  # the gaps are large


def test_weak_slice_family_counts_every_test_and_every_weak_group() -> None:
    """The "weak slices" family: its tests and discoveries are the oracle's, the listed findings included or not."""
    n = 4000
    region = np.array([f"r{i}" for i in range(8)])[np.arange(n) % 8]
    df = by_correctness(np.where(np.isin(region, ["r0", "r1"]), 0.95, 0.5)).assign(region=region)
    inputs = inputs_for(df, score="p", slices=["region"])
    family = findings.weak_slice_family(inputs)
    oracle = weak_oracle(df, ["region"])
    assert family.name == findings.WEAK_SLICES == "weak slices"
    assert family.tests == len(oracle) == 8 * 3
    assert family.discoveries == sum(value[3] for value in oracle.values()) > findings.MAX_WEAK_SLICES
    tests = findings.weak_slice_tests(inputs).set_index(["slice", "group", "metric"])
    for key, (difference, p_value, q_value, weak) in oracle.items():
        assert tests.loc[key, "q_value"] == pytest.approx(q_value, rel=1e-7)
        assert bool(tests.loc[key, "q_value"] <= 0.05 and tests.loc[key, "worse"]) == bool(weak)


def test_weak_slices_null_no_finding_for_most_seeds() -> None:
    """Errors independent of the slice column: Benjamini–Hochberg keeps false findings rare."""
    n = 800
    quiet = 0
    for seed in range(20):
        rng = np.random.default_rng(1000 + seed)
        df = by_correctness(np.full(n, 0.75), seed=seed).assign(region=rng.choice(list("abcd"), n))
        quiet += not findings.weak_slices(inputs_for(df, score="p", slices=["region"]))
    assert quiet >= 18


# ---------------------------------------------------------------------------------------------- fairness_breaches


def test_fairness_breaches_significant_is_high() -> None:
    df = calibrated(2000, seed=1)
    df["sex"] = np.where(np.arange(2000) % 2 == 0, "f", "m")
    df["race"] = np.where(np.arange(2000) % 4 < 2, "a", "b")  # independent of everything: no gap
    df.loc[df["sex"] == "m", "p"] = np.clip(df["p"] + 0.3, 0, 1)
    inputs = inputs_for(df, score="p", sensitive=["race", "sex"])
    (finding,) = findings.fairness_breaches(inputs)
    assert (finding.id, finding.severity, finding.section, finding.subject) == ("fairness_gap", "high", "fairness", "sex")
    gaps = inputs.fairness_gaps
    breached = gaps[(gaps["sensitive"] == "sex") & gaps["breached"].eq(True)]
    assert len(finding.evidence) == len(breached) >= 2
    assert [e.metric for e in finding.evidence] == breached["gap"].tolist()
    parity = next(e for e in finding.evidence if e.metric == "demographic_parity_difference")
    selection = df.assign(s=df["p"] >= 0.5).groupby("sex")["s"].mean()
    assert parity.value == pytest.approx(selection["m"] - selection["f"])
    assert parity.compared_with == 0.1
    assert f"demographic parity difference {parity.value:.3f} ({parity.ci_low:.3f}–{parity.ci_high:.3f}" in finding.detail
    significant = int(breached["significant"].eq(True).sum())
    assert finding.title == (f"{len(breached)} fairness gaps across sex are beyond the threshold, "
                             f"{significant} significantly.")
    assert_well_formed(finding)


def test_fairness_breaches_not_significant_is_medium() -> None:
    # 20 rows per group: selection rates 0.5 and 0.65 differ by 0.15 > 0.1, but the interval includes 0
    y = np.tile([1, 0], 20)
    f_pred = np.arange(20) < 10
    m_pred = np.arange(20) < 13
    df = pd.DataFrame({"y": y, "p": np.where(np.concatenate([f_pred, m_pred]), 0.9, 0.1),
                       "sex": ["f"] * 20 + ["m"] * 20})
    (finding,) = findings.fairness_breaches(inputs_for(df, score="p", sensitive=["sex"], min_support=10))
    assert (finding.severity, finding.section, finding.subject) == ("medium", "fairness", "sex")
    assert finding.title.endswith(", none significantly.")
    assert "not significant" in finding.detail and "may be noise" in finding.detail
    parity = next(e for e in finding.evidence if e.metric == "demographic_parity_difference")
    assert parity.value == pytest.approx(0.15)
    assert parity.ci_low <= 0 <= parity.ci_high


def test_fairness_breaches_quiet_when_groups_are_identical() -> None:
    df = calibrated(1000)
    df = pd.concat([df.assign(sex="f"), df.assign(sex="m")], ignore_index=True)
    inputs = inputs_for(df, score="p", sensitive=["sex"])
    assert not inputs.fairness_gaps["breached"].eq(True).any()
    assert findings.fairness_breaches(inputs) == []


def gap_row(sensitive: str, gap: str, value: float, *, breached: bool | None = True, significant: bool | None = True,
            ci: tuple[float, float] = (np.nan, np.nan), class_label: str | None = None, q: float | None = None) -> dict:
    """A row of the gaps table; q defaults to 0.01 for a significant gap and 0.3 otherwise."""
    q = (0.01 if significant else 0.3) if q is None else q
    return {"sensitive": sensitive, "gap": gap, "value": value, "ci_low": ci[0], "ci_high": ci[1], "threshold": 0.1,
            "breached": breached, "p_value": q / 2, "q_value": q, "significant": significant, "between": "a vs b",
            "class_label": class_label}


@cache
def _small_binary_inputs() -> FindingInputs:
    return inputs_for(calibrated(200), score="p")


def test_fairness_breaches_on_hand_built_gaps() -> None:
    gaps = pd.DataFrame([
        gap_row("s", "demographic_parity_difference", 0.3, ci=(0.2, 0.4)),
        gap_row("s", "equal_opportunity_difference", 0.15, significant=False),  # interval undefined: shown as "–"
        gap_row("s", "predictive_parity_difference", 0.05, breached=False, significant=False),
        gap_row("t", "demographic_parity_difference", 0.12, breached=None, significant=None),
        gap_row("u", "demographic_parity_difference", 0.2, class_label="ant", ci=(0.1, 0.3)),
        gap_row("u", "demographic_parity_difference", 0.25, class_label="bee", significant=False, ci=(-0.05, 0.5)),
    ])
    found = findings.fairness_breaches(replace(_small_binary_inputs(), fairness_gaps=gaps))
    assert [(f.subject, f.severity) for f in found] == [("s", "high"), ("u", "high"), ("u", "medium")]
    s, ant, bee = found
    assert s.title == "2 fairness gaps across s are beyond the threshold, 1 significantly."
    assert s.detail.startswith("Beyond the threshold: demographic parity difference 0.300 (0.200–0.400, threshold 0.1, "
                               "a vs b; q = 0.01); equal opportunity difference 0.150 (–––, threshold 0.1, a vs b; "
                               "not significant, q = 0.3).")
    assert [e.q_value for e in s.evidence] == [0.01, 0.3] and [e.p_value for e in s.evidence] == [0.005, 0.15]
    assert "may be noise" in s.detail
    assert [e.metric for e in s.evidence] == ["demographic_parity_difference", "equal_opportunity_difference"]
    assert s.evidence[1].ci_low is None and s.evidence[1].ci_high is None
    assert ant.title == '1 fairness gap for class "ant" across u is beyond the threshold, 1 significantly.'
    assert "may be noise" not in ant.detail
    assert bee.title.endswith(", none significantly.")
    assert f"({MINUS}0.050–0.500" in bee.detail
    assert all(f.section == "fairness" for f in found)


def test_fairness_breach_whose_interval_excludes_0_but_q_does_not_pass_is_medium() -> None:
    """The test decides, not the unadjusted interval: the finding says so and is never high."""
    gaps = pd.DataFrame([gap_row("s", "equal_opportunity_difference", 0.17, ci=(0.02, 0.33), significant=False, q=0.2),
                         gap_row("s", "demographic_parity_difference", 0.12, ci=(0.01, 0.2), significant=None,
                                 q=np.nan)])
    (finding,) = findings.fairness_breaches(replace(_small_binary_inputs(), fairness_gaps=gaps))
    assert finding.severity == "medium" and finding.title.endswith(", none significantly.")
    assert "0.170 (0.020–0.330, threshold 0.1, a vs b; not significant, q = 0.2)" in finding.detail
    assert "0.120 (0.010–0.200, threshold 0.1, a vs b; not tested)" in finding.detail
    assert "q above 0.05, Benjamini–Hochberg over the fairness tests" in finding.detail
    assert "even where its unadjusted interval excludes 0" in finding.detail


# ---------------------------------------------------------------------------------------------- poor_calibration


def overconfident(n: int = 1999) -> pd.DataFrame:
    df = calibrated(n, seed=2)
    df["p"] = np.where(df["p"] >= 0.5, 0.99, 0.01)
    return df


def ece_of_two_scores(df: pd.DataFrame) -> float:
    """The expected calibration error where every score is 0.01 or 0.99 (two bins) by its definition."""
    return sum(len(rows) / len(df) * abs(rows["y"].mean() - score) for score, rows in df.groupby("p"))


def test_poor_calibration_binary_overconfident() -> None:
    df = overconfident()
    (finding,) = findings.poor_calibration(inputs_for(df, score="p"))
    assert (finding.severity, finding.section, finding.subject) == ("medium", "calibration", None)
    ece = ece_of_two_scores(df)
    assert ece > 0.2
    assert abs(ece * 1000 % 1 - 0.5) > 1e-6  # not halfway between two printed values
    assert finding.title == f"The model's scores are poorly calibrated (ECE {ece:.3f}, above 0.05)."
    assert f"the largest bin gap, MCE, is {df.groupby('p')['y'].mean().sub([0.01, 0.99]).abs().max():.3f}" in finding.detail
    assert [e.metric for e in finding.evidence] == ["ece", "mce", "ece_quantile"]
    assert finding.evidence[0].value == pytest.approx(ece)


@cache
def _overconfident_inputs() -> FindingInputs:
    return inputs_for(overconfident(), score="p")


@HYPOTHESIS
@given(max_ece=st.floats(0.01, 0.99))
def test_poor_calibration_follows_max_ece(max_ece: float) -> None:
    inputs = replace(_overconfident_inputs(), max_ece=max_ece)
    fired = findings.poor_calibration(inputs)
    assert bool(fired) is bool(ece_of_two_scores(overconfident()) > max_ece)
    if fired:
        assert f"above {max_ece:g})." in fired[0].title


def test_poor_calibration_multiclass_top_label() -> None:
    rng = np.random.default_rng(0)
    n = 600
    y = rng.choice(["ant", "bee", "cat"], n)
    probabilities = rng.dirichlet([1, 1, 1], n)  # unrelated to the labels, often confident
    df = pd.DataFrame({"y": y, **{f"p_{c}": probabilities[:, k] for k, c in enumerate(["ant", "bee", "cat"])}})
    (finding,) = findings.poor_calibration(inputs_for(df, score_prefix="p_"))
    assert "top-label probabilities" in finding.title


def test_poor_calibration_quiet_when_calibrated() -> None:
    inputs = inputs_for(calibrated(4000), score="p")
    assert inputs.measured.overall("ece") < 0.05
    assert findings.poor_calibration(inputs) == []


def test_poor_calibration_not_without_probabilities() -> None:
    df = multiclass_by_correctness(np.full(300, 0.1))  # no probability columns: no ECE
    assert findings.poor_calibration(inputs_for(df, prediction="pred", task="multiclass")) == []


# ---------------------------------------------------------------------------------------------- threshold_choice


def test_threshold_choice_better_f1_threshold() -> None:
    df = calibrated(2000, seed=1)
    (finding,) = findings.threshold_choice(inputs_for(df, score="p"))
    f1 = f1_score(df["y"], df["p"] >= 0.5)
    precision, recall, thresholds = precision_recall_curve(df["y"], df["p"])
    with np.errstate(invalid="ignore", divide="ignore"):
        f1_curve = np.nan_to_num(2 * precision * recall / (precision + recall))[:-1]
    best = int(np.argmax(f1_curve))
    assert f1_curve[best] - f1 >= findings.F1_GAIN
    assert (finding.severity, finding.section, finding.subject) == ("low", "overall", None)
    assert finding.title == (f"A decision threshold of {thresholds[best]:.3g} would raise F1 from {f1:.3f} "
                             f"to {f1_curve[best]:.3f}.")
    assert finding.detail.startswith(f"With threshold 0.5, F1 is {f1:.3f}; on this data")
    (evidence,) = finding.evidence
    assert (evidence.metric, evidence.value, evidence.compared_with) == (
        "f1", pytest.approx(f1), pytest.approx(f1_curve[best]))


def test_threshold_choice_names_the_prediction_column() -> None:
    df = calibrated(2000, seed=1)
    df["pred"] = (df["p"] >= 0.5).astype(int)
    (finding,) = findings.threshold_choice(inputs_for(df, score="p", prediction="pred"))
    assert finding.detail.startswith('With the "pred" column, F1 is')


def test_threshold_choice_quiet_when_threshold_is_best() -> None:
    df = calibrated(1000)
    df["p"] = np.where(df["y"] == 1, 0.6 + 0.4 * df["p"], 0.4 * df["p"])  # separable at 0.5: F1 = 1
    inputs = inputs_for(df, score="p")
    assert inputs.measured.overall("f1") == 1.0
    assert findings.threshold_choice(inputs) == []


def test_threshold_choice_not_for_regression_or_multiclass() -> None:
    assert findings.threshold_choice(inputs_for(regression_by_noise(np.ones(200)), prediction="pred")) == []
    df = multiclass_by_correctness(np.full(300, 0.6))
    assert findings.threshold_choice(inputs_for(df, prediction="pred", task="multiclass")) == []


# ---------------------------------------------------------------------------------------------- systematic_bias


@pytest.mark.parametrize(("shift", "direction"), [(0.5, "under-predicts"), (-0.5, "over-predicts")])
def test_systematic_bias(shift: float, direction: str) -> None:
    df = regression_by_noise(np.full(500, 0.2))
    df["pred"] -= shift
    (finding,) = findings.systematic_bias(inputs_for(df, prediction="pred"))
    mean_residual = float((df["y"] - df["pred"]).mean())
    assert (finding.severity, finding.section, finding.subject) == ("low", "overall", None)
    assert finding.title == f"The model {direction} on average, by {abs(mean_residual):.4g}."
    shown = f"{mean_residual:.4g}".replace("-", MINUS)
    assert finding.detail.startswith(f"The mean residual (actual − predicted) is {shown} (")
    (evidence,) = finding.evidence
    assert evidence.metric == "mean_residual"
    assert evidence.value == pytest.approx(mean_residual)
    assert not evidence.ci_low <= 0 <= evidence.ci_high
    assert_well_formed(finding)


def test_systematic_bias_quiet_when_residuals_centred() -> None:
    y = np.linspace(0, 10, 400)
    df = pd.DataFrame({"y": y, "pred": y + np.tile([0.3, -0.3], 200)})  # mean residual exactly 0
    assert findings.systematic_bias(inputs_for(df, prediction="pred")) == []


def test_systematic_bias_not_for_classification() -> None:
    assert findings.systematic_bias(inputs_for(calibrated(500), score="p")) == []


# ---------------------------------------------------------------------------------------------- undefined_metrics


def test_undefined_metrics_overall_constant_targets() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": np.full(200, 3.0), "pred": 3.0 + rng.normal(0, 0.1, 200)})
    inputs = inputs_for(df, prediction="pred", task="regression")
    (finding,) = findings.undefined_metrics(inputs)
    assert (finding.severity, finding.section, finding.subject) == ("medium", "overall", None)
    assert {e.metric for e in finding.evidence} == {"r2", "explained_variance"}
    assert all(e.value is None for e in finding.evidence)
    labels = [inputs.measured.registry[m].label for m in ("r2", "explained_variance")]
    assert all(label in finding.title for label in labels)
    assert finding.title.endswith("are undefined on the whole evaluation set.")
    assert finding.detail == "Reasons: 2 × all targets in this group are equal."


def test_undefined_metrics_in_some_groups_is_low() -> None:
    df = by_correctness(np.full(600, 0.8))
    df["region"] = np.where(np.arange(600) < 100, "neg", "mixed")
    df.loc[df["region"] == "neg", "y"] = 0  # no positives there: recall and friends undefined
    inputs = inputs_for(df, score="p", slices=["region"])
    (finding,) = findings.undefined_metrics(inputs)
    assert (finding.severity, finding.section, finding.subject) == ("low", "slices", None)
    table = inputs.measured.metrics
    undefined = table[table["value"].isna() & (table["n"] > 0)]
    assert set(undefined["group"]) == {"neg"}
    assert {"recall", "roc_auc"} <= set(undefined["metric"])
    assert finding.title == f"{len(undefined)} metric values are undefined in some groups (shown as n/a, never as 0)."
    assert finding.evidence == []
    parts = dict(reversed(part.split(" × ", 1)) for part in finding.detail.removeprefix("Reasons: ").rstrip(".").split("; "))
    assert {reason: int(n) for reason, n in parts.items()} == undefined["undefined_reason"].value_counts().to_dict()


def test_undefined_metrics_quiet_when_all_defined() -> None:
    inputs = inputs_for(calibrated(500), score="p")
    assert not inputs.measured.metrics["value"].isna().any()
    assert findings.undefined_metrics(inputs) == []


# ---------------------------------------------------------------------------------------------- small_slices


def test_small_slices() -> None:
    df = calibrated(500)
    df["site"] = np.where(np.arange(500) < 12, "tiny", np.where(np.arange(500) < 40, "small", "big"))
    (finding,) = findings.small_slices(inputs_for(df, score="p", slices=["site"]))
    assert (finding.severity, finding.section, finding.subject) == ("low", "slices", None)
    assert finding.title.startswith("2 groups have numbers resting on fewer than 30 rows")
    assert 'site = "small": 28 rows' in finding.detail and 'site = "tiny": 12 rows' in finding.detail
    counts = {e.group: (e.value, e.n, e.metric, e.support, e.support_unit) for e in finding.evidence}
    assert counts == {"small": (28.0, 28, "count", 28, "rows"), "tiny": (12.0, 12, "count", 12, "rows")}


def few_positives(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Group "small" has 191 rows of which 6 are positive (3 predicted right); "big" has the rest, half positive."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(6, int), np.zeros(185, int), rng.integers(0, 2, n - 191)]
    right = np.r_[[1, 1, 1, 0, 0, 0], rng.random(n - 6) < 0.9]
    predicted = np.where(right, y, 1 - y)
    band = np.r_[np.full(191, "small"), np.full(n - 191, "big")]
    return pd.DataFrame({"y": y, "p": np.where(predicted == 1, 0.8, 0.2), "size_band": band})


def test_issue_14_a_group_with_many_rows_and_few_positives_is_small_for_recall_only() -> None:
    df = few_positives()
    small = df[df["size_band"] == "small"]
    positives, negatives = int(small["y"].sum()), int((small["y"] == 0).sum())
    predicted = int((small["p"] >= 0.5).sum())
    inputs = inputs_for(df, score="p", slices=["size_band"])
    (finding,) = findings.small_slices(inputs)
    assert finding.title.startswith("1 group has numbers resting on fewer than 30 rows")
    assert (f'size_band = "small": {predicted} predicted positives (Precision), {positives} positives '
            "(Recall (TPR), False negative rate, Average precision)") in finding.detail
    assert "191 rows" not in finding.detail and negatives >= 30  # its accuracy and specificity are not small
    recall = next(e for e in finding.evidence if e.metric == "recall")
    assert (recall.n, recall.support, recall.support_unit, recall.value) == (191, 6, "positives", 0.5)
    # not tested on recall or FNR, whatever its value; tested on accuracy and FPR (185 negatives)
    tested = {(e.group, e.metric) for f in findings.weak_slices(replace(inputs, fdr=1.0)) for e in f.evidence}
    assert ("small", "recall") not in tested


def test_issue_14_weak_slice_text_gives_the_metrics_support() -> None:
    n = 4000
    rng = np.random.default_rng(1)
    band = np.where(np.arange(n) < 1000, "bad", "good")
    y = rng.integers(0, 2, n)
    right = rng.random(n) < np.where((band == "bad") & (y == 1), 0.5, 0.9)  # bad: recall 0.5
    df = pd.DataFrame({"y": y, "p": np.where(np.where(right, y, 1 - y) == 1, 0.8, 0.2), "band": band})
    weak = findings.weak_slices(inputs_for(df, score="p", slices=["band"]))
    recall = next(f for f in weak if f.evidence[0].metric == "recall")
    positives = int(df[(df["band"] == "bad")]["y"].sum())
    evidence = recall.evidence[0]
    assert (evidence.support, evidence.support_unit, evidence.n) == (positives, "positives", 1000)
    assert f"{evidence.ci_high:.3f}, {positives:,} positives) against" in recall.detail


def test_small_slices_many_groups_are_capped() -> None:
    df = calibrated(300)
    df["site"] = [f"s{i:02d}" for i in range(10)] * 30  # 10 groups of 30
    (finding,) = findings.small_slices(inputs_for(df, score="p", slices=["site"], min_support=31))
    assert finding.title.startswith("10 groups have numbers resting on fewer than 31 rows")
    assert finding.detail.count('site = "') == 8 and "; and 2 more" in finding.detail


def test_small_slices_quiet_when_every_support_reaches_min_support() -> None:
    df = calibrated(3000)
    df["site"] = ["a", "b", "c"] * 1000
    assert findings.small_slices(inputs_for(df, score="p", slices=["site"], min_support=100)) == []


@HYPOTHESIS
@given(sizes=st.lists(st.integers(1, 60), min_size=1, max_size=12), min_support=st.integers(1, 60))
def test_small_slices_lists_every_group_with_a_support_below_min_support(sizes: list[int], min_support: int) -> None:
    site = np.repeat([f"s{i:02d}" for i in range(len(sizes))], sizes)
    df = calibrated(len(site)).assign(site=site)
    found = findings.small_slices(inputs_for(df, score="p", slices=["site"], min_support=min_support))
    y, predicted = df["y"] == 1, df["p"] >= 0.5
    counts = df.assign(pos=y, neg=~y, pred=predicted).groupby("site", sort=True)[["pos", "neg", "pred"]].sum()
    # rows, positives, negatives, predicted positives; a count of 0 leaves its metrics undefined (n/a), not small
    fewest = np.minimum(counts.where(counts > 0).min(axis=1).fillna(np.inf), np.array(sizes))
    small = [site for site, count in fewest.items() if count < min_support]
    if not small:
        assert found == []
        return
    (finding,) = found
    assert finding.title.startswith(f"{len(small)} group{'s have' if len(small) > 1 else ' has'} numbers resting on "
                                    f"fewer than {min_support} rows")
    named = re.findall(r'site = "(s\d\d)"', finding.detail)
    assert named == small[:8] and (len(small) <= 8 or f"; and {len(small) - 8} more" in finding.detail)
    evidenced = list(dict.fromkeys(e.group for e in finding.evidence))  # at most 20 values, group by group
    assert evidenced == small[: len(evidenced)] and all(e.support < min_support for e in finding.evidence)


def _id_inputs(df: pd.DataFrame, column: str, *, max_groups: int = 1000, max_groups_shown: int = 20) -> FindingInputs:
    """`inputs_for` with one slice over `column` and the given caps."""
    predictions = check_predictions(df, DataSection(label="y", score="p"), source="test.csv")
    measured = measure(predictions, [SliceSpec(column=column, max_groups=max_groups)],
                       ReportSection(resamples=100, max_groups_shown=max_groups_shown))
    return FindingInputs(predictions, measured, pd.DataFrame(), min_support=30, fdr=0.05, max_ece=0.05,
                         threshold=0.5, prediction_column=None)


def test_many_groups_fires_for_an_id_column() -> None:
    df = calibrated(2000)
    df["patient_id"] = [f"P{i:04d}" for i in np.random.default_rng(1).integers(0, 1500, 2000)]
    (finding,) = findings.many_groups(_id_inputs(df, "patient_id"))
    sizes = df["patient_id"].value_counts().to_numpy()
    assert (finding.severity, finding.section, finding.subject) == ("medium", "slices", "patient_id")
    assert finding.title == (f'The slice "patient_id" has {len(sizes):,} groups (identifier-like); '
                             'the card shows the 20 largest and "(other)".')
    assert f"{round(100 * (sizes == 1).mean())}% of its groups have a single row" in finding.detail
    assert f"the median group has {np.median(sizes):g} rows" in finding.detail
    (evidence,) = finding.evidence
    assert (evidence.group, evidence.n) == ("(other)", 2000 - np.sort(sizes)[::-1][:20].sum())


def test_many_groups_says_when_the_column_is_sensitive() -> None:
    df = calibrated(2000)
    df["patient_id"] = [f"P{i:04d}" for i in np.random.default_rng(1).integers(0, 1500, 2000)]
    plain = findings.many_groups(_id_inputs(df, "patient_id"))[0]
    (sensitive,) = findings.many_groups(inputs_for(df, score="p", sensitive=["patient_id"]))
    assert "fairness gaps span every group" in sensitive.detail and "fairness" not in plain.detail


def test_many_groups_quiet_for_a_ten_value_column() -> None:
    df = calibrated(2000)
    df["site"] = [f"s{i}" for i in range(10)] * 200
    assert findings.many_groups(_id_inputs(df, "site")) == []


def test_many_groups_counts_pooled_values_and_is_low_for_large_groups() -> None:
    df = calibrated(2000)
    df["region"] = np.repeat([f"r{i:02d}" for i in range(40)], 50)
    (finding,) = findings.many_groups(_id_inputs(df, "region", max_groups=25, max_groups_shown=10))
    assert finding.severity == "low"  # every group is measurable alone: many, not identifier-like
    assert finding.title == 'The slice "region" has 40 groups; the card shows the 10 largest and "(other)".'
    assert '"(other)" holds the other 30 groups (1,500 rows)' in finding.detail


# ---------------------------------------------------------------------------------------------- order


def make(name: str, severity: str) -> Finding:
    return Finding(id=name, severity=severity, title="", detail="", section="overall", subject=None, evidence=[],
                   suggestions=[])


def test_derive_findings_runs_the_rules_in_order_without_sorting(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = (
        lambda inputs: [make("a", "low"), make("b", "high")],
        lambda inputs: [],
        lambda inputs: [make("c", "medium")],
    )
    monkeypatch.setattr(findings, "RULES", rules)
    assert [f.id for f in derive_findings(None)] == ["a", "b", "c"]  # type: ignore[arg-type]


@given(st.lists(st.sampled_from(SEVERITIES), max_size=20))
def test_ordered_sorts_by_severity_and_keeps_the_order_within_one(severities: list[str]) -> None:
    raised = [make(str(i), s) for i, s in enumerate(severities)]
    result = ordered(raised)
    assert sorted(f.id for f in result) == sorted(f.id for f in raised)
    assert [f.severity for f in result] == sorted(severities, key=SEVERITIES.index)
    for severity in SEVERITIES:
        assert [f.id for f in result if f.severity == severity] == [f.id for f in raised if f.severity == severity]


def test_every_rule_has_tests() -> None:
    tests = [name for name in globals() if name.startswith("test_")]
    untested = [rule.__name__ for rule in findings.RULES if not any(t.startswith(f"test_{rule.__name__}") for t in tests)]
    assert untested == []


def test_evaluate_orders_the_findings_of_every_rule_by_severity() -> None:
    # constant (high), imbalance (medium), small slices (low), all from one evaluation
    df = calibrated(1000)
    df["y"] = (np.arange(1000) < 100).astype(int)
    df["p"] = df["p"] * 0.4
    df["site"] = np.where(np.arange(1000) < 10, "tiny", "big")
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "site"}], resamples=100)
    assert {"constant_predictions", "class_imbalance", "small_slices"} <= {f.id for f in ev.findings}
    severities = [f.severity for f in ev.findings]
    assert {"high", "medium", "low"} <= set(severities)
    assert severities == sorted(severities, key=SEVERITIES.index)
    derived = derive_findings(inputs_for(df, score="p", slices=["site"]))
    raised = [replace(f, suggestions=[]) for f in ev.findings if f.id in {r.id for r in derived}]  # written later
    assert raised == ordered(derived)


def test_an_undefined_value_is_not_a_small_one() -> None:
    """A group without one of the classes has no macro ROC AUC (n/a, with its reason in `undefined_metrics`); its
    support of 0 does not make the group "small"."""
    rng = np.random.default_rng(4)
    group = np.repeat(["two classes", "three classes"], [200, 300])
    y = np.where(group == "two classes", rng.integers(0, 2, 500), rng.integers(0, 3, 500))
    logits = rng.normal(size=(500, 3)) + 2 * (y[:, None] == np.arange(3))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    df = pd.DataFrame({"y": y.astype(str), "g": group} | {f"p_{k}": proba[:, k] for k in range(3)})
    ev = reportgen.evaluate(df, label="y", score_prefix="p_", slices=[{"column": "g"}], resamples=100)
    auc = ev.metrics.query("slice == 'g' and group == 'two classes' and metric == 'roc_auc_macro'").iloc[0]
    assert auc["support"] == 0 and isinstance(auc["undefined_reason"], str)
    assert not any(f.id == "small_slices" for f in ev.findings)
    assert any(f.id == "undefined_metrics" for f in ev.findings)
