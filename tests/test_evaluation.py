"""The face of the library in a notebook: `to_*` without a path return the output, `findings_frame` the findings,
and errors name `evaluate()`'s keywords."""

from __future__ import annotations

import doctest
import inspect
import math
import re
from pathlib import Path

import pandas as pd
import pytest

import reportgen
from reportgen.analysis import base
from reportgen.analysis.base import FINDING_COLUMNS, findings_frame
from reportgen.config import KEYWORD_KEYS, KEYWORD_TABLES, Config
from reportgen.errors import ConfigError, InputError
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


def test_findings_frame_example() -> None:
    assert doctest.testmod(base).failed == 0


def test_findings_frame_of_no_findings_keeps_its_columns() -> None:
    frame = findings_frame([])
    assert frame.empty and list(frame.columns) == list(FINDING_COLUMNS)
    assert str(frame["value"].dtype) == "float64" and str(frame["n"].dtype) == "Int64"


# Errors from the Python API name its keywords ---------------------------------------------------------------

def _frame() -> pd.DataFrame:
    return synthetic_predictions(n=200)


@pytest.mark.parametrize(("keywords", "error", "message"), [
    ({"task": "binar"}, ConfigError, r"^evaluate\(\): task: 'binar': input should be 'binary', 'multiclass' or "),
    ({"threshold": "high"}, ConfigError, r"^evaluate\(\): threshold: 'high': input should be a valid number"),
    ({"resamples": 5}, ConfigError, r"^evaluate\(\): resamples: 5: input should be greater than or equal to 100$"),
    ({"label": "defaulted"}, InputError, r'^data frame: no column "defaulted" \(label\); columns are: y, p, pred, '),
    ({"score": "proba"}, InputError, r'^data frame: no column "proba" \(score\); columns are'),
    ({"score": "[data] score"}, InputError, r'^data frame: no column "\[data\] score" \(score\); columns are'),
    ({"slices": [{"column": "sex"}, {"colum": "race"}]}, ConfigError,
     r'^evaluate\(\): slices\[1\]\["colum"\]: unknown key; did you mean "column"\?$'),
    ({"slices": [{"column": "age", "bins": [60, 20]}]}, ConfigError,
     r'^evaluate\(\): slices\[0\]\["bins"\]: \[60, 20\] must be increasing$'),
    ({"slices": [{"column": "nope"}]}, InputError, r'^data frame: no column "nope" \(slices\[0\]\); columns are'),
    ({"slices": "sex"}, ConfigError, r"^evaluate\(\): slices: 'sex': input should be a valid list$"),
    ({"slices": ["sex"]}, ConfigError, r"^evaluate\(\): slices\[0\]: 'sex': input should be a valid dictionary$"),
    ({"sensitive": "sex"}, ConfigError, r"^evaluate\(\): sensitive: 'sex': input should be a valid list$"),
    ({"sensitive": ["sex", "sex"]}, ConfigError, r'^evaluate\(\): sensitive lists "sex" more than once$'),
    ({"sensitive": ["sex"], "reference": {"sex": "nope"}}, ConfigError,
     r'^reference\["sex"\]: "nope" is not a group of "sex"; groups are: "female", "male"$'),
    ({"top_k": 2}, ConfigError, r"^evaluate\(\): top_k: 2: input should be a valid list$"),
    ({"model": "m"}, ConfigError, r"^evaluate\(\): model: 'm': input should be a valid dictionary$"),
    ({"model": {"nam": "m"}}, ConfigError, r'^evaluate\(\): model\["nam"\]: unknown key; did you mean "name"\?$'),
    ({"card": {"caveats": 3}}, ConfigError, r'^evaluate\(\): card\["caveats"\]: 3: input should be a valid string$'),
    ({"error_analysis": {"depht": 2}}, ConfigError, r'^evaluate\(\): error_analysis\["depht"\]: unknown key'),
    ({"baseline": 5}, ConfigError, r"^evaluate\(\): baseline: 5: input should be a valid list$"),
    ({"baseline": {"data": _frame(), "scor": "p"}}, ConfigError,
     r'^evaluate\(\): baseline\[0\]\["scor"\]: unknown key; did you mean "score"\?$'),
    ({"baseline": {"data": _frame(), "score": "q"}}, InputError, r'^data frame: no column "q" \(baseline\["score"\]\)'),
    ({"normalize": True}, InputError, r"^normalize does not apply to a binary task; the task was inferred from column "
                                      r'"y" of data frame: set task if that is wrong$'),
    ({"gates": [{"metric": "recall", "slice": "sex", "group": "x", "min": 0.5}]}, ConfigError,
     r'^evaluate\(\): gates\[0\]\["slice"\]: unknown slice "sex"; slices are: none \(add slices\)$'),
])
def test_errors_name_the_keywords(keywords: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message) as info:
        reportgen.evaluate(_frame(), **({"label": "y", "score": "p", "resamples": 100} | keywords))
    assert "[" not in re.sub(r'\[[0-9]+\]|\["[a-z_]+"\]|\[[-0-9, ]+\]|"[^"]*"', "", str(info.value))  # no [table]


def test_errors_found_when_the_card_is_built_name_the_keywords() -> None:
    ev = reportgen.evaluate(_frame(), label="y", score="p", resamples=100, slices=[{"column": "sex"}],
                            gates=[{"metric": "roc_auc", "min": 0.5}, {"metric": "auc", "min": 0.5}])
    for show in (lambda: ev.gates, ev.to_report, ev._repr_html_, ev.to_json):
        with pytest.raises(ConfigError, match=r'^evaluate\(\): gates\[1\]\["metric"\]: unknown metric "auc" for a '
                                              r'binary task; .*did you mean "roc_auc"\?$'):
            show()


def test_the_config_file_keeps_its_own_names(tmp_path: Path) -> None:
    _frame().to_csv(tmp_path / "preds.csv", index=False)
    (tmp_path / "config.toml").write_text('[data]\npath = "preds.csv"\nlabel = "y"\nscore = "p"\nthreshold = "high"\n',
                                          encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml: \[data\] threshold: 'high': input should be a valid number"):
        reportgen.evaluate_config(tmp_path / "config.toml", root=tmp_path)
    (tmp_path / "config.toml").write_text('[data]\npath = "preds.csv"\nlabel = "y"\nscore = "p"\n'
                                          '[[slices]]\ncolumn = "sex"\n[[gates]]\nmetric = "auc"\nmin = 0.5\n',
                                          encoding="utf-8")
    ev = reportgen.evaluate_config(tmp_path / "config.toml", root=tmp_path)
    with pytest.raises(ConfigError, match=r'config\.toml: \[\[gates\]\] #1 metric: unknown metric "auc"'):
        ev.to_report()


@pytest.mark.parametrize("name", [
    name for name, parameter in inspect.signature(reportgen.evaluate).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in ("label", "history", "positive_label")
])  # label: its column is checked, history: its file is read; positive_label's error names the union's member too
def test_every_keyword_is_named_in_its_errors(name: str) -> None:
    """Each keyword holds a key of one of the config's tables (KEYWORD_TABLES, KEYWORD_KEYS) or a table of its own
    name: a value of no valid type for any of them comes back under the keyword's name."""
    tables = {table for table in KEYWORD_TABLES if name in Config.model_fields[table].annotation.model_fields}
    assert tables or name in KEYWORD_KEYS.values() or name in Config.model_fields, name
    with pytest.raises(ConfigError, match=rf"^evaluate\(\): {name}: "):
        reportgen.evaluate(_frame(), **({"label": "y", "score": "p", "resamples": 100} | {name: object()}))
