"""The model card as a document: plain, JSON-ready dataclasses (what the card says, not how it looks).

Sections follow Mitchell et al., "Model Cards for Model Reporting" (FAT* 2019).
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.analysis.base import Finding, TestFamily
from reportgen.analysis.data_drift import Distribution, WindowDrift
from reportgen.analysis.error_tree import TreeNode
from reportgen.analysis.over_time import ChangePoint, MetricSeries
from reportgen.metrics.calibration import Reliability
from reportgen.metrics.curves import Curve, ScoreHistogram, ThresholdChoice
from reportgen.metrics.residuals import Density, ResidualBands, ResidualHistogram

SCHEMA_VERSION = "2.10.0"


@dataclass(frozen=True)
class MetricValue:
    """One metric of one group: value with its interval, or why it is undefined.

    `support` counts the rows the value rests on (what they are: `MetricInfo.support_unit`, e.g. the
    positives for recall); `small` marks a support below `min_support`: the value is greyed and not
    tested.
    """

    name: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    support: int
    small: bool
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

    `small` marks a group with fewer rows than `min_support` (its numbers are shown greyed; a
    metric computed on fewer rows, e.g. recall on the positives, has its own `MetricValue.small`);
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
    """One slice family: how its groups were formed and their metrics.

    `groups` are the groups the card shows: all of them, or, for a family of more than
    `max_groups_shown` groups, the largest (largest first) and "(other)", the rows of the rest measured
    as one group. `more_groups` lists the rest one by one, largest first (the card does not show them);
    `left_out` counts the values beyond the slice's `max_groups`, listed nowhere one by one (their rows
    are in "(other)"); `distinct` counts every group of the data: shown, more and left out.
    """

    name: str
    kind: str
    columns: list[str]
    notes: list[str]
    groups: list[GroupResult]
    more_groups: list[GroupResult]
    left_out: int
    distinct: int
    calibration: list[GroupCalibration]


@dataclass(frozen=True)
class RateComparison:
    """A group's rate (regression: error) against the reference group's; multiclass: of one class.

    `p_value` is the two-sided test of the difference (two-proportion z-test, Welch's z-test for mean
    errors), `q_value` its Benjamini–Hochberg adjustment in the "fairness" family, and `significant`
    says q_value ≤ the false discovery rate; the interval is unadjusted.
    """

    rate: str
    class_label: str | None
    value: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    ratio: float | None
    breached: bool | None
    p_value: float | None
    q_value: float | None
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
    `p_value` tests "the rate is equal in every group" (chi-square of homogeneity, TPR and FPR
    together for equalized odds, Welch's ANOVA for mean errors; the parity difference and ratios
    share one test), `q_value` is its Benjamini–Hochberg adjustment in the "fairness" family, and
    `significant` says q_value ≤ the false discovery rate; the interval is unadjusted, so it can
    exclude 0 for a gap that is not significant.
    """

    name: str
    class_label: str | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    threshold: float
    breached: bool | None
    p_value: float | None
    q_value: float | None
    significant: bool | None
    between: str | None
    rate: str | None
    note: str | None
    undefined_reason: str | None


@dataclass(frozen=True)
class FairnessResult:
    """Gaps across the groups of one sensitive column.

    `max_difference` is the threshold differences were flagged at: a rate difference for
    classification, a difference in the target's units for regression. The gaps span every group;
    `groups` are those the card shows (as in the column's slice, with the reference group) and
    `more_groups` the rest, largest first.
    """

    sensitive: str
    reference: str
    max_difference: float
    min_ratio: float
    gaps: list[FairnessGap]
    groups: list[FairnessGroup]
    more_groups: list[FairnessGroup]


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
    """Which metric, how its interval is computed, which direction is better, and what its support counts.

    `support_unit` names the rows a value rests on ("rows", "positives", "negatives", "predicted
    positives", "rows of the smaller class", ...), which `MetricValue.support` counts.
    """

    name: str
    label: str
    interval: str | None
    higher_is_better: bool | None
    support_unit: str


