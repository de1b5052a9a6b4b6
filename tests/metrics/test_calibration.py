"""Calibration bins against scikit-learn's `calibration_curve`, and ECE/MCE per group against plain loops.

The references below bin rows one at a time, in plain Python, on scikit-learn's edges (restated
here from its source: `np.linspace` for uniform bins, `np.percentile` of every row for quantile
bins, a row's bin being the number of inner edges strictly below its confidence).
"""

from __future__ import annotations

import doctest
import math
from types import SimpleNamespace

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from reportgen.metrics import binary, calibration
from reportgen.metrics.calibration import (
    EMPTY,
    METRICS,
    STRATEGIES,
    CalibrationRows,
    calibration_stats,
    reliability,
    top_label,
)
from reportgen.metrics.intervals import wilson
from reportgen.metrics.table import metric_frame

# Both ways of binning: counting edges (up to 32 bins) and a binary search (more).
N_BINS = (1, 2, 3, 5, 6, 7, 10, 12, 32, 33, 50)


def _edges(strategy: str, confidence: np.ndarray, n_bins: int) -> np.ndarray:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    return np.percentile(confidence, np.linspace(0, 1, n_bins + 1) * 100)


def _reference(confidence: np.ndarray, outcome: np.ndarray, members: np.ndarray, edges: np.ndarray):
    """ECE, MCE and rows of (bin, n, mean confidence, observed) of the member rows, one row at a time."""
    inner = edges[1:-1].tolist()
    bins: dict[int, list[tuple[float, int]]] = {}
    for p, o, member in zip(confidence.tolist(), outcome.tolist(), members.tolist(), strict=True):
        if member:
            bins.setdefault(sum(1 for edge in inner if edge < p), []).append((p, o))
    total = sum(len(rows) for rows in bins.values())
    if total == 0:
        return math.nan, math.nan, []
    table = []
    for b in sorted(bins):
        p_sum, o_sum = 0.0, 0
        for p, o in bins[b]:
            p_sum += p
            o_sum += o
        table.append((b, len(bins[b]), p_sum / len(bins[b]), o_sum / len(bins[b])))
    ece = sum(n / total * abs(observed - mean) for _, n, mean, observed in table)
    mce = max(abs(observed - mean) for _, _, mean, observed in table)
    return ece, mce, table


