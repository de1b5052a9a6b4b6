"""Fairness tables: reference groups, undefined gaps, flags, intervals, and the tests of the fairness family."""

from __future__ import annotations

import math
import warnings

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, chi2_contingency, false_discovery_control, norm, ttest_ind
from scipy.stats.contingency import relative_risk

import reportgen
from reportgen.analysis.fairness import GAPS, RATES, Thresholds, adjust, fairness_tables, rates
from reportgen.errors import ConfigError
from reportgen.metrics import intervals
from reportgen.metrics.statistics import Confusion
from tests.helpers import welch_anova_by_rows


def _frame(groups: dict[str, tuple[int, int, int, int]], column: str = "s") -> pd.DataFrame:
    """Rows with the given (tp, fp, tn, fn) per group."""
    parts = []
    for group, (tp, fp, tn, fn) in groups.items():
        y = [1] * tp + [0] * fp + [0] * tn + [1] * fn
        pred = [1] * tp + [1] * fp + [0] * tn + [0] * fn
        parts.append(pd.DataFrame({"y": y, "pred": pred, column: group}))
    frame = pd.concat(parts, ignore_index=True)
    frame["p"] = np.where(frame["pred"] == 1, 0.9, 0.1)
    return frame


def _evaluate(frame: pd.DataFrame, **options) -> reportgen.Evaluation:
    return reportgen.evaluate(frame, label="y", score="p", prediction="pred", sensitive=["s"], resamples=100, **options)


def _tables(groups: dict[str, tuple[int, int, int, int]], reference: int = 0, max_difference=0.1, min_ratio=0.8,
            fdr: float = 0.05):
    """One sensitive column's tables, adjusted as the only member of the fairness family."""
    tp, fp, tn, fn = (np.array(cells) for cells in zip(*groups.values(), strict=True))
    counts = Confusion(tp=tp, fp=fp, tn=tn, fn=fn)
    by_group, gaps = fairness_tables("s", list(groups), counts.n, rates(counts), reference,
                                     Thresholds(max_difference, min_ratio), level=0.95)
    by_group, gaps, _ = adjust(by_group.assign(class_label=None), gaps.assign(class_label=None), fdr)
    return by_group, gaps


