"""The shared statistical tests, from per-group sufficient statistics, and Benjamini–Hochberg's adjustment.

Two groups: the pooled two-proportion z-test (counts) and Welch's z-test (means, from sums and sums of
squares). Many groups at once, "is the value equal in every group?": the chi-square test of homogeneity
(proportions) and Welch's ANOVA (means). Every p-value is two-sided and unadjusted; NaN where a test is
undefined (fewer than two groups with data).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as scipy_stats

from reportgen.metrics.intervals import mean_and_variance
from reportgen.metrics.metric import Fraction, Mean


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q


def two_sided(z: np.ndarray) -> np.ndarray:
    """Two-sided p-values of standard normal statistics; NaN where a statistic is not finite."""
    # erfc keeps p-values far below 1e-16, which 1 - cdf (or 1 + erf) would round to 0
    return np.array([math.erfc(abs(v) / math.sqrt(2)) if np.isfinite(v) else np.nan for v in np.atleast_1d(z)])


def two_proportions(k1: np.ndarray, m1: np.ndarray, k2: np.ndarray, m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k1/m1 − k2/m2 and the two-sided p-value of the pooled two-proportion z-test, element-wise.

    The p-value is 1 where the pooled proportion is 0 or 1 (both samples alike), NaN where a
    denominator is 0.
    """
    k1, m1, k2, m2 = (np.asarray(a, dtype=np.float64) for a in (k1, m1, k2, m2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / m1, k2 / m2
        pooled = (k1 + k2) / (m1 + m2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / m1 + 1 / m2))
    z = np.where((pooled > 0) & (pooled < 1), z, 0.0)
    return p1 - p2, np.where((m1 > 0) & (m2 > 0), two_sided(z), np.nan)


Moments = tuple[np.ndarray, np.ndarray, np.ndarray]  # (sum, sum of squares, n) of a per-row value, per group


def welch(first: Moments, second: Moments) -> tuple[np.ndarray, np.ndarray]:
    """Difference of two means and the two-sided p-value of Welch's z-test (normal tail), element-wise.

    NaN where either side has fewer than two rows or both have zero variance.
    """
    mean_1, variance_1 = mean_and_variance(*first)
    mean_2, variance_2 = mean_and_variance(*second)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean_1 - mean_2) / np.sqrt(variance_1 + variance_2)
    return mean_1 - mean_2, two_sided(z)


def against_rest(measure: Fraction | Mean, overall: Fraction | Mean) -> tuple[np.ndarray, np.ndarray]:
    """Each group's value minus the rest of the data's, and the two-sided p-value of that difference.

    Proportions: the pooled two-proportion z-test; means: Welch's z-test. The rest is the whole
    data set (`overall`, one group) less the group, so the two samples are disjoint.
    """
    if isinstance(measure, Fraction):
        assert isinstance(overall, Fraction)
        k, m = measure.numerator, measure.denominator
        return two_proportions(k, m, overall.numerator[0] - k, overall.denominator[0] - m)
    assert isinstance(overall, Mean)
    rest = (overall.total[0] - measure.total, overall.squares[0] - measure.squares, overall.n[0] - measure.n)
    return welch((measure.total, measure.squares, measure.n), rest)


def homogeneity(k: np.ndarray, m: np.ndarray) -> tuple[float, int]:
    """Chi-square statistic and degrees of freedom of "the proportion k/m is equal in every group".

    Pearson's test of homogeneity on the groups × (k, m − k) table, without continuity correction
    (scipy's ``chi2_contingency(correction=False)``), over the groups with m > 0; the statistic is 0
    where the pooled proportion is 0 or 1, and the degrees of freedom 0 (no test) with fewer than
    two such groups.
    """
    k, m = np.asarray(k, dtype=np.float64), np.asarray(m, dtype=np.float64)
    defined = m > 0
    k, m = k[defined], m[defined]
    if len(m) < 2:
        return 0.0, 0
    pooled = k.sum() / m.sum()
    if pooled <= 0 or pooled >= 1:
        return 0.0, len(m) - 1
    return float(np.sum((k - m * pooled) ** 2 / m) / (pooled * (1 - pooled))), len(m) - 1


def chi_square_p(statistic: float, df: int) -> float:
    """Upper tail of the chi-square distribution (the p-value of `homogeneity`, or of a sum of them); NaN for no test."""
    return float(scipy_stats.chi2.sf(statistic, df)) if df > 0 else math.nan


def welch_anova(total: np.ndarray, squares: np.ndarray, n: np.ndarray) -> float:
    """P-value of Welch's ANOVA, "the mean is equal in every group", from each group's sum, sum of squares and n.

    Over the groups with at least two rows and a positive variance; NaN with fewer than two. For
    two groups it is Welch's t-test (F = t², on Welch–Satterthwaite's degrees of freedom).
    """
    mean, variance = mean_and_variance(total, squares, n)  # variance of each group's mean
    n = np.asarray(n, dtype=np.float64)
    used = (n >= 2) & (variance > 0)
    if used.sum() < 2:
        return math.nan
    mean, weight, n = mean[used], 1 / variance[used], n[used]
    groups = len(mean)
    centre = np.sum(weight * mean) / weight.sum()
    spread = np.sum(weight * (mean - centre) ** 2) / (groups - 1)
    lam = np.sum((1 - weight / weight.sum()) ** 2 / (n - 1))
    statistic = spread / (1 + 2 * (groups - 2) * lam / (groups**2 - 1))
    return float(scipy_stats.f.sf(statistic, groups - 1, (groups**2 - 1) / (3 * lam)))
