"""The candidate against a baseline: which differences are real (Benjamini–Hochberg), and the findings.

Pure functions over the paired table of `reportgen.metrics.paired.compare_family`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen.analysis.findings import Evidence, Finding, benjamini_hochberg
from reportgen.labels import display_label
from reportgen.metrics.metric import Metric

if TYPE_CHECKING:
    from reportgen.evaluation import Evaluation

IMPROVEMENT = "improvement"
REGRESSION = "regression"
MAX_LISTED = 5


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


def comparison_findings(ev: Evaluation) -> list[Finding]:
    """One finding per baseline with significant regressions: the metrics and groups that got worse."""
    found = []
    for index, comparison in enumerate(ev.comparisons, start=1):
        worse = comparison.table[comparison.table["flag"] == REGRESSION]
        if worse.empty:
            continue
        worse = worse.assign(size=worse["difference"].abs()).sort_values(["size", "slice", "group"],
                                                                          ascending=[False, True, True])
        labels = {name: metric.label for name, metric in ev.registry.items()}
        listed = [f"{labels[r.metric]} {_where(r.slice, r.group)} {r.difference:+.3f} "
                  f"({r.candidate:.3f} against {r.baseline:.3f}, q = {r.q_value:.2g})"
                  for r in worse.head(MAX_LISTED).itertuples()]
        more = f", and {len(worse) - MAX_LISTED} more" if len(worse) > MAX_LISTED else ""
        overall = worse["slice"].eq("overall").any()
        found.append(Finding(
            id="regression",
            severity="high" if overall else "medium",
            title=f'The model is significantly worse than the baseline "{comparison.name}" in '
                  f"{len(worse)} {'comparison' if len(worse) == 1 else 'comparisons'}.",
            detail=f"{'; '.join(listed)}{more}. Differences are paired (same rows) and significant after "
                   f"Benjamini–Hochberg correction at a false discovery rate of {ev.config.findings.fdr:g}.",
            section=f"#comparison-{index}",
            evidence=[
                Evidence(slice=r.slice, group=r.group, metric=r.metric, value=float(r.difference),
                         ci_low=_number(r.ci_low), ci_high=_number(r.ci_high), n=int(r.n),
                         compared_with=float(r.baseline), p_value=float(r.p_value), q_value=float(r.q_value))
                for r in worse.head(MAX_LISTED).itertuples()
            ],
            suggestions=[
                "Check whether the change that caused it was intended for these groups (data, features, threshold).",
                "Look at the rows of these groups that the baseline got right and the candidate gets wrong.",
                "If the trade-off is accepted, record why in the card's caveats; a max_regression gate can hold the line.",
            ],
        ))
    return found


def _where(slice_name: str, group: str) -> str:
    return "overall" if slice_name == "overall" else f"for {display_label(slice_name)} = {display_label(group)}"


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
