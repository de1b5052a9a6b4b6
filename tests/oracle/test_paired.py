"""Paired comparisons against reference computations: scipy's binomial test, a slow DeLong, a slow row bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn import metrics as sk

from reportgen.analysis.comparison import flag_changes, with_support
from reportgen.metrics import binary, calibration, intervals, tasks
from reportgen.metrics.paired import (
    AUC_MOVER,
    BOOTSTRAP,
    MCNEMAR,
    NO_PAIRED_INTERVAL,
    PAIRED_T,
    T_TEST,
    TOO_MANY_CLASSES,
    Z_TEST,
    compare_family,
    mcnemar,
)
from reportgen.metrics.paired_rows import Pair
from reportgen.metrics.statistics import Rows, score_stats

LEVEL = 0.95
REGISTRY = {metric.name: metric for metric in binary.METRICS + calibration.METRICS}


def _binary_pair(y, p_c, p_b):
    first = tasks.prepare("binary", y, (p_c >= 0.5).astype(np.int8), p_c)
    second = tasks.prepare("binary", y, (p_b >= 0.5).astype(np.int8), p_b)
    return Pair.prepare(first, second)


def _compare(pair: Pair, codes: np.ndarray, n_groups: int, *, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    labels = [str(g) for g in range(n_groups)]
    first = pair.candidate.group_stats(codes, n_groups)
    second = pair.baseline.group_stats(codes, n_groups)
    table = compare_family("g", labels, pair.statistics(codes, first, second), first, second, level=LEVEL,
                           resamples=resamples, rng=np.random.default_rng(seed))
    return with_support(table, labels, first, second, pair.metrics)


def _row(table: pd.DataFrame, metric: str, group: int = 0) -> pd.Series:
    return table[(table["metric"] == metric) & (table["group"] == str(group))].iloc[0]


@pytest.fixture
def binary_data():
    rng = np.random.default_rng(3)
    n = 900
    y = rng.integers(0, 2, n)
    p_c = np.round(np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1), 2)  # rounded: ties in scores
    p_b = np.round(np.clip(0.2 * y + 0.8 * rng.random(n), 0, 1), 2)
    codes = rng.integers(0, 3, n)
    return y, p_c, p_b, codes


# McNemar ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gains", "losses"), [(0, 0), (1, 0), (5, 5), (12, 3), (3, 12), (40, 61), (700, 650)])
def test_mcnemar_is_scipys_exact_binomial_test(gains, losses):
    expected = 1.0 if gains + losses == 0 else stats.binomtest(gains, gains + losses, 0.5).pvalue
    assert mcnemar(np.array([gains]), np.array([losses]))[0] == pytest.approx(expected, rel=1e-9)


def test_proportions_over_the_same_rows_are_tested_with_mcnemar_on_their_discordant_rows(binary_data):
    y, p_c, p_b, codes = binary_data
    table = _compare(_binary_pair(y, p_c, p_b), codes, 3)
    pred_c, pred_b = p_c >= 0.5, p_b >= 0.5
    rows_of = {"accuracy": np.ones_like(y, dtype=bool), "recall": y == 1, "fnr": y == 1,
               "specificity": y == 0, "fpr": y == 0}
    hit_c = {"accuracy": pred_c == y, "recall": pred_c, "fnr": ~pred_c, "specificity": ~pred_c, "fpr": pred_c}
    hit_b = {"accuracy": pred_b == y, "recall": pred_b, "fnr": ~pred_b, "specificity": ~pred_b, "fpr": pred_b}
    for metric, rows in rows_of.items():
        for group in range(3):
            mine = rows & (codes == group)
            gains = int((hit_c[metric] & ~hit_b[metric] & mine).sum())
            losses = int((~hit_c[metric] & hit_b[metric] & mine).sum())
            row = _row(table, metric, group)
            assert row["test"] == MCNEMAR
            assert row["p_value"] == pytest.approx(stats.binomtest(gains, gains + losses, 0.5).pvalue, rel=1e-9)
    # precision divides by each model's own predicted positives: no McNemar
    assert _row(table, "precision")["test"] == Z_TEST


# DeLong -------------------------------------------------------------------------------------------


def _slow_delong_covariance(y: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DeLong et al. (1988): the two AUCs' covariance matrix from the structural components, by explicit loops."""
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    m, n = len(positives), len(negatives)

    def psi(a: float, b: float) -> float:
        return 1.0 if a > b else 0.5 if a == b else 0.0

    v10 = np.array([[np.mean([psi(s[i], s[j]) for j in negatives]) for i in positives] for s in (first, second)])
    v01 = np.array([[np.mean([psi(s[i], s[j]) for i in positives]) for j in negatives] for s in (first, second)])
    return np.cov(v10) / m + np.cov(v01) / n


