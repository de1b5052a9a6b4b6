"""Quality gates: pass, fail, significance, undefined values, and one-line errors for names that do not exist.

The rules are checked on hand-built documents (the second half); the first half runs whole evaluations.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_absolute_error, recall_score, roc_auc_score

import reportgen
from reportgen.config import Config, GateSpec, validate
from reportgen.document.gates import apply_gates, evaluate_gates, failed
from reportgen.document.schema import (
    SCHEMA_VERSION,
    Charts,
    ComparisonResult,
    EvaluationData,
    FairnessGap,
    FairnessResult,
    GateResult,
    GroupChange,
    GroupResult,
    MetricChange,
    MetricInfo,
    MetricsSection,
    MetricValue,
    ModelDetails,
    Multiplicity,
    Narrative,
    Report,
    RunRecord,
    SliceChange,
    SliceResult,
)
from reportgen.errors import ConfigError
from reportgen.render.json import read_json


def _binary(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Group "b" has a much lower recall than "a"; "tiny" has 12 rows."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b"], dtype=object), n)
    group[:12] = "tiny"
    y = rng.integers(0, 2, n)
    noise = np.where(group == "b", 0.45, 0.25)
    p = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, noise), 0, 1)
    return pd.DataFrame({"y": y, "p": p, "g": group})


def _gates(df: pd.DataFrame, *gates: dict, **options) -> list:
    options = {"label": "y", "score": "p", "slices": [{"column": "g"}], "resamples": 200} | options
    return reportgen.evaluate(df, gates=list(gates), **options).gates


def _recall(df: pd.DataFrame, group: str) -> float:
    rows = df[df.g == group]
    return recall_score(rows.y, rows.p >= 0.5)


def test_overall_gate_passes_at_and_above_its_bound_and_fails_below() -> None:
    df = _binary()
    auc = roc_auc_score(df.y, df.p)
    at, above, below = _gates(df, {"metric": "roc_auc", "min": auc}, {"metric": "roc_auc", "min": auc - 0.01},
                              {"metric": "roc_auc", "min": auc + 0.01})
    assert (at.status, above.status, below.status) == ("pass", "pass", "fail")
    assert below.checks[0].subject == "overall"
    assert below.checks[0].value == pytest.approx(auc, abs=1e-12)
    assert below.title == f"ROC AUC ≥ {auc + 0.01:g} overall"


def test_slice_gate_checks_every_group_and_names_the_breaches() -> None:
    df = _binary()
    bound = (_recall(df, "a") + _recall(df, "b")) / 2
    (gate,) = _gates(df, {"metric": "recall", "slice": "g", "min": bound})
    assert gate.status == "fail"
    by_subject = {c.subject: c for c in gate.checks}
    assert set(by_subject) == {"a", "b", "tiny"}
    for name in ("a", "b"):
        assert by_subject[name].value == pytest.approx(_recall(df, name), abs=1e-12)
    assert by_subject["a"].passed and not by_subject["b"].passed
    # "tiny" has 12 rows, and fewer positives: its recall rests on too few rows to be checked
    positives = int(df[df.g == "tiny"].y.sum())
    tiny = by_subject["tiny"]
    assert tiny.passed is None and tiny.value is not None
    assert tiny.undefined_reason == f"{positives} positives, fewer than the minimum support of 30"
    assert gate.detail.startswith(f"1 breach of 2 checked: b {by_subject['b'].value:.3f} (")
    assert gate.detail.endswith(f"Not checked (undefined, or too few rows): tiny: {tiny.undefined_reason}.")
    assert failed([gate]) == [gate]


def test_group_gate_checks_one_group_with_both_bounds() -> None:
    df = _binary()
    recall_a = _recall(df, "a")
    inside, outside = _gates(
        df,
        {"metric": "recall", "slice": "g", "group": "a", "min": recall_a - 0.01, "max": recall_a + 0.01},
        {"metric": "recall", "slice": "g", "group": "a", "min": recall_a - 0.02, "max": recall_a - 0.01},
    )
    assert [c.subject for c in inside.checks] == ["a"]
    assert inside.status == "pass" and outside.status == "fail"
    assert inside.title.startswith("Recall (TPR) between")


def test_significant_gate_fails_only_when_the_whole_interval_is_beyond_the_bound() -> None:
    df = _binary()
    recall_b = _recall(df, "b")
    # just above b's recall: a breach, but inside b's interval
    plain, significant_only = _gates(
        df, {"metric": "recall", "slice": "g", "group": "b", "min": recall_b + 0.005},
        {"metric": "recall", "slice": "g", "group": "b", "min": recall_b + 0.005, "significant": True},
    )
    check = significant_only.checks[0]
    assert check.ci_low < recall_b + 0.005 < check.ci_high
    assert plain.status == "fail" and significant_only.status == "pass"
    assert check.breached and not check.significant
    assert "not significantly" in significant_only.detail
    # far above: significant
    (far,) = _gates(df, {"metric": "recall", "slice": "g", "group": "b", "min": check.ci_high + 0.01,
                         "significant": True})
    assert far.status == "fail" and far.checks[0].significant


def test_undefined_values_are_not_checked_and_a_gate_with_none_is_undefined() -> None:
    df = _binary()
    df.loc[df.g == "tiny", "y"] = 1  # one class: ROC AUC undefined in "tiny"
    partial, nothing = _gates(df, {"metric": "roc_auc", "slice": "g", "min": 0.5},
                              {"metric": "roc_auc", "slice": "g", "group": "tiny", "min": 0.5})
    tiny = next(c for c in partial.checks if c.subject == "tiny")
    assert tiny.passed is None and tiny.undefined_reason == "only one class in this group"
    assert partial.status == "pass" and "tiny: only one class in this group" in partial.detail
    assert nothing.status == "undefined" and "only one class" in nothing.detail
    assert failed([partial, nothing]) == [nothing]


def test_fairness_gate_checks_each_sensitive_column() -> None:
    df = _binary()
    df["h"] = np.random.default_rng(1).choice(["x", "y"], len(df))
    options = {"sensitive": ["g", "h"], "slices": []}
    everywhere, only_h = _gates(df, {"fairness": "equal_opportunity_difference", "max": 0.1},
                                {"fairness": "equal_opportunity_difference", "sensitive": "h", "max": 0.1},
                                **options)
    assert [c.subject for c in everywhere.checks] == ["g", "h"]
    assert [c.subject for c in only_h.checks] == ["h"]
    recalls = [_recall(df, name) for name in ("a", "b", "tiny")]
    assert everywhere.checks[0].value == pytest.approx(max(recalls) - min(recalls), abs=1e-12)
    assert everywhere.status == "fail"  # "tiny" or "b" is far from "a"


def test_multiclass_fairness_gate_checks_each_class() -> None:
    rng = np.random.default_rng(2)
    n = 900
    df = pd.DataFrame({"y": rng.choice(["u", "v", "w"], n), "s": rng.choice(["m", "f"], n)})
    df["pred"] = np.where(rng.random(n) < 0.7, df.y, rng.choice(["u", "v", "w"], n))
    (gate,) = reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", sensitive=["s"],
                                 resamples=100, gates=[{"fairness": "demographic_parity_difference", "max": 1}]).gates
    assert [c.subject for c in gate.checks] == ["s · u", "s · v", "s · w"]
    assert gate.status == "pass"


def test_regression_gate_on_mae() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=500), "g": rng.choice(["a", "b"], 500)})
    df["pred"] = df.y + rng.normal(scale=0.5, size=500)
    mae = mean_absolute_error(df.y, df.pred)
    (gate,) = reportgen.evaluate(df, label="y", prediction="pred", resamples=100,
                                 gates=[{"metric": "mae", "max": mae - 1e-9}]).gates
    assert gate.status == "fail" and gate.checks[0].value == pytest.approx(mae, abs=1e-12)


def test_gates_read_back_from_json_give_the_same_outcome(tmp_path) -> None:
    df = _binary()
    spec = [{"metric": "recall", "slice": "g", "min": 0.7, "significant": True},
            {"fairness": "demographic_parity_difference", "max": 0.05}]
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "g"}], sensitive=["g"], resamples=200,
                            gates=spec)
    ev.to_json(tmp_path / "report.json")
    config = validate(Config, {"data": {"label": "y", "score": "p"}, "slices": [{"column": "g"}],
                               "fairness": {"sensitive": ["g"]}, "gates": spec}, source="c.toml")
    assert evaluate_gates(config.gates, read_json(tmp_path / "report.json"), source="c.toml") == ev.gates


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"metric": "auc", "min": 0.8},
         r'^evaluate\(\): gates\[0\]\["metric"\]: unknown metric "auc" for a binary task; metrics are: "count", .*'
         r'"roc_auc", .*; did you mean "roc_auc"\?$'),
        ({"metric": "recall", "slice": "g", "group": "c", "min": 0.5},
         r'^evaluate\(\): gates\[0\]\["group"\]: slice "g" has no group "c"; groups are: "a", "b", "tiny"$'),
        ({"fairness": "equalised_odds_difference", "max": 0.1},
         r'^evaluate\(\): gates\[0\]\["fairness"\]: unknown gap "equalised_odds_difference" for a binary task; '
         r'gaps are: .*'
         r'did you mean "equalized_odds_difference"\?$'),
        ({"metric": "ece", "max": 0.05, "significant": True},
         r'^evaluate\(\): gates\[0\]\["significant"\]: ECE has no confidence interval, so a breach cannot be tested; '
         r'remove "significant"$'),
    ],
)
def test_names_the_report_does_not_have_are_one_line_errors(gate: dict, message: str) -> None:
    ev = reportgen.evaluate(_binary(), label="y", score="p", slices=[{"column": "g"}], sensitive=["g"],
                            resamples=100, gates=[gate])
    with pytest.raises(ConfigError, match=message):
        ev.to_report()


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"metric": "recall"}, r'\[\[gates\]\] #1: give "min", "max" or both'),
        ({"metric": "recall", "min": 0.9, "max": 0.1}, r'"min" \(0.9\) is above "max" \(0.1\)'),
        ({"metric": "recall", "min": float("nan")}, r"\[\[gates\]\] #1 min: nan: input should be a finite number"),
        ({"metric": "recall", "fairness": "x", "min": 0.1}, 'give exactly one of "metric", "fairness", "drift" or "drift_share"'),
        ({"min": 0.1}, 'give exactly one of "metric", "fairness", "drift" or "drift_share"'),
        ({"metric": "recall", "group": "a", "min": 0.1}, '"group" needs "slice"'),
        ({"fairness": "demographic_parity_difference", "slice": "g", "max": 0.1}, '"slice" and "group" go with "metric"'),
        ({"metric": "recall", "sensitive": "g", "min": 0.1}, '"sensitive" goes with "fairness"'),
        ({"metric": "recall", "slice": "gg", "min": 0.1},
         r'\[\[gates\]\] #1 slice: unknown slice "gg"; slices are: "g"; did you mean "g"\?'),
        ({"fairness": "demographic_parity_difference", "sensitive": "h", "max": 0.1},
         r'\[\[gates\]\] #1 sensitive: "h" is not a sensitive column; \[fairness\] sensitive lists: "g"'),
        ({"metric": "recall", "min": 0.1, "maximum": 1}, r'\[\[gates\]\] #1 maximum: unknown key'),
    ],
)
def test_gate_specs_are_checked_with_the_config(gate: dict, message: str) -> None:
    raw = {"data": {"label": "y", "score": "p"}, "slices": [{"column": "g"}], "fairness": {"sensitive": ["g"]},
           "gates": [gate]}
    with pytest.raises(ConfigError, match=message):
        validate(Config, raw, source="c.toml")


def test_fairness_gate_needs_sensitive_columns() -> None:
    raw = {"data": {"label": "y", "score": "p"}, "gates": [{"fairness": "demographic_parity_difference", "max": 1}]}
    with pytest.raises(ConfigError, match=r"#1 fairness: no sensitive columns; list them in \[fairness\] sensitive"):
        validate(Config, raw, source="c.toml")


# ---------------------------------------------------------------------------------------------- on hand-built documents
#
# The gates read only the document: each rule is checked here on a `Report` built by hand from the
# schema's dataclasses, a few groups and metrics with values chosen to sit on either side of a bound.

INFOS = {
    "roc_auc": MetricInfo("roc_auc", "ROC AUC", "score (Newcombe)", True, "rows of the smaller class"),
    "recall": MetricInfo("recall", "Recall (TPR)", "Wilson", True, "positives"),
    "fpr": MetricInfo("fpr", "False positive rate", "Wilson", False, "negatives"),
    "ece": MetricInfo("ece", "ECE", None, False, "rows"),
    "count": MetricInfo("count", "Count", None, None, "rows"),
}
# (value, ci_low, ci_high), optionally with the support (else the group's rows), or why undefined
Value = tuple[float | None, float | None, float | None] | tuple[float | None, float | None, float | None, int] | str


def _value(metric: str, given: Value, n: int) -> MetricValue:
    if isinstance(given, str):
        return MetricValue(metric, None, None, None, n, n < 30, given)
    value, low, high, support = (*given, n) if len(given) == 3 else given
    return MetricValue(metric, value, low, high, support, support < 30, None)


def _group(name: str, n: int = 100, **metrics: Value) -> GroupResult:
    values = [_value(metric, given, n) for metric, given in metrics.items()]
    return GroupResult(group=name, n=n, share=0.5, small=n < 30, metrics=values, weak_metrics=[],
                       confusion_matrix=None, class_matrix=None, classes=[])


def _slice(name: str, *groups: GroupResult, more: tuple[GroupResult, ...] = ()) -> SliceResult:
    return SliceResult(name=name, kind="values", columns=[name], notes=[], groups=list(groups),
                       more_groups=list(more), left_out=0, distinct=len(groups) + len(more), calibration=[])


def _gap(name: str, value: float | None, ci: tuple[float | None, float | None] = (None, None),
         class_label: str | None = None, reason: str | None = None) -> FairnessGap:
    return FairnessGap(name=name, class_label=class_label, value=value, ci_low=ci[0], ci_high=ci[1], threshold=0.1,
                       breached=None, p_value=None, q_value=None, significant=None, between=None, rate=None, note=None, undefined_reason=reason)


def _fairness(sensitive: str, *gaps: FairnessGap) -> FairnessResult:
    return FairnessResult(sensitive=sensitive, reference="a", max_difference=0.1, min_ratio=0.8, gaps=list(gaps),
                          groups=[], more_groups=[])


def _change(name: str, difference: float | None, ci: tuple[float | None, float | None] = (None, None),
            method: str | None = "paired bootstrap", reason: str | None = None, support: int = 100) -> MetricChange:
    return MetricChange(name=name, candidate=None, candidate_ci_low=None, candidate_ci_high=None, baseline=None,
                        baseline_ci_low=None, baseline_ci_high=None, difference=difference, ci_low=ci[0],
                        ci_high=ci[1], method=method, p_value=None, q_value=None, test=None, flag=None,
                        support=support, small=support < 30, mirror_of=None, undefined_reason=reason)


def _comparison(baseline: str, overall: list[MetricChange], **slices: dict[str, list[MetricChange]]) -> ComparisonResult:
    return ComparisonResult(
        baseline=baseline, source=f"{baseline}.csv", fingerprint="0", join="row order", unmatched=0, rows=200,
        fdr=0.05, improvements=0, regressions=0, overall=GroupChange("overall", 200, False, overall),
        slices=[SliceChange(name, [GroupChange(g, 100, False, changes) for g, changes in groups.items()], [])
                for name, groups in slices.items()],
    )


def _report(overall: GroupResult, *slices: SliceResult, fairness: tuple[FairnessResult, ...] = (),
            comparisons: tuple[ComparisonResult, ...] = (), task: str = "binary",
            infos: tuple[str, ...] = tuple(INFOS)) -> Report:
    return Report(
        schema_version=SCHEMA_VERSION, generator="tests", title="Model card", task=task, gates=[],
        comparisons=list(comparisons), error_analysis=None, monitoring=None, findings=[],
        multiplicity=Multiplicity("Benjamini–Hochberg", 0.05, "q ≤ 0.05", []),
        model=ModelDetails("model", "", "", None, [], None, None),
        run=RunRecord("0", "0", None, None, {}, {}),
        training=None,
        narrative=Narrative(None, None, None, None, None, None),
        metrics=MetricsSection(metrics=[INFOS[name] for name in infos], class_metrics=[], threshold=0.5,
                               prediction_source="score", confidence_level=0.95, resamples=100, seed=0,
                               min_support=30, calibration_bins=10),
        evaluation_data=EvaluationData("test.csv", "0", 200, 100, 100, 0.5, "1", [], None, None),
        overall=overall, slices=list(slices), fairness=list(fairness),
        charts=Charts(None, None, None, None, None, [], None, None, None),
        performance_metrics=[], sections=[],
    )


def _check(report: Report, **spec: object) -> GateResult:
    (result,) = evaluate_gates([GateSpec(**spec)], report, source="c.toml")
    return result


def _document() -> Report:
    """ROC AUC 0.80 overall; recall by group: a 0.90, b 0.60, tiny undefined; two sensitive columns."""
    overall = _group("overall", 200, roc_auc=(0.80, 0.75, 0.85), recall=(0.75, 0.70, 0.80), ece=(0.04, None, None),
                     count=(200.0, None, None))
    groups = _slice("g", _group("a", recall=(0.90, 0.85, 0.95), roc_auc=(0.85, 0.80, 0.90)),
                    _group("b", recall=(0.60, 0.50, 0.70), roc_auc=(0.70, 0.60, 0.80)),
                    _group("tiny", 12, recall="no positives in this group", roc_auc="only one class in this group"))
    return _report(overall, groups,
                   fairness=(_fairness("g", _gap("demographic_parity_difference", 0.25, (0.15, 0.35))),
                             _fairness("h", _gap("demographic_parity_difference", 0.05, (-0.02, 0.12)))))


@pytest.mark.parametrize(
    ("bounds", "status"),
    [({"min": 0.8}, "pass"), ({"min": 0.79}, "pass"), ({"min": 0.81}, "fail"), ({"max": 0.8}, "pass"),
     ({"max": 0.79}, "fail"), ({"min": 0.7, "max": 0.9}, "pass"), ({"min": 0.81, "max": 0.9}, "fail")],
)
def test_hand_built_overall_gate_passes_within_its_bounds(bounds: dict, status: str) -> None:
    gate = _check(_document(), metric="roc_auc", **bounds)
    assert gate.status == status
    (check,) = gate.checks
    assert (check.subject, check.value, check.ci_low, check.ci_high) == ("overall", 0.80, 0.75, 0.85)
    assert check.passed is (status == "pass") and check.breached is (status == "fail")
    assert failed([gate]) == ([] if status == "pass" else [gate])


def test_hand_built_gate_titles_and_details() -> None:
    document = _document()
    below = _check(document, metric="roc_auc", min=0.81)
    assert below.title == "ROC AUC ≥ 0.81 overall"
    assert below.detail == "1 breach of 1 checked: overall 0.800 (0.750–0.850)."
    within = _check(document, metric="roc_auc", min=0.7, max=0.9)
    assert within.title == "ROC AUC between 0.7 and 0.9 overall"
    assert within.detail == "Within bounds; closest: overall 0.800 (0.750–0.850)."
    ece = _check(document, metric="ece", max=0.05)
    assert (ece.title, ece.status, ece.detail) == ("ECE ≤ 0.05 overall", "pass", "Within bounds; closest: overall 0.040.")


def test_hand_built_slice_gate_checks_every_group() -> None:
    gate = _check(_document(), metric="recall", slice="g", min=0.7)
    assert gate.title == "Recall (TPR) ≥ 0.7 in every group of g"
    assert [(c.subject, c.passed) for c in gate.checks] == [("a", True), ("b", False), ("tiny", None)]
    assert gate.status == "fail"
    assert gate.detail == ("1 breach of 2 checked: b 0.600 (0.500–0.700). Not checked (undefined, or too few rows): "
                           "tiny: no positives in this group.")
    one = _check(_document(), metric="recall", slice="g", group="a", min=0.7)
    assert (one.title, [c.subject for c in one.checks], one.status) == ("Recall (TPR) ≥ 0.7 for g = a", ["a"], "pass")


def test_hand_built_gate_judges_groups_the_card_does_not_show() -> None:
    shown = (_group("big", recall=(0.9, None, None)), _group("(other)", recall=(0.8, None, None)))
    hidden = _group("rare", 40, recall=(0.2, None, None))
    report = _report(_group("overall", recall=(0.8, None, None)), _slice("id", *shown, more=(hidden,)))
    every = _check(report, metric="recall", slice="id", min=0.5)
    assert [(c.subject, c.passed) for c in every.checks] == [("big", True), ("(other)", True), ("rare", False)]
    one = _check(report, metric="recall", slice="id", group="rare", min=0.5)
    assert ([c.subject for c in one.checks], one.status) == (["rare"], "fail")


@pytest.mark.parametrize("breaches", [5, 6, 8])
def test_hand_built_slice_gate_lists_five_breaches_then_a_count(breaches: int) -> None:
    groups = [_group(f"s{i}", recall=(0.1 * i, None, None)) for i in range(breaches)]
    gate = _check(_report(_group("overall", recall=(0.5, None, None)), _slice("s", *groups)),
                  metric="recall", slice="s", min=0.75)
    assert gate.status == "fail"
    listed = "; ".join(f"s{i} {0.1 * i:.3f}" for i in range(min(breaches, 5)))
    more = f"; … and {breaches - 5} more" if breaches > 5 else ""
    assert gate.detail == f"{breaches} breaches of {breaches} checked: {listed}{more}."


def test_hand_built_closest_value_is_the_one_nearest_a_bound() -> None:
    groups = _slice("s", _group("far", recall=(0.95, None, None)), _group("near", recall=(0.71, None, None)),
                    _group("mid", recall=(0.85, None, None)))
    gate = _check(_report(_group("overall", recall=(0.8, None, None)), groups), metric="recall", slice="s",
                  min=0.7, max=1.0)
    assert gate.detail == "All 3 checked within bounds; closest: near 0.710."


@pytest.mark.parametrize(
    ("interval", "plain", "significant"),
    [((0.70, 0.90), "fail", "pass"),  # breach inside the interval: not significant
     ((0.70, 0.84), "fail", "fail"),  # the whole interval below the bound
     ((None, None), "fail", "pass")],  # no interval for this value: never significant
)
def test_hand_built_significant_gate_fails_only_when_the_interval_is_beyond_the_bound(
    interval: tuple, plain: str, significant: str
) -> None:
    document = _report(_group("overall", roc_auc=(0.80, *interval)))
    assert _check(document, metric="roc_auc", min=0.85).status == plain
    gate = _check(document, metric="roc_auc", min=0.85, significant=True)
    assert gate.status == significant
    (check,) = gate.checks
    assert check.breached is True and check.significant is (significant == "fail")
    if significant == "pass":
        assert gate.detail.endswith("; 1 beyond the bound but not significantly.")
    else:
        assert gate.detail.startswith("1 significant breach of 1 checked:")


def test_hand_built_significant_gate_on_an_upper_bound() -> None:
    document = _report(_group("overall", fpr=(0.20, 0.16, 0.24)))
    assert _check(document, metric="fpr", max=0.18, significant=True).status == "pass"
    assert _check(document, metric="fpr", max=0.15, significant=True).status == "fail"


@settings(max_examples=200, deadline=None)
@given(
    value=st.floats(0, 1), width=st.floats(0, 0.3), low=st.one_of(st.none(), st.floats(0, 1)),
    high=st.one_of(st.none(), st.floats(0, 1)), significant=st.booleans(),
)
def test_hand_built_gate_outcome_follows_its_definition(
    value: float, width: float, low: float | None, high: float | None, significant: bool
) -> None:
    """Pass unless the value is beyond a bound; with `significant`, unless the whole interval is."""
    document = _report(_group("overall", roc_auc=(value, value - width, value + width)))
    bounds = {key: bound for key, bound in (("min", low), ("max", high)) if bound is not None}
    assume(bounds and (low is None or high is None or low <= high))
    gate = _check(document, metric="roc_auc", significant=significant, **bounds)
    lowest, highest = (value - width, value + width) if significant else (value, value)
    beyond = (low is not None and highest < low) or (high is not None and lowest > high)
    assert gate.status == ("fail" if beyond else "pass")


def test_hand_built_undefined_values_are_not_checked() -> None:
    document = _document()
    nothing = _check(document, metric="roc_auc", slice="g", group="tiny", min=0.5)
    assert nothing.status == "undefined"
    assert nothing.checks[0].undefined_reason == "only one class in this group"
    assert nothing.detail == "Not checked: no value could be checked (tiny: only one class in this group)."
    partial = _check(document, metric="roc_auc", slice="g", min=0.5)
    assert partial.status == "pass"
    assert partial.detail.endswith("Not checked (undefined, or too few rows): tiny: only one class in this group.")
    assert failed([partial, nothing]) == [nothing]


def test_issue_14_a_value_on_too_few_rows_is_not_checked_and_says_how_few() -> None:
    """Group "few" has 500 rows but its recall rests on 6 positives: not checked, whatever its value."""
    overall = _group("overall", 600, recall=(0.75, 0.70, 0.80))
    groups = _slice("g", _group("a", recall=(0.90, 0.85, 0.95)),
                    _group("few", 500, recall=(0.50, 0.19, 0.81, 6), roc_auc=(0.9, 0.8, 1.0, 6), fpr=(0.4, 0.35, 0.45)))
    document = _report(overall, groups)
    every = _check(document, metric="recall", slice="g", min=0.7)
    assert [(c.subject, c.value, c.passed) for c in every.checks] == [("a", 0.9, True), ("few", 0.5, None)]
    assert every.checks[1].undefined_reason == "6 positives, fewer than the minimum support of 30"
    assert every.status == "pass"
    assert every.detail.endswith("Not checked (undefined, or too few rows): few: 6 positives, fewer than the minimum "
                                 "support of 30.")
    only = _check(document, metric="recall", slice="g", group="few", min=0.7)
    assert only.status == "undefined" and failed([only]) == [only]  # a gate that cannot be checked does not pass
    auc = _check(document, metric="roc_auc", slice="g", group="few", min=0.95)
    assert auc.checks[0].undefined_reason == "6 rows of the smaller class, fewer than the minimum support of 30"
    # the same group's FPR rests on its negatives (its rows here), enough to be checked
    assert _check(document, metric="fpr", slice="g", group="few", max=0.3).status == "fail"


def test_issue_14_a_change_on_too_few_rows_is_not_checked_by_max_regression() -> None:
    old = _comparison("old", [_change("recall", -0.01, (-0.03, 0.01))],
                      g={"a": [_change("recall", -0.01, (-0.03, 0.01))],
                         "b": [_change("recall", -0.3, (-0.6, 0.0), support=6)]})
    gate = _check(_compared(old), metric="recall", slice="g", max_regression=0.05)
    assert [(c.subject, c.passed) for c in gate.checks] == [("a", True), ("b", None)]
    assert gate.checks[1].undefined_reason == "6 positives, fewer than the minimum support of 30"
    assert gate.status == "pass"


def test_hand_built_fairness_gate_checks_each_sensitive_column_and_class() -> None:
    document = _document()
    everywhere = _check(document, fairness="demographic_parity_difference", max=0.1)
    assert everywhere.title == "Demographic parity difference ≤ 0.1 for every sensitive column"
    assert [(c.subject, c.value, c.passed) for c in everywhere.checks] == [("g", 0.25, False), ("h", 0.05, True)]
    assert everywhere.status == "fail"
    only_h = _check(document, fairness="demographic_parity_difference", sensitive="h", max=0.1)
    assert (only_h.title, only_h.status) == ("Demographic parity difference ≤ 0.1 for h", "pass")
    per_class = _report(_group("overall", recall=(0.5, None, None)), task="multiclass", infos=("recall",), fairness=(
        _fairness("s", _gap("demographic_parity_difference", 0.05, class_label="u"),
                  _gap("demographic_parity_difference", None, class_label="v", reason="one group only")),))
    gate = _check(per_class, fairness="demographic_parity_difference", max=0.1)
    assert [(c.subject, c.passed) for c in gate.checks] == [("s · u", True), ("s · v", None)]
    assert gate.status == "pass"


def test_hand_built_fairness_gate_significance() -> None:
    document = _document()  # g: 0.25 (0.15–0.35), h: 0.05 (−0.02–0.12)
    assert _check(document, fairness="demographic_parity_difference", max=0.2, significant=True).status == "pass"
    assert _check(document, fairness="demographic_parity_difference", max=0.1, significant=True).status == "fail"
    assert _check(document, fairness="demographic_parity_difference", sensitive="h", max=0.0,
                  significant=True).status == "pass"


def _compared(*comparisons: ComparisonResult) -> Report:
    return _report(_group("overall", roc_auc=(0.8, 0.75, 0.85), fpr=(0.2, 0.15, 0.25), count=(200.0, None, None)),
                   _slice("g", _group("a"), _group("b")), comparisons=comparisons)


@pytest.mark.parametrize(
    ("difference", "max_regression", "status"),
    [(-0.03, 0.05, "pass"), (-0.05, 0.05, "pass"), (-0.06, 0.05, "fail"), (0.10, 0.0, "pass"), (-0.001, 0.0, "fail")],
)
def test_hand_built_max_regression_where_higher_is_better(difference: float, max_regression: float,
                                                           status: str) -> None:
    document = _compared(_comparison("old", [_change("roc_auc", difference, (difference - 0.02, difference + 0.02))]))
    gate = _check(document, metric="roc_auc", max_regression=max_regression)
    assert gate.status == status
    assert gate.title == f'ROC AUC may not drop by more than {max_regression:g} against "old" overall'
    (check,) = gate.checks
    assert (check.subject, check.value) == ("overall", difference)


@pytest.mark.parametrize(("difference", "status"), [(0.04, "pass"), (0.06, "fail"), (-0.2, "pass")])
def test_hand_built_max_regression_where_lower_is_better(difference: float, status: str) -> None:
    document = _compared(_comparison("old", [_change("fpr", difference)]))
    gate = _check(document, metric="fpr", max_regression=0.05)
    assert gate.status == status
    assert gate.title == 'False positive rate may not rise by more than 0.05 against "old" overall'


def test_hand_built_max_regression_details_significance_and_slices() -> None:
    old = _comparison("old", [_change("roc_auc", -0.06, (-0.10, -0.02))],
                      g={"a": [_change("roc_auc", -0.01, (-0.03, 0.01))], "b": [_change("roc_auc", -0.08, (-0.2, 0.04))]})
    document = _compared(old)
    overall = _check(document, metric="roc_auc", max_regression=0.05)
    # either minus sign: gates write numbers themselves, not (yet) through reportgen.formatting
    assert overall.detail.replace("\u2212", "-") == "1 breach of 1 checked: overall -0.060 (-0.100 to -0.020)."
    within = _check(document, metric="roc_auc", max_regression=0.05, significant=True)
    assert within.status == "pass" and within.detail.endswith("; 1 beyond the bound but not significantly.")
    assert _check(document, metric="roc_auc", max_regression=0.01, significant=True).status == "fail"
    assert _check(document, metric="roc_auc", max_regression=0.11, significant=True).status == "pass"
    by_group = _check(document, metric="roc_auc", slice="g", max_regression=0.05)
    assert [(c.subject, c.passed) for c in by_group.checks] == [("a", True), ("b", False)]
    assert by_group.title == 'ROC AUC may not drop by more than 0.05 against "old" in every group of g'
    assert _check(document, metric="roc_auc", slice="g", max_regression=0.05, significant=True).status == "pass"


def test_hand_built_max_regression_against_several_baselines() -> None:
    document = _compared(_comparison("old", [_change("roc_auc", -0.01)]), _comparison("older", [_change("roc_auc", -0.2)]))
    every = _check(document, metric="roc_auc", max_regression=0.05)
    assert every.title == "ROC AUC may not drop by more than 0.05 against any baseline overall"
    assert [(c.subject, c.passed) for c in every.checks] == [("old: overall", True), ("older: overall", False)]
    one = _check(document, metric="roc_auc", max_regression=0.05, baseline="old")
    assert ([c.subject for c in one.checks], one.status) == (["overall"], "pass")


@pytest.mark.parametrize(
    ("spec", "comparisons", "message"),
    [
        ({"metric": "count", "max_regression": 0.1}, True,
         r"^c\.toml: \[\[gates\]\] #1 max_regression: Count has no better direction, so it cannot regress; "
         r"bound it with min or max instead$"),
        ({"metric": "roc_auc", "max_regression": 0.1}, False,
         r"^c\.toml: \[\[gates\]\] #1 max_regression: the report compares with no baseline; add a \[baseline\]$"),
        ({"metric": "recall", "max_regression": 0.1}, True,
         r'^c\.toml: \[\[gates\]\] #1 metric: the baseline "old" has no Recall \(TPR\)$'),
        ({"metric": "fpr", "max_regression": 0.1, "significant": True}, True,
         r"^c\.toml: \[\[gates\]\] #1 significant: the change in False positive rate has no paired interval, so a "
         r'breach cannot be tested; remove "significant"$'),
    ],
)
def test_hand_built_max_regression_errors(spec: dict, comparisons: bool, message: str) -> None:
    old = _comparison("old", [_change("roc_auc", -0.01), _change("fpr", 0.01, method=None)])
    document = _compared(old) if comparisons else _compared()
    with pytest.raises(ConfigError, match=message):
        evaluate_gates([GateSpec(**spec)], document, source="c.toml")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"metric": "roc_aux", "min": 0.5},
         r'^c\.toml: \[\[gates\]\] #2 metric: unknown metric "roc_aux" for a binary task; metrics are: "roc_auc", '
         r'"recall", "fpr", "ece", "count"; did you mean "roc_auc"\?$'),
        ({"metric": "recall", "slice": "gg", "min": 0.5},
         r'^c\.toml: \[\[gates\]\] #2 slice: the report has no slice "gg"; slices are: "g"$'),
        ({"metric": "recall", "slice": "g", "group": "tin", "min": 0.5},
         r'^c\.toml: \[\[gates\]\] #2 group: slice "g" has no group "tin"; groups are: "a", "b", "tiny"; '
         r'did you mean "tiny"\?$'),
        ({"fairness": "demographic_parity_diference", "max": 0.1},
         r'^c\.toml: \[\[gates\]\] #2 fairness: unknown gap "demographic_parity_diference" for a binary task; '
         r'gaps are: "demographic_parity_difference"; did you mean "demographic_parity_difference"\?$'),
        ({"fairness": "demographic_parity_difference", "sensitive": "k", "max": 0.1},
         r'^c\.toml: \[\[gates\]\] #2 sensitive: the report has no fairness result for "k"; '
         r'sensitive columns are: "g", "h"$'),
        ({"metric": "ece", "max": 0.05, "significant": True},
         r'^c\.toml: \[\[gates\]\] #2 significant: ECE has no confidence interval, so a breach cannot be tested; '
         r'remove "significant"$'),
    ],
)
def test_hand_built_names_the_document_does_not_have_are_one_line_errors(spec: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        evaluate_gates([GateSpec(metric="roc_auc", min=0.5), GateSpec(**spec)], _document(), source="c.toml")
    assert "\n" not in str(raised.value)  # one line; the gate is numbered from 1 (the second here)


def test_hand_built_apply_gates_sets_the_document_gates_only() -> None:
    document = _document()
    specs = [GateSpec(metric="roc_auc", min=0.5), GateSpec(metric="recall", slice="g", min=0.7)]
    applied = apply_gates(document, specs, source="c.toml")
    assert [g.status for g in applied.gates] == ["pass", "fail"]
    assert dataclasses.replace(applied, gates=[]) == document
