"""The card sections "What drives the predictions" (`reportgen.analysis.explanations`: how the model was loaded and
checked, each feature's permutation importance with its interval, and per sensitive group) and "Proxies of the
sensitive columns" (`reportgen.analysis.proxies`)."""

from __future__ import annotations

from reportgen.analysis.attributions import AttributionSummary
from reportgen.analysis.explanations import LOSSES, METRICS, Explanations
from reportgen.analysis.group_differences import GroupDifference
from reportgen.analysis.proxies import Proxies
from reportgen.analysis.surrogate import Surrogate
from reportgen.document.schema import Section, SectionTable
from reportgen.formatting import num, pct

TITLE = "What drives the predictions"


def explanations_section(found: Explanations) -> Section:
    """The section of `found`: paragraphs on what the numbers are, a table of every feature's importance, and one
    per sensitive column with each group's."""
    loaded = {"skops": "was loaded with skops' secure loader" + (
        f" ([model] trusted allowed {len(found.trusted)} more type{'s' if len(found.trusted) > 1 else ''}: "
        f"{', '.join(found.trusted)})" if found.trusted else ""),
        "pickle": "was loaded from a pickle ([model] allow_pickle)", "memory": "was given in memory"}[found.loader]
    sample = (f"all {found.rows:,} rows" if found.rows == found.total_rows else
              f"a seeded sample of {found.rows:,} of the {found.total_rows:,} rows")
    paragraphs = [
        f"The model \u201c{found.artifact}\u201d {loaded}. It gives the evaluated prediction again on "
        f"{pct(found.reproduced)} of the {found.rows:,} rows it was run on.",
        f"Importance: {METRICS[found.metric]} when a feature's values are shuffled among the rows (scikit-learn's "
        f"permutation importance, {found.repeats} shuffles, on {sample}). The interval is over the shuffles, not "
        "over samples of rows; near 0, the model does not use the feature."
        + (" Per group: the same shuffles, the drop on the group's rows." if found.groups else ""),
        *found.notes,
    ]
    tables = [SectionTable(["Feature", f"Importance ({METRICS[found.metric].removeprefix('the ')})", "Interval low",
                            "Interval high"],
                           [[i.feature, i.value, i.ci_low, i.ci_high] for i in found.overall])]
    tables += group_tables([i.feature for i in found.overall],
                           [(g.column, g.group, g.n, [(i.value, i.ci_low, i.ci_high) for i in g.importances])
                            for g in found.groups])
    if found.differences:
        loss = LOSSES[found.loss][0]
        paragraphs.append(_differences_paragraph(
            found.differences, found.fdr, "Differences between groups are tested on a loss that adds up over rows "
            f"(ROC AUC does not): each row's rise in the {loss} when a feature is shuffled (values drawn from all the "
            "rows, so every group answers to the same values)", "importance differences"))
        tables.append(differences_table(found.differences))
    if found.dependence:
        paragraphs.append(
            f"Partial dependence: the model's {found.output} averaged over the rows with the feature set to each "
            "value; the band spans 10% to 90% of the rows' own (ICE) curves, the dashed line their median. Lines "
            "apart per group: the model treats the groups differently at the same value.")
        tables.append(SectionTable([*DEPENDENCE_KEYS, f"Partial dependence ({found.output})", *ICE_COLUMNS], [
            [d.feature, "overall" if d.column == "overall" else f"{d.column} = {d.group}", value, average,
             *(band[k] for band in d.ice)]
            for d in found.dependence for k, (value, average) in enumerate(zip(d.grid, d.average, strict=True))],
            drawn=True))
    return Section(analysis="explanations", title=TITLE, paragraphs=paragraphs, tables=tables)


def _differences_paragraph(differences: list[GroupDifference], fdr: float, measured: str, family: str) -> str:
    """What the group differences compare and how many are significant."""
    tested = [d for d in differences if d.p_value is not None]
    significant = sum(d.significant for d in tested)
    return (f"{measured}; a group's mean minus its column's reference group's (the difference), tested by Welch's "
            "t-test, q by Benjamini–Hochberg "
            f"across all (the test family \u201c{family}\u201d): {significant} of {len(tested)} significant at "
            f"q \u2264 {num(fdr)}.")


def differences_table(differences: list[GroupDifference]) -> SectionTable:
    """Every group difference, smallest q first (a detail table): the group's mean of the per-row measure minus the
    reference group's."""
    return SectionTable(
        ["Feature", "Group", "Against", "Difference", "Interval low", "Interval high", "p", "q", "Significant"],
        [[d.feature, f"{d.column} = {d.group} (n = {d.n:,})", f"{d.reference} (n = {d.n_reference:,})", d.difference,
          d.ci_low, d.ci_high, d.p_value, d.q_value,
          "yes" if d.significant else ("no" if d.p_value is not None else "not tested")] for d in differences],
        detail=True)


DEPENDENCE_KEYS = ["Feature", "Rows", "Value"]  # the partial dependence table's first columns (the chart finds it so)
ICE_COLUMNS = ["ICE 10%", "ICE 50%", "ICE 90%"]


def group_tables(features: list[str], groups: list[tuple[str, str, int, list[tuple[float, float, float]]]]
                 ) -> list[SectionTable]:
    """One detail table per sensitive column: each feature's value (interval) in each group; `groups` are (column,
    group, rows, each feature's (value, low, high) in `features`' order)."""
    tables = []
    for column in dict.fromkeys(g[0] for g in groups):
        mine = [g for g in groups if g[0] == column]
        tables.append(SectionTable(
            ["Feature", *(f"{column} = {group} (n = {n:,})" for _, group, n, _ in mine)],
            [[feature, *(f"{num(values[k][0])} ({num(values[k][1])} to {num(values[k][2])})"
                         for *_, values in mine)] for k, feature in enumerate(features)], detail=True))
    return tables