def _score_interval(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """One model's AUC score interval (checked against root finding in tests/metrics/test_intervals.py)."""
    rows = Rows.prepare(y.astype(np.int8), np.zeros(len(y), dtype=np.int8), scores)
    s = score_stats(np.zeros(len(y), dtype=np.int64), rows, 1)
    low, high = intervals.auc_score(s, binary.roc_auc(s).value, LEVEL)
    return float(low[0]), float(high[0])


def test_auc_difference_test_and_interval_match_the_covariance_matrix_formulation(binary_data):
    """DeLong's z-test from the covariance matrix; the MOVER interval from the score intervals and correlation."""
    y, p_c, p_b, codes = binary_data
    table = _compare(_binary_pair(y, p_c, p_b), codes, 3)
    for group in range(3):
        mine = codes == group
        a1, a2 = sk.roc_auc_score(y[mine], p_c[mine]), sk.roc_auc_score(y[mine], p_b[mine])
        covariance = _slow_delong_covariance(y[mine], p_c[mine], p_b[mine])
        se = math.sqrt(covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1])
        r = covariance[0, 1] / math.sqrt(covariance[0, 0] * covariance[1, 1])
        (l1, u1), (l2, u2) = _score_interval(y[mine], p_c[mine]), _score_interval(y[mine], p_b[mine])
        row = _row(table, "roc_auc", group)
        assert row["method"] == AUC_MOVER
        assert row["difference"] == pytest.approx(a1 - a2, abs=1e-12)
        down = math.sqrt((a1 - l1) ** 2 + (u2 - a2) ** 2 - 2 * r * (a1 - l1) * (u2 - a2))
        up = math.sqrt((u1 - a1) ** 2 + (a2 - l2) ** 2 - 2 * r * (u1 - a1) * (a2 - l2))
        assert row["ci_low"] == pytest.approx(a1 - a2 - down, abs=1e-9)
        assert row["ci_high"] == pytest.approx(a1 - a2 + up, abs=1e-9)
        assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(a1 - a2) / se), rel=1e-6)


def test_issue_14_auc_difference_of_two_perfect_models_does_not_collapse():
    y = np.repeat([0, 1], 15)
    p_c = np.where(y == 1, np.linspace(0.6, 0.9, 30), np.linspace(0.1, 0.4, 30))
    p_b = np.where(y == 1, np.linspace(0.55, 0.95, 30), np.linspace(0.0, 0.5, 30))
    row = _row(_compare(_binary_pair(y, p_c, p_b), np.zeros(30, dtype=np.int64), 1), "roc_auc")
    assert row["candidate"] == row["baseline"] == 1.0 and row["difference"] == 0.0
    assert -0.2 < row["ci_low"] < -0.02 and 0.02 < row["ci_high"] < 0.2  # both models' own intervals reach below 1


