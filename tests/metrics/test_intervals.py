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
from scipy.stats.contingency import relative_risk

import reportgen
from reportgen.metrics import intervals
from reportgen.metrics.binary import BY_NAME
from reportgen.metrics.statistics import Confusion, Rows, score_stats

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


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(10, 50, 20, 60), (30, 40, 12, 90), (1, 5, 4, 5), (7, 7, 3, 9)])
@pytest.mark.parametrize("level", [0.9, 0.95])
def test_katz_ratio_against_scipy(k1, n1, k2, n2, level):
    """scipy's relative_risk interval is Katz's log method."""
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


def test_katz_ratio_zero_denominator_is_nan():
    low, high = intervals.katz_ratio(np.array([1]), np.array([0]), np.array([1]), np.array([2]), 0.95)
    assert np.isnan(low).all() and np.isnan(high).all()


# DeLong -------------------------------------------------------------------------------------------


def _auc_intervals(y: np.ndarray, scores: np.ndarray, codes: np.ndarray, n_groups: int, level: float = 0.95):
    rows = Rows.prepare(y, np.zeros_like(y), scores)
    stats = score_stats(codes, rows, n_groups)
    auc = BY_NAME["roc_auc"].values(stats).value
    return auc, *intervals.delong(stats, auc, level)


@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.1, 0.2, 0.4, 0.5, 0.7, 0.9]), st.integers(-1, 2)),
        min_size=1, max_size=60,
    )
)
@settings(max_examples=100, deadline=None)
def test_delong_against_pairwise_reference(data):
    y, scores, codes = (np.array(column) for column in zip(*data, strict=True))
    auc, low, high = _auc_intervals(y.astype(np.int8), scores.astype(np.float64), codes, 3)
    for group in range(3):
        positives = scores[(codes == group) & (y == 1)]
        negatives = scores[(codes == group) & (y == 0)]
        if len(positives) < 2 or len(negatives) < 2:
            assert math.isnan(low[group]) and math.isnan(high[group])
            continue
        ref_auc, variance = delong_reference(positives, negatives)
        assert auc[group] == pytest.approx(ref_auc, abs=1e-12)
        half = Z95 * math.sqrt(variance)
        assert low[group] == pytest.approx(max(ref_auc - half, 0.0), abs=1e-9)
        assert high[group] == pytest.approx(min(ref_auc + half, 1.0), abs=1e-9)
        assert low[group] <= auc[group] <= high[group]


def test_delong_variance_on_a_small_example():
    """The unclipped half-width is z times the square root of DeLong's variance."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 40).astype(np.int8)
    scores = np.round(np.clip(0.5 + 0.2 * (y - 0.5) + rng.normal(0, 0.25, 40), 0, 1), 1)  # ties
    auc, low, high = _auc_intervals(y, scores, np.zeros(len(y), dtype=np.int64), 1)
    ref_auc, variance = delong_reference(scores[y == 1], scores[y == 0])
    assert auc[0] == pytest.approx(skm.roc_auc_score(y, scores), abs=1e-12)
    assert 0 < low[0] < high[0] < 1
    assert ((high[0] - low[0]) / (2 * Z95)) ** 2 == pytest.approx(variance, rel=1e-9)


# Normal intervals of means ------------------------------------------------------------------------


def test_normal_intervals_of_log_loss_and_brier():
    rng = np.random.default_rng(1)
    n = 80
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n)})
    table = reportgen.evaluate(frame, label="y", score="p", resamples=100).metrics.set_index("metric")
    y, p = frame.y.to_numpy(), frame.p.to_numpy()
    per_row = {"log_loss": -np.log(np.where(y == 1, p, 1 - p)), "brier": (p - y) ** 2}
    for metric, losses in per_row.items():
        half = Z95 * losses.std(ddof=1) / math.sqrt(n)
        row = table.loc[metric]
        assert row.ci_low == pytest.approx(max(losses.mean() - half, 0), abs=1e-9)
        assert row.ci_high == pytest.approx(losses.mean() + half, abs=1e-9)


# Bootstrap ----------------------------------------------------------------------------------------


def _frame(n: int = 400, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "pred": rng.integers(0, 2, n),
                         "g": rng.choice(["a", "b"], n)})


BOOTSTRAP = [m.name for m in BY_NAME.values() if m.interval == "bootstrap"]


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


def test_bootstrap_matches_resampling_rows():
    """Multinomial draws of the cells have the distribution of resampling rows: the intervals agree."""
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


def test_resample_confusion_keeps_group_sizes():
    c = Confusion(tp=np.array([3, 0, 0]), fp=np.array([1, 0, 2]), tn=np.array([5, 0, 0]), fn=np.array([0, 0, 0]))
    drawn = intervals.resample_counts(c, 50, np.random.default_rng(0))
    assert drawn.tp.shape == (50, 3)
    np.testing.assert_array_equal(drawn.n, np.broadcast_to(c.n, (50, 3)))
    assert (drawn.fn == 0).all()  # a cell that is empty stays empty
    assert (drawn.tp[:, 2] == 0).all() and (drawn.fp[:, 2] == 2).all()


def test_percentile_ignores_undefined_replicates():
    samples = np.array([[np.nan, np.nan], [0.2, np.nan], [0.4, np.nan], [0.6, np.nan]])
    low, high = intervals.percentile(samples, 0.5)
    assert low[0] == pytest.approx(np.quantile([0.2, 0.4, 0.6], 0.25))
    assert high[0] == pytest.approx(np.quantile([0.2, 0.4, 0.6], 0.75))
    assert math.isnan(low[1]) and math.isnan(high[1])


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
        if metric.interval == "bootstrap":
            continue  # a percentile interval need not contain the point estimate
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