def _flag(value: object) -> bool | None:
    """A flag cell as a Python bool, or None where it is absent (columns may hold numpy bools)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else bool(value)


# Reference group ----------------------------------------------------------------------------------


def test_reference_defaults_to_the_largest_group():
    evaluation = _evaluate(_frame({"a": (5, 5, 5, 5), "b": (10, 5, 10, 5), "c": (2, 2, 2, 2)}))
    assert evaluation.references == {"s": "b"}


def test_reference_not_among_groups():
    with pytest.raises(ConfigError, match=r'^reference\["s"\]: "nope" is not a group of "s"; groups are: "a", "b"$'):
        _evaluate(_frame({"a": (5, 5, 5, 5), "b": (5, 5, 5, 5)}), reference={"s": "nope"})


def test_numeric_reference_matches_the_group_label():
    frame = _frame({"1": (5, 5, 5, 5), "2": (3, 1, 7, 1)})
    frame["s"] = frame["s"].astype(int)
    for reference in (2, 2.0, "2"):
        assert _evaluate(frame, reference={"s": reference}).references == {"s": "2"}


def test_sensitive_column_shares_a_configured_slice():
    frame = _frame({"a": (5, 5, 5, 5), "b": (3, 1, 7, 1)})
    evaluation = _evaluate(frame, slices=[{"name": "group", "column": "s"}])
    assert [f.name for f in evaluation.families] == ["overall", "group"]
    assert set(evaluation.fairness["sensitive"]) == {"s"}


# Values and flags ---------------------------------------------------------------------------------


def test_gap_values_flags_and_intervals():
    # selection rates: a 0.8, b 0.2; TPR: a 40/50, b 10/50; FPR: a 40/50, b 10/50
    groups = {"a": (40, 40, 10, 10), "b": (10, 10, 40, 40)}
    _, gaps = _tables(groups, reference=0, max_difference=0.1, min_ratio=0.8)
    gaps = gaps.set_index("gap")
    dpd = gaps.loc["demographic_parity_difference"]
    assert dpd["value"] == pytest.approx(0.6) and dpd["between"] == "a vs b"
    low, high = intervals.newcombe(80, 100, 20, 100, 0.95)
    assert (dpd["ci_low"], dpd["ci_high"]) == pytest.approx((float(low), float(high)))
    assert _flag(dpd["breached"]) is True and _flag(dpd["significant"]) is True and dpd["threshold"] == 0.1
    dpr = gaps.loc["demographic_parity_ratio"]
    assert dpr["value"] == pytest.approx(0.25) and dpr["between"] == "b vs a"
    katz = relative_risk(20, 100, 80, 100).confidence_interval(0.95)
    assert (dpr["ci_low"], dpr["ci_high"]) == pytest.approx((katz.low, katz.high), rel=1e-9)
    assert _flag(dpr["breached"]) is True and _flag(dpr["significant"]) is True and dpr["threshold"] == 0.8


def test_small_gap_is_neither_breached_nor_significant():
    groups = {"a": (10, 10, 10, 10), "b": (10, 9, 11, 10)}
    _, gaps = _tables(groups, max_difference=0.1, min_ratio=0.8)
    dpd = gaps.set_index("gap").loc["demographic_parity_difference"]
    assert dpd["value"] == pytest.approx(0.5 - 19 / 40)
    assert _flag(dpd["breached"]) is False and _flag(dpd["significant"]) is False
    assert dpd["ci_low"] < 0 < dpd["ci_high"]


def test_thresholds_decide_breached():
    groups = {"a": (40, 40, 10, 10), "b": (10, 10, 40, 40)}
    _, gaps = _tables(groups, max_difference=0.7, min_ratio=0.2)
    gaps = gaps.set_index("gap")
    assert _flag(gaps.loc["demographic_parity_difference", "breached"]) is False
    assert _flag(gaps.loc["demographic_parity_ratio", "breached"]) is False
    assert _flag(gaps.loc["demographic_parity_difference", "significant"]) is True


def test_by_group_rows_against_the_reference():
    groups = {"a": (40, 40, 10, 10), "b": (10, 10, 40, 40), "c": (40, 38, 12, 10)}
    by_group, _ = _tables(groups, reference=0)
    assert set(by_group["rate"]) == set(RATES)
    selection = by_group[by_group.rate == "selection_rate"].set_index("group")
    assert selection["value"].to_dict() == pytest.approx({"a": 0.8, "b": 0.2, "c": 0.78})
    assert selection["difference"].to_dict() == pytest.approx({"a": 0.0, "b": -0.6, "c": -0.02})
    assert selection["ratio"].to_dict() == pytest.approx({"a": 1.0, "b": 0.25, "c": 0.975})
    assert selection.loc["a", "breached"] is None and selection.loc["a", "significant"] is None
    assert selection.loc["b", "breached"] is True and selection.loc["b", "significant"] is True
    assert selection.loc["c", "breached"] is False and selection.loc["c", "significant"] is False
    low, high = intervals.newcombe(20, 100, 80, 100, 0.95)
    assert (selection.loc["b", "ci_low"], selection.loc["b", "ci_high"]) == pytest.approx((float(low), float(high)))


def test_selection_rate_ratio_below_min_ratio_is_breached_even_with_a_small_difference():
    groups = {"a": (5, 5, 90, 0), "b": (2, 2, 96, 0)}  # selection 0.10 vs 0.04: difference 0.06, ratio 0.4
    by_group, _ = _tables(groups, reference=0, max_difference=0.1, min_ratio=0.8)
    b = by_group[(by_group.rate == "selection_rate") & (by_group.group == "b")].iloc[0]
    assert b["difference"] == pytest.approx(-0.06) and b["ratio"] == pytest.approx(0.4)
    assert _flag(b["breached"]) is True


# Undefined ----------------------------------------------------------------------------------------


def test_one_group_leaves_every_gap_undefined():
    evaluation = _evaluate(_frame({"only": (5, 5, 5, 5)}))
    gaps = evaluation.fairness
    assert set(gaps["gap"]) == set(GAPS)
    assert gaps["value"].isna().all()
    assert all(isinstance(r, str) and r for r in gaps["undefined_reason"])
    assert gaps["breached"].isna().all() and gaps["significant"].isna().all()


def test_group_without_positives_is_left_out_of_tpr_gaps_not_counted_as_zero():
    groups = {"a": (8, 2, 8, 2), "b": (6, 4, 6, 4), "c": (0, 3, 7, 0)}  # c has no positive labels
    frame = _frame(groups)
    evaluation = _evaluate(frame)
    gaps = evaluation.fairness.set_index("gap")
    assert gaps.loc["equal_opportunity_difference", "value"] == pytest.approx(0.8 - 0.6)
    assert "c" not in gaps.loc["equal_opportunity_difference", "between"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fairlearn_value = flm.equal_opportunity_difference(frame.y, frame.pred, sensitive_features=frame.s)
    assert fairlearn_value == pytest.approx(0.8)  # Fairlearn counts c's TPR as 0; reportgen leaves it out
    tpr = evaluation.fairness_by_group.query("rate == 'tpr'").set_index("group")
    assert math.isnan(tpr.loc["c", "value"]) and tpr.loc["c", "undefined_reason"]
    assert tpr.loc["c", "breached"] is None


def test_reference_without_selections_makes_disparate_impact_undefined():
    groups = {"a": (0, 0, 10, 10), "b": (5, 5, 5, 5)}
    evaluation = _evaluate(_frame(groups), reference={"s": "a"})
    gaps = evaluation.fairness.set_index("gap")
    assert pd.isna(gaps.loc["disparate_impact_ratio", "value"])
    assert "reference" in gaps.loc["disparate_impact_ratio", "undefined_reason"]
    assert gaps.loc["demographic_parity_difference", "value"] == pytest.approx(0.5)
    selection = evaluation.fairness_by_group.query("rate == 'selection_rate'").set_index("group")
    assert math.isnan(selection.loc["b", "ratio"])


def test_undefined_reference_rate_explains_the_missing_difference():
    groups = {"a": (0, 0, 10, 0), "b": (5, 5, 5, 5)}  # reference a: no positives, no predicted positives
    by_group, _ = _tables(groups, reference=0)
    tpr_b = by_group[(by_group.rate == "tpr") & (by_group.group == "b")].iloc[0]
    assert tpr_b["value"] == pytest.approx(0.5)
    assert math.isnan(tpr_b["difference"])
    assert tpr_b["undefined_reason"] == "the reference group's value is undefined"
    assert tpr_b["breached"] is None


def test_a_gap_exactly_at_the_threshold_is_not_breached():
    """Flagged only above max_difference, or below min_ratio."""
    groups = {"a": (25, 25, 25, 25), "b": (10, 15, 60, 15)}  # selection rates 0.5 and 0.25
    _, gaps = _tables(groups, max_difference=0.25, min_ratio=0.5)
    gaps = gaps.set_index("gap")
    assert gaps.loc["demographic_parity_difference", "value"] == 0.25
    assert gaps.loc["demographic_parity_ratio", "value"] == 0.5
    assert _flag(gaps.loc["demographic_parity_difference", "breached"]) is False
    assert _flag(gaps.loc["demographic_parity_ratio", "breached"]) is False
    _, gaps = _tables(groups, max_difference=0.2499, min_ratio=0.5001)
    gaps = gaps.set_index("gap")
    assert _flag(gaps.loc["demographic_parity_difference", "breached"]) is True
    assert _flag(gaps.loc["demographic_parity_ratio", "breached"]) is True


def test_equalized_odds_uses_the_rate_that_can_be_compared():
    """Only group "a" has positives, so TPR cannot be compared; the FPR gap still stands, and the note says why."""
    y = np.array([1, 0, 1, 0, 0, 0])
    pred = np.array([1, 0, 0, 1, 1, 0])
    s = np.array(["a", "a", "a", "b", "b", "b"])
    ev = reportgen.evaluate(pd.DataFrame({"y": y, "p": pred * 0.8 + 0.1, "pred": pred, "s": s}),
                            label="y", score="p", prediction="pred", sensitive=["s"], resamples=100)
    gap = ev.fairness.set_index("gap").loc["equalized_odds_difference"]
    assert gap["rate"] == "fpr" and gap["between"] == "b vs a"
    assert gap["note"] == "fewer than two groups with a defined tpr"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = flm.equalized_odds_difference(y, pred, sensitive_features=s)  # Fairlearn counts TPR 0/0 as 0
    assert gap["value"] == pytest.approx(expected, abs=1e-12) == pytest.approx(2 / 3)


# Tests and the fairness family --------------------------------------------------------------------


def _chi2(k: list[int], m: list[int]) -> tuple[float, int]:
    """scipy's chi-square test of homogeneity (no continuity correction) of the groups' k/m."""
    result = chi2_contingency(np.column_stack([k, np.subtract(m, k)]), correction=False)
    return float(result.statistic), int(result.dof)


def test_gap_p_values_are_scipys_chi_square_tests_of_homogeneity():
    # (tp, fp, tn, fn) per group; group c has no positives, so it is left out of the TPR test
    groups = {"a": (40, 12, 30, 10), "b": (22, 20, 41, 25), "c": (0, 9, 31, 0)}
    _, gaps = _tables(groups, reference=0)
    gaps = gaps.set_index("gap")
    tp, fp, tn, fn = (np.array(cells) for cells in zip(*groups.values(), strict=True))
    selection = _chi2(tp + fp, tp + fp + tn + fn)
    tpr = _chi2(tp[:2], (tp + fn)[:2])
    fpr = _chi2(fp, fp + tn)
    precision = _chi2(tp, tp + fp)
    for gap in ("demographic_parity_difference", "demographic_parity_ratio", "disparate_impact_ratio"):
        assert gaps.loc[gap, "p_value"] == pytest.approx(chi2.sf(*selection), rel=1e-9)  # one shared test
    assert gaps.loc["equal_opportunity_difference", "p_value"] == pytest.approx(chi2.sf(*tpr), rel=1e-9)
    # equalized odds: TPR and FPR come from disjoint rows (positives, negatives): statistics and dof add up
    assert gaps.loc["equalized_odds_difference", "p_value"] == pytest.approx(
        chi2.sf(tpr[0] + fpr[0], tpr[1] + fpr[1]), rel=1e-9)
    assert gaps.loc["predictive_parity_difference", "p_value"] == pytest.approx(chi2.sf(*precision), rel=1e-9)


def test_group_p_values_are_two_proportion_tests_against_the_reference():
    groups = {"a": (40, 12, 30, 10), "b": (22, 20, 41, 25), "c": (30, 9, 31, 5)}
    by_group, _ = _tables(groups, reference=1)
    tp, fp, tn, fn = (np.array(cells) for cells in zip(*groups.values(), strict=True))
    counts = {"selection_rate": (tp + fp, tp + fp + tn + fn), "tpr": (tp, tp + fn), "fpr": (fp, fp + tn),
              "precision": (tp, tp + fp)}
    for rate, (k, m) in counts.items():
        rows = by_group[by_group.rate == rate].set_index("group")
        assert math.isnan(rows.loc["b", "p_value"]) and rows.loc["b", "significant"] is None  # the reference
        for index, group in ((0, "a"), (2, "c")):
            table = np.array([[k[index], m[index] - k[index]], [k[1], m[1] - k[1]]])
            expected = chi2_contingency(table, correction=False).pvalue
            assert rows.loc[group, "p_value"] == pytest.approx(expected, rel=1e-9)


def test_significant_means_q_within_the_rate_over_the_whole_family():
    """Shared hypotheses count once; every compared group's difference is a test; significant ⇔ q ≤ fdr."""
    groups = {"a": (40, 12, 30, 10), "b": (30, 16, 35, 18), "c": (33, 12, 33, 12)}
    for fdr in (0.01, 0.05, 0.2):
        by_group, gaps, family = adjust(*(t.assign(class_label=None) for t in _tables(groups, fdr=fdr)), fdr)
        hypotheses = gaps.drop_duplicates("hypothesis")
        assert list(hypotheses["hypothesis"]) == ["selection_rate", "tpr", "tpr+fpr", "precision"]
        tested = by_group["p_value"].notna()
        assert family.tests == 4 + int(tested.sum()) == 4 + 4 * 2
        q = false_discovery_control(np.concatenate([hypotheses["p_value"], by_group.loc[tested, "p_value"]]),
                                    method="bh")
        np.testing.assert_allclose(hypotheses["q_value"], q[:4], rtol=1e-12)
        np.testing.assert_allclose(by_group.loc[tested, "q_value"], q[4:], rtol=1e-12)
        assert family.discoveries == int((q <= fdr).sum())
        assert (gaps["significant"] == (gaps["q_value"] <= fdr)).all()
        assert (by_group.loc[tested, "significant"] == (by_group.loc[tested, "q_value"] <= fdr)).all()


