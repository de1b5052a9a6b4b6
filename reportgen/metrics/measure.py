"""Measure checked predictions over slice families: statistics, metric tables and chart data, once.

What every analysis reads (`Measured`); computing it is the expensive part of an evaluation and
holds no judgement: no thresholds, no findings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reportgen.config import ReportSection, SliceSpec
from reportgen.io import Predictions
from reportgen.metrics import calibration, curves, residuals, tasks
from reportgen.metrics.metric import Metric
from reportgen.metrics.table import COLUMNS, metric_frame
from reportgen.slices import ShownGroups, SliceFamily, build_slices, overall_family, shown_groups
from reportgen.vocabulary import OVERALL

MAX_RELIABILITY_GROUPS = 12  # per-group reliability diagrams only for slices of at most this many groups


@dataclass(frozen=True)
class Curves:
    """Chart data of the whole evaluation set, small whatever the row count; None where it does not apply.

    Attributes
    ----------
    roc, precision_recall : Curve or None
        Binary: the curves; None with one class.
    scores : ScoreHistogram or None
        Binary: scores by class.
    thresholds : ThresholdChoice or None
        Binary: the thresholds that maximize F1 and Youden's J.
    reliability : list of Reliability
        Binary and multiclass with probabilities: uniform and quantile bins (multiclass: top label).
    density, residual_bands, residual_histogram
        Regression: predicted against actual, residuals against predicted, residual distribution.
    """

    roc: curves.Curve | None = None
    precision_recall: curves.Curve | None = None
    scores: curves.ScoreHistogram | None = None
    thresholds: curves.ThresholdChoice | None = None
    reliability: list[calibration.Reliability] = field(default_factory=list)
    density: residuals.Density | None = None
    residual_bands: residuals.ResidualBands | None = None
    residual_histogram: residuals.ResidualHistogram | None = None


@dataclass(frozen=True)
class Spread:
    """How much the model's output varies over the whole set (the constant-output finding reads it).

    Attributes
    ----------
    predicted : ndarray of int64 or None
        Classification: rows per predicted class (binary: negative, positive); None for regression.
    constant_scores : bool
        Whether every row has the same score (multiclass: the same probabilities); False without scores.
    prediction_std, target_std : float or None
        Regression: the population standard deviations of the predictions and of the targets; None otherwise.
    """

    predicted: np.ndarray | None
    constant_scores: bool = False
    prediction_std: float | None = None
    target_std: float | None = None

    @classmethod
    def of(cls, predictions: Predictions) -> Spread:
        """The spread of checked predictions held in memory."""
        if predictions.task == "regression":
            return cls(None, prediction_std=float(np.std(predictions.y_pred)),
                       target_std=float(np.std(predictions.y_true)))
        scores = predictions.scores
        return cls(np.bincount(predictions.y_pred, minlength=max(len(predictions.classes), 2)).astype(np.int64),
                   constant_scores=scores is not None and len(scores) > 0 and bool(np.all(scores == scores[0])))


@dataclass(frozen=True)
class Other:
    """"(other)" of a family the card shows capped, measured like any group.

    Attributes
    ----------
    shown : ShownGroups
        The groups shown and the one-group family of the rest.
    statistics : Statistics
        Its sufficient statistics (one group).
    metrics, class_metrics : DataFrame
        Its rows of the metric tables, in the columns of `Measured.metrics` and `Measured.class_metrics`.
    """

    shown: ShownGroups
    statistics: tasks.Statistics = field(repr=False)
    metrics: pd.DataFrame = field(repr=False)
    class_metrics: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Measured:
    """Every metric of every group, with the statistics they came from.

    Attributes
    ----------
    task : str
        "binary", "multiclass" or "regression".
    families : list of SliceFamily
        The slice families, "overall" first.
    statistics : dict
        Family name → its sufficient statistics (`reportgen.metrics.tasks.Statistics`).
    metrics : DataFrame
        slice, group, metric, value, ci_low, ci_high, n, support, support_unit, undefined_reason.
    class_metrics : DataFrame
        Multiclass: the same columns plus class_label, one class against the rest; empty otherwise.
    confusion : DataFrame
        Binary: slice, group, tn, fp, fn, tp. Multiclass: slice, group, actual, predicted, count.
        Regression: empty.
    curves : Curves
        Chart data of the whole set.
    reliability : dict
        Family name → per group, its reliability diagrams (uniform, quantile); only for families of
        at most `MAX_RELIABILITY_GROUPS` groups, and only with probabilities.
    registry, class_registry : dict
        Metric name → its registry entry, for `metrics` and `class_metrics`.
    engine : Engine
        The per-row arrays the statistics came from (a baseline is compared on them); an engine that computed
        the statistics where the data lies has none (`rows` is None).
    spread : Spread
        How much the model's output varies over the whole set.
    others : dict
        Family name → its "(other)" (`Other`), for the families of more groups than the card shows
        (`[report] max_groups_shown`); the analyses read only the families' own groups.
    """

    task: str
    families: list[SliceFamily]
    statistics: dict[str, tasks.Statistics] = field(repr=False)
    metrics: pd.DataFrame
    class_metrics: pd.DataFrame
    confusion: pd.DataFrame
    curves: Curves
    reliability: dict[str, list[list[calibration.Reliability]]] = field(repr=False)
    registry: dict[str, Metric] = field(repr=False)
    class_registry: dict[str, Metric] = field(repr=False)
    engine: tasks.Engine = field(repr=False)
    others: dict[str, Other] = field(repr=False)
    spread: Spread = field(repr=False)

    def family(self, name: str) -> SliceFamily:
        """The family called `name`."""
        return next(family for family in self.families if family.name == name)

    def overall(self, metric: str) -> float | None:
        """The metric's value on the whole set; None where it is undefined or not computed."""
        table = self.metrics
        rows = table[(table["slice"] == OVERALL) & (table["metric"] == metric)]
        return None if rows.empty or pd.isna(rows["value"].iloc[0]) else float(rows["value"].iloc[0])


