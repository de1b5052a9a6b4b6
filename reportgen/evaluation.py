"""`evaluate()`: wire config, predictions, measurement and the analyses together (no math, no thresholds).

The face of the library: `Evaluation` is what users hold; its `to_*` methods write the card through
the format registry (`reportgen.render.formats`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.analysis.base import SEVERITIES, Context, Finding, TestFamily, findings_frame
from reportgen.analysis.comparison import Comparison
from reportgen.analysis.error_analysis import ErrorAnalysis
from reportgen.analysis.fairness import Fairness, Thresholds
from reportgen.analysis.monitoring import Monitoring
from reportgen.analysis.registry import ANALYSES, run_analyses
from reportgen.analysis.training import TrainingSummary
from reportgen.attributions import Attributions, load_attributions
from reportgen.baseline import Baseline, align_baseline, load_baseline
from reportgen.config import BaselineSpec, Config, keyword_names, load_config, validate
from reportgen.document.build import build_report
from reportgen.document.gates import apply_gates
from reportgen.document.schema import GateResult, Report
from reportgen.engines import SQL_ENGINES
from reportgen.engines.drift_counts import ReferenceInput
from reportgen.engines.paired_sql import BaselineInput
from reportgen.engines.run import EngineRun, Stages
from reportgen.engines.scan import measure_sql
from reportgen.engines.source import choose_engine, connect, input_files, numpy_file
from reportgen.errors import ConfigError, InputError, ReportgenError, quoted_list
from reportgen.history import History, read_history
from reportgen.io import (
    Predictions,
    Unlabelled,
    check_predictions,
    check_unlabelled,
    file_fingerprint,
    files_fingerprint,
    frame_fingerprint,
    read_table,
    split_unlabelled,
)
from reportgen.memory import reused_memory
from reportgen.metrics import calibration, tasks
from reportgen.metrics.measure import Curves, Measured, measure
from reportgen.metrics.metric import Metric
from reportgen.model_artifact import LoadedModel, in_memory, load_model
from reportgen.paths import project_of
from reportgen.record import GitState, git_state
from reportgen.reference import Reference, check_reference, load_reference
from reportgen.slices import SliceFamily
from reportgen.vocabulary import OVERALL

API = "evaluate()"  # where the Python API's errors say they come from (the CLI's errors name the config file)


@contextmanager
def _keyword_errors() -> Iterator[None]:
    """Errors raised inside speak in `evaluate()`'s keyword names, not the config file's tables and keys."""
    try:
        yield
    except ReportgenError as exc:
        exc.args = (keyword_names(str(exc)), *exc.args[1:])  # the same error (class, attributes), renamed
        raise


@dataclass(frozen=True)
class Evaluation:
    """The result of `evaluate`: tidy tables plus what the model card needs.

    Attributes
    ----------
    config : Config
        The validated settings the evaluation ran with.
    predictions : Predictions
        The checked input.
    measured : Measured
        Every metric of every group, with the statistics and chart data they came from.
    results : dict
        Analysis name → its result (`reportgen.analysis.registry.ANALYSES`): "checks" (`Checks`, the sanity
        checks of the inputs), "fairness" (`Fairness`), "findings" (None), "training" (`TrainingSummary` or
        None), "comparison" (list of `Comparison`), "error_analysis" (`ErrorAnalysis` or None), "monitoring"
        (`Monitoring` or None).
    findings : list of Finding
        Plain-language findings of every analysis, most severe first.
    test_families : list of TestFamily
        The families of tests whose p-values were adjusted together (Benjamini–Hochberg) to decide
        which claims are significant.

    The tables are also properties: `task`, `families`, `metrics` (slice, group, metric, value,
    ci_low, ci_high, n, support, support_unit, undefined_reason), `class_metrics` (multiclass: plus
    class_label, one class against the rest), `confusion`, `fairness_by_group`, `fairness` (the summary gaps, flagged),
    `references`, `fairness_thresholds`, `curves`, `reliability`, `statistics`, `registry`,
    `class_registry`, `comparisons`, `training` and `error_analysis`; `findings_frame()` gives the findings as one.
    In a notebook the evaluation shows a summary of its card (`_repr_html_`); `to_html()`, `to_json()`,
    `to_markdown()` and `to_pdf()` write the card to a path, or return it without one (docs/notebook.md).
    """

    config: Config
    predictions: Predictions
    measured: Measured = field(repr=False)
    results: dict[str, Any] = field(repr=False)
    findings: list[Finding]
    test_families: list[TestFamily] = field(default_factory=list, repr=False)
    config_source: str = field(default="config", repr=False)
    git: GitState | None = field(default=None, repr=False)
    history: History | None = field(default=None, repr=False)
    engine: EngineRun | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One short line: the task, the rows, the slices and the findings by severity (the tables are properties)."""
        severities = ", ".join(f"{n} {s}" for s in SEVERITIES if (n := sum(f.severity == s for f in self.findings)))
        return (f"<Evaluation: {self.task}, {int(self.measured.statistics[OVERALL].n[0]):,} rows, "
                f"{len(self.measured.families) - 1} slices, {len(self.findings)} findings"
                f"{f' ({severities})' if severities else ''}>")

    def _repr_html_(self) -> str:
        """The card in a notebook: headline metrics, gates and the top findings (`reportgen.render.notebook`)."""
        from reportgen.render import notebook  # the renderers load only when a card is shown

        return notebook.to_fragment(self.to_report())

    @property
    def task(self) -> str:
        """ "binary", "multiclass" or "regression"."""
        return self.measured.task

    @property
    def families(self) -> list[SliceFamily]:
        """The slice families, "overall" first."""
        return self.measured.families

    @property
    def metrics(self) -> pd.DataFrame:
        """Per slice, group and metric: value, ci_low, ci_high, n, support (the rows the value rests on),
        support_unit, undefined_reason."""
        return self.measured.metrics

    @property
    def class_metrics(self) -> pd.DataFrame:
        """Multiclass: the metrics of each class against the rest, per group (class_label); empty otherwise."""
        return self.measured.class_metrics

    @property
    def confusion(self) -> pd.DataFrame:
        """Confusion counts per group (binary: tn, fp, fn, tp; multiclass: actual, predicted, count)."""
        return self.measured.confusion

    @property
    def curves(self) -> Curves:
        """Chart data of the whole set."""
        return self.measured.curves

    @property
    def reliability(self) -> dict[str, list[list[calibration.Reliability]]]:
        """Slice name → per group, its reliability diagrams (uniform, quantile)."""
        return self.measured.reliability

    @property
    def statistics(self) -> dict[str, tasks.Statistics]:
        """Slice name → its sufficient statistics."""
        return self.measured.statistics

    @property
    def registry(self) -> dict[str, Metric]:
        """Metric name → its registry entry, for the metrics in `metrics`."""
        return self.measured.registry

    @property
    def class_registry(self) -> dict[str, Metric]:
        """The same for `class_metrics`."""
        return self.measured.class_registry

    @property
    def fairness_by_group(self) -> pd.DataFrame:
        """Per sensitive column, group and rate: value, difference from the reference with its interval."""
        return self._fairness.by_group

    @property
    def fairness(self) -> pd.DataFrame:
        """Per sensitive column, the summary gaps, flagged against the thresholds."""
        return self._fairness.gaps

    @property
    def references(self) -> dict[str, str]:
        """Sensitive column → reference group label."""
        return self._fairness.references

    @property
    def fairness_thresholds(self) -> Thresholds:
        """The thresholds gaps were flagged at (regression: in the target's units)."""
        return self._fairness.thresholds

    @property
    def comparisons(self) -> list[Comparison]:
        """The candidate against each baseline, in config order; empty without one."""
        return self.results.get("comparison") or []

    @property
    def training(self) -> TrainingSummary | None:
        """What the training history's learning curves show; None without a history."""
        return self.results.get("training")

    @property
    def error_analysis(self) -> ErrorAnalysis | None:
        """Where the model fails; None when `[error_analysis]` is turned off."""
        return self.results.get("error_analysis")

    @property
    def monitoring(self) -> Monitoring | None:
        """Drift from the reference and performance over time; None without `[monitoring]`."""
        return self.results.get("monitoring")

    @property
    def _fairness(self) -> Fairness:
        return self.results["fairness"]

    def to_report(self) -> Report:
        """The model card document (`reportgen.document.schema.Report`), quality gates checked.

        Raises
        ------
        ConfigError
            If a gate names a metric, slice, group or gap the evaluation does not have.
        """
        return self._report

    @cached_property
    def _report(self) -> Report:
        with _keyword_errors() if self.config_source == API else nullcontext():  # a gate's error
            report = build_report(self.config, self.predictions, self.measured, self.results, self.findings,
                                  self.test_families, git=self.git, history=self.history, engine=self.engine)
            return apply_gates(report, self.config.gates, source=self.config_source)

    @property
    def gates(self) -> list[GateResult]:
        """The outcome of each configured quality gate, in config order."""
        return self._report.gates

    def findings_frame(self) -> pd.DataFrame:
        """The findings as a table, one row per finding, most severe first: severity (ordered low < medium < high),
        id (the rule), section, subject, title, detail, then the finding's lead number (slice, group, metric,
        value, ci_low, ci_high, compared_with, p_value, q_value, n, support, support_unit) and how many numbers
        it rests on (evidence; all of them in `findings`)."""
        return findings_frame(self.findings)

    def to_html(self, path: str | Path | None = None, *, interactive: bool = False) -> Path | str:
        """The model card as one self-contained HTML page: written to `path` (returns the path), or returned as
        text when `path` is None."""
        return self._output(path, "html", interactive=interactive)

    def to_json(self, path: str | Path | None = None) -> Path | str:
        """The model card as JSON (see `reportgen/schema/report.schema.json`): written to `path` (returns the
        path), or returned as text when `path` is None."""
        return self._output(path, "json")

    def to_pdf(self, path: str | Path | None = None, *, page_size: str | None = None,
               pdf: str | None = None) -> Path | bytes:
        """The model card as a PDF: written to `path` (returns the path), or returned as bytes when `path` is None.

        `page_size` is "A4" or "Letter", and `pdf` is "sign-off" (the card a reviewer reads; the per-slice detail
        stays in the HTML and JSON) or "full" (every section); None takes the config's ``[report] page_size``
        and ``[report] pdf`` ("A4" and "sign-off" unless set).
        """
        report = self.config.report
        return self._output(path, "pdf", page_size=page_size or report.page_size, pdf=pdf or report.pdf)

    def to_markdown(self, path: str | Path | None = None, *, base_url: str | None = None) -> Path | str:
        """The pull-request summary (`summary.md`), linking the report at `base_url` if given: written to `path`
        (returns the path), or returned as text when `path` is None."""
        return self._output(path, "md", base_url=base_url)

    def _output(self, path: str | Path | None, name: str, **options: Any) -> Path | str | bytes:
        from reportgen.render import formats  # the renderers load only when a card is written

        if path is not None:
            return formats.write(self.to_report(), Path(path), name, **options)
        data = formats.render_one(self.to_report(), name, **options)
        return data if formats.FORMATS[name].binary else data.decode("utf-8")


