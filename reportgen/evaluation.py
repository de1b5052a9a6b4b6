"""`evaluate()`: wire config, predictions, slices, metrics and fairness together (no math here)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reportgen.config import Config, validate
from reportgen.errors import ConfigError, quoted_list
from reportgen.fairness import BY_GROUP_COLUMNS, GAP_COLUMNS, Thresholds, fairness_tables, rates
from reportgen.io import Predictions, check_predictions
from reportgen.metrics import curves
from reportgen.metrics.statistics import Rows
from reportgen.metrics import binary
from reportgen.metrics.table import metric_frame
from reportgen.slices import SliceFamily, build_slices, group_label

if TYPE_CHECKING:
    from reportgen.report import Report

OVERALL = "overall"


@dataclass(frozen=True)
class Curves:
    """Chart data of the whole evaluation set (small whatever the row count)."""

    roc: curves.Curve | None
    precision_recall: curves.Curve | None
    calibration: curves.CalibrationBins
    scores: curves.ScoreHistogram


@dataclass(frozen=True)
class Evaluation:
    """The result of `evaluate`: tidy tables plus what the model card needs.

    Attributes
    ----------
    config : Config
        The validated settings the evaluation ran with.
    predictions : Predictions
        The checked input.
    families : list of SliceFamily
        The slice families, "overall" first.
    metrics : DataFrame
        slice, group, metric, value, ci_low, ci_high, n, undefined_reason.
    confusion : DataFrame
        slice, group, tn, fp, fn, tp.
    fairness_by_group : DataFrame
        Per sensitive column, group and rate: value, difference from the reference with its interval.
    fairness : DataFrame
        Per sensitive column, the summary gaps, flagged against the thresholds.
    references : dict
        Sensitive column → reference group label.
    curves : Curves
        Chart data.
    """

    config: Config
    predictions: Predictions
    families: list[SliceFamily]
    metrics: pd.DataFrame
    confusion: pd.DataFrame
    fairness_by_group: pd.DataFrame
    fairness: pd.DataFrame
    references: dict[str, str]
    curves: Curves

    def to_report(self) -> Report:
        """The model card document (`reportgen.report.Report`)."""
        from reportgen.report import build_report  # the document builds on this module, not the reverse

        return build_report(self)

    def to_html(self, path: str | Path, *, interactive: bool = False) -> Path:
        """Write the model card as one self-contained HTML file; returns the path."""
        from reportgen.render.html import write_html

        return write_html(self.to_report(), Path(path), interactive=interactive)

    def to_json(self, path: str | Path) -> Path:
        """Write the model card as JSON (see `reportgen/schema/report.schema.json`); returns the path."""
        from reportgen.render.json import write_json

        return write_json(self.to_report(), Path(path))


def evaluate(
    data: pd.DataFrame,
    *,
    label: str,
    score: str,
    prediction: str | None = None,
    positive_label: bool | int | float | str | None = None,
    threshold: float = 0.5,
    slices: Iterable[Mapping[str, Any]] = (),
    sensitive: Iterable[str] = (),
    reference: Mapping[str, Any] | None = None,
    max_difference: float = 0.1,
    min_ratio: float = 0.8,
    confidence_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    model: Mapping[str, Any] | None = None,
    card: Mapping[str, Any] | None = None,
    title: str = "Model card",
) -> Evaluation:
    """Evaluate binary-classification predictions per slice, with intervals and fairness gaps.

    Parameters
    ----------
    data : DataFrame
        One row per prediction: label, score, optional prediction, metadata columns.
    label, score, prediction, positive_label, threshold
        As the config's ``[data]`` table.
    slices : iterable of dict
        As the config's ``[[slices]]`` entries, e.g. ``{"column": "sex"}``,
        ``{"columns": ["sex", "race"]}``, ``{"column": "age", "bins": [18, 30, 65]}``,
        ``{"name": "rich", "where": "income > 100000"}``.
    sensitive, reference, max_difference, min_ratio
        As the config's ``[fairness]`` table.
    confidence_level, resamples, seed
        Interval settings, as the config's ``[report]`` table.
    model, card : dict, optional
        As the config's ``[model]`` and ``[card]`` tables.
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
    raw = {
        "report": {"title": title, "confidence_level": confidence_level, "resamples": resamples, "seed": seed},
        "model": dict(model or {}),
        "data": {
            "label": label, "score": score, "prediction": prediction,
            "positive_label": positive_label, "threshold": threshold,
        },
        "slices": [dict(s) for s in slices],
        "fairness": {
            "sensitive": list(sensitive), "reference": dict(reference or {}),
            "max_difference": max_difference, "min_ratio": min_ratio,
        },
        "card": dict(card or {}),
    }
    config: Config = validate(Config, raw, source="evaluate()")
    predictions = check_predictions(data, config.data, source="data frame")
    return evaluate_predictions(predictions, config)


