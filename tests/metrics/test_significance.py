"""The shared statistical tests against scipy: Benjamini–Hochberg, two-sided normal p-values, a group against the
rest, two groups, and many groups (chi-square of homogeneity, Welch's ANOVA)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2_contingency, false_discovery_control, norm, ttest_ind

from reportgen.metrics.metric import Fraction, Mean
from reportgen.metrics.significance import (
    against_rest,
    benjamini_hochberg,
    chi_square_p,
    homogeneity,
    two_proportions,
    two_sided,
    welch,
    welch_anova,
)
from tests.helpers import welch_anova_by_rows

# ---------------------------------------------------------------------------------------------- benjamini_hochberg


def reference_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg by its definition: q_i = min over j with p_j ≥ p_i of p_j·m/rank_j, capped at 1."""
    m = len(p)
    ranks = np.array([np.sum(p <= v) for v in p])  # ties share the largest rank
    return np.array([min(min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i]), 1.0) for i in range(m)])


p_values = st.lists(
    st.one_of(st.floats(0, 1), st.sampled_from([0.0, 0.01, 0.03, 0.05, 1.0])), min_size=1, max_size=40
).map(np.array)


@given(p_values)
def test_benjamini_hochberg_matches_scipy_and_the_definition(p: np.ndarray) -> None:
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q, false_discovery_control(p, method="bh"), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(q, reference_bh(p), rtol=1e-12, atol=1e-15)


@given(p_values, st.randoms(use_true_random=False))
def test_benjamini_hochberg_follows_its_input_order(p: np.ndarray, random) -> None:
    order = np.array(random.sample(range(len(p)), len(p)))
    np.testing.assert_array_equal(benjamini_hochberg(p[order]), benjamini_hochberg(p)[order])


@given(p_values)
def test_benjamini_hochberg_is_at_least_p_at_most_1_and_monotone(p: np.ndarray) -> None:
    q = benjamini_hochberg(p)
    assert np.all(q >= p * (1 - 1e-12)) and np.all(q <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= 0)


@pytest.mark.parametrize("seed", range(5))
def test_benjamini_hochberg_matches_scipy_on_mixed_p_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 20), rng.uniform(0, 0.01, 5), [0.03, 0.03, 1.0, 0.0]])
    rng.shuffle(p)
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"), rtol=0, atol=1e-12)


def test_benjamini_hochberg_edges() -> None:
    assert benjamini_hochberg(np.array([])).shape == (0,)
    assert benjamini_hochberg(np.array([0.2])).tolist() == [0.2]
    assert benjamini_hochberg(np.array([0.9, 0.95])).tolist() == [0.95, 0.95]
    assert benjamini_hochberg(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.04, 0.04])


# ---------------------------------------------------------------------------------------------- two_sided


@given(st.lists(st.floats(-8, 8), min_size=1, max_size=20).map(np.array))
def test_two_sided_matches_scipy(z: np.ndarray) -> None:
    np.testing.assert_allclose(two_sided(z), 2 * norm.sf(np.abs(z)), rtol=1e-9, atol=1e-15)


def test_two_sided_edges() -> None:
    assert two_sided(np.array([0.0])).tolist() == [1.0]
    assert two_sided(np.array(1.959963984540054)).tolist() == pytest.approx([0.05])  # a scalar is one statistic
    result = two_sided(np.array([np.nan, np.inf, -np.inf, 1.0]))
    assert np.isnan(result[:3]).all() and result[3] == pytest.approx(2 * norm.sf(1.0))
    assert two_sided(np.array([40.0])).tolist() == [0.0]  # far beyond any threshold (it underflows)


# ---------------------------------------------------------------------------------------------- against_rest: proportions


def fraction(numerator: list[int], denominator: list[int]) -> Fraction:
    return Fraction(np.array(numerator, dtype=np.int64), np.array(denominator, dtype=np.int64), undefined="empty")


groups_of_counts = st.lists(
    st.tuples(st.integers(0, 200), st.integers(1, 200)).map(lambda t: (min(t), max(t))), min_size=2, max_size=6
)


@settings(max_examples=200)
@given(groups_of_counts)
def test_against_rest_proportions_is_the_chi_squared_test(groups: list[tuple[int, int]]) -> None:
    """The pooled two-proportion z-test: z² equals Pearson's chi-squared statistic without continuity correction."""
    k = np.array([g[0] for g in groups])
    m = np.array([g[1] for g in groups])
    difference, p = against_rest(fraction(k.tolist(), m.tolist()), fraction([k.sum()], [m.sum()]))
    for i in range(len(groups)):
        k_rest, m_rest = k.sum() - k[i], m.sum() - m[i]
        assert difference[i] == pytest.approx(k[i] / m[i] - k_rest / m_rest, abs=1e-12)
        pooled = k.sum() / m.sum()
        if 0 < pooled < 1:
            table = np.array([[k[i], m[i] - k[i]], [k_rest, m_rest - k_rest]])
            chi2 = chi2_contingency(table, correction=False)
            z = norm.isf(p[i] / 2)
            assert p[i] == pytest.approx(chi2.pvalue, rel=1e-7, abs=1e-14)
            if 1e-6 < p[i] < 1:  # z recoverable from p to 1e-6
                assert z**2 == pytest.approx(chi2.statistic, rel=1e-6)
        else:
            assert p[i] == 1.0