@_keyword_errors()
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
    max_groups_shown: int = 20,
    fdr: float = 0.05,
    max_ece: float = 0.05,
    model: Mapping[str, Any] | None = None,
    card: Mapping[str, Any] | None = None,
    gates: Iterable[Mapping[str, Any]] = (),
    history: str | Path | None = None,
    baseline: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    error_analysis: Mapping[str, Any] | None = None,
    monitoring: Mapping[str, Any] | None = None,
    explanations: Mapping[str, Any] | None = None,
    title: str = "Model card",
    engine: str = "numpy",
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
    confidence_level, resamples, seed, min_support, calibration_bins, max_groups_shown
        As the config's ``[report]`` table.
    fdr, max_ece
        As the config's ``[findings]`` table.
    model, card : dict, optional
        As the config's ``[model]`` and ``[card]`` tables. ``model`` may name the fitted model as ``"artifact"``
        (a .skops file, loaded securely) or give it as ``"fitted"`` (an estimator in memory), with its
        ``"features"``: what drives its predictions is then explained (``Evaluation.results["explanations"]``).
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
    monitoring : dict, optional
        As the config's ``[monitoring]`` table: the rows the model was validated on as ``"reference"`` (a
        file) or ``"data"`` (a frame), and optionally ``"time"``, ``"window"``, ``"columns"``, e.g.
        ``{"data": reference_df, "time": "scored_at", "window": "MS"}``: drift per column and performance
        over time (``Evaluation.monitoring``).
    explanations : dict, optional
        As the config's ``[explanations]`` table, e.g. ``{"max_rows": 2000, "repeats": 5}``.
    title : str
        The card's title.
    engine : {"numpy", "duckdb", "spark"}
        As ``[report] engine``: "duckdb" and "spark" query the frame where it lies (the same statistics and
        card; the analyses that read every row do not run). "auto" is "numpy" for a frame.

    Returns
    -------
    Evaluation

    Raises
    ------
    ConfigError, InputError
        On an invalid keyword or data frame; the one-line message names the keyword as given here
        (``task``, ``slices[0]["bins"]``), not the config file's table and key.

    Examples
    --------
    >>> import pandas as pd, reportgen
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.4, 0.6], "sex": ["f", "f", "m", "m"]})
    >>> ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "sex"}], resamples=200)
    >>> ev.metrics.query("metric == 'accuracy'")[["slice", "group", "value"]].to_string(index=False)
    '  slice   group  value\\noverall overall    0.5\\n    sex       f    1.0\\n    sex       m    0.0'
    """
    given = {
        "score": score, "scores": None if scores is None else _table(scores), "score_prefix": score_prefix,
        "prediction": prediction, "positive_label": positive_label,
        "top_k": None if top_k is None else _listed(top_k),
    }
    defaults = {"threshold": (threshold, 0.5), "normalize": (normalize, False)}
    raw = {
        "report": {
            "title": title, "confidence_level": confidence_level, "resamples": resamples, "seed": seed,
            "min_support": min_support, "calibration_bins": calibration_bins, "max_groups_shown": max_groups_shown,
            "engine": engine,
        },
        "model": _table(model or {}),
        "data": {"label": label}
        | {key: value for key, value in given.items() if value is not None}
        | {key: value for key, (value, default) in defaults.items() if value != default},
        "slices": _tables(slices),
        "fairness": {
            "sensitive": _listed(sensitive), "reference": _table(reference or {}),
            "max_difference": max_difference, "min_ratio": min_ratio,
        } | ({"max_error_difference": max_error_difference} if max_error_difference is not None else {}),
        "findings": {"fdr": fdr, "max_ece": max_ece},
        "card": _table(card or {}),
        "gates": _tables(gates),
        "error_analysis": _table(error_analysis or {}),
        "monitoring": _table(monitoring or {}),
        "explanations": _table(explanations or {}),
    }
    if task is not None and isinstance(raw["model"], dict):
        raw["model"] |= {"task": task}
    fitted = raw["model"].pop("fitted", None) if isinstance(raw["model"], dict) else None
    if fitted is not None:
        raw["model"]["artifact"] = "fitted model"
    tables = _tables([] if baseline is None else [baseline] if isinstance(baseline, Mapping) else baseline)
    frames = [table.get("data") if isinstance(table, dict) else None for table in
              (tables if isinstance(tables, list) else [])]
    reference_frame = raw["monitoring"].pop("data", None) if isinstance(raw["monitoring"], dict) else None
    if reference_frame is not None:
        raw["monitoring"]["reference"] = "reference data frame"
    named = [("data", data), *(("baseline data", f) for f in frames if f is not None),
             *([("reference data", reference_frame)] if reference_frame is not None else [])]
    for name, frame in named:
        _require_text_columns(frame, name)
    raw["baseline"] = [
        {key: value for key, value in table.items() if key != "data"} | ({} if frame is None else {"path": "data frame"})
        if isinstance(table, dict) else table
        for table, frame in zip(tables, frames, strict=True)
    ] if isinstance(tables, list) else tables
    config: Config = validate(Config, raw, source=API)
    if config.report.engine in SQL_ENGINES:
        inputs = [_baseline_input(spec, frame) for spec, frame in zip(config.baseline, frames, strict=True)]
        reference_input = None
        if reference_frame is not None:
            reference_input = ReferenceInput(reference_frame, "reference data frame",
                                             frame_fingerprint(reference_frame))
        elif config.monitoring.reference is not None:
            reference_input = _reference_input(Path(config.monitoring.reference), config.monitoring.reference)
        return _evaluate_sql(config, config.report.engine, f'engine "{engine}" set by evaluate()', source="data frame",
                             files=None, frame=data, config_source=API, git=None,
                             history_path=None if history is None else Path(history), progress=lambda message: None,
                             baselines=inputs, reference=reference_input)
    predictions, unlabelled = _current(data, config, "data frame")
    logs = None if history is None else read_history(Path(history), source=str(history))
    baselines = [
        load_baseline(spec, predictions, config.data, path=Path(spec.path)) if frame is None
        else align_baseline(spec, frame, predictions, config.data)
        for spec, frame in zip(config.baseline, frames, strict=True)
    ]
    reference = None
    if reference_frame is not None:
        reference = check_reference(reference_frame, predictions, config, source="reference data frame")
    elif config.monitoring.reference is not None:
        path = config.monitoring.reference
        reference = load_reference(Path(path), predictions, config, source=path)
    model = None
    if fitted is not None and config.explanations.enabled:
        model = in_memory(fitted, config.model)
    elif config.model.artifact is not None and config.explanations.enabled:
        model = load_model(Path(config.model.artifact), config.model, source=config.model.artifact)
    attributions = None
    if config.explanations.path is not None and config.explanations.enabled:
        attributions = load_attributions(Path(config.explanations.path), config.explanations.path, predictions,
                                         config.model.features, config.explanations.id)
    return evaluate_predictions(predictions, config, config_source=API, history=logs, baselines=baselines,
                                reference=reference, unlabelled=unlabelled, model=model, attributions=attributions)


def _baseline_input(spec: BaselineSpec, frame: pd.DataFrame | None) -> BaselineInput:
    """A baseline an SQL engine compares: its data frame, else the files of its path."""
    if frame is not None:
        return BaselineInput(spec, frame, frame_fingerprint(frame))
    files = input_files(Path(spec.path), spec.path)
    return BaselineInput(spec, files, files_fingerprint(files))


def _reference_input(path: Path, source: str) -> ReferenceInput:
    """`[monitoring] reference` for an SQL engine: its files."""
    files = input_files(path, source)
    return ReferenceInput(files, source, files_fingerprint(files))


def _current(frame: pd.DataFrame, config: Config, source: str, fingerprint: str | None = None
             ) -> tuple[Predictions, Unlabelled | None]:
    """The checked predictions; with `[monitoring]`, rows whose label has not arrived yet are set apart (and
    checked) instead of being an error."""
    labelled, waiting = split_unlabelled(frame, config.data, source) if config.monitoring.enabled else (frame, None)
    if waiting is None:
        return check_predictions(labelled, config.data, task=config.model.task, source=source,
                                 fingerprint=fingerprint), None
    with _rows_counted_among("the rows with a label"):
        predictions = check_predictions(labelled, config.data, task=config.model.task, source=source,
                                        fingerprint=fingerprint)
    with _rows_counted_among("the rows without a label"):
        return predictions, check_unlabelled(waiting, config.data, predictions, source)


@contextmanager
def _rows_counted_among(rows: str) -> Iterator[None]:
    """An error about rows of a part of the predictions says which part its row numbers count."""
    try:
        yield
    except InputError as exc:
        if "(row" in str(exc):
            exc.args = (f"{exc} (row numbers count {rows})", *exc.args[1:])
        raise


def _table(value: Any) -> Any:
    """A keyword's table (a mapping) as a dict; any other value as given, for validation to refuse by its name."""
    return dict(value) if isinstance(value, Mapping) else value


