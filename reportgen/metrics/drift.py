"""Drift of a column between reference rows and current rows: test statistics from sorted values or counts.

Numbers: the two-sample Kolmogorov–Smirnov test, the first Wasserstein distance and the population stability
index (PSI) on reference-quantile bins, from each side's values sorted once and merged (scipy's definitions:
`ks_2samp`, `wasserstein_distance`). Categories: Pearson's chi-square test of homogeneity (`chi2_contingency` without
continuity correction), the Jensen–Shannon distance (natural log, as `scipy.spatial.distance.jensenshannon`) and
the PSI, from the category counts. Time windows: each window's PSI and chi-square test against the reference, on
the same bins, from one bincount of window × bin codes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

PSI_FLOOR = 1e-4  # an empty bin counts as this share in the PSI, which an empty bin would make infinite
MIN_EXPECTED = 5  # chi-square: categories expected fewer times than this on either side are pooled into one
EXACT_KS_ROWS = 10_000  # as scipy's ks_2samp: exact p-values while neither side has more values


@dataclass(frozen=True)
class NumberDrift:
    """A number column's drift from the reference.

    Attributes
    ----------
    ks, ks_p : float
        The Kolmogorov–Smirnov statistic (the largest gap between the two empirical distribution
        functions) and its two-sided p-value (exact while neither side has more than `EXACT_KS_ROWS`
        values, else Smirnov's asymptotic distribution, as scipy's ``ks_2samp``, which also falls back to it
        where the exact computation fails).
    wasserstein : float
        The first Wasserstein distance, in the column's units.
    spread : float
        The reference's standard deviation (ddof 0): `wasserstein / spread` is the distance in
        reference standard deviations, undefined where the reference is constant.
    psi : float
        The PSI on `edges`' bins.
    edges : ndarray
        Inner edges of the PSI bins: the reference's quantiles at 1/bins, …, (bins − 1)/bins (linear
        interpolation, as ``np.quantile``), distinct;
        a value v is in bin ``searchsorted(edges, v, side="right")``.
    reference_counts, current_counts : ndarray of int64
        Values per PSI bin.
    """

    ks: float
    ks_p: float
    wasserstein: float
    spread: float
    psi: float
    edges: np.ndarray
    reference_counts: np.ndarray
    current_counts: np.ndarray


@dataclass(frozen=True)
class CategoryDrift:
    """A category column's drift from the reference.

    Attributes
    ----------
    chi2, chi2_p : float
        Pearson's chi-square statistic of homogeneity on the 2 × categories table and its p-value (NaN
        with fewer than two categories after pooling: no test).
    dof : int
        Its degrees of freedom.
    pooled : int
        Categories pooled into one cell because they were expected fewer than `MIN_EXPECTED` times.
    jensen_shannon : float
        The Jensen–Shannon distance between the two category distributions (natural log: 0 to √ln 2).
    psi : float
        The PSI over the categories.
    """

    chi2: float
    chi2_p: float
    dof: int
    pooled: int
    jensen_shannon: float
    psi: float


@dataclass(frozen=True)
class WindowDrift:
    """A column's drift from the reference in each time window, on the column's bins (numbers: the PSI bins;
    categories: the categories).

    Attributes
    ----------
    n : ndarray of int64
        Values per window (missing values not counted).
    psi : ndarray of float64
        Each window's PSI against the reference; NaN where the window has no values.
    chi2, p_value : ndarray of float64
        Each window's chi-square test of homogeneity with the reference (as `CategoryDrift`); NaN where
        there is no test.
    """

    n: np.ndarray
    psi: np.ndarray
    chi2: np.ndarray
    p_value: np.ndarray


def number_drift(reference: np.ndarray, current: np.ndarray, bins: int) -> NumberDrift:
    """Kolmogorov–Smirnov, Wasserstein and PSI between two samples of finite numbers (each at least one value).

    Examples
    --------
    >>> drift = number_drift(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]), bins=2)
    >>> drift.ks, drift.wasserstein, drift.edges.tolist(), drift.current_counts.tolist()
    (0.5, 2.0, [2.5], [0, 4])
    """
    reference, current = np.sort(reference), np.sort(current)
    values, gaps = _distribution_gaps(reference, current)
    ks = float(np.abs(gaps).max())
    edges = np.unique(sorted_quantiles(reference, np.arange(1, bins) / bins))
    reference_counts, current_counts = bin_counts(reference, edges), bin_counts(current, edges)
    return NumberDrift(
        ks=ks,
        ks_p=_ks_p(reference, current, ks),
        # the gap between each value and the next; not np.dot, whose BLAS threads spin on after and take the core
        # the other columns' worker wants
        wasserstein=float(np.sum(np.abs(gaps[:-1]) * np.diff(values))),
        spread=float(np.std(reference)),
        psi=float(psi(reference_counts, current_counts)),
        edges=edges,
        reference_counts=reference_counts,
        current_counts=current_counts,
    )


def category_drift(reference_counts: np.ndarray, current_counts: np.ndarray) -> CategoryDrift:
    """Chi-square, Jensen–Shannon and PSI between two samples' counts over the same categories (each side at
    least one value).

    Examples
    --------
    >>> drift = category_drift(np.array([50, 50]), np.array([30, 70]))
    >>> round(drift.chi2, 4), drift.dof, round(drift.jensen_shannon, 4)
    (8.3333, 1, 0.1449)
    """
    reference_counts = np.asarray(reference_counts, dtype=np.float64)
    current_counts = np.asarray(current_counts, dtype=np.float64)
    statistic, dof, pooled = category_homogeneity(reference_counts, current_counts[np.newaxis, :])
    return CategoryDrift(
        chi2=float(statistic[0]),
        chi2_p=float(stats.chi2.sf(statistic[0], dof[0])) if dof[0] > 0 else float("nan"),
        dof=int(dof[0]),
        pooled=int(pooled[0]),
        jensen_shannon=jensen_shannon(reference_counts, current_counts),
        psi=float(psi(reference_counts, current_counts)),
    )


def window_bin_counts(codes: np.ndarray, bins: np.ndarray, n_windows: int, n_bins: int) -> np.ndarray:
    """The current rows per window and bin (windows × bins), from each row's window `codes` and `bins`; rows with
    either below 0 (missing) are left out."""
    kept = (codes >= 0) & (bins >= 0)
    counts = np.bincount(codes[kept].astype(np.int64) * n_bins + bins[kept], minlength=n_windows * n_bins)
    return counts.reshape(n_windows, n_bins)


def window_drift(reference_counts: np.ndarray, counts: np.ndarray) -> WindowDrift:
    """Each window's PSI and chi-square test against the reference's counts over the same bins; `counts` are the
    current rows per window and bin (windows × bins, `window_bin_counts`)."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum(axis=1)
    statistic, dof, _ = category_homogeneity(np.asarray(reference_counts, dtype=np.float64), counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = np.where(dof > 0, stats.chi2.sf(statistic, np.maximum(dof, 1)), np.nan)
        shares = counts / n[:, np.newaxis]
    return WindowDrift(
        n=n.astype(np.int64),
        psi=np.where(n > 0, psi(reference_counts, shares), np.nan),
        chi2=np.where(dof > 0, statistic, np.nan),
        p_value=p_value,
    )


def category_homogeneity(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson's chi-square test of homogeneity of the reference's counts with each row of `current` (windows ×
    categories): the statistic, its degrees of freedom and the categories pooled, per row.

    Categories expected fewer than `MIN_EXPECTED` times on either side of a row are pooled into one cell
    (Cochran's rule), and categories without counts on either side dropped; the test is then
    ``chi2_contingency(table, correction=False)`` on the 2 × remaining cells. Degrees of freedom 0: no test.
    """
    both = reference[np.newaxis, :] + current
    n_reference, n_current = reference.sum(), current.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = both / (n_reference + n_current)
    rare = (np.minimum(n_reference, n_current) * share < MIN_EXPECTED) & (both > 0)
    pooled_reference = np.where(rare, reference, 0).sum(axis=1, keepdims=True)
    pooled_current = np.where(rare, current, 0).sum(axis=1, keepdims=True)
    reference_cells = np.concatenate([np.where(rare, 0, np.broadcast_to(reference, both.shape)), pooled_reference], 1)
    current_cells = np.concatenate([np.where(rare, 0, current), pooled_current], axis=1)
    totals = reference_cells + current_cells
    used = totals > 0
    dof = used.sum(axis=1) - 1
    grand = n_reference + n_current
    with np.errstate(invalid="ignore", divide="ignore"):
        expected_reference = totals * (n_reference / grand)
        expected_current = totals * (n_current / grand)
        terms = ((reference_cells - expected_reference) ** 2 / expected_reference
                 + (current_cells - expected_current) ** 2 / expected_current)
    statistic = np.where(used, terms, 0.0).sum(axis=1)
    testable = (dof > 0) & (n_current[:, 0] > 0)
    return np.where(testable, statistic, 0.0), np.where(testable, dof, 0), rare.sum(axis=1)


def jensen_shannon(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """The Jensen–Shannon distance between two count vectors' distributions, natural log (scipy's ``jensenshannon``)."""
    p = reference_counts / reference_counts.sum()
    q = current_counts / current_counts.sum()
    m = (p + q) / 2
    divergence = (np.sum(_relative_entropy(p, m)) + np.sum(_relative_entropy(q, m))) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def psi(reference_counts: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Population stability index, sum of (c − r) · ln(c / r) over the bins of the reference's and current shares,
    an empty bin's share taken as `PSI_FLOOR`; `current` may be counts of one sample or shares of each window
    (windows × bins)."""
    current = np.asarray(current, dtype=np.float64)
    r = np.maximum(reference_counts / np.sum(reference_counts), PSI_FLOOR)
    c = np.maximum(current / current.sum(axis=-1, keepdims=True), PSI_FLOOR)
    return np.sum((c - r) * np.log(c / r), axis=-1)


def number_bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's PSI bin (see `NumberDrift.edges`); -1 where it is NaN."""
    return np.where(np.isnan(values), -1, np.searchsorted(edges, values, side="right"))


def _distribution_gaps(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct value of two sorted samples, in order, and the reference's empirical distribution function
    minus the current one's there (0 at the last), from one merge of the two: every reference value's place among
    the current ones, then running counts."""
    n_reference, n_current = len(reference), len(current)
    at = np.arange(n_reference) + np.searchsorted(current, reference, side="left")
    from_reference = np.zeros(n_reference + n_current, dtype=bool)
    from_reference[at] = True
    merged = np.empty(n_reference + n_current)
    merged[at] = reference
    merged[~from_reference] = current
    ends = np.flatnonzero(np.append(merged[1:] != merged[:-1], True))  # the last of each run of equal values
    below = np.cumsum(from_reference)[ends]
    return merged[ends], below / n_reference - (ends + 1 - below) / n_current


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Values per bin of sorted values: below the first inner edge, between each two, from the last on (a value on
    an edge is in the bin the edge opens)."""
    below = np.searchsorted(sorted_values, edges, side="left")  # values under each edge
    return np.diff(np.concatenate([[0], below, [len(sorted_values)]])).astype(np.int64)


def sorted_quantiles(sorted_values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(values, q)`` (linear interpolation) of values already sorted, without sorting them again."""
    position = np.asarray(q, dtype=np.float64) * (len(sorted_values) - 1)
    low = np.floor(position).astype(np.int64)
    below, above = sorted_values[low], sorted_values[np.minimum(low + 1, len(sorted_values) - 1)]
    t = position - low
    step = above - below
    return np.where(t >= 0.5, above - step * (1 - t), below + step * t)  # numpy's interpolation, to the bit


def _ks_p(reference: np.ndarray, current: np.ndarray, ks: float) -> float:
    """The two-sided p-value of the KS statistic, as scipy's ``ks_2samp(method="auto")`` gives it."""
    return ks_p_value(ks, len(reference), len(current), lambda: (reference, current))


def ks_p_value(ks: float, m: int, n: int, samples: Callable[[], tuple[np.ndarray, np.ndarray]]) -> float:
    """The two-sided p-value of the KS statistic `ks` of samples of `m` and `n` values, as scipy's
    ``ks_2samp(method="auto")`` gives it: exact while neither has more than `EXACT_KS_ROWS` values (then `samples`
    gives them), else Smirnov's asymptotic distribution."""
    if max(m, n) <= EXACT_KS_ROWS:
        reference, current = samples()
        with warnings.catch_warnings():  # where the exact computation fails scipy says so and uses the asymptotic one
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(stats.ks_2samp(reference, current).pvalue)
    m_, n_ = float(m), float(n)
    return float(np.clip(stats.kstwo.sf(ks, np.round(m_ * n_ / (m_ + n_))), 0.0, 1.0))


def _relative_entropy(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(p > 0, p * np.log(p / np.where(m > 0, m, 1.0)), 0.0)
