"""The pull-request summary: numbers from the document, inert user text, valid GFM, within the size limit, golden."""

from __future__ import annotations

import dataclasses
import fnmatch
import html
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportgen
from reportgen.cli import main
from reportgen.document.schema import Report
from reportgen.evaluation import evaluate_config
from reportgen.formatting import count, num, pvalue
from reportgen.render import formats
from reportgen.render.markdown import (
    GITHUB_COMMENT_LIMIT,
    MAX_FINDINGS,
    MAX_GROUPS,
    cap,
    escape,
    escape_html,
    interval,
    to_markdown,
)
from reportgen.vocabulary import HEADLINE_METRICS
from tests.helpers import (
    GITHUB_REFERENCES,
    assert_valid_tables,
    gfm,
    html_tags,
    markdown_tables,
    synthetic_predictions,
    table_cells,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLE = ROOT / "examples" / "adult-income" / "config.toml"
BASE = "https://example.org/cards/adult"
HOSTILE = [
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "![i](http://evil/x.png)", "a|b", "line\nbreak",
    "@octocat", "`code`", "<details>", "# head www.evil.com :x: \\", "#12 owner/repo#3 GH-4 a5c3785 @org/team",
]
# what the summary's own markup may produce once rendered
OWN_TAGS = {"h2", "h3", "p", "strong", "a", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br",
            "details", "summary", "b", "sub", "hr", "blockquote"}


def _tags(markdown: str) -> list[tuple[str, dict[str, str | None]]]:
    return html_tags(gfm().render(markdown))


def _report_from_config(path: Path) -> Report:
    """As `reportgen build` does."""
    return evaluate_config(path).to_report()


@pytest.fixture(scope="module")
def adult() -> Report:
    return _report_from_config(EXAMPLE)


@pytest.fixture(scope="module")
def hostile() -> Report:
    df = synthetic_predictions(900)
    df["shop"] = np.array(HOSTILE)[np.arange(len(df)) % len(HOSTILE)]
    df.loc[df.index[:5], "shop"] = "tiny @team/reviewers"  # a small group (fewer rows than min_support)
    df.loc[df["shop"] == "a|b", "y"] = 0  # a single-class group: undefined metrics, a weak group
    return reportgen.evaluate(
        df, label="y", score="p", prediction="pred", slices=[{"column": "shop"}, {"column": "race"}],
        sensitive=["shop"], resamples=100, title="T <img src=x onerror=alert(1)> | ## h [l](http://x)",
        model={"name": "@octocat ![m](http://evil/m.png)", "version": "`1`\n# v", "date": "<b>2024</b>"},
        gates=[{"metric": "accuracy", "slice": "shop", "min": 0.7}, {"metric": "roc_auc", "min": 0.5}],
    ).to_report()


@pytest.fixture(scope="module")
def crowded() -> Report:
    """2,000 groups with long hostile names in one slice."""
    df = synthetic_predictions(4000)
    df["shop"] = [f"{'<b>|&' * 60} shop {i % 2000:04d}" for i in range(len(df))]
    return reportgen.evaluate(df, label="y", score="p", slices=[{"column": "shop", "max_groups": 5000}],
                              resamples=100, max_groups_shown=5000).to_report()


# ----------------------------------------------------------------------------------------------- content


def test_headline_numbers_come_from_the_report(adult: Report) -> None:
    text = to_markdown(adult)
    labels = {m.name: m.label for m in adult.metrics.metrics}
    shown = [m for m in adult.overall.metrics if m.name in HEADLINE_METRICS["binary"]]
    assert len(shown) == len(HEADLINE_METRICS["binary"])
    for m in shown:
        shown_interval = "" if m.ci_low is None else interval(m)
        assert f"\n| {escape(labels[m.name])} | {num(m.value)} | {shown_interval} |\n" in text, m.name
    assert "| Metric | Value | 95% interval |" in text


def test_undefined_headline_metric_shows_its_reason(adult: Report) -> None:
    metrics = [
        dataclasses.replace(m, value=None, ci_low=None, ci_high=None, undefined_reason="only one class in this group")
        if m.name == "roc_auc" else m
        for m in adult.overall.metrics
    ]
    text = to_markdown(dataclasses.replace(adult, overall=dataclasses.replace(adult.overall, metrics=metrics)))
    assert "\n| ROC AUC | n/a | only one class in this group |\n" in text


def test_header_names_the_model_data_and_gate_outcome(adult: Report) -> None:
    lines = to_markdown(adult).splitlines()
    assert lines[0] == f"## {escape(adult.title)} — {adult.model.name} {adult.model.version}"
    failed = sum(g.status == "fail" for g in adult.gates)
    assert failed == 1
    digits = adult.evaluation_data.fingerprint.removeprefix("sha256:")[:12]
    assert lines[2] == (f"Binary classification · {count(adult.evaluation_data.rows)} rows · data `{digits}` · "
                        f"❌ {failed} of {len(adult.gates)} quality gates failed")


@pytest.mark.parametrize(("statuses", "expected"), [
    (["pass"] * 4, "✅ all 4 quality gates passed"),
    (["pass"], "✅ the quality gate passed"),
    (["pass", "undefined", "pass"], "⚠️ 1 of 3 quality gates not checked"),
    (["fail", "undefined"], "❌ 1 of 2 quality gates failed"),
])
def test_gate_outcome_wording(adult: Report, statuses: list[str], expected: str) -> None:
    gates = [dataclasses.replace(adult.gates[0], status=s) for s in statuses]
    assert to_markdown(dataclasses.replace(adult, gates=gates)).splitlines()[2].endswith(f" · {expected}")


def test_no_gates_no_gate_section(adult: Report) -> None:
    text = to_markdown(dataclasses.replace(adult, gates=[]))
    assert "quality gate" not in text.lower()
    assert text.splitlines()[2].endswith("`")  # the line ends with the data fingerprint


def test_gates_table_lists_each_gate_with_its_status(adult: Report) -> None:
    text = to_markdown(adult)
    table = next(t for t in markdown_tables(text) if t[0] == [" Status ", " Gate ", " Outcome "])
    marks = {"pass": "✅ pass", "fail": "❌ fail", "undefined": "⚠️ not checked"}
    assert [(row[0].strip(), row[1].strip()) for row in table[2:]] == [
        (marks[g.status], escape(g.title)) for g in adult.gates
    ]
    undefined = dataclasses.replace(adult.gates[0], status="undefined")
    assert "| ⚠️ not checked |" in to_markdown(dataclasses.replace(adult, gates=[undefined]))


def test_findings_are_capped_most_severe_first(adult: Report) -> None:
    text = to_markdown(adult)
    section = text[text.index("### Findings"):text.index("### Fairness")]
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert len(adult.findings) > MAX_FINDINGS
    assert len(items) == MAX_FINDINGS
    for item, finding in zip(items, adult.findings, strict=False):
        assert f" {finding.severity} · **" in item
    assert f"… and {len(adult.findings) - MAX_FINDINGS} more in the full report." in section


def test_no_findings_says_so(adult: Report) -> None:
    assert "No findings: no rule raised a concern" in to_markdown(dataclasses.replace(adult, findings=[]))


def test_fairness_lists_only_gaps_beyond_threshold(adult: Report) -> None:
    text = to_markdown(adult)
    table = next(t for t in markdown_tables(text) if t[0][0] == " Column ")
    flagged = [(f.sensitive, g) for f in adult.fairness for g in f.gaps if g.breached]
    assert len(table) - 2 == len(flagged)
    for row, (sensitive, gap) in zip(table[2:], flagged, strict=True):
        assert row[0].strip() == sensitive
        assert row[2].strip() == f"{num(gap.value)} <sub>{interval(gap)}</sub>"
        assert row[4].strip().startswith(gap.between)
        assert row[5].strip() == pvalue(gap.q_value).replace("<", "&lt;")
        assert row[6].strip() == ("yes" if gap.significant else "no")
    total = sum(len(f.gaps) for f in adult.fairness)
    assert f"**{len(flagged)} of {total} gaps** are beyond their threshold" in text


def test_fairness_without_flags_or_without_fairness(adult: Report) -> None:
    calm = [dataclasses.replace(f, gaps=[dataclasses.replace(g, breached=False) for g in f.gaps])
            for f in adult.fairness]
    text = to_markdown(dataclasses.replace(adult, fairness=calm))
    assert "No fairness gap is beyond its threshold (12 gaps across sex, race)." in text
    assert "### Fairness" not in to_markdown(dataclasses.replace(adult, fairness=[]))


def test_slices_are_collapsed_tables_with_marks(adult: Report, hostile: Report) -> None:
    text = to_markdown(adult)
    for result in adult.slices:
        assert f"<details><summary><b>{html.escape(result.name, quote=False)}</b> · {len(result.groups)} group" in text
    assert text.count("<details>") == text.count("</details>") == len(adult.slices)
    assert "| Amer-Indian-Eskimo | 136 | " in text
    row = next(line for line in text.splitlines() if line.startswith("| Amer-Indian-Eskimo | 136 |"))
    # its recall rests on fewer than 30 positives: marked †, with the note saying what was counted, and not tested
    assert table_cells(row)[3].strip().startswith("0.231 † <sub>")
    assert "† after a value: fewer than 30 positives / rows of the smaller class for that metric" in text
    age = next(line for line in text.splitlines() if line.startswith("| \\[25, 35) | 3,714 |"))
    assert table_cells(age)[3].strip().startswith("▼ ")  # a weak recall on 633 positives
    small = to_markdown(hostile)
    assert re.search(r"\| tiny @\u2060team/reviewers † \| 5 \|", small)
    assert "† fewer than 30 rows" in small
    assert "n/a: undefined" in small


def test_base_url_links_appear_only_when_set(adult: Report) -> None:
    plain = to_markdown(adult)
    assert "](" not in plain
    assert not [t for t, _ in _tags(plain) if t == "a"]
    linked = to_markdown(adult, base_url=BASE + "/")
    hrefs = [attrs["href"] for t, attrs in _tags(linked) if t == "a"]
    assert hrefs[:3] == [f"{BASE}/report.html", f"{BASE}/report.pdf", f"{BASE}/report.json"]
    assert set(hrefs) == {f"{BASE}/report.html", f"{BASE}/report.pdf", f"{BASE}/report.json",
                          f"{BASE}/report.html#findings", f"{BASE}/report.html#comparison-1"}
    html_json = to_markdown(adult, base_url=BASE, files=["report.html", "report.json"])  # --format html,json,md
    hrefs = {attrs["href"] for t, attrs in _tags(html_json) if t == "a"}
    assert f"{BASE}/report.json" in hrefs and f"{BASE}/report.pdf" not in hrefs
    json_only = to_markdown(adult, base_url=BASE, files=["report.json"])  # --format json,md: no page to link
    hrefs = [attrs["href"] for t, attrs in _tags(json_only) if t == "a"]
    assert hrefs == [f"{BASE}/report.json"]
    assert "\n[JSON](" in json_only and "full report" in json_only  # the findings still mention it, unlinked


def test_base_url_is_encoded_and_checked(adult: Report) -> None:
    text = to_markdown(adult, base_url="https://example.org/a b/(x)<y>\"z\"/")
    hrefs = {attrs["href"] for t, attrs in _tags(text) if t == "a"}
    assert "https://example.org/a%20b/%28x%29%3Cy%3E%22z%22/report.html" in hrefs
    assert all(h.startswith("https://example.org/a%20b/%28x%29%3Cy%3E%22z%22/report.") for h in hrefs)
    with pytest.raises(ValueError, match="not an http"):
        to_markdown(adult, base_url="javascript:alert(1)")


# ------------------------------------------------------------------------------------------------ safety


def test_hostile_strings_are_inert(hostile: Report) -> None:
    text = to_markdown(hostile, base_url=BASE)
    rendered = gfm().render(text)
    tags = _tags(text)
    assert {t for t, _ in tags} <= OWN_TAGS, {t for t, _ in tags} - OWN_TAGS
    assert "<script" not in rendered and "<img" not in rendered
    assert [t for t, _ in tags].count("details") == len(hostile.slices)
    assert [t for t, _ in tags].count("h2") == 1
    assert [t for t, _ in tags].count("code") == 1  # the data fingerprint
    assert all(attrs["href"].startswith(BASE + "/report.") for t, attrs in tags if t == "a")
    assert {name for _, attrs in tags for name in attrs} <= {"href", "style"}  # style: table alignment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert re.findall(r"@(?!\u2060)", text) == []  # no mention
    unlinked = re.sub(r"^#+ ", "", to_markdown(hostile), flags=re.MULTILINE)  # no headings, no links (#anchors)
    assert re.findall(r"#(?!\u2060)", unlinked) == []  # no issue reference
    assert "a5c3785" not in text and "GH-4" not in text  # no commit link, no GH- reference
    assert "www." not in text and "://" not in text.replace(BASE, "")  # no autolink on GitHub
    assert ":x:" not in text  # no emoji shortcode
    assert "line break" in text
    assert_valid_tables(text)


def test_hostile_cells_keep_their_text(hostile: Report) -> None:
    text = to_markdown(hostile)
    tokens = gfm().parse(text)
    cells = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "td_open"]
    inline = gfm().renderInline
    shown = {html.unescape(inline(c)).replace("\u2060", "") for c in cells}
    for name in HOSTILE:
        assert cap(name) in shown, name


