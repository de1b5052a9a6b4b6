"""Performance estimated from the probabilities alone, before the labels arrive (confidence-based estimation, CBPE).

Assumptions, on which every number here rests:

- **Calibrated probabilities**: among rows given probability p of a class, a share p is of that class.
- **No concept drift**: P(y | x) is the one the model was calibrated on; only the inputs may have moved.
- **Independent labels** given the probabilities (rows do not share their outcome).

Then each row's label is a draw from its own probabilities, and a metric of the labels a group will get has a
distribution that the probabilities fix. The estimate is the CBPE estimator: the metric's numerator and
denominator replaced by their expectations (for accuracy this is the expected accuracy itself; for F1 and ROC
AUC, ratios, it is E[numerator] / E[denominator], NannyML's estimator, not E[ratio]). The interval is a
*prediction* interval for the **realised** metric, the one the labels will give: a parametric bootstrap draws
every row's label from its probabilities (y* ~ Bernoulli(p), or Categorical for several classes), computes the
metric per group and draw, and takes the quantiles at (1 ∓ `level`) / 2, placed for one further draw (see
`_prediction_interval`). Draws where the realised metric is undefined (no positive drawn, for a ROC AUC) are
left out, so the interval is conditional on the metric existing.

If the probabilities are not calibrated (or P(y | x) changed) the estimate and its interval are wrong, by as
much as the miscalibration: nothing here can detect that without labels.

Cost: one sort by (group, score) per score column, then O(rows × resamples) random draws and segment sums,
taken `CHUNK` draws × rows at a time so memory does not grow with the resamples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics import binary, multiclass
from reportgen.metrics.binary import ONE_CLASS
from reportgen.metrics.multiclass import MISSING_CLASS, ClassConfusion
from reportgen.metrics.statistics import Confusion
from reportgen.metrics.values import EMPTY, Values, divide, empty_is_no_rows

CHUNK = 1 << 22
"""Draws × rows held at once by the bootstrap (about 9 bytes each for a binary task, 10 for a multiclass one)."""


@dataclass(frozen=True)
class Estimate:
    """One metric estimated per group, with a prediction interval for its realised value.

    Attributes
    ----------
    metric : str
        The registry's public name: "accuracy", "f1", "roc_auc" (binary); "accuracy", "macro_f1",
        "roc_auc_macro" (multiclass).
    values : Values
        The CBPE estimate per group; NaN, with a reason, where it is undefined.
    ci_low, ci_high : ndarray of float64
        Per group, a prediction interval at `level` for the metric the labels will give, if the
        probabilities are calibrated; NaN where no draw defines the metric (an empty group, one row).
    """

    metric: str
    values: Values
    ci_low: np.ndarray
    ci_high: np.ndarray


def expected_confusion(codes: np.ndarray, n_groups: int, scores: np.ndarray, *, threshold: float) -> Confusion:
    """Expected confusion counts per group (floats) if each row is positive with probability its score.

    A row is predicted positive where ``score >= threshold``, as `reportgen.io` predicts.
    E[TP] sums p over predicted positives, E[FP] sums 1 − p over them; E[FN] and E[TN] do the same over
    predicted negatives. Counts of rows with probabilities of 0 or 1 are exact.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups).
    n_groups : int
        Number of groups.
    scores : ndarray of float64
        Calibrated probability of the positive class per row, in [0, 1].
    threshold : float
        Decision threshold.

    Examples
    --------
    >>> c = expected_confusion(np.array([0, 0, 0]), 1, np.array([0.9, 0.6, 0.2]), threshold=0.5)
    >>> [round(float(x[0]), 6) for x in (c.tp, c.fp, c.fn, c.tn)]
    [1.5, 0.5, 0.2, 0.8]
    """
    key = np.multiply(codes, 2, dtype=np.intp)
    key += scores >= threshold
    rows = np.bincount(key, minlength=2 * n_groups).reshape(n_groups, 2).astype(np.float64)
    positives = np.bincount(key, weights=scores, minlength=2 * n_groups).reshape(n_groups, 2)
    fn, tp = positives.T
    return Confusion(tp=tp, fp=rows[:, 1] - tp, tn=rows[:, 0] - fn, fn=fn)


def expected_class_confusion(codes: np.ndarray, n_groups: int, probabilities: np.ndarray) -> ClassConfusion:
    """Expected confusion matrices per group, ``matrix[g, true k, predicted j]`` = Σ p_k over rows predicted j.

    The prediction is the most probable class (`np.argmax`: the first of tied classes), as `reportgen.io`
    predicts without a prediction column.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups).
    n_groups : int
        Number of groups.
    probabilities : ndarray of float64, shape (rows, classes)
        Calibrated class probabilities, each row summing to 1.

    Examples
    --------
    >>> p = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    >>> c = expected_class_confusion(np.array([0, 0]), 1, p)
    >>> c.matrix[0].round(6).tolist()
    [[0.7, 0.0, 0.1], [0.2, 0.0, 0.3], [0.1, 0.0, 0.6]]
    """
    n_classes = probabilities.shape[1]
    key = np.multiply(codes, n_classes, dtype=np.intp)
    key += np.argmax(probabilities, axis=1)
    cells = n_groups * n_classes
    by_true = [np.bincount(key, weights=probabilities[:, k], minlength=cells) for k in range(n_classes)]
    return ClassConfusion(np.stack(by_true, axis=-1).reshape(n_groups, n_classes, n_classes).transpose(0, 2, 1))


def expected_roc_auc(codes: np.ndarray, n_groups: int, scores: np.ndarray) -> Values:
    """CBPE's ROC AUC per group: each row is a positive with weight p and a negative with weight 1 − p.

    AUC = Σ_{i≠j} p_i (1 − p_j) [s_i > s_j] + ½ [s_i = s_j]  /  Σ_{i≠j} p_i (1 − p_j), which is
    E[Mann-Whitney U] / E[positives × negatives] for independent labels y_i ~ Bernoulli(p_i) (a row is never
    paired with itself). Computed after one sort by (group, score), from the runs of tied scores.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups).
    n_groups : int
        Number of groups.
    scores : ndarray of float64
        Calibrated probability of the positive class per row, in [0, 1].

    Returns
    -------
    Values
        Undefined for an empty group, and where every draw of the labels has one class: one row, or every
        probability 0, or every one 1.

    Examples
    --------
    >>> auc = expected_roc_auc(np.array([0, 0, 1]), 2, np.array([0.8, 0.2, 0.5]))
    >>> round(float(auc.value[0]), 6), auc.reason[1]
    (0.941176, 'only one class in this group')
    """
    order = np.lexsort((scores, codes))
    return _Ranking.of(codes[order], scores[order], n_groups).expected_auc()


def estimate_binary(
    codes: np.ndarray, n_groups: int, scores: np.ndarray, *, threshold: float, level: float, resamples: int, seed: int
) -> tuple[Estimate, ...]:
    """Estimated accuracy, F1 and ROC AUC per group of a binary classifier, from its probabilities alone.

    Assumes calibrated probabilities, no concept drift (P(y | x) unchanged) and independent labels (see the
    module). Accuracy is the expected accuracy; F1 is 2·E[TP] / (2·E[TP] + E[FP] + E[FN]) (`expected_confusion`);
    ROC AUC is `expected_roc_auc`. Each interval is a prediction interval at `level` for the realised metric,
    from its quantiles over `resamples` draws of every row's label, y* ~ Bernoulli(p).

    The draws are made in the order of (group, score), so shuffling the rows changes neither the estimates nor
    the intervals (rows with the same group and score are interchangeable).

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); rows with a negative code are left out.
    n_groups : int
        Number of groups (a time window each, say).
    scores : ndarray of float64
        Probability of the positive class per row, in [0, 1].
    threshold : float
        A row is predicted positive where ``score >= threshold``.
    level : float
        Interval level in (0, 1).
    resamples : int
        Draws of the labels, at least 1.
    seed : int
        Seed of the draws.

    Returns
    -------
    tuple of Estimate
        "accuracy", "f1", "roc_auc". Undefined: every metric for an empty group; F1 where nothing is
        predicted positive and every probability is 0; ROC AUC with one row, or every probability 0, or
        every one 1.

    Examples
    --------
    >>> codes = np.array([0, 0, 0, 0, 1])
    >>> scores = np.array([1.0, 1.0, 0.0, 0.0, 0.3])
    >>> accuracy, f1, auc = estimate_binary(codes, 3, scores, threshold=0.5, level=0.9, resamples=50, seed=0)
    >>> accuracy.values.value.tolist(), accuracy.ci_low.tolist()[:2], accuracy.values.reason[2]
    ([1.0, 0.7, nan], [1.0, 0.0], 'no rows in this group')
    >>> auc.values.reason[1]
    'only one class in this group'
    """
    keep = codes >= 0
    if not keep.all():
        codes, scores = codes[keep], scores[keep]
    order = np.lexsort((scores, codes))
    codes, scores = codes[order], scores[order]
    ranking = _Ranking.of(codes, scores, n_groups)
    expected = expected_confusion(codes, n_groups, scores, threshold=threshold)
    n = ranking.group_sizes
    values = {
        "accuracy": binary.accuracy(expected).values(),
        "f1": binary.f1(expected),
        "roc_auc": ranking.expected_auc(),
    }
    realised = _realised_binary(ranking, scores >= threshold, resamples, seed)
    return tuple(_estimate(name, empty_is_no_rows(values[name], n), realised[name], level) for name in values)


def estimate_multiclass(
    codes: np.ndarray, n_groups: int, probabilities: np.ndarray, *, level: float, resamples: int, seed: int
) -> tuple[Estimate, ...]:
    """Estimated accuracy, macro F1 and macro one-vs-rest ROC AUC per group, from the class probabilities alone.

    Assumes calibrated probabilities, no concept drift and independent labels (see the module). The
    prediction is the most probable class (the first of tied ones). Accuracy is the mean probability of the
    predicted class; macro F1 is the mean over classes of 2·E[TP_k] / (E[labels_k] + predicted_k), over the
    classes with E[labels_k] + predicted_k > 0 (as `multiclass.macro_f1` on `expected_class_confusion`); the
    macro ROC AUC is the mean of each class's `expected_roc_auc` against the rest. Each interval is a
    prediction interval at `level` for the realised metric, from its quantiles over `resamples` draws
    y* ~ Categorical(p).

    The draws are made in a canonical order of the rows (group, prediction, then the probabilities), so
    shuffling the rows changes neither the estimates nor the intervals.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); rows with a negative code are left out.
    n_groups : int
        Number of groups.
    probabilities : ndarray of float64, shape (rows, classes)
        Class probabilities, in [0, 1], each row summing to 1; at least 2 classes.
    level : float
        Interval level in (0, 1).
    resamples : int
        Draws of the labels, at least 1.
    seed : int
        Seed of the draws.

    Returns
    -------
    tuple of Estimate
        "accuracy", "macro_f1", "roc_auc_macro". Undefined: every metric for an empty group; the macro ROC
        AUC where some class's one-vs-rest AUC is (one row, or a class of probability 0, or 1, on every row).

    Examples
    --------
    >>> p = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    >>> accuracy, f1, auc = estimate_multiclass(np.zeros(3, int), 1, p, level=0.9, resamples=20, seed=0)
    >>> round(float(accuracy.values.value[0]), 6), auc.metric
    (0.766667, 'roc_auc_macro')
    """
    keep = codes >= 0
    if not keep.all():
        codes, probabilities = codes[keep], probabilities[keep]
    n_classes = probabilities.shape[1]
    predicted = np.argmax(probabilities, axis=1)
    order = np.lexsort((*probabilities.T[::-1], predicted, codes))
    codes, probabilities, predicted = codes[order], probabilities[order], predicted[order]
    expected = expected_class_confusion(codes, n_groups, probabilities)
    n = np.bincount(codes, minlength=n_groups)

    rankings = []
    for k in range(n_classes):
        by_score = np.lexsort((probabilities[:, k], codes))
        rankings.append((by_score, _Ranking.of(codes[by_score], probabilities[by_score, k], n_groups)))
    aucs = np.stack([ranking.expected_auc().value for _, ranking in rankings])
    every_class = np.isfinite(aucs).all(axis=0)
    values = {
        "accuracy": multiclass.accuracy(expected).values(),
        "macro_f1": multiclass.macro_f1(expected),
        "roc_auc_macro": divide(np.where(every_class, aucs, 0.0).sum(axis=0), every_class * float(n_classes),
                                undefined=MISSING_CLASS),
    }
    doubled_ranks = np.empty((n_classes, len(codes)), dtype=_rank_type(len(codes)))
    for k, (by_score, ranking) in enumerate(rankings):
        doubled_ranks[k, by_score] = ranking.doubled_ranks
    del rankings
    realised = _realised_multiclass(codes, n_groups, probabilities, predicted, doubled_ranks, resamples, seed)
    return tuple(_estimate(name, empty_is_no_rows(values[name], n), realised[name], level) for name in values)


def _estimate(name: str, values: Values, samples: np.ndarray, level: float) -> Estimate:
    low, high = _prediction_interval(samples, level)
    return Estimate(metric=name, values=values, ci_low=low, ci_high=high)


def _prediction_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Per group (column), the interval that holds a further draw with probability `level`; NaN draws left out.

    The realised metric is one more draw from the distribution the bootstrap samples, and a further draw falls
    below the j-th of B sorted draws with probability j / (B + 1). So the bounds sit at positions
    (B + 1)·(1 ∓ level) / 2 (numpy's "weibull" quantiles), not at those of `intervals.percentile`, whose
    interval holds a further draw with probability (B − 1)·level / (B + 1) (94% for 95% at B = 200).
    """
    low, high = np.full(samples.shape[1:], np.nan), np.full(samples.shape[1:], np.nan)
    defined = np.isfinite(samples).any(axis=0)
    if defined.any():
        tails = [(1 - level) / 2, (1 + level) / 2]
        low[defined], high[defined] = np.nanquantile(samples[:, defined], tails, axis=0, method="weibull")
    return low, high


