"""`evaluate()`: wire config, predictions, slices, metrics and fairness together (no math here)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reportgen.analysis.comparison import Comparison, comparison_findings, flag_changes
from reportgen.analysis.error_analysis import (
    ErrorAnalysis,
    analyse_errors,
    error_findings,
)
from reportgen.analysis.findings import Finding, derive_findings
from reportgen.analysis.training import TrainingSummary, summarize, training_findings
from reportgen.baseline import Baseline, align_baseline, load_baseline
from reportgen.config import Config, load_config, validate
from reportgen.errors import ConfigError, quoted_list
from reportgen.fairness import (
    BY_GROUP_COLUMNS,
    CLASS_GAPS,
    CLASS_RATES,
    ERROR_GAPS,
    GAP_COLUMNS,
    GAPS,
    Measure,
    Thresholds,
    fairness_tables,
    rates,
)
from reportgen.history import History, read_history
from reportgen.io import Predictions, check_predictions, load_predictions
from reportgen.metrics import calibration, curves, paired, residuals, tasks
from reportgen.metrics.metric import Mean, Metric
from reportgen.metrics.table import COLUMNS, metric_frame
from reportgen.metrics.values import EMPTY
from reportgen.paths import project_of
from reportgen.record import GitState, git_state
from reportgen.slices import SliceFamily, build_slices, group_label

if TYPE_CHECKING:
    from reportgen.report import GateResult, Report

OVERALL = "overall"


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
class Evaluation:
    """The result of `evaluate`: tidy tables plus what the model card needs.

    Attributes
    ----------
    config : Config
        The validated settings the evaluation ran with.
    predictions : Predictions
        The checked input.
    task : str
        "binary", "multiclass" or "regression".
    families : list of SliceFamily
        The slice families, "overall" first.
    metrics : DataFrame
        slice, group, metric, value, ci_low, ci_high, n, undefined_reason.
    class_metrics : DataFrame
        Multiclass: the same columns plus class_label, one class against the rest; empty otherwise.
    confusion : DataFrame
        Binary: slice, group, tn, fp, fn, tp. Multiclass: slice, group, actual, predicted, count.
        Regression: empty.
    fairness_by_group : DataFrame
        Per sensitive column, group and rate: value, difference from the reference with its interval
        (multiclass: per class_label).
    fairness : DataFrame
        Per sensitive column, the summary gaps, flagged against the thresholds.
    references : dict
        Sensitive column → reference group label.
    fairness_thresholds : Thresholds
        The thresholds gaps were flagged at (regression: in the target's units).
    curves : Curves
        Chart data of the whole set.
    reliability : dict
        Slice name → per group, its reliability diagrams (uniform, quantile); only for slices of at
        most `MAX_RELIABILITY_GROUPS` groups, and only with probabilities.
    findings : list of Finding
        Plain-language findings, most severe first.
    comparisons : list of Comparison
        The candidate against each baseline (`[baseline]`), in config order; empty without one.
    error_analysis : ErrorAnalysis or None
        Where the model fails (`[error_analysis]`); None when it is turned off.
    statistics : dict
        Slice name → its sufficient statistics (`reportgen.metrics.tasks.Statistics`).
    registry : dict
        Metric name → its registry entry, for the metrics in `metrics`.
    class_registry : dict
        The same for `class_metrics` (multiclass; empty otherwise).
    """

    config: Config
    predictions: Predictions
    task: str
    families: list[SliceFamily]
    metrics: pd.DataFrame
    class_metrics: pd.DataFrame
    confusion: pd.DataFrame
    fairness_by_group: pd.DataFrame
    fairness: pd.DataFrame
    references: dict[str, str]
    fairness_thresholds: Thresholds
    curves: Curves
    reliability: dict[str, list[list[calibration.Reliability]]]
    findings: list[Finding]
    comparisons: list[Comparison] = field(repr=False)
    statistics: dict[str, tasks.Statistics] = field(repr=False)
    registry: dict[str, Metric] = field(repr=False)
    class_registry: dict[str, Metric] = field(repr=False)
    config_source: str = field(default="config", repr=False)
    git: GitState | None = field(default=None, repr=False)
    history: History | None = field(default=None, repr=False)
    training: TrainingSummary | None = field(default=None, repr=False)
    error_analysis: ErrorAnalysis | None = field(default=None, repr=False)

    def to_report(self) -> Report:
        """The model card document (`reportgen.report.Report`), quality gates checked.

        Raises
        ------
        ConfigError
            If a gate names a metric, slice, group or gap the evaluation does not have.
        """
        return self._report

    @cached_property
    def _report(self) -> Report:
        # the document and the gates build on this module, not the reverse
        from reportgen.analysis.gates import apply_gates
        from reportgen.report import build_report

        return apply_gates(build_report(self), self.config.gates, source=self.config_source)

    @property
    def gates(self) -> list[GateResult]:
        """The outcome of each configured quality gate, in config order."""
        return self._report.gates

    def to_html(self, path: str | Path, *, interactive: bool = False) -> Path:
        """Write the model card as one self-contained HTML file; returns the path."""
        from reportgen.render.html import write_html

        return write_html(self.to_report(), Path(path), interactive=interactive)

    def to_json(self, path: str | Path) -> Path:
        """Write the model card as JSON (see `reportgen/schema/report.schema.json`); returns the path."""
        from reportgen.render.json import write_json

        return write_json(self.to_report(), Path(path))

    def to_pdf(self, path: str | Path, *, page_size: str = "A4") -> Path:
        """Write the model card as a PDF ("A4" or "Letter" pages); returns the path."""
        from reportgen.render.pdf import write_pdf

        return write_pdf(self.to_report(), Path(path), page_size=page_size)

    def to_markdown(self, path: str | Path, *, base_url: str | None = None) -> Path:
        """Write the pull-request summary (`summary.md`), linking the report at `base_url` if given."""
        from reportgen.render.markdown import write_markdown

        return write_markdown(self.to_report(), Path(path), base_url=base_url)


def evaluate(
    data: pd.DataFrame,
    *,
    label: str,
    score: str | None = None,
    scores: Mapping[str, str] | None = None,
    score_prefix: str | None = None,
    prediction: str | None = None,
    task: str | None = None,
    positive_label: bool | float | str | None = None,
    threshold: float = 0.5,
    normalize: bool = False,
    top_k: Iterable[int] | None = None,
    slices: Iterable[Mapping[str, Any]] = (),
    sensitive: Iterable[str] = (),
    reference: Mapping[str, Any] | None = None,
    max_difference: float = 0.1,
    min_ratio: float = 0.8,
    max_error_difference: float | None = None,
    confidence_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    min_support: int = 30,
    calibration_bins: int = 10,
    fdr: float = 0.05,
    max_ece: float = 0.05,
    model: Mapping[str, Any] | None = None,
    card: Mapping[str, Any] | None = None,
    gates: Iterable[Mapping[str, Any]] = (),
    history: str | Path | None = None,
    baseline: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    error_analysis: Mapping[str, Any] | None = None,
    title: str = "Model card",
) -> Evaluation:
    """Evaluate predictions per slice, with intervals, fairness gaps and findings.

    Parameters
    ----------
    data : DataFrame
        One row per prediction: label, model output, metadata columns.
    label, score, scores, score_prefix, prediction, positive_label, threshold, normalize, top_k
        As the config's ``[data]`` table: a binary task names `score`, a multiclass task `scores`
        (class → probability column) or `score_prefix` and/or `prediction`, a regression task
        `prediction`.
    task : {"binary", "multiclass", "regression"}, optional
        As ``[model] task``; inferred from the keys given and the labels when None.
    slices : iterable of dict
        As the config's ``[[slices]]`` entries, e.g. ``{"column": "sex"}``,
        ``{"columns": ["sex", "race"]}``, ``{"column": "age", "bins": [18, 30, 65]}``,
        ``{"name": "rich", "where": "income > 100000"}``.
    sensitive, reference, max_difference, min_ratio, max_error_difference
        As the config's ``[fairness]`` table.
    confidence_level, resamples, seed, min_support, calibration_bins
        As the config's ``[report]`` table.
    fdr, max_ece
        As the config's ``[findings]`` table.
    model, card : dict, optional
        As the config's ``[model]`` and ``[card]`` tables.
    gates : iterable of dict
        As the config's ``[[gates]]`` entries, e.g. ``{"metric": "roc_auc", "min": 0.8}``,
        ``{"metric": "recall", "slice": "sex", "min": 0.7, "significant": True}``; checked when the
        card is built (``Evaluation.gates``).
    history : str or Path, optional
        As ``[training] history``: per-epoch training logs (a CSV with an epoch column, a Keras
        ``History.history`` JSON, or an MLflow run folder) for learning curves and training findings.
    baseline : dict or list of dict, optional
        As the config's ``[baseline]`` table(s): another model's predictions on the same rows, compared
        with these group by group (``Evaluation.comparisons``). Give its file as ``"path"`` or its
        frame as ``"data"``, e.g. ``{"name": "v1", "data": old_df, "score": "p", "id": "row_id"}``.
    error_analysis : dict, optional
        As the config's ``[error_analysis]`` table, e.g. ``{"columns": ["noise", "device"], "depth": 3}``
        or ``{"enabled": False}``; by default every metadata column is searched for slices where the
        model fails (``Evaluation.error_analysis``).
    title : str
        The card's title.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> import pandas as pd, reportgen
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.4, 0.6], "sex": ["f", "f", "m", "m"]})
    >>> ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "sex"}], resamples=200)
    >>> ev.metrics.query("metric == 'accuracy'")[["slice", "group", "value"]].to_string(index=False)
    '  slice   group  value\\noverall overall    0.5\\n    sex       f    1.0\\n    sex       m    0.0'
    """
    given = {
        "score": score, "scores": None if scores is None else dict(scores), "score_prefix": score_prefix,
        "prediction": prediction, "positive_label": positive_label,
        "top_k": None if top_k is None else list(top_k),
    }
    defaults = {"threshold": (threshold, 0.5), "normalize": (normalize, False)}
    raw = {
        "report": {
            "title": title, "confidence_level": confidence_level, "resamples": resamples, "seed": seed,
            "min_support": min_support, "calibration_bins": calibration_bins,
        },
        "model": dict(model or {}) | ({"task": task} if task is not None else {}),
        "data": {"label": label}
        | {key: value for key, value in given.items() if value is not None}
        | {key: value for key, (value, default) in defaults.items() if value != default},
        "slices": [dict(s) for s in slices],
        "fairness": {
            "sensitive": list(sensitive), "reference": dict(reference or {}),
            "max_difference": max_difference, "min_ratio": min_ratio,
        } | ({"max_error_difference": max_error_difference} if max_error_difference is not None else {}),
        "findings": {"fdr": fdr, "max_ece": max_ece},
        "card": dict(card or {}),
        "gates": [dict(g) for g in gates],
        "error_analysis": dict(error_analysis or {}),
    }
    tables = [] if baseline is None else [baseline] if isinstance(baseline, Mapping) else list(baseline)
    frames = [table.get("data") for table in tables]
    raw["baseline"] = [
        {key: value for key, value in table.items() if key != "data"} | ({} if frame is None else {"path": "data frame"})
        for table, frame in zip(tables, frames, strict=True)
    ]
    config: Config = validate(Config, raw, source="evaluate()")
    predictions = check_predictions(data, config.data, task=config.model.task, source="data frame")
    logs = None if history is None else read_history(Path(history), source=str(history))
    baselines = [
        load_baseline(spec, predictions, config.data, path=Path(spec.path)) if frame is None
        else align_baseline(spec, frame, predictions, config.data)
        for spec, frame in zip(config.baseline, frames, strict=True)
    ]
    return evaluate_predictions(predictions, config, config_source="evaluate()", history=logs, baselines=baselines)


def evaluate_config(
    config_path: str | Path, *, root: str | Path | None = None, progress: Callable[[str], None] = lambda message: None
) -> Evaluation:
    """Evaluate what a config file names: its predictions, training history and baselines (`reportgen build`).

    Parameters
    ----------
    config_path : str or Path
        The TOML config; its relative paths start from its folder.
    root : str or Path, optional
        A folder the config's paths may also lie in (`reportgen build --root`); by default they must
        lie in the project root, the git work tree holding the config (`reportgen.paths`).
    progress : callable, optional
        Called with a short message before each step.

    Raises
    ------
    ConfigError, InputError
        On an invalid config, a path it names that leads outside the project root or into ``.git``,
        or a file it names that is missing or fails its checks.
    """
    config, _ = load_config(config_path)
    project = project_of(config_path, root=root)
    if config.data.path is None:
        raise ConfigError(f"{config_path}: [data] path: required key is missing (the predictions file)")
    data_path = project.confine("[data] path", config.data.path, tree=True)
    history_path = None if config.training.history is None else project.confine(
        "[training] history", config.training.history, tree=True)
    baseline_paths = [
        project.confine(f"[baseline] #{index} path" if len(config.baseline) > 1 else "[baseline] path", spec.path,
                        tree=True)
        for index, spec in enumerate(config.baseline, start=1)
    ]
    progress(f"reading {Path(config.data.path).name}")
    predictions = load_predictions(data_path, config.data, task=config.model.task, source=config.data.path)
    history = None
    if history_path is not None:
        progress(f"reading the training history {config.training.history}")
        history = read_history(history_path, source=config.training.history)
    baselines = []
    for spec, path in zip(config.baseline, baseline_paths, strict=True):
        progress(f"reading the baseline {spec.name} ({spec.path})")
        baselines.append(load_baseline(spec, predictions, config.data, path=path))
    progress(f"evaluating {len(predictions.frame):,} rows over {len(config.slices)} slice definitions")
    return evaluate_predictions(predictions, config, config_source=str(config_path), git=git_state(project.base),
                                history=history, baselines=baselines)


def evaluate_predictions(
    predictions: Predictions, config: Config, *, config_source: str = "config", git: GitState | None = None,
    history: History | None = None, baselines: Sequence[Baseline] = (),
) -> Evaluation:
    """Evaluate checked predictions with a validated config (the CLI's entry point).

    `config_source` (the config file) starts the messages of errors found when gates are checked;
    `git` is the state of the code that produced the predictions, for the card's run record;
    `history` the model's training history (`read_history`), summarized with its findings;
    `baselines` other models' predictions on the same rows (`load_baseline`), each compared with
    the candidate group by group.
    """
    report = config.report
    specs = config.all_slices
    # Families are independent and numpy releases the GIL in its array passes: use every core,
    # first to prepare the per-row arrays while the slices are built, then one family per thread.
    with ThreadPoolExecutor(max_workers=min(len(specs) + 1, os.cpu_count() or 1, 8)) as pool:
        engine_ready = pool.submit(
            tasks.prepare, predictions.task, predictions.y_true, predictions.y_pred, predictions.scores,
            n_classes=len(predictions.classes), top_k=predictions.top_k, calibration_bins=report.calibration_bins,
        )
        families = [_overall(len(predictions.frame))] + build_slices(
            predictions.frame, specs, source=predictions.source
        )
        engine = engine_ready.result()
        computed = list(pool.map(lambda f: engine.group_stats(f.codes, f.n_groups), families))
    stats = {family.name: s for family, s in zip(families, computed, strict=True)}
    level = report.confidence_level

    def rng(*key: int) -> np.random.Generator:
        return np.random.default_rng([report.seed, *key])

    tables = [
        metric_frame(family.name, family.labels, stats[family.name], engine.metrics, level=level,
                     resamples=report.resamples, rng=rng(index))
        for index, family in enumerate(families)
    ]
    metrics = pd.concat(tables, ignore_index=True)
    by_group, gaps, references, thresholds = _fairness(config, predictions, families, stats, metrics)
    ev_curves, reliability = _chart_data(engine, families, stats, level)
    evaluation = Evaluation(
        config=config,
        predictions=predictions,
        task=predictions.task,
        families=families,
        metrics=metrics,
        class_metrics=_class_metrics(engine, predictions.classes, families, stats, level, report.resamples, rng),
        confusion=_confusion_table(predictions, families, stats),
        fairness_by_group=by_group,
        fairness=gaps,
        references=references,
        fairness_thresholds=thresholds,
        curves=ev_curves,
        reliability=reliability,
        findings=[],
        comparisons=[
            _compare(baseline, engine, families, stats, config, index)
            for index, baseline in enumerate(baselines, start=1)
        ],
        statistics=stats,
        registry={metric.name: metric for metric in engine.metrics},
        class_registry={metric.name: metric for metric in engine.class_metrics},
        config_source=config_source,
        git=git,
        history=history,
        training=None if history is None else summarize(history),
    )
    evaluation = replace(evaluation, error_analysis=analyse_errors(
        predictions, config, families[1:], exclude=_model_columns(config, predictions.frame),
        shown=[c for c in (config.data.label, config.data.score, config.data.prediction) if c is not None],
        config_source=config_source,
    ))
    extra = [] if history is None else training_findings(evaluation.training, history)
    extra += comparison_findings(evaluation) + error_findings(evaluation.error_analysis, config.findings.fdr)
    return replace(evaluation, findings=derive_findings(evaluation, extra=extra))


def _model_columns(config: Config, frame: pd.DataFrame) -> set[str]:
    """The columns that hold the label, the model's output or a join key: never error-analysis candidates."""
    data = config.data
    named = {data.label, data.score, data.prediction, *(data.scores or {}).values(),
             *(spec.id for spec in config.baseline)}
    if data.score_prefix:
        named |= {c for c in frame.columns if str(c).startswith(data.score_prefix)}
    return {c for c in named if c is not None}


def _compare(
    baseline: Baseline,
    engine: tasks.Engine,
    families: list[SliceFamily],
    stats: dict[str, tasks.Statistics],
    config: Config,
    index: int,
) -> Comparison:
    """The candidate against one baseline in every group of every family, with paired intervals and tests."""
    report = config.report
    theirs = baseline.predictions
    other = tasks.prepare(
        theirs.task, theirs.y_true, theirs.y_pred, theirs.scores, n_classes=len(theirs.classes),
        top_k=theirs.top_k, calibration_bins=report.calibration_bins,
    )
    with ThreadPoolExecutor(max_workers=min(len(families), os.cpu_count() or 1, 8)) as pool:
        their_stats = list(pool.map(lambda f: other.group_stats(f.codes, f.n_groups), families))
    pair = paired.Pair.prepare(engine, other)

    def rng(*key: int) -> np.random.Generator:
        return np.random.default_rng([report.seed, BASELINE_STREAM, index, *key])

    level = report.confidence_level
    own, changes = [], []
    for position, (family, their) in enumerate(zip(families, their_stats, strict=True)):
        own.append(metric_frame(family.name, family.labels, their, other.metrics, level=level,
                                resamples=report.resamples, rng=rng(position, 0)))
        changes.append(paired.compare_family(family.name, family.labels, family.codes, pair, stats[family.name],
                                             their, level=level, resamples=report.resamples, rng=rng(position, 1)))
    table = flag_changes(pd.concat(changes, ignore_index=True), {m.name: m for m in engine.metrics},
                         fdr=config.findings.fdr, min_support=report.min_support)
    return Comparison(
        name=baseline.name, source=baseline.source, fingerprint=theirs.fingerprint, join=baseline.join,
        unmatched=baseline.unmatched, table=table, baseline_metrics=pd.concat(own, ignore_index=True),
    )


# Seeds the baselines' random streams apart from the candidate's ([seed, family] and [seed, family, class]).
BASELINE_STREAM = 1_000_003


MAX_RELIABILITY_GROUPS = 12


def _overall(n_rows: int) -> SliceFamily:
    return SliceFamily(OVERALL, "overall", [], [OVERALL], np.zeros(n_rows, dtype=np.int32))


def _chart_data(
    engine: tasks.Engine, families: list[SliceFamily], stats: dict[str, tasks.Statistics], level: float
) -> tuple[Curves, dict[str, list[list[calibration.Reliability]]]]:
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
    families: list[SliceFamily],
    stats: dict[str, tasks.Statistics],
    level: float,
    resamples: int,
    rng: Any,
) -> pd.DataFrame:
    """Multiclass: each class against the rest, per group of every family."""
    if not engine.class_metrics:
        return pd.DataFrame(columns=[*COLUMNS, "class_label"])
    tables = []
    for index, family in enumerate(families):
        for k, name in enumerate(classes):
            one = stats[family.name].task.one_vs_rest(k)
            table = metric_frame(family.name, family.labels, one, engine.class_metrics, level=level,
                                 resamples=resamples, rng=rng(index, k + 1))
            tables.append(table.assign(class_label=name))
    return pd.concat(tables, ignore_index=True)


