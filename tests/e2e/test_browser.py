"""The bundled example reports in a real browser (Debian's Chromium via Playwright), with the network blocked.

One report of each task kind: adult-income (binary, static and interactive), penguins (multiclass) and
wage (regression), and the monitoring example (drift and performance over time). Every chart must render, the console must stay free of errors, no request may leave
the file, every finding must link to something on the page, user text must stay text, and the page must
fit a phone-width screen. CI installs Chromium (.ci/run), so there this test never skips.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

import pytest

import reportgen
from reportgen.cli import main
from reportgen.site import publish
from tests.helpers import CHROMIUM, open_page, synthetic_predictions

ROOT = Path(__file__).resolve().parents[2]

# The same hostile string as tests/render/test_html.py, here put into each example's title and caveats.
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'

# report name -> (example folder, --interactive, task, fewest charts expected)
REPORTS = {
    "adult-income": ("adult-income", False, "binary", 10),
    "adult-income-interactive": ("adult-income", True, "binary", 10),
    "penguins": ("penguins", False, "multiclass", 8),
    "wage": ("wage", False, "regression", 8),
    "monitoring": ("monitoring", False, "binary", 16),
}
STATIC = [name for name, (_, interactive, _, _) in REPORTS.items() if not interactive]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing in CI: .ci/run should have installed it")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

pytest.importorskip("playwright.sync_api")


def _hostile_config(example: str, folder: Path) -> Path:
    """A copy of the example's config with HOSTILE in the title and the caveats, next to its input files."""
    source = ROOT / "examples" / example
    text = (source / "config.toml").read_text(encoding="utf-8")
    text, n_title = re.subn(r'^title = "(.*)"$', lambda m: "title = " + json.dumps(f"{m[1]} {HOSTILE}"),
                            text, count=1, flags=re.MULTILINE)
    text, n_caveats = re.subn(r'^caveats = """\n', lambda m: m[0] + HOSTILE + "\n\n", text, count=1, flags=re.MULTILINE)
    assert n_title == n_caveats == 1, f"{example}: config layout changed, cannot inject the hostile text"
    # a baseline's name is user text too (a gate naming it would need the same name)
    text = re.sub(r'^(\[baseline\]\s*(?:#.*)?\nname = )"(.*)"$', lambda m: m[1] + json.dumps(f"{m[2]} {HOSTILE}"), text,
                  count=1, flags=re.MULTILINE)
    config = tomllib.loads(text)
    # the same relative paths, so the report shows the same source names
    baselines = config.get("baseline", [])
    baselines = [baselines] if isinstance(baselines, dict) else baselines
    for path in (config["data"]["path"], config.get("training", {}).get("history"), *(b["path"] for b in baselines),
                 config.get("monitoring", {}).get("reference"), config.get("model", {}).get("artifact")):
        if path is not None:
            (folder / path).symlink_to(source / path)
    (folder / "config.toml").write_text(text, encoding="utf-8")
    return folder / "config.toml"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each report built once per module with the CLI, from a hostile copy of the bundled config (~16 s)."""
    configs: dict[str, Path] = {}
    argvs: dict[str, list[str]] = {}
    built: dict[str, Path] = {}
    for name, (example, interactive, _, _) in REPORTS.items():
        if example not in configs:
            configs[example] = _hostile_config(example, tmp_path_factory.mktemp(f"{example}-config"))
        out = tmp_path_factory.mktemp(name)
        # the browser opens the HTML page; the PDF of the hostile card is built once (a PDF takes seconds)
        formats = "html,pdf,json" if name == "adult-income" else "html,json"
        # the copy's data files are symlinks into the example: the caller trusts that folder (--root)
        argvs[name] = ["build", str(configs[example]), "--out", str(out), "-q", "--format", formats,
                       "--root", str(ROOT / "examples" / example)]
        argvs[name] += ["--interactive"] if interactive else []
        built[name] = out / "report.html"
    codes = {name: main(argv) for name, argv in argvs.items()}
    assert codes == dict.fromkeys(argvs, 0)
    return built


@pytest.fixture
def opened(browser, reports: dict[str, Path], request: pytest.FixtureRequest):
    """The report named by the test's `name` parameter, open at 1280 px; checks requests and errors after."""
    page, requests, errors = open_page(browser, reports[request.param])
    yield page
    page.close()
    assert requests == []
    assert errors == []


