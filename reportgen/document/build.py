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
import pandas as pd

from reportgen.analysis.base import Finding, TestFamily
from reportgen.analysis.comparison import Comparison, change_counts
from reportgen.analysis.error_analysis import ErrorAnalysis
from reportgen.analysis.fairness import Fairness, sensitive_family
from reportgen.analysis.monitoring import Monitoring
from reportgen.analysis.training import TrainingSummary
from reportgen.config import Config, FairnessSection
from reportgen.document.explanations import (
    attributions_section,
    explanations_section,
    proxies_section,
    surrogate_section,
)
from reportgen.document.schema import (
    SCHEMA_VERSION,
    Charts,
    ClassCount,
    ClassResult,
    ComparisonResult,
    ConfusionMatrix,
    DriftColumn,
    DriftEntry,
    EngineRecord,
    EngineStage,
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
    MonitoringResult,
    Multiplicity,
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
from reportgen.engines.run import EngineRun
from reportgen.formatting import count, pct
from reportgen.history import History
from reportgen.io import Predictions
from reportgen.labels import DISPLAY_SLICE_CHARS, shorten
from reportgen.metrics import tasks
from reportgen.metrics.measure import Measured
from reportgen.record import GitState, config_fingerprint, versions
from reportgen.slices import OTHER, SliceFamily
from reportgen.version import __version__
from reportgen.vocabulary import OVERALL

T = TypeVar("T")
G = TypeVar("G", GroupResult, GroupChange, FairnessGroup)
# Analysis name → writer of its card section, for analyses without a layout of their own in `Report`;
# the result None means the analysis did not apply (no section).
SECTIONS: dict[str, Callable[[Any], Section]] = {"explanations": explanations_section,
                                                  "attributions": attributions_section, "surrogate": surrogate_section,
                                                  "proxies": proxies_section}


def build_report(
    config: Config,
    predictions: Predictions,
    measured: Measured,
    results: Mapping[str, Any],
    findings: list[Finding],
    families: list[TestFamily],
    *,
    git: GitState | None = None,
    history: History | None = None,
    engine: EngineRun | None = None,
) -> Report:
    """Turn what an evaluation measured and found into the model card document (gates not yet checked).

    `results` holds each analysis's result by name (`reportgen.analysis.registry`); an analysis
    without a layout of its own is written as a generic `Section` by its entry in `SECTIONS`.
    `families` are the analyses' families of tests, stated in the card's multiplicity policy.
    """
    weak = _weak_metrics(findings)
    total = int(measured.statistics[OVERALL].n[0])
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
        monitoring=_monitoring_result(results.get("monitoring"), config),
        findings=list(findings),
        multiplicity=_multiplicity(config, families),
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
            engine=None if engine is None else _engine_record(engine, config.report.timings),
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
            metrics=_infos(measured.registry, measured.metrics),
            class_metrics=_infos(measured.class_registry, measured.class_metrics),
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
        fairness=_fairness_results(results["fairness"], config.fairness, measured),
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
            changes = [_metric_change(row, min_support) for row in rows.itertuples()]
            groups.append(GroupChange(group=str(label), n=n, small=n < min_support, metrics=changes))
        shown, more = _shown_split(measured, family, groups)
        slices.append(SliceChange(name=family.name, groups=shown, more_groups=more))
    improvements, regressions = change_counts(comparison.table)
    return ComparisonResult(
        baseline=comparison.name,
        source=comparison.source,
        fingerprint=comparison.fingerprint,
        join=comparison.join,
        unmatched=comparison.unmatched,
        rows=n_rows,
        fdr=config.findings.fdr,
        improvements=improvements,
        regressions=regressions,
        overall=slices[0].groups[0],
        slices=slices[1:],
    )


def _multiplicity(config: Config, families: list[TestFamily]) -> Multiplicity:
    fdr = config.findings.fdr
    rule = (
        f"A claim is significant where its q-value, the p-value adjusted by Benjamini–Hochberg within its family, "
        f"is at most {fdr:g} (the false discovery rate, [findings] fdr). Intervals are unadjusted "
        f"{pct(config.report.confidence_level, 0)} intervals, so an interval that excludes 0 can belong to a "
        "difference or gap that is not flagged: the test decides."
    )
    return Multiplicity(method="Benjamini–Hochberg", fdr=fdr, rule=rule, families=list(families))


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


def _monitoring_result(found: Monitoring | None, config: Config) -> MonitoringResult | None:
    if found is None:
        return None
    settings = config.monitoring
    columns = []
    for c in found.columns:
        test, effect = c.significance, c.effect
        psi = next((t.statistic for t in c.tests if t.test == "psi"), None)
        columns.append(DriftColumn(
            column=c.column, role=c.role, kind=c.kind, n_reference=c.n_reference, n_current=c.n_current,
            missing_reference=c.missing_reference, missing_current=c.missing_current,
            test=None if test is None else test.test, q_value=None if test is None else test.q_value,
            effect=None if effect is None else effect.test, effect_value=None if effect is None else effect.statistic,
            threshold=None if effect is None else effect.threshold, psi=psi, drifted=c.drifted,
            first_window=None if found.by_window is None else found.by_window.first_drifted(c.column), note=c.note,
            distribution=c.distribution,
        ))
    # the drift table reads largest shift first: drifted columns, then by the size of the shift
    columns.sort(key=lambda c: (c.drifted is not True, c.drifted is None, -(c.effect_value or 0.0)))
    return MonitoringResult(
        reference=found.reference, reference_rows=found.reference_rows, current_rows=found.current_rows,
        reference_labels=found.reference_labels, time=found.time, window=found.window, windows=found.windows,
        unlabelled=found.unlabelled,
        missing_times=found.missing_times, fdr=config.findings.fdr, min_wasserstein=settings.min_wasserstein,
        min_jensen_shannon=settings.min_jensen_shannon, min_psi=settings.min_psi, tested=len(found.inputs),
        drift_share=found.drift_share, drifted=[c.column for c in found.inputs if c.drifted],
        drift=[DriftEntry(c.column, c.role, c.kind, t.test, t.statistic, t.p_value, t.q_value, t.threshold, c.drifted)
               for c in found.columns for t in c.tests],
        columns=columns, skipped=found.skipped, by_window=found.by_window, performance=found.performance,
        performance_tests=found.performance_tests, changes=found.changes, notes=found.notes,
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


def _infos(registry: Mapping[str, Any], table: Any) -> list[MetricInfo]:
    """The registry's entries as the card describes them; what each one's support counts is read from its table."""
    first = table.drop_duplicates("metric")
    units = dict(zip(first["metric"], first["support_unit"], strict=True))
    return [MetricInfo(m.name, m.label, m.interval, m.higher_is_better, units[m.name]) for m in registry.values()]


def _prediction_source(config: Config, task: str) -> str:
    data = config.data
    if data.prediction:
        return f'column "{data.prediction}"'
    if task == "binary":
        return "score ≥ threshold"
    return "the most probable class"


def _engine_record(engine: EngineRun, timings: bool) -> EngineRecord:
    stages = [EngineStage(stage.name, stage.seconds if timings else None) for stage in engine.stages]
    return EngineRecord(engine.name, engine.version, engine.rows, stages, list(engine.notes))


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
        counts = measured.statistics[OVERALL].confusion.matrix[0].sum(axis=1)
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


def _metric_value(row: Any, min_support: int) -> MetricValue:
    """A row of a metric table; small where the rows it rests on (its support) are fewer than `min_support`."""
    support = int(row.support)
    return MetricValue(
        name=row.metric, value=_number(row.value), ci_low=_number(row.ci_low), ci_high=_number(row.ci_high),
        support=support, small=support < min_support, undefined_reason=_plain(row.undefined_reason),
    )


def _metric_change(row: Any, min_support: int) -> MetricChange:
    """A row of a comparison table; small where its support is below `min_support` (then it is never flagged)."""
    support = int(row.support)
    values = {f.name: _plain(getattr(row, f.name)) for f in fields(MetricChange)
              if f.name not in ("name", "support", "small")}
    return MetricChange(name=row.metric, support=support, small=support < min_support, **values)


def _metric(group: GroupResult, name: str) -> MetricValue:
    return next(m for m in group.metrics if m.name == name)


def _slice_result(
    measured: Measured, family: SliceFamily, weak: dict[tuple[str, str], list[str]], min_support: int, total: int
) -> SliceResult:
    name = family.name
    groups = _group_results(measured.task, family, measured.metrics, measured.class_metrics,
                            measured.statistics[name], weak, min_support, total)
    distinct = family.n_distinct
    calibration = [
        GroupCalibration(str(label), uniform, quantile)
        for label, (uniform, quantile) in zip(family.labels, measured.reliability.get(name, []), strict=False)
    ]
    other = measured.others.get(name)
    if other is None:
        return SliceResult(name, family.kind, family.columns, family.notes, groups, [], family.pooled, distinct,
                           calibration)
    shown, more = _shown_split(measured, family, groups)
    (other_result,) = _group_results(measured.task, other.shown.other, other.metrics, other.class_metrics,
                                     other.statistics, {}, min_support, total)
    listing = [f"report.json lists {count(len(more))} of them one by one"] if more else []
    if family.pooled:
        listing.append(f"{count(family.pooled)} values beyond the slice's max_groups only within \"{OTHER}\"")
    note = (f"{count(distinct)} groups: the {count(len(shown))} largest are shown, and \"{OTHER}\" holds the "
            f"other {count(other.shown.merged)} ({count(other_result.n)} rows), measured as one group"
            + (f"; {', and '.join(listing)}." if listing else "."))
    labels = {g.group for g in shown}
    # a values family's only note is max_groups' pool, which this note restates ("(other)" now holds more)
    notes = [] if family.pooled else list(family.notes)
    return SliceResult(name, family.kind, family.columns, [*notes, note], [*shown, other_result], more,
                       family.pooled, distinct, [c for c in calibration if c.group in labels])


def _group_results(
    task: str,
    family: SliceFamily,
    metrics: pd.DataFrame,
    class_metrics: pd.DataFrame,
    statistics: tasks.Statistics,
    weak: dict[tuple[str, str], list[str]],
    min_support: int,
    total: int,
) -> list[GroupResult]:
    """Every group of `family`, in its order, from its rows of the metric tables and its statistics."""
    name = family.name
    by_group = dict(tuple(metrics[metrics["slice"] == name].groupby("group", sort=False)))
    class_table = class_metrics[class_metrics["slice"] == name]
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
                metrics=[_metric_value(row, min_support) for row in rows.itertuples()],
                weak_metrics=weak.get((name, str(label)), []),
                confusion_matrix=_confusion_matrix(task, statistics, index),
                class_matrix=_class_matrix(task, statistics, index),
                classes=_class_results(by_group_and_class.get(label), min_support),
            )
        )
    return groups


