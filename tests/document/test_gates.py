"""Quality gates: pass, fail, significance, undefined values, and one-line errors for names that do not exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, recall_score, roc_auc_score

import reportgen
from reportgen.config import Config, validate
from reportgen.document.gates import evaluate_gates, failed
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
    breaches = [c.subject for c in gate.checks if not c.passed]
    assert gate.detail.startswith(f"{len(breaches)} breaches of 3 checked: b {by_subject['b'].value:.3f} (")
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
    assert partial.status == "pass" and '"tiny"' in partial.detail
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
         r'evaluate\(\): \[\[gates\]\] #1 metric: unknown metric "auc" for a binary task; metrics are: "count", .*'
         r'"roc_auc", .*; did you mean "roc_auc"\?$'),
        ({"metric": "recall", "slice": "g", "group": "c", "min": 0.5},
         r'\[\[gates\]\] #1 group: slice "g" has no group "c"; groups are: "a", "b", "tiny"$'),
        ({"fairness": "equalised_odds_difference", "max": 0.1},
         r'\[\[gates\]\] #1 fairness: unknown gap "equalised_odds_difference" for a binary task; gaps are: .*'
         r'did you mean "equalized_odds_difference"\?$'),
        ({"metric": "ece", "max": 0.05, "significant": True},
         r'\[\[gates\]\] #1 significant: ECE has no confidence interval, so a breach cannot be tested; '
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
        ({"metric": "recall", "fairness": "x", "min": 0.1}, 'give exactly one of "metric" or "fairness"'),
        ({"min": 0.1}, 'give exactly one of "metric" or "fairness"'),
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
