"""One interface over the three tasks: per-row preparation, per-family statistics and the registry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from reportgen.metrics import binary, calibration, multiclass, regression
from reportgen.metrics.metric import Metric
from reportgen.metrics.statistics import Rows

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Statistics:
    """One slice family's statistics: the task's own, plus calibration bins where there are probabilities.

    Metric sources of the task ("confusion", "scores", "errors", ...) are read through to `task`.
    """

    task: Any
    calibration: calibration.CalibrationStats | None

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.task.n

    def __getattr__(self, name: str) -> Any:
        if name in ("task", "calibration") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.task, name)


@dataclass(frozen=True)
class Engine:
    """A task's per-row arrays, prepared once, and the metrics to compute from them.

    Attributes
    ----------
    task : str
        "binary", "multiclass" or "regression".
    rows : Rows, ClassRows or ErrorRows
        The task's per-row arrays.
    calibration : CalibrationRows or None
        Confidence and outcome per row (binary: the score and the label; multiclass: the top
        label's probability and whether it is right); None without probabilities.
    metrics : tuple of Metric
        The registry, calibration metrics included where there are probabilities.
    class_metrics : tuple of Metric
        Multiclass: the metrics of one class against the rest; empty otherwise.
    """

    task: str
    rows: Any
    calibration: calibration.CalibrationRows | None
    metrics: tuple[Metric, ...]
    class_metrics: tuple[Metric, ...]

    def group_stats(self, codes: np.ndarray, n_groups: int) -> Statistics:
        """Every statistic of one family; `codes` in [0, n_groups), negative for rows in no group."""
        of_task = _GROUP_STATS[self.task](codes, self.rows, n_groups)
        bins = None if self.calibration is None else calibration.calibration_stats(codes, self.calibration, n_groups)
        return Statistics(of_task, bins)


_GROUP_STATS = {
    "binary": binary.group_stats,
    "multiclass": multiclass.group_stats,
    "regression": regression.group_stats,
}


def prepare(
    task: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None,
    *,
    n_classes: int = 2,
    top_k: tuple[int, ...] = (),
    calibration_bins: int = 10,
) -> Engine:
    """Prepare the per-row arrays of a task once, for every slice family.

    Parameters
    ----------
    task : str
        "binary", "multiclass" or "regression".
    y_true, y_pred, scores
        As `reportgen.io.Predictions`.
    n_classes, top_k
        Multiclass: number of classes and the k of each top-k accuracy.
    calibration_bins : int
        Bins of the reliability diagrams and calibration errors.
    """
    if task == "regression":
        return Engine(task, regression.ErrorRows.prepare(y_true, y_pred), None, regression.METRICS, ())
    if task == "binary":
        assert scores is not None, "binary tasks have scores"
        bins = calibration.CalibrationRows.prepare(scores, y_true, calibration_bins)
        metrics = binary.METRICS + calibration.METRICS
        return Engine(task, Rows.prepare(y_true, y_pred, scores), bins, metrics, ())
    rows = multiclass.ClassRows.prepare(y_true, y_pred, scores, n_classes, top_k)
    has_probabilities = scores is not None
    metrics = multiclass.registry(n_classes, top_k, has_probabilities)
    bins = None
    if has_probabilities:
        bins = calibration.CalibrationRows.prepare(*calibration.top_label(scores, y_true), calibration_bins)
        metrics += calibration.METRICS
    return Engine(task, rows, bins, metrics, multiclass.class_metrics(has_probabilities))
