"""The card's vocabulary: which metrics each section shows, and how rates compared between groups are named.

One definition per idea, read by the analyses, the charts and every renderer alike.
"""

from __future__ import annotations

from collections.abc import Iterable

OVERALL = "overall"  # the slice family of every row, its one group, and the card section of the whole set
HEADLINE_METRICS = {  # the metrics shown first for a task (the glance, the summary, the site)
    "binary": ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "precision", "recall", "f1", "brier"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "cohen_kappa", "roc_auc_macro",
                   "log_loss"),
    "regression": ("mae", "rmse", "r2", "mape", "median_absolute_error", "mean_residual"),
}
SLICE_METRICS = {  # a slice's key metrics: drawn in its chart, listed in the summary's tables, and compared with a
    # baseline where they have a better direction (a mean residual, the group's bias, has none)
    "binary": ("accuracy", "recall", "fpr", "roc_auc"),
    "multiclass": ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc_macro"),
    "regression": ("mae", "rmse", "mean_residual"),
}
TESTED_METRICS = {  # each group is tested against the rest of the data on these (weak slices)
    "binary": ("accuracy", "recall", "fpr"),
    "multiclass": ("accuracy",),
    "regression": ("mae",),
}
MIRRORS = {  # a metric that is one minus another on the same rows → that metric: tested and counted once, as it
    "fnr": "recall",
    "specificity": "fpr",
}
CALIBRATION_METRICS = ("ece", "mce", "ece_quantile", "mce_quantile")  # the calibration table's columns
RATE_LABELS = {  # how the card names each rate compared between groups
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "precision": "Precision",
    "mae": "Mean absolute error",
    "mean_residual": "Mean residual",
}


def headline_metrics(task: str, names: Iterable[str]) -> list[str]:
    """The metrics shown first for a task: its `HEADLINE_METRICS`, then any top-k accuracies among `names`.

    Examples
    --------
    >>> headline_metrics("multiclass", ["accuracy", "top_2_accuracy"])[-1]
    'top_2_accuracy'
    """
    return [*HEADLINE_METRICS[task], *[name for name in names if name.startswith("top_")]]
