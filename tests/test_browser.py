"""The example report in a real browser (Debian's Chromium via Playwright), with the network blocked.

Every chart must render, the console must stay free of errors, no request may leave the file,
and the page must fit a phone-width screen. CI installs Chromium (.ci/run), so there this test
never skips.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reportgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing in CI: .ci/run should have installed it")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    config = str(ROOT / "examples" / "adult-income" / "config.toml")
    static, interactive = tmp_path_factory.mktemp("static"), tmp_path_factory.mktemp("interactive")
    assert main(["build", config, "--out", str(static), "-q"]) == 0
    assert main(["build", config, "--out", str(interactive), "--interactive", "-q"]) == 0
    return {"static": static / "report.html", "interactive": interactive / "report.html"}


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def _open(browser, path: Path, width: int = 1280):  # noqa: ANN001, ANN202
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []

    def route(r) -> None:  # noqa: ANN001
        if r.request.url == path.as_uri():
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors


@pytest.mark.parametrize("mode", ["static", "interactive"])
def test_charts_render_offline_without_errors(browser, reports: dict[str, Path], mode: str) -> None:  # noqa: ANN001
    page, requests, errors = _open(browser, reports[mode])
    figures = page.locator("figure.chart")
    n = figures.count()
    assert n >= 10
    page.wait_for_function(f"document.querySelectorAll('figure.chart svg').length >= {n}", timeout=20_000)
    for i in range(n):
        box = figures.nth(i).locator("svg").first.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 40
        assert figures.nth(i).locator("svg path, svg rect, svg line").count() > 5
    if mode == "interactive":
        assert page.evaluate("typeof vegaEmbed") == "function"
        page.wait_for_function("document.querySelectorAll('figure.chart.vega-embed').length > 0", timeout=20_000)
    assert requests == []
    assert errors == []
    page.close()


def test_fits_a_phone_screen(browser, reports: dict[str, Path]) -> None:  # noqa: ANN001
    page, requests, errors = _open(browser, reports["static"], width=390)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1  # wide tables and charts scroll inside their own boxes, not the page
    assert requests == [] and errors == []
    page.close()
