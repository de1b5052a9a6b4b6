"""Performance estimation from probabilities (CBPE): expected counts and AUC against brute force, certain
probabilities against scikit-learn, the intervals' exact quantiles on tiny groups and their coverage on
calibrated simulations, the miss on a miscalibrated one, and invariance to the order of the rows."""

from __future__ import annotations

import doctest
import itertools
import math
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import sklearn
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.metrics import estimation
from reportgen.metrics.estimation import (
    estimate_binary,
    estimate_multiclass,
    expected_class_confusion,
    expected_confusion,
    expected_roc_auc,
)

EMPTY = "no rows in this group"
ONE_CLASS = "only one class in this group"
SCORES = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)  # few values: ties are frequent, and certain rows too


@pytest.fixture(autouse=True)
def quiet_sklearn():
    """scikit-learn without its warnings (undefined metrics) and input validation."""
    with warnings.catch_warnings(), sklearn.config_context(skip_parameter_validation=True, assume_finite=True):
        warnings.simplefilter("ignore")
        yield


@st.composite
def binary_rows(draw: st.DrawFn, max_rows: int = 40):
    """(codes, n_groups, scores): codes in [-1, n_groups) (-1: in no group), scores from few values."""
    n = draw(st.integers(0, max_rows))
    n_groups = draw(st.integers(1, 4))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    support = draw(st.lists(st.sampled_from(SCORES), min_size=1, max_size=4, unique=True))
    scores = draw(hnp.arrays(np.float64, n, elements=st.sampled_from(support)))
    return codes, n_groups, scores


@st.composite
def class_rows(draw: st.DrawFn, max_rows: int = 30):
    """(codes, n_groups, probabilities) with 2 to 4 classes; some rows certain, some with tied classes."""
    n = draw(st.integers(0, max_rows))
    n_groups = draw(st.integers(1, 3))
    n_classes = draw(st.integers(2, 4))
    codes = draw(hnp.arrays(np.int64, n, elements=st.integers(-1, n_groups - 1)))
    weights = draw(hnp.arrays(np.float64, (n, n_classes), elements=st.sampled_from([0.0, 1.0, 2.0, 5.0])))
    weights[weights.sum(axis=1) == 0, 0] = 1.0
    return codes, n_groups, weights / weights.sum(axis=1, keepdims=True)


def _weighted_pairs_auc(scores: np.ndarray) -> float:
    """Brute force: every ordered pair of distinct rows, weight p_i (1 − p_j), ties one half; NaN without pairs."""
    numerator = denominator = 0.0
    for i, j in itertools.permutations(range(len(scores)), 2):
        weight = scores[i] * (1 - scores[j])
        denominator += weight
        numerator += weight * ((scores[i] > scores[j]) + 0.5 * (scores[i] == scores[j]))
    return numerator / denominator if denominator > 0 else math.nan


def _same(a: float, b: float, tolerance: float = 1e-9) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance


def _binary_oracles(threshold: float) -> dict:
    """scikit-learn's metric of labels y given scores p, by reportgen's name; NaN where undefined."""
    return {
        "accuracy": lambda y, p: skm.accuracy_score(y, p >= threshold),
        "f1": lambda y, p: skm.f1_score(y, p >= threshold, labels=[0, 1], zero_division=np.nan),
        "roc_auc": lambda y, p: skm.roc_auc_score(y, p) if 0 < np.sum(y) < len(y) else math.nan,
    }


def _class_oracles(n_classes: int) -> dict:
    """scikit-learn's metric of labels y given class probabilities p (predicted: the argmax); NaN where undefined."""
    return {
        "accuracy": lambda y, p: skm.accuracy_score(y, np.argmax(p, axis=1)),
        "macro_f1": lambda y, p: skm.f1_score(y, np.argmax(p, axis=1), average="macro"),
        "roc_auc_macro": lambda y, p: (
            math.nan if len(np.unique(y)) < n_classes
            else skm.roc_auc_score(y, p[:, 1]) if n_classes == 2  # scikit-learn's binary case: one column
            else skm.roc_auc_score(y, p, multi_class="ovr", average="macro")
        ),
    }


# Point estimates against brute force ---------------------------------------------------------------------


