"""The model card as a document: plain, JSON-ready dataclasses (what the card says, not how it looks).

Sections follow Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np

import reportgen
from reportgen.analysis.comparison import IMPROVEMENT, REGRESSION, Comparison
from reportgen.analysis.error_tree import TreeNode
from reportgen.analysis.findings import Finding
from reportgen.evaluation import OVERALL, Evaluation
from reportgen.labels import DISPLAY_SLICE_CHARS, shorten
from reportgen.metrics.calibration import Reliability
from reportgen.metrics.curves import Curve, ScoreHistogram, ThresholdChoice
from reportgen.metrics.residuals import Density, ResidualBands, ResidualHistogram
from reportgen.record import config_fingerprint, versions

SCHEMA_VERSION = "2.6.0"
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
class ClassResult:
    """Multiclass: the metrics of one class against the rest, in one group."""

    class_label: str
    metrics: list[MetricValue]


@dataclass(frozen=True)
class GroupResult:
    """All metrics of one group of a slice.

    `small` marks a group with fewer rows than `min_support` (its numbers are shown greyed);
    `weak_metrics` names the metrics a finding reports as significantly worse than the rest.
    Binary groups have `confusion_matrix`; multiclass groups `class_matrix` (counts indexed
    [actual][predicted] in the order of `EvaluationData.classes`) and `classes`.
    """

    group: str
    n: int
    share: float
    small: bool
    metrics: list[MetricValue]
    weak_metrics: list[str]
    confusion_matrix: ConfusionMatrix | None
    class_matrix: list[list[int]] | None
    classes: list[ClassResult]


@dataclass(frozen=True)
class GroupCalibration:
    """One group's reliability diagrams, on uniform and on quantile bins."""

    group: str
    uniform: Reliability
    quantile: Reliability


@dataclass(frozen=True)
class SliceResult:
    """One slice family: how its groups were formed and their metrics."""

    name: str
    kind: str
    columns: list[str]
    notes: list[str]
    groups: list[GroupResult]
    calibration: list[GroupCalibration]


@dataclass(frozen=True)
class RateComparison:
    """A group's rate (regression: error) against the reference group's; multiclass: of one class."""

    rate: str
    class_label: str | None
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
    class_label: str | None
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
    """Gaps across the groups of one sensitive column.

    `max_difference` is the threshold differences were flagged at: a rate difference for
    classification, a difference in the target's units for regression.
    """

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
    """Small pre-aggregated chart data; None (or empty) where it does not apply to the task."""

    roc: Curve | None
    precision_recall: Curve | None
    score_histogram: ScoreHistogram | None
    operating_point: OperatingPoint | None
    thresholds: ThresholdChoice | None
    reliability: list[Reliability]
    density: Density | None
    residual_bands: ResidualBands | None
    residual_histogram: ResidualHistogram | None


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
    """Metrics section: what is measured and how uncertainty is estimated.

    `threshold` is the binary decision threshold (None for other tasks); `class_metrics` the
    metrics of one class against the rest (multiclass).
    """

    metrics: list[MetricInfo]
    class_metrics: list[MetricInfo]
    threshold: float | None
    prediction_source: str
    confidence_level: float
    resamples: int
    seed: int
    min_support: int
    calibration_bins: int


@dataclass(frozen=True)
class ClassCount:
    """Multiclass: one class and its rows."""

    label: str
    n: int
    share: float


@dataclass(frozen=True)
class EvaluationData:
    """Evaluation data section: the file, its size and label balance.

    Binary: `positives`, `negatives`, `prevalence`, `positive_label`. Multiclass: `classes`.
    Regression: `zero_targets` (rows left out of MAPE). Fields of other tasks are None or empty.
    """

    source: str
    fingerprint: str
    rows: int
    positives: int | None
    negatives: int | None
    prevalence: float | None
    positive_label: str | None
    classes: list[ClassCount]
    zero_targets: int | None
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
    threshold: float | None


@dataclass(frozen=True)
class RunRecord:
    """Reproducibility: what produced this card.

    `config_fingerprint` hashes the validated configuration (canonical JSON), `data_fingerprint` the
    predictions file's bytes (or the data frame's content). `git_commit` and `git_dirty` describe the
    working tree holding the config file (None outside git, and for `evaluate()`); `params` are the
    model's hyperparameters (`[model.params]`); `versions` maps python and each installed package of
    reportgen's stack to its version.
    """

    data_fingerprint: str
    config_fingerprint: str
    git_commit: str | None
    git_dirty: bool | None
    params: dict[str, bool | int | float | str]
    versions: dict[str, str]


