"""The model card as a document: plain, JSON-ready dataclasses (what the card says, not how it looks).

Sections follow Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analysis.base import Finding
from reportgen.analysis.error_tree import TreeNode
from reportgen.metrics.calibration import Reliability
from reportgen.metrics.curves import Curve, ScoreHistogram, ThresholdChoice
from reportgen.metrics.residuals import Density, ResidualBands, ResidualHistogram

SCHEMA_VERSION = "2.8.0"


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
class SectionTable:
    """A table of a `Section`: column headers, then rows of counts, numbers or text (None: undefined)."""

    columns: list[str]
    rows: list[list[int | float | str | None]]


@dataclass(frozen=True)
class Section:
    """A card section written by an analysis that has no layout of its own (`reportgen.document.build.SECTIONS`):
    a title, paragraphs of plain text and tables, shown after the built-in sections."""

    analysis: str
    title: str
    paragraphs: list[str]
    tables: list[SectionTable]


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
    sections: list[Section]
