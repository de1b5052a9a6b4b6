"""The face of the library in a notebook: `to_*` without a path return the output, `findings_frame` the findings."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import reportgen
from reportgen.analysis.base import FINDING_COLUMNS, findings_frame
from tests.helpers import synthetic_predictions


@pytest.fixture(scope="module")
def evaluation() -> reportgen.Evaluation:
    df = synthetic_predictions(n=1200)
    df.loc[df["race"] == "c", "pred"] = 1 - df["y"]  # race "c" gets every prediction wrong: findings with p-values
    return reportgen.evaluate(df, label="y", score="p", prediction="pred", slices=[{"column": "race"}],
                              sensitive=["sex"], resamples=200)


@pytest.mark.parametrize(("method", "options"), [("to_html", {}), ("to_html", {"interactive": True}),
                                                 ("to_json", {}), ("to_markdown", {"base_url": "https://x.org/r"})])
def test_without_a_path_the_text_is_returned(evaluation: reportgen.Evaluation, tmp_path: Path, method: str,
                                             options: dict) -> None:
    text = getattr(evaluation, method)(**options)
    assert isinstance(text, str)
    path = getattr(evaluation, method)(tmp_path / "out", **options)
    assert path == tmp_path / "out"
    assert text == path.read_text(encoding="utf-8")


def test_pdf_without_a_path_is_bytes(evaluation: reportgen.Evaluation, tmp_path: Path) -> None:
    data = evaluation.to_pdf(page_size="Letter")
    assert isinstance(data, bytes) and data.startswith(b"%PDF-")
    assert data == evaluation.to_pdf(tmp_path / "r.pdf", page_size="Letter").read_bytes()


def test_findings_frame_has_one_row_per_finding(evaluation: reportgen.Evaluation) -> None:
    findings = evaluation.to_report().findings
    frame = evaluation.findings_frame()
    assert len(findings) >= 3 and len(frame) == len(findings)
    assert {"high", "medium"} <= set(frame["severity"])
    assert list(frame.columns) == list(FINDING_COLUMNS)
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        name: str(pd.api.types.pandas_dtype(dtype)) for name, dtype in FINDING_COLUMNS.items()}
    assert list(frame.index) == list(range(len(findings)))
    for row, finding in zip(frame.itertuples(index=False), findings, strict=True):
        assert (row.severity, row.id, row.section, row.title, row.detail) == (
            finding.severity, finding.id, finding.section, finding.title, finding.detail)
        assert (None if pd.isna(row.subject) else row.subject) == finding.subject
        lead = finding.evidence[0]
        assert (row.slice, row.group, row.metric, row.evidence) == (lead.slice, lead.group, lead.metric,
                                                                     len(finding.evidence))
        for name in ("value", "ci_low", "ci_high", "compared_with", "p_value", "q_value"):
            expected = getattr(lead, name)
            assert (math.isnan(getattr(row, name)) if expected is None else getattr(row, name) == expected), name
        for name in ("n", "support"):
            assert (None if pd.isna(getattr(row, name)) else getattr(row, name)) == getattr(lead, name), name
    assert frame["p_value"].notna().any()


def test_findings_frame_filters_by_severity(evaluation: reportgen.Evaluation) -> None:
    frame = evaluation.findings_frame()
    serious = frame[frame["severity"] >= "medium"]
    assert list(serious["title"]) == [f.title for f in evaluation.findings if f.severity in ("medium", "high")]
    assert frame.sort_values("severity", ascending=False, kind="stable").index.tolist() == list(frame.index)


def test_findings_frame_of_no_findings_keeps_its_columns() -> None:
    frame = findings_frame([])
    assert frame.empty and list(frame.columns) == list(FINDING_COLUMNS)
    assert str(frame["value"].dtype) == "float64" and str(frame["n"].dtype) == "Int64"