@dataclass(frozen=True)
class TrainingSeries:
    """One logged series: a value per epoch of `TrainingResult.epochs` (None where it was not logged or
    not finite); `nonfinite_epochs` are the epochs where a NaN or infinite value was logged."""

    name: str
    values: list[float | None]
    nonfinite_epochs: list[int]


@dataclass(frozen=True)
class TrainingResult:
    """The model's training history (`[training] history`) and what it shows.

    `train_loss` and `val_loss` name the series recognized as the losses; `best_epoch` has the lowest
    finite validation loss; `overfitting_epoch` is where validation loss started rising while training
    loss kept falling; `underfitting` (both losses high and flat) and `not_converged` (training loss
    still falling at the end) follow the rules of `reportgen.analysis.training`.
    """

    source: str
    kind: str
    epochs: list[int]
    series: list[TrainingSeries]
    train_loss: str | None
    val_loss: str | None
    best_epoch: int | None
    best_val_loss: float | None
    last_epoch: int
    overfitting_epoch: int | None
    underfitting: bool
    not_converged: bool


@dataclass(frozen=True)
class GateCheck:
    """One value a quality gate tests: a group's metric, or one sensitive column's gap.

    `passed` is None where the value is undefined (`undefined_reason` says why): it is not checked.
    `significant` says whether the interval lies wholly beyond the bound.
    """

    subject: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    breached: bool | None
    significant: bool | None
    passed: bool | None
    undefined_reason: str | None


@dataclass(frozen=True)
class GateResult:
    """A `[[gates]]` entry and its outcome.

    `status` is "pass" (every checked value within its bound), "fail" (at least one breach; with
    `significant`, at least one significant breach) or "undefined" (no value could be checked).
    `title` states the gate in words and `detail` its outcome, numbers included. A gate with
    `max_regression` checks each group's difference from the baseline (every baseline, or
    `baseline`): its checks hold differences, candidate − baseline.
    """

    title: str
    metric: str | None
    fairness: str | None
    slice: str | None
    group: str | None
    sensitive: str | None
    min: float | None
    max: float | None
    max_regression: float | None
    baseline: str | None
    significant: bool
    status: str
    detail: str
    checks: list[GateCheck]


@dataclass(frozen=True)
class MetricChange:
    """One metric of one group, the candidate's against the baseline's (same rows).

    `difference` is candidate − baseline, with its paired interval (`method`: "paired bootstrap",
    "DeLong (paired)" or "paired normal"; None where the metric has none). `p_value` comes from
    `test` ("McNemar (exact)" or "z-test"), `q_value` is Benjamini–Hochberg adjusted over the
    groups of the metric, and `flag` is "improvement", "regression" or None (not significant, no
    better direction, or a group below `min_support`). Each model's own value has its interval.
    """

    name: str
    candidate: float | None
    candidate_ci_low: float | None
    candidate_ci_high: float | None
    baseline: float | None
    baseline_ci_low: float | None
    baseline_ci_high: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    method: str | None
    p_value: float | None
    q_value: float | None
    test: str | None
    flag: str | None
    undefined_reason: str | None


@dataclass(frozen=True)
class GroupChange:
    """Every compared metric of one group."""

    group: str
    n: int
    small: bool
    metrics: list[MetricChange]


@dataclass(frozen=True)
class SliceChange:
    """One slice family's groups, compared."""

    name: str
    groups: list[GroupChange]


@dataclass(frozen=True)
class ComparisonResult:
    """The candidate against one baseline (`[baseline]`).

    `join` says how rows were matched; `unmatched` counts baseline rows left out (no candidate row
    with their id); `improvements` and `regressions` count the flagged differences over every
    group and metric, at false discovery rate `fdr`.
    """

    baseline: str
    source: str
    fingerprint: str
    join: str
    unmatched: int
    rows: int
    fdr: float
    improvements: int
    regressions: int
    overall: GroupChange
    slices: list[SliceChange]


@dataclass(frozen=True)
class SliceCondition:
    """One condition of a discovered slice: a column's group (a value, or a quantile bin)."""

    column: str
    group: str