def _sensitive_family(families: list[SliceFamily], column: str) -> SliceFamily:
    for family in families:
        if family.kind in ("values", "bins", "quantiles") and family.columns == [column]:
            return family
    raise AssertionError(f"no slice family for sensitive column {column!r}")  # Config.all_slices adds one


def _fairness_thresholds(config: Config, task: str, metrics: pd.DataFrame) -> Thresholds:
    """The configured thresholds; for regression, differences in the target's units (default: 10% of the overall MAE)."""
    fairness = config.fairness
    if task != "regression":
        return Thresholds(fairness.max_difference, fairness.min_ratio)
    if fairness.max_error_difference is not None:
        return Thresholds(fairness.max_error_difference, fairness.min_ratio)
    mae = metrics.query("slice == @OVERALL and metric == 'mae'")["value"].iloc[0]
    return Thresholds(float(DEFAULT_ERROR_SHARE * mae), fairness.min_ratio)


DEFAULT_ERROR_SHARE = 0.1


def _fairness(
    config: Config,
    predictions: Predictions,
    families: list[SliceFamily],
    stats: dict[str, tasks.Statistics],
    metrics: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], Thresholds]:
    fairness = config.fairness
    thresholds = _fairness_thresholds(config, predictions.task, metrics)
    level = config.report.confidence_level
    by_group, gaps, references = [], [], {}
    for column in fairness.sensitive:
        family = _sensitive_family(families, column)
        family_stats = stats[family.name]
        n = np.asarray(family_stats.n)
        reference = _reference_index(family, n, fairness.reference.get(column), column)
        references[column] = family.labels[reference]
        for class_label, measures, gap_kinds in _fairness_measures(predictions, family_stats):
            group_table, gap_table = fairness_tables(
                column, family.labels, n, measures, reference, thresholds, level=level, gaps=gap_kinds
            )
            by_group.append(group_table.assign(class_label=class_label))
            gaps.append(gap_table.assign(class_label=class_label))
    if not by_group:
        return (pd.DataFrame(columns=[*BY_GROUP_COLUMNS, "class_label"]),
                pd.DataFrame(columns=[*GAP_COLUMNS, "class_label"]), {}, thresholds)
    return pd.concat(by_group, ignore_index=True), pd.concat(gaps, ignore_index=True), references, thresholds