@given(case=binary_rows(), threshold=st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]))
@settings(max_examples=150)
def test_expected_counts_accuracy_and_f1_equal_brute_force(case, threshold):
    codes, n_groups, scores = case
    accuracy, f1, _ = estimate_binary(codes, n_groups, scores, threshold=threshold, level=0.9, resamples=3, seed=0)
    keep = codes >= 0
    c = expected_confusion(codes[keep], n_groups, scores[keep], threshold=threshold)
    for g in range(n_groups):
        p = scores[codes == g]
        predicted = p >= threshold
        tp, fp = p[predicted].sum(), (1 - p[predicted]).sum()
        fn, tn = p[~predicted].sum(), (1 - p[~predicted]).sum()
        assert np.allclose([c.tp[g], c.fp[g], c.fn[g], c.tn[g]], [tp, fp, fn, tn], rtol=0, atol=1e-9)
        brute_accuracy = (tp + tn) / len(p) if len(p) else math.nan
        brute_f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else math.nan
        assert _same(accuracy.values.value[g], brute_accuracy)
        assert _same(f1.values.value[g], brute_f1)
        if len(p) == 0:
            assert accuracy.values.reason[g] == f1.values.reason[g] == EMPTY
        elif math.isnan(brute_f1):
            assert f1.values.reason[g] == "no positive labels and no predicted positives"
        else:
            assert accuracy.values.reason[g] is None and f1.values.reason[g] is None


@given(case=binary_rows(max_rows=25))
@settings(max_examples=150)
def test_expected_roc_auc_equals_the_weighted_pair_count(case):
    codes, n_groups, scores = case
    keep = codes >= 0
    auc = expected_roc_auc(codes[keep], n_groups, scores[keep])
    for g in range(n_groups):
        p = scores[codes == g]
        assert _same(auc.value[g], _weighted_pairs_auc(p))
        assert (auc.reason[g] is None) == np.isfinite(auc.value[g])


@pytest.mark.parametrize(
    ("scores", "expected", "reason"),
    [
        ([], math.nan, EMPTY),
        ([0.4], math.nan, ONE_CLASS),  # one row: never a pair
        ([0.0, 0.0, 0.0], math.nan, ONE_CLASS),
        ([1.0, 1.0], math.nan, ONE_CLASS),
        ([0.0, 1.0], 1.0, None),
        ([0.0, 1.0, 1.0, 0.0], 1.0, None),
        ([0.5, 0.5], 0.5, None),  # tied: one half; a row is never paired with itself
        ([0.5, 0.5, 0.5], 0.5, None),
        ([0.2, 0.8], 0.64 / (0.64 + 0.04), None),
    ],
)
def test_expected_roc_auc_edge_cases(scores, expected, reason):
    auc = expected_roc_auc(np.zeros(len(scores), dtype=np.int64), 1, np.array(scores, dtype=np.float64))
    assert _same(auc.value[0], expected, 1e-12)
    assert auc.reason[0] == reason


@given(case=class_rows())
@settings(max_examples=100)
def test_multiclass_expected_values_equal_brute_force(case):
    codes, n_groups, probabilities = case
    n_classes = probabilities.shape[1]
    accuracy, macro_f1, macro_auc = estimate_multiclass(
        codes, n_groups, probabilities, level=0.9, resamples=3, seed=0)
    keep = codes >= 0
    matrix = expected_class_confusion(codes[keep], n_groups, probabilities[keep]).matrix
    for g in range(n_groups):
        p = probabilities[codes == g]
        predicted = np.argmax(p, axis=1)
        brute = np.array([[p[predicted == j, k].sum() for j in range(n_classes)] for k in range(n_classes)])
        assert np.allclose(matrix[g], brute, rtol=0, atol=1e-9)
        if len(p) == 0:
            assert accuracy.values.reason[g] == macro_f1.values.reason[g] == macro_auc.values.reason[g] == EMPTY
            continue
        assert _same(accuracy.values.value[g], p[np.arange(len(p)), predicted].mean())
        labels, predictions = brute.sum(axis=1), brute.sum(axis=0)
        present = labels + predictions > 0
        f1s = 2 * np.diag(brute)[present] / (labels + predictions)[present]
        assert _same(macro_f1.values.value[g], f1s.mean())
        aucs = [_weighted_pairs_auc(p[:, k]) for k in range(n_classes)]
        assert _same(macro_auc.values.value[g], float(np.mean(aucs)))
        if math.isnan(np.mean(aucs)):
            assert macro_auc.values.reason[g] == "a class has no rows in this group (one-vs-rest AUC needs every class)"


# Certain probabilities: the labels are known ------------------------------------------------------------


