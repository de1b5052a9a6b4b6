"""Properties of the metric tables: row order, group names and a lone group change nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reportgen
from reportgen.metrics.binary import BY_NAME
from reportgen.metrics.intervals import BAYESIAN_BOOTSTRAP

from .strategies import SLICES, prediction_frames

HYPOTHESIS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEY = ["slice", "group", "metric"]
# Bootstrap intervals draw per family from one generator, so they depend on the groups' order;
# every other interval is a closed form of the group's own counts.
CLOSED_FORM = [m.name for m in BY_NAME.values() if m.interval != BAYESIAN_BOOTSTRAP]


def _evaluate(frame: pd.DataFrame, slices: list[dict]) -> reportgen.Evaluation:
    return reportgen.evaluate(frame, label="y", score="p", prediction="pred", slices=slices, resamples=100, seed=3)


def _assert_same(left: pd.DataFrame, right: pd.DataFrame, columns: list[str]) -> None:
    left = left.sort_values(KEY).reset_index(drop=True)
    right = right.sort_values(KEY).reset_index(drop=True)
    assert left[KEY].equals(right[KEY])
    for column in columns:
        np.testing.assert_allclose(
            left[column].to_numpy(dtype=float), right[column].to_numpy(dtype=float), rtol=1e-12, atol=1e-12,
            err_msg=column,
        )
    assert left["n"].tolist() == right["n"].tolist()
    assert left["undefined_reason"].tolist() == right["undefined_reason"].tolist()


@settings(HYPOTHESIS, max_examples=15)
@given(frame=prediction_frames(), seed=st.integers(0, 2**32 - 1))
def test_shuffling_rows_changes_no_value(frame, seed):
    shuffled = frame.sample(frac=1.0, random_state=np.random.RandomState(seed)).reset_index(drop=True)
    slices = [s for s in SLICES if s.get("column") not in ("g", "h")]  # the intersection covers g and h
    before, after = _evaluate(frame, slices), _evaluate(shuffled, slices)
    # Every value and interval, bootstrap ones included: replicates are drawn from the group's counts.
    _assert_same(before.metrics, after.metrics, ["value", "ci_low", "ci_high"])
    assert before.confusion.sort_values(["slice", "group"]).reset_index(drop=True).equals(
        after.confusion.sort_values(["slice", "group"]).reset_index(drop=True)
    )


@settings(HYPOTHESIS, max_examples=30)
@given(frame=prediction_frames(), renamed=st.sampled_from(["zz", "0", "A", "a2", "(missing) "]))
def test_relabelling_a_group_changes_no_value(frame, renamed):
    slices = [{"column": "g"}]
    before = _evaluate(frame, slices).metrics
    after = _evaluate(frame.assign(g=frame["g"].replace({"a": renamed})), slices).metrics
    expected = before.assign(group=before["group"].replace({"a": renamed}))
    closed = expected["metric"].isin(CLOSED_FORM)
    _assert_same(expected[closed], after[after["metric"].isin(CLOSED_FORM)], ["value", "ci_low", "ci_high"])
    _assert_same(expected[~closed], after[~after["metric"].isin(CLOSED_FORM)], ["value"])


@settings(HYPOTHESIS, max_examples=20)
@given(frame=prediction_frames())
def test_a_slice_with_a_single_group_equals_overall(frame):
    frame = frame.assign(k="only")
    table = _evaluate(frame, [{"column": "k"}, {"name": "all", "where": "p >= 0"}]).metrics
    overall = table[table.slice == "overall"].drop(columns=["slice", "group"]).reset_index(drop=True)
    for name in ("k", "all"):
        single = table[table.slice == name]
        assert single["group"].nunique() == 1
        single = single.drop(columns=["slice", "group"]).reset_index(drop=True)
        closed = overall["metric"].isin(CLOSED_FORM)
        assert single["metric"].tolist() == overall["metric"].tolist()
        np.testing.assert_array_equal(single["value"], overall["value"])
        np.testing.assert_array_equal(single.loc[closed, ["ci_low", "ci_high"]], overall.loc[closed, ["ci_low", "ci_high"]])
        assert single["n"].tolist() == overall["n"].tolist()
        assert single["undefined_reason"].tolist() == overall["undefined_reason"].tolist()
