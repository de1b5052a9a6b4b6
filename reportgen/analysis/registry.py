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
    checks,
    comparison,
    error_analysis,
    fairness,
    findings,
    merge,
    monitoring,
    suggestions,
    training,
)
from reportgen.analysis.base import Analysis, Context, Finding, TestFamily, ordered

ANALYSES: tuple[Analysis, ...] = (
    Analysis("checks", checks.run),  # first: its findings (leakage) lead their severity
    Analysis("fairness", fairness.run),
    Analysis("findings", findings.run),  # reads the fairness gaps
    Analysis("training", training.run),
    Analysis("comparison", comparison.run),
    Analysis("error_analysis", error_analysis.run),  # reads the checks' model-output columns
    Analysis("monitoring", monitoring.run),  # reads the checks' model-output columns
)
# (findings, context with every result) → findings: one finding per effect, then each one's own suggestions.
FINISHING: tuple[Callable[[list[Finding], Context], list[Finding]], ...] = (
    merge.merge_duplicates,
    suggestions.suggest,
)


def run_analyses(
    context: Context, analyses: Sequence[Analysis] | None = None
) -> tuple[dict[str, Any], list[Finding], list[TestFamily]]:
    """Run `analyses` (default `ANALYSES`) in order, then the `FINISHING` passes over their findings; returns
    each result by name, every finding, most severe first (in registry order within a severity), and every
    family of tests, in registry order."""
    results: dict[str, Any] = {}
    found: list[Finding] = []
    families: list[TestFamily] = []
    for analysis in ANALYSES if analyses is None else analyses:
        outcome = analysis.run(replace(context, results=dict(results)))
        results[analysis.name] = outcome.result
        found += outcome.findings
        families += outcome.families
    finished = replace(context, results=dict(results))
    for finish in FINISHING:
        found = finish(found, finished)
    return results, ordered(found), families
