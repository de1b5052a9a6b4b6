"""Drift statistics against scipy: Kolmogorov–Smirnov, Wasserstein, chi-square of homogeneity, Jensen–Shannon,
and the PSI against its plain formula, with ties, tiny samples, constant columns and empty windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from reportgen.metrics.drift import (
    EXACT_KS_ROWS,
    MIN_EXPECTED,
    PSI_FLOOR,
    category_drift,
    category_homogeneity,
    number_bins,
    number_drift,
    psi,
    sorted_quantiles,
    window_bin_counts,
    window_drift,
)


def plain_psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI by its formula, one bin at a time, empty bins at the floor share."""
    total = 0.0
    for r, c in zip(reference / reference.sum(), current / current.sum(), strict=True):
        r, c = max(r, PSI_FLOOR), max(c, PSI_FLOOR)
        total += (c - r) * np.log(c / r)
    return total


samples = st.tuples(st.integers(1, 300), st.integers(1, 300), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2]),
                    st.floats(-1, 1))


def draw(n_reference: int, n_current: int, seed: int, decimals: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Two samples, rounded to `decimals` (0: heavy ties), the current one shifted."""
    rng = np.random.default_rng(seed)
    return (np.round(rng.normal(size=n_reference) * 3, decimals),
            np.round(rng.normal(shift, size=n_current) * 3, decimals))


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")  # the oracle says so
@settings(max_examples=150, deadline=None)
@given(samples, st.integers(2, 20))
def test_number_drift_equals_scipy(sample: tuple, bins: int) -> None:
    reference, current = draw(*sample)
    drift = number_drift(reference, current, bins)
    expected = ks_2samp(reference, current)
    assert drift.ks == pytest.approx(expected.statistic, abs=1e-12)
    assert drift.ks_p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert drift.wasserstein == pytest.approx(wasserstein_distance(reference, current), rel=1e-9, abs=1e-12)
    assert drift.spread == pytest.approx(np.std(reference), rel=1e-12)
    # the PSI bins: the reference's quantiles, and every value counted in the bin searchsorted puts it in
    assert np.array_equal(drift.edges, np.unique(np.quantile(reference, np.arange(1, bins) / bins)))
    for values, counts in ((reference, drift.reference_counts), (current, drift.current_counts)):
        assert np.array_equal(counts, np.bincount(number_bins(values, drift.edges), minlength=len(drift.edges) + 1))
    assert drift.psi == pytest.approx(plain_psi(drift.reference_counts, drift.current_counts), rel=1e-9, abs=1e-12)


def test_ks_p_value_beyond_the_exact_range_equals_scipy() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=EXACT_KS_ROWS + 500), rng.normal(0.02, size=EXACT_KS_ROWS * 2)
    drift, expected = number_drift(reference, current, 10), ks_2samp(reference, current)
    assert drift.ks == pytest.approx(expected.statistic, abs=1e-12)
    assert drift.ks_p == pytest.approx(expected.pvalue, rel=1e-9)


def test_one_value_each_and_a_constant_reference() -> None:
    drift = number_drift(np.array([2.0]), np.array([2.0]), 10)
    assert (drift.ks, drift.wasserstein, drift.spread, drift.psi) == (0.0, 0.0, 0.0, 0.0)
    assert drift.ks_p == pytest.approx(ks_2samp([2.0], [2.0]).pvalue)
    constant = number_drift(np.full(50, 1.0), np.linspace(0, 2, 40), 10)
    assert constant.spread == 0.0 and constant.edges.tolist() == [1.0]
    assert constant.wasserstein == pytest.approx(wasserstein_distance(np.full(50, 1.0), np.linspace(0, 2, 40)))


counts = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(counts)
def test_category_drift_equals_scipy(pairs: list[tuple[int, int]]) -> None:
    reference, current = (np.array(side, dtype=np.float64) for side in zip(*pairs, strict=True))
    if reference.sum() == 0 or current.sum() == 0:
        return
    drift = category_drift(reference, current)
    assert drift.jensen_shannon == pytest.approx(jensenshannon(reference, current), rel=1e-9, abs=1e-12)
    assert drift.psi == pytest.approx(plain_psi(reference, current), rel=1e-9, abs=1e-12)
    # the chi-square test on the table scipy would be given: rare categories pooled by hand, empty ones dropped
    both = reference + current
    expected_side = np.minimum(reference.sum(), current.sum()) * both / both.sum()
    rare = (expected_side < MIN_EXPECTED) & (both > 0)
    table = np.array([np.append(reference[~rare], reference[rare].sum()), np.append(current[~rare], current[rare].sum())])
    table = table[:, table.sum(axis=0) > 0]
    assert drift.pooled == rare.sum()
    if table.shape[1] < 2:
        assert drift.dof == 0 and np.isnan(drift.chi2_p)
        return
    statistic, p_value, dof, _ = chi2_contingency(table, correction=False)
    assert drift.dof == dof
    assert drift.chi2 == pytest.approx(statistic, rel=1e-9, abs=1e-12)
    assert drift.chi2_p == pytest.approx(p_value, rel=1e-9, abs=1e-300)


def test_no_pooling_is_scipys_plain_test() -> None:
    reference, current = np.array([120.0, 80.0, 40.0]), np.array([100.0, 100.0, 60.0])
    drift = category_drift(reference, current)
    statistic, p_value, dof, _ = chi2_contingency(np.array([reference, current]), correction=False)
    assert (drift.pooled, drift.dof) == (0, dof)
    assert drift.chi2 == pytest.approx(statistic) and drift.chi2_p == pytest.approx(p_value)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 8), st.integers(0, 2**32 - 1))
def test_window_drift_is_each_windows_own_test(n_windows: int, n_bins: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 60, n_bins).astype(np.float64) + 1
    rows = int(rng.integers(0, 400))
    codes, bins = rng.integers(-1, n_windows, rows), rng.integers(-1, n_bins, rows)
    found = window_drift(reference, window_bin_counts(codes, bins, n_windows, n_bins))
    for window in range(n_windows):
        current = np.bincount(bins[(codes == window) & (bins >= 0)], minlength=n_bins).astype(np.float64)
        assert found.n[window] == current.sum()
        if current.sum() == 0:
            assert np.isnan(found.psi[window]) and np.isnan(found.p_value[window])
            continue
        alone = category_drift(reference, current)
        assert found.psi[window] == pytest.approx(alone.psi, rel=1e-12, abs=1e-15)
        assert found.p_value[window] == pytest.approx(alone.chi2_p, rel=1e-9, nan_ok=True)


def test_homogeneity_rows_are_independent() -> None:
    reference = np.array([30.0, 30.0, 40.0])
    current = np.array([[30.0, 30.0, 40.0], [0.0, 0.0, 0.0], [10.0, 50.0, 40.0]])
    statistic, dof, _ = category_homogeneity(reference, current)
    assert statistic[0] == 0.0 and dof[1] == 0
    assert statistic[2] == pytest.approx(chi2_contingency(np.array([reference, current[2]]), correction=False)[0])


def test_psi_of_identical_shares_is_zero() -> None:
    assert psi(np.array([10, 20, 30]), np.array([1, 2, 3])) == pytest.approx(0.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60), st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_sorted_quantiles_are_numpys_to_the_bit(values: list[float], q: list[float]) -> None:
    data = np.sort(np.array(values))
    assert np.array_equal(sorted_quantiles(data, np.array(q)), np.quantile(data, np.array(q)))
