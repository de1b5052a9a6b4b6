"""PDF rendering: the card's text and numbers on paper, page numbers, vector charts, nothing fetched, same bytes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

import reportgen
from reportgen.document.schema import Report
from reportgen.errors import ConfigError
from reportgen.evaluation import evaluate_config
from reportgen.render import formats, html, pdf, templates, vega
from reportgen.render.html import environment, to_html
from tests.helpers import synthetic_predictions

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ["At a glance", "Findings", "Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
            "Training data", "Quantitative analyses", "Overall performance", "Calibration", "Performance by slice",
            "Fairness", "Ethical considerations", "Caveats and recommendations"]
HOSTILE_CARD = {
    "intended_use": "See [the passwd link](file:///etc/passwd) and ![passwd image](file:///etc/passwd).",
    "out_of_scope": "A [remote link](http://example.com/x.png) and ![remote image](http://example.com/x.png).",
    "caveats": 'Raw markup: <img src="file:///etc/passwd"> <img src="http://example.com/x.png">'
               ' <link rel="stylesheet" href="https://example.com/x.css">',
}

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext") or not shutil.which("pdftoppm"),
                                reason="needs poppler-utils (pdftotext, pdftoppm, pdfinfo)")


def _example(name: str) -> Report:
    return evaluate_config(ROOT / "examples" / name / "config.toml").to_report()


def _small(**card: str) -> Report:
    ev = reportgen.evaluate(synthetic_predictions(300), label="y", score="p", slices=[{"column": "sex"}],
                            resamples=100, title="Small card", model={"name": "small-model", "version": "0.1"},
                            card=card or None)
    return ev.to_report()


def _headline(report: Report) -> dict[str, str]:
    """The headline numbers as the card formats them: metric name → text."""
    env = environment(report)
    return {m.name: env.filters["num"](m.value, 3) for m in report.overall.metrics
            if m.name in env.globals["headline_metrics"] and m.value is not None}


def _poppler(tool: str, path: Path, *args: str) -> str:
    return subprocess.run([tool, *args, str(path), "-"], check=True, capture_output=True, text=True).stdout


def _pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return {key: value.strip() for key, _, value in (line.partition(":") for line in out.splitlines())}


def _first_page_png(path: Path, folder: Path) -> Image.Image:
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(folder / "page")],
                   check=True)
    (png,) = folder.glob("page*.png")
    return Image.open(png)


@pytest.fixture(scope="module")
def adult() -> Report:
    return _example("adult-income")


@pytest.fixture(scope="module")
def adult_html(adult: Report) -> str:
    return pdf.print_html(adult, pdf="full")


@pytest.fixture(scope="module")
def adult_pdf(adult_html: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(pdf.html_to_pdf(adult_html))  # what to_pdf(adult, pdf="full") does
    return path


@pytest.fixture(scope="module")
def adult_sign_off(adult: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sign-off") / "report.pdf"
    path.write_bytes(pdf.to_pdf(adult))  # the default
    return path


@pytest.fixture(scope="module")
def small_letter(tmp_path_factory: pytest.TempPathFactory) -> tuple[Report, Path]:
    report = _small()
    return report, formats.write(report, tmp_path_factory.mktemp("letter") / "report.pdf", "pdf", page_size="Letter")


@pytest.fixture(scope="module")
def adult_pages(adult_pdf: Path) -> list[str]:
    return _poppler("pdftotext", adult_pdf, "-layout").split("\f")[:-1]


def test_headline_numbers_and_sections_are_in_the_text(adult: Report, adult_pages: list[str]) -> None:
    text = "\n".join(adult_pages)
    headline = _headline(adult)
    assert len(headline) >= 6
    for name, value in headline.items():
        assert value in adult_pages[2], name  # the tiles, on the page after the contents
    for title in SECTIONS:
        assert title in text, title
    for result in adult.slices:
        assert f"All metrics by group of {result.name}" in text
    for result in adult.fairness:
        assert f"Rates by group, and the difference from {result.reference}" in text
    for comparison in adult.comparisons:
        assert f"Difference from {comparison.baseline} by group of {adult.slices[0].name}" in text
    assert "Examples of errors where" in text and "Scope for improvement" in text and "The sign-off card" not in text


def _words(path: Path) -> str:
    """A PDF's text with every run of white space as one space (lines wrap anywhere)."""
    return " ".join(_poppler("pdftotext", path).split())


