"""Evaluate a task's registry metrics for the groups of one slice family, with intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from reportgen.metrics import intervals
from reportgen.metrics.metric import Bounds, Fraction, Metric
from reportgen.metrics.values import EMPTY, Values

COLUMNS = ["slice", "group", "metric", "value", "ci_low", "ci_high", "n", "support", "support_unit", "undefined_reason"]


def metric_frame(
    name: str,
    labels: list[str],
    stats: Any,
    metrics: Sequence[Metric],
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
    stats : object
        The family's statistics: an `n` array (rows per group) and one attribute per metric `source`.
    metrics : sequence of Metric
        The task's registry (or part of it).
    level : float or None
        Confidence level of the intervals; None computes no intervals.
    resamples : int
        Bayesian-bootstrap replicates for the metrics of count cells without a closed-form interval.
    rng : numpy Generator, optional
        Source of the bootstrap draws; required when `level` is set and a metric bootstraps.

    Returns
    -------
    DataFrame
        Columns slice, group, metric, value, ci_low, ci_high, n (rows), support (the rows the value rests
        on, `Metric.supports`), support_unit (what support counts), undefined_reason.
    """
    n_groups = len(labels)
    replicates: dict[str, Any] = {}
    values, lows, highs, reasons = [], [], [], []
    supports = [metric.supports(getattr(stats, metric.source)) for metric in metrics]
    empty = np.asarray(stats.n) == 0
    for metric in metrics:
        source = getattr(stats, metric.source)
        result = metric.values(source)
        # an undefined value of an empty group: the reason is that it has no rows (e.g. not "no predicted positives")
        result = Values(result.value, np.where(empty & np.isnan(result.value), EMPTY, result.reason).astype(object))
        if level is not None and metric.interval == intervals.BAYESIAN_BOOTSTRAP and metric.source not in replicates:
            assert rng is not None, "a random generator is needed for bootstrap intervals"
            replicates[metric.source] = intervals.posterior_counts(source, resamples, rng)
        low, high = _interval(metric, source, result.value, replicates.get(metric.source), level, n_groups)
        values.append(result.value)
        lows.append(low)
        highs.append(high)
        reasons.append(result.reason)
    return pd.DataFrame(
        {
            "slice": pd.Series([name] * (n_groups * len(metrics)), dtype=object),
            "group": pd.Series(list(labels) * len(metrics), dtype=object),
            "metric": pd.Series(np.repeat([m.name for m in metrics], n_groups), dtype=object),
            "value": np.concatenate(values) if metrics else np.zeros(0),
            "ci_low": np.concatenate(lows) if metrics else np.zeros(0),
            "ci_high": np.concatenate(highs) if metrics else np.zeros(0),
            "n": np.tile(np.asarray(stats.n, dtype=np.int64), len(metrics)),
            "support": np.concatenate([s.count for s in supports]) if metrics else np.zeros(0, dtype=np.int64),
            "support_unit": pd.Series(np.repeat([s.unit for s in supports], n_groups), dtype=object),
            "undefined_reason": pd.Series(np.concatenate(reasons) if metrics else [], dtype=object),
        }
    )


def _interval(
    metric: Metric, source: Any, value: np.ndarray, replicates: Any, level: float | None, n_groups: int
) -> Bounds:
    nothing = np.full(n_groups, np.nan)
    if level is None or metric.interval is None:
        return nothing, nothing
    if metric.interval == "wilson":
        fraction = metric.compute(source)
        assert isinstance(fraction, Fraction)
        low, high = intervals.wilson(fraction.numerator, fraction.denominator, level)
    elif metric.interval == intervals.BAYESIAN_BOOTSTRAP:
        low, high = intervals.percentile(metric.values(replicates).value, level, n=source.n)
        low, high = np.minimum(low, value), np.maximum(high, value)  # a value on the edge (F1 = 1) is a bound
    else:
        assert metric.confidence is not None, f"{metric.name}: no way to compute its {metric.interval} interval"
        low, high = metric.confidence(source, value, level)
    defined = np.isfinite(value)
    return np.where(defined, low, np.nan), np.where(defined, high, np.nan)
