"""Number formatting and metric choices shared by the renderers (HTML page and markdown summary)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from reportgen.labels import DISPLAY_LABEL_CHARS, shorten
from reportgen.metrics import calibration

HEADLINE_METRICS = {
    "binary": ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "precision", "recall", "f1", "brier"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "roc_auc_macro",
                   "log_loss"),
    "regression": ("mae", "rmse", "r2", "mape", "median_absolute_error", "mean_residual"),
}
CALIBRATION_METRICS = tuple(metric.name for metric in calibration.METRICS)


def headline_metrics(task: str, names: Iterable[str]) -> list[str]:
    """The metrics shown first for a task: its `HEADLINE_METRICS`, then any top-k accuracies among `names`.

    Examples
    --------
    >>> headline_metrics("multiclass", ["accuracy", "top_2_accuracy"])[-1]
    'top_2_accuracy'
    """
    return [*HEADLINE_METRICS[task], *[name for name in names if name.startswith("top_")]]


def num(value: float | None, digits: int = 3) -> str:
    """A number with `digits` decimals, or an en dash when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}".replace("-", "−")


def signed(value: float | None, digits: int = 3) -> str:
    """A difference with its sign."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def pvalue(value: float | None) -> str:
    """A p-value or q-value: three significant digits, "< 0.001" below that, an en dash when absent.

    Examples
    --------
    >>> pvalue(0.04213), pvalue(7e-23), pvalue(None)
    ('0.0421', '< 0.001', '–')
    """
    if value is None or math.isnan(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def count(value: int | None) -> str:
    """An integer with thousands separators."""
    return "–" if value is None else f"{value:,}"


def short(text: object, width: int | None = None) -> str:
    """Text from the data as tables show it: at most `width` characters (default `DISPLAY_LABEL_CHARS`),
    its middle cut (`reportgen.labels.shorten`).

    Examples
    --------
    >>> short("x" * 100, 10)
    'xxxxxx…xxx'
    """
    return shorten(str(text), width or DISPLAY_LABEL_CHARS)