def test_sign_off_pdf_of_the_example_fits_fifteen_pages(adult_sign_off: Path, adult_pdf: Path) -> None:
    pages = int(_pdfinfo(adult_sign_off)["Pages"])
    assert pages <= 15  # 12 before the card explained the model (its section, its findings and their tests)
    assert int(_pdfinfo(adult_pdf)["Pages"]) > 2 * pages  # the full card prints the detail


def test_sign_off_pdf_holds_each_required_section(adult: Report, adult_sign_off: Path) -> None:
    text = _words(adult_sign_off)
    for title in ["At a glance", "Quality gates", "Findings", "Comparison with the baseline", "Model details",
                  "Intended use", "Out-of-scope uses", "Factors", "Metrics", "Evaluation data", "Training data",
                  "Overall performance", "Calibration", "Performance by slice", "Fairness", "Where the model fails",
                  "Ethical considerations", "Caveats and recommendations", "Reproducibility"]:
        assert title in text, title
    for value in _headline(adult).values():
        assert value in text
    for gate in adult.gates:
        assert " ".join(gate.title.split()) in text
    for finding in adult.findings:
        assert " ".join(finding.title.split()) in text
    for comparison in adult.comparisons:
        assert f"{comparison.improvements} significant improvements" in text
    for result in adult.slices:
        assert f"Key metrics by group of {result.name}" in text
    assert text.count("Summary gaps (Fairlearn definitions)") == len(adult.fairness)
    for narrative in (adult.narrative.intended_use, adult.narrative.ethical_considerations, adult.narrative.caveats):
        words = re.sub(r"[*_`]", "", narrative).split()
        assert "".join(words[1:8]) in text.replace(" ", ""), words[:8]  # the markdown's first words (pdftotext
        # spaces code spans apart)
    assert adult.run.data_fingerprint in text


def test_sign_off_pdf_says_where_the_detail_is(adult: Report, adult_sign_off: Path) -> None:
    cover = " ".join(_poppler("pdftotext", adult_sign_off, "-f", "1", "-l", "1").split())
    assert "The sign-off card" in cover and "report.html" in cover and "report.json" in cover
    assert '[report] pdf = "full"' in cover and "Contents" in cover
    text = _words(adult_sign_off)
    assert "All metrics by group of" not in text and "Rates by group" not in text
    assert "Examples of errors where" not in text and "What to try" not in text


def test_sign_off_pdf_is_the_same_bytes_again(adult: Report, adult_sign_off: Path) -> None:
    vega.clear_cache()
    assert pdf.to_pdf(adult) == adult_sign_off.read_bytes()


def test_a_pdf_built_without_the_html_page_renders_only_its_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    start_charts = html.start_charts
    monkeypatch.setattr(html, "start_charts",
                        lambda report, **kw: asked.append(kw["sections"]) or start_charts(report, **kw))
    report = _small()
    formats.render(report, ["pdf"])
    formats.render(report, ["pdf"], formats.Options(pdf="full"))
    formats.render(report, ["html", "pdf"])
    assert asked == [("overall", "calibration", "monitoring"), None, None]


def test_sign_off_pdf_draws_only_the_overall_charts(adult: Report) -> None:
    html = pdf.print_html(adult)
    drawn = re.findall(r'<figure class="chart" id="([^"]+)"', html)
    assert drawn and all(not name.startswith(("chart-slice", "chart-fairness", "chart-comparison"))
                         for name in drawn), drawn
    assert "chart-roc" in drawn and "chart-calibration" in drawn


def test_cover_has_title_model_version_and_no_page_number(adult: Report, adult_pages: list[str]) -> None:
    cover = " ".join(adult_pages[0].split())
    assert " ".join(adult.title.split()[:3]) in cover
    assert f"{adult.model.name} · version {adult.model.version}" in cover
    assert "page 1" not in cover
    assert f"page 3 of {len(adult_pages)}" in adult_pages[2]
    assert f"page {len(adult_pages)} of {len(adult_pages)}" in adult_pages[-1]