@pytest.mark.parametrize("pooled", [0, 1])
def test_against_rest_proportions_pooled_0_or_1_gives_p_1(pooled: int) -> None:
    m = [10, 25, 5]
    k = [pooled * n for n in m]
    difference, p = against_rest(fraction(k, m), fraction([sum(k)], [sum(m)]))
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert difference.tolist() == [0.0, 0.0, 0.0]


def test_against_rest_proportions_group_equal_to_everything_is_not_tested() -> None:
    difference, p = against_rest(fraction([7], [20]), fraction([7], [20]))
    assert np.isnan(difference[0]) and np.isnan(p[0])  # no rest to compare with: never a finite p-value


def test_against_rest_proportions_empty_group_is_not_tested() -> None:
    difference, p = against_rest(fraction([0, 7], [0, 20]), fraction([7], [20]))
    assert np.isnan(difference[0]) and np.isnan(p[0])
    assert np.isnan(difference[1]) and np.isnan(p[1])  # the other group is then everything


def test_against_rest_proportions_known_value() -> None:
    # 30/100 against 50/100: pooled 0.4, z = −0.2 / sqrt(0.24 · 0.02)
    difference, p = against_rest(fraction([30, 50], [100, 100]), fraction([80], [200]))
    z = -0.2 / np.sqrt(0.4 * 0.6 * (1 / 100 + 1 / 100))
    np.testing.assert_allclose(difference, [-0.2, 0.2])
    np.testing.assert_allclose(p, [2 * norm.sf(abs(z))] * 2, rtol=1e-9)


# ---------------------------------------------------------------------------------------------- against_rest: means


def moments(values: list[np.ndarray]) -> Mean:
    return Mean(np.array([v.sum() for v in values]), np.array([(v**2).sum() for v in values]),
                np.array([len(v) for v in values], dtype=np.int64), undefined="empty")


def welch_z(inside: np.ndarray, rest: np.ndarray) -> float:
    """Welch's statistic, computed from the rows themselves."""
    se = np.sqrt(inside.var(ddof=1) / len(inside) + rest.var(ddof=1) / len(rest))
    return (inside.mean() - rest.mean()) / se


