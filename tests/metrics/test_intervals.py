"""Confidence intervals against independent implementations and published values."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.stats import norm
from scipy.stats import t as student_t
from scipy.stats.contingency import relative_risk

import reportgen
from reportgen.metrics import intervals, multiclass
from reportgen.metrics.binary import BY_NAME, BinaryStats
from reportgen.metrics.multiclass import ClassConfusion, MulticlassStats
from reportgen.metrics.statistics import Confusion, Rows, score_stats
from reportgen.metrics.table import metric_frame

Z95 = 1.959963984540054


def wilson_by_root_finding(k: int, n: int, level: float) -> tuple[float, float]:
    """The Wilson interval as the proportions a score test does not reject: |p̂ − π| = z·sqrt(π(1−π)/n)."""
    z = norm.ppf(0.5 + level / 2)
    p = k / n

    def f(pi: float) -> float:
        return (p - pi) ** 2 - z**2 * pi * (1 - pi) / n

    # f vanishes at p itself when p is 0 or 1: bracket just inside so the other root is found.
    low = 0.0 if k == 0 else brentq(f, 0.0, min(p, 1 - 1e-12), xtol=1e-15)
    high = 1.0 if k == n else brentq(f, max(p, 1e-12), 1.0, xtol=1e-15)
    return low, high


def delong_reference(positives: np.ndarray, negatives: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong variance from all positive-negative pairs, O(m·n)."""
    m, n = len(positives), len(negatives)
    psi = np.array([[1.0 if x > y else 0.5 if x == y else 0.0 for y in negatives] for x in positives])
    auc = psi.mean()
    v10 = psi.mean(axis=1)  # per positive
    v01 = psi.mean(axis=0)  # per negative
    s10 = np.sum((v10 - auc) ** 2) / (m - 1)
    s01 = np.sum((v01 - auc) ** 2) / (n - 1)
    return auc, s10 / m + s01 / n


# Wilson -------------------------------------------------------------------------------------------


def test_z_value():
    assert intervals.z_value(0.95) == pytest.approx(Z95, abs=1e-12)
    assert intervals.z_value(0.90) == pytest.approx(norm.ppf(0.95), abs=1e-12)


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0), (5, 10, 0.2366, 0.7634), (81, 263, 0.2553, 0.3662)],
)
def test_wilson_published_values(k, n, low, high):
    """Newcombe (1998), table I: 95% Wilson intervals (0/10, 10/10, 5/10, 81/263)."""
    lo, hi = intervals.wilson(np.array([k]), np.array([n]), 0.95)
    assert lo[0] == pytest.approx(low, abs=5e-5)
    assert hi[0] == pytest.approx(high, abs=5e-5)


