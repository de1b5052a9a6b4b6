"""The comparison with a baseline as the card shows it: HTML section, charts, print page and summary."""

from __future__ import annotations

import html
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.baseline import Baseline
from reportgen.charts import (
    SLICE_CHART_MAX_GROUPS,
    comparison_chart,
    delta_chart,
)
from reportgen.charts import spec as chart_spec
from reportgen.config import Config, DataSection, validate
from reportgen.document.schema import GroupChange, Report
from reportgen.evaluation import evaluate_predictions
from reportgen.figures import card_charts, metric_labels
from reportgen.formatting import num, pvalue, signed
from reportgen.io import check_predictions
from reportgen.render import pdf
from reportgen.render.html import render_charts, to_html
from reportgen.render.markdown import MAX_REGRESSIONS, cap, to_markdown
from reportgen.vocabulary import CALIBRATION_METRICS
from tests.helpers import assert_valid_tables, gfm, html_tags, table_cells

SCRIPT = "<script>alert(1)</script>"
LINK = "[x](javascript:alert(1))"
IMG = '<img src=x onerror="alert(2)">'
BASELINE = f"old {SCRIPT} {LINK}"
SMALL = "tiny"  # a group below min_support (30 rows)
BASE_URL = "https://example.org/cards/m"
# what the summary's own markup may produce once rendered
OWN_TAGS = {"h2", "h3", "p", "strong", "a", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br",
            "details", "summary", "b", "sub", "hr", "blockquote", "em"}


# ------------------------------------------------------------------------------------------------- data


def _frames(task: str, n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """Candidate and baseline frames on the same rows: the candidate is better, except in group "v"."""
    rng = np.random.default_rng(seed)
    groups = np.array(["u", "v", LINK, IMG, SMALL])
    group = groups[rng.choice(5, n, p=[0.45, 0.3, 0.12, 0.13, 0.0])]
    group[:12] = SMALL
    worse = group == "v"
    if task == "binary":
        y = (rng.random(n) < 0.4).astype(int)
        good, poor = 0.5 * y + rng.random(n) * 0.5, 0.15 * y + rng.random(n) * 0.85
        candidate = np.where(worse, poor, good).round(3)
        baseline = np.where(worse, good, 0.3 * y + rng.random(n) * 0.7).round(3)
        data, base = {"label": "y", "score": "p"}, {"label": "y", "score": "q"}
        return (pd.DataFrame({"y": y, "p": candidate, "g": group}), pd.DataFrame({"y": y, "q": baseline}),
                data, base)
    if task == "multiclass":
        names = np.array(["ant", "bee", "cat"])
        y = names[rng.integers(0, 3, n)]
        onehot = (y[:, None] == names[None, :]).astype(float)
        good = onehot * 2 + rng.random((n, 3))
        poor = onehot * 0.3 + rng.random((n, 3))
        candidate = np.where(worse[:, None], poor, good)
        baseline = np.where(worse[:, None], good, onehot * 0.8 + rng.random((n, 3)))
        candidate, baseline = candidate / candidate.sum(1, keepdims=True), baseline / baseline.sum(1, keepdims=True)
        data = {"label": "y", "scores": {c: f"a_{c}" for c in names}}
        base = {"label": "y", "scores": {c: f"b_{c}" for c in names}}
        return (pd.DataFrame({"y": y, **{f"a_{c}": candidate[:, k] for k, c in enumerate(names)}, "g": group}),
                pd.DataFrame({"y": y, **{f"b_{c}": baseline[:, k] for k, c in enumerate(names)}}), data, base)
    y = rng.normal(5, 2, n)
    candidate = y + np.where(worse, rng.normal(0, 1.5, n), rng.normal(0, 0.4, n))
    baseline = y + np.where(worse, rng.normal(0, 0.4, n), rng.normal(0, 0.9, n))
    data, base = {"label": "y", "prediction": "pa"}, {"label": "y", "prediction": "pb"}
    return pd.DataFrame({"y": y, "pa": candidate, "g": group}), pd.DataFrame({"y": y, "pb": baseline}), data, base


def _report(task: str = "binary", *, name: str = BASELINE, compare: bool = True, n: int = 800, seed: int = 0,
            slices: list | None = None, unmatched: int = 0) -> Report:
    candidate_frame, baseline_frame, data, base = _frames(task, n, seed)
    config = validate(Config, {"data": data, "slices": slices or [{"column": "g"}], "report": {"resamples": 200},
                               "model": {"name": "m"}}, source="config.toml")
    candidate = check_predictions(candidate_frame, DataSection(**data), task=task, source="a.csv")
    baselines = []
    if compare:
        predictions = check_predictions(baseline_frame, DataSection(**base), task=task, source=f"b {SCRIPT}.csv")
        join = 'on column "row_id"' if unmatched else "by row order"
        baselines = [Baseline(name, f"b {SCRIPT}.csv", predictions, join, unmatched)]
    return evaluate_predictions(candidate, config, baselines=baselines).to_report()


@pytest.fixture(scope="module")
def report() -> Report:
    return _report(unmatched=3)


@pytest.fixture(scope="module")
def plain() -> Report:
    return _report(compare=False)


@pytest.fixture(scope="module")
def rendered(report: Report) -> dict:
    return render_charts(report, interactive=False)


@pytest.fixture(scope="module")
def page(report: Report, rendered: dict) -> str:
    return to_html(report, rendered=rendered)


@pytest.fixture(scope="module")
def summary(report: Report) -> str:
    return to_markdown(report, base_url=BASE_URL)


def test_the_data_has_what_the_tests_need(report: Report) -> None:
    c = report.comparisons[0]
    flags = [m.flag for s in c.slices for g in s.groups for m in g.metrics]
    assert "improvement" in flags and "regression" in flags
    groups = {g.group: g for g in c.slices[0].groups}
    assert groups[SMALL].small and not any(m.flag for m in groups[SMALL].metrics)


# ------------------------------------------------------------------------------------------------- HTML


def _section(page: str) -> str:
    start = page.index('<section id="comparison">')
    return page[start:page.index("</section>", start)]


def _rows(table: str) -> dict[str, str]:
    """A table's body rows by the text of their row header."""
    rows = re.findall(r'<tr[^>]*><th scope="row">(.*?)</th>(.*?)</tr>', table, flags=re.DOTALL)
    return {html.unescape(re.sub(r"<[^>]+>.*", "", head, flags=re.DOTALL)).strip(): cells for head, cells in rows}


def _cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)