def measure(predictions: Predictions, specs: Sequence[SliceSpec], settings: ReportSection) -> Measured:
    """Slice the rows by `specs` and measure every metric of every group, with intervals.

    Families are independent and numpy releases the GIL in its array passes: every core is used,
    first to prepare the per-row arrays while the slices are built, then one family per thread.
    Random streams are seeded from ``settings.seed`` and each family's (and class's) position.
    """
    with ThreadPoolExecutor(max_workers=min(len(specs) + 1, os.cpu_count() or 1, 8)) as pool:
        engine_ready = pool.submit(
            tasks.prepare, predictions.task, predictions.y_true, predictions.y_pred, predictions.scores,
            n_classes=len(predictions.classes), top_k=predictions.top_k, calibration_bins=settings.calibration_bins,
        )
        families = [overall_family(len(predictions.frame))] + build_slices(
            predictions.frame, specs, source=predictions.source, codes=predictions.codes
        )
        engine = engine_ready.result()
        shown = {index: s for index, f in enumerate(families) if (s := shown_groups(f, settings.max_groups_shown))}
        to_measure = families + [s.other for s in shown.values()]
        computed = list(pool.map(lambda f: engine.group_stats(f.codes, f.n_groups), to_measure))
    stats = {family.name: s for family, s in zip(families, computed[: len(families)], strict=True)}
    others = {s.other.name: (s, of_other) for s, of_other in zip(shown.values(), computed[len(families):], strict=True)}
    overall_curves, reliability = _chart_data(engine, families, stats, settings.confidence_level)
    return tabulate(predictions.task, predictions.classes, families, stats, others, engine, overall_curves,
                    reliability, Spread.of(predictions), settings)


def tabulate(
    task: str,
    classes: list[str],
    families: list[SliceFamily],
    stats: dict[str, tasks.Statistics],
    others: dict[str, tuple[ShownGroups, tasks.Statistics]],
    engine: tasks.Engine,
    overall_curves: Curves,
    reliability: dict[str, list[list[calibration.Reliability]]],
    spread: Spread,
    settings: ReportSection,
) -> Measured:
    """Every metric of every group, with intervals, from the families' sufficient statistics, whichever engine
    gathered them.

    `others`: family name → the groups the card shows and the statistics of "(other)", for the families of more
    groups than it shows. Random streams are seeded from ``settings.seed`` and each family's (and class's) position.
    """
    level = settings.confidence_level

    def rng(*key: int) -> np.random.Generator:
        return np.random.default_rng([settings.seed, *key])

    def metrics_of(family: SliceFamily, of_family: tasks.Statistics, *key: int) -> pd.DataFrame:
        return metric_frame(family.name, family.labels, of_family, engine.metrics, level=level,
                            resamples=settings.resamples, rng=rng(*key))

    def class_metrics_of(family: SliceFamily, of_family: tasks.Statistics, *key: int) -> pd.DataFrame:
        return _class_metrics(engine, classes, family, of_family, level, settings.resamples, rng, key)

    metrics = pd.concat([metrics_of(family, stats[family.name], index) for index, family in enumerate(families)],
                        ignore_index=True)
    class_metrics = [class_metrics_of(family, stats[family.name], index) for index, family in enumerate(families)]
    index_of = {family.name: index for index, family in enumerate(families)}
    measured_others = {}
    for name, (s, of_other) in others.items():
        # seeded apart from the families' streams, (index) and (index, k + 1): seeds are zero-padded, so
        # (index, 0) would repeat (index)'s
        index = index_of[name]
        measured_others[name] = Other(s, of_other, metrics_of(s.other, of_other, index, 0, 1),
                                      class_metrics_of(s.other, of_other, index, 0, 1))
    return Measured(
        task=task,
        families=families,
        statistics=stats,
        metrics=metrics,
        class_metrics=(pd.concat(class_metrics, ignore_index=True) if engine.class_metrics
                       else pd.DataFrame(columns=[*COLUMNS, "class_label"])),
        confusion=_confusion_table(task, classes, families, stats),
        curves=overall_curves,
        reliability=reliability,
        registry={metric.name: metric for metric in engine.metrics},
        class_registry={metric.name: metric for metric in engine.class_metrics},
        engine=engine,
        others=measured_others,
        spread=spread,
    )