@given(n=st.integers(1, 500), data=st.data(), level=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
@settings(max_examples=100, deadline=None)
def test_wilson_equals_score_test_inversion_and_contains_the_proportion(n, data, level):
    k = data.draw(st.integers(0, n))
    lo, hi = intervals.wilson(np.array([k]), np.array([n]), level)
    ref_low, ref_high = wilson_by_root_finding(k, n, level)
    assert lo[0] == pytest.approx(ref_low, abs=1e-9)
    assert hi[0] == pytest.approx(ref_high, abs=1e-9)
    assert 0.0 <= lo[0] <= k / n <= hi[0] <= 1.0


def test_wilson_zero_denominator_is_nan():
    lo, hi = intervals.wilson(np.array([0, 3]), np.array([0, 4]), 0.95)
    assert math.isnan(lo[0]) and math.isnan(hi[0])
    assert np.isfinite(lo[1]) and np.isfinite(hi[1])


# Newcombe and Katz --------------------------------------------------------------------------------


def newcombe_reference(k1: int, n1: int, k2: int, n2: int, level: float) -> tuple[float, float]:
    """Newcombe (1998) method 10, from Wilson limits found by root finding."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_by_root_finding(k1, n1, level)
    l2, u2 = wilson_by_root_finding(k2, n2, level)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def test_newcombe_published_example():
    """Newcombe (1998): 56/70 − 48/80 = 0.2000, 95% CI 0.0524 to 0.3339."""
    low, high = intervals.newcombe(56, 70, 48, 80, 0.95)
    assert float(low) == pytest.approx(0.0524, abs=5e-5)
    assert float(high) == pytest.approx(0.3339, abs=5e-5)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(56, 70, 48, 80), (9, 10, 3, 10), (0, 10, 0, 20), (10, 10, 0, 15), (1, 3, 2, 7), (150, 400, 90, 310)],
)
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_newcombe_against_independent_implementation(k1, n1, k2, n2, level):
    low, high = intervals.newcombe(k1, n1, k2, n2, level)
    ref_low, ref_high = newcombe_reference(k1, n1, k2, n2, level)
    assert float(low) == pytest.approx(ref_low, abs=1e-9)
    assert float(high) == pytest.approx(ref_high, abs=1e-9)
    assert float(low) <= k1 / n1 - k2 / n2 <= float(high)


def test_newcombe_zero_denominator_is_nan():
    low, high = intervals.newcombe(np.array([1, 1]), np.array([0, 2]), np.array([1, 1]), np.array([3, 0]), 0.95)
    assert np.isnan(low).all() and np.isnan(high).all()


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(10, 50, 20, 60), (30, 40, 12, 90), (1, 5, 4, 5), (6, 7, 3, 9)])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_katz_ratio_against_scipy(k1, n1, k2, n2, level):
    """scipy's relative_risk interval is Katz's log method (no cell of the 2×2 tables is 0 here)."""
    low, high = intervals.katz_ratio(k1, n1, k2, n2, level)
    ref = relative_risk(k1, n1, k2, n2).confidence_interval(confidence_level=level)
    assert float(low) == pytest.approx(ref.low, rel=1e-9)
    assert float(high) == pytest.approx(ref.high, rel=1e-9)


def test_katz_ratio_zero_count_uses_the_documented_correction():
    """With a zero count, 0.5 is added to every cell of the pair's 2x2 table (k + 0.5, n + 1): finite interval.

    A zero numerator is an observed ratio of 0, so the interval starts at 0 and contains it.
    """
    low, high = intervals.katz_ratio(0, 20, 5, 25, 0.95)
    a, n1, b, n2 = 0.5, 21, 5.5, 26
    centre = math.log((a / n1) / (b / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    assert float(low) == 0.0
    assert float(high) == pytest.approx(math.exp(centre + Z95 * se), rel=1e-9)
    low, high = intervals.katz_ratio(5, 25, 0, 20, 0.95)  # zero in the denominator's group: corrected both ways
    a, n1, b, n2 = 5.5, 26, 0.5, 21
    centre = math.log((a / n1) / (b / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    assert float(low) == pytest.approx(math.exp(centre - Z95 * se), rel=1e-9)
    assert float(high) == pytest.approx(math.exp(centre + Z95 * se), rel=1e-9)
    assert 0 < float(low) < float(high) < math.inf


def test_issue_14_katz_ratio_of_two_full_groups_does_not_collapse():
    """20/20 against 30/30: the log ratio's variance 1/k − 1/n is 0 without the correction."""
    low, high = intervals.katz_ratio(20, 20, 30, 30, 0.95)
    a, n1, b, n2 = 20.5, 21, 30.5, 31
    centre = math.log((a / n1) / (b / n2))
    se = math.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
    assert float(low) == pytest.approx(math.exp(centre - Z95 * se), rel=1e-9)
    assert float(high) == pytest.approx(math.exp(centre + Z95 * se), rel=1e-9)
    assert 0.85 < float(low) < 1.0 < float(high) < 1.15


def test_katz_ratio_zero_denominator_is_nan():
    low, high = intervals.katz_ratio(np.array([1]), np.array([0]), np.array([1]), np.array([2]), 0.95)
    assert np.isnan(low).all() and np.isnan(high).all()


# ROC AUC: score interval --------------------------------------------------------------------------


def _auc_intervals(y: np.ndarray, scores: np.ndarray, codes: np.ndarray, n_groups: int, level: float = 0.95):
    rows = Rows.prepare(y, np.zeros_like(y), scores)
    stats = score_stats(codes, rows, n_groups)
    auc = BY_NAME["roc_auc"].values(stats).value
    return auc, *intervals.auc_score(stats, auc, level)


def hanley_mcneil(theta: float, m: int, n: int) -> float:
    half = (m + n) / 2
    return theta * (1 - theta) / (m * n) * (1 + (half - 1) * ((1 - theta) / (2 - theta) + theta / (1 + theta)))


def auc_score_reference(positives: np.ndarray, negatives: np.ndarray, level: float) -> tuple[float, float, float]:
    """The documented score interval by root finding, with DeLong's variance from all pairs."""
    m, n = len(positives), len(negatives)
    auc, delong = delong_reference(positives, negatives) if m >= 2 and n >= 2 else (None, None)
    if auc is None:
        auc = float(np.mean([[1.0 if x > y else 0.5 if x == y else 0.0 for y in negatives] for x in positives]))
    at_auc = hanley_mcneil(auc, m, n)
    weight = intervals.AUC_PRIOR_ROWS / min(m, n)
    ratio = (delong + at_auc * weight) / (at_auc * (1 + weight)) if delong is not None and at_auc > 0 else 1.0
    z2 = norm.ppf(0.5 + level / 2) ** 2

    def f(theta: float) -> float:
        return (theta - auc) ** 2 - z2 * ratio * hanley_mcneil(theta, m, n)

    # f vanishes at Â itself when Â is 0 or 1: bracket just inside so the other root is found.
    low = brentq(f, 0.0, min(auc, 1 - 1e-12), xtol=1e-14) if auc > 0 else 0.0
    high = brentq(f, max(auc, 1e-12), 1.0, xtol=1e-14) if auc < 1 else 1.0
    return auc, low, high


@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.1, 0.2, 0.4, 0.5, 0.7, 0.9]), st.integers(-1, 2)),
        min_size=1, max_size=60,
    ),
    level=st.sampled_from([0.9, 0.95]),
)
@settings(max_examples=100, deadline=None)
def test_auc_score_interval_against_root_finding(data, level):
    y, scores, codes = (np.array(column) for column in zip(*data, strict=True))
    auc, low, high = _auc_intervals(y.astype(np.int8), scores.astype(np.float64), codes, 3, level)
    for group in range(3):
        positives = scores[(codes == group) & (y == 1)]
        negatives = scores[(codes == group) & (y == 0)]
        if len(positives) == 0 or len(negatives) == 0:
            assert math.isnan(low[group]) and math.isnan(high[group])
            continue
        ref_auc, ref_low, ref_high = auc_score_reference(positives, negatives, level)
        assert auc[group] == pytest.approx(ref_auc, abs=1e-12)
        assert low[group] == pytest.approx(ref_low, abs=1e-9)
        assert high[group] == pytest.approx(ref_high, abs=1e-9)
        assert 0.0 <= low[group] <= auc[group] <= high[group] <= 1.0
        assert low[group] < high[group]  # never collapses


