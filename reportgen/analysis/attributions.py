"""What drives the predictions, read from precomputed attributions (`[explanations] path`: SHAP values or any
library's per-row, per-feature contributions; `reportgen.attributions`): no model needed.

Each feature's mean |attribution| over the rows that have attributions, with Hall's skewness-corrected interval
over those rows (the rows are a sample: another sample would give another mean; most rows' |attributions| are
small and a few large, where a t-interval loses its coverage); the same per group of every sensitive column; whether
the model leans on a feature more for one group than for its column's reference group, on the per-row |attribution|
(Welch's t-test, the test family "attribution differences"); and a beeswarm-style summary of the most important
features drawn from binned data: the rows counted per attribution bin, each bin coloured by where its rows' values
of the feature lie among all rows (low to high).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from reportgen.analysis.base import Context, Outcome
from reportgen.analysis.group_differences import (
    GroupDifference,
    family,
    group_differences,
    leaning,
    reference_groups,
)
from reportgen.attributions import Attributions
from reportgen.config import Config
from reportgen.errors import shown
from reportgen.io import Predictions
from reportgen.metrics.intervals import skewed_mean_interval
from reportgen.slices import MISSING, group_label

SECTION = "attributions"
FAMILY = "attribution differences"
SWARM_FEATURES = 10  # the beeswarm summary shows this many features, most important first
SWARM_BINS = 30  # attribution bins per feature


@dataclass(frozen=True)
class MeanAttribution:
    """A feature's mean |attribution| over some rows, with its t-interval over them."""

    feature: str
    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class GroupAttributions:
    """The mean |attribution| on one group's rows (features in the overall order)."""

    column: str
    group: str
    n: int
    means: list[MeanAttribution]


@dataclass(frozen=True)
class Swarm:
    """One feature's beeswarm summary: the rows counted in each attribution bin (`centers`, `width` apart) and, per
    bin, the mean percentile of its rows' values of the feature among all rows (0: the lowest, 1: the highest; None
    for an empty bin, or a feature that is not a number of the predictions)."""

    feature: str
    centers: list[float]
    width: float
    counts: list[int]
    levels: list[float | None]


@dataclass(frozen=True)
class AttributionSummary:
    """What `summarize` found.

    Attributes
    ----------
    source, join : str
        The file and how its rows were matched to the predictions.
    rows, total_rows, unmatched : int
        The predictions with attributions, all predictions, and the file's rows matching none.
    overall : list of MeanAttribution
        Every feature, largest mean |attribution| first.
    groups : list of GroupAttributions
        Per sensitive column, each group of at least `[report] min_support` rows with attributions.
    differences : list of GroupDifference
        Every feature, every group against its column's reference group, on the per-row |attribution|.
    swarm : list of Swarm
        The `SWARM_FEATURES` largest features' beeswarm summaries.
    notes : list of str
        What was left out.
    """

    source: str
    join: str
    rows: int
    total_rows: int
    unmatched: int
    overall: list[MeanAttribution]
    groups: list[GroupAttributions]
    differences: list[GroupDifference]
    fdr: float
    swarm: list[Swarm]
    notes: list[str]


def run(context: Context) -> Outcome:
    """The summary of `[explanations] path`'s attributions; None without them."""
    if context.attributions is None or not context.config.explanations.enabled:
        return Outcome(None)
    found = summarize(context.attributions, context.predictions, context.config, reference_groups(context))
    findings = leaning(found.differences, "attribution_gap", SECTION, "|attribution| per row",
                       "Read the beeswarm summary of the feature, and the fairness section for the outcome.")
    return Outcome(found, findings, family(FAMILY, "|attribution| per row", found.differences))