def test_contents_give_the_page_of_each_section(adult_pages: list[str]) -> None:
    contents = adult_pages[1]
    assert "Contents" in contents
    entries = re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", contents, flags=re.MULTILINE)
    titles = [title for title, _ in entries]
    for title in SECTIONS:
        assert title in titles, (title, titles)
    for title, page in entries:
        assert 3 <= int(page) <= len(adult_pages)
        assert title in adult_pages[int(page) - 1], (title, page)


def _widest_metric_table(html: str) -> int:
    heads = re.findall(r'<table class="metrics">.*?</thead>', html, flags=re.DOTALL)
    return max(head.count('<th scope="col">') for head in heads)


def test_wide_metric_tables_are_split_for_paper_only(adult: Report, adult_html: str) -> None:
    assert _widest_metric_table(adult_html) <= 1 + pdf.COLUMNS_PER_TABLE
    assert "All metrics by group of sex (3 of 3)" in adult_html  # binary: about 20 metrics, three tables
    screen = to_html(adult)
    assert _widest_metric_table(screen) > 1 + 2 * pdf.COLUMNS_PER_TABLE
    assert "(1 of 3)" not in screen and "Contents" not in screen and "@page" not in screen


def test_print_page_has_no_script_no_url_and_open_details(adult_html: str) -> None:
    assert "<script" not in adult_html.lower()
    assert "<details" in adult_html and not re.search(r"<details(?![^>]* open)", adult_html)
    sources = re.findall(r'\b(?:src|href)="([^"#][^"]*)"', adult_html)
    assert sources and all(s.startswith("data:image/svg+xml,") for s in sources), sources[:3]
    assert "@page { size: A4; }" in adult_html


def test_first_page_is_an_a4_image(adult_pdf: Path, tmp_path: Path) -> None:
    with _first_page_png(adult_pdf, tmp_path) as image:
        width, height = image.size
        histogram = image.convert("L").histogram()
    assert abs(width / height - 210 / 297) < 0.01
    assert sum(histogram[:128]) > 500  # the title's ink: not a blank page
    assert _pdfinfo(adult_pdf)["Page size"] == "595.276 x 841.89 pts (A4)"


def test_letter_pages(small_letter: tuple[Report, Path], tmp_path: Path) -> None:
    _, path = small_letter
    assert _pdfinfo(path)["Page size"] == "612 x 792 pts (letter)"
    with _first_page_png(path, tmp_path) as image:
        width, height = image.size
        histogram = image.convert("L").histogram()
    assert abs(width / height - 8.5 / 11) < 0.01
    assert sum(histogram[:128]) > 200


def test_metadata_title_author_and_no_dates(adult: Report, adult_pdf: Path) -> None:
    info = _pdfinfo(adult_pdf)
    assert info["Title"] == f"{adult.title} — {adult.model.name} {adult.model.version}"
    assert info["Author"] == ", ".join(adult.model.owners)
    assert info["Creator"] == adult.generator
    assert "CreationDate" not in info and "ModDate" not in info
    assert b"/CreationDate" not in adult_pdf.read_bytes()


def test_text_is_dejavu_sans_and_charts_reportgen_sans(adult_pdf: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(adult_pdf)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]]
    assert "DejaVu-Sans" in names and "Reportgen-Sans" in names  # the charts' font, embedded from the page
    assert all(name.startswith(("DejaVu-Sans", "Reportgen-Sans")) for name in names), names  # no fallback font


def test_same_report_same_bytes(small_letter: tuple[Report, Path]) -> None:
    report, path = small_letter
    assert pdf.to_pdf(report, page_size="Letter") == path.read_bytes()


@pytest.mark.parametrize("name", ["penguins", "wage"])
def test_multiclass_and_regression_examples(name: str, tmp_path: Path) -> None:
    report = _example(name)
    path = formats.write(report, tmp_path / "report.pdf", "pdf")
    text = _poppler("pdftotext", path, "-layout")
    assert path.read_bytes().startswith(b"%PDF-")
    assert report.model.name in text and "Caveats and recommendations" in text
    for metric, value in _headline(report).items():
        assert value in text, metric


def test_unknown_pdf_kind_is_refused() -> None:
    with pytest.raises(ConfigError, match=r'pdf: "signoff" is not a kind of PDF; use "sign-off" or "full"; '
                                          r'did you mean "sign-off"\?'):
        pdf.print_html(_small(), pdf="signoff")


