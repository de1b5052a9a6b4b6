"""Which charts the card draws: a registry of chart builders, each tagged with the card section that shows it.

Every renderer that draws charts (the HTML page, the PDF) takes them from `card_charts`, so a chart is
decided once. A builder reads the document only and returns the charts it draws, in page order, as
`Figure`s; the pictures themselves come from the pure builders of `reportgen.charts`.
To add a chart: write its builder in `reportgen.charts`, add an entry to `FIGURES` and show it in its
section's template by id (or, for a section of `Report.sections`, it is shown there by its section).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import altair as alt
from altair.utils.schemapi import debug_mode

from reportgen import charts
from reportgen.document.explanations import DEPENDENCE_KEYS, SWARM_COLUMNS
from reportgen.document.schema import Report, TrainingResult
from reportgen.vocabulary import OVERALL, SLICE_METRICS

MAX_CHART_EPOCHS = 500  # learning curves are drawn at about this many epochs at most


@dataclass(frozen=True)
class Figure:
    """One chart of the card: its element id, title, the section that shows it, and the chart."""

    id: str
    title: str
    section: str
    chart: alt.TopLevelMixin


@dataclass(frozen=True)
class FigureEntry:
    """A registry entry: the section its charts belong to, and the builder (report → (id, title, chart)s)."""

    section: str
    build: Callable[[Report], list[tuple[str, str, alt.TopLevelMixin]]]


def metric_labels(report: Report) -> dict[str, str]:
    """Display label of each metric of the report (from its registry entries)."""
    return {m.name: m.label for m in [*report.metrics.metrics, *report.metrics.class_metrics]} | {"count": "Count"}


def _comparison(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    labels = metric_labels(report)
    directions = {m.name: m.higher_is_better for m in report.metrics.metrics}
    found = []
    for i, comparison in enumerate(report.comparisons):
        for j, change in enumerate(comparison.slices):
            if not charts.compared_metrics(change.groups, directions, report.task):
                continue
            args = (change, comparison.baseline, labels, directions, report.task)
            found.append((f"chart-comparison-{i}-{j}-bars", f"{change.name}: candidate and {comparison.baseline}",
                          charts.comparison_chart(*args)))
            found.append((f"chart-comparison-{i}-{j}-delta", f"{change.name}: difference from {comparison.baseline}",
                          charts.delta_chart(*args)))
    return found


def _overall(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    c = report.charts
    overall = {m.name: m.value for m in report.overall.metrics}
    found: list[tuple[str, str, alt.TopLevelMixin]] = []
    if c.roc is not None and c.operating_point is not None:
        found.append(("chart-roc", "ROC curve", charts.roc_chart(c.roc, c.operating_point)))
    if c.precision_recall is not None:
        prevalence = overall["prevalence"] or 0.0
        found.append(("chart-pr", "Precision-recall curve", charts.precision_recall_chart(c.precision_recall, prevalence)))
    if c.score_histogram is not None:
        found.append(("chart-scores", "Score distribution",
                      charts.score_histogram_chart(c.score_histogram, report.evaluation_data.positive_label or "")))
    classes = [k.label for k in report.evaluation_data.classes]
    if report.overall.class_matrix is not None and len(classes) <= charts.CONFUSION_CHART_MAX_CLASSES:
        found.append(("chart-confusion", "Confusion matrix", charts.confusion_chart(report.overall.class_matrix, classes)))
    if c.density is not None:
        found.append(("chart-density", "Predicted against actual", charts.density_chart(c.density)))
    if c.residual_bands is not None:
        found.append(("chart-residuals", "Residuals against predicted", charts.residual_bands_chart(c.residual_bands)))
    if c.residual_histogram is not None:
        found.append(("chart-residual-histogram", "Residual distribution",
                      charts.residual_histogram_chart(c.residual_histogram)))
    return found


def _calibration(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    if not report.charts.reliability:
        return []
    what = "top-label confidence" if report.task == "multiclass" else "positive-class probability"
    return [("chart-calibration", "Calibration",
             charts.reliability_chart(report.charts.reliability, f"Calibration of the {what}"))]


def _training(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    if report.training is None:
        return []
    epochs, curves = learning_curves(report.training)
    return [("chart-training", "Learning curves", charts.learning_curves_chart(epochs, curves, report.training.best_epoch))]


def _slices(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    overall = {m.name: m.value for m in report.overall.metrics}
    labels = metric_labels(report)
    found = []
    for index, result in enumerate(report.slices):
        found.append((f"chart-slice-{index}", result.name, charts.slice_chart(result, overall, labels, report.task)))
        if len(result.calibration) > 1:
            found.append((f"chart-slice-calibration-{index}", f"Calibration by {result.name}",
                          charts.slice_reliability_chart(result)))
    return found


def _fairness(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    return [
        (f"chart-fairness-{index}", result.sensitive, charts.fairness_chart(result))
        for index, result in enumerate(report.fairness)
        if any(r.difference is not None for g in result.groups if not g.is_reference for r in g.rates)
    ]


def _error_tree(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    errors = report.error_analysis
    if errors is None or len(errors.tree) <= 1:
        return []
    return [("chart-error-tree", "Error tree", charts.error_tree_chart(errors.tree, measure=errors.measure))]


def _monitoring(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    m = report.monitoring
    if m is None:
        return []
    found: list[tuple[str, str, alt.TopLevelMixin]] = []
    overall = [s for s in m.performance if s.slice == OVERALL and s.metric in SLICE_METRICS[report.task]]
    if overall:
        found.append(("chart-monitoring-performance", "Performance over time",
                      charts.performance_over_time_chart(overall, m.windows, metric_labels(report), m.changes)))
    by_slice: dict[str, list] = {}
    for s in m.performance:
        if s.slice != OVERALL:
            by_slice.setdefault(s.slice, []).append(s)
    labels = metric_labels(report)
    for index, (name, series) in enumerate(by_slice.items()):
        title = f"{name}: {labels[series[0].metric]} by time window"
        found.append((f"chart-monitoring-slice-{index}", title,
                      charts.slice_over_time_chart(series, m.windows, labels[series[0].metric],
                                                   report.metrics.min_support)))
    if any(c.effect_value is not None for c in m.columns):
        found.append(("chart-monitoring-drift", "Drift by column", charts.drift_chart(m.columns)))
    if m.by_window is not None and m.by_window.columns:
        found.append(("chart-monitoring-windows", "Drift by time window", charts.drift_heatmap(m.by_window)))
    return found


def _distributions(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    """The columns that shifted most, in the reference and now (the card's detail: not in the sign-off PDF)."""
    if report.monitoring is None:
        return []
    drawn = [c for c in report.monitoring.columns if c.distribution is not None][: charts.DISTRIBUTION_CHARTS]
    return [(f"chart-monitoring-distribution-{index}", f"Distribution of {c.column}", charts.distribution_chart(c))
            for index, c in enumerate(drawn)]


def _explanations(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    section = next((s for s in report.sections if s.analysis == "explanations"), None)
    if section is None:
        return []
    rows = section.tables[0].rows  # feature, importance, interval low, interval high: most important first
    what = section.tables[0].columns[1]
    found = [("chart-explanations-importance", "Permutation importance",
              charts.importance_chart([str(r[0]) for r in rows], [float(r[1]) for r in rows],
                                      [float(r[2]) for r in rows], [float(r[3]) for r in rows], what))]
    dependence = next((t for t in section.tables if t.columns[:3] == DEPENDENCE_KEYS), None)
    if dependence is not None:
        features = list(dict.fromkeys(str(r[0]) for r in dependence.rows))
        output = dependence.columns[3].removeprefix("Partial dependence (").removesuffix(")")
        found += [(f"chart-explanations-dependence-{k}", f"Partial dependence on {feature}",
                   charts.dependence_chart(feature, [r[1:] for r in dependence.rows if r[0] == feature], output))
                  for k, feature in enumerate(features)]
    return found


def _attributions(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    section = next((s for s in report.sections if s.analysis == "attributions"), None)
    if section is None:
        return []
    rows = section.tables[0].rows  # feature, mean |attribution|, interval low, interval high: largest first
    found = [("chart-attributions-importance", "Mean |attribution|",
              charts.importance_chart([str(r[0]) for r in rows], [float(r[1]) for r in rows],
                                      [float(r[2]) for r in rows], [float(r[3]) for r in rows], "mean |attribution|",
                                      "Mean |attribution| (line: its interval over the rows)"))]
    swarm = next((t for t in section.tables if t.columns == SWARM_COLUMNS), None)
    if swarm is not None and swarm.rows:
        found.append(("chart-attributions-swarm", "Attributions of the most important features",
                      charts.swarm_chart(swarm.rows)))
    return found


# In page order: the comparison follows the glance, then performance, training, slices, fairness, errors.
FIGURES: list[FigureEntry] = [
    FigureEntry("comparison", _comparison),
    FigureEntry("overall", _overall),
    FigureEntry("calibration", _calibration),
    FigureEntry("training", _training),
    FigureEntry("slices", _slices),
    FigureEntry("fairness", _fairness),
    FigureEntry("error_analysis", _error_tree),
    FigureEntry("monitoring", _monitoring),
    FigureEntry("drift_distributions", _distributions),
    FigureEntry("explanations", _explanations),
    FigureEntry("attributions", _attributions),
]


def card_charts(report: Report) -> list[Figure]:
    """Every chart of the card, in page order."""
    return list(each_chart(report))


def each_chart(report: Report, sections: Collection[str] | None = None) -> Iterator[Figure]:
    """Every chart of the card (of those `sections`, None: all), in page order, each as soon as it is built (so
    that it can render while the next is built); built without Altair's validation of each part as it is made
    (`charts.spec` says why)."""
    for entry in FIGURES:
        if sections is not None and entry.section not in sections:
            continue
        with debug_mode(False):
            built = entry.build(report)
        for chart_id, title, chart in built:
            yield Figure(chart_id, title, entry.section, chart)


def learning_curves(training: TrainingResult) -> tuple[list[int], dict[str, list[float | None]]]:
    """The epochs drawn and each series at them, as the learning-curve chart takes them: NaN where a
    non-finite value was logged (a gap), None where nothing was logged. Long histories are thinned to
    about `MAX_CHART_EPOCHS` evenly spaced epochs, keeping the last, the best and every gap."""
    n = len(training.epochs)
    position = {epoch: index for index, epoch in enumerate(training.epochs)}
    keep = set(range(0, n, max(1, -(-n // MAX_CHART_EPOCHS)))) | {n - 1}
    keep |= {position[e] for s in training.series for e in s.nonfinite_epochs}
    if training.best_epoch is not None:
        keep.add(position[training.best_epoch])
    shown = sorted(keep)
    curves = {}
    for s in training.series:
        gaps = set(s.nonfinite_epochs)
        curves[s.name] = [math.nan if training.epochs[i] in gaps else s.values[i] for i in shown]
    return [training.epochs[i] for i in shown], curves