def summarize(attributions: Attributions, predictions: Predictions, config: Config,
              references: dict[str, str]) -> AttributionSummary:
    """The mean |attribution| of every feature, overall and per sensitive group, the groups' differences and the
    beeswarm summaries (see the module docstring); each column's reference group from `references` (the fairness
    analysis's), else its largest group."""
    present = attributions.rows
    values = attributions.values[present]
    sizes = np.abs(values)
    level = config.report.confidence_level
    features = attributions.features
    overall = sorted(_means(features, sizes, level), key=lambda m: -m.value)
    order = [m.feature for m in overall]
    frame = predictions.frame.iloc[np.flatnonzero(present)]
    groups, measured, notes = [], [], []
    if present.sum() < len(present):
        notes.append(f"{int(present.sum()):,} of the {len(present):,} predictions have attributions "
                     f"(matched {attributions.join}); the numbers are theirs.")
    if attributions.unmatched:
        notes.append(f"{attributions.unmatched:,} row{'s' if attributions.unmatched > 1 else ''} of "
                     f"{attributions.source} match{'' if attributions.unmatched > 1 else 'es'} no prediction, left out.")
    for column in config.fairness.sensitive:
        labels = frame[column].map(lambda v: MISSING if pd.isna(v) else group_label(v)).to_numpy()
        small = []
        for group in sorted(set(labels)):
            mine = labels == group
            if mine.sum() < config.report.min_support:
                small.append(group)
                continue
            by_feature = {m.feature: m for m in _means(features, sizes[mine], level)}
            groups.append(GroupAttributions(column, group, int(mine.sum()), [by_feature[f] for f in order]))
            measured.append((column, group, sizes[mine].T))
        if small:
            notes.append(f'"{shown(column)}": {len(small)} group{"s" if len(small) > 1 else ""} with fewer than '
                         f"{config.report.min_support} rows with attributions left out ("
                         f"{', '.join(shown(g) for g in small[:5])}{' …' if len(small) > 5 else ''}).")
    differences, untested = group_differences(features, measured, references, config)
    swarm = [_swarm(feature, values[:, features.index(feature)], frame) for feature in order[:SWARM_FEATURES]]
    return AttributionSummary(attributions.source, attributions.join, int(present.sum()), len(present),
                              attributions.unmatched, overall, groups, differences, config.findings.fdr, swarm,
                              notes + untested)


def _means(features: list[str], sizes: np.ndarray, level: float) -> list[MeanAttribution]:
    """Each feature's mean |attribution| (`sizes`: rows × features) and its interval over the rows: Hall's
    skewness-corrected interval (`skewed_mean_interval`), as most rows' attributions are small and a few large."""
    n = np.full(sizes.shape[1], len(sizes))
    low, high = skewed_mean_interval(sizes.sum(axis=0), (sizes ** 2).sum(axis=0), (sizes ** 3).sum(axis=0), n, level)
    return [MeanAttribution(feature, float(m), float(lo), float(hi))
            for feature, m, lo, hi in zip(features, sizes.mean(axis=0), low, high, strict=True)]


def _swarm(feature: str, values: np.ndarray, frame: pd.DataFrame) -> Swarm:
    """The beeswarm summary of one feature's attributions `values` on the rows of `frame`."""
    low, high = float(values.min()), float(values.max())
    if high == low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, SWARM_BINS + 1)
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, SWARM_BINS - 1)
    counts = np.bincount(bins, minlength=SWARM_BINS)
    levels: list[float | None] = [None] * SWARM_BINS
    column = frame[feature] if feature in frame.columns else None
    if column is not None and pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~np.isnan(numbers)
        if known.sum() > 1:
            percentile = np.full(len(numbers), np.nan)
            percentile[known] = (stats.rankdata(numbers[known]) - 1) / (known.sum() - 1)
            total = np.bincount(bins[known], weights=percentile[known], minlength=SWARM_BINS)
            seen = np.bincount(bins[known], minlength=SWARM_BINS)
            levels = [float(t / s) if s else None for t, s in zip(total, seen, strict=True)]
    centers = (edges[:-1] + edges[1:]) / 2
    return Swarm(feature, [float(c) for c in centers], float(edges[1] - edges[0]), [int(c) for c in counts], levels)