# Fragments the drawn text is built from: every piece of a reference, and random characters between.
REFERENCE_PARTS = ["#", "@", "GH-", "gh-", "jira-", "/", "-", ".", ":", "www", "http", "://", "mailto", "_", "a",
                   "octocat", "org/team", "owner/repo", "1", "123", "deadbeef", "0123456789abcdef", "DEADBEEF",
                   "example.com", "smile", "\\", "`", "&#35;", "&#64;", " "]


@pytest.mark.parametrize("text", [
    "#123", "owner/repo#1", "see #1.", "GH-123", "gh-7", "JIRA-42", "@octocat", "@org/team", "a@b.co",
    "a5c3785", "a5c3785ed9c00c06b0bd7e3f8d1a6e4e0c2c9f3b", "owner/repo@a5c3785", "octocat@a5c3785", "1234567",
    "DEADBEEF", "https://evil.example/x", "http://x", "www.evil.com", "WWW.EVIL.COM", "mailto:a@b.c",
    "xmpp:a@b.c", ":smile:", "\\#1", "&#35;1", "&#64;octocat", "#&#8203;1",
])
def test_issue_12_references_never_autolink(text: str) -> None:
    """#123, owner/repo#1, GH-123, @name, @org/team, commit SHAs, URLs and emails stay text on GitHub."""
    markdown = html.unescape(gfm().renderInline(escape(text)))
    summary = html.unescape(escape_html(text))  # text inside a raw HTML tag (a slice's <summary>)
    for shown in (markdown, summary):
        assert GITHUB_REFERENCES.search(shown) is None, (text, shown)
        assert shown.replace("\u2060", "") == text  # the reader sees the same characters


