"""Comparing with a baseline end to end: evaluate(), the document, the max_regression gate, findings and the CLI."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

import reportgen
from reportgen.cli import main
from reportgen.config import Config, validate
from reportgen.document.gates import evaluate_gates
from reportgen.errors import ConfigError, InputError
from reportgen.render.html import to_html
from reportgen.render.json import published_schema, read_json, to_json


def _pair(n: int = 3000, seed: int = 0, planted: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate and baseline predictions on the same rows; in group "b" the candidate misses a share
    `planted` of the positives the baseline finds."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    y = rng.integers(0, 2, n)
    old = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1), 3)
    new = old.copy()
    missed = (group == "b") & (y == 1) & (old >= 0.5) & (rng.random(n) < planted)
    new[missed] = 0.1
    candidate = pd.DataFrame({"row_id": np.arange(n), "y": y, "p": new, "g": group})
    baseline = pd.DataFrame({"row_id": np.arange(n), "y": y, "q": old}).sample(frac=1.0, random_state=1)
    return candidate, baseline


def _evaluate(candidate: pd.DataFrame, baseline: pd.DataFrame | dict | list, **options):
    table = baseline if not isinstance(baseline, pd.DataFrame) else {
        "name": "v1", "data": baseline, "score": "q", "id": "row_id"}
    options = {"label": "y", "score": "p", "slices": [{"column": "g"}], "resamples": 200} | options
    return reportgen.evaluate(candidate, baseline=table, **options)


def test_the_comparison_reports_both_models_and_their_difference_per_group():
    candidate, baseline = _pair(planted=0.3)
    ev = _evaluate(candidate, baseline)
    (comparison,) = ev.comparisons
    assert (comparison.name, comparison.source, comparison.join, comparison.unmatched) == (
        "v1", "data frame", 'on column "row_id"', 0)
    old = baseline.sort_values("row_id")
    table = comparison.table.set_index(["slice", "group", "metric"])
    for slice_name, group, rows in (("overall", "overall", np.ones(len(candidate), bool)),
                                    ("g", "b", (candidate.g == "b").to_numpy())):
        y, new_p, old_p = candidate.y[rows], candidate.p[rows], old.q.to_numpy()[rows]
        auc = table.loc[(slice_name, group, "roc_auc")]
        assert auc["candidate"] == pytest.approx(sk.roc_auc_score(y, new_p))
        assert auc["baseline"] == pytest.approx(sk.roc_auc_score(y, old_p))
        recall = table.loc[(slice_name, group, "recall")]
        assert recall["difference"] == pytest.approx(sk.recall_score(y, new_p >= 0.5) - sk.recall_score(y, old_p >= 0.5))
    # the document carries both models' own intervals too
    report = ev.to_report()
    (result,) = report.comparisons
    overall_auc = next(m for m in result.overall.metrics if m.name == "roc_auc")
    candidate_auc = next(m for m in report.overall.metrics if m.name == "roc_auc")
    assert (overall_auc.candidate_ci_low, overall_auc.candidate_ci_high) == (candidate_auc.ci_low, candidate_auc.ci_high)
    assert overall_auc.baseline_ci_low < overall_auc.baseline < overall_auc.baseline_ci_high
    assert [s.name for s in result.slices] == [s.name for s in report.slices]


def test_a_planted_regression_is_flagged_counted_and_raised_as_a_finding():
    candidate, baseline = _pair(planted=0.3)
    report = _evaluate(candidate, baseline).to_report()
    (result,) = report.comparisons
    group_b = next(g for g in result.slices[0].groups if g.group == "b")
    assert next(m for m in group_b.metrics if m.name == "recall").flag == "regression"
    for other in (g for g in result.slices[0].groups if g.group != "b"):
        assert all(m.flag is None for m in other.metrics)
    assert result.regressions >= 1
    finding = next(f for f in report.findings if f.id == "regression")
    assert (finding.section, finding.subject) == ("comparison", "v1")
    assert any(e.slice == "g" and e.group == "b" and e.metric == "recall" for e in finding.evidence)


def test_identical_models_raise_no_flag_and_no_finding():
    candidate, baseline = _pair()
    report = _evaluate(candidate, baseline).to_report()
    (result,) = report.comparisons
    assert (result.improvements, result.regressions) == (0, 0)
    assert not [f for f in report.findings if f.id == "regression"]


def test_several_baselines_are_compared_in_config_order():
    candidate, baseline = _pair()
    tables = [{"name": "v1", "data": baseline, "score": "q", "id": "row_id"},
              {"name": "v0", "data": baseline.sort_values("row_id"), "score": "q"}]
    ev = _evaluate(candidate, tables)
    assert [c.name for c in ev.comparisons] == ["v1", "v0"]
    assert ev.comparisons[1].join == "by row order"


def test_the_json_carries_the_comparison_and_validates_against_the_published_schema(tmp_path):
    candidate, baseline = _pair(planted=0.3)
    ev = _evaluate(candidate, baseline)
    document = json.loads(to_json(ev.to_report()))
    jsonschema.validate(document, published_schema())
    (comparison,) = document["comparisons"]
    assert comparison["baseline"] == "v1" and comparison["rows"] == len(candidate)
    path = tmp_path / "report.json"
    ev.to_json(path)
    assert read_json(path).comparisons == ev.to_report().comparisons


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_multiclass_and_regression_models_are_compared(task):
    rng = np.random.default_rng(4)
    n = 800
    if task == "multiclass":
        y = rng.choice(["x", "y", "z"], n)
        new = np.where(rng.random(n) < 0.8, y, rng.choice(["x", "y", "z"], n))
        old = np.where(rng.random(n) < 0.6, y, rng.choice(["x", "y", "z"], n))
        metric, oracle = "accuracy", sk.accuracy_score
    else:
        y = rng.normal(50, 10, n)
        new, old = y + rng.normal(0, 2, n), y + rng.normal(0, 4, n)
        metric, oracle = "mae", sk.mean_absolute_error
    candidate = pd.DataFrame({"t": y, "pred": new, "g": rng.choice(["a", "b"], n)})
    ev = reportgen.evaluate(candidate, label="t", prediction="pred", task=task, slices=[{"column": "g"}],
                            resamples=200, baseline={"data": pd.DataFrame({"t": y, "old": old}), "prediction": "old"})
    table = ev.comparisons[0].table
    row = table[(table["slice"] == "overall") & (table["metric"] == metric)].iloc[0]
    assert row["difference"] == pytest.approx(oracle(y, new) - oracle(y, old))
    assert row["flag"] == "improvement"


def test_a_baseline_of_another_task_is_one_line():
    candidate, baseline = _pair()
    with pytest.raises(InputError, match=r'^data frame: baseline "v1": its "scores" make it a multiclass model, '
                                         r"but the candidate is a binary model; compare models of the same task$"):
        _evaluate(candidate, {"name": "v1", "data": baseline, "scores": {"0": "q", "1": "q"}, "id": "row_id"})
    with pytest.raises(ConfigError, match=r'^c.toml: \[baseline\] "v1": its output \("scores"\) is a multiclass '
                                          r"model's, but \[model\] task is binary; compare models of the same task$"):
        validate(Config, {"model": {"task": "binary"}, "data": {"label": "y", "score": "p"},
                          "baseline": {"name": "v1", "path": "b.csv", "scores": {"a": "q"}}}, source="c.toml")


# The max_regression gate --------------------------------------------------------------------------


def _gate(candidate, baseline, **gate):
    return _evaluate(candidate, baseline, gates=[{"metric": "recall", "slice": "g"} | gate]).gates[0]


def test_max_regression_fails_where_a_group_drops_by_more_than_the_bound():
    candidate, baseline = _pair(planted=0.3)
    gate = _gate(candidate, baseline, max_regression=0.02)
    assert gate.status == "fail"
    by_group = {c.subject: c for c in gate.checks}
    assert not by_group["b"].passed and by_group["a"].passed and by_group["c"].passed
    rows = candidate.g == "b"
    old = baseline.sort_values("row_id").q.to_numpy()[rows.to_numpy()]
    expected = sk.recall_score(candidate.y[rows], candidate.p[rows] >= 0.5) - sk.recall_score(candidate.y[rows], old >= 0.5)
    assert by_group["b"].value == pytest.approx(expected)
    assert gate.title == 'Recall (TPR) may not drop by more than 0.02 against "v1" in every group of g'
    assert gate.detail.startswith(f"1 breach of 3 checked: b {expected:+.3f} (".replace("-", "\u2212"))


def test_max_regression_with_significant_fails_only_where_the_whole_interval_is_beyond_the_bound():
    candidate, baseline = _pair(planted=0.3)
    gate = _gate(candidate, baseline, max_regression=0.02, significant=True)
    b = next(c for c in gate.checks if c.subject == "b")
    assert b.ci_high < -0.02 and gate.status == "fail"
    slight, _ = _pair(planted=0.04)
    gate = _gate(slight, baseline, max_regression=0.02, significant=True)
    b = next(c for c in gate.checks if c.subject == "b")
    assert b.value < -0.02 < b.ci_high  # beyond the bound, not significantly
    assert gate.status == "pass" and b.breached and not b.significant


def test_max_regression_on_a_metric_where_lower_is_better_bounds_its_rise():
    candidate, baseline = _pair(planted=0.3)
    gate = _evaluate(candidate, baseline, gates=[{"metric": "fnr", "slice": "g", "group": "b", "max_regression": 0.02}]).gates[0]
    assert gate.status == "fail" and gate.checks[0].value > 0.02
    assert gate.title.startswith("False negative rate may not rise by more than 0.02")


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"metric": "selection_rate", "max_regression": 0.02},
         ('evaluate(): gates[0]["max_regression"]: Selection rate has no better direction, so it cannot regress; '
         "bound it with min or max instead")),
        ({"metric": "average_precision", "max_regression": 0.02, "significant": True},
         ('evaluate(): gates[0]["significant"]: the change in Average precision has no paired interval, so a '
         'breach cannot be tested; remove "significant"')),
        ({"metric": "recall", "max_regression": 0.02, "baseline": "v2"},
         'evaluate(): gates[0]["baseline"]: unknown baseline "v2"; baselines are: "v1"'),
    ],
)
def test_max_regression_errors_are_one_line(gate, message):
    candidate, baseline = _pair()
    with pytest.raises(ConfigError) as error:
        _evaluate(candidate, baseline, gates=[gate]).to_report()
    assert str(error.value) == message


def test_max_regression_without_a_baseline_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^c.toml: \[\[gates\]\] #1 max_regression: no baseline to compare with; "
                                          r"add a \[baseline\]$"):
        validate(Config, {"data": {"label": "y", "score": "p"}, "gates": [{"metric": "recall", "max_regression": 0.1}]},
                 source="c.toml")


def test_check_reapplies_max_regression_gates_to_a_built_report(tmp_path):
    candidate, baseline = _pair(planted=0.3)
    ev = _evaluate(candidate, baseline, gates=[{"metric": "recall", "slice": "g", "max_regression": 0.02}])
    ev.to_json(tmp_path / "report.json")
    again = evaluate_gates(ev.config.gates, read_json(tmp_path / "report.json"), source="c.toml")
    assert again == ev.gates


# Command line -------------------------------------------------------------------------------------


def _project(tmp_path, baseline_table: str, baseline: pd.DataFrame | None = None) -> str:
    candidate, default = _pair(planted=0.3)
    candidate.to_csv(tmp_path / "predictions.csv", index=False)
    (default if baseline is None else baseline).to_csv(tmp_path / "old.csv", index=False)
    (tmp_path / "config.toml").write_text(
        '[report]\nresamples = 200\n[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'
        '[[slices]]\ncolumn = "g"\n' + baseline_table
        + '[[gates]]\nmetric = "recall"\nslice = "g"\nmax_regression = 0.02\n'
    )
    return str(tmp_path / "config.toml")


def test_build_compares_with_the_baseline_and_fails_on_its_gate(tmp_path, capsys):
    config = _project(tmp_path, '[baseline]\nname = "v1"\npath = "old.csv"\nscore = "q"\nid = "row_id"\n')
    code = main(["build", config, "--format", "json,md", "--fail-on-gate", "-q"])
    assert code == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["comparisons"][0]["baseline"] == "v1"
    assert report["gates"][0]["status"] == "fail"


def test_build_stops_with_one_line_on_baseline_rows_that_do_not_match(tmp_path, capsys):
    _, baseline = _pair()
    config = _project(tmp_path, '[baseline]\nname = "v1"\npath = "old.csv"\nscore = "q"\nid = "row_id"\n',
                      baseline=baseline[baseline.row_id >= 5])
    assert main(["build", config, "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ('reportgen: error: old.csv: [baseline] id "row_id": 5 of the 3000 predictions have no baseline '
                   "row (e.g. ids 0, 1, 2, 3, 4); the baseline must cover every row")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------- support


def test_issue_14_the_comparison_support_is_the_fewer_of_the_two_models_rows():
    candidate, baseline = _pair(planted=0.3)
    ev = _evaluate(candidate, baseline)
    table = ev.comparisons[0].table.set_index(["slice", "group", "metric"])
    old = baseline.sort_values("row_id")
    for group in ("a", "b", "c"):
        rows = (candidate.g == group).to_numpy()
        y, new_pred, old_pred = candidate.y[rows], candidate.p[rows] >= 0.5, old.q.to_numpy()[rows] >= 0.5
        assert table.loc[("g", group, "recall"), "support"] == (y == 1).sum()
        assert table.loc[("g", group, "fpr"), "support"] == (y == 0).sum()
        assert table.loc[("g", group, "precision"), "support"] == min(new_pred.sum(), old_pred.sum())
        assert table.loc[("g", group, "accuracy"), "support"] == rows.sum()
    report = ev.to_report()
    precision = next(m for m in report.comparisons[0].slices[0].groups[1].metrics if m.name == "precision")
    assert (precision.support, precision.small) == (table.loc[("g", "b", "precision"), "support"], False)


def test_issue_14_a_change_on_too_few_positives_is_never_flagged():
    candidate, baseline = _pair(planted=0.3)
    positives = int(candidate[candidate.g == "b"].y.sum())
    flagged = _evaluate(candidate, baseline, min_support=positives).comparisons[0].table
    unflagged = _evaluate(candidate, baseline, min_support=positives + 1).comparisons[0].table

    def flag(table: pd.DataFrame, metric: str) -> object:
        return table[(table.slice == "g") & (table.group == "b") & (table.metric == metric)]["flag"].iloc[0]

    assert flag(flagged, "recall") == "regression"  # the planted drop, on `positives` positives
    assert flag(unflagged, "recall") is None and flag(unflagged, "fnr") is None
    rows = int((candidate.g == "b").sum())
    assert rows > positives + 1 and flag(unflagged, "accuracy") == flag(flagged, "accuracy")  # rows still count
# One family per baseline, mirror metrics once -----------------------------------------------------


def _changes(rows: list[tuple[str, str, str, float, float, int]]) -> pd.DataFrame:
    """A paired table by hand: (slice, group, metric, difference, p_value, support); interval ±0.01 around it."""
    table = pd.DataFrame(rows, columns=["slice", "group", "metric", "difference", "p_value", "support"])
    return table.assign(ci_low=table["difference"] - 0.01, ci_high=table["difference"] + 0.01)


def test_one_family_over_every_metric_and_group_adjusted_together():
    from scipy.stats import false_discovery_control

    from reportgen.analysis.comparison import flag_changes
    from reportgen.metrics.binary import BY_NAME

    table = _changes([
        ("overall", "overall", "accuracy", 0.02, 0.001, 900),
        ("g", "a", "accuracy", 0.03, 0.02, 300),
        ("g", "b", "recall", -0.05, 0.03, 300),
        ("g", "c", "roc_auc", 0.01, 0.04, 300),
        ("g", "tiny", "accuracy", 0.2, 0.0001, 10),  # below min_support: not in the family, never flagged
        ("g", "a", "selection_rate", 0.1, 0.0001, 300),  # no better direction: not in the family
        ("g", "c", "average_precision", 0.01, np.nan, 300),  # no test
    ])
    flagged = flag_changes(table, BY_NAME, fdr=0.05, min_support=30)
    q = false_discovery_control([0.001, 0.02, 0.03, 0.04], method="bh")  # one family, not one per metric
    np.testing.assert_allclose(flagged["q_value"].iloc[:4], q, rtol=1e-12)
    assert flagged["q_value"].iloc[4:].isna().all()
    assert flagged["flag"].tolist() == ["improvement", "improvement", "regression", "improvement", None, None, None]


def test_an_interval_that_excludes_0_is_not_a_flag_when_the_test_is_not_significant():
    """The issue's case: accuracy +0.020 (+0.003 to +0.037) with McNemar's p = 0.052: not flagged, and the card
    states why (the test decides; the intervals are unadjusted)."""
    from reportgen.analysis.comparison import flag_changes
    from reportgen.metrics.binary import BY_NAME

    table = _changes([("overall", "overall", "accuracy", 0.02, 0.052, 1000)]).assign(ci_low=0.003, ci_high=0.037)
    flagged = flag_changes(table, BY_NAME, fdr=0.05, min_support=30)
    assert flagged["ci_low"].iloc[0] > 0 and flagged["flag"].iloc[0] is None
    candidate, baseline = _pair()
    report = _evaluate(candidate, baseline).to_report()
    assert "an interval that excludes 0 can belong to a difference or gap that is not flagged" in \
        report.multiplicity.rule
    html = to_html(report)
    assert "an interval that excludes 0 can belong to a difference that is not flagged" in html


def test_mirror_metrics_share_the_test_and_are_counted_once():
    from reportgen.analysis.comparison import change_counts, flag_changes
    from reportgen.metrics.binary import BY_NAME

    table = _changes([
        ("g", "a", "recall", -0.1, 0.001, 300),
        ("g", "a", "fnr", 0.1, 0.001, 300),
        ("g", "a", "fpr", -0.05, 0.01, 300),
        ("g", "a", "specificity", 0.05, 0.01, 300),
        ("g", "b", "fnr", 0.1, 0.001, 300),  # its recall is not in the table: tested as itself
    ])
    flagged = flag_changes(table, BY_NAME, fdr=0.05, min_support=30)
    assert flagged["flag"].tolist() == ["regression", "regression", "improvement", "improvement", "regression"]
    assert flagged["mirror_of"].tolist() == [None, "recall", None, "fpr", None]
    assert flagged["q_value"].iloc[1] == flagged["q_value"].iloc[0]
    assert change_counts(flagged) == (1, 2)


def test_the_comparison_family_and_counts_reach_the_card():
    candidate, baseline = _pair(planted=0.3)
    ev = _evaluate(candidate, baseline)
    (comparison,) = ev.comparisons
    table = comparison.table
    family = next(f for f in ev.test_families if f.name == "comparison with v1")
    assert family.tests == int((table["q_value"].notna() & table["mirror_of"].isna()).sum())
    (result,) = ev.to_report().comparisons
    counted = table[table["mirror_of"].isna()]
    assert (result.improvements, result.regressions) == (int((counted["flag"] == "improvement").sum()),
                                                        int((counted["flag"] == "regression").sum()))
    assert family.discoveries == result.improvements + result.regressions
    # the planted recall regression of group b is listed once, not again as a false negative rate rise
    finding = next(f for f in ev.findings if f.id == "regression")
    assert [e.metric for e in finding.evidence if e.group == "b"].count("fnr") == 0