def test_issue_14_perfect_auc_in_a_46_row_group_has_a_lower_bound_below_one():
    """A 46-row group with AUC 1.000 was shown as 1.000 (1.000–1.000): DeLong's variance is 0 there."""
    rng = np.random.default_rng(14)
    y = np.repeat([0, 1], 23).astype(np.int8)
    scores = np.where(y == 1, rng.uniform(0.6, 1.0, 46), rng.uniform(0.0, 0.4, 46))
    auc, low, high = _auc_intervals(y, scores, np.zeros(46, dtype=np.int64), 1)
    assert auc[0] == skm.roc_auc_score(y, scores) == 1.0
    assert high[0] == 1.0
    assert 0.85 < low[0] < 0.95  # clearly below 1, and not uninformative
    small = _auc_intervals(y[20:26], scores[20:26], np.zeros(6, dtype=np.int64), 1)  # 3 + 3 rows
    assert small[1][0] < low[0]  # fewer rows, wider interval


def test_auc_score_interval_with_one_row_of_a_class_and_at_zero():
    y = np.array([1, 0, 0, 0, 0], dtype=np.int8)
    auc, low, high = _auc_intervals(y, np.array([0.1, 0.5, 0.6, 0.7, 0.8]), np.zeros(5, dtype=np.int64), 1)
    assert auc[0] == skm.roc_auc_score(y, [0.1, 0.5, 0.6, 0.7, 0.8]) == 0.0
    assert low[0] == 0.0 and 0.0 < high[0] < 1.0


