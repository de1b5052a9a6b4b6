"""The candidate against each baseline: paired differences per group, which are real (Benjamini–Hochberg over
one family of tests per baseline), and the findings.

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

from reportgen.analysis.base import Context, Evidence, Finding, Outcome, TestFamily
from reportgen.baseline import Baseline
from reportgen.config import ReportSection
from reportgen.formatting import num, p_clause, signed
from reportgen.labels import display_label
from reportgen.metrics import paired, tasks
from reportgen.metrics.metric import Metric
from reportgen.metrics.paired_rows import Pair
from reportgen.metrics.significance import benjamini_hochberg
from reportgen.metrics.table import metric_frame
from reportgen.slices import SliceFamily
from reportgen.vocabulary import MIRRORS, OVERALL

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
        interval, method, p_value, test, n, undefined_reason, support (the fewer of the two models'
        rows the metric rests on), then q_value (Benjamini–Hochberg over the baseline's family,
        `flag_changes`), flag ("improvement", "regression" or None) and mirror_of (the metric whose
        test and flag a mirror metric shares, or None).
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
    """Add q_value, flag and mirror_of: significant improvements and regressions, false discovery rate `fdr`.

    The family is every difference with a p-value, a metric with a better direction and a `support`
    (the rows the metric rests on, e.g. the positives for recall) of at least `min_support`, over
    every group of every slice (overall included); its p-values are adjusted together
    (Benjamini–Hochberg). A mirror metric (`vocabulary.MIRRORS`: false negative rate, specificity) is
    one minus the metric it mirrors on the same rows, so it is not tested again: it shares that
    metric's q-value and flag, and `mirror_of` names it. A difference is flagged where its q-value is
    at most `fdr`.

    Examples
    --------
    >>> from reportgen.metrics.binary import BY_NAME
    >>> table = pd.DataFrame({"slice": "overall", "group": ["overall", "overall", "overall", "a"],
    ...                       "metric": ["recall", "fnr", "accuracy", "recall"],
    ...                       "difference": [-0.1, 0.1, 0.01, -0.2], "p_value": [0.001, 0.001, 0.6, 0.001],
    ...                       "support": [500, 500, 500, 12]})
    >>> flag_changes(table, BY_NAME, fdr=0.05, min_support=30)["flag"].tolist()
    ['regression', 'regression', None, None]
    """
    keys = ["slice", "group", "metric"]
    mirrored = table["metric"].map(MIRRORS)
    source = pd.MultiIndex.from_frame(table[keys]).get_indexer(
        pd.MultiIndex.from_arrays([table["slice"], table["group"], mirrored.fillna("")]))
    mirror = mirrored.notna().to_numpy() & (source >= 0)
    better = table["metric"].map(lambda name: registry[name].higher_is_better).to_numpy()
    difference = table["difference"].to_numpy(dtype=np.float64)
    supported = table["support"].to_numpy() >= min_support
    tested = table["p_value"].notna().to_numpy() & (better != None) & supported & ~mirror  # noqa: E711
    q_value = np.full(len(table), np.nan)
    q_value[tested] = benjamini_hochberg(table["p_value"].to_numpy(dtype=np.float64)[tested])
    improved = np.where(better == True, difference > 0, difference < 0)  # noqa: E712
    flag = np.where(tested & (q_value <= fdr) & (difference != 0), np.where(improved, IMPROVEMENT, REGRESSION), None)
    q_value[mirror], flag[mirror] = q_value[source[mirror]], flag[source[mirror]]
    return table.assign(q_value=q_value, flag=pd.Series(flag, index=table.index, dtype=object),
                        mirror_of=pd.Series(np.where(mirror, mirrored, None), index=table.index, dtype=object))


def change_counts(table: pd.DataFrame) -> tuple[int, int]:
    """Significant improvements and regressions of a flagged table, each mirror metric counted once (with the
    metric it mirrors)."""
    counted = table.loc[table["mirror_of"].isna(), "flag"]
    return int((counted == IMPROVEMENT).sum()), int((counted == REGRESSION).sum())


def comparison_family(comparison: Comparison, labels: Mapping[str, str]) -> TestFamily:
    """The baseline's family of tests ("comparison with <baseline>"): the differences `flag_changes` adjusted."""
    table = comparison.table
    tested = table["q_value"].notna() & table["mirror_of"].isna()
    mirrors = " and ".join(f"{labels[m]} with {labels[of]}" for m, of in MIRRORS.items() if m in labels)
    return TestFamily(
        f"comparison with {comparison.name}",
        f"Each paired difference from the baseline “{comparison.name}”, in every group of at least the minimum "
        "support and every metric with a better direction (McNemar's exact test for proportions, DeLong's test for "
        "ROC AUC, a paired t-test for per-row means, a z-test otherwise)"
        + (f"; a mirror metric shares the test of the metric it mirrors and is counted once: {mirrors}." if mirrors
           else "."),
        tests=int(tested.sum()), discoveries=sum(change_counts(table)),
    )