def _rank_type(n_rows: int) -> type[np.signedinteger]:
    """int32 for doubled ranks (at most 2·rows) where they fit, else int64."""
    return np.int32 if 2 * n_rows < np.iinfo(np.int32).max else np.int64


@dataclass(frozen=True)
class _Ranking:
    """One score column in order of group, then score: its runs of tied scores and each row's midrank."""

    codes: np.ndarray
    scores: np.ndarray
    n_groups: int
    group_ends: np.ndarray
    run_starts: np.ndarray
    run_ends: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, scores: np.ndarray, n_groups: int) -> _Ranking:
        """From codes and scores sorted by (code, score); codes in [0, n_groups)."""
        n_rows = len(codes)
        new_run = np.empty(n_rows, dtype=bool)
        new_run[:1] = True
        np.not_equal(scores[1:], scores[:-1], out=new_run[1:])
        new_run[1:] |= codes[1:] != codes[:-1]
        run_starts = np.flatnonzero(new_run)
        run_ends = np.append(run_starts[1:], n_rows)
        group_ends = np.searchsorted(codes, np.arange(1, n_groups + 1))
        return cls(codes, scores, n_groups, group_ends, run_starts, run_ends)

    @property
    def group_sizes(self) -> np.ndarray:
        """Rows per group (int64)."""
        return np.diff(self.group_ends, prepend=0).astype(np.int64)

    @property
    def run_groups(self) -> np.ndarray:
        """The group of each run."""
        return self.codes[self.run_starts]

    @property
    def doubled_ranks(self) -> np.ndarray:
        """Twice each row's midrank within its group (1-based; tied scores share the mean of their ranks)."""
        group_starts = (self.group_ends - self.group_sizes)[self.run_groups]
        doubled = self.run_starts + self.run_ends + 1 - 2 * group_starts
        return np.repeat(doubled.astype(_rank_type(len(self.codes))), self.run_ends - self.run_starts)

    def expected_auc(self) -> Values:
        """`expected_roc_auc` from the runs: each run's rows share one p, so sums over rows are sums over runs."""
        if len(self.codes) == 0:
            nothing = np.zeros(self.n_groups)
            return empty_is_no_rows(divide(nothing, nothing, undefined=ONE_CLASS), self.group_sizes)
        group = self.run_groups
        rows = (self.run_ends - self.run_starts).astype(np.float64)
        p = self.scores[self.run_starts]
        positives, negatives = rows * p, rows * (1.0 - p)
        own_pairs = positives * (1.0 - p)  # Σ p(1 − p) over the run's rows: pairs of a row with itself
        below = np.cumsum(negatives)
        below -= negatives
        first_run = np.searchsorted(self.run_starts, self.group_ends - self.group_sizes)  # of each group
        below -= below[np.minimum(first_run, len(below) - 1)][group]  # negatives of earlier runs of the group
        ordered = positives * below
        ordered += 0.5 * (positives * negatives - own_pairs)  # ties count one half
        per_group = [np.bincount(group, weights=w, minlength=self.n_groups)
                     for w in (ordered, positives, negatives, own_pairs)]
        u, group_positives, group_negatives, own = per_group
        # With two rows or more, no pair is possible exactly when every p is 0 or every p is 1.
        possible = (self.group_sizes >= 2) & (group_positives > 0) & (group_negatives > 0)
        pairs = np.where(possible, group_positives * group_negatives - own, 0.0)
        return empty_is_no_rows(divide(u, pairs, undefined=ONE_CLASS), self.group_sizes)