@given(case=binary_rows(max_rows=60), threshold=st.sampled_from([0.3, 0.5, 1.0]))
@settings(max_examples=60)
def test_certain_probabilities_give_scikit_learns_metrics_and_a_collapsed_interval(case, threshold):
    codes, n_groups, scores = case
    scores = np.round(scores)  # every probability 0 or 1: each label is its probability
    estimates = estimate_binary(codes, n_groups, scores, threshold=threshold, level=0.95, resamples=20, seed=1)
    oracles = _binary_oracles(threshold)
    for estimate in estimates:
        for g in range(n_groups):
            p = scores[codes == g]
            expected = oracles[estimate.metric](p.astype(int), p) if len(p) else math.nan
            assert _same(estimate.values.value[g], expected, 1e-12), (estimate.metric, g)
            assert _same(estimate.ci_low[g], expected, 1e-12) and _same(estimate.ci_high[g], expected, 1e-12)


@given(case=class_rows(max_rows=40))
@settings(max_examples=60)
def test_certain_class_probabilities_give_scikit_learns_metrics_and_a_collapsed_interval(case):
    codes, n_groups, probabilities = case
    n_classes = probabilities.shape[1]
    probabilities = np.eye(n_classes)[np.argmax(probabilities, axis=1)]  # one-hot: each label is certain
    estimates = estimate_multiclass(codes, n_groups, probabilities, level=0.95, resamples=20, seed=1)
    oracles = _class_oracles(n_classes)
    for estimate in estimates:
        for g in range(n_groups):
            p = probabilities[codes == g]
            expected = oracles[estimate.metric](np.argmax(p, axis=1), p) if len(p) else math.nan
            assert _same(estimate.values.value[g], expected, 1e-12), (estimate.metric, g)
            assert _same(estimate.ci_low[g], expected, 1e-12) and _same(estimate.ci_high[g], expected, 1e-12)


# The interval: exact quantiles on tiny groups, coverage on calibrated simulations --------------------------


def _exact_bounds(outcomes: list[tuple[float, float]], level: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The values each percentile bound may take, from the realised metric's exact distribution.

    `outcomes` are (metric, probability) over every labelling; undefined ones (NaN) are left out, as the
    bootstrap leaves them out. Where the distribution function is not within 0.02 of the percentile, many
    draws put one value at that percentile; where it is, the neighbouring value (or between them) is allowed.
    """
    defined = [(v, w) for v, w in outcomes if not math.isnan(v) and w > 0]
    total = sum(w for _, w in defined)
    values = sorted({round(v, 12) for v, _ in defined})
    cdf = np.cumsum([sum(w for v, w in defined if round(v, 12) == x) / total for x in values])
    bounds = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        at = int(np.searchsorted(cdf, q))  # first value with F >= q
        near = np.abs(cdf - q) < 0.02
        first = at - 1 if at > 0 and near[at - 1] else at
        last = at + 1 if near[at] and at + 1 < len(values) else at
        bounds.append(tuple(values[first:last + 1]))
    return bounds[0], bounds[1]


def _inside(bound: float, allowed: tuple[float, ...]) -> bool:
    return min(allowed) - 1e-9 <= bound <= max(allowed) + 1e-9


TINY_BINARY = [
    [0.3, 0.6],
    [0.2, 0.5, 0.5, 0.9],  # a tie
    [0.1, 0.4, 0.7, 0.7, 0.7],
    [0.0, 1.0, 0.6],  # two certain rows
    [0.35, 0.35, 0.65, 0.65, 0.8, 0.95],
    [0.5, 0.5, 0.5, 0.5],  # all tied: every defined realised AUC is 0.5
    [0.3, 0.3, 0.3, 0.7, 0.7],
]


def test_binary_interval_bounds_are_the_exact_quantiles_of_the_realised_metric():
    """With many draws the bounds are the quantiles of the realised metric's distribution, enumerated over
    every labelling with scikit-learn: this checks the draws' own metric arithmetic (ranks, ties, counts)."""
    level, threshold = 0.8, 0.5
    codes = np.concatenate([np.full(len(s), g) for g, s in enumerate(TINY_BINARY)])
    scores = np.concatenate([np.array(s) for s in TINY_BINARY])
    estimates = estimate_binary(codes, len(TINY_BINARY), scores, threshold=threshold, level=level,
                                resamples=20_000, seed=3)
    oracles = _binary_oracles(threshold)
    for estimate in estimates:
        for g, group in enumerate(TINY_BINARY):
            p = np.array(group)
            outcomes = [(oracles[estimate.metric](np.array(y), p), float(np.prod(np.where(y, p, 1 - p))))
                        for y in itertools.product([0, 1], repeat=len(p))]
            low, high = _exact_bounds(outcomes, level)
            assert _inside(estimate.ci_low[g], low), (estimate.metric, g, estimate.ci_low[g], low)
            assert _inside(estimate.ci_high[g], high), (estimate.metric, g, estimate.ci_high[g], high)
            mean = sum(v * w for v, w in outcomes)
            if estimate.metric == "accuracy":  # the expected accuracy is the realised one's mean
                assert estimate.values.value[g] == pytest.approx(mean, abs=1e-12)


TINY_CLASSES = [
    [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]],
    [[0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]],  # tied rows, a tied prediction
    [[1.0, 0.0, 0.0], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.2, 0.2, 0.6]],
    [[0.4, 0.3, 0.3]] * 4,  # identical rows: every defined realised AUC is 0.5
]