@pytest.mark.parametrize("seed", range(5))
def test_a_perfect_models_auc_difference_takes_no_correlation_from_rounding(seed: int):
    """A model with an AUC of 1 has placement values that do not vary: the correlation of the two AUCs is undefined
    (MOVER then takes it as 0), not ±1 by the sign of the rounding left in Var₁ + Var₂ − Var(ΔAUC)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat([0, 1], 40))
    p_c = np.where(y == 1, 0.6 + 0.3 * rng.random(80), 0.4 * rng.random(80))  # perfect
    p_b = np.clip(0.3 * y + 0.7 * rng.random(80), 0, 1)
    row = _row(_compare(_binary_pair(y, p_c, p_b), np.zeros(80, dtype=np.int64), 1), "roc_auc")
    auc_b = sk.roc_auc_score(y, p_b)
    low, high = intervals.mover_difference(np.array([1.0]), _score_interval(y, p_c), np.array([auc_b]),
                                           _score_interval(y, p_b), np.array([0.0]))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((low[0], high[0]), rel=1e-12)


def test_auc_difference_is_undefined_with_the_reason_in_a_one_class_group():
    y = np.array([1, 1, 1, 0, 1, 0, 1, 0])
    codes = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    p_c = np.linspace(0.1, 0.9, 8)
    table = _compare(_binary_pair(y, p_c, p_c[::-1].copy()), codes, 2, resamples=200)
    row = _row(table, "roc_auc", 0)
    assert np.isnan(row["difference"]) and np.isnan(row["ci_low"]) and np.isnan(row["p_value"])
    assert row["undefined_reason"] == f"candidate: {binary.ONE_CLASS}"


# Paired bootstrap ---------------------------------------------------------------------------------


def _slow_paired_bootstrap(y, pred_c, pred_b, score, resamples, seed):
    """Resample a group's rows with replacement, the same rows for both models; the metric from each
    replicate's own confusion counts."""
    rows = np.random.default_rng(seed).integers(0, len(y), (resamples, len(y)))
    labels = y[rows]

    def counts(pred):
        predicted = pred[rows]
        return [((labels == a) & (predicted == b)).sum(axis=1).astype(float) for a, b in ((1, 1), (0, 1), (0, 0), (1, 0))]

    return score(*counts(pred_c)) - score(*counts(pred_b))


FORMULAS = {  # of (tp, fp, tn, fn), as textbooks write them
    "f1": lambda tp, fp, tn, fn: 2 * tp / (2 * tp + fp + fn),
    "precision": lambda tp, fp, tn, fn: tp / (tp + fp),
    "mcc": lambda tp, fp, tn, fn: (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)),
    "balanced_accuracy": lambda tp, fp, tn, fn: (tp / (tp + fn) + tn / (tn + fp)) / 2,
    "accuracy": lambda tp, fp, tn, fn: (tp + tn) / (tp + fp + tn + fn),
}
SKLEARN = {"f1": sk.f1_score, "precision": sk.precision_score, "mcc": sk.matthews_corrcoef,
           "balanced_accuracy": sk.balanced_accuracy_score, "accuracy": sk.accuracy_score}


@pytest.mark.parametrize("metric", list(FORMULAS))
def test_paired_bootstrap_matches_resampling_rows(binary_data, metric):
    y, p_c, p_b, codes = binary_data
    table = _compare(_binary_pair(y, p_c, p_b), codes, 3, resamples=4000)
    mine = codes == 1
    pred_c, pred_b = (p_c[mine] >= 0.5).astype(int), (p_b[mine] >= 0.5).astype(int)
    slow = _slow_paired_bootstrap(y[mine], pred_c, pred_b, FORMULAS[metric], 4000, seed=1)
    row = _row(table, metric, 1)
    assert row["method"] == BOOTSTRAP
    assert row["difference"] == pytest.approx(SKLEARN[metric](y[mine], pred_c) - SKLEARN[metric](y[mine], pred_b))
    # the Bayesian bootstrap (its prior weighs one row) against the row bootstrap, both Monte Carlo estimates:
    # equal within a small share of the spread
    spread = np.std(slow)
    assert row["ci_low"] == pytest.approx(np.quantile(slow, 0.025), abs=0.2 * spread)
    assert row["ci_high"] == pytest.approx(np.quantile(slow, 0.975), abs=0.2 * spread)
    if row["test"] == Z_TEST:  # the z of the test is the difference over the bootstrap's spread
        assert stats.norm.isf(row["p_value"] / 2) == pytest.approx(abs(row["difference"]) / spread, rel=0.05)