def _reference_top_label(probabilities: np.ndarray, y_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    confidence, outcome = [], []
    for row, label in zip(probabilities.tolist(), y_true.tolist(), strict=True):
        best = 0
        for j, p in enumerate(row):
            if p > row[best]:
                best = j
        confidence.append(row[best])
        outcome.append(int(best == label))
    return np.array(confidence, dtype=np.float64), np.array(outcome, dtype=np.int8)


@st.composite
def _confidence(draw: st.DrawFn, n: int, n_bins: int) -> np.ndarray:
    """Few distinct confidences (ties), often exactly on an edge, 0 or 1."""
    specials = [0.0, 1.0, 0.5, 5e-324, 1 - 2**-53, *np.linspace(0, 1, n_bins + 1).tolist(),
                *(k / n_bins for k in range(n_bins + 1))]
    support = draw(st.lists(st.sampled_from(specials) | st.floats(0, 1), min_size=1, max_size=6))
    return draw(hnp.arrays(np.float64, n, elements=st.sampled_from(support)))


@st.composite
def _grouped(draw: st.DrawFn, max_rows: int = 40):
    """(confidence, outcome, codes, n_groups, n_bins): codes in [-1, n_groups), so groups are often empty."""
    n = draw(st.integers(1, max_rows))
    n_bins = draw(st.sampled_from(N_BINS))
    n_groups = draw(st.integers(1, 5))
    confidence = draw(_confidence(n, n_bins))
    outcome = draw(hnp.arrays(np.int8, n, elements=st.integers(0, 1)))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    return confidence, outcome, codes, n_groups, n_bins


def _metric(name: str):
    return next(m for m in METRICS if m.name == name)


@given(_grouped(max_rows=80))
@settings(max_examples=150, deadline=None)
def test_whole_data_bins_equal_calibration_curve(drawn):
    confidence, outcome, _, _, n_bins = drawn
    rows = CalibrationRows.prepare(confidence, outcome, n_bins)
    stats = calibration_stats(np.zeros(len(confidence), dtype=np.int64), rows, 1)
    for strategy in STRATEGIES:
        edges = _edges(strategy, confidence, n_bins)
        assert np.array_equal(getattr(rows, f"{strategy}_edges"), edges)
        assert np.array_equal(getattr(rows, f"{strategy}_bin"), np.searchsorted(edges[1:-1], confidence))
        bins = getattr(stats, strategy)
        used = bins.n[0] > 0
        prob_true, prob_pred = calibration_curve(outcome, confidence, n_bins=n_bins, strategy=strategy)
        np.testing.assert_allclose(bins.confidence_sum[0, used] / bins.n[0, used], prob_pred, rtol=0, atol=1e-12)
        np.testing.assert_allclose(bins.outcome_sum[0, used] / bins.n[0, used], prob_true, rtol=0, atol=1e-12)
        diagram = reliability(stats, 0, strategy, rows, 0.95)
        assert diagram.mean_confidence == pytest.approx(np.round(prob_pred, 4).tolist(), abs=1e-12)
        assert diagram.observed == pytest.approx(np.round(prob_true, 4).tolist(), abs=1e-12)
    assert stats.n.tolist() == [len(confidence)]


@given(_grouped())
@settings(max_examples=150, deadline=None)
def test_group_ece_mce_and_diagrams_equal_reference_loop(drawn):
    confidence, outcome, codes, n_groups, n_bins = drawn
    rows = CalibrationRows.prepare(confidence, outcome, n_bins)
    stats = calibration_stats(codes, rows, n_groups)
    for strategy, suffix in zip(STRATEGIES, ("", "_quantile"), strict=True):
        edges = _edges(strategy, confidence, n_bins)
        ece, mce = _metric("ece" + suffix).values(stats), _metric("mce" + suffix).values(stats)
        for g in range(n_groups):
            expected_ece, expected_mce, table = _reference(confidence, outcome, codes == g, edges)
            diagram = reliability(stats, g, strategy, rows, 0.9)
            if not table:
                assert math.isnan(ece.value[g]) and math.isnan(mce.value[g])
                assert ece.reason[g] == mce.reason[g] == EMPTY
                assert diagram.n == diagram.observed == [] and diagram.ece is diagram.mce is None
                continue
            assert ece.value[g] == pytest.approx(expected_ece, abs=1e-12)
            assert mce.value[g] == pytest.approx(expected_mce, abs=1e-12)
            assert ece.reason[g] is None and mce.reason[g] is None
            assert diagram.strategy == strategy
            assert diagram.n == [n for _, n, _, _ in table]
            # shown to 4 decimals: a mean on a rounding tie (0.11875) may round either way by summation order
            assert diagram.mean_confidence == pytest.approx([mean for _, _, mean, _ in table], abs=5.0001e-5)
            assert diagram.observed == pytest.approx([observed for _, _, _, observed in table], abs=5.0001e-5)
            assert diagram.edges_low == [round(edges[b], 4) for b, _, _, _ in table]
            assert diagram.edges_high == [round(edges[b + 1], 4) for b, _, _, _ in table]
            assert diagram.ece == pytest.approx(expected_ece, abs=5e-5 + 1e-12)
            assert diagram.mce == pytest.approx(expected_mce, abs=5e-5 + 1e-12)
            low, high = wilson(np.array([round(o * n) for _, n, _, o in table]), np.array(diagram.n), 0.9)
            assert diagram.ci_low == np.round(low, 4).tolist() and diagram.ci_high == np.round(high, 4).tolist()
    assert stats.n.tolist() == [int(np.sum(codes == g)) for g in range(n_groups)]


@st.composite
def _multiclass(draw: st.DrawFn):
    n = draw(st.integers(1, 40))
    k = draw(st.integers(2, 4))
    support = draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 1 / 3, 0.5, 0.7, 1.0]), min_size=1, max_size=4))
    probabilities = draw(hnp.arrays(np.float64, (n, k), elements=st.sampled_from(support)))
    y_true = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    n_groups = draw(st.integers(1, 3))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    return probabilities, y_true, codes, n_groups, draw(st.sampled_from(N_BINS))


@given(_multiclass())
@settings(max_examples=100, deadline=None)
def test_multiclass_top_label_equals_reference_from_probability_matrix(drawn):
    probabilities, y_true, codes, n_groups, n_bins = drawn
    expected_confidence, expected_outcome = _reference_top_label(probabilities, y_true)
    confidence, outcome = top_label(probabilities, y_true)
    assert confidence.dtype == np.float64 and outcome.dtype == np.int8
    assert np.array_equal(confidence, expected_confidence) and np.array_equal(outcome, expected_outcome)

    rows = CalibrationRows.prepare(confidence, outcome, n_bins)
    stats = calibration_stats(codes, rows, n_groups)
    for strategy, suffix in zip(STRATEGIES, ("", "_quantile"), strict=True):
        edges = _edges(strategy, expected_confidence, n_bins)
        ece, mce = _metric("ece" + suffix).values(stats), _metric("mce" + suffix).values(stats)
        for g in range(n_groups):
            expected_ece, expected_mce, _ = _reference(expected_confidence, expected_outcome, codes == g, edges)
            np.testing.assert_allclose([ece.value[g], mce.value[g]], [expected_ece, expected_mce], rtol=0, atol=1e-12)