def _listed(value: Any) -> Any:
    """A keyword's list (any iterable but text or a mapping) as a list; any other value as given, for validation
    to refuse by its name (a bare "sex" would otherwise be read as ["s", "e", "x"])."""
    return list(value) if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping) else value


def _tables(value: Any) -> Any:
    """A keyword's list of tables, each as a dict (see `_table` and `_listed`)."""
    items = _listed(value)
    return [_table(item) for item in items] if isinstance(items, list) else items


def _require_text_columns(frame: pd.DataFrame, name: str) -> None:
    """Column names are what configs, slices and the card refer to: they must be text."""
    other = [column for column in getattr(frame, "columns", ()) if not isinstance(column, str)]
    if other:
        raise InputError(f"{API}: {name}: column names must be text, and {quoted_list(other)} "
                         f"{'is' if len(other) == 1 else 'are'} not; rename them, e.g. frame.columns = "
                         "frame.columns.astype(str)")


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
    if config.data.path is None and config.data.spark_table is None:
        raise ConfigError(f"{config_path}: [data] path: required key is missing (the predictions file)")
    history_path = None if config.training.history is None else project.confine(
        "[training] history", config.training.history, tree=True)
    baseline_paths = [
        project.confine(f"[baseline] #{index} path" if len(config.baseline) > 1 else "[baseline] path", spec.path,
                        tree=True)
        for index, spec in enumerate(config.baseline, start=1)
    ]
    baseline_files = [input_files(path, spec.path) for spec, path in zip(config.baseline, baseline_paths, strict=True)]
    inputs = [BaselineInput(spec, files, files_fingerprint(files))
              for spec, files in zip(config.baseline, baseline_files, strict=True)]
    reference_input = None if config.monitoring.reference is None else _reference_input(
        project.confine("[monitoring] reference", config.monitoring.reference, tree=True), config.monitoring.reference)
    if config.data.path is None:  # a Spark catalog table
        assert config.data.spark_table is not None, "a table when there is no path"
        return _evaluate_sql(config, "spark", 'engine "spark" set by [report] engine', source=f'table '
                             f'"{config.data.spark_table}"', files=None, config_source=str(config_path),
                             git=git_state(project.base), history_path=history_path, progress=progress,
                             baselines=inputs, reference=reference_input)
    data_path = project.confine("[data] path", config.data.path, tree=True)
    files = input_files(data_path, config.data.path)
    engine, why = choose_engine(config.report.engine, files, folder=data_path.is_dir())
    progress(why)
    if engine in SQL_ENGINES:
        return _evaluate_sql(config, engine, why, source=config.data.path, files=files, config_source=str(config_path),
                             git=git_state(project.base), history_path=history_path, progress=progress,
                             baselines=inputs, reference=reference_input)
    data_path = numpy_file(files, data_path.is_dir(), config.data.path)
    baseline_paths = [numpy_file(found, path.is_dir(), spec.path)
                      for spec, path, found in zip(config.baseline, baseline_paths, baseline_files, strict=True)]
    stages = Stages("numpy", progress)
    with stages.stage(f"reading {Path(config.data.path).name}"):
        predictions, unlabelled = _current(read_table(data_path, config.data.path), config, config.data.path,
                                           fingerprint=file_fingerprint(data_path))
    history = _read_history(config, history_path, progress)
    reference_path = None if config.monitoring.reference is None else project.confine(
        "[monitoring] reference", config.monitoring.reference, tree=True)
    baselines = []
    for spec, path in zip(config.baseline, baseline_paths, strict=True):
        progress(f"reading the baseline {spec.name} ({spec.path})")
        baselines.append(load_baseline(spec, predictions, config.data, path=path))
    reference = None
    if reference_path is not None:
        progress(f"reading the monitoring reference {config.monitoring.reference}")
        reference = load_reference(reference_path, predictions, config, source=str(config.monitoring.reference))
    model = None
    if config.model.artifact is not None and config.explanations.enabled:
        progress(f"loading the model {config.model.artifact}")
        model = load_model(project.confine("[model] artifact", config.model.artifact), config.model,
                           source=config.model.artifact)
    attributions = None
    if config.explanations.path is not None and config.explanations.enabled:
        progress(f"reading the attributions {config.explanations.path}")
        attributions = load_attributions(project.confine("[explanations] path", config.explanations.path),
                                         config.explanations.path, predictions, config.model.features,
                                         config.explanations.id)
    progress(f"evaluating {len(predictions.frame):,} rows over {len(config.slices)} slice definitions")
    return evaluate_predictions(predictions, config, config_source=str(config_path), git=git_state(project.base),
                                history=history, baselines=baselines, reference=reference, unlabelled=unlabelled,
                                stages=stages, notes=[why], model=model, attributions=attributions)


