"""The model card as a document: plain, JSON-ready dataclasses (what the card says, not how it looks).

Sections follow Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np

import reportgen
from reportgen.evaluation import OVERALL, Evaluation
from reportgen.metrics.binary import METRICS
from reportgen.metrics.curves import CalibrationBins, Curve, ScoreHistogram

SCHEMA_VERSION = "1.0.0"
T = TypeVar("T")


@dataclass(frozen=True)
class MetricValue:
    """One metric of one group: value with its interval, or why it is undefined."""

    name: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    undefined_reason: str | None


@dataclass(frozen=True)
class ConfusionMatrix:
    """Confusion counts; positive is the configured positive label."""

    tn: int
    fp: int
    fn: int
    tp: int


@dataclass(frozen=True)
class GroupResult:
    """All metrics of one group of a slice."""

    group: str
    n: int
    share: float
    metrics: list[MetricValue]
    confusion_matrix: ConfusionMatrix


@dataclass(frozen=True)
class SliceResult:
    """One slice family: how its groups were formed and their metrics."""

    name: str
    kind: str
    columns: list[str]
    notes: list[str]
    groups: list[GroupResult]


@dataclass(frozen=True)
class RateComparison:
    """A group's rate against the reference group's."""

    rate: str
    value: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    ratio: float | None
    breached: bool | None
    significant: bool | None
    undefined_reason: str | None


@dataclass(frozen=True)
class FairnessGroup:
    """One group of a sensitive column."""

    group: str
    n: int
    is_reference: bool
    rates: list[RateComparison]


@dataclass(frozen=True)
class FairnessGap:
    """A summary gap (Fairlearn definitions) flagged against its threshold.

    `between` names the two groups that make the gap and `rate` the rate compared (equalized odds
    takes the worse of TPR and FPR); `note` says which rate could not be compared, if any.
    """

    name: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    threshold: float
    breached: bool | None
    significant: bool | None
    between: str | None
    rate: str | None
    note: str | None
    undefined_reason: str | None


@dataclass(frozen=True)
class FairnessResult:
    """Gaps across the groups of one sensitive column."""

    sensitive: str
    reference: str
    max_difference: float
    min_ratio: float
    gaps: list[FairnessGap]
    groups: list[FairnessGroup]


@dataclass(frozen=True)
class OperatingPoint:
    """Where the decision threshold puts the model on its ROC curve."""

    threshold: float
    fpr: float | None
    tpr: float | None


@dataclass(frozen=True)
class Charts:
    """Small pre-aggregated chart data."""

    roc: Curve | None
    precision_recall: Curve | None
    calibration: CalibrationBins
    score_histogram: ScoreHistogram
    operating_point: OperatingPoint


@dataclass(frozen=True)
class ModelDetails:
    """Model details section."""

    name: str
    version: str
    description: str
    date: str | None
    owners: list[str]
    license: str | None
    citation: str | None


@dataclass(frozen=True)
class MetricInfo:
    """Which metric, how its interval is computed, and which direction is better."""

    name: str
    label: str
    interval: str | None
    higher_is_better: bool | None


@dataclass(frozen=True)
class MetricsSection:
    """Metrics section: what is measured and how uncertainty is estimated."""

    metrics: list[MetricInfo]
    threshold: float
    prediction_source: str
    confidence_level: float
    resamples: int
    seed: int


@dataclass(frozen=True)
class EvaluationData:
    """Evaluation data section: the file, its size and label balance."""

    source: str
    fingerprint: str
    rows: int
    positives: int
    negatives: int
    prevalence: float
    positive_label: str
    description: str | None


@dataclass(frozen=True)
class Narrative:
    """The card's free-text sections, markdown as written (None: not provided)."""

    intended_use: str | None
    out_of_scope: str | None
    factors: str | None
    training_data: str | None
    ethical_considerations: str | None
    caveats: str | None


@dataclass(frozen=True)
class PerformanceMetric:
    """A Model Card Toolkit-compatible `performance_metrics` entry."""

    type: str
    value: float | None
    slice: str
    confidence_interval: dict[str, float | None] | None
    n: int
    threshold: float


@dataclass(frozen=True)
class Report:
    """The whole model card."""

    schema_version: str
    generator: str
    title: str
    model: ModelDetails
    narrative: Narrative
    metrics: MetricsSection
    evaluation_data: EvaluationData
    overall: GroupResult
    slices: list[SliceResult]
    fairness: list[FairnessResult]
    charts: Charts
    performance_metrics: list[PerformanceMetric]