def test_the_family_spans_every_sensitive_column_and_class():
    rng = np.random.default_rng(3)
    n = 600
    y = rng.integers(0, 3, n)
    predicted = np.where(rng.random(n) < 0.8, y, rng.integers(0, 3, n))
    frame = pd.DataFrame({"y": np.array(list("xyz"))[y], "pred": np.array(list("xyz"))[predicted],
                          "s": rng.choice(["a", "b"], n), "t": rng.choice(["u", "v", "w"], n)})
    ev = reportgen.evaluate(frame, label="y", prediction="pred", sensitive=["s", "t"], resamples=100)
    (family,) = [f for f in ev.test_families if f.name == "fairness"]
    # per column and class: 2 gap tests (selection rate, TPR) and 2 rates × (groups − 1) differences
    assert family.tests == 3 * (2 + 2 * 1) + 3 * (2 + 2 * 2)
    q = pd.concat([ev.fairness.drop_duplicates(["sensitive", "class_label", "hypothesis"])["q_value"],
                   ev.fairness_by_group["q_value"]]).dropna()
    assert len(q) == family.tests
    p = pd.concat([ev.fairness.drop_duplicates(["sensitive", "class_label", "hypothesis"])["p_value"],
                   ev.fairness_by_group["p_value"]]).dropna()
    np.testing.assert_allclose(q, false_discovery_control(p.to_numpy(), method="bh"), rtol=1e-12)


