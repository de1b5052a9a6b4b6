"""The analyses an evaluation runs, in order: each reads what was measured and the results before it.

To add an analysis, write its module (a pure function of narrow inputs, and a `run(context)` that
picks them) and list it here; `reportgen.document.build` turns its result into the card. Once all
have run, the `FINISHING` passes go over all their findings, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from reportgen.analysis import (
    attributions,
    checks,
    comparison,
    error_analysis,
    explanations,
    fairness,
    findings,
    merge,
    monitoring,
    proxies,
    suggestions,
    surrogate,
    training,
)
from reportgen.analysis.base import Analysis, Context, Finding, TestFamily, ordered

ANALYSES: tuple[Analysis, ...] = (
    # first: its findings (leakage) lead their severity
    Analysis("checks", checks.run, rows="the sanity checks of the input (leakage, duplicated rows, constant "
                                        "columns) read every row"),
    Analysis("fairness", fairness.run),
    Analysis("findings", findings.run),  # reads the fairness gaps
    Analysis("training", training.run),
    Analysis("comparison", comparison.run),  # an SQL engine measures the baselines (`Context.measured_baselines`)
    # reads the checks' model-output columns (an SQL engine finds them itself)
    Analysis("error_analysis", error_analysis.run),
    # reads the checks' model-output columns (an SQL engine finds them itself)
    Analysis("monitoring", monitoring.run),
    Analysis("explanations", explanations.run, rows="what drives the predictions: the model predicts on a sample "
                                                     "of the rows"),
    Analysis("attributions", attributions.run, rows="the attributions are matched to the predictions' rows in "
                                                    "memory"),
    Analysis("surrogate", surrogate.run, rows="the rules' tree is grown on the rows in memory"),
    Analysis("proxies", proxies.run, rows="the proxies of the sensitive columns: each feature is tested against "
                                          "them row by row"),
)
# (findings, context with every result) → findings: one finding per effect, then each one's own suggestions.
FINISHING: tuple[Callable[[list[Finding], Context], list[Finding]], ...] = (
    merge.merge_duplicates,
    suggestions.suggest,
)


def run_analyses(
    context: Context, analyses: Sequence[Analysis] | None = None, *, rows: bool = True
) -> tuple[dict[str, Any], list[Finding], list[TestFamily]]:
    """Run `analyses` (default `ANALYSES`) in order, then the `FINISHING` passes over their findings; returns
    each result by name, every finding, most severe first (in registry order within a severity), and every
    family of tests, in registry order.

    Without `rows` (an engine that computed the statistics where the data lies), the analyses that read every row
    are not run: their result is their `not_run` value."""
    results: dict[str, Any] = {}
    found: list[Finding] = []
    families: list[TestFamily] = []
    for analysis in ANALYSES if analyses is None else analyses:
        if not rows and analysis.rows is not None:
            results[analysis.name] = analysis.not_run
            continue
        outcome = analysis.run(replace(context, results=dict(results)))
        results[analysis.name] = outcome.result
        found += outcome.findings
        families += outcome.families
    finished = replace(context, results=dict(results))
    for finish in FINISHING:
        found = finish(found, finished)
    return results, ordered(found), families