@pytest.mark.parametrize("opened", list(REPORTS), indirect=True)
def test_charts_render_offline_without_errors(opened, request: pytest.FixtureRequest) -> None:
    page = opened
    name = request.node.callspec.params["opened"]
    _, interactive, _, fewest = REPORTS[name]
    figures = page.locator("figure.chart")
    n = figures.count()
    assert n >= fewest
    page.wait_for_function(f"document.querySelectorAll('figure.chart svg').length >= {n}", timeout=20_000)
    for i in range(n):
        box = figures.nth(i).locator("svg").first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40, figures.nth(i).get_attribute("id")
        assert figures.nth(i).locator("svg path, svg rect, svg line").count() > 5, figures.nth(i).get_attribute("id")
    if interactive:
        assert page.evaluate("typeof vegaEmbed") == "function"
        page.wait_for_function("document.querySelectorAll('figure.chart.vega-embed').length > 0", timeout=20_000)


@pytest.mark.parametrize("opened", STATIC, indirect=True)
def test_findings_link_to_the_page(opened) -> None:
    page = opened
    assert page.locator("#findings").count() == 1
    findings = page.locator("#findings ~ ul.findings li.finding")
    assert findings.count() >= 1
    hrefs = [findings.nth(i).locator("a.see").get_attribute("href") for i in range(findings.count())]
    assert all(h and h.startswith("#") and len(h) > 1 for h in hrefs), hrefs
    missing = [h for h in hrefs if not page.evaluate("id => document.getElementById(id) !== null", h[1:])]
    assert missing == []


@pytest.mark.parametrize("opened", STATIC, indirect=True)
def test_task_specific_content(opened, request: pytest.FixtureRequest) -> None:
    page = opened
    name = request.node.callspec.params["opened"]
    example, _, task, _ = REPORTS[name]
    config = tomllib.loads((ROOT / "examples" / example / "config.toml").read_text(encoding="utf-8"))
    expected = {"binary": ["#chart-roc", "#chart-pr", "#chart-scores", "#chart-calibration"],
                "multiclass": ["#chart-confusion", "#chart-calibration"],
                "regression": ["#chart-density", "#chart-residuals", "#chart-residual-histogram"]}[task]
    for selector in expected:
        assert page.locator(f"figure.chart{selector} svg").count() >= 1, selector
    assert page.locator("#chart-confusion").count() == (1 if task == "multiclass" else 0)
    assert page.locator("#chart-residuals").count() == (1 if task == "regression" else 0)
    if task == "multiclass":
        table = page.locator("table.metrics", has=page.locator("caption", has_text="Each class against the rest"))
        assert table.count() == 1
        classes = table.locator("tbody th[scope=row]").all_inner_texts()
        assert sorted(classes) == ["Adelie", "Chinstrap", "Gentoo"]
        assert table.locator("tbody td").count() >= 3 * 3
    if "baseline" in config:  # the comparison: its overall table, and both charts of every slice
        comparison = page.locator("#comparison-1")
        heading = comparison.locator("h3")  # a long name is cut for display, whole in the tooltip (issue 12)
        assert HOSTILE in heading.inner_text() + (heading.locator("span.cut").get_attribute("title") or "")
        assert comparison.locator("table.changes").first.locator("tbody tr").count() >= 10
        for j in range(len(config["slices"])):
            for kind in ("bars", "delta"):
                assert page.locator(f"figure.chart#chart-comparison-0-{j}-{kind} svg").count() == 1, (j, kind)
    if "monitoring" in config:  # the drift table with every tested column, each monitoring chart, the windows
        section = page.locator("section#monitoring")
        assert section.count() == 1
        assert section.locator("table.drift tbody tr").count() >= 10
        for chart in ("performance", "drift", "windows", "distribution-0"):
            assert section.locator(f"figure.chart#chart-monitoring-{chart} svg").count() == 1, chart
        windows = section.locator("table.over-time tbody th[scope=row]").all_inner_texts()
        assert windows[0] == "reference" and windows[1:] == [f"2013-{m:02d}" for m in range(8, 13)] + [
            f"2014-{m:02d}" for m in range(1, 4)]
        assert page.locator("nav a[href='#monitoring']").count() == 1
    if "artifact" in config.get("model", {}):  # what drives the predictions: the tables, every chart drawn, the nav
        section = page.locator("section#explanations")
        features = config["model"]["features"]
        assert section.locator("table").first.locator("tbody tr").count() == len(features)
        assert section.locator("figure.chart#chart-explanations-importance svg").count() == 1
        for k in range(config.get("explanations", {}).get("dependence_features", 3)):
            assert section.locator(f"figure.chart#chart-explanations-dependence-{k} svg").count() == 1, k
        assert page.locator("section#proxies table tbody tr").count() == len(features) * 2 - 2  # but sex×sex, race×race
        assert page.locator("nav a[href='#explanations']").count() == 1
    slices = page.locator("#slices article.slice")
    assert slices.count() == len(config["slices"])
    for i in range(slices.count()):
        assert slices.nth(i).locator("h4").inner_text().strip()
        assert slices.nth(i).locator("table.metrics tbody tr").count() >= 1