def _segment_sums(x: np.ndarray, sizes: np.ndarray, dtype: type) -> np.ndarray:
    """Sums along the last axis over consecutive segments of the given sizes (empty segments sum to 0)."""
    out = np.zeros((*x.shape[:-1], len(sizes)), dtype=dtype)
    nonempty = sizes > 0
    if nonempty.any():
        starts = np.cumsum(sizes) - sizes
        out[..., nonempty] = np.add.reduceat(x, starts[nonempty], axis=-1, dtype=dtype)
    return out


def _draw_chunks(resamples: int, n_rows: int) -> tuple[int, list[tuple[int, int]]]:
    """Draws per chunk, and each chunk's (first draw, draws), keeping draws × rows within `CHUNK`."""
    per = max(1, min(resamples, CHUNK // max(n_rows, 1)))
    return per, [(first, min(per, resamples - first)) for first in range(0, resamples, per)]


def _rank_auc(doubled_rank_sums: np.ndarray, positives: np.ndarray, n: np.ndarray) -> np.ndarray:
    """ROC AUC from the positives' summed doubled midranks (Mann-Whitney U); NaN without both classes."""
    positives = positives.astype(np.float64)
    u = doubled_rank_sums / 2 - positives * (positives + 1) / 2
    return divide(u, positives * (n - positives), undefined=ONE_CLASS).value


def _realised_binary(
    ranking: _Ranking, predicted: np.ndarray, resamples: int, seed: int
) -> dict[str, np.ndarray]:
    """Realised accuracy, F1 and ROC AUC, shape (resamples, groups), over draws y* ~ Bernoulli(score).

    Rows are in order of (group, score), so each group's predicted negatives then predicted positives are
    consecutive: a draw's confusion counts and its positives' rank sums are sums over consecutive segments.
    """
    n_groups, n_rows = ranking.n_groups, len(ranking.codes)
    segment_sizes = np.bincount(ranking.codes * 2 + predicted, minlength=2 * n_groups)
    n = ranking.group_sizes
    positives = np.zeros((resamples, 2 * n_groups), dtype=np.int64)  # (predicted negative, predicted positive)
    rank_sums = np.zeros((resamples, n_groups), dtype=np.int64)
    if n_rows:
        doubled_ranks = ranking.doubled_ranks
        p = ranking.scores.astype(np.float32)  # 0 and 1 stay exact: uniforms are in [0, 1)
        per, chunks = _draw_chunks(resamples, n_rows)
        uniform = np.empty((per, n_rows), dtype=np.float32)
        label = np.empty((per, n_rows), dtype=bool)
        ranked = np.empty((per, n_rows), dtype=doubled_ranks.dtype)
        rng = np.random.default_rng(seed)
        for first, draws in chunks:
            u, y, r = uniform[:draws], label[:draws], ranked[:draws]
            rng.random(out=u, dtype=np.float32)
            np.less(u, p, out=y)
            positives[first:first + draws] = _segment_sums(y, segment_sizes, np.int64)
            np.multiply(y, doubled_ranks, out=r)
            rank_sums[first:first + draws] = _segment_sums(r, n, np.int64)
    fn, tp = positives[:, 0::2], positives[:, 1::2]
    predicted_negative, predicted_positive = segment_sizes[0::2], segment_sizes[1::2]
    c = Confusion(tp=tp, fp=predicted_positive - tp, tn=predicted_negative - fn, fn=fn)
    return {
        "accuracy": binary.accuracy(c).values().value,
        "f1": binary.f1(c).value,
        "roc_auc": _rank_auc(rank_sums, tp + fn, n),
    }


def _realised_multiclass(
    codes: np.ndarray, n_groups: int, probabilities: np.ndarray, predicted: np.ndarray,
    doubled_ranks: np.ndarray, resamples: int, seed: int,
) -> dict[str, np.ndarray]:
    """Realised accuracy, macro F1 and macro ROC AUC, shape (resamples, groups), over draws y* ~ Categorical(p).

    Rows are in order of (group, prediction): a draw's counts are sums over consecutive (group, predicted
    class) segments. `doubled_ranks[k]` holds each row's doubled midrank, within its group,
    of its class-k probability. A draw's label is the number of cumulative probabilities at or below a
    uniform (the last class takes what rounding leaves).
    """
    n_rows, n_classes = probabilities.shape
    segment_sizes = np.bincount(codes * n_classes + predicted, minlength=n_groups * n_classes)
    # Per draw, group and class: rows of the class predicted as it, rows of the class, their doubled rank sum.
    correct, labels, rank_sums = (np.zeros((resamples, n_groups, n_classes), dtype=np.int64) for _ in range(3))
    if n_rows:
        cumulative = np.ascontiguousarray(np.cumsum(probabilities, axis=1)[:, :-1].T, dtype=np.float32)
        per, chunks = _draw_chunks(resamples, n_rows)
        uniform = np.empty((per, n_rows), dtype=np.float32)
        label = np.empty((per, n_rows), dtype=np.uint8 if n_classes <= 256 else np.int32)
        flag = np.empty((per, n_rows), dtype=bool)
        ranked = np.empty((per, n_rows), dtype=doubled_ranks.dtype)
        rng = np.random.default_rng(seed)
        for first, draws in chunks:
            u, y, f, r = uniform[:draws], label[:draws], flag[:draws], ranked[:draws]
            drawn = slice(first, first + draws)
            rng.random(out=u, dtype=np.float32)
            y[...] = 0
            for bound in cumulative:
                np.greater_equal(u, bound, out=f)
                y += f
            for k in range(n_classes):
                np.equal(y, k, out=f)
                by_prediction = _segment_sums(f, segment_sizes, np.int64).reshape(draws, n_groups, n_classes)
                correct[drawn, :, k] = by_prediction[..., k]
                labels[drawn, :, k] = by_prediction.sum(axis=-1)
                np.multiply(f, doubled_ranks[k], out=r)
                rank_sums[drawn, :, k] = _segment_sums(r, segment_sizes, np.int64).reshape(
                    draws, n_groups, n_classes).sum(axis=-1)
    predictions = segment_sizes.reshape(n_groups, n_classes)
    n = predictions.sum(axis=-1)
    # Macro F1 as `multiclass.macro_f1`: per class 2·TP / (labels + predictions), averaged over the classes
    # that are a label or a prediction (kept per class rather than as K × K matrices per draw and group).
    seen = labels + predictions
    f1 = np.divide(2.0 * correct, seen, out=np.zeros(seen.shape), where=seen > 0)
    return {
        "accuracy": divide(correct.sum(axis=-1), n, undefined=EMPTY).value,
        "macro_f1": divide(f1.sum(axis=-1), (seen > 0).sum(axis=-1), undefined=EMPTY).value,
        "roc_auc_macro": _rank_auc(rank_sums, labels, n[:, None]).mean(axis=-1),  # NaN where a class lacks a side
    }
