"""Sufficient statistics against direct per-group computations."""

from __future__ import annotations

import dataclasses
from unittest import mock

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.metrics import statistics
from reportgen.metrics.statistics import EPS, Rows, confusion, score_stats


@st.composite
def rows_and_codes(draw: st.DrawFn):
    n = draw(st.integers(0, 80))
    n_groups = draw(st.integers(1, 4))
    y = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 1)))
    y_pred = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 1)))
    scores = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))  # -1: in no group
    return Rows.prepare(y, y_pred, scores), codes, n_groups


@given(case=rows_and_codes())
@settings(max_examples=100, deadline=None)
def test_statistics_equal_direct_computation(case):
    rows, codes, n_groups = case
    c = confusion(codes, rows, n_groups)
    s = score_stats(codes, rows, n_groups)
    for g in range(n_groups):
        mask = codes == g
        y, yp, p = rows.y_true[mask], rows.y_pred[mask], rows.scores[mask]
        assert c.tp[g] == np.sum((y == 1) & (yp == 1)) and c.fp[g] == np.sum((y == 0) & (yp == 1))
        assert c.tn[g] == np.sum((y == 0) & (yp == 0)) and c.fn[g] == np.sum((y == 1) & (yp == 0))
        assert s.n_pos[g] == y.sum() and s.n_neg[g] == (1 - y).sum()
        pos, neg = p[y == 1], p[y == 0]
        pairs = sum((x > z) + 0.5 * (x == z) for x in pos for z in neg)
        assert s.auc_sum[g] == pytest.approx(pairs, abs=1e-9)
        losses = -np.log(np.clip(np.where(y == 1, p, 1 - p), EPS, 1 - EPS))
        assert s.log_loss_sum[g] == pytest.approx(losses.sum(), abs=1e-9)
        assert s.log_loss_sq[g] == pytest.approx((losses**2).sum(), abs=1e-6)
        assert s.brier_sum[g] == pytest.approx(((p - y) ** 2).sum(), abs=1e-12)
        ap = sum(np.sum(pos >= t) / np.sum(p >= t) for t in pos)  # AP · n_pos: precision at each positive
        assert s.ap_sum[g] == pytest.approx(ap, abs=1e-9)


def test_rows_in_no_group_are_left_out():
    y = np.array([1, 0, 1, 0], dtype=np.int8)
    rows = Rows.prepare(y, y, np.array([0.9, 0.1, 0.8, 0.7]))
    codes = np.array([0, 0, -1, -1])
    c = confusion(codes, rows, 1)
    s = score_stats(codes, rows, 1)
    assert (c.tp[0], c.fp[0], c.tn[0], c.fn[0]) == (1, 0, 1, 0)
    assert s.n_pos[0] == 1 and s.n_neg[0] == 1 and s.auc_sum[0] == 1.0


def test_no_rows_at_all():
    rows = Rows.prepare(np.zeros(0, np.int8), np.zeros(0, np.int8), np.zeros(0))
    s = score_stats(np.zeros(0, np.int64), rows, 2)
    assert s.n.tolist() == [0, 0] and s.auc_sum.tolist() == [0.0, 0.0]


@given(case=rows_and_codes())
@settings(max_examples=60, deadline=None)
def test_counting_and_sorting_give_the_same_statistics(case):
    """`score_stats` finds tie runs by counting (few distinct scores) or by sorting: both agree."""
    rows, codes, n_groups = case
    by_counting, by_sorting = statistics._runs_by_counting, statistics._runs_by_sorting

    def counting(codes, all_kept, rows, n_groups):  # noqa: ANN001, ANN202 - stands in for _runs_by_sorting
        return by_counting(codes, codes >= 0, all_kept, rows, n_groups)

    def sorting(codes, keep, all_kept, rows, n_groups):  # noqa: ANN001, ANN202 - for _runs_by_counting
        return by_sorting(codes, all_kept, rows, n_groups)

    with mock.patch.object(statistics, "_runs_by_sorting", counting):
        counted = score_stats(codes, rows, n_groups)
    with mock.patch.object(statistics, "_runs_by_counting", sorting):
        sorted_ = score_stats(codes, rows, n_groups)
    for field in dataclasses.fields(counted):
        np.testing.assert_allclose(getattr(sorted_, field.name), getattr(counted, field.name), rtol=1e-12,
                                   atol=1e-9, err_msg=field.name)


def test_many_groups_and_distinct_scores_equal_sklearn():
    """Large enough (groups × distinct scores) to take the sorting path without patching anything."""
    rng = np.random.default_rng(8)
    n, n_groups = 6000, 40
    y = rng.integers(0, 2, n).astype(np.int8)
    scores = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    scores[:500] = 0.5  # and some ties
    codes = rng.integers(-1, n_groups, n)
    rows = Rows.prepare(y, (scores >= 0.5).astype(np.int8), scores)
    assert n_groups * len(np.unique(scores)) > 2**16  # the case this test is for
    s = score_stats(codes, rows, n_groups)
    for g in range(n_groups):
        _equal_sklearn(s, g, y[codes == g], scores[codes == g], 1e-9)