def test_multiclass_interval_bounds_are_the_exact_quantiles_of_the_realised_metric():
    level = 0.8
    codes = np.concatenate([np.full(len(rows), g) for g, rows in enumerate(TINY_CLASSES)])
    probabilities = np.concatenate([np.array(rows) for rows in TINY_CLASSES])
    estimates = estimate_multiclass(codes, len(TINY_CLASSES), probabilities, level=level, resamples=20_000, seed=4)
    oracles = _class_oracles(3)
    for estimate in estimates:
        for g, rows in enumerate(TINY_CLASSES):
            p = np.array(rows)
            outcomes = [(oracles[estimate.metric](np.array(y), p), float(np.prod(p[np.arange(len(p)), y])))
                        for y in itertools.product(range(3), repeat=len(p))]
            low, high = _exact_bounds(outcomes, level)
            assert _inside(estimate.ci_low[g], low), (estimate.metric, g, estimate.ci_low[g], low)
            assert _inside(estimate.ci_high[g], high), (estimate.metric, g, estimate.ci_high[g], high)


LEVEL = 0.95
SEEDS = 40  # × 20 groups: 800 independent trials per metric
COVERAGE_TOLERANCE = 0.025  # about 3 standard errors of a share near 0.95 over 800 trials


def _binary_coverage(truth=lambda scores: scores) -> dict[str, float]:
    """Share of (seed, group) trials whose realised metric falls in the interval: 40 seeds × 20 groups of 30 to
    400 rows, scores ~ Beta(2, 3); labels ~ Bernoulli(truth(score)) (calibrated: the score itself)."""
    hits: dict[str, list[bool]] = {"accuracy": [], "f1": [], "roc_auc": []}
    oracles = _binary_oracles(0.5)
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        sizes = rng.integers(30, 400, 20)
        codes = np.repeat(np.arange(20), sizes)
        scores = rng.beta(2, 3, len(codes))
        labels = (rng.random(len(codes)) < truth(scores)).astype(int)
        estimates = estimate_binary(codes, 20, scores, threshold=0.5, level=LEVEL, resamples=200, seed=SEEDS + seed)
        for estimate in estimates:
            for g in range(20):
                y, p = labels[codes == g], scores[codes == g]
                realised = oracles[estimate.metric](y, p)
                hits[estimate.metric].append(bool(estimate.ci_low[g] <= realised <= estimate.ci_high[g]))
    return {metric: float(np.mean(inside)) for metric, inside in hits.items()}


def test_binary_intervals_cover_the_realised_metric_when_calibrated():
    coverage = _binary_coverage()
    for metric, share in coverage.items():
        assert abs(share - LEVEL) <= COVERAGE_TOLERANCE, (metric, share)


def test_miscalibrated_probabilities_make_the_estimate_miss():
    """The calibration assumption: an overconfident model (true probability 0.2 + 0.6 × score: its scores are
    more extreme than the truth) has realised metrics outside most intervals, and nothing without labels can tell.
    (A shift, truth = score + 0.15, moves the accuracy out, 58% covered, but hardly F1 or ROC AUC, 98% and 94%.)"""
    coverage = _binary_coverage(lambda scores: 0.2 + 0.6 * scores)
    assert max(coverage.values()) < 0.7, coverage  # measured: accuracy 40%, F1 60%, ROC AUC 30%


def test_multiclass_intervals_cover_the_realised_metric_when_calibrated():
    hits: dict[str, list[bool]] = {"accuracy": [], "macro_f1": [], "roc_auc_macro": []}
    oracles = _class_oracles(3)
    for seed in range(SEEDS):
        rng = np.random.default_rng(100 + seed)
        sizes = rng.integers(30, 400, 20)
        codes = np.repeat(np.arange(20), sizes)
        probabilities = rng.dirichlet([1.0, 2.0, 3.0], len(codes))
        cumulative = np.cumsum(probabilities, axis=1)
        labels = (rng.random(len(codes))[:, None] >= cumulative[:, :-1]).sum(axis=1)
        estimates = estimate_multiclass(codes, 20, probabilities, level=LEVEL, resamples=200, seed=SEEDS + seed)
        for estimate in estimates:
            for g in range(20):
                y, p = labels[codes == g], probabilities[codes == g]
                realised = oracles[estimate.metric](y, p)
                hits[estimate.metric].append(bool(estimate.ci_low[g] <= realised <= estimate.ci_high[g]))
    for metric, inside in hits.items():
        assert abs(np.mean(inside) - LEVEL) <= COVERAGE_TOLERANCE, (metric, np.mean(inside))


