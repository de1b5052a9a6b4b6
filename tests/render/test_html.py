"""HTML rendering: self-contained, deterministic, escaped, and every section present."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import reportgen
from reportgen.analysis.over_time import ChangePoint, MetricSeries, WindowValue
from reportgen.charts import FONT, performance_over_time_chart, spec
from reportgen.figures import card_charts
from reportgen.render import vega
from reportgen.render.html import render_charts, to_html
from tests.helpers import html_tags, synthetic_predictions

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def evaluation() -> reportgen.Evaluation:
    df = synthetic_predictions()
    df.loc[df["race"] == "c", "race"] = HOSTILE  # a group label is user data too
    return reportgen.evaluate(
        df, label="y", score="p", prediction="pred",
        slices=[{"column": "sex"}, {"column": "race"}, {"columns": ["sex", "race"]},
                {"column": "age", "bins": [18, 40, 60, 80]}, {"name": "rich", "where": "income > 80000"}],
        sensitive=["sex"], resamples=200, title=f"Title {HOSTILE}",
        model={"name": "m", "version": "1", "description": f"*desc* {HOSTILE} [x](javascript:alert(3))"},
        card={"intended_use": "![tracker](http://example.com/t.png) [ok](https://example.com) <b>raw</b>",
              "caveats": "[local](file:///etc/passwd) [data](data:text/html,hi)"},
    )


@pytest.mark.parametrize("interactive", [False, True])
def test_user_text_cannot_inject_markup(evaluation: reportgen.Evaluation, interactive: bool) -> None:
    html = to_html(evaluation.to_report(), interactive=interactive)
    tags = html_tags(html)
    assert not [t for t, _ in tags if t in ("img", "iframe", "object", "embed", "b")]
    assert sum(t == "script" for t, _ in tags) == (2 if interactive else 0)  # the runtime and the embed calls
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    hrefs = [attrs.get("href") or "" for t, attrs in tags if t == "a"]
    assert "https://example.com" in hrefs
    assert all(h.startswith(("#", "https://", "http://", "mailto:")) for h in hrefs), hrefs
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<em>desc</em>" in html  # markdown still renders


def test_no_network_resources(evaluation: reportgen.Evaluation) -> None:
    for interactive in (False, True):
        html = to_html(evaluation.to_report(), interactive=interactive)
        for tag, attrs in html_tags(html):
            assert not attrs.get("src"), (tag, attrs)
            if tag == "link":
                raise AssertionError(f"external stylesheet or font: {attrs}")
        assert "@import" not in html and "url(http" not in html


def test_interactive_embeds_one_runtime_and_one_call_per_chart(evaluation: reportgen.Evaluation) -> None:
    report = evaluation.to_report()
    html = to_html(report, interactive=True)
    n_charts = len(card_charts(report))
    assert html.count("<script>") == 2
    assert html.count("vegaEmbed(\"#chart-") == n_charts
    assert "actions: false" in html


def _policy(html: str) -> dict[str, list[str]]:
    """The page's Content-Security-Policy (which must come first in <head>, before any user text), by directive."""
    tags = html_tags(html)
    assert [t for t, _ in tags[:4]] == ["html", "head", "meta", "meta"] and "charset" in tags[2][1], tags[:4]
    assert tags[3][1]["http-equiv"] == "Content-Security-Policy"  # right after <meta charset>
    assert sum(a.get("http-equiv", "").lower() == "content-security-policy" for _, a in tags) == 1
    return {d.split()[0]: d.split()[1:] for d in tags[3][1]["content"].split("; ")}


def test_issue_12_default_page_forbids_scripts(evaluation: reportgen.Evaluation) -> None:
    policy = _policy(to_html(evaluation.to_report()))
    assert policy == {"default-src": ["'none'"], "script-src": ["'none'"], "style-src": ["'unsafe-inline'"],
                      "font-src": ["data:"], "base-uri": ["'none'"], "form-action": ["'none'"]}


def test_issue_12_interactive_page_allows_exactly_its_own_scripts(evaluation: reportgen.Evaluation) -> None:
    report = evaluation.to_report()
    rendered = render_charts(report, interactive=True)
    html = to_html(report, interactive=True, rendered=rendered)
    policy = _policy(html)
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    assert len(scripts) == 2
    digests = [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts]
    assert policy["script-src"] == [f"'sha256-{d}'" for d in digests]  # no 'unsafe-inline', no 'unsafe-eval'
    assert {k: v for k, v in policy.items() if k != "script-src"} == {
        "default-src": ["'none'"], "style-src": ["'unsafe-inline'"], "font-src": ["data:"], "base-uri": ["'none'"],
        "form-action": ["'none'"]}
    assert scripts[1].count("ast: true") == len(card_charts(report))  # Vega interprets expressions: no eval
    assert to_html(report, interactive=True, rendered=rendered) == html  # the hashes are deterministic