def test_paired_intervals_are_narrower_than_unpaired_for_correlated_models(binary_data):
    """The point of pairing: two similar models differ far less than two independent samples would."""
    y, p_c, _, codes = binary_data
    p_b = np.clip(p_c + np.random.default_rng(0).normal(0, 0.03, len(y)), 0, 1)
    table = _compare(_binary_pair(y, p_c, p_b), codes, 3)
    row = _row(table, "accuracy", 0)
    n = row["n"]
    unpaired_half = 1.96 * np.sqrt(2 * row["candidate"] * (1 - row["candidate"]) / n)
    assert (row["ci_high"] - row["ci_low"]) / 2 < unpaired_half / 3


# Means and smooth functions of means --------------------------------------------------------------


def test_log_loss_and_brier_differences_use_the_per_row_paired_differences(binary_data):
    y, p_c, p_b, codes = binary_data
    table = _compare(_binary_pair(y, p_c, p_b), codes, 3)
    eps = np.finfo(np.float64).eps

    def row_loss(p):
        q = np.clip(np.where(y == 1, p, 1 - p), eps, 1 - eps)
        return -np.log(q)

    for metric, per_row, oracle in (
        ("log_loss", lambda p: row_loss(p), lambda yy, p: sk.log_loss(yy, p, labels=[0, 1])),
        ("brier", lambda p: (p - y) ** 2, sk.brier_score_loss),
    ):
        mine = codes == 2
        d = (per_row(p_c) - per_row(p_b))[mine]
        row = _row(table, metric, 2)
        assert row["method"] == PAIRED_T and row["test"] == T_TEST
        assert row["difference"] == pytest.approx(oracle(y[mine], p_c[mine]) - oracle(y[mine], p_b[mine]), abs=1e-12)
        se = d.std(ddof=1) / np.sqrt(len(d))
        t = stats.t.ppf(0.5 + LEVEL / 2, len(d) - 1)
        assert row["ci_low"] == pytest.approx(d.mean() - t * se, abs=1e-10)
        assert row["ci_high"] == pytest.approx(d.mean() + t * se, abs=1e-10)
        assert row["p_value"] == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue, rel=1e-6)  # excludes 0 iff p < 5%


@pytest.fixture
def regression_pair():
    rng = np.random.default_rng(5)
    n = 1500
    y = rng.normal(10, 3, n)
    y[:5] = 0.0  # zero targets: left out of MAPE
    pred_c = y + rng.normal(0, 1.0, n)
    pred_b = y + rng.normal(0.3, 1.4, n)
    codes = rng.integers(0, 2, n)
    pair = Pair.prepare(tasks.prepare("regression", y, pred_c, None), tasks.prepare("regression", y, pred_b, None))
    return y, pred_c, pred_b, codes, pair


def test_regression_differences_match_scikit_learn_and_a_slow_bootstrap(regression_pair):
    y, pred_c, pred_b, codes, pair = regression_pair
    table = _compare(pair, codes, 2)
    oracles = {
        "mae": sk.mean_absolute_error, "mse": sk.mean_squared_error, "r2": sk.r2_score,
        "rmse": lambda a, b: np.sqrt(sk.mean_squared_error(a, b)),
        "explained_variance": sk.explained_variance_score,
    }
    mine = codes == 1
    rng = np.random.default_rng(2)
    replicates = {name: [] for name in oracles}
    for _ in range(600):
        rows = rng.choice(np.flatnonzero(mine), mine.sum())
        for name, oracle in oracles.items():
            replicates[name].append(oracle(y[rows], pred_c[rows]) - oracle(y[rows], pred_b[rows]))
    for name, oracle in oracles.items():
        row = _row(table, name, 1)
        assert row["method"] == PAIRED_T
        assert row["difference"] == pytest.approx(oracle(y[mine], pred_c[mine]) - oracle(y[mine], pred_b[mine]),
                                                  rel=1e-9, abs=1e-12)
        half = (row["ci_high"] - row["ci_low"]) / 2
        # the delta-method standard error against the bootstrap's (R²: labels held fixed, so a little narrower)
        assert half / stats.norm.ppf(0.975) == pytest.approx(np.std(replicates[name]), rel=0.15), name
    mape = _row(table, "mape", 1)
    counted = mine & (y != 0)
    assert mape["difference"] == pytest.approx(
        sk.mean_absolute_percentage_error(y[counted], pred_c[counted])
        - sk.mean_absolute_percentage_error(y[counted], pred_b[counted]))
    assert _row(table, "median_absolute_error", 1)["undefined_reason"] == NO_PAIRED_INTERVAL