@settings(max_examples=100)
@given(
    sizes=st.lists(st.integers(2, 60), min_size=2, max_size=5),
    scales=st.lists(st.floats(0.1, 5), min_size=5, max_size=5),
    shifts=st.lists(st.floats(-2, 2), min_size=5, max_size=5),
    seed=st.integers(0, 2**16),
)
def test_against_rest_means_is_welchs_z_test(sizes: list[int], scales: list[float], shifts: list[float],
                                             seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = [shifts[i] + scales[i] * rng.normal(size=n) for i, n in enumerate(sizes)]
    everything = np.concatenate(groups)
    difference, p = against_rest(moments(groups), moments([everything]))
    for i, inside in enumerate(groups):
        rest = np.concatenate(groups[:i] + groups[i + 1:])
        assume(inside.var(ddof=1) > 1e-6)
        z = welch_z(inside, rest)
        assert z == pytest.approx(ttest_ind(inside, rest, equal_var=False).statistic, rel=1e-9)
        assert difference[i] == pytest.approx(inside.mean() - rest.mean(), abs=1e-9)
        assert p[i] == pytest.approx(2 * norm.sf(abs(z)), rel=1e-6, abs=1e-12)


def test_against_rest_means_group_equal_to_everything_is_not_tested() -> None:
    values = np.array([1.0, 2.0, 4.0])
    difference, p = against_rest(moments([values]), moments([values]))
    assert np.isnan(difference[0]) and np.isnan(p[0])


def test_against_rest_means_empty_group_is_not_tested() -> None:
    values = np.array([1.0, 2.0, 4.0])
    _, p = against_rest(moments([np.array([]), values]), moments([values]))
    assert np.isnan(p[0])


# ---------------------------------------------------------------------------------------------- two groups


@settings(max_examples=100)
@given(st.tuples(st.integers(0, 200), st.integers(1, 200)).map(lambda t: (min(t), max(t))),
       st.tuples(st.integers(0, 200), st.integers(1, 200)).map(lambda t: (min(t), max(t))))
def test_two_proportions_is_the_chi_squared_test_of_the_two_by_two_table(first: tuple, second: tuple) -> None:
    (k1, m1), (k2, m2) = first, second
    difference, p = two_proportions(np.array([k1]), np.array([m1]), np.array([k2]), np.array([m2]))
    assert difference[0] == pytest.approx(k1 / m1 - k2 / m2, abs=1e-12)
    if 0 < k1 + k2 < m1 + m2:
        table = np.array([[k1, m1 - k1], [k2, m2 - k2]])
        assert p[0] == pytest.approx(chi2_contingency(table, correction=False).pvalue, rel=1e-7, abs=1e-14)
    else:
        assert p[0] == 1.0


def test_two_proportions_without_a_denominator_is_not_tested() -> None:
    _, p = two_proportions(np.array([0, 3]), np.array([0, 10]), np.array([0, 0]), np.array([5, 0]))
    assert np.isnan(p).all()


@settings(max_examples=50)
@given(st.integers(2, 60), st.integers(2, 60), st.floats(0.1, 5), st.floats(-2, 2), st.integers(0, 2**16))
def test_welch_is_welchs_z_on_the_two_samples(n1: int, n2: int, scale: float, shift: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    first, second = rng.normal(size=n1), shift + scale * rng.normal(size=n2)
    assume(first.var(ddof=1) > 1e-6)
    one, other = moments([first]), moments([second])
    difference, p = welch((one.total, one.squares, one.n), (other.total, other.squares, other.n))
    z = ttest_ind(first, second, equal_var=False).statistic
    assert float(difference[0]) == pytest.approx(first.mean() - second.mean(), abs=1e-9)
    assert float(p[0]) == pytest.approx(2 * norm.sf(abs(z)), rel=1e-6, abs=1e-12)


# ---------------------------------------------------------------------------------------------- many groups


@settings(max_examples=200)
@given(groups_of_counts)
def test_homogeneity_is_scipys_chi_square_test_of_the_groups_table(groups: list[tuple[int, int]]) -> None:
    k = np.array([g[0] for g in groups])
    m = np.array([g[1] for g in groups])
    statistic, df = homogeneity(k, m)
    assert df == len(groups) - 1
    if 0 < k.sum() < m.sum():
        oracle = chi2_contingency(np.column_stack([k, m - k]), correction=False)
        assert statistic == pytest.approx(oracle.statistic, rel=1e-9, abs=1e-12)
        assert df == oracle.dof
        assert chi_square_p(statistic, df) == pytest.approx(oracle.pvalue, rel=1e-7, abs=1e-14)
    else:
        assert statistic == 0.0 and chi_square_p(statistic, df) == 1.0


def test_homogeneity_leaves_out_groups_without_a_denominator() -> None:
    with_empty = homogeneity(np.array([3, 0, 9]), np.array([10, 0, 12]))
    assert with_empty == homogeneity(np.array([3, 9]), np.array([10, 12]))
    assert homogeneity(np.array([3, 0]), np.array([10, 0])) == (0.0, 0)  # one group: no test
    assert np.isnan(chi_square_p(0.0, 0))


def test_homogeneity_of_two_groups_is_the_two_proportion_test() -> None:
    statistic, df = homogeneity(np.array([30, 50]), np.array([100, 100]))
    _, p = two_proportions(np.array([30]), np.array([100]), np.array([50]), np.array([100]))
    assert chi_square_p(statistic, df) == pytest.approx(p[0], rel=1e-9)


@settings(max_examples=100)
@given(
    sizes=st.lists(st.integers(2, 60), min_size=2, max_size=2),
    scales=st.lists(st.floats(0.1, 5), min_size=2, max_size=2),
    shift=st.floats(-2, 2),
    seed=st.integers(0, 2**16),
)
def test_welch_anova_of_two_groups_is_welchs_t_test(sizes: list[int], scales: list[float], shift: float,
                                                     seed: int) -> None:
    rng = np.random.default_rng(seed)
    first, second = scales[0] * rng.normal(size=sizes[0]), shift + scales[1] * rng.normal(size=sizes[1])
    assume(min(first.var(ddof=1), second.var(ddof=1)) > 1e-6)
    both = moments([first, second])
    oracle = ttest_ind(first, second, equal_var=False)
    assert welch_anova(both.total, both.squares, both.n) == pytest.approx(oracle.pvalue, rel=1e-6, abs=1e-12)


@settings(max_examples=50)
@given(sizes=st.lists(st.integers(3, 40), min_size=3, max_size=6), seed=st.integers(0, 2**16))
def test_welch_anova_matches_its_definition(sizes: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = [rng.normal(loc=rng.normal(), scale=rng.uniform(0.5, 3), size=n) for n in sizes]
    together = moments(groups)
    assert welch_anova(together.total, together.squares, together.n) == pytest.approx(
        welch_anova_by_rows(groups), rel=1e-7, abs=1e-14)


def test_welch_anova_leaves_out_groups_it_cannot_weigh() -> None:
    values = [np.array([1.0, 2.0, 4.0]), np.array([3.0, 5.0, 8.0, 1.0]), np.array([7.0]), np.array([2.0, 2.0])]
    together, usable = moments(values), moments(values[:2])
    assert welch_anova(together.total, together.squares, together.n) == welch_anova(usable.total, usable.squares,
                                                                                    usable.n)
    one = moments(values[:1] + values[2:])
    assert np.isnan(welch_anova(one.total, one.squares, one.n))  # one usable group: no test