def _confusion_matrix(task: str, statistics: tasks.Statistics, index: int) -> ConfusionMatrix | None:
    if task != "binary":
        return None
    c = statistics.confusion
    return ConfusionMatrix(tn=int(c.tn[index]), fp=int(c.fp[index]), fn=int(c.fn[index]), tp=int(c.tp[index]))


def _class_matrix(task: str, statistics: tasks.Statistics, index: int) -> list[list[int]] | None:
    if task != "multiclass":
        return None
    return statistics.confusion.matrix[index].astype(int).tolist()


def _class_results(rows: Any, min_support: int) -> list[ClassResult]:
    """Multiclass: one group's rows of the class-metrics table as results per class (none otherwise)."""
    if rows is None:
        return []
    return [
        ClassResult(str(class_label), [_metric_value(row, min_support) for row in part.itertuples()])
        for class_label, part in rows.groupby("class_label", sort=False)
    ]


def _shown_split(
    measured: Measured, family: SliceFamily, groups: list[G], keep: str | None = None
) -> tuple[list[G], list[G]]:
    """A family's groups (one per label, in its order) as the card shows them: the groups shown (and `keep`,
    a group shown whatever its size), then the rest, largest first, without a pool of values beyond
    `max_groups` (it is counted as `left_out`). Every group is shown when the family is not capped."""
    other = measured.others.get(family.name)
    if other is None:
        return groups, []
    chosen = list(other.shown.groups)
    chosen += [i for i, g in enumerate(groups) if g.group == keep and i not in chosen]
    rest = sorted(set(range(family.n_listed)) - set(chosen), key=lambda i: (-groups[i].n, i))
    return [groups[i] for i in chosen], [groups[i] for i in rest]


def _fairness_results(fairness: Fairness, settings: FairnessSection, measured: Measured) -> list[FairnessResult]:
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
        shown, more = _shown_split(measured, sensitive_family(measured.families, column), groups,
                                   keep=fairness.references[column])
        results.append(
            FairnessResult(
                sensitive=column,
                reference=fairness.references[column],
                max_difference=fairness.thresholds.max_difference,
                min_ratio=settings.min_ratio,
                gaps=[_record(FairnessGap, row, name="gap") for row in gaps.itertuples()],
                groups=shown,
                more_groups=more,
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
