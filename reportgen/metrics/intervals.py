"""Confidence intervals that cost O(groups × resamples), never O(rows × resamples)."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np

from reportgen.metrics.statistics import ScoreStats

CountCells = Any  # statistics offering `cells()` and `from_cells`, such as `Confusion`


def z_value(level: float) -> float:
    """Two-sided standard-normal quantile for a confidence level (1.96 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(numerator: np.ndarray, denominator: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion per group; NaN where the denominator is 0."""
    k = np.asarray(numerator, dtype=np.float64)
    n = np.asarray(denominator, dtype=np.float64)
    z = z_value(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        scale = 1 + z**2 / n
        center = (p + z**2 / (2 * n)) / scale
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / scale
    # Rounding can put a bound a hair past p at 0/n or n/n; the interval always contains p.
    low, high = np.clip(np.fmin(center - half, p), 0, 1), np.clip(np.fmax(center + half, p), 0, 1)
    return np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)


def resample_counts(counts: CountCells, resamples: int, rng: np.random.Generator) -> CountCells:
    """Bootstrap replicates of each group's count cells (a confusion matrix, binary or multiclass).

    Drawing the cells of a group of n rows from Multinomial(n, cells / n) is the same
    distribution as resampling its n rows with replacement, at O(groups × cells × resamples) cost.

    Parameters
    ----------
    counts : object
        Statistics with `cells()`, counts of shape (groups, cells), and `from_cells` (its inverse).

    Returns
    -------
    object
        The same type, with arrays of shape (resamples, groups, ...).
    """
    cells = counts.cells().astype(np.float64)
    n = cells.sum(axis=1)
    uniform = np.full_like(cells, 1.0 / cells.shape[1])
    probabilities = np.divide(cells, n[:, None], out=uniform, where=n[:, None] > 0)
    drawn = rng.multinomial(n.astype(np.int64), probabilities, size=(resamples, len(n)))
    return type(counts).from_cells(drawn)


def percentile(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring undefined (NaN) replicates."""
    alpha = (1 - level) / 2
    defined = np.isfinite(samples).any(axis=0)
    safe = np.where(defined[None, :], samples, 0.0)
    with np.errstate(invalid="ignore"):
        low, high = np.nanquantile(safe, [alpha, 1 - alpha], axis=0)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)


def delong(s: ScoreStats, auc: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's normal interval for the AUC per group; NaN with fewer than two of either class."""
    m = s.n_pos.astype(np.float64)
    n = s.n_neg.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        var10 = (s.v10_sq - m * auc**2) / (m - 1)
        var01 = (s.v01_sq - n * auc**2) / (n - 1)
        se = np.sqrt(np.maximum(var10 / m + var01 / n, 0.0))
    z = z_value(level)
    ok = (m >= 2) & (n >= 2)
    return np.where(ok, np.clip(auc - z * se, 0, 1), np.nan), np.where(ok, np.clip(auc + z * se, 0, 1), np.nan)


def mean_and_variance(
    total: np.ndarray, squares: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The mean of a per-row value and the variance of that mean (sample variance / n), per group.

    From the value's sum and sum of squares; NaN or infinite where a group has fewer than two rows.
    """
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.asarray(total, dtype=np.float64) / n
        return mean, np.maximum(squares - n * mean**2, 0.0) / (n - 1) / n


def normal_mean(
    total: np.ndarray, squares: np.ndarray, n: np.ndarray, level: float, *, nonnegative: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Normal interval of a mean from its sum and sum of squares; NaN with fewer than two rows.

    With `nonnegative` (a mean of losses) the lower bound is clipped at 0.
    """
    mean, variance = mean_and_variance(total, squares, n)
    with np.errstate(invalid="ignore"):
        half = z_value(level) * np.sqrt(variance)
    ok = np.asarray(n) >= 2
    low = np.maximum(mean - half, 0.0) if nonnegative else mean - half
    return np.where(ok, low, np.nan), np.where(ok, mean + half, np.nan)


def mean_difference(
    first: tuple[np.ndarray, np.ndarray, np.ndarray],
    second: tuple[np.ndarray, np.ndarray, np.ndarray],
    level: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Normal (Welch) interval of the difference of two means, each given as (sum, sum of squares, n).

    NaN where either side has fewer than two rows.
    """
    mean_1, variance_1 = mean_and_variance(*first)
    mean_2, variance_2 = mean_and_variance(*second)
    with np.errstate(invalid="ignore"):
        half = z_value(level) * np.sqrt(variance_1 + variance_2)
    difference = mean_1 - mean_2
    ok = (np.asarray(first[2]) >= 2) & (np.asarray(second[2]) >= 2)
    return np.where(ok, difference - half, np.nan), np.where(ok, difference + half, np.nan)


def newcombe(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of the difference of two proportions k1/n1 - k2/n2 (Newcombe's hybrid score method).

    Combines the two Wilson intervals (Newcombe 1998, method 10); keeps its coverage for small
    groups and proportions near 0 or 1, where a bootstrap collapses. NaN where a denominator is 0.
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    l1, u1 = wilson(k1, n1, level)
    l2, u2 = wilson(k2, n2, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def katz_ratio(
    k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of the ratio of two proportions (k1/n1) / (k2/n2), Katz's log method.

    Where a count is 0, 0.5 is added to each cell of that pair's 2×2 table (Haldane-Anscombe):
    k + 0.5 and n + 1; when the numerator's count is 0 the observed ratio is 0, and so is the lower bound.
    NaN where a denominator is 0.
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=np.float64) for a in (k1, n1, k2, n2))
    zero = (k1 == 0) | (k2 == 0)
    k1c, k2c = np.where(zero, k1 + 0.5, k1), np.where(zero, k2 + 0.5, k2)
    n1c, n2c = np.where(zero, n1 + 1, n1), np.where(zero, n2 + 1, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log((k1c / n1c) / (k2c / n2c))
        se = np.sqrt(1 / k1c - 1 / n1c + 1 / k2c - 1 / n2c)
    z = z_value(level)
    ok = (n1 > 0) & (n2 > 0)
    low, high = np.exp(log_ratio - z * se), np.exp(log_ratio + z * se)
    low = np.where(k1 == 0, 0.0, low)  # a ratio of 0 is observed: the interval starts there
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)