@pytest.mark.parametrize("opened", list(REPORTS), indirect=True)
def test_user_text_stays_text(opened, request: pytest.FixtureRequest) -> None:
    page = opened
    interactive = REPORTS[request.node.callspec.params["opened"]][1]
    assert HOSTILE in page.title()
    assert HOSTILE in page.locator("h1").first.inner_text()
    assert HOSTILE in page.locator("#caveats").inner_text()
    assert page.locator("img, iframe, object, embed").count() == 0
    assert page.locator("script").count() == (2 if interactive else 0)  # the runtime and the embed calls
    handlers = page.evaluate("[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                             ".map(a => a.name).filter(n => n.startsWith('on'))")
    assert handlers == []


@pytest.mark.parametrize("name", STATIC)
def test_fits_a_phone_screen(browser, reports: dict[str, Path], name: str) -> None:
    page, requests, errors = open_page(browser, reports[name], width=390)
    overflow = page.evaluate("[document.documentElement.scrollWidth - document.documentElement.clientWidth,"
                             " document.body.scrollWidth - document.body.clientWidth]")
    assert max(overflow) <= 1  # wide tables and charts scroll inside their own boxes, not the page
    assert requests == [] and errors == []
    page.close()


def test_site_index_and_a_linked_report_open_offline(browser, tmp_path: Path) -> None:
    """The site's index, then a report reached by clicking its relative link: nothing leaves the site folder."""
    model = f"credit {HOSTILE}"
    folders = []
    for version, date in (("1.0", "2024-01-15"), ("2.0", "2024-06-01")):
        evaluation = reportgen.evaluate(synthetic_predictions(n=300), label="y", score="p", resamples=100,
                                        model={"name": model, "version": version, "date": date},
                                        gates=[{"metric": "roc_auc", "min": 0.5}], title=f"Card {version}")
        folder = tmp_path / f"out-{version}"
        evaluation.to_html(folder / "report.html")
        evaluation.to_json(folder / "report.json")
        folders.append(folder)
    site = tmp_path / "public" / "models"  # a subfolder, as on GitHub Pages
    publish(site, folders, title="Our models")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    inside = site.resolve().as_uri() + "/"
    requests: list[str] = []
    errors: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(inside):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda d: (errors.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto((site / "index.html").resolve().as_uri(), wait_until="load")
    assert page.title() == "Our models"
    assert page.locator("h2").all_inner_texts() == [model]  # user text stays text
    assert page.locator("script, img, iframe, object, embed").count() == 0
    versions = page.locator("a.version")
    assert versions.all_inner_texts() == ["2.0", "1.0"]  # newest first
    href = versions.first.get_attribute("href")
    assert href == "reports/credit-script-alert-1-script-img-src-x-onerror-alert-2/2.0/report.html"

    with page.expect_navigation(wait_until="load"):
        versions.first.click()
    assert page.url == (site / href).resolve().as_uri()
    assert page.title().startswith("Card 2.0")
    assert page.locator("h1").inner_text() == "Card 2.0"
    assert page.locator("figure.chart svg").count() >= 3

    page.go_back(wait_until="load")
    assert page.title() == "Our models"
    json_link = page.locator("td a, th a", has_text="JSON").last
    with page.expect_navigation(wait_until="load"):
        json_link.click()
    assert page.url.endswith("/1.0/report.json") and '"schema_version"' in page.content()
    page.close()
    assert requests == []
    assert errors == []
