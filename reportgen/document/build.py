"""Build the model card document from what an evaluation measured and what its analyses found.

Each section's dataclass (`reportgen.document.schema`) is filled here and nowhere else; renderers
only read the document.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np

from reportgen.analysis.base import Finding
from reportgen.analysis.comparison import IMPROVEMENT, REGRESSION, Comparison
from reportgen.analysis.error_analysis import ErrorAnalysis
from reportgen.analysis.fairness import Fairness
from reportgen.analysis.training import TrainingSummary
from reportgen.config import Config, FairnessSection
from reportgen.document.schema import (
    SCHEMA_VERSION,
    Charts,
    ClassCount,
    ClassResult,
    ComparisonResult,
    ConfusionMatrix,
    ErrorAnalysisResult,
    ErrorSlice,
    EvaluationData,
    FairnessGap,
    FairnessGroup,
    FairnessResult,
    GroupCalibration,
    GroupChange,
    GroupResult,
    Improvement,
    MetricChange,
    MetricInfo,
    MetricsSection,
    MetricValue,
    ModelDetails,
    Narrative,
    OperatingPoint,
    PerformanceMetric,
    RateComparison,
    Report,
    RunRecord,
    Section,
    SliceChange,
    SliceCondition,
    SliceResult,
    TrainingResult,
    TrainingSeries,
)
from reportgen.history import History
from reportgen.io import Predictions
from reportgen.labels import DISPLAY_SLICE_CHARS, shorten
from reportgen.metrics.measure import Measured
from reportgen.record import GitState, config_fingerprint, versions
from reportgen.slices import SliceFamily
from reportgen.version import __version__
from reportgen.vocabulary import OVERALL

T = TypeVar("T")
# Analysis name → writer of its card section, for analyses without a layout of their own in `Report`;
# the result None means the analysis did not apply (no section).
SECTIONS: dict[str, Callable[[Any], Section]] = {}


def build_report(
    config: Config,
    predictions: Predictions,
    measured: Measured,
    results: Mapping[str, Any],
    findings: list[Finding],
    *,
    git: GitState | None = None,
    history: History | None = None,
) -> Report:
    """Turn what an evaluation measured and found into the model card document (gates not yet checked).

    `results` holds each analysis's result by name (`reportgen.analysis.registry`); an analysis
    without a layout of its own is written as a generic `Section` by its entry in `SECTIONS`.
    """
    weak = _weak_metrics(findings)
    total = len(predictions.frame)
    slices = [_slice_result(measured, family, weak, config.report.min_support, total) for family in measured.families]
    overall = slices[0].groups[0]
    task = measured.task
    threshold = config.data.threshold if task == "binary" else None
    curves = measured.curves
    return Report(
        schema_version=SCHEMA_VERSION,
        generator=f"reportgen {__version__}",
        title=config.report.title,
        task=task,
        gates=[],
        comparisons=[_comparison_result(measured, comparison, config, total) for comparison in results["comparison"]],
        error_analysis=_error_analysis_result(results["error_analysis"], config),
        findings=list(findings),
        model=ModelDetails(
            name=config.model.name,
            version=config.model.version,
            description=config.model.description,
            date=None if config.model.date is None else str(config.model.date),
            owners=list(config.card.owners),
            license=config.card.license,
            citation=config.card.citation,
        ),
        run=RunRecord(
            data_fingerprint=predictions.fingerprint,
            config_fingerprint=config_fingerprint(config),
            git_commit=None if git is None else git.commit,
            git_dirty=None if git is None else git.dirty,
            params={**({} if history is None else history.params), **config.model.params},
            versions=versions(),
        ),
        training=_training_result(history, results["training"]),
        narrative=Narrative(
            intended_use=config.card.intended_use,
            out_of_scope=config.card.out_of_scope,
            factors=config.card.factors,
            training_data=config.card.training_data,
            ethical_considerations=config.card.ethical_considerations,
            caveats=config.card.caveats,
        ),
        metrics=MetricsSection(
            metrics=[_info(m) for m in measured.registry.values()],
            class_metrics=[_info(m) for m in measured.class_registry.values()],
            threshold=threshold,
            prediction_source=_prediction_source(config, task),
            confidence_level=config.report.confidence_level,
            resamples=config.report.resamples,
            seed=config.report.seed,
            min_support=config.report.min_support,
            calibration_bins=config.report.calibration_bins,
        ),
        evaluation_data=_evaluation_data(predictions, measured, overall, config.card.evaluation_data),
        overall=overall,
        slices=slices[1:],
        fairness=_fairness_results(results["fairness"], config.fairness),
        charts=Charts(
            roc=curves.roc,
            precision_recall=curves.precision_recall,
            score_histogram=curves.scores,
            operating_point=None if threshold is None else OperatingPoint(
                threshold=threshold, fpr=_metric(overall, "fpr").value, tpr=_metric(overall, "recall").value,
            ),
            thresholds=curves.thresholds,
            reliability=list(curves.reliability),
            density=curves.density,
            residual_bands=curves.residual_bands,
            residual_histogram=curves.residual_histogram,
        ),
        performance_metrics=_performance_metrics(slices, threshold),
        sections=[SECTIONS[name](result) for name, result in results.items() if name in SECTIONS and result is not None],
    )


def _comparison_result(measured: Measured, comparison: Comparison, config: Config, n_rows: int) -> ComparisonResult:
    keys = ["slice", "group", "metric"]
    table = comparison.table
    for model, metrics in (("candidate", measured.metrics), ("baseline", comparison.baseline_metrics)):
        bounds = metrics[[*keys, "ci_low", "ci_high"]].rename(
            columns={"ci_low": f"{model}_ci_low", "ci_high": f"{model}_ci_high"})
        table = table.merge(bounds, on=keys, how="left")
    min_support = config.report.min_support
    slices = []
    for family in measured.families:
        by_group = dict(tuple(table[table["slice"] == family.name].groupby("group", sort=False)))
        groups = []
        for label in family.labels:
            rows = by_group[label]
            n = int(rows["n"].iloc[0])
            changes = [_record(MetricChange, row, name="metric") for row in rows.itertuples()]
            groups.append(GroupChange(group=str(label), n=n, small=n < min_support, metrics=changes))
        slices.append(SliceChange(name=family.name, groups=groups))
    flags = table["flag"]
    return ComparisonResult(
        baseline=comparison.name,
        source=comparison.source,
        fingerprint=comparison.fingerprint,
        join=comparison.join,
        unmatched=comparison.unmatched,
        rows=n_rows,
        fdr=config.findings.fdr,
        improvements=int((flags == IMPROVEMENT).sum()),
        regressions=int((flags == REGRESSION).sum()),
        overall=slices[0].groups[0],
        slices=slices[1:],
    )


def _error_analysis_result(found: ErrorAnalysis | None, config: Config) -> ErrorAnalysisResult | None:
    if found is None:
        return None
    settings = config.error_analysis
    slices = []
    for row in found.slices.itertuples():
        examples = found.examples.get(row.slice)
        slices.append(ErrorSlice(
            slice=row.slice, conditions=[SliceCondition(c, g) for c, g in row.conditions], rank=int(row.rank),
            n=int(row.n), share=float(row.share), value=float(row.value), ci_low=_number(row.ci_low),
            ci_high=_number(row.ci_high), rest=float(row.rest), difference=float(row.difference),
            p_value=float(row.p_value), q_value=float(row.q_value),
            example_columns=[] if examples is None else [str(c) for c in examples.columns],
            examples=[] if examples is None else examples.to_numpy(dtype=object).tolist(),
        ))
    return ErrorAnalysisResult(
        metric=found.measure.name,
        measure=found.measure.label,
        columns=list(found.columns),
        notes=list(found.notes),
        depth=settings.depth,
        min_support=settings.min_support or config.report.min_support,
        fdr=config.findings.fdr,
        tested=found.tested,
        overall=float(found.overall),
        message=found.message,
        slices=slices,
        improvements=[
            Improvement(slice=row.slice, origin=row.origin, n=int(row.n), share=float(row.share), value=float(row.value),
                        target=float(row.target), target_source=row.target_source, gain=float(row.gain))
            for row in found.improvements.itertuples()
        ],
        tree=list(found.tree),
    )


def _training_result(history: History | None, summary: TrainingSummary | None) -> TrainingResult | None:
    if history is None or summary is None:
        return None
    epochs = history.epochs.tolist()
    return TrainingResult(
        source=history.source,
        kind=history.kind,
        epochs=epochs,
        series=[
            TrainingSeries(name, [_number(v) for v in values],
                           [e for e, bad in zip(epochs, history.nonfinite[name].tolist(), strict=True) if bad])
            for name, values in history.series.items()
        ],
        train_loss=summary.train_loss,
        val_loss=summary.val_loss,
        best_epoch=summary.best_epoch,
        best_val_loss=_number(summary.best_val_loss),
        last_epoch=summary.last_epoch,
        overfitting_epoch=summary.overfitting_epoch,
        underfitting=summary.underfitting,
        not_converged=summary.not_converged,
    )


def _info(metric: Any) -> MetricInfo:
    return MetricInfo(metric.name, metric.label, metric.interval, metric.higher_is_better)


def _prediction_source(config: Config, task: str) -> str:
    data = config.data
    if data.prediction:
        return f'column "{data.prediction}"'
    if task == "binary":
        return "score ≥ threshold"
    return "the most probable class"


def _evaluation_data(
    predictions: Predictions, measured: Measured, overall: GroupResult, description: str | None
) -> EvaluationData:
    positives = negatives = prevalence = None
    classes: list[ClassCount] = []
    zero_targets = None
    if measured.task == "binary":
        assert overall.confusion_matrix is not None
        cm = overall.confusion_matrix
        positives, negatives = cm.tp + cm.fn, cm.tn + cm.fp
        prevalence = _metric(overall, "prevalence").value
    elif measured.task == "multiclass":
        counts = np.bincount(predictions.y_true, minlength=len(predictions.classes))
        classes = [ClassCount(label, int(n), int(n) / overall.n) for label, n in zip(predictions.classes, counts, strict=True)]
    else:
        zero_targets = int(measured.statistics[OVERALL].errors.zero_targets[0])
    return EvaluationData(
        source=predictions.source,
        fingerprint=predictions.fingerprint,
        rows=overall.n,
        positives=positives,
        negatives=negatives,
        prevalence=prevalence,
        positive_label=predictions.positive_label,
        classes=classes,
        zero_targets=zero_targets,
        description=description,
    )


def _weak_metrics(findings: list[Finding]) -> dict[tuple[str, str], list[str]]:
    """(slice, group) → metrics a weak-slice finding names (in a merged finding, its weak-slice evidence)."""
    weak: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        for e in finding.evidence:
            if (e.rule or finding.id) == "weak_slice":
                weak.setdefault((e.slice, e.group), []).append(e.metric)
    return weak


def _number(value: object) -> float | None:
    """A JSON-ready float: None for NaN, infinity or missing."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _plain(value: object) -> object:
    """A table cell as a JSON-ready value: None for missing or NaN, bool, float or str."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return _number(value)


def _record(cls: type[T], row: Any, **renamed: str) -> T:
    """Build dataclass `cls` from a table row, field by field (`renamed`: field → column)."""
    return cls(**{f.name: _plain(getattr(row, renamed.get(f.name, f.name))) for f in fields(cls)})


def _metric(group: GroupResult, name: str) -> MetricValue:
    return next(m for m in group.metrics if m.name == name)


def _slice_result(
    measured: Measured, family: SliceFamily, weak: dict[tuple[str, str], list[str]], min_support: int, total: int
) -> SliceResult:
    name = family.name
    table = measured.metrics[measured.metrics["slice"] == name]
    by_group = dict(tuple(table.groupby("group", sort=False)))
    class_table = measured.class_metrics[measured.class_metrics["slice"] == name]
    by_group_and_class = dict(tuple(class_table.groupby("group", sort=False)))
    groups = []
    for index, label in enumerate(family.labels):
        rows = by_group[label]
        n = int(rows["n"].iloc[0])
        groups.append(
            GroupResult(
                group=str(label),
                n=n,
                share=n / total,
                small=n < min_support,
                metrics=[_record(MetricValue, row, name="metric") for row in rows.itertuples()],
                weak_metrics=weak.get((name, str(label)), []),
                confusion_matrix=_confusion_matrix(measured, name, index),
                class_matrix=_class_matrix(measured, name, index),
                classes=_class_results(by_group_and_class.get(label)),
            )
        )
    calibration = [
        GroupCalibration(str(label), uniform, quantile)
        for label, (uniform, quantile) in zip(family.labels, measured.reliability.get(name, []), strict=False)
    ]
    return SliceResult(family.name, family.kind, family.columns, family.notes, groups, calibration)


def _confusion_matrix(measured: Measured, name: str, index: int) -> ConfusionMatrix | None:
    if measured.task != "binary":
        return None
    c = measured.statistics[name].confusion
    return ConfusionMatrix(tn=int(c.tn[index]), fp=int(c.fp[index]), fn=int(c.fn[index]), tp=int(c.tp[index]))


def _class_matrix(measured: Measured, name: str, index: int) -> list[list[int]] | None:
    if measured.task != "multiclass":
        return None
    return measured.statistics[name].confusion.matrix[index].astype(int).tolist()


def _class_results(rows: Any) -> list[ClassResult]:
    """Multiclass: one group's rows of the class-metrics table as results per class (none otherwise)."""
    if rows is None:
        return []
    return [
        ClassResult(str(class_label), [_record(MetricValue, row, name="metric") for row in part.itertuples()])
        for class_label, part in rows.groupby("class_label", sort=False)
    ]