def test_generated_numbers_keep_their_characters() -> None:
    """Joiners go into user text only where a reference could start: not into "3.5e-05" or a decimal."""
    assert escape("q = 3.5e-05, 0.812345, 14,653 rows") == "q = 3.5e-05, 0.812345, 14,653 rows"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
       | st.lists(st.sampled_from(REFERENCE_PARTS) | st.text(max_size=3), max_size=12).map("".join))
def test_escaped_text_renders_as_itself(text: str) -> None:
    """Any string, escaped, renders back to its own characters, inline and in a table cell, and
    nothing in it is a mention, reference, commit, link or emoji on GitHub."""
    plain = cap(text, 1000)
    md = gfm()
    inline = md.renderInline(escape(plain))
    assert "<" not in inline  # no tag at all
    shown = html.unescape(inline)
    assert shown.replace("\u2060", "") == plain.replace("\u2060", "")
    assert GITHUB_REFERENCES.search(shown) is None, (plain, shown)
    table = md.render(f"| a | b |\n|--|--|\n| {escape(plain)} | x |\n")
    assert table.count("<td>") == 2
    summary = html.unescape(escape_html(plain))  # text inside a raw HTML tag (a slice's <summary>)
    assert GITHUB_REFERENCES.search(summary) is None, (plain, summary)