def _coverage(low: np.ndarray, high: np.ndarray, truth: float) -> float:
    defined = np.isfinite(low)
    return float(np.mean((low[defined] <= truth) & (truth <= high[defined])))


def test_auc_interval_covers_a_boundary_auc_in_small_groups():
    """400 groups of 20 rows, binormal scores with AUC 0.97 (benchmarks/interval_coverage.py has the full table)."""
    rng = np.random.default_rng(2026)
    groups, size, delta = 400, 20, math.sqrt(2) * norm.ppf(0.97)
    y = rng.integers(0, 2, groups * size).astype(np.int8)
    scores = norm.cdf(rng.normal(delta * y, 1.0))
    auc, low, high = _auc_intervals(y, scores, np.repeat(np.arange(groups), size), groups)
    assert np.mean(auc == 1.0) > 0.2  # many groups sit on the boundary
    assert (high - low > 0.01)[np.isfinite(low)].all()
    assert 0.92 <= _coverage(low, high, 0.97) <= 0.99


# Normal intervals of means ------------------------------------------------------------------------


def test_log_scale_t_intervals_of_log_loss_and_brier():
    rng = np.random.default_rng(1)
    n = 80
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n)})
    table = reportgen.evaluate(frame, label="y", score="p", resamples=100).metrics.set_index("metric")
    y, p = frame.y.to_numpy(), frame.p.to_numpy()
    per_row = {"log_loss": -np.log(np.where(y == 1, p, 1 - p)), "brier": (p - y) ** 2}
    for metric, losses in per_row.items():
        spread = student_t.ppf(0.975, n - 1) * losses.std(ddof=1) / math.sqrt(n) / losses.mean()
        row = table.loc[metric]
        assert row.ci_low == pytest.approx(losses.mean() * math.exp(-spread), abs=1e-9)
        assert row.ci_high == pytest.approx(losses.mean() * math.exp(spread), abs=1e-9)


# Bayesian bootstrap of count cells ---------------------------------------------------------------


def _frame(n: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "pred": rng.integers(0, 2, n),
                         "g": rng.choice(["a", "b"], n)})


BOOTSTRAP = [m.name for m in BY_NAME.values() if m.interval == intervals.BAYESIAN_BOOTSTRAP]


def _bootstrap_intervals(frame: pd.DataFrame, seed: int, resamples: int = 200) -> pd.DataFrame:
    table = reportgen.evaluate(frame, label="y", score="p", prediction="pred", slices=[{"column": "g"}],
                               resamples=resamples, seed=seed).metrics
    return table[table.metric.isin(BOOTSTRAP)].reset_index(drop=True)


def test_bootstrap_same_seed_same_intervals_other_seed_other_intervals():
    assert set(BOOTSTRAP) == {"balanced_accuracy", "f1", "mcc"}
    frame = _frame()
    first, again, other = (_bootstrap_intervals(frame, seed) for seed in (1, 1, 2))
    assert first[["ci_low", "ci_high"]].notna().all().all()
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first[["ci_low", "ci_high"]], other[["ci_low", "ci_high"]])
    pd.testing.assert_series_equal(first["value"], other["value"])


