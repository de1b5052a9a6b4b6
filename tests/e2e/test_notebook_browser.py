"""The notebook fragment inside a page with its own, conflicting CSS, in Chromium: its styles stay inside it,
the page's rules for bare elements do not reach into it, and its hostile text runs nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import reportgen
from tests.helpers import CHROMIUM, open_page, synthetic_predictions

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing in CI: .ci/run should have installed it")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
PAGE_CSS = """
p { text-transform: uppercase; color: rgb(255, 0, 0); margin: 40px; font-size: 22px; }
div { border: 3px dashed rgb(0, 128, 0); padding: 20px; }
li { list-style: square; font-size: 24px; }
span { background-color: rgb(255, 255, 0); }
code { background-color: rgb(0, 0, 0); }
"""
STYLES = ["textTransform", "color", "marginTop", "fontSize", "borderTopStyle", "paddingTop", "backgroundColor",
          "listStyleType"]


def _computed(page, selector: str) -> dict[str, str]:
    return page.eval_on_selector(selector, "(e, names) => Object.fromEntries(names.map(n => "
                                           "[n, getComputedStyle(e)[n]]))", STYLES)


def test_fragment_styles_stay_inside(browser, tmp_path: Path) -> None:
    df = synthetic_predictions()
    df.loc[df["race"] == "c", "race"] = HOSTILE
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "race"}], resamples=100, title=HOSTILE)
    outside = '<p id="before">before</p><div id="box"><span id="s">x</span></div><ul><li id="li">x</li></ul>'
    alone, with_fragment = tmp_path / "alone.html", tmp_path / "with.html"
    for path, fragment in ((alone, ""), (with_fragment, ev._repr_html_())):
        path.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{PAGE_CSS}</style></head><body>"
                        f"{outside}{fragment}<p id='after'>after</p></body></html>", encoding="utf-8")
    page, requests, errors = open_page(browser, alone)
    before = {s: _computed(page, s) for s in ("#before", "#box", "#s", "#li", "#after")}
    page.close()
    page, requests, errors = open_page(browser, with_fragment)
    assert {s: _computed(page, s) for s in before} == before  # the page looks the same with the fragment on it
    assert before["#before"]["textTransform"] == "uppercase"  # ... and its rules did apply there
    for selector in (".reportgen-card p", ".reportgen-card .rg-tiles", ".reportgen-card .rg-value",
                     ".reportgen-card li", ".reportgen-card code"):
        style = _computed(page, selector)
        assert style["textTransform"] == "none", selector
        assert style["color"] != "rgb(255, 0, 0)", selector
        assert style["borderTopStyle"] != "dashed", selector
        assert style["backgroundColor"] not in ("rgb(255, 255, 0)", "rgb(0, 0, 0)"), selector
        assert style["fontSize"] not in ("22px", "24px"), selector
    assert page.eval_on_selector(".reportgen-card li", "e => getComputedStyle(e).listStyleType") == "none"
    assert page.locator(".reportgen-card script, .reportgen-card img").count() == 0
    assert HOSTILE in page.inner_text(".reportgen-card")  # shown as text
    assert not errors and not requests
    page.close()
