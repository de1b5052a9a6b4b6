"""A slice of many values: the card shows its largest groups and a measured "(other)"; report.json lists the rest.

Oracles: scikit-learn on the rows "(other)" merges, and the same metrics of a slice where those rows carry
one value ("(other)" as an ordinary group).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
)

import reportgen
from reportgen.document.schema import GroupResult, Report
from reportgen.metrics.intervals import BAYESIAN_BOOTSTRAP
from reportgen.render.json import to_json
from tests.helpers import synthetic_predictions

SHOWN = 10


def _with_ids(n: int = 3000, values: int = 800, seed: int = 3) -> pd.DataFrame:
    df = synthetic_predictions(n, seed=seed)
    df["patient_id"] = [f"P{i:04d}" for i in np.random.default_rng(seed).integers(0, values, n)]
    return df


def _largest(df: pd.DataFrame, k: int) -> list[str]:
    """The k largest values, ties in sorted order (as the card orders them)."""
    counts = df["patient_id"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    return list(counts.index[:k])


def _value(group: GroupResult, name: str) -> float | None:
    return next(m.value for m in group.metrics if m.name == name)


@pytest.fixture(scope="module")
def binary() -> tuple[pd.DataFrame, Report]:
    df = _with_ids()
    report = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id", "max_groups": 300}],
                                resamples=200, max_groups_shown=SHOWN).to_report()
    return df, report


def test_card_shows_the_largest_groups_and_other(binary: tuple[pd.DataFrame, Report]) -> None:
    df, report = binary
    (result,) = report.slices
    assert [g.group for g in result.groups] == [*_largest(df, SHOWN), "(other)"]
    sizes = df["patient_id"].value_counts()
    assert [g.n for g in result.groups[:-1]] == [int(sizes[v]) for v in _largest(df, SHOWN)]
    assert result.groups[-1].n == len(df) - sizes[_largest(df, SHOWN)].sum()
    assert any(f'holds the other {df["patient_id"].nunique() - SHOWN:,}' in note for note in result.notes)


def test_other_equals_scikit_learn_on_the_merged_rows(binary: tuple[pd.DataFrame, Report]) -> None:
    df, report = binary
    other = report.slices[0].groups[-1]
    rows = df[~df["patient_id"].isin(_largest(df, SHOWN))]
    y, p = rows["y"].to_numpy(), rows["p"].to_numpy()
    pred = (p >= 0.5).astype(int)
    oracles = {"accuracy": accuracy_score(y, pred), "precision": precision_score(y, pred),
               "recall": recall_score(y, pred), "f1": f1_score(y, pred),
               "balanced_accuracy": balanced_accuracy_score(y, pred), "roc_auc": roc_auc_score(y, p)}
    for name, expected in oracles.items():
        assert _value(other, name) == pytest.approx(expected, abs=1e-9), name
    tn, fp, fn, tp = confusion_matrix(y, pred).ravel()
    assert other.confusion_matrix is not None
    assert (other.confusion_matrix.tn, other.confusion_matrix.fp, other.confusion_matrix.fn,
            other.confusion_matrix.tp) == (tn, fp, fn, tp)


def test_other_has_the_intervals_of_an_ordinary_group(binary: tuple[pd.DataFrame, Report]) -> None:
    df, report = binary
    merged = df.assign(patient_id=df["patient_id"].where(df["patient_id"].isin(_largest(df, SHOWN)), "(other)"))
    plain = reportgen.evaluate(merged, label="y", score="p", slices=[{"column": "patient_id"}],
                               resamples=200).to_report()
    expected = next(g for g in plain.slices[0].groups if g.group == "(other)")
    got = report.slices[0].groups[-1]
    closed_form = [m.name for m in report.metrics.metrics if m.interval not in (None, BAYESIAN_BOOTSTRAP)]  # no resampling
    assert closed_form
    for name in closed_form:
        a, b = (next(m for m in g.metrics if m.name == name) for g in (got, expected))
        assert (a.value, a.ci_low, a.ci_high) == pytest.approx((b.value, b.ci_low, b.ci_high), abs=1e-12), name


def test_json_lists_the_groups_up_to_max_groups_and_counts_the_rest(binary: tuple[pd.DataFrame, Report]) -> None:
    df, report = binary
    document = json.loads(to_json(report))
    (result,) = document["slices"]
    distinct = df["patient_id"].nunique()
    listed = _largest(df, 299)  # max_groups 300: 299 values one by one, the rest pooled
    assert result["distinct"] == distinct and result["left_out"] == distinct - 299
    assert [g["group"] for g in result["groups"][:-1]] + [g["group"] for g in result["more_groups"]] == listed
    sizes = [g["n"] for g in result["more_groups"]]
    assert sizes == sorted(sizes, reverse=True)
    shown = {f"patient_id: {g['group']}" for g in result["groups"]}
    assert {m["slice"] for m in document["performance_metrics"]} == shown | {"overall"}


def test_a_slice_within_the_cap_is_shown_whole() -> None:
    df = _with_ids(values=8)
    report = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id"}], resamples=200,
                                max_groups_shown=SHOWN).to_report()
    (result,) = report.slices
    assert [g.group for g in result.groups] == sorted(df["patient_id"].unique())
    assert (result.more_groups, result.left_out, result.distinct) == ([], 0, 8)


def test_regression_and_multiclass_other() -> None:
    df = _with_ids(1500, 400)
    df["target"] = df["income"] / 1000
    df["estimate"] = df["target"] + np.random.default_rng(0).normal(0, 5, len(df))
    regression = reportgen.evaluate(df, label="target", prediction="estimate", slices=[{"column": "patient_id"}],
                                    max_groups_shown=SHOWN, resamples=200).to_report()
    rows = df[~df["patient_id"].isin(_largest(df, SHOWN))]
    other = regression.slices[0].groups[-1]
    assert _value(other, "mae") == pytest.approx(mean_absolute_error(rows["target"], rows["estimate"]), abs=1e-9)
    df["guess"] = np.where(np.random.default_rng(1).random(len(df)) < 0.7, df["race"], "a")
    multiclass = reportgen.evaluate(df, label="race", prediction="guess", task="multiclass", max_groups_shown=SHOWN,
                                    slices=[{"column": "patient_id"}], resamples=200).to_report()
    other = multiclass.slices[0].groups[-1]
    assert other.group == "(other)" and other.classes and other.class_matrix is not None
    rows = df[~df["patient_id"].isin(_largest(df, SHOWN))]
    assert _value(other, "accuracy") == pytest.approx(accuracy_score(rows["race"], rows["guess"]), abs=1e-9)


def test_sensitive_id_column_shows_the_cards_groups_and_keeps_every_gap() -> None:
    df = _with_ids()
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["patient_id"], resamples=200,
                            max_groups_shown=SHOWN, reference={"patient_id": "P0001"})
    (fairness,) = ev.to_report().fairness
    shown = [g.group for g in fairness.groups]
    assert shown == [*_largest(df, SHOWN), *(["P0001"] if "P0001" not in _largest(df, SHOWN) else [])]
    assert len(fairness.groups) + len(fairness.more_groups) == df["patient_id"].nunique()
    assert any(g.is_reference for g in fairness.groups)
    assert ev.fairness_by_group["group"].nunique() == df["patient_id"].nunique()  # gaps span every group


def test_scope_for_improvement_leaves_out_the_pool_of_values_beyond_max_groups() -> None:
    df = _with_ids()
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id", "max_groups": 50}],
                            resamples=200, max_groups_shown=SHOWN)
    assert ev.error_analysis is not None
    configured = ev.error_analysis.improvements.query("origin == 'configured'")["slice"]
    assert "patient_id = (other)" not in set(configured)  # 2,700 rows, yet not a group the card shows


def test_comparison_shows_the_cards_groups_and_lists_the_rest() -> None:
    df = _with_ids()
    other_model = df[["y"]].assign(p=np.clip(df["p"] + np.random.default_rng(5).normal(0, 0.1, len(df)), 0, 1))
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id"}], resamples=200,
                            max_groups_shown=SHOWN, baseline={"name": "old", "data": other_model, "score": "p"})
    (comparison,) = ev.to_report().comparisons
    (change,) = comparison.slices
    assert [g.group for g in change.groups] == _largest(df, SHOWN)  # no "(other)": the baseline is not measured on it
    assert len(change.groups) + len(change.more_groups) == df["patient_id"].nunique()
    sizes = [g.n for g in change.more_groups]
    assert sizes == sorted(sizes, reverse=True)


def test_html_of_a_capped_sensitive_column_says_where_the_rest_is(tmp_path) -> None:
    df = _with_ids()
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["patient_id"], resamples=200, max_groups_shown=SHOWN)
    page = ev.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert f"report.json lists the other {df['patient_id'].nunique() - SHOWN:,}, and the gaps above span" in page
    assert page.count(">P0") < 10 * (SHOWN + 1)  # the card's groups only, not 800


def test_gate_on_a_group_inside_other_is_judged_on_its_own_rows() -> None:
    df = _with_ids()
    hidden = _largest(df, 40)[-1]  # measured one by one, merged into "(other)" on the card
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id"}], resamples=200,
                            max_groups_shown=SHOWN, gates=[{"metric": "accuracy", "slice": "patient_id",
                                                            "group": hidden, "min": 0.5}])
    (gate,) = ev.gates
    (check,) = gate.checks
    rows = df[df["patient_id"] == hidden]
    assert check.subject == hidden
    assert check.value == pytest.approx(accuracy_score(rows["y"], (rows["p"] >= 0.5).astype(int)), abs=1e-12)


def test_default_reference_of_a_pooled_sensitive_column_is_its_largest_value() -> None:
    df = _with_ids()
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["patient_id"], resamples=200,
                            slices=[{"column": "patient_id", "max_groups": 50}], max_groups_shown=SHOWN)
    assert ev.references["patient_id"] == _largest(df, 1)[0]  # not the pool of 750 values, larger still