def _fairness_measures(
    predictions: Predictions, family_stats: tasks.Statistics
) -> list[tuple[str | None, dict[str, Measure], dict[str, tuple[tuple[str, ...], str]]]]:
    """(class label or None, rate → measure, gaps) for each comparison the task makes."""
    of_task = family_stats.task
    if predictions.task == "binary":
        return [(None, rates(of_task.confusion), GAPS)]
    if predictions.task == "multiclass":
        return [
            (name, rates(of_task.confusion.ovr(k), CLASS_RATES), CLASS_GAPS)
            for k, name in enumerate(predictions.classes)
        ]
    errors = of_task.errors
    measures: dict[str, Measure] = {
        name: Mean(*errors.moments(name), undefined=EMPTY) for name in ("mae", "mean_residual")
    }
    return [(None, measures, ERROR_GAPS)]


def _reference_index(family: SliceFamily, n: np.ndarray, wanted: object, column: str) -> int:
    """The configured reference group, or the largest group."""
    if wanted is None:
        return int(np.argmax(n))
    text = group_label(wanted)
    if text not in family.labels:
        raise ConfigError(
            f'[fairness] reference.{column}: "{wanted}" is not a group of "{column}"; '
            f"groups are: {quoted_list(family.labels, limit=10)}"
        )
    return family.labels.index(text)


def _confusion_table(
    predictions: Predictions, families: list[SliceFamily], stats: dict[str, tasks.Statistics]
) -> pd.DataFrame:
    parts = []
    for family in families:
        of_task = stats[family.name].task
        if predictions.task == "binary":
            c = of_task.confusion
            parts.append(pd.DataFrame({"slice": family.name, "group": family.labels, "tn": c.tn, "fp": c.fp,
                                       "fn": c.fn, "tp": c.tp}))
        elif predictions.task == "multiclass":
            cells = of_task.confusion.matrix  # (groups, actual, predicted)
            n_groups, n_classes = cells.shape[0], cells.shape[1]
            parts.append(pd.DataFrame({
                "slice": family.name,
                "group": np.repeat(family.labels, n_classes * n_classes),
                "actual": np.tile(np.repeat(predictions.classes, n_classes), n_groups),
                "predicted": np.tile(predictions.classes, n_groups * n_classes),
                "count": cells.reshape(-1).astype(np.int64),
            }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["slice", "group"])
