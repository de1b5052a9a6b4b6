"""Evaluate every registry metric for the groups of one slice family, with intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.metrics import intervals
from reportgen.metrics.binary import METRICS, Fraction, Metric
from reportgen.metrics.statistics import Confusion, Rows, ScoreStats, confusion, score_stats

COLUMNS = ["slice", "group", "metric", "value", "ci_low", "ci_high", "n", "undefined_reason"]


@dataclass(frozen=True)
class GroupStats:
    """Sufficient statistics of one slice family's groups."""

    confusion: Confusion
    scores: ScoreStats


def group_stats(codes: np.ndarray, rows: Rows, n_groups: int) -> GroupStats:
    """All sufficient statistics of a family: one bincount pass and one stable sort.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups), negative for rows in no group.
    rows : Rows
        Shared per-row arrays.
    n_groups : int
        Number of groups.
    """
    return GroupStats(confusion(codes, rows, n_groups), score_stats(codes, rows, n_groups))


def metric_frame(
    name: str,
    labels: list[str],
    stats: GroupStats,
    *,
    level: float | None,
    resamples: int = 1000,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Tidy table of every metric for every group of one family.

    Parameters
    ----------
    name : str
        The slice family's name (the `slice` column).
    labels : list of str
        Group labels (the `group` column), one per group.
    stats : GroupStats
        The family's statistics.
    level : float or None
        Confidence level of the intervals; None computes no intervals.
    resamples : int
        Bootstrap replicates for the metrics without a closed-form interval.
    rng : numpy Generator, optional
        Source of the bootstrap draws; required when `level` is set.

    Returns
    -------
    DataFrame
        Columns slice, group, metric, value, ci_low, ci_high, n, undefined_reason.
    """
    n_groups = len(labels)
    replicates = None
    if level is not None and any(m.interval == "bootstrap" for m in METRICS):
        assert rng is not None, "a random generator is needed for bootstrap intervals"
        replicates = intervals.resample_confusion(stats.confusion, resamples, rng)
    values, lows, highs, reasons = [], [], [], []
    for metric in METRICS:
        source = stats.confusion if metric.source == "confusion" else stats.scores
        result = metric.values(source)
        low, high = _interval(metric, source, result.value, replicates, level, n_groups)
        values.append(result.value)
        lows.append(low)
        highs.append(high)
        reasons.append(result.reason)
    return pd.DataFrame(
        {
            "slice": pd.Series([name] * (n_groups * len(METRICS)), dtype=object),
            "group": pd.Series(list(labels) * len(METRICS), dtype=object),
            "metric": pd.Series(np.repeat([m.name for m in METRICS], n_groups), dtype=object),
            "value": np.concatenate(values),
            "ci_low": np.concatenate(lows),
            "ci_high": np.concatenate(highs),
            "n": np.tile(np.asarray(stats.confusion.n, dtype=np.int64), len(METRICS)),
            "undefined_reason": pd.Series(np.concatenate(reasons), dtype=object),
        }
    )


def _interval(
    metric: Metric,
    source: Confusion | ScoreStats,
    value: np.ndarray,
    replicates: Confusion | None,
    level: float | None,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    nothing = np.full(n_groups, np.nan)
    if level is None or metric.interval is None:
        return nothing, nothing
    if metric.interval == "wilson":
        fraction = metric.compute(source)
        assert isinstance(fraction, Fraction)
        low, high = intervals.wilson(fraction.numerator, fraction.denominator, level)
    elif metric.interval == "bootstrap":
        assert replicates is not None
        low, high = intervals.percentile(metric.values(replicates).value, level)
    elif metric.interval == "delong":
        assert isinstance(source, ScoreStats)
        low, high = intervals.delong(source, value, level)
    else:
        assert isinstance(source, ScoreStats) and metric.moments is not None
        total, squares = metric.moments(source)
        low, high = intervals.normal_mean(total, squares, source.n, level)
    defined = np.isfinite(value)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)
