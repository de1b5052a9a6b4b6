"""What every analysis shares: the findings it raises, what it returns, and what it is given.

An analysis is a pure function of narrow, typed inputs that returns a JSON-ready result and its
findings. `Analysis` pairs it with the adapter that picks those inputs out of a `Context`, so that
`reportgen.analysis.registry.ANALYSES` can run every analysis in one loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reportgen.attributions import Attributions
from reportgen.baseline import Baseline
from reportgen.config import Config
from reportgen.engines.drift_counts import ReferenceInput
from reportgen.engines.scan import Scanned
from reportgen.history import History
from reportgen.io import Predictions, Unlabelled
from reportgen.metrics.measure import Measured
from reportgen.metrics.paired import MeasuredBaseline
from reportgen.model_artifact import LoadedModel
from reportgen.reference import Reference

SEVERITIES = ("high", "medium", "low")
# The card sections a finding points at; `Finding.subject` names the slice, sensitive column or
# baseline within the section, and the renderers turn the two into a link.
SECTIONS = ("overall", "slices", "fairness", "calibration", "comparison", "training", "error_analysis", "monitoring")


@dataclass(frozen=True)
class Evidence:
    """A number a finding rests on: one metric of one group, with its interval.

    `n` counts the group's rows; `support` the rows the value rests on and `support_unit` what they
    are (e.g. 6 "positives" for a recall), where that applies. `p_value` and `q_value`
    (Benjamini–Hochberg adjusted) are set for tests of a group against the rest of the data;
    `compared_with` is the value it was compared with, if any. `rule` is set in a finding that
    merges several (`reportgen.analysis.merge`): the rule that raised this number.
    """

    slice: str
    group: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    compared_with: float | None = None
    p_value: float | None = None
    q_value: float | None = None
    support: int | None = None
    support_unit: str | None = None
    rule: str | None = None


@dataclass(frozen=True)
class Finding:
    """One finding.

    Attributes
    ----------
    id : str
        The rule that raised it, e.g. "weak_slice".
    severity : str
        "high", "medium" or "low".
    title : str
        One sentence.
    detail : str
        The evidence in words, numbers included.
    section : str
        The card section that shows it: one of `SECTIONS`, or the name of a registered analysis whose
        result the card shows as a section of its own (`Report.sections`).
    subject : str or None
        What in that section: the slice (section "slices"), the sensitive column ("fairness") or
        the baseline ("comparison"); None for the section as a whole.
    evidence : list of Evidence
        The numbers.
    suggestions : list of str
        What to try, as options with the finding's own numbers: filled once every analysis has run
        (`reportgen.analysis.suggestions`) for the rules it has a builder for, by the rule otherwise.
    """

    id: str
    severity: str
    title: str
    detail: str
    section: str
    subject: str | None
    evidence: list[Evidence]
    suggestions: list[str] = field(default_factory=list)


# `findings_frame`'s columns and their types: the finding's own fields, then its lead number (its first
# evidence; "evidence" counts them all); absent values are <NA> (text, counts) or NaN (numbers).
FINDING_COLUMNS = {
    "severity": pd.CategoricalDtype(list(reversed(SEVERITIES)), ordered=True),  # low < medium < high
    "id": "string", "section": "string", "subject": "string", "title": "string", "detail": "string",
    "slice": "string", "group": "string", "metric": "string", "value": "float64", "ci_low": "float64",
    "ci_high": "float64", "compared_with": "float64", "p_value": "float64", "q_value": "float64", "n": "Int64",
    "support": "Int64", "support_unit": "string", "evidence": "int64",
}


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """The findings as a table, one row per finding in their order (most severe first), typed as `FINDING_COLUMNS`.

    Examples
    --------
    >>> evidence = Evidence("sex", "f", "recall", 0.5, 0.4, 0.6, 80, compared_with=0.7, p_value=0.001)
    >>> frame = findings_frame([Finding("weak_slice", "high", "Recall is low.", "", "slices", "sex", [evidence])])
    >>> print(frame[["severity", "id", "group", "metric", "value", "p_value", "evidence"]].to_string(index=False))
    severity         id group metric  value  p_value  evidence
        high weak_slice     f recall    0.5    0.001         1
    """
    rows = [
        {"severity": f.severity, "id": f.id, "section": f.section, "subject": f.subject, "title": f.title,
         "detail": f.detail}
        | {name: getattr(f.evidence[0], name) if f.evidence else None
           for name in ("slice", "group", "metric", "value", "ci_low", "ci_high", "compared_with", "p_value",
                        "q_value", "n", "support", "support_unit")}
        | {"evidence": len(f.evidence)}
        for f in findings
    ]
    return pd.DataFrame(rows, columns=list(FINDING_COLUMNS)).astype(FINDING_COLUMNS)


@dataclass(frozen=True)
class TestFamily:
    """A family of hypothesis tests whose p-values are adjusted together (Benjamini–Hochberg at `[findings] fdr`).

    Every claim the card calls significant belongs to one family; the card and report.json list them.

    Attributes
    ----------
    name : str
        E.g. "fairness" or "comparison with v1".
    description : str
        What was tested, in words: the hypotheses and the tests.
    tests : int
        How many p-values were adjusted together.
    discoveries : int
        How many of them the card calls significant (q-value at most the false discovery rate).
    """

    __test__ = False  # not a pytest class, despite its name

    name: str
    description: str
    tests: int
    discoveries: int


@dataclass(frozen=True)
class Outcome:
    """What an analysis returns: its result (None where it does not apply), its findings, and the
    families of tests behind the claims it calls significant."""

    result: Any
    findings: list[Finding] = field(default_factory=list)
    families: list[TestFamily] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """Everything an evaluation has measured and read, from which each analysis picks its inputs.

    `baselines` are the baselines' predictions read into memory; `measured_baselines` the baselines an SQL engine
    measured where they lie (the comparison measures `baselines` itself). `results` holds the results of the
    analyses that ran before, by name (registry order). `scanned` is the SQL engine that measured the predictions,
    still open, for the analyses that query it; None when the rows are in memory. `reference_input` is
    `[monitoring] reference` for that engine to read (`reference` is the one read into memory). `model` is the
    fitted model `[model] artifact` names, loaded; `attributions` those `[explanations] path` holds, matched to
    the predictions' rows.
    """

    config: Config
    predictions: Predictions
    measured: Measured
    baselines: Sequence[Baseline] = ()
    measured_baselines: Sequence[MeasuredBaseline] = ()
    history: History | None = None
    reference: Reference | None = None
    unlabelled: Unlabelled | None = None
    config_source: str = "config"
    results: Mapping[str, Any] = field(default_factory=dict)
    scanned: Scanned | None = None
    reference_input: ReferenceInput | None = None
    model: LoadedModel | None = None
    attributions: Attributions | None = None


@dataclass(frozen=True)
class Analysis:
    """One entry of the analysis registry.

    Attributes
    ----------
    name : str
        The key of its result in `Evaluation.results` (and of its document section).
    run : callable
        Context → Outcome: picks the analysis's inputs and calls its pure function.
    rows : str or None
        Why it reads every row, for an analysis that does (the engines that compute statistics where the data
        lies do not run it, and the card says why); None for one that reads only what was measured.
    not_run : object
        Its result when it does not run.
    """

    name: str
    run: Callable[[Context], Outcome]
    rows: str | None = None
    not_run: Any = None


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Findings most severe first, in the order raised within a severity."""
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))