def not_run_notes(config: Config) -> list[str]:
    """Which of the analyses the config asks for read every row, and so do not run with an SQL engine, and why."""
    asked = {"explanations": config.model.artifact is not None and config.explanations.enabled,
             "attributions": config.explanations.path is not None and config.explanations.enabled,
             "surrogate": bool(config.model.features) and config.explanations.enabled
             and config.explanations.rules_depth > 0,
             "proxies": bool(config.model.features) and bool(config.fairness.sensitive) and config.explanations.enabled}
    return [f"not run: {analysis.name.replace('_', ' ')}, as {analysis.rows} (set [report] engine = \"numpy\" to run "
            "it)" for analysis in ANALYSES if analysis.rows is not None and asked.get(analysis.name, True)]


def _read_history(config: Config, path: Path | None, progress: Callable[[str], None]) -> History | None:
    if path is None:
        return None
    progress(f"reading the training history {config.training.history}")
    return read_history(path, source=str(config.training.history))


def _evaluate_sql(
    config: Config, engine: str, why: str, *, source: str, files: list[Path] | None, config_source: str,
    git: GitState | None, history_path: Path | None, progress: Callable[[str], None], frame: pd.DataFrame | None = None,
    baselines: Sequence[BaselineInput] = (), reference: ReferenceInput | None = None,
) -> Evaluation:
    """Evaluate with an engine that computes the statistics where the data lies (`reportgen.engines.scan`), with
    `baselines` measured there too and `reference` (`[monitoring] reference`) read there; the analyses that read every
    row do not run, and the card's run record says so."""
    history = _read_history(config, history_path, progress)
    notes = [why, *not_run_notes(config)]
    for note in notes[1:]:
        progress(f"{engine}: {note}")
    connection = connect(engine, files=files, frame=frame, table=config.data.spark_table, source=source,
                         settings=config.report)
    try:
        fingerprint = files_fingerprint(files) if files else frame_fingerprint(frame) if frame is not None else (
            "not computed (a catalog table)")
        predictions, measured, run, measured_baselines, scanned = measure_sql(
            connection, config, source=source, fingerprint=fingerprint, engine=engine, version=connection.version(),
            notes=notes, progress=progress, baselines=baselines)
        stages = Stages(engine, progress, run.stages)
        with stages.stage("analyses"):  # the error analysis queries the engine: it is still open
            context = Context(config=config, predictions=predictions, measured=measured, history=history,
                              config_source=config_source, measured_baselines=measured_baselines, scanned=scanned,
                              reference_input=reference)
            results, findings, test_families = run_analyses(context, rows=False)
    finally:
        connection.close()
    return Evaluation(config=config, predictions=predictions, measured=measured, results=results, findings=findings,
                      test_families=test_families, config_source=config_source, git=git, history=history,
                      engine=replace(run, stages=stages.done))