# Invariances and the bootstrap's chunks --------------------------------------------------------------------


def _as_tuple(estimates) -> list:
    return [(e.metric, e.values.value.tolist(), e.values.reason.tolist(), e.ci_low.tolist(), e.ci_high.tolist())
            for e in estimates]


@given(case=binary_rows(max_rows=60), seed=st.integers(0, 2**16))
@settings(max_examples=40)
def test_shuffling_rows_changes_nothing_binary(case, seed):
    """Draws are made in (group, score) order, so even the intervals are the same, not only the estimates."""
    codes, n_groups, scores = case
    order = np.random.default_rng(seed).permutation(len(codes))
    kwargs = {"threshold": 0.5, "level": 0.9, "resamples": 30, "seed": 7}
    first = estimate_binary(codes, n_groups, scores, **kwargs)
    shuffled = estimate_binary(codes[order], n_groups, scores[order], **kwargs)
    np.testing.assert_equal(_as_tuple(first), _as_tuple(shuffled))


@given(case=class_rows(max_rows=40), seed=st.integers(0, 2**16))
@settings(max_examples=40)
def test_shuffling_rows_changes_nothing_multiclass(case, seed):
    codes, n_groups, probabilities = case
    order = np.random.default_rng(seed).permutation(len(codes))
    kwargs = {"level": 0.9, "resamples": 30, "seed": 7}
    first = estimate_multiclass(codes, n_groups, probabilities, **kwargs)
    shuffled = estimate_multiclass(codes[order], n_groups, probabilities[order], **kwargs)
    np.testing.assert_equal(_as_tuple(first), _as_tuple(shuffled))


def test_rows_in_no_group_are_left_out():
    rng = np.random.default_rng(5)
    codes, scores = rng.integers(-1, 3, 200), rng.random(200)
    kwargs = {"threshold": 0.5, "level": 0.9, "resamples": 30, "seed": 7}
    kept = codes >= 0
    np.testing.assert_equal(_as_tuple(estimate_binary(codes, 3, scores, **kwargs)),
                            _as_tuple(estimate_binary(codes[kept], 3, scores[kept], **kwargs)))


def test_chunks_of_draws_do_not_change_the_intervals(monkeypatch):
    """Memory is bounded by drawing `CHUNK` draws × rows at a time; the draws continue one random stream."""
    rng = np.random.default_rng(6)
    codes, scores = rng.integers(0, 4, 301), rng.random(301)
    probabilities = rng.dirichlet([1, 1, 1], 301)
    whole = (_as_tuple(estimate_binary(codes, 5, scores, threshold=0.4, level=0.9, resamples=40, seed=2)),
             _as_tuple(estimate_multiclass(codes, 5, probabilities, level=0.9, resamples=40, seed=2)))
    monkeypatch.setattr(estimation, "CHUNK", 3 * 301)  # 3 draws at a time; 40 is not a multiple of 3
    chunked = (_as_tuple(estimate_binary(codes, 5, scores, threshold=0.4, level=0.9, resamples=40, seed=2)),
               _as_tuple(estimate_multiclass(codes, 5, probabilities, level=0.9, resamples=40, seed=2)))
    np.testing.assert_equal(whole, chunked)


def test_undefined_reasons():
    codes = np.array([0, 2, 2, 3, 3])  # group 1 empty, group 0 one row, group 2 all certain negatives
    scores = np.array([0.7, 0.0, 0.0, 0.2, 0.9])
    accuracy, f1, auc = estimate_binary(codes, 4, scores, threshold=0.5, level=0.9, resamples=50, seed=0)
    assert accuracy.values.reason.tolist() == [None, EMPTY, None, None]
    assert f1.values.reason.tolist() == [None, EMPTY, "no positive labels and no predicted positives", None]
    assert auc.values.reason.tolist() == [ONE_CLASS, EMPTY, ONE_CLASS, None]
    for estimate in (accuracy, f1, auc):
        undefined = np.isnan(estimate.values.value)
        assert np.isnan(estimate.ci_low[undefined]).all() and np.isnan(estimate.ci_high[undefined]).all()
        assert (estimate.ci_low[~undefined] <= estimate.ci_high[~undefined]).all()


def test_docstring_examples():
    assert doctest.testmod(estimation).failed == 0
