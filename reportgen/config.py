"""The TOML configuration as typed, validated models.

Every error names the file, the key and the reason, in one line::

    config.toml: [fairness] max_diference: unknown key; did you mean "max_difference"?
"""

from __future__ import annotations

import datetime as dt
import math
import re
import reprlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from reportgen.errors import ConfigError, counted, did_you_mean, quoted_list, shown
from reportgen.expression import ExpressionError, parse
from reportgen.vocabulary import OVERALL
from reportgen.windows import parse_window

Scalar = bool | int | float | str
UNKNOWN_KEY = "unknown key"
Task = Literal["binary", "multiclass", "regression"]
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression")


def _window_alias(alias: str) -> str:
    parse_window(alias)  # its ValueError says what to write
    return alias


# A pandas offset alias of time windows ("7D", "W", "MS"), checked by `reportgen.windows.parse_window`.
WindowAlias = Annotated[str, AfterValidator(_window_alias)]


class _Section(BaseModel):
    # a field's docstring is its description in the published JSON Schema (`config_schema`), which editors show
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ReportSection(_Section):
    """`[report]`: what the card is called, where it goes and how uncertainty is estimated."""

    title: str = "Model card"
    """The card's title."""
    output_dir: str = "out"
    """The folder the report files are written to, relative to the config file."""
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    """The level of every confidence interval (0.95: 95% intervals)."""
    resamples: Annotated[int, Field(ge=100, le=100_000)] = 1000
    """Bootstrap resamples behind each interval."""
    seed: int = 0
    """Seed of the bootstrap, so that two builds give the same numbers."""
    min_support: Annotated[int, Field(ge=1)] = 30
    """Groups with fewer rows are marked small (their numbers mean little on their own)."""
    calibration_bins: Annotated[int, Field(ge=2, le=100)] = 10
    """Bins of the reliability diagram and of the expected calibration error."""
    max_groups_shown: Annotated[int, Field(ge=2, le=10_000)] = 20
    """The most groups of one slice shown in tables and charts (the rest are summed up)."""
    page_size: Literal["A4", "Letter"] = "A4"
    """Paper size of the PDF."""
    pdf: Literal["sign-off", "full"] = "sign-off"
    """What the PDF prints: "sign-off", the headline, gates, findings and summaries a reviewer signs off on (the
    per-slice detail stays in report.html and report.json), or "full", everything the HTML page holds."""
    base_url: str | None = None
    """http(s) address the report folder is published at (links in summary.md point there)."""
    engine: Literal["auto", "numpy", "duckdb", "spark"] = "auto"
    """Where the statistics are computed: "numpy" reads the predictions into memory; "duckdb" queries the files where
    they lie, out of core; "spark" runs the same queries on a Spark cluster (`pip install 'reportgen[spark]'`); "auto"
    takes duckdb for a folder of files or more than 256 MB of them, else numpy. The card is the same; analyses that
    read every row (sanity checks, baselines, error analysis, monitoring) run with numpy only, and the card says so."""
    memory_limit: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)? ?([KMGT]i?B|B)$")] | None = None
    """The duckdb engine's memory limit, e.g. "2GB" (default: DuckDB's, 80% of the memory); past it, DuckDB spills
    to a temporary folder."""
    threads: Annotated[int, Field(ge=1, le=1024)] = 1
    """The duckdb engine's worker threads. More are faster, but parallel sums add the same numbers in a varying
    order, so a card's last digits may differ from run to run; with 1 it is the same, byte for byte."""
    timings: bool = False
    """Record each stage's seconds in the card and report.json (off by default: a card is then the same, byte for
    byte, from the same inputs; the progress output always shows them)."""
    spark_master: str | None = None
    """The Spark master for engine = "spark", e.g. "local[4]", "spark://host:7077" or "yarn" (default: the one
    spark-submit sets, else "local[*]")."""

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        if url is not None and urlparse(url).scheme not in ("http", "https"):
            raise ValueError(f'"{shown(url)}" is not an http(s) address of the published report folder')
        return url


class ModelSection(_Section):
    """`[model]`: model details."""

    name: str = "model"
    """The model's name."""
    version: str = ""
    """The model's version."""
    description: str = ""
    """What the model is and does (markdown)."""
    date: dt.date | str | None = None
    """When the model was trained or released (a TOML date or text)."""
    task: Task | None = None
    """The task; inferred from [data] and the labels when left out."""
    params: dict[str, Scalar] = {}
    """Hyperparameters, shown as a table (name = number, text or true/false)."""
    artifact: str | None = None
    """The fitted model, to explain what drives its predictions: a scikit-learn model or pipeline saved with skops
    (.skops, loaded with skops' secure loader), relative to the config file; a pickle (.pkl, .pickle, .joblib)
    only with `allow_pickle`."""
    trusted: list[str] = []
    """Types in the artifact beyond those skops trusts, that you have reviewed and trust (full names, e.g.
    "xgboost.sklearn.XGBClassifier"); any other unknown type is refused, and listed."""
    features: list[str] | None = None
    """The model's input columns in the [data] file, in the order the model takes them (required with
    `artifact`)."""
    allow_pickle: bool = False
    """Load a pickled artifact: a pickle runs code when it is loaded, so only for a file you trust (the card says
    it was)."""

    @model_validator(mode="after")
    def _features_with_the_artifact(self) -> ModelSection:
        if self.artifact is not None and not self.features:
            raise ValueError("artifact needs features: the model's input columns in the [data] file, in order")
        if self.features is not None and len(set(self.features)) < len(self.features):
            twice = next(f for f in self.features if self.features.count(f) > 1)
            raise ValueError(f'features lists "{shown(twice)}" more than once')
        return self