@dataclass(frozen=True)
class ErrorSlice:
    """A discovered slice where the model does significantly worse than on the rest of the data.

    `value` is the error measure there (with its interval), `rest` over the other rows; `p_value`
    is the largest one-sided p-value of its tests (against the rest, and against the other rows of
    each more general slice), `q_value` Benjamini–Hochberg adjusted over every slice tested.
    `examples` are its most confident wrong predictions (regression: largest errors) as text, one
    list per row in the order of `example_columns`.
    """

    slice: str
    conditions: list[SliceCondition]
    rank: int
    n: int
    share: float
    value: float
    ci_low: float | None
    ci_high: float | None
    rest: float
    difference: float
    p_value: float
    q_value: float
    example_columns: list[str]
    examples: list[list[str]]


@dataclass(frozen=True)
class Improvement:
    """A row of the scope-for-improvement table: what the whole would gain if the slice reached `target`.

    `origin` is "discovered" or "configured"; `target_source` "overall", "best: <slice>" (the best
    comparable slice) or "config" (`[error_analysis.targets]`); `gain` = share × max(value − target, 0).
    """

    slice: str
    origin: str
    n: int
    share: float
    value: float
    target: float
    target_source: str
    gain: float


@dataclass(frozen=True)
class ErrorAnalysisResult:
    """Where the model fails (`[error_analysis]`): discovered slices, the scope for improvement, the error tree.

    `metric` names the per-row error measure (`measure` in words); `message` says why nothing is
    reported when that is so. `tree` lists the error tree's nodes in pre-order.
    """

    metric: str
    measure: str
    columns: list[str]
    notes: list[str]
    depth: int
    min_support: int
    fdr: float
    tested: int
    overall: float
    message: str | None
    slices: list[ErrorSlice]
    improvements: list[Improvement]
    tree: list[TreeNode]


@dataclass(frozen=True)
class Report:
    """The whole model card."""

    schema_version: str
    generator: str
    title: str
    task: str
    gates: list[GateResult]
    comparisons: list[ComparisonResult]
    error_analysis: ErrorAnalysisResult | None
    findings: list[Finding]
    model: ModelDetails
    run: RunRecord
    training: TrainingResult | None
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
    weak = _weak_metrics(ev.findings)
    results = [_slice_result(ev, family.name, weak) for family in ev.families]
    overall = results[0].groups[0]
    threshold = config.data.threshold if ev.task == "binary" else None
    return Report(
        schema_version=SCHEMA_VERSION,
        generator=f"reportgen {reportgen.__version__}",
        title=config.report.title,
        task=ev.task,
        gates=[],
        comparisons=[_comparison_result(ev, comparison) for comparison in ev.comparisons],
        error_analysis=_error_analysis_result(ev),
        findings=list(ev.findings),
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
            data_fingerprint=ev.predictions.fingerprint,
            config_fingerprint=config_fingerprint(config),
            git_commit=None if ev.git is None else ev.git.commit,
            git_dirty=None if ev.git is None else ev.git.dirty,
            params={**({} if ev.history is None else ev.history.params), **config.model.params},
            versions=versions(),
        ),
        training=_training_result(ev),
        narrative=Narrative(
            intended_use=config.card.intended_use,
            out_of_scope=config.card.out_of_scope,
            factors=config.card.factors,
            training_data=config.card.training_data,
            ethical_considerations=config.card.ethical_considerations,
            caveats=config.card.caveats,
        ),
        metrics=MetricsSection(
            metrics=[_info(m) for m in ev.registry.values()],
            class_metrics=[_info(m) for m in ev.class_registry.values()],
            threshold=threshold,
            prediction_source=_prediction_source(ev),
            confidence_level=config.report.confidence_level,
            resamples=config.report.resamples,
            seed=config.report.seed,
            min_support=config.report.min_support,
            calibration_bins=config.report.calibration_bins,
        ),
        evaluation_data=_evaluation_data(ev, overall),
        overall=overall,
        slices=results[1:],
        fairness=_fairness_results(ev),
        charts=Charts(
            roc=ev.curves.roc,
            precision_recall=ev.curves.precision_recall,
            score_histogram=ev.curves.scores,
            operating_point=None if threshold is None else OperatingPoint(
                threshold=threshold, fpr=_metric(overall, "fpr").value, tpr=_metric(overall, "recall").value,
            ),
            thresholds=ev.curves.thresholds,
            reliability=list(ev.curves.reliability),
            density=ev.curves.density,
            residual_bands=ev.curves.residual_bands,
            residual_histogram=ev.curves.residual_histogram,
        ),
        performance_metrics=_performance_metrics(results, threshold),
    )