def _text(cell: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", cell)).split()


def test_section_toc_and_charts_only_with_a_baseline(report: Report, plain: Report, page: str) -> None:
    ids = [figure.id for figure in card_charts(report)]
    assert ids[:2] == ["chart-comparison-0-0-bars", "chart-comparison-0-0-delta"]  # page order: after the glance
    for chart_id in ids[:2]:
        assert f'id="{chart_id}"' in page
    assert '<section id="comparison">' in page and 'id="comparison-1"' in page
    assert '<a href="#comparison">Comparison with the baseline</a>' in page
    positions = [page.index(f'<section id="{s}">') for s in ("glance", "comparison", "model-details")]
    assert positions == sorted(positions)

    without = to_html(plain)
    assert 'id="comparison' not in without and 'href="#comparison' not in without
    assert "chart-comparison" not in without and "Comparison with" not in without
    assert not [f.id for f in card_charts(plain) if "comparison" in f.id]


def test_lead_says_how_rows_were_joined_and_what_was_found(report: Report, page: str) -> None:
    c = report.comparisons[0]
    lead = re.search(r'<p class="lead">(.*?)</p>', _section(page), flags=re.DOTALL).group(1)
    text = " ".join(_text(lead))
    assert f"“{BASELINE}”" in text and f"b {SCRIPT}.csv" in text
    assert f'on the same {c.rows:,} rows, matched on column "row_id"; 3 baseline rows' in text
    regressions = f"{c.regressions} significant regression{'s' if c.regressions != 1 else ''}"
    assert f"{c.improvements} significant improvements and {regressions}" in text
    assert f"false discovery rate of {c.fdr}" in text


def test_overall_table_shows_the_reports_numbers(report: Report, page: str) -> None:
    labels = metric_labels(report)
    table = re.search(r'<table class="changes">.*?</table>', _section(page), flags=re.DOTALL).group(0)
    rows = _rows(table)
    overall = report.comparisons[0].overall.metrics
    assert len(rows) == len(overall)
    for m in overall:
        candidate, baseline, difference, method, p, q, flag = (_text(c) for c in _cells(rows[labels[m.name]]))
        assert candidate[0] == num(m.candidate) and baseline[0] == num(m.baseline)
        if m.candidate_ci_low is not None:
            assert candidate[1] == f"{num(m.candidate_ci_low)}–{num(m.candidate_ci_high)}"
        assert difference[0] == signed(m.difference)
        if m.ci_low is None:
            assert difference[1:] == ["—"] and method == ["—"] and flag == ["—"]
        else:
            assert difference[1:] == [signed(m.ci_low), "to", signed(m.ci_high)]
            assert " ".join(method) == f"{m.method} {m.test}"
        assert " ".join(p) == pvalue(m.p_value) and " ".join(q) == pvalue(m.q_value)
        expected = {"improvement": ["▲", "improvement"], "regression": ["▼", "regression"]}.get(m.flag, ["—"])
        assert flag == expected, m.name


def test_group_table_shows_each_difference_and_marks_flags(report: Report, page: str) -> None:
    change = report.comparisons[0].slices[0]
    table = re.search(r'<table class="metrics changes">.*?</table>', _section(page), flags=re.DOTALL).group(0)
    rows = _rows(table)
    assert set(rows) == {g.group for g in change.groups}
    for g in change.groups:
        shown = [m for m in g.metrics if m.name not in CALIBRATION_METRICS]
        cells = _cells(rows[g.group])
        assert _text(cells[0]) == [f"{g.n:,}"]
        assert len(cells) == 1 + len(shown)
        for m, cell in zip(shown, cells[1:], strict=True):
            words = _text(cell)
            mark = {"improvement": ["▲"], "regression": ["▼"]}.get(m.flag, [])
            if m.difference is None:
                assert words == ["n/a"] and m.undefined_reason in html.unescape(cell)
            else:
                assert words[: len(mark) + 1] == [*mark, signed(m.difference)], (g.group, m.name)
    small = re.search(rf'<tr class="small"><th scope="row">{SMALL} <span class="small-mark"', table)
    assert small is not None


def test_hostile_baseline_name_and_group_labels_are_escaped(report: Report, page: str) -> None:
    for interactive, text in ((False, page), (True, to_html(report, interactive=True))):
        tags = html_tags(text)
        assert sum(t == "script" for t, _ in tags) == (2 if interactive else 0)
        assert not [t for t, _ in tags if t in ("img", "iframe", "object", "embed")]
        assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
        hrefs = [attrs.get("href") or "" for t, attrs in tags if t == "a"]
        assert not [h for h in hrefs if "javascript" in h.lower()]
    section = _section(page)
    assert html.escape(SCRIPT, quote=False) in section and html.escape(IMG).replace("&quot;", "&#34;") in section
    assert LINK in section  # plain text: the card's HTML does not read markdown in names
    svg = section[section.index('id="chart-comparison-0-0-delta"'):]
    assert "&lt;script&gt;" in svg[:svg.index("</figure>")]  # vl-convert escapes the name in the SVG


def test_delta_chart_says_which_side_is_better(report: Report) -> None:
    labels = metric_labels(report)
    directions = {m.name: m.higher_is_better for m in report.metrics.metrics}
    change = report.comparisons[0].slices[0]
    spec = chart_spec(delta_chart(change, "old", labels, directions, report.task))
    panels = {row["metric"]: row["panel"] for row in spec["datasets"][next(iter(spec["datasets"]))]}
    assert panels["Accuracy"] == "Accuracy|better →"
    assert panels["False positive rate"] == "False positive rate|← better"
    assert "candidate − baseline" in json.dumps(spec["title"], ensure_ascii=False)
    assert spec["spec"]["layer"][2]["encoding"]["x"]["title"] == ["Difference from", "old"]


def test_charts_draw_at_most_the_largest_groups(report: Report) -> None:
    change = report.comparisons[0].slices[0]
    template = change.groups[0]
    many = replace(change, groups=[replace(template, group=f"group {i}", n=50 + i) for i in range(45)])
    labels = metric_labels(report)
    directions = {m.name: m.higher_is_better for m in report.metrics.metrics}
    for build in (comparison_chart, delta_chart):
        spec = chart_spec(build(many, "old", labels, directions, report.task))
        drawn = {r["group"] for r in spec["datasets"][next(iter(spec["datasets"]))]}
        assert drawn == {f"group {i}" for i in range(45 - SLICE_CHART_MAX_GROUPS, 45)}  # the largest
        assert f"the {SLICE_CHART_MAX_GROUPS} largest of 45 groups" in json.dumps(spec["title"])
        assert len(json.dumps(spec)) < 40_000


def test_multiclass_and_regression_cards_compare_too() -> None:
    for task, better in (("multiclass", "Accuracy|better →"), ("regression", "MAE|← better")):
        report = _report(task)
        specs = card_charts(report)
        ids = [f.id for f in specs if "comparison" in f.id]
        assert ids == ["chart-comparison-0-0-bars", "chart-comparison-0-0-delta"], task
        delta = chart_spec(specs[1].chart)
        assert better in {row["panel"] for row in delta["datasets"][next(iter(delta["datasets"]))]}
        text = to_markdown(report)
        assert text.split("\n\n")[2].startswith("### Compared with"), task
        assert_valid_tables(text)


def test_same_report_same_page(report: Report, page: str) -> None:
    assert to_html(report, rendered=render_charts(report, interactive=False)) == page


# ------------------------------------------------------------------------------------------------ print


def test_print_page_lists_each_baseline_and_splits_wide_tables(report: Report, rendered: dict) -> None:
    text = pdf.print_html(report, pdf="full", rendered=rendered)
    assert '<li class="sub"><a href="#comparison-1">Against ' in text
    section = _section(text)
    heads = re.findall(r'<table class="metrics changes">.*?</thead>', section, flags=re.DOTALL)
    assert len(heads) > 1 and all(head.count('<th scope="col">') <= 2 + 5 for head in heads)
    assert re.search(r"by group of g \(candidate − baseline, paired 95% interval\) \(1 of \d\)", section)
    images = re.findall(r'<figure class="chart" id="(chart-comparison-[^"]+)"[^>]*><img src="data:image/svg', section)
    assert images == ["chart-comparison-0-0-bars", "chart-comparison-0-0-delta"]


def test_pdf_has_the_comparison(report: Report, rendered: dict, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf.to_pdf(report, rendered=rendered))  # the sign-off card: its contents on the cover
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    contents = text.split("\f")[0]
    assert re.search(r"Comparison with the baseline ?\.{3,} \d+", contents)
    assert "Overall: each model’s value with its own 95% interval" in text


# ---------------------------------------------------------------------------------------------- summary


def _shown(cell: str) -> str:
    """A cell's text as the reader sees it: markup rendered, tags dropped, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", gfm().renderInline(cell.strip()))
    return " ".join(html.unescape(text).replace("\u2060", "").split())


def _comparison_block(summary: str) -> str:
    return summary.split("\n### ")[1]


def test_summary_leads_with_the_comparison(report: Report, summary: str) -> None:
    blocks = summary.split("\n\n")
    assert blocks[0].startswith("## ") and blocks[1].startswith("Binary classification")
    assert blocks[2].startswith("**[Full report]")  # the header's links
    assert blocks[3] == "### Compared with old &lt;script&gt;alert(1)&lt;/script&gt; \\[x\\](javascript:\u2060alert(1))"
    c = report.comparisons[0]
    counts = f"**{c.improvements} significant improvements ▲ · {c.regressions} significant regressions ▼**"
    assert blocks[4].startswith(counts)
    assert f"on the same {c.rows} rows (3 baseline rows unmatched)" in blocks[4]
    assert f"[Details]({BASE_URL}/report.html#comparison-1)" in blocks[4]
    assert summary.index("### Compared with") < summary.index("### Headline metrics")
    assert_valid_tables(summary)


def test_summary_numbers_are_the_reports(report: Report, summary: str) -> None:
    c = report.comparisons[0]
    labels = metric_labels(report)
    block = _comparison_block(summary)
    lines = [line for line in block.splitlines() if line.startswith("| ")]
    overall = {table_cells(line)[0].strip(): table_cells(line) for line in lines}
    for m in c.overall.metrics:
        if labels[m.name] not in overall:
            continue
        _, candidate, baseline, difference, flag = (_shown(cell) for cell in overall[labels[m.name]])
        assert (candidate, baseline) == (num(m.candidate), num(m.baseline))
        interval = "" if m.ci_low is None else f" {signed(m.ci_low)} to {signed(m.ci_high)}"
        assert difference == signed(m.difference) + interval
        assert flag == {"improvement": "▲ improvement", "regression": "▼ regression"}.get(m.flag, "–")
    regressions = {(s.name, g.group, labels[m.name]): m for s in c.slices for g in s.groups for m in g.metrics
                   if m.flag == "regression"}
    listed = [[_shown(cell) for cell in table_cells(line)] for line in lines if len(table_cells(line)) == 5]
    listed = [row for row in listed if row[0] in {s.name for s in c.slices}]  # not the overall table's rows
    assert 0 < len(listed) == min(len(regressions), MAX_REGRESSIONS)
    for slice_name, group, label, difference, q in listed:
        m = regressions[slice_name, group, label]
        assert difference == f"{signed(m.difference)} {signed(m.ci_low)} to {signed(m.ci_high)}"
        assert q == pvalue(m.q_value)
    sizes = [abs(regressions[tuple(row[:3])].difference) for row in listed]
    assert sizes == sorted(sizes, reverse=True)  # largest first


def test_hostile_text_is_inert_in_the_summary(summary: str) -> None:
    rendered = gfm().render(summary)
    tags = html_tags(rendered)
    assert {t for t, _ in tags} <= OWN_TAGS
    hrefs = [attrs.get("href") or "" for t, attrs in tags if t == "a"]
    assert hrefs and all(h.startswith(BASE_URL) for h in hrefs), hrefs
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered)).replace("\u2060", "")
    assert f"Compared with {cap(BASELINE)}" in shown  # the name reads as written, as text
    assert LINK in shown and IMG in shown


def test_truncation_keeps_the_comparison_before_the_rest(report: Report, summary: str) -> None:
    head, rest = summary.split("\n\n### Headline metrics")
    limit = len(head) + 300
    assert len(rest.split("\n\n###")[0]) > 300  # so the headline metrics do not fit
    text = to_markdown(report, base_url=BASE_URL, limit=limit)
    assert text.startswith(head + "\n\n> [!NOTE]")
    assert "the headline metrics" in text.split("> [!NOTE]")[1]
    assert_valid_tables(text)


def _flagged(report: Report, flag: str | None) -> Report:
    """The report with every tested difference of its comparison flagged `flag` (None: none flagged)."""
    c = report.comparisons[0]

    def group(g: GroupChange) -> GroupChange:
        return replace(g, metrics=[replace(m, flag=flag if m.p_value is not None else None) for m in g.metrics])

    slices = [replace(s, groups=[group(g) for g in s.groups]) for s in c.slices]
    total = sum(m.flag == "regression" and m.mirror_of is None  # a mirror metric is counted with its metric
                for g in [group(c.overall), *[g for s in slices for g in s.groups]] for m in g.metrics)
    comparison = replace(c, overall=group(c.overall), slices=slices, regressions=total)
    return replace(report, comparisons=[comparison])


def test_many_regressions_are_capped(report: Report) -> None:
    worse = _flagged(report, "regression")
    total = worse.comparisons[0].regressions
    assert total > MAX_REGRESSIONS
    text = to_markdown(worse)
    rows = [line for line in _comparison_block(text).split("Significant regressions")[1].splitlines()
            if line.startswith("| ")]
    assert len(rows) == 1 + MAX_REGRESSIONS  # the header, then the largest
    assert f"… and {total - MAX_REGRESSIONS} more in the full report." in text
    assert_valid_tables(text)


def test_no_regression_says_so(report: Report) -> None:
    text = to_markdown(_flagged(report, None))
    assert "**0 significant improvements ▲ · 0 significant regressions ▼**" not in text  # counts are the report's
    assert "No significant regression in any group." in text