def _equal_sklearn(s, g: int, yg: np.ndarray, pg: np.ndarray, tolerance: float) -> None:
    """Group `g`'s AUC, average precision and log loss from the statistics `s` equal scikit-learn's on its rows."""
    assert s.auc_sum[g] / (s.n_pos[g] * s.n_neg[g]) == pytest.approx(skm.roc_auc_score(yg, pg), abs=tolerance)
    assert s.ap_sum[g] / s.n_pos[g] == pytest.approx(skm.average_precision_score(yg, pg), abs=tolerance)
    assert s.log_loss_sum[g] / len(yg) == pytest.approx(skm.log_loss(yg, pg, labels=[0, 1]), abs=tolerance)


@pytest.mark.parametrize("ties", ["none", "across groups only"])
def test_runs_of_one_row_equal_sklearn_and_delong_placements(ties: str):
    """Scores distinct within every group (each run one row): the statistics still equal sklearn's and DeLong's."""
    rng = np.random.default_rng(9)
    n, n_groups = 3000, 30
    y = rng.integers(0, 2, n).astype(np.int8)
    scores = 0.3 * y + rng.random(n) * 0.7
    codes = rng.integers(-1, n_groups, n)
    if ties == "across groups only":  # rows 0..29 each in their own group share one score
        codes[:n_groups] = np.arange(n_groups)
        scores[:n_groups] = 0.5
    rows = Rows.prepare(y, (scores >= 0.5).astype(np.int8), scores)
    assert (rows.ranking.n_scores == n) == (ties == "none")
    s = score_stats(codes, rows, n_groups)
    for g in range(n_groups):
        mask = codes == g
        yg, pg = y[mask], scores[mask]
        _equal_sklearn(s, g, yg, pg, 1e-12)
        pos, neg = pg[yg == 1], pg[yg == 0]
        v10 = [(np.sum(neg < x) + 0.5 * np.sum(neg == x)) / len(neg) for x in pos]
        v01 = [(np.sum(pos > z) + 0.5 * np.sum(pos == z)) / len(pos) for z in neg]
        assert s.v10_sq[g] == pytest.approx(np.sum(np.square(v10)), rel=1e-12)
        assert s.v01_sq[g] == pytest.approx(np.sum(np.square(v01)), rel=1e-12)


@st.composite
def distinct_within_groups(draw: st.DrawFn):
    """Rows whose scores are distinct within each group (tied across groups, or not at all), and their codes."""
    n = draw(st.integers(1, 60))
    n_groups = draw(st.integers(1, 5))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    y = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 1)))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    if draw(st.booleans()):  # each group (and the rows in none) takes the scores 1/(n+1), 2/(n+1), ... in that order
        for g in range(-1, n_groups):
            in_group = np.flatnonzero(codes == g)
            order[in_group] = np.argsort(np.argsort(order[in_group]))
    return Rows.prepare(y, y, (order + 1) / (n + 1)), codes, n_groups


def _assert_same_statistics(by_rows, by_runs) -> None:
    """Counts and AUC sums (sums of whole numbers) equal to the bit; the other sums, added in another order, to
    rounding."""
    for field in dataclasses.fields(by_rows):
        ours, theirs = getattr(by_rows, field.name), getattr(by_runs, field.name)
        if field.name in ("n_pos", "n_neg", "auc_sum"):
            np.testing.assert_array_equal(ours, theirs, err_msg=field.name)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0, err_msg=field.name)


@given(case=distinct_within_groups())
@settings(max_examples=150, deadline=None)
def test_runs_of_one_row_give_the_same_statistics_as_runs(case):
    """Where no two rows of a group tie, `score_stats` reads the counts below a positive off its position: equal to
    the statistics summed over runs (counts to the bit), for single-row, single-class and empty groups and rows in
    none."""
    rows, codes, n_groups = case
    assert statistics._runs_of_one_row(codes, rows, n_groups)
    with (mock.patch.object(statistics, "_SMALL_TABLE", 0),
          mock.patch.object(statistics, "_runs_of_one_row", return_value=True),
          mock.patch.object(statistics, "_rank_sums_of_rows", wraps=statistics._rank_sums_of_rows) as row_path):
        by_rows = score_stats(codes, rows, n_groups)
    assert row_path.called or not (codes >= 0).any()  # with no row in a group, nothing is computed
    with mock.patch.object(statistics, "_runs_of_one_row", return_value=False):
        by_runs = score_stats(codes, rows, n_groups)
    _assert_same_statistics(by_rows, by_runs)
    for g in range(n_groups):
        mask = codes == g
        if 0 < rows.y_true[mask].sum() < mask.sum():
            _equal_sklearn(by_rows, g, rows.y_true[mask], rows.scores[mask], 1e-12)