def test_bayesian_bootstrap_is_close_to_resampling_rows_in_a_large_group():
    """With hundreds of rows the prior's one row of mass is negligible: the intervals agree with the row bootstrap."""
    frame = _frame(300, seed=11)
    ours = _bootstrap_intervals(frame, seed=0, resamples=4000).query("slice == 'overall'").set_index("metric")
    rng = np.random.default_rng(12345)
    y, pred = frame.y.to_numpy(), frame.pred.to_numpy()
    index = rng.integers(0, len(y), (4000, len(y)))  # 4000 resamples of the rows
    yr, pr = y[index], pred[index]
    tp, fp = ((yr == 1) & (pr == 1)).sum(1), ((yr == 0) & (pr == 1)).sum(1)
    tn, fn = ((yr == 0) & (pr == 0)).sum(1), ((yr == 1) & (pr == 0)).sum(1)
    samples = {
        "balanced_accuracy": (tp / (tp + fn) + tn / (tn + fp)) / 2,
        "f1": 2 * tp / (2 * tp + fp + fn),
        "mcc": (tp * tn - fp * fn) / np.sqrt(((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).astype(float)),
    }
    for name in BOOTSTRAP:
        low, high = np.quantile(samples[name], [0.025, 0.975])
        assert ours.loc[name, "ci_low"] == pytest.approx(low, abs=0.01), name
        assert ours.loc[name, "ci_high"] == pytest.approx(high, abs=0.01), name


def test_posterior_counts_keep_group_sizes_and_the_classes_present():
    c = Confusion(tp=np.array([3, 0, 0, 5]), fp=np.array([1, 0, 2, 0]), tn=np.array([5, 0, 0, 5]),
                  fn=np.array([0, 0, 0, 0]))
    drawn = intervals.posterior_counts(c, 50, np.random.default_rng(0))
    assert drawn.tp.shape == (50, 4)
    np.testing.assert_allclose(drawn.n, np.broadcast_to(c.n, (50, 4)))
    assert (drawn.fn[:, 0] > 0).all()  # no row there, but labels and predictions of both classes occur
    assert (drawn.n[:, 1] == 0).all()  # an empty group stays empty
    assert (drawn.tp[:, 2] == 0).all() and (drawn.tn[:, 2] == 0).all() and (drawn.fn[:, 2] == 0).all()  # all fp
    assert (drawn.fp[:, 3] > 0).all() and (drawn.fn[:, 3] > 0).all()  # a perfect group: errors are possible
    assert drawn.fp[:, 3].mean() == pytest.approx(10 * intervals.PRIOR_MASS / 4 / (10 + intervals.PRIOR_MASS), rel=0.5)


def test_posterior_counts_of_joint_cells_leave_absent_predictions_out():
    counts = np.zeros((1, 8))
    counts[0, [0, 7]] = 5  # (label, first, second) = (0, 0, 0) and (1, 1, 1): both models perfect
    drawn = intervals.posterior_counts(_Cells(counts), 20, np.random.default_rng(0), axes=3).counts
    assert (drawn > 0).all()  # every joint cell is possible
    counts[0, 7] = 0
    counts[0, 6] = 5  # (1, 1, 0): the second model never predicts 1
    drawn = intervals.posterior_counts(_Cells(counts), 20, np.random.default_rng(0), axes=3).counts
    second_predicts_one = np.array([1, 3, 5, 7])
    assert (drawn[..., second_predicts_one] == 0).all() and (drawn[..., [0, 2, 4, 6]] > 0).all()


def test_posterior_counts_of_a_multiclass_group_keep_an_absent_class_absent():
    """Classes 0 and 1 only (of 3), every row right: the draws can err between 0 and 1, never reach class 2."""
    matrix = np.zeros((1, 3, 3), dtype=np.int64)
    matrix[0, 0, 0], matrix[0, 1, 1] = 4, 3
    confusion = ClassConfusion(matrix)
    drawn = intervals.posterior_counts(confusion, 200, np.random.default_rng(0))
    assert (drawn.matrix[..., 2, :] == 0).all() and (drawn.matrix[..., :, 2] == 0).all()
    assert (drawn.matrix[..., 0, 1] > 0).all() and (drawn.matrix[..., 1, 0] > 0).all()
    again = intervals.posterior_counts(confusion, 200, np.random.default_rng(0))
    np.testing.assert_array_equal(drawn.matrix, again.matrix)  # deterministic under the seed
    stats = MulticlassStats(confusion, None)
    metrics = [m for m in multiclass.METRICS if m.interval == intervals.BAYESIAN_BOOTSTRAP]
    table = metric_frame("s", ["g"], stats, metrics, level=0.95, resamples=500, rng=np.random.default_rng(1))
    assert (table["value"] == 1.0).all()  # macro averages over the two classes present, as scikit-learn
    assert (table["ci_high"] == 1.0).all() and (table["ci_low"] < 0.95).all() and (table["ci_low"] > -1).all()


class _Cells:
    def __init__(self, counts: np.ndarray):
        self.counts = counts

    def cells(self) -> np.ndarray:
        return self.counts

    @classmethod
    def from_cells(cls, cells: np.ndarray) -> _Cells:
        return cls(cells)


def test_issue_14_perfect_tiny_group_gets_a_non_degenerate_interval():
    """F1, MCC and balanced accuracy of a perfect 6-row group were 1.000 (1.000–1.000): every replicate equal."""
    frame = pd.DataFrame({"y": [0, 1, 0, 1, 0, 1] + [0, 1] * 50, "pred": [0, 1, 0, 1, 0, 1] + [1, 1] * 50,
                          "p": 0.5, "g": ["tiny"] * 6 + ["rest"] * 100})
    table = reportgen.evaluate(frame, label="y", score="p", prediction="pred", slices=[{"column": "g"}],
                               resamples=1000, seed=0).metrics
    tiny = table[(table.group == "tiny") & table.metric.isin(BOOTSTRAP)].set_index("metric")
    assert (tiny["value"] == 1.0).all()
    assert (tiny["ci_high"] == 1.0).all()
    assert (tiny["ci_low"] < 0.9).all() and (tiny["ci_low"] > -0.5).all()


def test_percentile_ignores_undefined_replicates():
    samples = np.array([[np.nan, np.nan], [0.2, np.nan], [0.4, np.nan], [0.6, np.nan]])
    low, high = intervals.percentile(samples, 0.5)
    assert low[0] == pytest.approx(np.quantile([0.2, 0.4, 0.6], 0.25))
    assert high[0] == pytest.approx(np.quantile([0.2, 0.4, 0.6], 0.75))
    assert math.isnan(low[1]) and math.isnan(high[1])


def test_expanded_percentile_widens_small_groups_as_published():
    """Hesterberg (2015): percentiles at Φ(−sqrt(n / (n − 1))·t(n − 1)) instead of 2.5%, for 95%."""
    samples = np.random.default_rng(3).normal(size=(4000, 3))
    low, high = intervals.percentile(samples, 0.95, n=np.array([20, 200, 1]))
    for column, n in enumerate((20, 200)):
        tail = norm.sf(math.sqrt(n / (n - 1)) * student_t.ppf(0.975, n - 1))
        assert low[column] == pytest.approx(np.quantile(samples[:, column], tail), abs=1e-12)
        assert high[column] == pytest.approx(np.quantile(samples[:, column], 1 - tail), abs=1e-12)
    assert 0.0158 < norm.sf(math.sqrt(20 / 19) * student_t.ppf(0.975, 19)) < 0.0160
    plain = intervals.percentile(samples[:, 2:], 0.95)  # a one-row group: the plain percentiles
    assert (low[2], high[2]) == pytest.approx((plain[0][0], plain[1][0]), abs=1e-12)


def test_bootstrap_interval_covers_a_boundary_f1_in_small_groups():
    """300 groups of 20 rows with accuracy 0.97 (half are perfect): coverage of the population F1 and MCC."""
    rng = np.random.default_rng(7)
    probabilities = np.array([0.485, 0.015, 0.015, 0.485])  # tn, fp, fn, tp
    drawn = Confusion.from_cells(rng.multinomial(20, probabilities, size=300))
    truth = Confusion.from_cells(probabilities[None, :])
    table = metric_frame("s", [str(i) for i in range(300)], BinaryStats(drawn, None), [BY_NAME["f1"], BY_NAME["mcc"]],
                         level=0.95, resamples=500, rng=np.random.default_rng(8))
    for name in ("f1", "mcc"):
        rows = table[table.metric == name]
        true_value = BY_NAME[name].values(truth).value[0]
        assert 0.92 <= _coverage(rows.ci_low.to_numpy(), rows.ci_high.to_numpy(), true_value) <= 0.995, name


# Every reported interval --------------------------------------------------------------------------


@given(seed=st.integers(0, 10_000), n=st.integers(1, 120))
@settings(max_examples=25, deadline=None)
def test_reported_intervals_contain_the_value(seed, n):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.choice([0.0, 0.3, 0.5, 0.8, 1.0], n),
                          "g": rng.choice(["a", "b", "c"], n)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no metric warns: undefined is data
        table = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "g"}], resamples=100).metrics
    for metric in BY_NAME.values():
        rows = table[table.metric == metric.name]
        defined = rows["value"].notna()
        if metric.interval is None:
            assert rows[["ci_low", "ci_high"]].isna().all().all(), metric.name
            continue
        assert rows.loc[~defined, ["ci_low", "ci_high"]].isna().all().all(), metric.name
        both = rows[defined & rows["ci_low"].notna()]
        assert (both["ci_low"] <= both["value"]).all(), metric.name
        assert (both["value"] <= both["ci_high"]).all(), metric.name
        if metric.interval == "wilson":
            assert rows.loc[defined, "ci_low"].notna().all(), metric.name  # defined for every non-empty fraction