def test_multiclass_differences_match_scikit_learn():
    rng = np.random.default_rng(8)
    n, k = 1200, 4
    y = rng.integers(0, k, n)
    logits_c = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    logits_b = rng.normal(size=(n, k)) + 1.0 * np.eye(k)[y]
    proba_c = np.exp(logits_c) / np.exp(logits_c).sum(axis=1, keepdims=True)
    proba_b = np.exp(logits_b) / np.exp(logits_b).sum(axis=1, keepdims=True)
    first = tasks.prepare("multiclass", y, proba_c.argmax(1), proba_c, n_classes=k, top_k=(2,))
    second = tasks.prepare("multiclass", y, proba_b.argmax(1), proba_b, n_classes=k, top_k=(2,))
    codes = rng.integers(0, 2, n)
    table = _compare(Pair.prepare(first, second), codes, 2)
    mine = codes == 0
    oracles = {
        "accuracy": lambda p: sk.accuracy_score(y[mine], p[mine].argmax(1)),
        "macro_f1": lambda p: sk.f1_score(y[mine], p[mine].argmax(1), average="macro"),
        "cohen_kappa": lambda p: sk.cohen_kappa_score(y[mine], p[mine].argmax(1)),
        "log_loss": lambda p: sk.log_loss(y[mine], p[mine], labels=range(k)),
        "top_2_accuracy": lambda p: sk.top_k_accuracy_score(y[mine], p[mine], k=2, labels=range(k)),
    }
    for name, oracle in oracles.items():
        row = _row(table, name, 0)
        assert row["difference"] == pytest.approx(oracle(proba_c) - oracle(proba_b), abs=1e-12), name
        assert row["ci_low"] < row["difference"] < row["ci_high"], name
    assert _row(table, "accuracy", 0)["test"] == MCNEMAR
    assert _row(table, "top_2_accuracy", 0)["test"] == MCNEMAR
    hits_c = (np.argsort(-proba_c, axis=1)[:, :2] == y[:, None]).any(1)
    hits_b = (np.argsort(-proba_b, axis=1)[:, :2] == y[:, None]).any(1)
    gains, losses = int((hits_c & ~hits_b & mine).sum()), int((~hits_c & hits_b & mine).sum())
    assert _row(table, "top_2_accuracy", 0)["p_value"] == pytest.approx(
        stats.binomtest(gains, gains + losses, 0.5).pvalue, rel=1e-9)


def test_only_the_metrics_both_models_have_are_compared():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    proba = rng.dirichlet(np.ones(3), 300)
    first = tasks.prepare("multiclass", y, proba.argmax(1), proba, n_classes=3, top_k=(2,))
    second = tasks.prepare("multiclass", y, rng.integers(0, 3, 300), None, n_classes=3)
    names = [m.name for m in Pair.prepare(first, second).metrics]
    assert "accuracy" in names and "macro_f1" in names
    assert "log_loss" not in names and "top_2_accuracy" not in names and "count" not in names


# No false flags, and a planted regression found ---------------------------------------------------


