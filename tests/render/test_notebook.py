"""The notebook fragment (`Evaluation._repr_html_`): scoped styles, escaped user text, no script, deterministic."""

from __future__ import annotations

import dataclasses
import re

import pytest
import tinycss2

import reportgen
from reportgen.document.schema import Report
from reportgen.formatting import num
from reportgen.render.notebook import ROOT, TOP_FINDINGS, to_fragment
from reportgen.vocabulary import headline_metrics
from tests.helpers import html_tags, synthetic_predictions

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def evaluation() -> reportgen.Evaluation:
    df = synthetic_predictions(n=1200)
    df.loc[df["race"] == "c", "race"] = HOSTILE
    df.loc[df["race"] == HOSTILE, "pred"] = 1 - df["y"]  # the hostile group gets every prediction wrong: a finding
    return reportgen.evaluate(
        df, label="y", score="p", prediction="pred", slices=[{"column": "race"}], sensitive=["sex"], resamples=200,
        title=f"Title {HOSTILE}", gates=[{"metric": "accuracy", "min": 0.99}, {"metric": "roc_auc", "min": 0.5}],
    )


@pytest.fixture(scope="module")
def report(evaluation: reportgen.Evaluation) -> Report:
    return evaluation.to_report()


def _assert_scoped(css: str) -> int:
    """Check that every selector of `css` starts with the root's class (then a space, or more of the same
    element: `.root.x`, `.root:hover`); an at-rule fails too (the fragment needs none, and @import or @font-face
    would load from elsewhere). Returns how many selectors were checked."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    selectors = []
    for rule in rules:
        assert rule.type == "qualified-rule", f"not a style rule: {tinycss2.serialize([rule])!r}"
        selector: list = []
        for token in [*rule.prelude, tinycss2.ast.LiteralToken(0, 0, ",")]:
            if token.type == "literal" and token.value == ",":
                selectors.append(selector)
                selector = []
            elif token.type != "comment" and (selector or token.type != "whitespace"):
                selector.append(token)
    for selector in selectors:
        text = tinycss2.serialize(selector)
        assert len(selector) >= 2, text
        dot, name, *rest = selector
        assert (dot.type, dot.value, name.type, name.value) == ("literal", ".", "ident", ROOT), text
        assert not rest or rest[0].type == "whitespace" or (rest[0].type, rest[0].value) in (
            ("literal", "."), ("literal", ":")), text
    return len(selectors)


def test_every_selector_starts_at_the_fragments_root(report: Report) -> None:
    fragment = to_fragment(report)
    assert html_tags(fragment)[0] == ("div", {"class": ROOT})  # the first element is the root ...
    assert fragment.strip().endswith("</div>")  # ... and it closes last
    (css,) = re.findall(r"<style>(.*?)</style>", fragment, flags=re.DOTALL)
    assert _assert_scoped(css) > 10


@pytest.mark.parametrize("leaking", [
    "p { color: red }", f".{ROOT}, p {{ color: red }}", f".{ROOT}x p {{ color: red }}", f"div .{ROOT} {{ color: red }}",
    f"* .{ROOT} {{ color: red }}", f".{ROOT} {{ }} li {{ color: red }}", "@import url(x.css);",
    f"@media print {{ .{ROOT} p {{ color: red }} }}", f"#{ROOT} {{ color: red }}",
])
def test_the_scope_check_catches_a_leak(leaking: str) -> None:
    with pytest.raises(AssertionError):
        _assert_scoped(leaking)


def test_user_text_is_escaped_and_there_is_no_script(report: Report) -> None:
    assert any(HOSTILE in f.title for f in report.findings)  # the hostile group name is in a finding's title
    fragment = to_fragment(report)
    tags = html_tags(fragment)
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed", "link", "a")]
    assert not [name for _, attrs in tags for name in attrs if name.startswith("on") or name in ("src", "href")]
    assert "javascript:" not in fragment.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert fragment.count("&lt;script&gt;") == 1 + sum(HOSTILE in f.title for f in report.findings[:TOP_FINDINGS])


def test_deterministic(evaluation: reportgen.Evaluation, report: Report) -> None:
    assert evaluation._repr_html_() == to_fragment(report) == to_fragment(report)


def test_headline_metrics_with_intervals(report: Report) -> None:
    fragment = to_fragment(report)
    shown = [m for m in report.overall.metrics if m.name in headline_metrics(report.task, [])]
    assert len(shown) == len(headline_metrics(report.task, []))
    labels = {m.name: m.label for m in report.metrics.metrics}
    for m in shown:
        expected = f'<div class="rg-label">{labels[m.name]}</div><div class="rg-value">{num(m.value)}</div>'
        assert expected in fragment
        if m.ci_low is not None:
            assert f"{num(m.ci_low)}–{num(m.ci_high)}" in fragment
    assert fragment.count('class="rg-tile"') == len(shown)


def test_gates_pass_and_fail(report: Report) -> None:
    assert [g.status for g in report.gates] == ["fail", "pass"]
    fragment = to_fragment(report)
    assert "Quality gates: 1 of 2 did not pass" in fragment
    assert f'<span class="badge alert">failed</span> {report.gates[0].title}' in fragment
    assert f'<span class="badge ok">passed</span> {report.gates[1].title}' in fragment


def test_top_findings_then_a_count(report: Report) -> None:
    many = dataclasses.replace(report, findings=[dataclasses.replace(report.findings[-1], title=f"finding {i}")
                                                 for i in range(TOP_FINDINGS + 3)])
    fragment = to_fragment(many)
    assert [f"finding {i}" in fragment for i in range(TOP_FINDINGS + 3)] == [True] * TOP_FINDINGS + [False] * 3
    assert "… and 3 more" in fragment
    assert "… and" not in to_fragment(dataclasses.replace(many, findings=many.findings[:TOP_FINDINGS]))
    assert "No findings" in to_fragment(dataclasses.replace(report, findings=[]))
    assert 'ev.to_html("report.html")' in fragment