def test_row_path_pinned_edges_equal_run_path_and_sklearn():
    """One-row, one-class, empty and no-group rows, ties across groups: the row path equals the run path."""
    scores = np.array([0.9, 0.1, 0.2, 0.8, 0.3, 0.3, 0.5, 0.7, 0.3, 0.6])
    y = np.array([1, 0, 0, 1, 1, 0, 1, 0, 1, 0], dtype=np.int8)
    codes = np.array([0, 1, 1, 2, 3, 4, 4, -1, 2, 4])  # 0: one row; 1: negatives only; 2: positives only; 5: empty
    rows = Rows.prepare(y, y, scores)
    assert statistics._runs_of_one_row(codes, rows, 6)
    with (mock.patch.object(statistics, "_SMALL_TABLE", 0),
          mock.patch.object(statistics, "_runs_of_one_row", return_value=True),
          mock.patch.object(statistics, "_rank_sums_of_rows", wraps=statistics._rank_sums_of_rows) as row_path):
        by_rows = score_stats(codes, rows, 6)
    assert row_path.called
    with mock.patch.object(statistics, "_runs_of_one_row", return_value=False):
        by_runs = score_stats(codes, rows, 6)
    _assert_same_statistics(by_rows, by_runs)
    assert by_rows.n_pos.tolist() == [1, 0, 2, 1, 1, 0] and by_rows.n_neg.tolist() == [0, 2, 0, 0, 2, 0]
    _equal_sklearn(by_rows, 4, y[codes == 4], scores[codes == 4], 1e-12)


@pytest.mark.parametrize(
    ("scores", "codes", "expected"),
    [
        ([0.1, 0.2, 0.3], [0, 0, 1], True),  # no ties at all
        ([0.1, 0.1, 0.3], [0, 1, 1], True),  # a tie across groups
        ([0.1, 0.1, 0.3], [0, -1, 0], True),  # a tie with a row in no group
        ([0.1, 0.1, 0.3], [1, 1, 0], False),  # a tie in group 1
        ([0.1, 0.1, 0.1], [0, 1, 0], False),  # a run of three, its first and last row in group 0
    ],
)
def test_runs_of_one_row_finds_ties_within_groups(scores, codes, expected):
    rows = Rows.prepare(np.zeros(3, np.int8), np.zeros(3, np.int8), np.array(scores))
    assert statistics._runs_of_one_row(np.array(codes), rows, 2) is expected


def test_many_ties_are_not_looked_into():
    """With many rows tied, the runs are summed without a search for ties within groups."""
    scores = np.repeat([0.2, 0.4, 0.6], 10)
    rows = Rows.prepare(np.zeros(30, np.int8), np.zeros(30, np.int8), scores)
    codes = np.arange(30)  # a group a row: no tie within a group
    assert statistics._runs_of_one_row(codes, rows, 30)
    with mock.patch.object(statistics, "_SMALL_TABLE", 0):
        assert not statistics._runs_of_one_row(codes, rows, 30)


@pytest.mark.parametrize("n_groups", [1, 3, 200, 40_000])
def test_large_untied_families_equal_sklearn(n_groups: int):
    """Big enough to take the row path unpatched, with narrow codes of one, two and four bytes."""
    rng = np.random.default_rng(n_groups)
    n = 100_000
    y = rng.integers(0, 2, n).astype(np.int8)
    scores = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1)
    codes = rng.integers(-1, n_groups, n)
    rows = Rows.prepare(y, (scores >= 0.5).astype(np.int8), scores)
    with mock.patch.object(statistics, "_rank_sums_of_rows", wraps=statistics._rank_sums_of_rows) as row_path:
        s = score_stats(codes, rows, n_groups)
    assert row_path.called
    for g in rng.choice(n_groups, min(n_groups, 5), replace=False):
        mask = codes == g
        if 0 < y[mask].sum() < mask.sum():
            _equal_sklearn(s, g, y[mask], scores[mask], 1e-9)


@given(
    scores=hnp.arrays(
        np.float64, st.integers(0, 300),
        elements=st.one_of(st.floats(0, 1), st.sampled_from([0.0, -0.0, 1.0, 0.5, np.nextafter(0.5, 1)])),
    ),
)
@settings(max_examples=150, deadline=None)
def test_score_order_sorts_like_argsort(scores):
    """`score_order` (integer keys) gives the scores ascending, as `np.argsort`, and the rows that hold them."""
    order, ascending = statistics.score_order(scores)
    assert sorted(order.tolist()) == list(range(len(scores)))
    np.testing.assert_array_equal(ascending, np.sort(scores))
    np.testing.assert_array_equal(scores[order], ascending)


def test_score_order_resorts_scores_closer_than_its_key():
    """Scores equal in the key's leading bits but not in the rest are re-sorted by the full score."""
    rng = np.random.default_rng(4)
    scores = 0.3 + rng.integers(0, 50, 5000) * np.finfo(np.float64).eps  # differ only in the last bits
    order, ascending = statistics.score_order(scores)
    np.testing.assert_array_equal(ascending, np.sort(scores))
    np.testing.assert_array_equal(scores[order], ascending)
