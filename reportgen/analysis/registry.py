"""The analyses an evaluation runs, in order: each reads what was measured and the results before it.

To add an analysis, write its module (a pure function of narrow inputs, and a `run(context)` that
picks them) and list it here; `reportgen.document.build` turns its result into the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from reportgen.analysis import checks, comparison, error_analysis, fairness, findings, training
from reportgen.analysis.base import Analysis, Context, Finding, TestFamily, ordered

ANALYSES: tuple[Analysis, ...] = (
    Analysis("checks", checks.run),  # first: its findings (leakage) lead their severity
    Analysis("fairness", fairness.run),
    Analysis("findings", findings.run),  # reads the fairness gaps
    Analysis("training", training.run),
    Analysis("comparison", comparison.run),
    Analysis("error_analysis", error_analysis.run),  # reads the checks' model-output columns
)


def run_analyses(
    context: Context, analyses: Sequence[Analysis] | None = None
) -> tuple[dict[str, Any], list[Finding], list[TestFamily]]:
    """Run `analyses` (default `ANALYSES`) in order; returns each result by name, every finding,
    most severe first (in registry order within a severity), and every family of tests, in registry order."""
    results: dict[str, Any] = {}
    found: list[Finding] = []
    families: list[TestFamily] = []
    for analysis in ANALYSES if analyses is None else analyses:
        outcome = analysis.run(replace(context, results=dict(results)))
        results[analysis.name] = outcome.result
        found += outcome.findings
        families += outcome.families
    return results, ordered(found), families
