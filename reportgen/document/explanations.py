"""The card sections "What drives the predictions" (`reportgen.analysis.explanations`: how the model was loaded and
checked, each feature's permutation importance with its interval, and per sensitive group) and "Proxies of the
sensitive columns" (`reportgen.analysis.proxies`)."""

from __future__ import annotations

from reportgen.analysis.explanations import METRICS, Explanations, Importance
from reportgen.analysis.proxies import Proxies
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
    if found.dependence:
        paragraphs.append(
            f"Partial dependence: the model's {found.output} averaged over the rows with a feature set to each value "
            "in turn, for the most important features, overall and per sensitive group; the ICE band (10% to 90% of "
            "the rows' own curves, the middle line their median) shows how differently rows respond. A flat line: "
            "the output does not follow the feature; lines apart per group: the model treats the groups "
            "differently at the same value.")
        tables.append(SectionTable([*DEPENDENCE_KEYS, f"Partial dependence ({found.output})", *ICE_COLUMNS], [
            [d.feature, "overall" if d.column == "overall" else f"{d.column} = {d.group}", value, average,
             *(band[k] for band in d.ice)]
            for d in found.dependence for k, (value, average) in enumerate(zip(d.grid, d.average, strict=True))],
            drawn=True))
    return Section(analysis="explanations", title=TITLE, paragraphs=paragraphs, tables=tables)


DEPENDENCE_KEYS = ["Feature", "Rows", "Value"]  # the partial dependence table's first columns (the chart finds it so)
ICE_COLUMNS = ["ICE 10%", "ICE 50%", "ICE 90%"]


def _with_interval(importance: Importance) -> str:
    return f"{num(importance.value)} ({num(importance.ci_low)} to {num(importance.ci_high)})"


def proxies_section(found: Proxies) -> Section:
    """The proxies section: what was tested and how, and every feature × sensitive column pair."""
    proxies = found.found
    paragraphs = [
        "Each of the model's features is tested against each sensitive column on the rows where both are present: "
        "a number feature by how well its value alone tells one group from the rest (ROC AUC, at least 0.5; "
        "Kruskal–Wallis test), a category feature by Cramér's V of the feature × group table (chi-square test). "
        f"A feature is a proxy where its test is significant (q at most {num(found.fdr)}, Benjamini–Hochberg "
        f"across every pair) and its association at least {num(found.min_auc)} (ROC AUC) or {num(found.min_v)} "
        "(Cramér's V).",
        (f"{len(proxies)} proxies found. " if len(proxies) != 1 else "1 proxy found. ") +
        "A model that does not take a sensitive column as an input can still learn it from its proxies: leaving the "
        "column out does not keep its influence out of the predictions; the fairness section measures the outcome."
        if proxies else "No feature is a proxy of a sensitive column.",
    ]
    rows = [[a.sensitive, a.feature, {"auc": "ROC AUC", "cramers_v": "Cramér's V", None: None}[a.measure], a.value,
             a.p_value, a.q_value, a.n, "yes" if a.proxy else (a.note or "no")] for a in found.associations]
    return Section(analysis="proxies", title="Proxies of the sensitive columns", paragraphs=paragraphs,
                   tables=[SectionTable(["Sensitive column", "Feature", "Association", "Value", "p", "q", "Rows",
                                         "Proxy"], rows)])

