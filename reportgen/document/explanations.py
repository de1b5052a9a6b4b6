"""The card section "What drives the predictions" (`reportgen.analysis.explanations`): how the model was loaded
and checked, each feature's permutation importance with its interval, and per sensitive group."""

from __future__ import annotations

from reportgen.analysis.explanations import METRICS, Explanations, Importance
from reportgen.document.schema import Section, SectionTable
from reportgen.formatting import num, pct

TITLE = "What drives the predictions"


def explanations_section(found: Explanations) -> Section:
    """The section of `found`: paragraphs on what the numbers are, a table of every feature's importance, and one
    per sensitive column with each group's."""
    loaded = {"skops": "loaded with skops' secure loader" + (
        f" (trusting {', '.join(found.trusted)}, as [model] trusted lists)" if found.trusted else ""),
        "pickle": "loaded from a pickle ([model] allow_pickle)", "memory": "given in memory"}[found.loader]
    sample = (f"all {found.rows:,} rows" if found.rows == found.total_rows else
              f"a seeded sample of {found.rows:,} of the {found.total_rows:,} rows")
    paragraphs = [
        f"The model \u201c{found.artifact}\u201d ({loaded}) gives the evaluated prediction again on "
        f"{pct(found.reproduced)} of the rows it was run on.",
        f"A feature's importance is {METRICS[found.metric]} when its values are shuffled among the rows "
        f"(scikit-learn's permutation importance, {found.repeats} shuffles, on {sample}): the more the model "
        "leans on the feature, the more its predictions suffer. The interval is over the shuffles: how much "
        "shuffling moves the value, not how much another sample of rows would; a feature near 0 does not "
        "matter to the model, and one below 0 only by chance.",
        *found.notes,
    ]
    tables = [SectionTable(["Feature", f"Importance ({METRICS[found.metric].removeprefix('the ')})", "Interval low",
                            "Interval high"],
                           [[i.feature, i.value, i.ci_low, i.ci_high] for i in found.overall])]
    for column in dict.fromkeys(g.column for g in found.groups):
        groups = [g for g in found.groups if g.column == column]
        tables.append(SectionTable(
            ["Feature", *(f"{column} = {g.group} (n = {g.n:,})" for g in groups)],
            [[feature.feature, *(_with_interval(g.importances[k]) for g in groups)]
             for k, feature in enumerate(found.overall)]))
    return Section(analysis="explanations", title=TITLE, paragraphs=paragraphs, tables=tables)


def _with_interval(importance: Importance) -> str:
    return f"{num(importance.value)} ({num(importance.ci_low)} to {num(importance.ci_high)})"