def test_evaluation_to_pdf_takes_the_kind(tmp_path: Path) -> None:
    ev = reportgen.evaluate(synthetic_predictions(300), label="y", score="p", slices=[{"column": "sex"}],
                            resamples=100)
    sign_off = _poppler("pdftotext", ev.to_pdf(tmp_path / "sign-off.pdf"))
    full = _poppler("pdftotext", ev.to_pdf(tmp_path / "full.pdf", pdf="full"))
    assert "Key metrics by group of sex" in sign_off and "All metrics by group of sex" not in sign_off
    assert "All metrics by group of sex" in full and "The sign-off card" not in full


def test_unknown_page_size_is_refused() -> None:
    with pytest.raises(ConfigError, match=r'page_size: "letter" is not a page size; use "A4" or "Letter"; '
                                          r'did you mean "Letter"\?'):
        pdf.print_html(_small(), page_size="letter")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///etc/passwd", "http://example.com/x.png",
                                 "https://example.com/x.css", "ftp://example.com/x", "/etc/passwd", "x.png"])
def test_fetcher_refuses_files_and_network(url: str) -> None:
    with pytest.raises(pdf.RefusedURL):
        pdf.InlineOnlyFetcher().fetch(url)


def test_fetcher_decodes_data_uris() -> None:
    fetcher = pdf.InlineOnlyFetcher()
    assert fetcher.fetch("data:image/svg+xml,%3Csvg%2F%3E").read() == b"<svg/>"
    response = fetcher.fetch("data:text/plain;base64,aGk=")
    assert response.read() == b"hi" and response.content_type == "text/plain"


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every URL WeasyPrint asks the card's fetcher for; any attempt to open a URL some other way fails."""
    urls: list[str] = []
    original = pdf.InlineOnlyFetcher.fetch

    def spy(self: pdf.InlineOnlyFetcher, url: str, headers: dict[str, str] | None = None) -> object:
        urls.append(url)
        return original(self, url, headers)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a URL was opened outside the card's fetcher: {args!r}")

    monkeypatch.setattr(pdf.InlineOnlyFetcher, "fetch", spy)
    monkeypatch.setattr("urllib.request.OpenerDirector.open", forbidden)
    monkeypatch.setattr("urllib.request.urlopen", forbidden)
    return urls


def test_card_text_cannot_load_files_or_network(fetched: list[str], tmp_path: Path) -> None:
    report = _small(**HOSTILE_CARD)
    path = formats.write(report, tmp_path / "hostile.pdf", "pdf")
    fonts = [url for url in fetched if not url.startswith("data:image/svg+xml,")]  # beside the charts
    assert len(fonts) < len(fetched) and sorted(fonts) == sorted(re.findall(r"url\((data:font/ttf;[^)]+)\)",
                                                                          templates.font_faces()))
    text = _poppler("pdftotext", path)
    assert "the passwd link" in text and "remote link" in text  # the text stays, as text
    assert "root:" not in text and "/bin/" not in text


def test_markup_that_slips_through_is_refused(fetched: list[str], tmp_path: Path) -> None:
    html = ('<html><head><title>t</title><link rel="stylesheet" href="file:///etc/passwd">'
            '<style>@import url("http://example.com/x.css"); body { background: url(file:///etc/passwd) }</style>'
            '</head><body><p>visible</p><img src="file:///etc/passwd"><img src="https://example.com/x.png">'
            '<object data="file:///etc/passwd"></object><embed src="file:///etc/passwd"></body></html>')
    path = tmp_path / "raw.pdf"
    path.write_bytes(pdf.html_to_pdf(html))
    assert "file:///etc/passwd" in fetched and "https://example.com/x.png" in fetched
    text = _poppler("pdftotext", path)
    assert "visible" in text and "root:" not in text


def test_column_parts_are_even_and_in_order() -> None:
    assert pdf.column_parts(list(range(20)), 7) == [list(range(7)), list(range(7, 14)), list(range(14, 20))]
    assert pdf.column_parts(list(range(8)), 7) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert pdf.column_parts([1, 2], 7) == [[1, 2]]
    assert pdf.column_parts([], 7) == [[]]
