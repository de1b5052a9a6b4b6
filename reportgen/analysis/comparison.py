"""The candidate against each baseline: paired differences per group, which are real (Benjamini–Hochberg),
and the findings.

`compare` measures one baseline on the candidate's slice families (`reportgen.metrics.paired`);
the rest are pure functions over its paired table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding, Outcome
from reportgen.baseline import Baseline
from reportgen.config import ReportSection
from reportgen.formatting import num, p_clause, signed
from reportgen.labels import display_label
from reportgen.metrics import paired, tasks
from reportgen.metrics.metric import Metric
from reportgen.metrics.significance import benjamini_hochberg
from reportgen.metrics.table import metric_frame
from reportgen.slices import SliceFamily
from reportgen.vocabulary import OVERALL

IMPROVEMENT = "improvement"
REGRESSION = "regression"
MAX_LISTED = 5
# Seeds the baselines' random streams apart from the candidate's ([seed, family] and [seed, family, class]).
BASELINE_STREAM = 1_000_003


@dataclass(frozen=True)
class Comparison:
    """The candidate against one baseline, on the same rows.

    Attributes
    ----------
    name, source, fingerprint : str
        The baseline's name, its predictions file as written, and that file's hash.
    join : str
        How its rows were matched to the candidate's, in words.
    unmatched : int
        Baseline rows left out because no candidate row has their id.
    table : DataFrame
        Per slice, group and metric: candidate, baseline, difference (candidate − baseline), its
        interval, method, p_value, test, n, undefined_reason, then q_value (Benjamini–Hochberg
        over the groups of each metric) and flag ("improvement", "regression" or None).
    baseline_metrics : DataFrame
        The baseline's own metrics, as `Evaluation.metrics`.
    """

    name: str
    source: str
    fingerprint: str
    join: str
    unmatched: int
    table: pd.DataFrame
    baseline_metrics: pd.DataFrame


def flag_changes(
    table: pd.DataFrame, registry: Mapping[str, Metric], *, fdr: float, min_support: int
) -> pd.DataFrame:
    """Add q_value and flag: significant improvements and regressions, false discovery rate `fdr`.

    The p-values of each metric are adjusted together over every group of every slice (overall
    included). A difference is flagged where its q-value is at most `fdr`, its metric has a
    better direction, and its group has at least `min_support` rows.

    Examples
    --------
    >>> from reportgen.metrics.binary import BY_NAME
    >>> table = pd.DataFrame({"metric": ["recall", "recall"], "difference": [-0.1, 0.01],
    ...                       "p_value": [0.001, 0.6], "n": [500, 500]})
    >>> flag_changes(table, BY_NAME, fdr=0.05, min_support=30)["flag"].tolist()
    ['regression', None]
    """
    q_value = np.full(len(table), np.nan)
    for _, rows in table.groupby("metric", sort=False):
        tested = rows.index[rows["p_value"].notna()]
        q_value[table.index.get_indexer(tested)] = benjamini_hochberg(table.loc[tested, "p_value"].to_numpy())
    better = table["metric"].map(lambda name: registry[name].higher_is_better).to_numpy()
    difference = table["difference"].to_numpy(dtype=np.float64)
    significant = (q_value <= fdr) & (table["n"].to_numpy() >= min_support) & (difference != 0)
    improved = np.where(better == True, difference > 0, difference < 0)
    flag = np.where(significant & (better != None), np.where(improved, IMPROVEMENT, REGRESSION), None)
    return table.assign(q_value=q_value, flag=pd.Series(flag, index=table.index, dtype=object))


def compare(
    baseline: Baseline,
    engine: tasks.Engine,
    families: list[SliceFamily],
    stats: Mapping[str, tasks.Statistics],
    settings: ReportSection,
    *,
    index: int,
    fdr: float,
) -> Comparison:
    """The candidate against one baseline in every group of every family, with paired intervals and tests.

    `engine` and `stats` are the candidate's per-row arrays and per-family statistics; `index` (1-based,
    config order) seeds the baseline's random streams apart from the candidate's and the other baselines'.
    """
    theirs = baseline.predictions
    other = tasks.prepare(
        theirs.task, theirs.y_true, theirs.y_pred, theirs.scores, n_classes=len(theirs.classes),
        top_k=theirs.top_k, calibration_bins=settings.calibration_bins,
    )
    with ThreadPoolExecutor(max_workers=min(len(families), os.cpu_count() or 1, 8)) as pool:
        their_stats = list(pool.map(lambda f: other.group_stats(f.codes, f.n_groups), families))
    pair = paired.Pair.prepare(engine, other)

    def rng(*key: int) -> np.random.Generator:
        return np.random.default_rng([settings.seed, BASELINE_STREAM, index, *key])

    level = settings.confidence_level
    own, changes = [], []
    for position, (family, their) in enumerate(zip(families, their_stats, strict=True)):
        own.append(metric_frame(family.name, family.labels, their, other.metrics, level=level,
                                resamples=settings.resamples, rng=rng(position, 0)))
        changes.append(paired.compare_family(family.name, family.labels, family.codes, pair, stats[family.name],
                                             their, level=level, resamples=settings.resamples, rng=rng(position, 1)))
    table = flag_changes(pd.concat(changes, ignore_index=True), {m.name: m for m in engine.metrics},
                         fdr=fdr, min_support=settings.min_support)
    return Comparison(
        name=baseline.name, source=baseline.source, fingerprint=theirs.fingerprint, join=baseline.join,
        unmatched=baseline.unmatched, table=table, baseline_metrics=pd.concat(own, ignore_index=True),
    )


def run(context: Context) -> Outcome:
    """Every configured baseline against the candidate (the "comparison" analysis): a list of `Comparison`."""
    measured, config = context.measured, context.config
    comparisons = [
        compare(baseline, measured.engine, measured.families, measured.statistics, config.report, index=index,
                fdr=config.findings.fdr)
        for index, baseline in enumerate(context.baselines, start=1)
    ]
    labels = {name: metric.label for name, metric in measured.registry.items()}
    return Outcome(comparisons, comparison_findings(comparisons, labels, fdr=config.findings.fdr))


def comparison_findings(comparisons: Sequence[Comparison], labels: Mapping[str, str], *, fdr: float) -> list[Finding]:
    """One finding per baseline with significant regressions: the metrics and groups that got worse.

    `labels` maps each metric's name to its display label.
    """
    found = []
    for comparison in comparisons:
        worse = comparison.table[comparison.table["flag"] == REGRESSION]
        if worse.empty:
            continue
        worse = worse.assign(size=worse["difference"].abs()).sort_values(["size", "slice", "group"],
                                                                          ascending=[False, True, True])
        listed = [f"{labels[r.metric]} {_where(r.slice, r.group)} {signed(r.difference)} "
                  f"({num(r.candidate)} against {num(r.baseline)}, q {p_clause(r.q_value)})"
                  for r in worse.head(MAX_LISTED).itertuples()]
        more = f", and {len(worse) - MAX_LISTED} more" if len(worse) > MAX_LISTED else ""
        overall = worse["slice"].eq(OVERALL).any()
        found.append(Finding(
            id="regression",
            severity="high" if overall else "medium",
            title=f'The model is significantly worse than the baseline "{comparison.name}" in '
                  f"{len(worse)} {'comparison' if len(worse) == 1 else 'comparisons'}.",
            detail=f"{'; '.join(listed)}{more}. Differences are paired (same rows) and significant after "
                   f"Benjamini–Hochberg correction at a false discovery rate of {fdr:g}.",
            section="comparison",
            subject=comparison.name,
            evidence=[
                Evidence(slice=r.slice, group=r.group, metric=r.metric, value=float(r.difference),
                         ci_low=_number(r.ci_low), ci_high=_number(r.ci_high), n=int(r.n),
                         compared_with=float(r.baseline), p_value=float(r.p_value), q_value=float(r.q_value))
                for r in worse.head(MAX_LISTED).itertuples()
            ],
        ))
    return found


def _where(slice_name: str, group: str) -> str:
    return OVERALL if slice_name == OVERALL else f"for {display_label(slice_name)} = {display_label(group)}"


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