@given(_grouped(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_shuffling_rows_and_relabelling_groups_changes_no_value(drawn, random):
    confidence, outcome, codes, n_groups, n_bins = drawn
    order = np.array(random.sample(range(len(codes)), len(codes)))
    relabel = np.array([*random.sample(range(n_groups), n_groups), -1])  # relabel[-1] keeps -1
    before = calibration_stats(codes, CalibrationRows.prepare(confidence, outcome, n_bins), n_groups)
    after = calibration_stats(
        relabel[codes[order]], CalibrationRows.prepare(confidence[order], outcome[order], n_bins), n_groups
    )
    for metric in METRICS:
        np.testing.assert_allclose(metric.values(after).value[relabel[:-1]], metric.values(before).value,
                                   rtol=0, atol=1e-12)


@given(_grouped())
@settings(max_examples=60, deadline=None)
def test_uniform_bins_of_a_group_equal_that_group_alone(drawn):
    confidence, outcome, codes, n_groups, n_bins = drawn
    stats = calibration_stats(codes, CalibrationRows.prepare(confidence, outcome, n_bins), n_groups)
    for g in range(n_groups):
        members = codes == g
        alone_rows = CalibrationRows.prepare(confidence[members], outcome[members], n_bins)
        alone = calibration_stats(np.zeros(int(members.sum()), dtype=np.int64), alone_rows, 1)
        assert np.array_equal(alone.uniform.n[0], stats.uniform.n[g])
        for name in ("ece", "mce"):
            np.testing.assert_allclose(_metric(name).values(alone).value, _metric(name).values(stats).value[[g]],
                                       rtol=0, atol=1e-12)


def test_quantile_edges_come_from_the_whole_data_not_the_group():
    confidence = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    outcome = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    rows = CalibrationRows.prepare(confidence, outcome, n_bins=2)
    stats = calibration_stats(np.array([0, 0, 0, 0, 1, 1, 1, 1]), rows, 2)
    assert rows.quantile_edges.tolist() == [0.1, 0.5, 0.9]
    # Each group falls in one of the data set's two quantile bins, not in two bins of its own.
    assert stats.quantile.n.tolist() == [[4, 0], [0, 4]]
    assert _metric("mce_quantile").values(stats).value == pytest.approx([0.25 - 0.25, 0.75 - 0.75], abs=1e-12)


def test_value_on_an_inner_edge_falls_in_the_lower_bin_as_sklearn():
    confidence = np.array([0.0, 0.1, 0.5, 0.50001, 1.0])
    rows = CalibrationRows.prepare(confidence, np.array([0, 0, 1, 1, 1]), n_bins=10)
    assert rows.uniform_bin.tolist() == [0, 0, 4, 5, 9]  # not floor(10 * p), which puts 0.1 in bin 1
    prob_true, prob_pred = calibration_curve([0, 0, 1, 1, 1], confidence, n_bins=10)
    diagram = reliability(calibration_stats(np.zeros(5, np.int64), rows, 1), 0, "uniform", rows, 0.95)
    assert diagram.mean_confidence == pytest.approx(np.round(prob_pred, 4).tolist())
    assert diagram.observed == pytest.approx(np.round(prob_true, 4).tolist())
    assert diagram.edges_low == [0.0, 0.4, 0.5, 0.9] and diagram.edges_high == [0.1, 0.5, 0.6, 1.0]


def test_linspace_edges_are_not_the_decimal_values():
    # np.linspace(0, 1, 13)[5] is a hair below the float 5 / 12, so 5 / 12 falls in the upper bin,
    # while 1 / 12 falls in the lower one: which side an "edge value" lands on depends on rounding.
    edges = np.linspace(0, 1, 13)
    assert edges[5] < 5 / 12 and edges[1] == 1 / 12
    rows = CalibrationRows.prepare(np.array([1 / 12, 5 / 12]), np.array([0, 1]), n_bins=12)
    assert rows.uniform_bin.tolist() == [0, 5]


def test_tied_quantile_edges_leave_bins_empty():
    confidence = np.array([0.5] * 8 + [0.9, 1.0])
    outcome = np.array([0, 1] * 5)
    rows = CalibrationRows.prepare(confidence, outcome, n_bins=5)
    assert rows.quantile_edges.tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5, 0.58, 1.0])
    stats = calibration_stats(np.zeros(10, np.int64), rows, 1)
    assert stats.quantile.n.tolist() == [[8, 0, 0, 0, 2]]
    diagram = reliability(stats, 0, "quantile", rows, 0.95)
    prob_true, prob_pred = calibration_curve(outcome, confidence, n_bins=5, strategy="quantile")
    assert diagram.observed == np.round(prob_true, 4).tolist()
    assert diagram.mean_confidence == np.round(prob_pred, 4).tolist()
    # The first bin is closed on both sides: here it has zero width and holds every row at the minimum.
    assert diagram.edges_low == [0.5, 0.58] and diagram.edges_high == [0.5, 1.0]