@dataclass(frozen=True)
class MetricsSection:
    """Metrics section: what is measured and how uncertainty is estimated.

    `threshold` is the binary decision threshold (None for other tasks); `class_metrics` the
    metrics of one class against the rest (multiclass). `min_support` is the fewest rows a value
    must rest on (its `MetricValue.support`) to be shown plainly and tested.
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
class EngineStage:
    """One stage of the engine's run; `seconds` of wall-clock time only with `[report] timings = true` (a card is
    otherwise the same, byte for byte, from the same inputs), else None."""

    name: str
    seconds: float | None


@dataclass(frozen=True)
class EngineRecord:
    """The engine that computed the statistics: "numpy" (in memory), "duckdb" (out of core, over the files) or
    "spark"; its version, the rows it scanned, its stages in order, and notes: how it was chosen, and the analyses
    it did not run with why (those that read every row, with an SQL engine)."""

    name: str
    version: str
    rows_scanned: int
    stages: list[EngineStage]
    notes: list[str]


@dataclass(frozen=True)
class RunRecord:
    """Reproducibility: what produced this card.

    `config_fingerprint` hashes the validated configuration (canonical JSON), `data_fingerprint` the
    predictions file's bytes (or the data frame's content). `git_commit` and `git_dirty` describe the
    working tree holding the config file (None outside git, and for `evaluate()`); `params` are the
    model's hyperparameters (`[model.params]`); `versions` maps python and each installed package of
    reportgen's stack to its version; `engine` is the engine that computed the statistics.
    """

    data_fingerprint: str
    config_fingerprint: str
    git_commit: str | None
    git_dirty: bool | None
    params: dict[str, bool | int | float | str]
    versions: dict[str, str]
    engine: EngineRecord | None = None


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

    `passed` is None where the value is undefined, or rests on fewer rows than `min_support` (a
    `MetricValue.small`): it is not checked, and `undefined_reason` says why.
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
    `baseline`): its checks hold differences, candidate − baseline. Monitoring gates: `drift_share` (one
    check, the share of input columns that drifted), `drift` (one check, the column's shift; it passes where
    the column did not drift), `windows` (a check per time window of the metric; with `below_reference`, it
    fails where a window is significantly worse than the reference; with `estimated`, the checks hold the
    estimates from the probabilities).
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
    drift_share: float | None
    drift: str | None
    windows: str | None
    below_reference: bool
    estimated: bool
    status: str
    detail: str
    checks: list[GateCheck]


@dataclass(frozen=True)
class MetricChange:
    """One metric of one group, the candidate's against the baseline's (same rows).

    `difference` is candidate − baseline, with its paired interval (`method`: "paired Bayesian
    bootstrap", "MOVER (score intervals, DeLong correlation)" or "paired t"; None where the
    metric has none; unadjusted, so it can exclude 0 for a difference that is not flagged).
    `p_value` comes from `test` ("McNemar (exact)", "z-test" or "t-test"), `q_value` is
    Benjamini–Hochberg adjusted in the baseline's family ("comparison with <baseline>"; None where
    the difference is not in it), and `flag` is "improvement", "regression" or None (not
    significant, no better direction, or a support below `min_support`). `support` counts the
    rows the metric rests on (`MetricInfo.support_unit`), the smaller of the two models' where they
    differ (e.g. predicted positives); `small` marks a support below `min_support`: never flagged.
    `mirror_of` names the metric a mirror metric shares its test, q-value and flag with (false
    negative rate: recall; specificity: false positive rate); it is not counted again. Each model's
    own value has its interval.
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
    support: int
    small: bool
    mirror_of: str | None
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
    """One slice family's groups, compared: those the card shows (as in the slice, without "(other)"),
    and `more_groups`, the rest, largest first."""

    name: str
    groups: list[GroupChange]
    more_groups: list[GroupChange]