def test_identical_models_differ_by_nothing_and_raise_no_flag(binary_data):
    y, p_c, _, codes = binary_data
    table = _compare(_binary_pair(y, p_c, p_c.copy()), codes, 3)
    defined = table[table["difference"].notna()]
    assert (defined["difference"] == 0).all()
    tested = defined[defined["p_value"].notna()]
    assert (tested["p_value"] == 1).all()
    # No discordant row in a sample does not prove the models never disagree: narrow intervals around 0, not [0, 0];
    # per-row loss differences that are all 0 have a standard error of 0.
    of_counts = tested["method"].isin([BOOTSTRAP, AUC_MOVER])
    assert of_counts.any() and (tested["method"] == PAIRED_T).any()
    assert (tested.loc[of_counts, "ci_low"] < 0).all() and (tested.loc[of_counts, "ci_high"] > 0).all()
    assert (tested.loc[of_counts, "ci_high"] - tested.loc[of_counts, "ci_low"] < 0.15).all()
    assert (tested.loc[~of_counts, "ci_low"] == 0).all() and (tested.loc[~of_counts, "ci_high"] == 0).all()
    flagged = flag_changes(table, REGISTRY, fdr=0.05, min_support=30)
    assert flagged["flag"].isna().all()


def test_a_regression_planted_in_one_group_is_flagged_there_only():
    rng = np.random.default_rng(11)
    n = 4000
    y = rng.integers(0, 2, n)
    p_b = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1)
    codes = rng.integers(0, 4, n)
    p_c = p_b.copy()
    # in group 2 the candidate misses a third of the positives the baseline finds
    planted = (codes == 2) & (y == 1) & (p_b >= 0.5) & (rng.random(n) < 0.33)
    p_c[planted] = 0.2
    table = flag_changes(_compare(_binary_pair(y, p_c, p_b), codes, 4), REGISTRY, fdr=0.05, min_support=30)
    recall = table[table["metric"] == "recall"].set_index("group")
    assert recall.loc["2", "flag"] == "regression"
    assert recall.drop(index="2")["flag"].isna().all()
    assert set(table.loc[table["flag"].notna(), "group"]) == {"2"}
    assert set(table.loc[table["flag"] == "improvement", "metric"]) <= {"fpr", "specificity", "precision"}


def test_on_exchangeable_models_false_flags_stay_within_the_false_discovery_rate():
    """Two models of equal quality, independent errors: any accuracy flag is a false discovery."""
    runs_with_flags = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        n = 1200
        y = rng.integers(0, 2, n)
        p_c = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
        p_b = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
        codes = rng.integers(0, 6, n)
        table = flag_changes(_compare(_binary_pair(y, p_c, p_b), codes, 6, resamples=200, seed=seed),
                             REGISTRY, fdr=0.05, min_support=30)
        runs_with_flags += bool(table.loc[table["metric"] == "accuracy", "flag"].notna().any())
    assert runs_with_flags <= 5  # expected ≤ 2 (5% of 40); 5 leaves room for chance


def test_with_many_classes_proportions_keep_mcnemar_without_a_bootstrap():
    rng = np.random.default_rng(9)
    n, k = 3000, 25  # 25³ joint cells: too many for the bootstrap
    y = rng.integers(0, k, n)
    first = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    second = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    pair = Pair.prepare(tasks.prepare("multiclass", y, first, None, n_classes=k),
                        tasks.prepare("multiclass", y, second, None, n_classes=k))
    table = _compare(pair, np.zeros(n, dtype=np.int64), 1, resamples=200)
    accuracy = _row(table, "accuracy")
    gains, losses = int(((first == y) & (second != y)).sum()), int(((first != y) & (second == y)).sum())
    assert accuracy["test"] == MCNEMAR
    assert accuracy["p_value"] == pytest.approx(stats.binomtest(gains, gains + losses, 0.5).pvalue, rel=1e-9)
    assert np.isnan(accuracy["ci_low"]) and accuracy["undefined_reason"] == TOO_MANY_CLASSES
    macro_f1 = _row(table, "macro_f1")
    assert macro_f1["test"] is None and np.isnan(macro_f1["p_value"])
    assert macro_f1["difference"] == pytest.approx(
        sk.f1_score(y, first, average="macro") - sk.f1_score(y, second, average="macro"))
