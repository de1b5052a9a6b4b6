"""Fairness gaps and per-group rates against Fairlearn's definitions.

Every group has both classes and at least one predicted positive (and negative), so every rate
and gap is defined and Fairlearn's numbers apply as they are.
"""

from __future__ import annotations

import warnings

import fairlearn.metrics as flm
import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reportgen

GROUPS = ("f", "m", "x", "nb", "u")
RATE_ORACLES = {
    "selection_rate": flm.selection_rate,
    "tpr": flm.true_positive_rate,
    "fpr": flm.false_positive_rate,
    "precision": skm.precision_score,
}


@st.composite
def fairness_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, str | None]:
    n_groups = draw(st.integers(2, len(GROUPS)))
    n = draw(st.integers(0, 250))
    s = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    pred = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    # every group: a true positive and a true negative, so both classes and both predictions occur
    fixed = np.repeat(np.arange(n_groups), 2)
    frame = pd.DataFrame(
        {
            "y": np.r_[y, np.tile([1, 0], n_groups)],
            "pred": np.r_[pred, np.tile([1, 0], n_groups)],
            "s": np.array(GROUPS)[np.r_[s, fixed]],
        }
    )
    frame["p"] = np.where(frame["pred"] == 1, 0.8, 0.2)
    reference = draw(st.one_of(st.none(), st.sampled_from(GROUPS[:n_groups])))
    return frame, reference


def _evaluate(frame: pd.DataFrame, reference: str | None) -> reportgen.Evaluation:
    return reportgen.evaluate(
        frame, label="y", score="p", prediction="pred", sensitive=["s"],
        reference={"s": reference} if reference is not None else None, resamples=100,
    )


def _by_group(frame: pd.DataFrame) -> pd.DataFrame:
    """Fairlearn's per-group rates: one column per rate, indexed by group."""
    return flm.MetricFrame(
        metrics=RATE_ORACLES, y_true=frame["y"], y_pred=frame["pred"], sensitive_features=frame["s"]
    ).by_group


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fairness_frames())
def test_gaps_equal_fairlearn(case):
    frame, reference = case
    evaluation = _evaluate(frame, reference)
    gaps = evaluation.fairness.set_index("gap")
    y, pred, s = frame["y"], frame["pred"], frame["s"]
    expected = {
        "demographic_parity_difference": flm.demographic_parity_difference(y, pred, sensitive_features=s),
        "demographic_parity_ratio": flm.demographic_parity_ratio(y, pred, sensitive_features=s),
        "equalized_odds_difference": flm.equalized_odds_difference(y, pred, sensitive_features=s),
        "equal_opportunity_difference": flm.equal_opportunity_difference(y, pred, sensitive_features=s),
        "predictive_parity_difference": flm.MetricFrame(
            metrics=skm.precision_score, y_true=y, y_pred=pred, sensitive_features=s
        ).difference(),
    }
    rates = _by_group(frame)
    selection = rates["selection_rate"]
    ref = reference if reference is not None else _largest_group(frame)
    assert evaluation.references == {"s": ref}
    expected["disparate_impact_ratio"] = min(
        selection[group] / selection[ref] for group in selection.index if group != ref
    )
    assert set(gaps.index) == set(expected)
    for gap, value in expected.items():
        assert gaps.loc[gap, "undefined_reason"] is None, gap
        assert gaps.loc[gap, "value"] == pytest.approx(value, abs=1e-9), gap
        assert gaps.loc[gap, "ci_low"] <= gaps.loc[gap, "value"] <= gaps.loc[gap, "ci_high"], gap
    _check_between(evaluation, rates)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fairness_frames())
def test_per_group_rates_equal_metricframe_by_group(case):
    frame, reference = case
    evaluation = _evaluate(frame, reference)
    table = evaluation.fairness_by_group
    ref = evaluation.references["s"]
    assert set(table["rate"]) == set(RATE_ORACLES)
    fairlearn_rates = _by_group(frame)
    for rate in RATE_ORACLES:
        expected = fairlearn_rates[rate]
        rows = table[table["rate"] == rate].set_index("group")
        assert set(rows.index) == set(expected.index), rate
        for group, value in expected.items():
            row = rows.loc[group]
            assert row["n"] == (frame["s"] == group).sum()
            assert row["value"] == pytest.approx(value, abs=1e-9), (rate, group)
            assert row["difference"] == pytest.approx(value - expected[ref], abs=1e-9), (rate, group)
            if rate == "selection_rate":
                assert row["ratio"] == pytest.approx(value / expected[ref], abs=1e-9), group
            if group == ref:
                assert pd.isna(row["ci_low"]) and pd.isna(row["ci_high"]) and row["significant"] is None
            else:
                assert row["ci_low"] <= row["difference"] <= row["ci_high"], (rate, group)


def _check_between(evaluation: reportgen.Evaluation, rates: pd.DataFrame) -> None:
    """Each gap names the two groups it compares ("first vs second"), and its value is theirs."""
    for row in evaluation.fairness.itertuples():
        first, second = row.between.split(" vs ")
        if row.gap == "equalized_odds_difference":
            candidates = [rates[r][first] - rates[r][second] for r in ("tpr", "fpr")]
            assert row.value == pytest.approx(max(candidates), abs=1e-9)
            continue
        rate = {"demographic_parity_difference": "selection_rate", "demographic_parity_ratio": "selection_rate",
                "disparate_impact_ratio": "selection_rate", "equal_opportunity_difference": "tpr",
                "predictive_parity_difference": "precision"}[row.gap]
        if row.gap.endswith("ratio"):
            assert row.value == pytest.approx(rates[rate][first] / rates[rate][second], abs=1e-9), row.gap
        else:
            assert row.value == pytest.approx(rates[rate][first] - rates[rate][second], abs=1e-9), row.gap
        if row.gap == "disparate_impact_ratio":
            assert second == evaluation.references["s"]


def _largest_group(frame: pd.DataFrame) -> str:
    counts = frame["s"].value_counts()
    return sorted(counts[counts == counts.max()].index)[0]