def test_sections_follow_model_card_order(evaluation: reportgen.Evaluation) -> None:
    html = to_html(evaluation.to_report())
    ids = ["glance", "model-details", "intended-use", "factors", "metrics", "evaluation-data", "training-data",
           "quantitative-analyses", "slices", "fairness", "ethical-considerations", "caveats"]
    positions = [html.index(f'<section id="{i}">') for i in ids]
    assert positions == sorted(positions)
    assert "the card&#39;s author did not record ethical considerations" in html.lower()


@pytest.mark.parametrize("example", ["adult-income", "penguins", "wage"])
def test_every_chart_is_valid_vega_lite(example: str) -> None:
    """`charts.spec` skips Altair's schema validation for speed: every chart of the examples, themed, is checked
    here against the Vega-Lite schema the installed Altair ships (v5 with Altair 5, v6 with Altair 6)."""
    import altair

    from reportgen.evaluation import evaluate_config

    report = evaluate_config(Path(reportgen.__file__).parents[1] / "examples" / example / "config.toml").to_report()
    for figure in card_charts(report):
        altair.Root.validate(spec(figure.chart))


def test_chart_data_stays_small(evaluation: reportgen.Evaluation) -> None:
    for chart in (figure.chart for figure in card_charts(evaluation.to_report())):
        size = len(json.dumps(spec(chart)))
        assert size < 40_000, size


def test_chart_data_does_not_grow_with_rows() -> None:
    sizes = []
    for n in (500, 50_000):
        ev = reportgen.evaluate(synthetic_predictions(n), label="y", score="p", slices=[{"column": "sex"}],
                                resamples=100)
        sizes.append(sum(len(json.dumps(spec(f.chart))) for f in card_charts(ev.to_report())))
    assert sizes[1] < sizes[0] * 1.2


def test_charts_draw_with_the_font_the_page_embeds(evaluation: reportgen.Evaluation) -> None:
    html = to_html(evaluation.to_report())
    fonts = Path(reportgen.__file__).parents[1] / "templates" / "fonts"
    faces = re.findall(r'@font-face \{ font-family: "([^"]+)"; font-style: normal; font-weight: (\w+); '
                       r'src: url\(data:font/ttf;base64,([A-Za-z0-9+/=]+)\) format\("truetype"\); \}', html)
    assert [(family, weight) for family, weight, _ in faces] == [("Reportgen Sans", "normal"), ("Reportgen Sans", "bold")]
    assert [base64.b64decode(data) for _, _, data in faces] == [
        (fonts / "reportgen-sans-regular.ttf").read_bytes(), (fonts / "reportgen-sans-bold.ttf").read_bytes()]
    assert FONT.split(", ")[0] == "Reportgen Sans"
    for chart in (figure.chart for figure in card_charts(evaluation.to_report())):
        assert spec(chart)["config"]["font"] == FONT
    texts = re.findall(r'<text [^>]*font-family="([^"]+)"', html)
    assert texts and set(texts) == {FONT}


@pytest.mark.parametrize(("weight", "file"), [("normal", "regular"), ("bold", "bold")])
def test_charts_are_laid_out_with_the_embedded_fonts_widths(weight: str, file: str) -> None:
    """The chart workers measure text with vl-convert's own Liberation Sans (the name after "Reportgen Sans"):
    the widths they lay out with are the embedded font's advance widths (at 100 px, to the pixel the chart's
    size is rounded up to), not DejaVu Sans's (the page's text font, 4–25% wider on these strings)."""
    from fontTools.ttLib import TTFont

    font = TTFont(Path(reportgen.__file__).parents[1] / "templates" / "fonts" / f"reportgen-sans-{file}.ttf")
    cmap, advances, units = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    texts = ["Asian-Pac-Islander", "Recall (TPR)", "0123456789", "−0.25 → better"]  # no kerning pairs
    specs = [{"mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 100, "fontWeight": weight},
              "config": {"font": family}, "padding": 0, "data": {"values": [{"t": text}]},
              "encoding": {"text": {"field": "t"}, "x": {"value": 0}}}
             for family in (FONT, "DejaVu Sans") for text in texts]
    widths = [float(re.search(r'<svg [^>]*width="([\d.]+)"', svg).group(1)) for svg in vega.to_svgs(specs)]
    for text, ours, dejavu in zip(texts, widths[:len(texts)], widths[len(texts):], strict=True):
        expected = sum(advances[cmap[ord(c)]][0] for c in text) * 100 / units
        assert expected <= ours < expected + 1, (text, ours, expected)
        assert dejavu > expected * 1.03, (text, dejavu, expected)