def test_regression_gaps_are_welchs_anova_and_welchs_z_test():
    rng = np.random.default_rng(5)
    parts = {"a": rng.normal(0.0, 1.0, 80), "b": rng.normal(0.4, 2.0, 50), "c": rng.normal(-0.2, 0.5, 60)}
    residual = np.concatenate(list(parts.values()))
    sizes = [len(v) for v in parts.values()]
    frame = pd.DataFrame({"y": residual + 10.0, "pred": 10.0, "s": np.repeat(list(parts), sizes)})
    ev = reportgen.evaluate(frame, label="y", prediction="pred", sensitive=["s"], resamples=100,
                            reference={"s": "a"})
    gaps = ev.fairness.set_index("gap")
    assert gaps.loc["mean_residual_difference", "p_value"] == pytest.approx(
        welch_anova_by_rows([parts[g] for g in parts]), rel=1e-7)
    absolute = {g: np.abs(v) for g, v in parts.items()}
    assert gaps.loc["mae_difference", "p_value"] == pytest.approx(welch_anova_by_rows(list(absolute.values())), rel=1e-7)
    rows = ev.fairness_by_group.query("rate == 'mean_residual'").set_index("group")
    statistic = ttest_ind(parts["b"], parts["a"], equal_var=False).statistic
    assert rows.loc["b", "p_value"] == pytest.approx(2 * norm.sf(abs(statistic)), rel=1e-7)


