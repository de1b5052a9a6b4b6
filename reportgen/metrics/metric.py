"""What a metric is: the statistics it is computed from, its interval method, its direction and its support.

Each task (binary, multiclass, regression) lists its metrics in one registry of `Metric` entries,
which tables, the JSON, findings and the oracle tests iterate.

A metric's support is how many rows its value rests on in each group: a proportion's denominator
(the positives for recall, the predicted positives for precision), the smaller class for a ROC
AUC, the rows otherwise. `[report] min_support` applies to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reportgen.metrics.values import Values, divide

Bounds = tuple[np.ndarray, np.ndarray]

ROWS = "rows"
POSITIVES = "positives"
NEGATIVES = "negatives"
PREDICTED_POSITIVES = "predicted positives"
SMALLER_CLASS = "rows of the smaller class"


@dataclass(frozen=True)
class Support:
    """How many rows a metric's value rests on, per group, and what those rows are.

    Attributes
    ----------
    count : ndarray of int64
        Per group (or resample × group).
    unit : str
        What `count` counts, a plural noun phrase read after the number: "rows", "positives",
        "negatives", "predicted positives", "rows of the smaller class", ...
    """

    count: np.ndarray
    unit: str


def rows(source: Any) -> Support:
    """The rows of each group (a statistics object's `n`): the support of a metric of every row."""
    return Support(np.asarray(source.n, dtype=np.int64), ROWS)


def smaller_class(source: Any) -> Support:
    """The fewer of the positives and negatives (`n_pos`, `n_neg`): the support of a ROC AUC."""
    return Support(np.minimum(source.n_pos, source.n_neg).astype(np.int64), SMALLER_CLASS)


def positives(source: Any) -> Support:
    """The positive labels (`n_pos`): the support of a metric of the positives' scores (average precision)."""
    return Support(np.asarray(source.n_pos, dtype=np.int64), POSITIVES)


@dataclass(frozen=True)
class Fraction:
    """A proportion-type metric: numerator and denominator counts per group."""

    numerator: np.ndarray
    denominator: np.ndarray
    undefined: str
    unit: str = ROWS  # what the denominator counts (see `Support`)

    def values(self) -> Values:
        """The proportion, undefined where the denominator is 0."""
        return divide(self.numerator, self.denominator, undefined=self.undefined)

    def support(self) -> Support:
        """The denominator, with what it counts."""
        return Support(np.asarray(self.denominator, dtype=np.int64), self.unit)


@dataclass(frozen=True)
class Mean:
    """A mean-type metric: per-group sum and sum of squares of a per-row value, and the row count."""

    total: np.ndarray
    squares: np.ndarray
    n: np.ndarray
    undefined: str

    def values(self) -> Values:
        """The mean, undefined where the group is empty."""
        return divide(self.total, self.n, undefined=self.undefined)


@dataclass(frozen=True)
class Metric:
    """A registry entry.

    Attributes
    ----------
    name : str
        Public name in JSON, tables, configs.
    label : str
        Display label.
    source : str
        The attribute of the task's statistics object that `compute` takes (e.g. "confusion").
    compute : callable
        Statistics → `Fraction` (proportion metrics) or `Values`.
    interval : str or None
        How its confidence interval is computed, as the card names it: "wilson" (from the
        `Fraction`), `intervals.BAYESIAN_BOOTSTRAP` (resampling of the source's count cells, which
        must offer `cells()` and `from_cells`), another method computed by `confidence`, or None.
    higher_is_better : bool or None
        Direction, None where neither is better (count, prevalence, selection rate).
    confidence : callable, optional
        For closed-form intervals other than Wilson: (statistics, values, level) → (low, high).
    support : callable, optional
        Statistics → `Support`, for a metric whose value rests on fewer rows than its group's and
        is not a `Fraction` (e.g. `smaller_class` for a ROC AUC). Without it: a `Fraction`'s
        denominator, else the group's rows.
    """

    name: str
    label: str
    source: str
    compute: Callable[[Any], Fraction | Values]
    interval: str | None
    higher_is_better: bool | None
    confidence: Callable[[Any, np.ndarray, float], Bounds] | None = None
    support: Callable[[Any], Support] | None = None

    def values(self, source: Any) -> Values:
        """Evaluate the metric on its statistics (the `source` attribute of a task's statistics)."""
        result = self.compute(source)
        return result.values() if isinstance(result, Fraction) else result

    def supports(self, source: Any) -> Support:
        """How many rows the metric's value rests on in each group, and what they are (see `Support`).

        Examples
        --------
        >>> from reportgen.metrics.binary import BY_NAME
        >>> from reportgen.metrics.statistics import Confusion
        >>> cells = Confusion(tp=np.array([3]), fp=np.array([1]), tn=np.array([180]), fn=np.array([3]))
        >>> found = BY_NAME["recall"].supports(cells)
        >>> found.count.tolist(), found.unit
        ([6], 'positives')
        """
        if self.support is not None:
            return self.support(source)
        result = self.compute(source)
        return result.support() if isinstance(result, Fraction) else rows(source)


def with_supports(metrics: tuple[Metric, ...], supports: Mapping[str, Callable[[Any], Support]]) -> tuple[Metric, ...]:
    """The registry `metrics` with the `support` of each metric named in `supports` set.

    A registry lists its entries first and then, in one mapping, the metrics whose support is not
    derived (see `Metric.support`).
    """
    assert set(supports) <= {m.name for m in metrics}, f"no such metrics: {set(supports) - {m.name for m in metrics}}"
    return tuple(replace(m, support=supports[m.name]) if m.name in supports else m for m in metrics)


def count_values(n: np.ndarray) -> Values:
    """Rows per group as a metric that is always defined."""
    n = np.asarray(n, dtype=np.float64)
    return Values(value=n, reason=np.full(n.shape, None, dtype=object))