def reliability_diagrams(
    engine: tasks.Engine, families: list[SliceFamily], stats: dict[str, tasks.Statistics], level: float
) -> dict[str, list[list[calibration.Reliability]]]:
    """Per family of at most `MAX_RELIABILITY_GROUPS` groups, each group's reliability diagrams (uniform, quantile);
    empty without probabilities."""
    reliability: dict[str, list[list[calibration.Reliability]]] = {}
    if engine.calibration is not None:
        for family in families:
            if family.n_groups <= MAX_RELIABILITY_GROUPS:
                bins = stats[family.name].calibration
                reliability[family.name] = [
                    [calibration.reliability(bins, group, strategy, engine.calibration, level)
                     for strategy in calibration.STRATEGIES]
                    for group in range(family.n_groups)
                ]
    return reliability


def _chart_data(
    engine: tasks.Engine, families: list[SliceFamily], stats: dict[str, tasks.Statistics], level: float
) -> tuple[Curves, dict[str, list[list[calibration.Reliability]]]]:
    reliability = reliability_diagrams(engine, families, stats, level)
    overall = reliability.get(OVERALL, [[]])[0]
    rows = engine.rows
    if engine.task == "binary":
        found = Curves(
            roc=curves.roc_curve(rows), precision_recall=curves.precision_recall_curve(rows),
            scores=curves.score_histogram(rows), thresholds=curves.best_thresholds(rows), reliability=overall,
        )
    elif engine.task == "multiclass":
        found = Curves(reliability=overall)
    else:
        found = Curves(
            density=residuals.density(rows), residual_bands=residuals.residual_bands(rows),
            residual_histogram=residuals.residual_histogram(rows),
        )
    return found, reliability


def _class_metrics(
    engine: tasks.Engine,
    classes: list[str],
    family: SliceFamily,
    stats: tasks.Statistics,
    level: float,
    resamples: int,
    rng: Callable[..., np.random.Generator],
    key: tuple[int, ...],
) -> pd.DataFrame:
    """Multiclass: each class against the rest, per group of one family (class k seeded by (*key, k + 1))."""
    if not engine.class_metrics:
        return pd.DataFrame(columns=[*COLUMNS, "class_label"])
    tables = []
    for k, name in enumerate(classes):
        table = metric_frame(family.name, family.labels, stats.task.one_vs_rest(k), engine.class_metrics,
                             level=level, resamples=resamples, rng=rng(*key, k + 1))
        tables.append(table.assign(class_label=name))
    return pd.concat(tables, ignore_index=True)


def _confusion_table(
    task: str, classes: list[str], families: list[SliceFamily], stats: dict[str, tasks.Statistics]
) -> pd.DataFrame:
    parts = []
    for family in families:
        of_task = stats[family.name].task
        if task == "binary":
            c = of_task.confusion
            parts.append(pd.DataFrame({"slice": family.name, "group": family.labels, "tn": c.tn, "fp": c.fp,
                                       "fn": c.fn, "tp": c.tp}))
        elif task == "multiclass":
            cells = of_task.confusion.matrix  # (groups, actual, predicted)
            n_groups, n_classes = cells.shape[0], cells.shape[1]
            parts.append(pd.DataFrame({
                "slice": family.name,
                "group": np.repeat(family.labels, n_classes * n_classes),
                "actual": np.tile(np.repeat(classes, n_classes), n_groups),
                "predicted": np.tile(classes, n_groups * n_classes),
                "count": cells.reshape(-1).astype(np.int64),
            }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["slice", "group"])