# -------------------------------------------------------------------------------------------------- size


def test_thousands_of_groups_stay_small(crowded: Report) -> None:
    text = to_markdown(crowded)
    assert len(text) < 30_000
    rows = markdown_tables(text)[-1][2:]
    assert len(rows) == MAX_GROUPS
    names = [html.unescape(row[0].strip().removesuffix(" †").replace("\\", "")) for row in rows]
    assert all(len(name) == 80 and name.endswith(" shop " + name[-4:]) and "…" in name for name in names)
    assert len(set(names)) == MAX_GROUPS  # cut in the middle, so they stay apart
    assert f"Showing {MAX_GROUPS} of 2,000 groups" in text
    assert_valid_tables(text)


def test_many_valued_slice_shows_the_cards_view() -> None:
    df = synthetic_predictions(3000)
    df["patient_id"] = [f"P{i:04d}" for i in np.random.default_rng(3).integers(0, 800, len(df))]
    text = to_markdown(reportgen.evaluate(df, label="y", score="p", slices=[{"column": "patient_id"}],
                                          resamples=100).to_report())
    rows = markdown_tables(text)[-1][2:]
    largest = df["patient_id"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
    assert [row[0].strip().removesuffix(" †") for row in rows] == [*largest.index[:20], "(other)"]
    assert int(rows[-1][1].strip().replace(",", "")) == largest.iloc[20:].sum()
    assert f"patient_id</b> · {df['patient_id'].nunique()} groups" in text
    assert '"(other)": the rows of every group not shown' in text


def _many_slices(report: Report, n: int) -> Report:
    return dataclasses.replace(report, slices=[dataclasses.replace(report.slices[0], name=f"copy {i} " + "x" * 200)
                                               for i in range(n)])


def test_size_limit_drops_whole_blocks_from_the_end(crowded: Report) -> None:
    report = _many_slices(crowded, 60)
    for base_url in (None, BASE):
        full = to_markdown(report, base_url=base_url, limit=10**9)
        assert len(full) > GITHUB_COMMENT_LIMIT
        text = to_markdown(report, base_url=base_url)
        assert len(text.encode("utf-16-le")) // 2 <= GITHUB_COMMENT_LIMIT
        kept, note = text.split("\n\n> [!NOTE]\n")
        assert full.startswith(kept + "\n\n")  # a prefix of whole blocks
        assert "Truncated" in note and "slice tables left out" in note
        assert ("[full report](" in note) == (base_url is not None)
        assert kept.count("<details>") == kept.count("</details>") > 0
        assert_valid_tables(text)


@pytest.mark.parametrize("limit", [1_500, 3_000, 6_000, 9_000])
def test_small_limits_keep_the_header_and_wholemarkdown_tables(adult: Report, limit: int) -> None:
    full = to_markdown(adult, base_url=BASE)
    text = to_markdown(adult, base_url=BASE, limit=limit)
    assert len(text) <= limit < len(full)
    assert text.startswith(full.split("\n\n")[0])
    assert full.startswith(text.split("\n\n> [!NOTE]\n")[0] + "\n\n")
    assert text.endswith(f"report schema {adult.schema_version}</sub>\n")
    assert_valid_tables(text)


def test_limit_too_small_for_the_header(adult: Report) -> None:
    with pytest.raises(ValueError, match="too small"):
        to_markdown(adult, limit=300)


# ------------------------------------------------------------------------------------- tasks, bytes, files


def test_multiclass_and_regression_summaries() -> None:
    rng = np.random.default_rng(0)
    names = np.array(["ant", "bee", "cat"])
    p = rng.dirichlet([2, 2, 2], 300)
    multi = pd.DataFrame({"y": names[np.arange(300) % 3], **{f"p_{c}": p[:, k] for k, c in enumerate(names)},
                          "g": rng.choice(["u", "v"], 300)})
    y = rng.normal(5, 2, 300)
    reg = pd.DataFrame({"y": y, "pred": y + rng.normal(0, 0.5, 300), "g": rng.choice(["u", "v"], 300)})
    for report, task, label in [
        (reportgen.evaluate(multi, label="y", score_prefix="p_", slices=[{"column": "g"}], sensitive=["g"],
                            resamples=100).to_report(), "Multiclass classification", "| Macro F1 |"),
        (reportgen.evaluate(reg, label="y", prediction="pred", slices=[{"column": "g"}], sensitive=["g"],
                            resamples=100).to_report(), "Regression", "| MAE |"),
    ]:
        text = to_markdown(report)
        assert text.splitlines()[2].startswith(f"{task} · 300 rows")
        assert label in text
        assert_valid_tables(text)


def test_same_report_same_bytes(adult: Report, tmp_path: Path) -> None:
    first = formats.write(adult, tmp_path / "a" / "summary.md", "md", base_url=BASE).read_bytes()
    second = formats.write(adult, tmp_path / "b" / "summary.md", "md", base_url=BASE).read_bytes()
    assert first == second == to_markdown(adult, base_url=BASE).encode("utf-8")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["summary.md"]  # no temp file left


def test_template_ships_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["reportgen.templates"]
    assert any(fnmatch.fnmatch("summary.md.j2", pattern) for pattern in patterns)
    assert (ROOT / "templates" / "summary.md.j2").is_file()


def _normalized(text: str) -> str:
    return re.sub(r"reportgen \d+\.\d+\.\d+\S*", "reportgen VERSION", text)


def test_example_matches_golden(tmp_path: Path, update_golden: bool) -> None:
    assert main(["build", str(EXAMPLE), "--out", str(tmp_path), "-q", "--format", "md"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reportgen-set.json", "summary.md"]
    produced = _normalized((tmp_path / "summary.md").read_text(encoding="utf-8"))
    golden = GOLDEN / "summary.md"
    if update_golden:
        golden.write_text(produced, encoding="utf-8")
    assert produced == golden.read_text(encoding="utf-8"), "summary.md changed; review and run pytest --update-golden"