def measure_baseline(
    baseline: Baseline, engine: tasks.Engine, families: list[SliceFamily], stats: Mapping[str, tasks.Statistics],
    settings: ReportSection,
) -> paired.MeasuredBaseline:
    """A baseline's statistics and the paired statistics of every family, from both models' rows (the numpy engine).

    `engine` and `stats` are the candidate's per-row arrays and per-family statistics.
    """
    theirs = baseline.predictions
    other = tasks.prepare(
        theirs.task, theirs.y_true, theirs.y_pred, theirs.scores, n_classes=len(theirs.classes),
        top_k=theirs.top_k, calibration_bins=settings.calibration_bins,
    )
    with ThreadPoolExecutor(max_workers=min(len(families), os.cpu_count() or 1, 8)) as pool:
        their_stats = list(pool.map(lambda f: other.group_stats(f.codes, f.n_groups), families))
    pair = Pair.prepare(engine, other)
    return paired.MeasuredBaseline(
        name=baseline.name, source=baseline.source, fingerprint=theirs.fingerprint, join=baseline.join,
        unmatched=baseline.unmatched, metrics=other.metrics,
        statistics={f.name: s for f, s in zip(families, their_stats, strict=True)},
        paired={f.name: pair.statistics(f.codes, stats[f.name], s) for f, s in zip(families, their_stats, strict=True)},
    )


def compare(
    baseline: paired.MeasuredBaseline,
    metrics: Sequence[Metric],
    families: Sequence[tuple[str, list[str]]],
    stats: Mapping[str, tasks.Statistics],
    settings: ReportSection,
    *,
    index: int,
    fdr: float,
) -> Comparison:
    """The candidate against one measured baseline in every group of every family, with paired intervals and tests.

    `metrics` are the candidate's, `families` each family's name and group labels, `stats` the candidate's
    statistics by family; `index` (1-based, config order) seeds the baseline's random streams apart from the
    candidate's and the other baselines'.
    """
    def rng(*key: int) -> np.random.Generator:
        return np.random.default_rng([settings.seed, BASELINE_STREAM, index, *key])

    level = settings.confidence_level
    own, changes = [], []
    for position, (name, labels) in enumerate(families):
        their = baseline.statistics[name]
        own.append(metric_frame(name, labels, their, baseline.metrics, level=level, resamples=settings.resamples,
                                rng=rng(position, 0)))
        change = paired.compare_family(name, labels, baseline.paired[name], stats[name], their, level=level,
                                       resamples=settings.resamples, rng=rng(position, 1))
        changes.append(with_support(change, labels, stats[name], their, metrics))
    table = flag_changes(pd.concat(changes, ignore_index=True), {m.name: m for m in metrics},
                         fdr=fdr, min_support=settings.min_support)
    return Comparison(
        name=baseline.name, source=baseline.source, fingerprint=baseline.fingerprint, join=baseline.join,
        unmatched=baseline.unmatched, table=table, baseline_metrics=pd.concat(own, ignore_index=True),
    )


def with_support(
    table: pd.DataFrame, labels: list[str], candidate: tasks.Statistics, baseline: tasks.Statistics,
    metrics: Sequence[Metric],
) -> pd.DataFrame:
    """A family's paired table (`paired.compare_family`) with its support column, which `flag_changes` reads.

    Parameters
    ----------
    table : DataFrame
        The paired table of one family: slice, group, metric, ...
    labels : list of str
        The family's group labels, in code order.
    candidate, baseline : Statistics
        Each model's statistics of the family.
    metrics : sequence of Metric
        The registry entries of the table's metrics (and possibly more).

    Returns
    -------
    DataFrame
        `table` plus support: per metric and group, the fewer of the two models' rows the metric rests on
        (`Metric.supports`). They differ where the denominator depends on the predictions (precision: the
        predicted positives).
    """
    compared = set(table["metric"])  # a metric only the candidate has has no support in the baseline's statistics
    fewest = {
        m.name: np.minimum(m.supports(getattr(candidate, m.source)).count,
                           m.supports(getattr(baseline, m.source)).count)
        for m in metrics if m.name in compared
    }
    position = {label: index for index, label in enumerate(labels)}
    support = [int(fewest[metric][position[group]])
               for metric, group in zip(table["metric"], table["group"], strict=True)]
    return table.assign(support=pd.Series(support, index=table.index, dtype=np.int64))


def run(context: Context) -> Outcome:
    """Every configured baseline against the candidate (the "comparison" analysis): a list of `Comparison`."""
    measured, config = context.measured, context.config
    baselines = context.measured_baselines or [
        measure_baseline(baseline, measured.engine, measured.families, measured.statistics, config.report)
        for baseline in context.baselines
    ]
    families = [(family.name, family.labels) for family in measured.families]
    comparisons = [
        compare(baseline, measured.engine.metrics, families, measured.statistics, config.report, index=index,
                fdr=config.findings.fdr)
        for index, baseline in enumerate(baselines, start=1)
    ]
    labels = {name: metric.label for name, metric in measured.registry.items()}
    return Outcome(comparisons, comparison_findings(comparisons, labels, fdr=config.findings.fdr),
                   [comparison_family(comparison, labels) for comparison in comparisons])


def comparison_findings(comparisons: Sequence[Comparison], labels: Mapping[str, str], *, fdr: float) -> list[Finding]:
    """One finding per baseline with significant regressions: the metrics and groups that got worse (a mirror
    metric is not listed again).

    `labels` maps each metric's name to its display label.
    """
    found = []
    for comparison in comparisons:
        table = comparison.table
        worse = table[(table["flag"] == REGRESSION) & table["mirror_of"].isna()]  # a mirror metric is listed once
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