def _fairness_results(fairness: Fairness, settings: FairnessSection) -> list[FairnessResult]:
    results = []
    for column in settings.sensitive:
        gaps = fairness.gaps[fairness.gaps["sensitive"] == column]
        by_group = fairness.by_group[fairness.by_group["sensitive"] == column]
        groups = [
            FairnessGroup(
                group=str(label),
                n=int(rows["n"].iloc[0]),
                is_reference=str(label) == fairness.references[column],
                rates=[_record(RateComparison, row) for row in rows.itertuples()],
            )
            for label, rows in by_group.groupby("group", sort=False)
        ]
        results.append(
            FairnessResult(
                sensitive=column,
                reference=fairness.references[column],
                max_difference=fairness.thresholds.max_difference,
                min_ratio=settings.min_ratio,
                gaps=[_record(FairnessGap, row, name="gap") for row in gaps.itertuples()],
                groups=groups,
            )
        )
    return results


def _performance_metrics(results: list[SliceResult], threshold: float | None) -> list[PerformanceMetric]:
    entries = []
    for result in results:
        for group in result.groups:
            # one entry per metric repeats the group's name: shortened, so that it does not multiply a long label
            slice_name = OVERALL if result.name == OVERALL else shorten(f"{result.name}: {group.group}",
                                                                        DISPLAY_SLICE_CHARS)
            for metric in group.metrics:
                interval = (
                    None
                    if metric.ci_low is None
                    else {"lower_bound": metric.ci_low, "upper_bound": metric.ci_high}
                )
                entries.append(PerformanceMetric(metric.name, metric.value, slice_name, interval, group.n, threshold))
    return entries