def _comparison_result(ev: Evaluation, comparison: Comparison) -> ComparisonResult:
    keys = ["slice", "group", "metric"]
    table = comparison.table
    for model, metrics in (("candidate", ev.metrics), ("baseline", comparison.baseline_metrics)):
        bounds = metrics[[*keys, "ci_low", "ci_high"]].rename(
            columns={"ci_low": f"{model}_ci_low", "ci_high": f"{model}_ci_high"})
        table = table.merge(bounds, on=keys, how="left")
    min_support = ev.config.report.min_support
    slices = []
    for family in ev.families:
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
        rows=len(ev.predictions.frame),
        fdr=ev.config.findings.fdr,
        improvements=int((flags == IMPROVEMENT).sum()),
        regressions=int((flags == REGRESSION).sum()),
        overall=slices[0].groups[0],
        slices=slices[1:],
    )


def _error_analysis_result(ev: Evaluation) -> ErrorAnalysisResult | None:
    found = ev.error_analysis
    if found is None:
        return None
    settings = ev.config.error_analysis
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
        min_support=settings.min_support or ev.config.report.min_support,
        fdr=ev.config.findings.fdr,
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


def _training_result(ev: Evaluation) -> TrainingResult | None:
    history, summary = ev.history, ev.training
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


def _prediction_source(ev: Evaluation) -> str:
    data = ev.config.data
    if data.prediction:
        return f'column "{data.prediction}"'
    if ev.task == "binary":
        return "score ≥ threshold"
    return "the most probable class"


def _evaluation_data(ev: Evaluation, overall: GroupResult) -> EvaluationData:
    predictions = ev.predictions
    positives = negatives = prevalence = None
    classes: list[ClassCount] = []
    zero_targets = None
    if ev.task == "binary":
        assert overall.confusion_matrix is not None
        cm = overall.confusion_matrix
        positives, negatives = cm.tp + cm.fn, cm.tn + cm.fp
        prevalence = _metric(overall, "prevalence").value
    elif ev.task == "multiclass":
        counts = np.bincount(predictions.y_true, minlength=len(predictions.classes))
        classes = [ClassCount(label, int(n), int(n) / overall.n) for label, n in zip(predictions.classes, counts, strict=True)]
    else:
        zero_targets = int(ev.statistics[OVERALL].errors.zero_targets[0])
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
        description=ev.config.card.evaluation_data,
    )


def _weak_metrics(findings: list[Finding]) -> dict[tuple[str, str], list[str]]:
    """(slice, group) → metrics a weak-slice finding names."""
    weak: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        if finding.id == "weak_slice":
            for e in finding.evidence:
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


def _slice_result(ev: Evaluation, name: str, weak: dict[tuple[str, str], list[str]]) -> SliceResult:
    total = len(ev.predictions.frame)
    family = next(f for f in ev.families if f.name == name)
    min_support = ev.config.report.min_support
    table = ev.metrics[ev.metrics["slice"] == name]
    by_group = dict(tuple(table.groupby("group", sort=False)))
    class_table = ev.class_metrics[ev.class_metrics["slice"] == name]
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
                confusion_matrix=_confusion_matrix(ev, name, index),
                class_matrix=_class_matrix(ev, name, index),
                classes=_class_results(by_group_and_class.get(label)),
            )
        )
    calibration = [
        GroupCalibration(str(label), uniform, quantile)
        for label, (uniform, quantile) in zip(family.labels, ev.reliability.get(name, []), strict=False)
    ]
    return SliceResult(family.name, family.kind, family.columns, family.notes, groups, calibration)


def _confusion_matrix(ev: Evaluation, name: str, index: int) -> ConfusionMatrix | None:
    if ev.task != "binary":
        return None
    c = ev.statistics[name].confusion
    return ConfusionMatrix(tn=int(c.tn[index]), fp=int(c.fp[index]), fn=int(c.fn[index]), tp=int(c.tp[index]))


def _class_matrix(ev: Evaluation, name: str, index: int) -> list[list[int]] | None:
    if ev.task != "multiclass":
        return None
    return ev.statistics[name].confusion.matrix[index].astype(int).tolist()


def _class_results(rows: Any) -> list[ClassResult]:
    """Multiclass: one group's rows of the class-metrics table as results per class (none otherwise)."""
    if rows is None:
        return []
    return [
        ClassResult(str(class_label), [_record(MetricValue, row, name="metric") for row in part.itertuples()])
        for class_label, part in rows.groupby("class_label", sort=False)
    ]


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
                max_difference=ev.fairness_thresholds.max_difference,
                min_ratio=fairness.min_ratio,
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