def evaluate_predictions(predictions: Predictions, config: Config) -> Evaluation:
    """Evaluate checked predictions with a validated config (the CLI's entry point)."""
    report = config.report
    specs = config.all_slices
    # Families are independent and numpy releases the GIL in its array passes: use every core,
    # first to sort the scores while the slices are built, then one family per thread.
    with ThreadPoolExecutor(max_workers=min(len(specs) + 1, os.cpu_count() or 1, 8)) as pool:
        rows_ready = pool.submit(Rows.prepare, predictions.y_true, predictions.y_pred, predictions.scores)
        families = [_overall(len(predictions.frame))] + build_slices(
            predictions.frame, specs, source=predictions.source
        )
        rows = rows_ready.result()
        computed = list(pool.map(lambda f: binary.group_stats(f.codes, rows, f.n_groups), families))
    stats: dict[str, binary.BinaryStats] = {family.name: s for family, s in zip(families, computed, strict=True)}
    tables = [
        metric_frame(family.name, family.labels, stats[family.name], binary.METRICS, level=report.confidence_level,
                     resamples=report.resamples, rng=np.random.default_rng([report.seed, index]))
        for index, family in enumerate(families)
    ]
    by_group, gaps, references = _fairness(config, families, stats)
    return Evaluation(
        config=config,
        predictions=predictions,
        families=families,
        metrics=pd.concat(tables, ignore_index=True),
        confusion=_confusion_table(families, stats),
        fairness_by_group=by_group,
        fairness=gaps,
        references=references,
        curves=Curves(
            roc=curves.roc_curve(rows),
            precision_recall=curves.precision_recall_curve(rows),
            calibration=curves.calibration_bins(rows, level=report.confidence_level),
            scores=curves.score_histogram(rows),
        ),
    )


def _overall(n_rows: int) -> SliceFamily:
    return SliceFamily(OVERALL, "overall", [], [OVERALL], np.zeros(n_rows, dtype=np.int32))


def _sensitive_family(families: list[SliceFamily], column: str) -> SliceFamily:
    for family in families:
        if family.kind in ("values", "bins", "quantiles") and family.columns == [column]:
            return family
    raise AssertionError(f"no slice family for sensitive column {column!r}")  # Config.all_slices adds one


def _fairness(
    config: Config, families: list[SliceFamily], stats: dict[str, binary.BinaryStats]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    fairness = config.fairness
    thresholds = Thresholds(fairness.max_difference, fairness.min_ratio)
    by_group, gaps, references = [], [], {}
    for column in fairness.sensitive:
        family = _sensitive_family(families, column)
        counts = stats[family.name].confusion
        reference = _reference_index(family, counts.n, fairness.reference.get(column), column)
        references[column] = family.labels[reference]
        group_table, gap_table = fairness_tables(
            column, family.labels, counts.n, rates(counts), reference, thresholds,
            level=config.report.confidence_level,
        )
        by_group.append(group_table)
        gaps.append(gap_table)
    if not by_group:
        return pd.DataFrame(columns=BY_GROUP_COLUMNS), pd.DataFrame(columns=GAP_COLUMNS), {}
    return pd.concat(by_group, ignore_index=True), pd.concat(gaps, ignore_index=True), references


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


def _confusion_table(families: list[SliceFamily], stats: dict[str, binary.BinaryStats]) -> pd.DataFrame:
    parts = []
    for family in families:
        c = stats[family.name].confusion
        parts.append(pd.DataFrame({"slice": family.name, "group": family.labels, "tn": c.tn, "fp": c.fp,
                                   "fn": c.fn, "tp": c.tp}))
    return pd.concat(parts, ignore_index=True)
