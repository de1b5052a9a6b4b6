"""One effect, one finding: findings that describe the same rows are merged into one that lists every view.

A configured group, the quartile slice of the same measurement and the error-analysis slice that
equals it are one effect seen three ways. Findings take part when their rows are known: weak and
discovered slices (`ROW_RULES`) and any finding whose evidence all names one configured group, except
`SEPARATE_RULES` (a regression against a baseline is a change between two models on those rows, not
the rows against the rest of the data, and stays in its own section). Two
describe the same rows (`same_rows`) when at least `NESTED` of the smaller one's rows lie in the
larger and the smaller holds at least `FILLS` of the larger's rows: equal slices, nearly equal ones
(every pair with a Jaccard overlap ≥ 0.9 qualifies), and a slice nested in one it mostly fills, as a
quartile of a measurement lies in the band of a coarser binning of it. A slice nested in another but
smaller is one effect with it when its number says nothing the container's does not (`explained_by`:
its value of a metric both show lies in the container's interval, as the two sexes of an island
whose accuracy is low); a nested slice worse than that is an effect of its own, as is a discovered
slice nested in a group (the error analysis found it worse than each more general slice). The most severe
finding, then the largest, then the earliest, is the primary: it keeps its id, title and place,
gains the others' evidence (each number tagged with its rule) and says in its detail which slices
describe the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from reportgen.analysis.base import SEVERITIES, Context, Evidence, Finding
from reportgen.analysis.error_analysis import DISCOVERED
from reportgen.formatting import num
from reportgen.labels import display_label

NESTED = 0.9  # share of the smaller finding's rows inside the larger's, at least, for one effect
FILLS = 0.75  # share of the larger finding's rows the smaller holds, at least, for one effect
ROW_RULES = ("weak_slice", "error_slice")  # rules whose findings always describe a slice's rows
SEPARATE_RULES = ("regression", "importance_gap", "proxy")  # rules that describe something else about a group's
# rows (a comparison, how the model uses a feature there, a feature's association): never merged
# rules whose slices were found significantly worse than each more general slice: never explained by a container
TESTED_AGAINST_PARENTS = ("error_slice",)

Rows = Callable[[Finding], np.ndarray | None]


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """|A ∩ B| / |A ∪ B| of two boolean row masks; 0 when both are empty."""
    union = int(np.count_nonzero(first | second))
    return int(np.count_nonzero(first & second)) / union if union else 0.0


def same_rows(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether two boolean row masks describe one effect: the smaller nearly inside the larger (`NESTED`) and
    holding most of it (`FILLS`). Every pair with a Jaccard overlap of at least 0.9 qualifies.

    Examples
    --------
    >>> rows = np.arange(100)
    >>> same_rows(rows < 80, rows < 100), same_rows(rows < 60, rows < 100), same_rows(rows < 50, rows >= 45)
    (True, False, False)
    """
    sizes = sorted((int(np.count_nonzero(first)), int(np.count_nonzero(second))))
    if sizes[0] == 0:
        return False
    both = int(np.count_nonzero(first & second))
    return both >= NESTED * sizes[0] and sizes[0] >= FILLS * sizes[1]


def nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether at least `NESTED` of the rows of `inner` (a non-empty boolean mask) lie in `outer`."""
    size = int(np.count_nonzero(inner))
    return size > 0 and int(np.count_nonzero(inner & outer)) >= NESTED * size


def explained_by(inner: Finding, outer: Finding) -> bool:
    """Whether a nested finding's numbers say nothing its container's do not: for some metric both show, the
    nested value lies in the container's interval. Never for a discovered slice: the error analysis found it worse
    than each more general slice (`TESTED_AGAINST_PARENTS`)."""
    return inner.id not in TESTED_AGAINST_PARENTS and any(
        e.metric == c.metric and e.value is not None and c.ci_low is not None and c.ci_high is not None
        and c.ci_low <= e.value <= c.ci_high
        for e in inner.evidence for c in outer.evidence
    )


def one_effect(first: Finding, first_rows: np.ndarray, second: Finding, second_rows: np.ndarray) -> bool:
    """Whether two findings describe one effect: the same rows (`same_rows`), or a slice nested in the other whose
    number the other's interval holds (`explained_by`)."""
    if same_rows(first_rows, second_rows):
        return True
    (inner, inner_rows), (outer, outer_rows) = sorted(
        [(first, first_rows), (second, second_rows)], key=lambda pair: int(np.count_nonzero(pair[1])))
    return nested(inner_rows, outer_rows) and explained_by(inner, outer)