class DataSection(_Section):
    """`[data]`: the predictions file and which columns hold what.

    Binary tasks name a `score` column (probability of the positive class); multiclass tasks name
    one probability column per class (`scores`, or the columns starting with `score_prefix`) and/or
    a `prediction` column; regression tasks name the `prediction` column.
    """

    path: str | None = None
    """The predictions file (.csv, .parquet or .jsonl), relative to the config file; with the duckdb or spark
    engine, also a folder of such files (all of one format), read as one table."""
    spark_table: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")] | None = None
    """With engine = "spark": a table of the Spark catalog to read instead of `path`, e.g. "sales.predictions"."""
    label: str
    """The column of true labels (classes, or targets for regression)."""
    score: str | None = None
    """Binary: the column of positive-class probabilities, in [0, 1]."""
    scores: dict[str, str] | None = None
    """Multiclass: class → its probability column, one per class."""
    score_prefix: str | None = None
    """Multiclass: the prefix of the probability columns ("p_" for p_cat, p_dog, ...)."""
    prediction: str | None = None
    """The column of predicted labels (classification) or predicted values (regression)."""
    positive_label: Scalar | None = None
    """Binary: the label value that counts as positive (needed unless labels are 0/1 or true/false)."""
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """Binary: scores at or above it predict the positive class (when there is no prediction column)."""
    normalize: bool = False
    """Multiclass: divide each row's probabilities by their sum instead of requiring a sum of 1."""
    top_k: list[Annotated[int, Field(ge=1)]] | None = None
    """Multiclass: the k of each top-k accuracy (default 3 and 5, those below the number of classes)."""

    @model_validator(mode="after")
    def _one_kind_of_score(self) -> DataSection:
        _check_output(self, "the model's")
        return self

    def check_task(self, task: str) -> None:
        """Raise ValueError when a key does not belong to `task` (or one it needs is missing)."""
        foreign = {
            "binary": ("scores", "score_prefix", "normalize", "top_k"),
            "multiclass": ("score", "positive_label", "threshold"),
            "regression": ("score", "scores", "score_prefix", "positive_label", "threshold", "normalize", "top_k"),
        }[task]
        wrong = [key for key in foreign if key in self.model_fields_set]
        if wrong:
            raise ValueError(f"{quoted_list(wrong)} do{'es' if len(wrong) == 1 else ''} not apply to a {task} task")
        if task == "binary" and self.score is None:
            raise ValueError('a binary task needs "score", the column of positive-class probabilities')
        if task == "regression" and self.prediction is None:
            raise ValueError('a regression task needs "prediction", the column of predicted values')


def _check_output(section: DataSection | BaselineSpec, whose: str) -> None:
    """The keys naming a model's output (`[data]`, `[baseline]`): one kind of score, none empty, one at least."""
    given = [key for key in ("score", "scores", "score_prefix") if getattr(section, key) is not None]
    if len(given) > 1:
        raise ValueError(f"give one of {quoted_list(given)}, not several")
    if section.score_prefix is not None and not section.score_prefix:
        raise ValueError('"score_prefix" is empty')
    if section.scores is not None and not section.scores:
        raise ValueError('"scores" is empty; map each class to its probability column')
    if not given and section.prediction is None:
        raise ValueError(
            f'name {whose} output: "score" (binary), "scores" or "score_prefix" (multiclass) or "prediction" (regression)'
        )