def evaluate_predictions(
    predictions: Predictions, config: Config, *, config_source: str = "config", git: GitState | None = None,
    history: History | None = None, baselines: Sequence[Baseline] = (), reference: Reference | None = None,
    unlabelled: Unlabelled | None = None, stages: Stages | None = None, notes: Sequence[str] = (),
    model: LoadedModel | None = None, attributions: Attributions | None = None,
) -> Evaluation:
    """Evaluate checked predictions with a validated config (the CLI's entry point).

    `config_source` (the config file) starts the messages of errors found when gates are checked;
    `git` is the state of the code that produced the predictions, for the card's run record;
    `history` the model's training history (`read_history`), summarized with its findings;
    `baselines` other models' predictions on the same rows (`load_baseline`), each compared with
    the candidate group by group; `reference` the rows the model was validated on (`load_reference`), for
    monitoring, and `unlabelled` the current rows whose label has not arrived (`check_unlabelled`).
    `stages` times the stages (it may hold those before, e.g. reading the file); `notes` say how the engine was
    chosen; `model` is the fitted model `[model] artifact` names (`load_model`), for the explanations, and
    `attributions` those `[explanations] path` holds (`load_attributions`).
    """
    stages = stages or Stages("numpy", lambda message: None)
    with reused_memory():  # large arrays come and go: their memory is reused, not faulted in again each time
        with stages.stage("statistics and metrics"):
            measured = measure(predictions, config.all_slices, config.report)
        with stages.stage("analyses"):
            context = Context(config=config, predictions=predictions, measured=measured, baselines=baselines,
                              history=history, reference=reference, unlabelled=unlabelled,
                              config_source=config_source, model=model, attributions=attributions)
            results, findings, test_families = run_analyses(context)
    run = EngineRun("numpy", np.__version__, len(predictions.frame), stages.done, list(notes))
    return Evaluation(config=config, predictions=predictions, measured=measured, results=results, findings=findings,
                      test_families=test_families, config_source=config_source, git=git, history=history, engine=run)