def test_all_confidences_tied():
    rows = CalibrationRows.prepare(np.full(6, 0.3), np.array([1, 0, 0, 0, 0, 0]), n_bins=10)
    stats = calibration_stats(np.zeros(6, np.int64), rows, 1)
    assert rows.uniform_bin.tolist() == [2] * 6  # 0.3 <= linspace's 0.30000000000000004
    assert rows.quantile_bin.tolist() == [0] * 6
    for metric in METRICS:
        assert metric.values(stats).value == pytest.approx([0.3 - 1 / 6])


def test_one_row_and_empty_groups():
    rows = CalibrationRows.prepare(np.array([0.8, 0.2, 0.4]), np.array([0, 1, 1]), n_bins=10)
    stats = calibration_stats(np.array([0, 2, -1], dtype=np.int32), rows, 3)  # as slices.py makes them
    assert stats.n.tolist() == [1, 0, 1]
    for metric in METRICS:
        values = metric.values(stats)
        assert values.value[[0, 2]] == pytest.approx([0.8, 0.8])
        assert math.isnan(values.value[1])
        assert values.reason.tolist() == [None, EMPTY, None]
    empty = reliability(stats, 1, "quantile", rows, 0.95)
    assert empty == calibration.Reliability("quantile", [], [], [], [], [], [], [], None, None)


def test_no_rows_at_all():
    rows = CalibrationRows.prepare(np.zeros(0), np.zeros(0, np.int8))
    assert np.array_equal(rows.quantile_edges, rows.uniform_edges)
    stats = calibration_stats(np.zeros(0, np.int64), rows, 2)
    assert stats.n.tolist() == [0, 0]
    assert stats.quantile.n.shape == (2, 10)
    for metric in METRICS:
        assert metric.values(stats).reason.tolist() == [EMPTY, EMPTY]


def test_top_label_takes_the_first_of_tied_classes():
    probabilities = np.array([[0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [1 / 3, 1 / 3, 1 / 3]])
    confidence, outcome = top_label(probabilities, np.array([1, 2, 0]))
    assert confidence.tolist() == [0.4, 0.4, 1 / 3]
    assert outcome.tolist() == [0, 1, 1]


def test_registry():
    assert [m.name for m in METRICS] == ["ece", "mce", "ece_quantile", "mce_quantile"]
    assert [m.label for m in METRICS] == ["ECE", "MCE", "ECE (quantile bins)", "MCE (quantile bins)"]
    for metric in METRICS:
        assert metric.source == "calibration"
        assert metric.interval is None and metric.confidence is None
        assert metric.higher_is_better is False
        assert "undefined" in metric.compute.__doc__.lower(), metric.name
    assert EMPTY == binary.EMPTY  # one wording for an empty group across tasks


def test_metric_frame_reads_the_calibration_attribute():
    rows = CalibrationRows.prepare(np.array([0.9, 0.1, 0.6]), np.array([1, 0, 0]), n_bins=5)
    stats = calibration_stats(np.array([0, 0, 1]), rows, 3)
    family = SimpleNamespace(n=stats.n, calibration=stats)
    frame = metric_frame("g", ["a", "b", "c"], family, METRICS, level=0.95)
    assert len(frame) == 12 and frame["ci_low"].isna().all() and frame["ci_high"].isna().all()
    ece = frame[frame["metric"] == "ece"]
    assert ece["value"].tolist()[:2] == pytest.approx([0.1, 0.6])
    assert ece["undefined_reason"].tolist() == [None, None, EMPTY]
    assert ece["n"].tolist() == [2, 1, 0]


def test_docstring_examples():
    assert doctest.testmod(calibration).failed == 0