def test_same_inputs_same_bytes(evaluation: reportgen.Evaluation, tmp_path: Path) -> None:
    first = evaluation.to_html(tmp_path / "a.html").read_bytes()
    second = evaluation.to_html(tmp_path / "b.html").read_bytes()
    assert first == second
    assert evaluation.to_json(tmp_path / "a.json").read_bytes() == evaluation.to_json(tmp_path / "b.json").read_bytes()


def test_undefined_values_show_their_reason() -> None:
    df = synthetic_predictions(200)
    df.loc[df["race"] == "c", "y"] = 0  # single-class group: AUC undefined
    html = to_html(reportgen.evaluate(df, label="y", score="p", slices=[{"column": "race"}], resamples=100).to_report())
    assert "only one class in this group" in html
    assert 'class="undefined"' in html


def test_issue_14_a_value_on_too_few_positives_is_greyed_in_its_cell_only() -> None:
    """Group "few" has 200 rows and 6 positives: its recall cell is greyed and says "6 positives"; its row is not."""
    n = 1000
    df = synthetic_predictions(n)
    few = np.arange(n) < 200
    df["band"] = ["few" if f else "many" for f in few]
    df.loc[few, "y"] = [1] * 6 + [0] * 194
    report = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "band"}], resamples=100).to_report()
    (band,) = report.slices
    group = next(g for g in band.groups if g.group == "few")
    recall = next(m for m in group.metrics if m.name == "recall")
    accuracy = next(m for m in group.metrics if m.name == "accuracy")
    assert (group.small, recall.support, recall.small, accuracy.support, accuracy.small) == (False, 6, True, 200, False)
    html = to_html(report)
    # the group's row of the table of all metrics (the widest of its rows)
    row = max((r for r in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S) if ">few</th>" in r), key=len)
    assert row.startswith("<tr><th")  # the row itself is not greyed
    classes = re.findall(r'<td class="num([^"]*)"', row)
    assert sum("small" in c for c in classes) == sum(m.small for m in group.metrics if m.name != "count") > 0
    assert 'title="6 positives, fewer than 30: too uncertain to read alone, not tested"' in row
    assert "† after a value: fewer than 30 " in html and "positives" in html


def test_compiled_templates_are_reused_and_kept_apart_by_escaping(evaluation: reportgen.Evaluation) -> None:
    from reportgen.render import templates
    from reportgen.render.markdown import to_markdown

    report = evaluation.to_report()
    first = templates.environment().bytecode_cache
    assert templates.environment().bytecode_cache is first  # a new page's environment reuses the compiled code
    assert templates.environment(autoescape=False).bytecode_cache is not first
    to_markdown(report)  # compiled without autoescaping
    assert to_html(report) == to_html(report)
    assert "&lt;script&gt;" in to_html(replace(report, title="<script>alert(1)</script>"))


def test_outputs_without_charts_render_while_the_charts_do(evaluation: reportgen.Evaluation,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.render import formats, html

    steps = []
    start_charts = html.start_charts

    def start(report: object, **options: object) -> object:
        collect = start_charts(report, **options)
        steps.append("charts sent")
        return lambda: steps.append("charts collected") or collect()

    monkeypatch.setattr(html, "start_charts", start)
    files = formats.render(evaluation.to_report(), ["html", "json", "md"], progress=steps.append)
    assert list(files) == ["report.html", "report.json", "summary.md"]  # in the order asked
    assert steps == ["rendering the charts", "charts sent", "rendering report.json", "rendering summary.md",
                     "charts collected", "rendering report.html"]


def test_the_performance_chart_keys_only_what_it_draws() -> None:
    def title(series: list[MetricSeries], changes: list[ChangePoint]) -> str:
        return performance_over_time_chart(series, ["w1", "w2"], {"accuracy": "Accuracy"}, changes).to_dict()["title"]

    values = [WindowValue("w1", 50, 0.8, 0.7, 0.9), WindowValue("w2", 50, 0.6, 0.5, 0.7)]
    bare = MetricSeries("accuracy", "overall", "overall", values, None, None, None)
    assert title([bare], []) == "By time window, with intervals"
    estimated = replace(bare, values=[replace(v, estimate=0.75) for v in values], reference=0.8, reference_low=0.75,
                        reference_high=0.85)
    change = ChangePoint("page_hinkley", "accuracy", "w2", "w2", 0.8, 0.6, worse=True)
    assert title([estimated], [change]) == ("By time window, with intervals (grey band: the reference's interval; "
                                            "dotted: estimated from the probabilities alone; dashed red: a change "
                                            "for the worse begins)")
