"""Does the model lean on a feature more for one group than for another? The test both the permutation importances
(`reportgen.analysis.explanations`) and precomputed attributions (`reportgen.analysis.attributions`) answer it with:
a per-row measure of how much a row's output rests on the feature (the rise in a row's loss when the feature is
shuffled; the size of the row's attribution), each group's mean against its sensitive column's reference group by
Welch's t-test, q by Benjamini–Hochberg across every feature and group of one family.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from reportgen.analysis.base import Context, Evidence, Finding, TestFamily
from reportgen.config import Config
from reportgen.errors import shown
from reportgen.formatting import p_clause, signed
from reportgen.metrics.significance import benjamini_hochberg


@dataclass(frozen=True)
class GroupDifference:
    """One feature, one group against its column's reference group: the difference of the groups' mean per-row
    measure, Welch's t-test and its interval; p, q and the interval are None where neither group's measure varies
    (nothing to test: a feature the model never reads)."""

    feature: str
    column: str
    group: str
    reference: str
    n: int
    n_reference: int
    difference: float
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    q_value: float | None
    significant: bool


def reference_groups(context: Context) -> dict[str, str]:
    """Each sensitive column's reference group, as the fairness analysis chose it (empty before it ran)."""
    fairness = context.results.get("fairness")
    return {} if fairness is None else dict(fairness.references)


def group_differences(features: list[str], groups: list[tuple[str, str, np.ndarray]], references: dict[str, str],
                      config: Config) -> tuple[list[GroupDifference], list[str]]:
    """Each feature, each group of `groups` — (column, group, its rows' measure: features × rows) — against its
    column's reference group (`references`, else the column's largest group here): the difference of the means,
    Welch's t-test and its interval at `[report] confidence_level`, q by Benjamini–Hochberg across all at
    `[findings] fdr`; smallest q first. A column whose reference group is not among `groups` is not tested, and a
    note says so."""
    level, found, notes = config.report.confidence_level, [], []
    for column in dict.fromkeys(c for c, _, _ in groups):
        mine = {group: measure for c, group, measure in groups if c == column}
        sizes = {group: measure.shape[1] for group, measure in mine.items()}
        reference = references.get(column, max(sizes, key=lambda g: (sizes[g], g)))
        if reference not in mine:
            notes.append(f'"{shown(column)}": its reference group "{shown(reference)}" was left out, so no '
                         "differences between its groups were tested.")
            continue
        for group, measure in mine.items():
            if group == reference:
                continue
            for j, feature in enumerate(features):
                a, b = measure[j], mine[reference][j]
                test = stats.ttest_ind(a, b, equal_var=False) if np.ptp(a) > 0 or np.ptp(b) > 0 else None
                low, high = test.confidence_interval(level) if test is not None else (None, None)
                found.append(GroupDifference(
                    feature, column, group, reference, len(a), len(b), float(a.mean() - b.mean()),
                    None if low is None else float(low), None if high is None else float(high),
                    None if test is None else float(test.pvalue), None, False))
    p = np.array([np.nan if d.p_value is None else d.p_value for d in found])
    q = np.full(len(found), np.nan)
    if (~np.isnan(p)).any():
        q[~np.isnan(p)] = benjamini_hochberg(p[~np.isnan(p)])
    fdr = config.findings.fdr
    found = [d if np.isnan(qv) else replace(d, q_value=float(qv), significant=bool(qv <= fdr))
             for d, qv in zip(found, q, strict=True)]
    return sorted(found, key=lambda d: (d.q_value is None, d.q_value or 0.0, -abs(d.difference))), notes


def family(name: str, measure: str, differences: list[GroupDifference]) -> list[TestFamily]:
    """The test family of `differences` (none when nothing was tested); `measure` says what was compared."""
    tests = sum(d.p_value is not None for d in differences)
    return [TestFamily(name=name, description=f"Each feature, each group against its sensitive column's reference "
                                              f"group: Welch's t-test of the groups' mean {measure}.",
                       tests=tests, discoveries=sum(d.significant for d in differences))] if tests else []


def leaning(differences: list[GroupDifference], rule: str, section: str, measure: str, then: str) -> list[Finding]:
    """One finding (`rule`, medium) naming the significant differences, largest first: "the model leans on X more
    for A than for B"; `measure` is what differs, per row ("rise in the squared error ... when the feature is
    shuffled"), `then` what to read next."""
    significant = sorted((d for d in differences if d.significant), key=lambda d: -abs(d.difference))
    if not significant:
        return []
    first, more = significant[0], len(significant) - 1
    return [Finding(
        id=rule, severity="medium",
        title=f'The model leans on "{shown(first.feature)}" {"more" if first.difference > 0 else "less"} for '
              f"{shown(first.column)} = {shown(first.group)} than for {shown(first.reference)}"
              + (f", and {more} more difference{'s' if more > 1 else ''} between groups." if more else "."),
        detail=f"The groups' mean {measure} differ: "
               + "; ".join(f'"{shown(d.feature)}", {shown(d.column)} = {shown(d.group)} against {shown(d.reference)}: '
                           f"{signed(d.difference)} ({signed(d.ci_low)} to {signed(d.ci_high)}), "
                           f"q {p_clause(d.q_value)}" for d in significant[:5])
               + (f"; and {len(significant) - 5} more" if len(significant) > 5 else "") + f". {then}",
        section=section, subject=None,
        evidence=[Evidence(slice=d.column, group=d.group, metric=f"{rule} of {d.feature}", value=d.difference,
                           ci_low=d.ci_low, ci_high=d.ci_high, n=d.n, p_value=d.p_value, q_value=d.q_value)
                  for d in significant],
    )]
