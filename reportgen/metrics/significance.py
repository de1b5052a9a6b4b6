"""The shared statistical tests: a group against the rest of the data, and Benjamini–Hochberg's adjustment."""

from __future__ import annotations

import math

import numpy as np

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


def against_rest(measure: Fraction | Mean, overall: Fraction | Mean) -> tuple[np.ndarray, np.ndarray]:
    """Each group's value minus the rest of the data's, and the two-sided p-value of that difference.

    Proportions: the pooled two-proportion z-test; means: Welch's z-test. The rest is the whole
    data set (`overall`, one group) less the group, so the two samples are disjoint.
    """
    if isinstance(measure, Fraction):
        assert isinstance(overall, Fraction)
        k, m = measure.numerator.astype(np.float64), measure.denominator.astype(np.float64)
        k_rest, m_rest = overall.numerator[0] - k, overall.denominator[0] - m
        with np.errstate(divide="ignore", invalid="ignore"):
            p1, p2 = k / m, k_rest / m_rest
            pooled = (k + k_rest) / (m + m_rest)
            z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / m + 1 / m_rest))
        z = np.where((pooled > 0) & (pooled < 1), z, 0.0)
        return p1 - p2, two_sided(z)
    assert isinstance(overall, Mean)
    mean, variance = mean_and_variance(measure.total, measure.squares, measure.n)
    mean_rest, variance_rest = mean_and_variance(
        overall.total[0] - measure.total, overall.squares[0] - measure.squares, overall.n[0] - measure.n
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean - mean_rest) / np.sqrt(variance + variance_rest)
    return mean - mean_rest, two_sided(z)