def proxies_section(found: Proxies) -> Section:
    """The proxies section: what was tested and how, and every feature × sensitive column pair."""
    proxies = found.found
    paragraphs = [
        "Each feature against each sensitive column, on the rows where both are present: a number by how well it "
        "tells one group from the rest (ROC AUC, Kruskal–Wallis test), a category by Cramér's V (chi-square test). "
        f"A proxy: significant (q \u2264 {num(found.fdr)}, Benjamini–Hochberg across the pairs) and at least "
        f"{num(found.min_auc)} (ROC AUC) or {num(found.min_v)} (Cramér's V).",
        (f"{len(proxies)} proxies found" if len(proxies) != 1 else "1 proxy found") + ": " + "; ".join(
            f"{a.feature} of {a.sensitive}" for a in proxies) + ". A model can learn a sensitive column back from "
        "its proxies: leaving the column out of the inputs does not keep its influence out of the predictions."
        if proxies else "No feature is a proxy of a sensitive column.",
    ]
    rows = [[a.sensitive, a.feature, {"auc": "ROC AUC", "cramers_v": "Cramér's V", None: None}[a.measure], a.value,
             a.p_value, a.q_value, a.n, "yes" if a.proxy else (a.note or "no")] for a in found.associations]
    return Section(analysis="proxies", title="Proxies of the sensitive columns", paragraphs=paragraphs,
                   tables=[SectionTable(["Sensitive column", "Feature", "Association", "Value", "p", "q", "Rows",
                                         "Proxy"], rows, detail=True)])



SWARM_COLUMNS = ["Feature", "Attribution", "Bin width", "Rows", "Feature value (percentile)"]  # the chart finds it so


def attributions_section(found: AttributionSummary) -> Section:
    """The attributions section: where they come from, each feature's mean |attribution| overall and per group,
    the groups' differences, and the beeswarm summaries' binned data (drawn)."""
    covered = (f"all {found.rows:,} predictions" if found.rows == found.total_rows else
               f"{found.rows:,} of the {found.total_rows:,} predictions")
    paragraphs = [
        f"Attributions read from \u201c{found.source}\u201d (rows matched {found.join}), for {covered}: each row's "
        "contribution of each feature to its prediction, in the file's units (SHAP values of a classifier are "
        "often in log-odds). A feature's importance is its mean |attribution|; the interval is over the rows "
        "(another sample of rows would give another mean), corrected for the skew of |attributions| (Hall's)."
        + (" Per group: the mean on the group's rows." if found.groups else ""),
        *found.notes,
    ]
    tables = [SectionTable(["Feature", "Mean |attribution|", "Interval low", "Interval high"],
                           [[m.feature, m.value, m.ci_low, m.ci_high] for m in found.overall])]
    tables += group_tables([m.feature for m in found.overall],
                           [(g.column, g.group, g.n, [(m.value, m.ci_low, m.ci_high) for m in g.means])
                            for g in found.groups])
    if found.differences:
        paragraphs.append(_differences_paragraph(found.differences, found.fdr, "Differences between groups are "
                                                 "tested on each row's |attribution|", "attribution differences"))
        tables.append(differences_table(found.differences))
    if found.swarm:
        paragraphs.append("The beeswarm summary: for the most important features, the rows counted by attribution "
                          "(the larger the dot, the more rows), each dot coloured by where those rows' values of the "
                          "feature lie among all rows, from low (blue) to high (orange); grey where the feature is not "
                          "a number of the predictions.")
        tables.append(SectionTable(SWARM_COLUMNS, [
            [w.feature, center, w.width, count, level]
            for w in found.swarm for center, count, level in zip(w.centers, w.counts, w.levels, strict=True)
            if count], drawn=True))
    return Section(analysis="attributions", title="What drives the predictions: attributions", paragraphs=paragraphs,
                   tables=tables)


def surrogate_section(found: Surrogate) -> Section:
    """The rules section: what the rules are, their fidelity, and every rule."""
    binary = found.output == "positive"
    what = (f"the share of rows predicted {found.positive_label}" if binary else "the mean predicted value")
    fidelity = (f"each rule's majority prediction is the model's on {pct(found.fidelity)} of the rows (one rule "
                f"for all rows, the most common prediction: {pct(found.baseline)})" if binary else
                f"the rules' means explain {pct(found.fidelity)} of the variance of the predictions (R\u00b2)")
    paragraphs = [
        f"The model's predictions as rules: a decision tree of depth {found.depth} grown on the features to the "
        f"predictions the card evaluates, each leaf a rule with its rows and {what} there. Fidelity on the "
        f"{found.rows:,} rows it was grown on: {fidelity}. The rules summarize what the model does, not why: a "
        "feature the tree does not use can still matter to the model.",
        *found.notes,
    ]
    width = max(len(rule.conditions) for rule in found.rules)  # a rule reads across: a condition a column
    columns = ["If", *(["and"] * (width - 1)), "Rows", "Share of rows",
               f"Predicted {found.positive_label}" if binary else "Mean prediction"]
    rows = [[*rule.conditions, *([""] * (width - len(rule.conditions))), rule.n, rule.share, rule.mean]
            for rule in found.rules]
    return Section(analysis="surrogate", title="The predictions as rules", paragraphs=paragraphs,
                   tables=[SectionTable(columns, rows)])
