"""Where the model fails: discovered slices, the scope for improvement, examples of errors and the error tree.

`analyse_errors` runs the parts in order from the rows searched — in memory, or where an SQL engine holds them
(`error_sources`) — and the `[error_analysis]` settings; the statistics live in `discovery` (slices) and
`error_tree` (the tree).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding, Outcome, TestFamily
from reportgen.analysis.checks import declared_columns
from reportgen.analysis.discovery import (
    Discovery,
    Measure,
    candidate_specs,
    discover_cells,
    error_measure,
    measure_name,
    slice_text,
    unmeasured,
)
from reportgen.analysis.error_sources import ErrorSource, RowErrors, SqlErrors
from reportgen.analysis.error_tree import MAX_FEATURES, TreeNode
from reportgen.config import ErrorAnalysisSection
from reportgen.engines.error_counts import error_relation
from reportgen.errors import InputError, plain_list
from reportgen.formatting import num, p_clause, pct
from reportgen.labels import MAX_EXAMPLE_CHARS, display_label, shorten
from reportgen.slices import SliceFamily
from reportgen.vocabulary import OVERALL

MAX_IMPROVEMENTS = 20
MAX_FINDINGS = 3
SEARCHED = {"fnr": "the positive labels", "fpr": "the negative labels"}  # measures over one label's rows
LARGE_DIFFERENCE = 0.1  # an error rate this much above the rest's makes a finding high severity
DISCOVERED = "discovered"  # the slice name of an error slice's evidence (its group: the slice in words)


@dataclass(frozen=True)
class ErrorAnalysis:
    """The result of `analyse_errors`.

    Attributes
    ----------
    measure : Measure
        The per-row error measure.
    columns : list of str
        The candidate columns searched.
    notes : list of str
        What the reader should know (columns left out, quantile bins merged).
    tested : int
        Slices tested.
    discoveries : int
        Slices significantly worse than the rest (before the `max_slices` cut).
    overall : float
        The measure over all rows.
    slices : DataFrame
        The reported slices (at most `max_slices`), most worse first: slice (in words), conditions,
        depth, n, share, value, ci_low, ci_high, rest, difference, p_value, q_value, rank.
    improvements : DataFrame
        slice, origin ("discovered" or "configured"), n, share, value, target, target_source, gain
        (the overall measure's reduction if the slice reached its target), largest gain first.
    examples : dict
        Slice (in words) → its most confident wrong predictions (regression: largest errors), as
        text, in the display columns.
    tree : list of TreeNode
        The error tree, in pre-order.
    message : str or None
        Why nothing is reported, when that is so (no errors, too few rows, no candidate columns).
    rows : dict
        Slice (in words) → the indices of its rows in the predictions, for each reported slice (rows
        outside the searched ones, e.g. the negative labels for FNR, are in no slice). Not in the card.
    """

    measure: Measure
    columns: list[str]
    notes: list[str]
    tested: int
    discoveries: int
    overall: float
    slices: pd.DataFrame
    improvements: pd.DataFrame
    examples: dict[str, pd.DataFrame]
    tree: list[TreeNode]
    message: str | None
    rows: dict[str, np.ndarray] = dataclasses.field(default_factory=dict, repr=False)


def analyse_errors(
    source: ErrorSource, settings: ErrorAnalysisSection, configured: list[SliceFamily], *, min_support: int,
    fdr: float, level: float, exclude: set[str], shown: list[str], model_outputs: Mapping[str, str] | None = None,
) -> ErrorAnalysis:
    """Search the metadata columns for where the model fails.

    Parameters
    ----------
    source : ErrorSource
        The rows searched, in memory or where an engine holds them (`reportgen.analysis.error_sources`).
    settings : ErrorAnalysisSection
        ``[error_analysis]``.
    configured : list of SliceFamily
        The configured slice families, whose groups join the scope-for-improvement table.
    exclude : set of str
        Columns that are not candidates (the model's output, the label, join keys).
    model_outputs : mapping, optional
        Other columns that look like model outputs, each with why: not candidates either, and the notes say so.
    shown : list of str
        The columns examples of errors show when `[error_analysis] display` does not name them
        (the label and the model's output); each example also shows its slice's columns.
    min_support, fdr, level
        As ``[report] min_support`` (unless ``[error_analysis] min_support`` is set), ``[findings] fdr`` and
        ``[report] confidence_level``.

    Raises
    ------
    InputError
        If named candidate or display columns are missing, or a named candidate has a single value.
    """
    measure, names = source.measure, source.names
    total, _, n_rows = source.totals
    min_support = settings.min_support or min_support
    display = _display_columns(settings.display, names, source.source) if settings.display is not None else shown
    empty = ErrorAnalysis(measure, [], [], 0, 0, total / n_rows if n_rows else float("nan"), pd.DataFrame(),
                          pd.DataFrame(), {}, [], None)
    if total == 0:
        what = "prediction is correct" if measure.binary else "row has a zero error"
        return _with(empty, message=f"Every {what}: there is nothing to find.")
    if settings.min_support is not None and 2 * min_support > n_rows:
        raise InputError(
            f"{source.source}: [error_analysis] min_support = {min_support} leaves no slice to test: a slice and the "
            f"rest of the data each need that many rows, and there are {n_rows:,}; lower it"
        )
    try:
        specs, notes = candidate_specs(names, n_rows, source.profile, settings.columns, exclude,
                                       max_values=settings.max_values, quantiles=settings.quantiles,
                                       source=source.source, max_columns=settings.max_columns,
                                       model_outputs=model_outputs)
    except InputError as exc:
        if settings.columns is not None:
            raise
        return _with(empty, message=str(exc).removeprefix(f"{source.source}: ").split("; add")[0].capitalize() + ".")
    families = source.families(specs)
    notes += [f'"{family.columns[0]}": {note}' for family in families for note in family.notes]
    columns = [family.columns[0] for family in families]
    found = discover_cells(families, lambda combos: source.cells(families, combos, min_support), source.totals,
                           measure.binary, depth=settings.depth, min_support=min_support, fdr=fdr, level=level)
    notes += found.notes
    tree, tree_input = source.tree(columns, max_depth=settings.tree_depth, min_leaf=min_support)
    if tree_input < len(columns):
        notes.append(f"The error tree is grown on the first {tree_input} of the {len(columns)} searched columns "
                     f"(at most {MAX_FEATURES} input columns, a category counting one per value).")
    slices = found.reported.head(settings.max_slices)
    slices = slices.assign(slice=slices["conditions"].map(slice_text), share=slices["n"] / n_rows)
    message = None
    if found.tested.empty:
        message = (f"No slice has {min_support} rows or more with as many outside it: too few rows to search "
                   "(lower [error_analysis] min_support).")
    elif slices.empty:
        message = (f"No slice is significantly worse than the rest of the data ({len(found.tested):,} tested, "
                   f"false discovery rate {fdr:g}).")
    examples = {} if not settings.examples else {
        text: _as_text(source.examples(conditions, families, display + [c for c, _ in conditions if c not in display],
                                       settings.examples))
        for text, conditions in zip(slices["slice"], slices["conditions"], strict=True)
    }
    members = {text: source.members(conditions, families)
               for text, conditions in zip(slices["slice"], slices["conditions"], strict=True)}
    return ErrorAnalysis(
        measure=measure,
        columns=columns,
        notes=notes,
        tested=len(found.tested),
        discoveries=len(found.reported),
        overall=found.overall,
        slices=slices,
        improvements=_improvements(found, slices, configured, source, settings.target, settings.targets,
                                   min_support, n_rows),
        examples=examples,
        tree=tree,
        message=message,
        rows={text: rows if measure.rows is None else measure.rows[rows]
              for text, rows in members.items() if rows is not None},
    )


def _with(analysis: ErrorAnalysis, *, message: str) -> ErrorAnalysis:
    return ErrorAnalysis(**{**analysis.__dict__, "message": message})


def _display_columns(display: list[str], names: list[str], source: str) -> list[str]:
    for column in display:
        if column not in names:
            raise InputError(
                f'{source}: no column "{column}" ([error_analysis] display); columns are: '
                f"{plain_list(names, limit=12)}"
            )
    return list(display)


def _as_text(rows: pd.DataFrame) -> pd.DataFrame:
    """Example rows as text (`_text`), numbered from 0."""
    return rows.apply(lambda column: column.map(_text).astype(object)).reset_index(drop=True)


def _text(value: object) -> str:
    """An example cell as text, at most `MAX_EXAMPLE_CHARS` characters."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return format(value, ".4g")
    return shorten(str(value), MAX_EXAMPLE_CHARS)


def _improvements(
    found: Discovery, slices: pd.DataFrame, configured: list[SliceFamily], source: ErrorSource, target: str,
    targets: dict[str, float], min_support: int, n_rows: int,
) -> pd.DataFrame:
    """The scope-for-improvement table: each slice's share, measure, target and the overall gain at the target.

    The target is, in order: the level `targets` gives the slice; with target "best", the best
    comparable slice (the same columns, other values, enough rows); else the overall measure.
    """
    wanted = {_canonical(key): level for key, level in targets.items()}
    rows = []
    tested_columns = [_columns_of(conditions) for conditions in found.tested["conditions"]]
    for row in slices.itertuples():
        own = _columns_of(row.conditions)
        comparable = found.tested[[columns == own for columns in tested_columns]]
        rows.append(("discovered", row.slice, int(row.n), float(row.value), comparable[["conditions", "value"]]))
    for index, family in enumerate(configured):
        n, sums = source.configured(index)
        groups = pd.DataFrame({"conditions": [((family.name, label),) for label in family.labels],
                               "value": np.divide(sums, n, out=np.full(len(n), np.nan), where=n > 0), "n": n})
        groups = groups.iloc[: family.n_listed]  # max_groups' pool is no group to fix
        comparable = groups[groups["n"] >= min_support]
        for label, size, value in zip(family.labels, groups["n"], groups["value"], strict=False):
            if size >= min_support:
                rows.append(("configured", f"{family.name} = {label}", int(size), float(value), comparable))
    overall = found.overall
    table = []
    for origin, text, size, value, comparable in rows:
        if _canonical(text) in wanted:
            level, source_text = wanted[_canonical(text)], "config"
        elif target == "best":
            others = comparable[comparable["conditions"].map(slice_text) != text]
            best = others.loc[others["value"].idxmin()] if len(others) else None
            level, source_text = (overall, OVERALL) if best is None else (
                float(best["value"]), f"best: {slice_text(best['conditions'])}")
        else:
            level, source_text = overall, OVERALL
        share = size / n_rows
        table.append({"slice": text, "origin": origin, "n": size, "share": share, "value": value, "target": level,
                      "target_source": source_text, "gain": share * max(value - level, 0.0)})
    frame = pd.DataFrame(table, columns=["slice", "origin", "n", "share", "value", "target", "target_source", "gain"])
    frame = frame.drop_duplicates("slice", keep="first")  # a configured group that was also discovered: once
    return frame.sort_values(["gain", "n"], ascending=False, kind="stable").head(MAX_IMPROVEMENTS).reset_index(drop=True)


def _columns_of(conditions: tuple[tuple[str, str], ...]) -> frozenset[str]:
    return frozenset(column for column, _ in conditions)


def _canonical(text: str) -> frozenset[str]:
    """A slice written as "a=x & b=y" in any order and spacing, as a set of "column=value" parts."""
    return frozenset(re.sub(r"\s*=\s*", "=", part.strip()) for part in text.split("&"))


def _shown(conditions: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """A slice's conditions with their column and value shortened for display (`reportgen.labels`)."""
    return tuple((display_label(column), display_label(value)) for column, value in conditions)


def error_findings(analysis: ErrorAnalysis | None, fdr: float) -> list[Finding]:
    """One finding for each of the worst discovered slices (at most `MAX_FINDINGS`)."""
    if analysis is None:
        return []
    found = []
    for row in analysis.slices.head(MAX_FINDINGS).itertuples():
        label = analysis.measure.label
        relative = row.difference / row.rest if row.rest > 0 else np.inf
        large = row.difference >= LARGE_DIFFERENCE if analysis.measure.binary else relative >= 0.5
        found.append(Finding(
            id="error_slice",
            severity="high" if large else "medium",
            title=f"The model fails more where {slice_text(_shown(row.conditions))}.",
            detail=(f"The {label} there is {num(row.value)} ({num(row.ci_low)}–{num(row.ci_high)}, {row.n:,} rows, "
                    f"{pct(row.share)} of {SEARCHED.get(analysis.measure.name, 'the data')}) against "
                    f"{num(row.rest)} on the other rows; found among "
                    f"{analysis.tested:,} slices searched, significant after Benjamini–Hochberg correction "
                    f"(q {p_clause(row.q_value)}, false discovery rate {fdr:g})."),
            section="error_analysis",
            subject=None,
            evidence=[Evidence(slice=DISCOVERED, group=row.slice, metric=analysis.measure.name, value=float(row.value),
                               ci_low=float(row.ci_low), ci_high=float(row.ci_high), n=int(row.n),
                               compared_with=float(row.rest), p_value=float(row.p_value), q_value=float(row.q_value))],
        ))
    return found


def run(context: Context) -> Outcome:
    """Where the model fails (the "error_analysis" analysis): an `ErrorAnalysis`, None when turned off.

    The rows are searched in memory, or where an SQL engine holds them (`context.scanned`). The sanity checks'
    result (`context.results["checks"]`) says which columns are not candidates: those the config names (the label,
    the model's output, join keys) and those that look like model outputs; an SQL engine, which runs no sanity
    checks, finds the latter itself.
    """
    config, predictions, checks = context.config, context.predictions, context.results.get("checks")
    settings = config.error_analysis
    if not settings.enabled:
        return Outcome(None)
    data = config.data
    declared = declared_columns(config, predictions.frame) if checks is None else checks.declared
    if context.scanned is None:
        measure = error_measure(predictions, settings.metric, source=context.config_source)
        source: ErrorSource = RowErrors.of(predictions, measure, context.measured.families[1:])
        model_outputs = {} if checks is None else checks.model_outputs  # none known when the checks did not run
    else:
        scanned = context.scanned
        measure = unmeasured(measure_name(predictions.task, settings.metric, scanned.has_probabilities,
                                          source=context.config_source))
        relation = error_relation(scanned.connection, predictions.task, scanned.outputs, measure.name,
                                  scanned.view("errors"))
        every_row = measure.name not in SEARCHED  # else the rows of one label
        source = SqlErrors(relation, measure, scanned.coded[1:], predictions.source,
                           profiles=scanned.profiles if every_row else None)
        model_outputs = source.model_outputs(predictions.task, scanned.outputs,
                                             [c for c in source.names if c not in declared])
    found = analyse_errors(
        source, settings, context.measured.families[1:], min_support=config.report.min_support,
        fdr=config.findings.fdr, level=config.report.confidence_level, exclude=set(declared),
        shown=[c for c in (data.label, data.score, data.prediction) if c is not None],
        model_outputs=model_outputs,
    )
    families = [] if not found.tested else [error_family(found, settings.depth)]
    return Outcome(found, error_findings(found, config.findings.fdr), families)


def error_family(analysis: ErrorAnalysis, depth: int) -> TestFamily:
    """The "error analysis" family: every discovered slice tested, adjusted together (`discovery.discover`)."""
    return TestFamily(
        "error analysis",
        f"Every slice of up to {depth} condition{'s' if depth > 1 else ''} on the searched columns against the rest of "
        f"the data and each more general slice, on the {analysis.measure.label} (one-sided: is the model worse there?).",
        tests=analysis.tested, discoveries=analysis.discoveries,
    )
