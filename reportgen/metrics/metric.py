"""What a metric is: the statistics it is computed from, its interval method and its direction.

Each task (binary, multiclass, regression) lists its metrics in one registry of `Metric` entries,
which tables, the JSON, findings and the oracle tests iterate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.metrics.values import Values, divide

Bounds = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Fraction:
    """A proportion-type metric: numerator and denominator counts per group."""

    numerator: np.ndarray
    denominator: np.ndarray
    undefined: str

    def values(self) -> Values:
        """The proportion, undefined where the denominator is 0."""
        return divide(self.numerator, self.denominator, undefined=self.undefined)


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
        `Fraction`), "bootstrap" (multinomial resampling of the source's count cells, which must
        offer `cells()` and `from_cells`), another method computed by `confidence`, or None.
    higher_is_better : bool or None
        Direction, None where neither is better (count, prevalence, selection rate).
    confidence : callable, optional
        For closed-form intervals other than Wilson: (statistics, values, level) → (low, high).
    """

    name: str
    label: str
    source: str
    compute: Callable[[Any], Fraction | Values]
    interval: str | None
    higher_is_better: bool | None
    confidence: Callable[[Any, np.ndarray, float], Bounds] | None = None

    def values(self, source: Any) -> Values:
        """Evaluate the metric on its statistics (the `source` attribute of a task's statistics)."""
        result = self.compute(source)
        return result.values() if isinstance(result, Fraction) else result


def count_values(n: np.ndarray) -> Values:
    """Rows per group as a metric that is always defined."""
    n = np.asarray(n, dtype=np.float64)
    return Values(value=n, reason=np.full(n.shape, None, dtype=object))