def build_report(ev: Evaluation) -> Report:
    """Turn an evaluation into the model card document."""
    config = ev.config
    results = [_slice_result(ev, family.name) for family in ev.families]
    overall = results[0].groups[0]
    return Report(
        schema_version=SCHEMA_VERSION,
        generator=f"reportgen {reportgen.__version__}",
        title=config.report.title,
        model=ModelDetails(
            name=config.model.name,
            version=config.model.version,
            description=config.model.description,
            date=None if config.model.date is None else str(config.model.date),
            owners=list(config.card.owners),
            license=config.card.license,
            citation=config.card.citation,
        ),
        narrative=Narrative(
            intended_use=config.card.intended_use,
            out_of_scope=config.card.out_of_scope,
            factors=config.card.factors,
            training_data=config.card.training_data,
            ethical_considerations=config.card.ethical_considerations,
            caveats=config.card.caveats,
        ),
        metrics=MetricsSection(
            metrics=[MetricInfo(m.name, m.label, m.interval, m.higher_is_better) for m in METRICS],
            threshold=config.data.threshold,
            prediction_source=(
                f'column "{config.data.prediction}"' if config.data.prediction else "score ≥ threshold"
            ),
            confidence_level=config.report.confidence_level,
            resamples=config.report.resamples,
            seed=config.report.seed,
        ),
        evaluation_data=EvaluationData(
            source=ev.predictions.source,
            fingerprint=ev.predictions.fingerprint,
            rows=overall.n,
            positives=overall.confusion_matrix.tp + overall.confusion_matrix.fn,
            negatives=overall.confusion_matrix.tn + overall.confusion_matrix.fp,
            prevalence=float(_metric(overall, "prevalence").value or 0.0),
            positive_label=ev.predictions.positive_label,
            description=config.card.evaluation_data,
        ),
        overall=overall,
        slices=results[1:],
        fairness=_fairness_results(ev),
        charts=Charts(
            roc=ev.curves.roc,
            precision_recall=ev.curves.precision_recall,
            calibration=ev.curves.calibration,
            score_histogram=ev.curves.scores,
            operating_point=OperatingPoint(
                threshold=config.data.threshold,
                fpr=_metric(overall, "fpr").value,
                tpr=_metric(overall, "recall").value,
            ),
        ),
        performance_metrics=_performance_metrics(results, config.data.threshold),
    )


def _number(value: object) -> float | None:
    """A JSON-ready float: None for NaN or missing."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


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


def _slice_result(ev: Evaluation, name: str) -> SliceResult:
    total = len(ev.predictions.frame)
    family = next(f for f in ev.families if f.name == name)
    table = ev.metrics[ev.metrics["slice"] == name]
    confusion = ev.confusion[ev.confusion["slice"] == name].set_index("group")
    groups = []
    for label, rows in table.groupby("group", sort=False):
        counts = confusion.loc[label]
        groups.append(
            GroupResult(
                group=str(label),
                n=int(rows["n"].iloc[0]),
                share=int(rows["n"].iloc[0]) / total,
                metrics=[_record(MetricValue, row, name="metric") for row in rows.itertuples()],
                confusion_matrix=ConfusionMatrix(
                    tn=int(counts["tn"]), fp=int(counts["fp"]), fn=int(counts["fn"]), tp=int(counts["tp"])
                ),
            )
        )
    order = {label: i for i, label in enumerate(family.labels)}
    groups.sort(key=lambda g: order[g.group])
    return SliceResult(family.name, family.kind, family.columns, family.notes, groups)


def _fairness_results(ev: Evaluation) -> list[FairnessResult]:
    results = []
    fairness = ev.config.fairness
    for column in fairness.sensitive:
        gaps = ev.fairness[ev.fairness["sensitive"] == column]
        by_group = ev.fairness_by_group[ev.fairness_by_group["sensitive"] == column]
        groups = [
            FairnessGroup(
                group=str(label),
                n=int(rows["n"].iloc[0]),
                is_reference=str(label) == ev.references[column],
                rates=[_record(RateComparison, row) for row in rows.itertuples()],
            )
            for label, rows in by_group.groupby("group", sort=False)
        ]
        results.append(
            FairnessResult(
                sensitive=column,
                reference=ev.references[column],
                max_difference=fairness.max_difference,
                min_ratio=fairness.min_ratio,
                gaps=[_record(FairnessGap, row, name="gap") for row in gaps.itertuples()],
                groups=groups,
            )
        )
    return results


def _performance_metrics(results: list[SliceResult], threshold: float) -> list[PerformanceMetric]:
    entries = []
    for result in results:
        for group in result.groups:
            slice_name = OVERALL if result.name == OVERALL else f"{result.name}: {group.group}"
            for metric in group.metrics:
                interval = (
                    None
                    if metric.ci_low is None
                    else {"lower_bound": metric.ci_low, "upper_bound": metric.ci_high}
                )
                entries.append(PerformanceMetric(metric.name, metric.value, slice_name, interval, group.n, threshold))
    return entries