class SliceSpec(_Section):
    """One `[[slices]]` entry: a column's values, numeric bins, an intersection or a query."""

    name: str | None = None
    """The slice's name in the card (default: the column(s), or the query)."""
    column: str | None = None
    """One group per value of this column (or per bin, with "bins" or "quantiles")."""
    columns: list[str] | None = None
    """An intersection: one group per combination of these columns' values."""
    bins: list[float] | None = None
    """Increasing bin edges for a numeric column."""
    quantiles: Annotated[int, Field(ge=2, le=100)] | None = None
    """Cut a numeric column into this many bins of about equal counts."""
    where: str | None = None
    """A query such as "age >= 65 and sex == 'F'": the rows it holds against the rest."""
    window: WindowAlias | None = None
    """A date/time column cut into windows, in time order: a pandas offset alias, e.g. "1D", "7D", "W", "MS"."""
    max_groups: Annotated[int, Field(ge=2, le=10_000)] = 1000
    """The most groups the slice may have (more is an error)."""

    @model_validator(mode="after")
    def _one_kind(self) -> SliceSpec:
        kinds = [k for k in ("column", "columns", "where") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError('give exactly one of "column", "columns" or "where"')
        if (self.bins is not None or self.quantiles is not None) and self.column is None:
            raise ValueError('"bins" and "quantiles" go with "column"')
        if self.bins is not None and self.quantiles is not None:
            raise ValueError('give "bins" or "quantiles", not both')
        if self.window is not None and (self.column is None or self.bins is not None or self.quantiles is not None):
            raise ValueError('"window" goes with "column" alone (not with "columns", "where", "bins" or "quantiles")')
        if self.columns is not None and len(self.columns) < 2:
            raise ValueError('"columns" (an intersection) needs at least two columns; use "column" for one')
        if self.where is not None and not self.where.strip():
            raise ValueError('"where" is empty')
        return self

    @field_validator("bins")
    @classmethod
    def _increasing_edges(cls, bins: list[float] | None) -> list[float] | None:
        if bins is None:
            return bins
        shown = "[" + ", ".join(format(b, "g") for b in bins) + "]"
        if len(bins) < 2 or any(math.isnan(b) for b in bins):
            raise ValueError(f"{shown} needs at least two numbers (the bin edges)")
        if any(a >= b for a, b in zip(bins[:-1], bins[1:], strict=True)):
            raise ValueError(f"{shown} must be increasing")
        return bins

    @property
    def title(self) -> str:
        """The slice family's name: `name`, else the column(s), else the query."""
        if self.name:
            return self.name
        if self.column is not None:
            return self.column
        if self.columns is not None:
            return " × ".join(self.columns)
        return str(self.where)


class FairnessSection(_Section):
    """`[fairness]`: sensitive columns, reference groups and the thresholds gaps are flagged at."""

    sensitive: list[str] = []
    """Columns of protected attributes; each gets a slice and fairness gaps."""
    reference: dict[str, Scalar] = {}
    """Sensitive column → the group that ratios and differences are taken against."""
    max_difference: Annotated[float, Field(ge=0.0, le=1.0)] = 0.1
    """Flag a difference in a rate between groups larger than this."""
    min_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 0.8
    """Flag a ratio of rates between groups smaller than this (0.8: the four-fifths rule of thumb)."""
    max_error_difference: Annotated[float, Field(gt=0.0)] | None = None
    """Regression: flag a gap in mean absolute error or mean residual larger than this (target's units)."""

    @model_validator(mode="after")
    def _reference_is_sensitive(self) -> FairnessSection:
        for column in self.sensitive:
            if self.sensitive.count(column) > 1:
                raise ValueError(f'sensitive lists "{shown(column)}" more than once')
        for column in self.reference:
            if column not in self.sensitive:
                raise ValueError(
                    f'reference names "{shown(column)}", which is not in sensitive: {quoted_list(self.sensitive)}'
                )
        return self


class ExplanationsSection(_Section):
    """`[explanations]`: what drives the predictions of the model `[model] artifact` names.

    Permutation importance (scikit-learn's, seeded) on the metric of the task, over a seeded sample of at most
    `max_rows` rows, `repeats` permutations a feature, for all rows and per group of every sensitive column
    (groups with fewer than `[report] min_support` rows of the sample are left out). Partial dependence and ICE
    for the `dependence_features` most important features, at up to `grid` values. Proxies: each of `[model]
    features` tested against each sensitive column (no model needed), a proxy where significant and at least
    `min_proxy_auc` (a number feature) or `min_proxy_v` (a category feature). Precomputed attributions (`path`,
    no model needed): each feature's mean |attribution|, overall and per sensitive group, and a beeswarm summary.
    Rules: a surrogate tree of depth `rules_depth` on `[model] features` to the predictions (no model needed).
    """

    enabled: bool = True
    """Explain the model, where `[model] artifact` names one."""
    max_rows: Annotated[int, Field(ge=10)] = 5000
    """The most rows permutation importance runs on (a seeded sample; the card says how many)."""
    repeats: Annotated[int, Field(ge=2, le=100)] = 10
    """Permutations of each feature; the importance is their mean, its interval from their spread."""
    dependence_features: Annotated[int, Field(ge=0, le=20)] = 3
    """Partial dependence and ICE for this many of the most important features (0: none)."""
    grid: Annotated[int, Field(ge=2, le=100)] = 20
    """The most values a number feature's partial dependence is computed at (between its 5th and 95th percentiles)."""
    min_proxy_auc: Annotated[float, Field(gt=0.5, le=1.0)] = 0.7
    """A number feature is a proxy of a sensitive column from this ROC AUC (one group against the rest) on."""
    min_proxy_v: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    """A category feature is a proxy of a sensitive column from this Cramér's V on."""
    rules_depth: Annotated[int, Field(ge=0, le=4)] = 3
    """The depth of the surrogate tree whose leaves are the predictions' rules (on `[model] features`; 0: none)."""
    path: str | None = None
    """Precomputed attributions (SHAP values, ...): one column per feature, relative to the config file."""
    id: str | None = None
    """The column `path` and the predictions share to match rows (without it: the same rows in the same order)."""

    @model_validator(mode="after")
    def _id_with_path(self) -> ExplanationsSection:
        if self.id is not None and self.path is None:
            raise ValueError('id goes with path: the attributions file whose rows it matches')
        return self


class FindingsSection(_Section):
    """`[findings]`: when the card raises a finding."""

    fdr: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05
    """False discovery rate at which slice findings are tested (Benjamini-Hochberg)."""
    max_ece: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.05
    """Expected calibration error above which calibration is a finding."""


class CardSection(_Section):
    """`[card]`: the model card's narrative, markdown, all optional."""

    owners: list[str] = []
    """Who owns the model."""
    license: str | None = None
    """The model's license."""
    citation: str | None = None
    """How to cite the model."""
    intended_use: str | None = None
    """Who should use the model, and for what (markdown)."""
    out_of_scope: str | None = None
    """Uses the model is not meant for (markdown)."""
    factors: str | None = None
    """The groups and conditions the evaluation looks at, and why (markdown)."""
    training_data: str | None = None
    """The data the model was trained on (markdown)."""
    evaluation_data: str | None = None
    """The data these predictions are on (markdown)."""
    ethical_considerations: str | None = None
    """Risks and harms, and what was done about them (markdown)."""
    caveats: str | None = None
    """Limits of the model and of this evaluation (markdown)."""


class BaselineSpec(_Section):
    """One `[baseline]` (or `[[baseline]]` entry): another model's predictions on the same rows.

    The model's output is named as in `[data]`; the labels are the candidate's. With `id`, rows are
    joined on that column of both files; without it they must be in the same order, which is checked
    on every column the two files share (the label at least).
    """

    name: Annotated[str, Field(min_length=1)] = "baseline"
    """The baseline's name in the card."""
    path: str
    """The baseline's predictions file, relative to the config file."""
    score: str | None = None
    """Binary: the baseline's column of positive-class probabilities."""
    scores: dict[str, str] | None = None
    """Multiclass: class → the baseline's probability column."""
    score_prefix: str | None = None
    """Multiclass: the prefix of the baseline's probability columns."""
    prediction: str | None = None
    """The baseline's column of predicted labels or values."""
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Binary: the baseline's threshold (default: [data] threshold)."""
    normalize: bool = False
    """Multiclass: divide each row's probabilities by their sum."""
    id: str | None = None
    """A column in both files to join rows on (without it, rows must be in the same order)."""

    @model_validator(mode="after")
    def _one_output(self) -> BaselineSpec:
        _check_output(self, "the baseline's")
        return self

    @property
    def task(self) -> str | None:
        """The task its output keys point to; None for "prediction" alone (multiclass or regression)."""
        if self.score is not None:
            return "binary"
        if self.scores is not None or self.score_prefix is not None:
            return "multiclass"
        return None


class GateSpec(_Section):
    """One `[[gates]]` entry: a bound on a metric or on a fairness gap, or on a metric's change; or, with
    `[monitoring]`, on drift or on a metric over time.

    A metric gate applies overall, to every group of `slice`, or to one `group` of it; a fairness
    gate to the gap of every sensitive column, or of `sensitive` only. A `max_regression` gate
    bounds how much worse than the baseline (every baseline, or `baseline` only) a metric may get.
    With `significant`, a gate fails only where the interval lies wholly beyond the bound.
    Monitoring: `drift_share` bounds the share of input columns that drifted, `drift` names a column that
    may not drift; a metric gate with `windows` ("every" or "latest") checks the metric per time window,
    against `min`/`max` and, with `below_reference`, fails where a window is significantly worse than the
    reference; with `estimated`, it checks the metric estimated from the probabilities (labels or not).
    """

    metric: str | None = None
    """The metric the gate bounds (e.g. "roc_auc", "recall", "mae")."""
    fairness: str | None = None
    """The fairness gap the gate bounds (e.g. "equalized_odds_difference")."""
    slice: str | None = None
    """Apply the metric gate to every group of this slice (default: overall)."""
    group: Scalar | None = None
    """Apply the metric gate to this group of "slice" only."""
    sensitive: str | None = None
    """Apply the fairness gate to this sensitive column only (default: every one)."""
    min: Annotated[float, Field(allow_inf_nan=False)] | None = None
    """The gate fails below this value."""
    max: Annotated[float, Field(allow_inf_nan=False)] | None = None
    """The gate fails above this value."""
    max_regression: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    """The gate fails when the metric is worse than the baseline's by more than this."""
    baseline: str | None = None
    """Compare with this baseline only (default: every baseline)."""
    significant: bool = False
    """Fail only when the whole confidence interval lies beyond the bound."""
    drift_share: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    """Monitoring: the gate fails when a larger share of the input columns drifted from the reference."""
    drift: str | None = None
    """Monitoring: the gate fails when this column drifted from the reference."""
    windows: Literal["every", "latest"] | None = None
    """Monitoring: check the metric in every time window, or in the latest window with a value."""
    below_reference: bool = False
    """Monitoring (with "windows"): fail where a window is significantly worse than the reference."""
    estimated: bool = False
    """Monitoring (with "windows"): check the metric estimated from the probabilities, not the realised one."""

    @model_validator(mode="after")
    def _one_bound_on_one_thing(self) -> GateSpec:
        kinds = [k for k in ("metric", "fairness", "drift", "drift_share") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError('give exactly one of "metric", "fairness", "drift" or "drift_share"')
        if self.drift is not None or self.drift_share is not None:
            others = [k for k in ("slice", "group", "sensitive", "min", "max", "max_regression", "baseline", "windows")
                      if getattr(self, k) is not None]
            others += [k for k in ("significant", "below_reference", "estimated") if getattr(self, k)]
            if others:
                key = "drift" if self.drift is not None else "drift_share"
                raise ValueError(f'"{key}" is a gate of its own: give it without {quoted_list(others)}')
            return self
        if self.windows is not None and (self.slice is not None or self.max_regression is not None):
            raise ValueError('"windows" checks the overall metric per time window: give it without "slice" or '
                             '"max_regression"')
        if self.below_reference and self.windows is None:
            raise ValueError('"below_reference" goes with "windows"')
        if self.estimated and self.windows is None:
            raise ValueError('"estimated" goes with "windows"')
        if self.windows is not None and self.below_reference and self.min is None and self.max is None:
            return self
        if self.max_regression is not None:
            if self.min is not None or self.max is not None or self.fairness is not None:
                raise ValueError('"max_regression" bounds a metric\'s change from the baseline; give it alone, '
                                 'without "min", "max" or "fairness"')
        elif self.min is None and self.max is None:
            raise ValueError('give "min", "max" or both (or "below_reference")' if self.windows is not None
                             else 'give "min", "max" or both (or "max_regression")')
        if self.baseline is not None and self.max_regression is None:
            raise ValueError('"baseline" goes with "max_regression"')
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f'"min" ({self.min:g}) is above "max" ({self.max:g})')
        if self.metric is not None and self.sensitive is not None:
            raise ValueError('"sensitive" goes with "fairness"; a metric gate takes "slice" (and "group")')
        if self.fairness is not None and (self.slice is not None or self.group is not None):
            raise ValueError('"slice" and "group" go with "metric"; a fairness gate takes "sensitive"')
        if self.group is not None and self.slice is None:
            raise ValueError('"group" needs "slice", the slice the group belongs to')
        return self


DEFAULT_CANDIDATE_COLUMNS = 100  # error-analysis candidate columns searched by default ([error_analysis] max_columns)
MAX_CANDIDATE_COLUMNS = 1_000  # the most max_columns may be


class ErrorAnalysisSection(_Section):
    """`[error_analysis]`: searching the metadata columns for the slices where the model fails.

    `columns` are the candidates (default: every column but the model's, with at most `max_values`
    distinct values, and numeric columns with more, cut into `quantiles` bins); slices combine up to
    `depth` conditions and need `min_support` rows (default `[report] min_support`). `metric` is
    the per-row error measure: "error_rate", "log_loss" or "brier" for classification (default
    error_rate; binary also "fnr" or "fpr", the error rate over the positive or negative labels),
    "abs_error" or "squared_error" for regression (default abs_error). `target` is the
    level a slice is compared with in the scope-for-improvement table ("overall", or "best": the
    best comparable slice), overridden per slice by `targets` ("column=value & column=value" → level).
    At most `max_columns` candidates are searched (without `columns`: the first that qualify, in the
    file's order; `columns` may not list more); each example cell keeps `MAX_EXAMPLE_CHARS` characters.
    """

    enabled: bool = True
    """Search the metadata columns for slices where the model does worst."""
    columns: list[str] | None = None
    """The candidate columns (default: every column but the model's that qualifies)."""
    depth: Annotated[int, Field(ge=1, le=3)] = 2
    """The most conditions a discovered slice combines."""
    min_support: Annotated[int, Field(ge=1)] | None = None
    """The fewest rows of a discovered slice (default: [report] min_support)."""
    metric: Literal["error_rate", "fnr", "fpr", "log_loss", "brier", "abs_error", "squared_error"] | None = None
    """The per-row error measure the search ranks slices by."""
    target: Literal["overall", "best"] = "overall"
    """The level a slice is compared with: "overall", or "best" (the best comparable slice)."""
    targets: dict[str, Annotated[float, Field(ge=0.0, allow_inf_nan=False)]] = {}
    """Per-slice target levels: "column=value & column=value" → level."""
    max_values: Annotated[int, Field(ge=2, le=1000)] = 50
    """A non-numeric column with more distinct values is not a candidate."""
    quantiles: Annotated[int, Field(ge=2, le=20)] = 4
    """Numeric candidates with many values are cut into this many bins."""
    max_slices: Annotated[int, Field(ge=1, le=200)] = 10
    """The most discovered slices reported."""
    examples: Annotated[int, Field(ge=0, le=50)] = 5
    """Example rows shown for each discovered slice."""
    display: list[str] | None = None
    """The columns shown in the example rows (default: the slice's and the model's)."""
    tree_depth: Annotated[int, Field(ge=1, le=4)] = 3
    """Depth of the error tree."""
    max_columns: Annotated[int, Field(ge=1, le=MAX_CANDIDATE_COLUMNS)] = DEFAULT_CANDIDATE_COLUMNS
    """The most candidate columns searched."""

    @field_validator("columns")
    @classmethod
    def _some_columns(cls, columns: list[str] | None) -> list[str] | None:
        if columns is not None and not columns:
            raise ValueError("no candidate columns: list some, or leave the key out to use every metadata column")
        return columns

    @model_validator(mode="after")
    def _columns_within_cap(self) -> ErrorAnalysisSection:
        if self.columns is not None and len(self.columns) > self.max_columns:
            raise ValueError(
                f"columns lists {len(self.columns):,} candidates, more than max_columns = {self.max_columns}; "
                f"list fewer, or raise max_columns (at most {MAX_CANDIDATE_COLUMNS:,})"
            )
        return self


class MonitoringSection(_Section):
    """`[monitoring]`: the deployed model's data against the rows it was validated on, and its performance over time.

    `reference` is a file of the rows the model was validated on (the same columns as `[data]`; labels
    optional), relative to the config file. Each column's drift from the reference is tested (numbers:
    Kolmogorov–Smirnov; categories: chi-square) and counts as drift where the test is significant under
    `[findings] fdr` and the shift is at least `min_wasserstein` (numbers: the Wasserstein distance in
    reference standard deviations) or `min_jensen_shannon` (categories: the Jensen–Shannon distance).
    `time` names a date/time column, cut into `window`s (default: chosen from the time span) to follow
    performance and drift over time; a window's drift is its PSI on `psi_bins` reference-quantile bins,
    counted where its chi-square test is significant and the PSI is at least `min_psi`.
    """

    reference: str | None = None
    """The rows the model was validated on (CSV, Parquet or JSON Lines), relative to the config file."""
    time: str | None = None
    """A date/time column of the predictions (and of the reference) to follow performance and drift over time."""
    window: WindowAlias | None = None
    """The windows of "time", a pandas offset alias: "1D", "7D", "W", "MS", "QS" (default: from the time span)."""
    columns: list[str] | None = None
    """The columns tested for drift (default: every column but the label, the model's outputs and identifiers)."""
    min_wasserstein: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 0.1
    """A number column drifts when the Wasserstein distance is at least this many reference standard deviations."""
    min_jensen_shannon: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.1
    """A category column drifts when the Jensen–Shannon distance (natural log) is at least this."""
    min_psi: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 0.1
    """A window drifts in a column when its population stability index is at least this."""
    psi_bins: Annotated[int, Field(ge=2, le=100)] = 10
    """Reference-quantile bins of a number column for the PSI."""
    max_categories: Annotated[int, Field(ge=2, le=100_000)] = 100
    """A text column with more distinct values is not tested unless "columns" lists it."""
    max_windows: Annotated[int, Field(ge=2, le=10_000)] = 1000
    """The most windows "time" may be cut into (more is an error)."""

    @field_validator("columns")
    @classmethod
    def _some_columns(cls, columns: list[str] | None) -> list[str] | None:
        if columns is not None and not columns:
            raise ValueError("no columns: list some, or leave the key out to test every column")
        return columns

    @model_validator(mode="after")
    def _window_needs_time(self) -> MonitoringSection:
        if self.window is not None and self.time is None:
            raise ValueError('"window" needs "time", the date/time column it cuts')
        return self

    @property
    def enabled(self) -> bool:
        """Whether the card monitors anything: a reference to compare with, or a time column to follow."""
        return self.reference is not None or self.time is not None


class TrainingSection(_Section):
    """`[training]`: the model's training history (per-epoch logs), relative to the config file.

    `history` is a CSV with an epoch column (e.g. Lightning's CSVLogger `metrics.csv`), a Keras
    `History.history` saved as JSON, or an MLflow run folder (`mlruns/<experiment>/<run>`).
    """

    history: str | None = None
    """Training history (CSV with an epoch column, Keras JSON, or an MLflow run folder), relative to the config file."""


class SiteSection(_Section):
    """`[site]`: the static site `reportgen build` adds each report to (relative to the config file)."""

    dir: str | None = None
    """The static site folder each build adds its report to, relative to the config file."""
    title: str = "Model reports"
    """The site's index page title."""


def _one_or_several_tables(schema: dict[str, Any]) -> None:
    """The JSON Schema of a list of tables that may also be written as one table (`[baseline]`)."""
    table = schema.pop("items")
    del schema["type"]
    schema["anyOf"] = [table, {"type": "array", "items": table}]


class Config(_Section):
    """A whole configuration file."""

    report: ReportSection = ReportSection()
    """What the card is called, where it goes and how uncertainty is estimated."""
    model: ModelSection = ModelSection()
    """Model details."""
    data: DataSection
    """The predictions file and which columns hold what."""
    slices: list[SliceSpec] = []
    """The slices (groups of rows) each metric is reported for."""
    fairness: FairnessSection = FairnessSection()
    """Sensitive columns, reference groups and the thresholds gaps are flagged at."""
    findings: FindingsSection = FindingsSection()
    """When the card raises a finding."""
    card: CardSection = CardSection()
    """The model card's narrative (markdown)."""
    gates: list[GateSpec] = []
    """Quality gates: bounds on metrics and fairness gaps (`reportgen build --fail-on-gate`)."""
    training: TrainingSection = TrainingSection()
    """The model's training history."""
    site: SiteSection = SiteSection()
    """The static site the report is added to."""
    baseline: Annotated[list[BaselineSpec], Field(json_schema_extra=_one_or_several_tables)] = []
    """Another model's predictions on the same rows, to compare with (one table, or several [[baseline]])."""
    error_analysis: ErrorAnalysisSection = ErrorAnalysisSection()
    """Searching the metadata columns for the slices where the model fails."""
    monitoring: MonitoringSection = MonitoringSection()
    """The deployed model's data against a reference, and its performance over time."""
    explanations: ExplanationsSection = ExplanationsSection()
    """What drives the predictions of the model `[model] artifact` names."""

    @field_validator("baseline", mode="before")
    @classmethod
    def _one_or_several(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _keys_fit_the_task(self) -> Config:
        if self.model.task is not None:
            try:
                self.data.check_task(self.model.task)
            except ValueError as exc:
                raise ValueError(f"[data] {exc} (set by [model] task)") from None
        return self

    @model_validator(mode="after")
    def _engine_settings_fit(self) -> Config:
        engine = self.report.engine
        if self.data.spark_table is not None and engine != "spark":
            raise ValueError('[data] spark_table: a catalog table is read by the spark engine; set [report] engine = "spark"')
        if self.data.spark_table is not None and self.data.path is not None:
            raise ValueError("[data] give either path (files) or spark_table (a Spark catalog table), not both")
        for key in ("memory_limit", "threads"):
            if key in self.report.model_fields_set and engine not in ("duckdb", "auto"):
                raise ValueError(f'[report] {key}: applies to the duckdb engine, not "{engine}"')
        if self.report.spark_master is not None and engine != "spark":
            raise ValueError('[report] spark_master: applies to engine = "spark"')
        return self

    @model_validator(mode="after")
    def _where_conditions_parse(self) -> Config:
        # only the grammar here; columns and their kinds are checked against the data (reportgen.slices)
        for index, spec in enumerate(self.slices, start=1):
            if spec.where is not None:
                try:
                    parse(spec.where)
                except ExpressionError as exc:
                    raise ValueError(f'[[slices]] #{index} where "{shown(spec.where)}": {exc}') from None
        return self

    @model_validator(mode="after")
    def _unique_slice_names(self) -> Config:
        seen: set[str] = set()
        for spec in self.slices:
            if spec.title == OVERALL or spec.title in seen:
                raise ValueError(f'slice name "{shown(spec.title)}" is used twice or is reserved; set "name"')
            seen.add(spec.title)
        # A sensitive column no slice is defined on gets a slice named after it: that name must be free too.
        for spec in self.sensitive_slices:
            column = spec.title
            if column == OVERALL or column in seen:
                raise ValueError(
                    f'[fairness] sensitive "{shown(column)}": its slice would be named "{shown(column)}", which is taken; '
                    f'add a [[slices]] entry with column = "{shown(column)}" and another "name"'
                )
            seen.add(column)
        return self

    @model_validator(mode="after")
    def _gates_name_known_slices(self) -> Config:
        slices = [spec.title for spec in self.all_slices]
        for index, gate in enumerate(self.gates, start=1):
            if gate.slice is not None and gate.slice not in slices:
                raise ValueError(
                    f'[[gates]] #{index} slice: unknown slice "{shown(gate.slice)}"; '
                    f"slices are: {quoted_list(slices, limit=12) or 'none (add [[slices]])'}"
                    f"{did_you_mean(gate.slice, slices)}"
                )
            if gate.sensitive is not None and gate.sensitive not in self.fairness.sensitive:
                raise ValueError(
                    f'[[gates]] #{index} sensitive: "{shown(gate.sensitive)}" is not a sensitive column; '
                    f"[fairness] sensitive lists: {quoted_list(self.fairness.sensitive) or 'none'}"
                )
            if gate.fairness is not None and not self.fairness.sensitive:
                raise ValueError(f"[[gates]] #{index} fairness: no sensitive columns; list them in [fairness] sensitive")
            needs = "reference" if gate.drift is not None or gate.drift_share is not None else (
                "time" if gate.windows is not None else None)
            if needs is not None and getattr(self.monitoring, needs) is None:
                key = next(k for k in ("drift", "drift_share", "windows") if getattr(gate, k) is not None)
                raise ValueError(f"[[gates]] #{index} {key}: needs [monitoring] {needs}")
            if gate.below_reference and self.monitoring.reference is None:
                raise ValueError(f"[[gates]] #{index} below_reference: needs [monitoring] reference, with labels")
            if gate.max_regression is not None and not self.baseline:
                raise ValueError(f"[[gates]] #{index} max_regression: no baseline to compare with; add a [baseline]")
            names = [spec.name for spec in self.baseline]
            if gate.baseline is not None and gate.baseline not in names:
                raise ValueError(
                    f'[[gates]] #{index} baseline: unknown baseline "{shown(gate.baseline)}"; baselines are: '
                    f"{quoted_list(names)}{did_you_mean(gate.baseline, names)}"
                )
        return self

    @model_validator(mode="after")
    def _baselines_fit(self) -> Config:
        names = [spec.name for spec in self.baseline]
        for index, spec in enumerate(self.baseline, start=1):
            if names.count(spec.name) > 1:
                raise ValueError(f'[baseline] #{index} name: "{shown(spec.name)}" is used twice; give each baseline its own name')
            if self.model.task is not None and spec.task not in (None, self.model.task):
                raise ValueError(
                    f'[baseline] "{shown(spec.name)}": its output ({output_key(spec)}) is a {spec.task} model\'s, '
                    f"but [model] task is {self.model.task}; compare models of the same task"
                )
        return self

    @property
    def sensitive_slices(self) -> list[SliceSpec]:
        """A value slice for each sensitive column that no configured slice is defined on."""
        covered = {spec.column for spec in self.slices if spec.column is not None}
        return [SliceSpec(column=column) for column in self.fairness.sensitive if column not in covered]

    @property
    def all_slices(self) -> list[SliceSpec]:
        """The configured slices, then the implicit ones of the sensitive columns."""
        return [*self.slices, *self.sensitive_slices]


def output_key(spec: BaselineSpec) -> str:
    """The key that names a baseline's output, quoted as messages write it: '"score"', '"prediction"', ..."""
    return next(f'"{key}"' for key in ("score", "scores", "score_prefix", "prediction") if getattr(spec, key) is not None)


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file, generated from `Config` (published as `schema/config.schema.json`).

    TOML dates appear as text, as editors (Taplo, Even Better TOML) convert them before checking.
    """
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **Config.model_json_schema()}


# The largest config file read: 1 MB (the bundled examples are under 5 KB).
MAX_CONFIG_BYTES = 2**20


def load_config(path: str | Path) -> tuple[Config, Path]:
    """Read and validate a TOML config file.

    Parameters
    ----------
    path : str or Path
        The config file: UTF-8 TOML of at most `MAX_CONFIG_BYTES`.

    Returns
    -------
    config : Config
        The validated configuration.
    base_dir : Path
        The folder relative paths in the config are resolved against.

    Raises
    ------
    ConfigError
        If the file is missing, too large, not UTF-8, is not TOML (or nests too deeply, or holds an
        integer of more than 4,300 digits), or does not validate.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc.__class__.__name__})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: over {MAX_CONFIG_BYTES // 2**20} MB, the largest config file read")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {shown(exc, 160)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: arrays or tables nested too deeply") from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise ConfigError(f"{path}: not valid TOML: an integer of more than 4,300 digits") from None
    return validate(Config, raw, source=str(path)), config_folder(path)


def config_folder(path: str | Path) -> Path:
    """The folder a config file's relative paths (data, history, baselines, output, site) start from."""
    return Path(path).resolve().parent


def validate(model: type[BaseModel], raw: Any, *, source: str) -> Any:
    """Validate `raw` into `model`, turning the first problem into a one-line ConfigError."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        # an unknown key first: a typo ("lable") also explains the "missing" key it was meant to be
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        message = f"{source}: {_describe(model, errors[0], raw)}"
        if len(errors) > 1:
            message += f" (and {counted(len(errors) - 1, 'more problem')})"
        raise ConfigError(message) from None


def _describe(model: type[BaseModel], error: Any, raw: Any) -> str:
    loc = tuple(error["loc"])
    where = _location(model, loc, raw)
    if error["type"] == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        choices = list(parent.model_fields) if parent is not None else []
        return f"{where}: {UNKNOWN_KEY}{did_you_mean(str(loc[-1]), choices)}"
    if error["type"] == "missing":
        return f"{where}: required key is missing"
    reason = re.sub(r" or instance of \w+", "", str(error["msg"]).removeprefix("Value error, "))  # not our class names
    if error["type"] not in ("value_error",) and "input" in error:
        reason = f"{_short(error['input'])}: {reason[0].lower()}{reason[1:]}"
    return f"{where}: {reason}" if where else reason


def _short(value: Any) -> str:
    """The value pydantic refused, as Python writes it, cut to a bounded length."""
    try:
        text = _REPR.repr(value)
    except (RecursionError, ValueError):
        text = type(value).__name__
    return shown(text, 60)


_REPR = reprlib.Repr()  # nested values to depth 3, five items of a list or table, strings cut at 60
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, 60, 60, 5, 5


def _location(model: type[BaseModel], loc: tuple[Any, ...], raw: Any) -> str:
    """Render a pydantic location as `[table] key` or `[[slices]] #2 key`.

    A list of tables written as one table (`[baseline]`, which may also be `[[baseline]]`) is named
    as written.
    """
    if not loc:
        return ""
    head, rest = str(loc[0]), list(loc[1:])
    written_as_one = isinstance(raw, dict) and isinstance(raw.get(head), dict)
    if head in model.model_fields and _is_list_of_tables(model, head) and written_as_one:
        table = f"[{head}]"
        if rest and isinstance(rest[0], int):
            rest.pop(0)
    elif head in model.model_fields and _is_list_of_tables(model, head):
        table = f"[[{head}]]"
        if rest and isinstance(rest[0], int):
            table += f" #{rest.pop(0) + 1}"
    elif head in model.model_fields and _model_at(model, (head,)) is not None:
        table = f"[{head}]"
    else:
        return ".".join(shown(p) for p in loc)
    keys = ".".join(shown(p) for p in rest)
    return f"{table} {keys}".strip()


def _is_list_of_tables(model: type[BaseModel], field: str) -> bool:
    return getattr(model.model_fields[field].annotation, "__origin__", None) is list


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class found by following `loc` from `model`, or None."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = field.annotation
        if getattr(current, "__origin__", None) is list:
            current = current.__args__[0]
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


# `evaluate()` (the Python API) fills these tables from keywords named as their keys (`label`, `resamples`,
# `sensitive`, `fdr`, ...), and these keys from keywords of their own; every other table is a keyword
# of its name taking a dict (`model`, `card`, `error_analysis`) or a list of dicts (`slices`, `gates`, `baseline`).
KEYWORD_TABLES = ("data", "report", "fairness", "findings")
KEYWORD_KEYS = {("model", "task"): "task", ("training", "history"): "history"}
_KEYS = sorted({key for table in Config.model_fields
                for key in getattr(_model_at(Config, (table,)), "model_fields", ())}, key=len, reverse=True)
# A table (`[data]`, `[[slices]] #2`), then maybe one of its keys (or a key refused as unknown), a path
# into it (`reference.sex`) and a TOML value (`= true`), or else ": " after the table alone; a quoted user
# value (a column named "[data]") is matched whole, to be left as it is.
_REFERENCE = re.compile(
    r'(?P<quoted>"[^"]*")|(?:\[\[(?P<list>[a-z_]+)\]\](?: #(?P<index>[0-9]+))?|\[(?P<table>[a-z_]+)\])'
    rf'(?: (?P<key>"(?:{"|".join(_KEYS)})"|(?:{"|".join(_KEYS)})\b|[^\s:"]+(?=: {UNKNOWN_KEY}))'
    r'(?P<path>(?:\.[^\s:;,()"]+)*)'
    r'(?P<toml> = (?:true\b|false\b|"[^"]*"|[0-9][0-9.]*))?|(?P<colon>: ))?'
)


def keyword_names(message: str) -> str:
    """A message about the config with its tables and keys named as `evaluate()`'s keywords, for errors
    raised from the Python API (messages are written once, in the config file's names).

    Examples
    --------
    >>> keyword_names('evaluate(): [model] task: "binar": input should be "binary"; set [data] normalize = true')
    'evaluate(): task: "binar": input should be "binary"; set normalize=True'
    >>> keyword_names('data frame: column "y" holds 1.5: for a numeric target set [model] task = "regression"')
    'data frame: column "y" holds 1.5: for a numeric target set task="regression"'
    >>> keyword_names("evaluate(): [[slices]] #2 bins: [3, 1] must be increasing; see [fairness] reference.sex")
    'evaluate(): slices[1]["bins"]: [3, 1] must be increasing; see reference["sex"]'
    >>> keyword_names('evaluate(): [[gates]] #1 mni: unknown key; did you mean "min"?')
    'evaluate(): gates[0]["mni"]: unknown key; did you mean "min"?'
    >>> keyword_names("evaluate(): [fairness]: sensitive lists a column twice; add a [[slices]] entry or a [baseline]")
    'evaluate(): sensitive lists a column twice; add a slices entry or a baseline'
    >>> keyword_names('data frame: no column "[data] label" ([data] label); columns are: "[report]", "[[gates]] #1"')
    'data frame: no column "[data] label" (label); columns are: "[report]", "[[gates]] #1"'
    """
    return _REFERENCE.sub(_keyword, message)


def _keyword(match: re.Match[str]) -> str:
    table = match["list"] or match["table"]
    if match["quoted"] or _model_at(Config, (table,)) is None:  # user text, or not one of the config's tables
        return match[0]
    whole = table if match["index"] is None else f"{table}[{int(match['index']) - 1}]"
    if match["key"] is None:  # the table itself: the keyword of that name, or nothing where its keys are keywords
        return "" if table in KEYWORD_TABLES else whole + (match["colon"] or "")
    key = match["key"].strip('"')
    if (table, key) in KEYWORD_KEYS:
        name = KEYWORD_KEYS[table, key]
    else:
        name = key if table in KEYWORD_TABLES else f'{whole}["{key}"]'
    name += "".join(f'["{part}"]' for part in match["path"].split(".")[1:])
    value = (match["toml"] or "").removeprefix(" = ")
    return name + (f"={value.capitalize() if value in ('true', 'false') else value}" if value else "")
