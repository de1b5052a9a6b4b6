"""The analysis registry: its order, the results it hands on, and a toy analysis added end to end
(registry entry, section writer and chart) that reaches `Evaluation`, report.json and the HTML page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pytest

import reportgen
from reportgen import figures
from reportgen.analysis import registry
from reportgen.analysis.base import Analysis, Context, Evidence, Finding, Outcome, TestFamily
from reportgen.document import build
from reportgen.document.schema import Section, SectionTable
from reportgen.render import formats
from reportgen.render.json import read_json
from reportgen.vocabulary import OVERALL
from tests.helpers import synthetic_predictions

TOY_TITLE = "Toy analysis"
TOY_LABEL = "toy-cell-label"
TOY_FAMILY = TestFamily("toy checks", "Each toy check against chance.", tests=3, discoveries=1)


def toy_run(context: Context) -> Outcome:
    """Overall accuracy and the rows it rests on, from the measured table; one finding about the whole section."""
    table = context.measured.metrics
    row = table[(table["slice"] == OVERALL) & (table["group"] == OVERALL) & (table["metric"] == "accuracy")].iloc[0]
    result = {"accuracy": float(row["value"]), "n": int(row["n"]), "earlier": list(context.results)}
    finding = Finding(
        id="toy_rule", severity="low", title="The toy analysis ran.", detail=f"Accuracy {row['value']:.3f}.",
        section="toy", subject=None,
        evidence=[Evidence(OVERALL, OVERALL, "accuracy", result["accuracy"], None, None, result["n"])],
        suggestions=["Nothing to do."],
    )
    return Outcome(result, [finding], [TOY_FAMILY])


def toy_section(result: dict[str, Any]) -> Section:
    return Section(
        analysis="toy", title=TOY_TITLE, paragraphs=["What the toy analysis measured."],
        tables=[SectionTable(columns=["what", "accuracy", "rows"], rows=[[TOY_LABEL, result["accuracy"], result["n"]]])],
    )


def toy_figures(report: Any) -> list[tuple[str, str, alt.TopLevelMixin]]:
    if not any(section.analysis == "toy" for section in report.sections):
        return []
    data = pd.DataFrame({"bar": ["left", "right"], "height": [1.0, 2.0]})
    return [("chart-toy", "Toy bars", alt.Chart(data).mark_bar().encode(x="bar:N", y="height:Q"))]


@pytest.fixture(scope="module")
def toy() -> Iterator[reportgen.Evaluation]:
    """An evaluation with the toy analysis, its section writer and its chart registered (for this module only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "ANALYSES", (*registry.ANALYSES, Analysis("toy", toy_run)))
        patch.setitem(build.SECTIONS, "toy", toy_section)
        patch.setattr(figures, "FIGURES", [*figures.FIGURES, figures.FigureEntry("toy", toy_figures)])
        yield reportgen.evaluate(synthetic_predictions(200), label="y", score="p", slices=[{"column": "sex"}],
                                 sensitive=["sex"], resamples=100)


def test_the_registry_lists_the_analyses_in_order() -> None:
    assert [a.name for a in registry.ANALYSES] == ["checks", "fairness", "findings", "training", "comparison",
                                                   "error_analysis", "monitoring", "explanations", "attributions", "surrogate", "proxies"]


def test_the_real_analyses_see_the_results_before_them(
    toy: reportgen.Evaluation, monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, list[str]] = {}

    def spy(analysis: Analysis) -> Analysis:
        def run(context: Context) -> Outcome:
            seen[analysis.name] = list(context.results)
            return analysis.run(context)
        return Analysis(analysis.name, run)

    real = [a for a in registry.ANALYSES if a.name != "toy"]
    monkeypatch.setattr(registry, "ANALYSES", tuple(spy(a) for a in real))
    context = Context(config=toy.config, predictions=toy.predictions, measured=toy.measured)
    results, _, _ = registry.run_analyses(context)
    names = [a.name for a in real]
    assert list(results) == names
    assert seen == {name: names[:i] for i, name in enumerate(names)}
    assert results["fairness"].gaps.equals(toy.results["fairness"].gaps)