@dataclass(frozen=True)
class ComparisonResult:
    """The candidate against one baseline (`[baseline]`).

    `join` says how rows were matched; `unmatched` counts baseline rows left out (no candidate row
    with their id); `improvements` and `regressions` count the flagged differences over every
    group and metric, at false discovery rate `fdr`, a mirror metric once with the metric it mirrors.
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
    """A table of a `Section`: column headers, then rows of counts, numbers or text (None: undefined). A table
    `drawn` is the data of a chart: the card draws it (the figure registry) rather than print it. A `detail` table
    is left out of the sign-off PDF, which keeps a section's summary (its paragraphs and other tables)."""

    columns: list[str]
    rows: list[list[int | float | str | None]]
    drawn: bool = False
    detail: bool = False


@dataclass(frozen=True)
class Section:
    """A card section written by an analysis that has no layout of its own (`reportgen.document.build.SECTIONS`):
    a title, paragraphs of plain text and tables, shown after the built-in sections."""

    analysis: str
    title: str
    paragraphs: list[str]
    tables: list[SectionTable]


@dataclass(frozen=True)
class Multiplicity:
    """How the card decides what is significant: one policy for every claim.

    Each claim belongs to a family of tests whose p-values are adjusted together (`method`, at false
    discovery rate `fdr`); a claim is significant where its q-value is at most `fdr`. `rule` says so
    in words, with what the unadjusted intervals mean. `families` lists every family of this
    evaluation with its tests and discoveries.
    """

    method: str
    fdr: float
    rule: str
    families: list[TestFamily]


@dataclass(frozen=True)
class DriftEntry:
    """One drift statistic of one column against the reference.

    `test` is "ks" (Kolmogorov–Smirnov), "wasserstein" (the Wasserstein distance in reference standard
    deviations), "psi", "chi2" or "jensen_shannon" (natural log); `p_value` and `q_value` (Benjamini–Hochberg
    across the columns) where the test has them; `threshold` the size from which the column drifts, for the
    statistic that measures it; `drifted` the column's verdict (None: not tested).
    """

    column: str
    role: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    q_value: float | None
    threshold: float | None
    drifted: bool | None


@dataclass(frozen=True)
class DriftColumn:
    """One column in the drift table: what it is, the test that decides significance and the statistic that
    measures the shift, its PSI, the verdict and the first window it drifted in; `note` says why it was not
    tested (or what a statistic cannot say)."""

    column: str
    role: str
    kind: str
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    test: str | None
    q_value: float | None
    effect: str | None
    effect_value: float | None
    threshold: float | None
    psi: float | None
    drifted: bool | None
    first_window: str | None
    note: str | None
    distribution: Distribution | None


@dataclass(frozen=True)
class MonitoringResult:
    """Monitoring: drift from the reference (`[monitoring] reference`) and performance over time (`time`).

    `drift` lists every statistic of every tested column; `columns` one row per column of the drift table
    (effect first); `drift_share` is the share of tested input columns that drifted (the model's outputs and
    label are reported apart); `skipped` says why the other columns were not tested. With a time column,
    `windows` are the window labels in time order (`unlabelled`: each one's rows without a label yet, estimated
    and not measured), `by_window` each column's PSI per window and `performance`
    each headline metric (and each slice's key metric) per window against the reference's level, each window of
    a key metric tested against it (`performance_tests` tests; `below_reference` the windows significantly
    worse), and `changes` the change detectors' alarms.
    """

    reference: str | None
    reference_rows: int
    current_rows: int
    reference_labels: bool
    time: str | None
    window: str | None
    windows: list[str]
    unlabelled: list[int]
    missing_times: int
    fdr: float
    min_wasserstein: float
    min_jensen_shannon: float
    min_psi: float
    tested: int
    drift_share: float | None
    drifted: list[str]
    drift: list[DriftEntry]
    columns: list[DriftColumn]
    skipped: dict[str, str]
    by_window: WindowDrift | None
    performance: list[MetricSeries]
    performance_tests: int
    changes: list[ChangePoint]
    notes: list[str]


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
    monitoring: MonitoringResult | None
    findings: list[Finding]
    multiplicity: Multiplicity
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