def merge_findings(findings: Sequence[Finding], rows_of: Rows) -> list[Finding]:
    """Merge the findings that describe the same rows; the rest pass unchanged, in their order.

    Parameters
    ----------
    findings : sequence of Finding
        Every finding of an evaluation, in the order raised.
    rows_of : callable
        Finding → a boolean mask over the rows it describes, or None where it takes no part. Two findings
        that are `one_effect` are merged.

    Returns
    -------
    list of Finding
        Each primary (the most severe, then largest, then earliest, of the findings of its effect) in its own
        place, with the evidence of those merged into it; they are left out.
    """
    masks = {i: mask for i, finding in enumerate(findings) if (mask := rows_of(finding)) is not None}
    merged_into: dict[int, list[tuple[int, float]]] = {}  # primary → (finding merged into it, overlap), by rank
    rank = {i: (SEVERITIES.index(findings[i].severity), -int(np.count_nonzero(masks[i])), i) for i in masks}
    for i in sorted(masks, key=rank.__getitem__):
        primary = next((p for p in merged_into if one_effect(findings[p], masks[p], findings[i], masks[i])), None)
        if primary is None:
            merged_into[i] = []
        else:
            merged_into[primary].append((i, jaccard(masks[primary], masks[i])))
    absorbed = {i for others in merged_into.values() for i, _ in others}
    return [
        _merged(finding, [(findings[j], overlap) for j, overlap in merged_into[i]]) if merged_into.get(i) else finding
        for i, finding in enumerate(findings) if i not in absorbed
    ]


def _merged(primary: Finding, others: list[tuple[Finding, float]]) -> Finding:
    """The primary with the others' evidence (each tagged with its rule) and a sentence naming their slices."""
    evidence = [replace(e, rule=primary.id) for e in primary.evidence] + [
        replace(e, rule=other.id) for other, _ in others for e in other.evidence]
    views = "; ".join(f"{_view(other)}, overlap {num(overlap, 2)}" for other, overlap in others)
    return replace(primary, evidence=evidence, detail=(
        f"{primary.detail} The same effect in other slices (overlap: rows in both over rows in either), merged "
        f"here: {views}."))


def _view(finding: Finding) -> str:
    """How a merged finding saw the rows: the slice it names and the number it rests on."""
    first = finding.evidence[0]
    where = (f'the discovered slice "{display_label(first.group)}"' if first.slice == DISCOVERED
             else f'{display_label(first.slice)} = "{display_label(first.group)}"')
    metric = first.metric.replace("_", " ")
    return f"{where}, {metric} {num(first.value)} ({num(first.ci_low)}–{num(first.ci_high)})"


def evidence_rows(context: Context) -> Callable[[Evidence], np.ndarray | None]:
    """Evidence → a boolean mask of the rows of the group it names: a configured group (from its slice
    family's codes) or a discovered slice (from the error analysis's result); None for anything else."""
    families = {family.name: family for family in context.measured.families[1:]}
    errors = context.results.get("error_analysis")
    discovered = {} if errors is None else errors.rows
    n_rows = len(context.predictions.y_true)

    def rows_of(evidence: Evidence) -> np.ndarray | None:
        if evidence.slice == DISCOVERED and evidence.group in discovered:
            mask = np.zeros(n_rows, dtype=bool)
            mask[discovered[evidence.group]] = True
            return mask
        family = families.get(evidence.slice)
        if family is None or evidence.group not in family.labels or len(family.codes) != n_rows or not n_rows:
            return None  # an engine that keeps no row codes: rows cannot be compared
        return family.codes == family.labels.index(evidence.group)

    return rows_of


def finding_rows(context: Context) -> Rows:
    """Finding → the rows it describes, or None where it takes no part in merging.

    A finding takes part when all its evidence names one group (`evidence_rows`) and it is a
    `ROW_RULES` finding or that group is a configured one (not a gap between groups, not the whole set),
    unless its rule is one of `SEPARATE_RULES`.
    """
    group_rows = evidence_rows(context)
    configured = {family.name for family in context.measured.families[1:]}

    def rows_of(finding: Finding) -> np.ndarray | None:
        named = {(e.slice, e.group) for e in finding.evidence}
        if len(named) != 1 or finding.id in SEPARATE_RULES or (
                finding.id not in ROW_RULES and next(iter(named))[0] not in configured):
            return None
        return group_rows(finding.evidence[0])

    return rows_of


def merge_duplicates(findings: list[Finding], context: Context) -> list[Finding]:
    """The registry's post-pass: `merge_findings` over an evaluation's findings and rows."""
    return merge_findings(findings, finding_rows(context))