def test_run_analyses_passes_earlier_results_and_orders_findings(toy: reportgen.Evaluation) -> None:
    def finding(severity: str, section: str) -> Finding:
        return Finding(f"{section}_rule", severity, "t", "d", section, None, [], [])

    def first(context: Context) -> Outcome:
        assert dict(context.results) == {}  # only results of this run, none of the context given
        return Outcome({"value": 1}, [finding("low", "first")])

    def second(context: Context) -> Outcome:
        return Outcome(context.results["first"]["value"] + 1, [finding("high", "second")], [TOY_FAMILY])

    context = Context(config=toy.config, predictions=toy.predictions, measured=toy.measured, results={"stale": 0})
    results, found, families = registry.run_analyses(context, [Analysis("first", first), Analysis("second", second)])
    assert results == {"first": {"value": 1}, "second": 2}
    assert [f.id for f in found] == ["second_rule", "first_rule"]
    assert families == [TOY_FAMILY]


def test_a_new_analysis_declares_its_family_of_tests(toy: reportgen.Evaluation, tmp_path: Path) -> None:
    """The toy family reaches the evaluation, the policy in report.json and the card's table of families, after
    the families of the real analyses (in registry order)."""
    assert toy.test_families[-1] == TOY_FAMILY
    assert [f.name for f in toy.test_families] == ["fairness", "weak slices", "error analysis", "toy checks"]
    policy = read_json(formats.write(toy.to_report(), tmp_path / "report.json", "json")).multiplicity
    assert policy.families == toy.test_families and policy.fdr == 0.05 and policy.method == "Benjamini–Hochberg"
    html = toy.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count('id="multiplicity"') == 1
    assert re.search(r"<th scope=\"row\">toy checks</th><td>Each toy check against chance\.</td>"
                     r"<td class=\"num\">3</td><td class=\"num\">1</td>", html)


def test_toy_result_and_finding_reach_the_evaluation(toy: reportgen.Evaluation) -> None:
    accuracy = toy.metrics.query("slice == @OVERALL and metric == 'accuracy'")["value"].iloc[0]
    assert toy.results["toy"] == {"accuracy": accuracy, "n": 200, "earlier": [a.name for a in registry.ANALYSES][:-1]}
    assert [f.id for f in toy.findings if f.section == "toy"] == ["toy_rule"]


def test_toy_section_reaches_report_json(toy: reportgen.Evaluation, tmp_path: Path) -> None:
    report = toy.to_report()
    assert report.sections == [toy_section(toy.results["toy"])]
    path = formats.write(report, tmp_path / "report.json", "json")
    read = read_json(path)
    assert read.sections == report.sections
    assert [f for f in read.findings if f.section == "toy"] == [f for f in report.findings if f.section == "toy"]


def test_toy_section_reaches_the_html_page(toy: reportgen.Evaluation, tmp_path: Path) -> None:
    html = toy.to_html(tmp_path / "report.html").read_text(encoding="utf-8")
    match = re.search(r'<section id="toy">(.*?)</section>', html, re.DOTALL)
    assert match, 'no <section id="toy"> on the page'
    section = match.group(1)
    assert f"<h2>{TOY_TITLE}</h2>" in section
    result = toy.results["toy"]
    for shown in (TOY_LABEL, f"{result['accuracy']:.3f}", "200"):  # a count is written as a count, not "200.000"
        assert f"<td>{shown}</td>" in section
    assert re.search(r'<figure class="chart" id="chart-toy"[^>]*><svg[^>]*class="marks"', section)
    nav = html.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert f'<a href="#toy">{TOY_TITLE}</a>' in nav
    finding = re.search(r"<strong>The toy analysis ran\.</strong> <a href=\"([^\"]+)\" class=\"see\">details</a>", html)
    assert finding and finding.group(1) == "#toy"
