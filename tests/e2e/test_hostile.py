"""Issue 12, scope 3 (bounded by design): hostile data builds in bounded time into outputs of a stated size.

Megabyte cells in slice columns, a slice of 1,500 groups of 1 KB labels (also the sensitive column) and
5,000 metadata columns, on few rows so that the suite stays fast; `benchmarks/bench_hostile.py` runs
the issue's cases (100 KB and 10 MB cells, 5,000 columns) through `reportgen build` with time and memory.
"""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen import charts
from reportgen.config import DEFAULT_CANDIDATE_COLUMNS
from reportgen.figures import card_charts
from reportgen.labels import (
    DISPLAY_LABEL_CHARS,
    DISPLAY_SLICE_CHARS,
    MAX_LABEL_CHARS,
    cap_label,
    display_label,
)
from reportgen.render.html import render_charts, to_html
from reportgen.render.json import to_json
from reportgen.render.markdown import GITHUB_COMMENT_LIMIT, to_markdown

BUILD_CPU_SECONDS = 120  # CPU time (the machine may be shared): a few seconds here, minutes before the caps
GROUPS = 1_500
# The outputs grow with the groups only (labels cut): bytes per group of every slice family, labels at the cap
HTML_BYTES_PER_GROUP = 15_000  # measured 10.4 KB: the group's rows in each table, with their tooltips
JSON_BYTES_PER_GROUP = 20_000  # measured 14.3 KB: its metrics, fairness rates and performance_metrics entries


def _hostile_labels(n: int = 3_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    big = rng.choice(["a", "b", "c"], n).astype(object)  # cells set before the frame is made: pandas 3.0 copies
    for i in range(3):                                      # an Arrow string column on every assignment
        big[i * 7] = f"{i}" + "x" * 1_000_000  # three 1 MB cells
    for i in range(10):
        big[100 + i * 13] = "q" * 50_000 + f"{i}" + "q" * 50_000  # 100 KB, differing in the middle
    return pd.DataFrame({"y": y, "p": np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(3), "big": big,
                         "many": [f"{i:04d}" + "m" * 1_000 for i in range(GROUPS)] * (n // GROUPS)})


def _build(frame: pd.DataFrame, **options) -> tuple[reportgen.Evaluation, dict[str, str]]:
    ev = reportgen.evaluate(frame, label="y", score="p", resamples=100, **options)
    report = ev.to_report()
    rendered = render_charts(report, interactive=False)
    return ev, {"html": to_html(report, rendered=rendered), "json": to_json(report), "md": to_markdown(report)}


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class _Text(HTMLParser):
    """The visible text pieces of a page (attributes, e.g. tooltips, left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script", "svg")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "svg")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.pieces.append(data)


@pytest.fixture(scope="module")
def built() -> tuple[reportgen.Evaluation, dict[str, str], float]:
    frame = _hostile_labels()
    start = time.process_time()
    ev, outputs = _build(frame, slices=[{"column": "big"}, {"column": "many", "max_groups": 10_000},
                                                    {"columns": ["big", "many"], "max_groups": 10_000}],
                         sensitive=["many"], max_groups_shown=10_000)  # every group on the page: labels and sizes
    return ev, outputs, time.process_time() - start


def test_issue_12_megabyte_cells_build_in_bounded_time(built):
    _, _, seconds = built
    assert seconds < BUILD_CPU_SECONDS


def test_issue_12_the_document_keeps_labels_up_to_max_label_chars(built):
    ev, outputs, _ = built
    document = json.loads(outputs["json"])
    longest = max(_strings(document), key=len)
    assert len(longest) <= 3 * MAX_LABEL_CHARS + 100  # an error-analysis slice joins up to three labels
    big = next(s for s in document["slices"] if s["name"] == "big")
    lengths = sorted(len(g["group"]) for g in big["groups"])
    assert lengths[-13:] == [MAX_LABEL_CHARS] * 4 + [MAX_LABEL_CHARS + len(" #2")] * 8 + [MAX_LABEL_CHARS + len(" #10")]
    assert len({g["group"] for g in big["groups"]}) == len(big["groups"])  # cut alike, told apart by " #2" …
    many = next(s for s in document["slices"] if s["name"] == "many")
    assert len(many["groups"]) == GROUPS
    groups = sum(family.n_groups for family in ev.families)
    assert len(outputs["json"].encode()) < JSON_BYTES_PER_GROUP * groups


def test_issue_12_pages_show_labels_cut_with_the_document_value_as_tooltip(built):
    ev, outputs, _ = built
    html = outputs["html"]
    parser = _Text()
    parser.feed(html)
    for run in ("x" * (DISPLAY_LABEL_CHARS + 1), "q" * (DISPLAY_SLICE_CHARS + 1), "m" * (DISPLAY_SLICE_CHARS + 1)):
        assert not any(run in piece for piece in parser.pieces)
    value = "0" + "x" * 1_000_000
    assert f'<span class="cut" title="{cap_label(value)}">{display_label(value)}</span>' in html
    assert len(html.encode()) < HTML_BYTES_PER_GROUP * sum(family.n_groups for family in ev.families)
    assert len(outputs["md"]) <= GITHUB_COMMENT_LIMIT


def test_issue_12_every_chart_stays_within_the_spec_budget(built):
    ev, _, _ = built
    specs = card_charts(ev.to_report())
    sizes = {f.id: len(json.dumps(charts.spec(f.chart))) for f in specs}
    assert max(sizes.values()) < charts.CHART_SPEC_BUDGET, sizes
    fairness = charts.spec(next(f.chart for f in specs if f.id.startswith("chart-fairness")))
    drawn = {row["group"] for rows in fairness["datasets"].values() for row in rows}
    assert len(drawn) == charts.SLICE_CHART_MAX_GROUPS
    assert f"the {charts.SLICE_CHART_MAX_GROUPS} largest of {GROUPS - 1:,} groups" in json.dumps(fairness["title"])


def test_issue_12_five_thousand_columns_search_the_first_hundred_in_bounded_time():
    rng = np.random.default_rng(2)
    n = 300
    y = rng.integers(0, 2, n)
    extra = pd.DataFrame(rng.choice(np.array(["u", "v", "w"]), size=(n, 5_000)),
                         columns=[f"c{i:04d}" for i in range(5_000)])
    frame = pd.concat([pd.DataFrame({"y": y, "p": np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)}), extra], axis=1)
    start = time.process_time()
    ev, outputs = _build(frame, min_support=20)
    assert time.process_time() - start < BUILD_CPU_SECONDS
    found = ev.error_analysis
    assert found.columns == [f"c{i:04d}" for i in range(DEFAULT_CANDIDATE_COLUMNS)]
    assert any("5,000 metadata columns: the first 100 candidates" in note for note in found.notes)
    assert "the first 100 candidates" in outputs["html"] and "the first 100 candidates" in outputs["json"]