def test_proportion_interval_at_zero_and_one_contains_the_value():
    """0/n and n/n: the bounds sit exactly at 0 and 1, never a rounding error inside."""
    for n in itertools.chain(range(1, 200), [1000, 12345]):
        low, high = intervals.wilson(np.array([0, n]), np.array([n, n]), 0.95)
        assert low[0] == 0.0 and high[1] == 1.0, n


def test_hall_interval_inverts_hall_transformation() -> None:
    """Hall's interval from the sums of powers equals the one found by solving g(T) = ±z numerically (brentq), with
    scipy's skewness; on symmetric values it is the normal interval."""
    from scipy import stats

    rng = np.random.default_rng(5)
    for values in (np.abs(rng.standard_cauchy(35)), rng.lognormal(0, 1, 80), 1 - rng.exponential(size=50)):
        n, mean, se = len(values), values.mean(), stats.sem(values)
        skew = stats.skew(values, bias=True)

        def g(t: float) -> float:
            a = skew / (3 * np.sqrt(n))
            return t + a * t**2 + a**2 * t**3 / 3 + skew / (6 * np.sqrt(n))

        z = stats.norm.ppf(0.975)
        upper_t, lower_t = brentq(lambda t: g(t) - z, -100, 100), brentq(lambda t: g(t) + z, -100, 100)
        low, high = intervals.skewed_mean_interval(np.array([values.sum()]), np.array([(values**2).sum()]),
                                         np.array([(values**3).sum()]), np.array([n]), 0.95)
        assert (low[0], high[0]) == pytest.approx((mean - upper_t * se, mean - lower_t * se), rel=1e-9)
    symmetric = np.concatenate([values, 2 * values.mean() - values])
    low, high = intervals.skewed_mean_interval(np.array([symmetric.sum()]), np.array([(symmetric**2).sum()]),
                                     np.array([(symmetric**3).sum()]), np.array([len(symmetric)]), 0.95)
    assert (low[0], high[0]) == pytest.approx(stats.norm.interval(0.95, symmetric.mean(), stats.sem(symmetric)),
                                              rel=1e-9)