def test_a_shared_test_counts_once_whichever_of_its_gaps_are_defined():
    """The reference selects nobody: disparate impact is undefined, the parity difference shares its test."""
    groups = {"a": (0, 0, 30, 10), "b": (20, 5, 15, 10), "c": (10, 10, 20, 10)}
    by_group, gaps = _tables(groups, reference=0)
    gaps = gaps.set_index("gap")
    assert pd.isna(gaps.loc["disparate_impact_ratio", "p_value"]) and pd.isna(gaps.loc["disparate_impact_ratio",
                                                                                        "q_value"])
    assert gaps.loc["disparate_impact_ratio", "significant"] is None
    assert gaps.loc["demographic_parity_difference", "q_value"] == gaps.loc["demographic_parity_ratio", "q_value"]
    first = "disparate_impact_ratio"
    reordered = {name: GAPS[name] for name in (first, *[g for g in GAPS if g != first])}
    tp, fp, tn, fn = (np.array(cells) for cells in zip(*groups.values(), strict=True))
    counts = Confusion(tp=tp, fp=fp, tn=tn, fn=fn)
    tables = fairness_tables("s", list(groups), counts.n, rates(counts), 0, Thresholds(0.1, 0.8), level=0.95,
                             gaps=reordered)
    _, first_undefined, family = adjust(*(t.assign(class_label=None) for t in tables), 0.05)
    first_undefined = first_undefined.set_index("gap")
    assert family.tests == 4 + int(by_group["p_value"].notna().sum())
    assert first_undefined.loc["demographic_parity_difference", "q_value"] == gaps.loc[
        "demographic_parity_difference", "q_value"]
