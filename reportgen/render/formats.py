"""The output formats: one registry that `reportgen build` and `Evaluation.to_*` both write through.

A format turns the document into bytes; `render` renders several at once (the HTML page and the PDF
share one rendering of the charts, and each output links the files written beside it), `write`
writes one file atomically.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from reportgen.render.files import write_atomic

if TYPE_CHECKING:  # the renderers are imported when a format renders: `--help` and `--version` start without them
    from reportgen.document.schema import Report
    from reportgen.render import html


@dataclass(frozen=True)
class Options:
    """How the outputs are rendered.

    Attributes
    ----------
    interactive : bool
        HTML: embed the Vega runtime for tooltips (``--interactive``).
    page_size : str
        PDF: "A4" or "Letter".
    pdf : str
        PDF: "sign-off" (the default) or "full" (``[report] pdf``).
    base_url : str or None
        Summary: where the report folder is published, to link its files.
    beside : tuple of str or None
        The files written with this one (e.g. "report.pdf"), which it links; None: a file written alone
        (the summary then links every published file at `base_url`).
    charts : dict or None
        The charts rendered once for the HTML page and the PDF (`html.render_charts`).
    """

    interactive: bool = False
    page_size: str = "A4"
    pdf: str = "sign-off"
    base_url: str | None = None
    beside: tuple[str, ...] | None = None
    charts: dict[str, html.RenderedChart] | None = None


@dataclass(frozen=True)
class Format:
    """One output format: its name (``--format``), the file it is written to, and its renderer."""

    name: str
    file: str
    render: Callable[[Report, Options], bytes]
    charts: bool = False  # draws the card's charts (rendered once for every such format)
    binary: bool = False  # bytes that are not UTF-8 text (the PDF)


def _html(report: Report, options: Options) -> bytes:
    from reportgen.render import html

    downloads = [file for file in options.beside or () if file in ("report.pdf", "report.json")]
    return html.to_html(report, interactive=options.interactive, downloads=downloads,
                        rendered=options.charts).encode("utf-8")


def _pdf(report: Report, options: Options) -> bytes:
    from reportgen.render import pdf

    return pdf.to_pdf(report, page_size=options.page_size, pdf=options.pdf, rendered=options.charts)


def _json(report: Report, options: Options) -> bytes:
    from reportgen.render import json

    return json.to_json(report).encode("utf-8")


def _markdown(report: Report, options: Options) -> bytes:
    from reportgen.render import markdown

    files = markdown.PUBLISHED if options.beside is None else [f for f in options.beside if f in markdown.PUBLISHED]
    return markdown.to_markdown(report, base_url=options.base_url, files=files).encode("utf-8")


FORMATS: dict[str, Format] = {
    format.name: format for format in (
        Format("html", "report.html", _html, charts=True),
        Format("pdf", "report.pdf", _pdf, charts=True, binary=True),
        Format("json", "report.json", _json),
        Format("md", "summary.md", _markdown),
    )
}


def render(
    report: Report, names: Sequence[str], options: Options = Options(),
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, bytes]:
    """The bytes of each chosen output, by file name; `progress` is told each step.

    Each output links the others written with it; the charts are rendered once for all formats that
    draw them (without the HTML page, only those the PDF draws), unless `options` brings them.
    """
    chosen = [FORMATS[name] for name in names]
    shared = Options(interactive=options.interactive, page_size=options.page_size, pdf=options.pdf,
                     base_url=options.base_url, beside=tuple(format.file for format in chosen), charts=options.charts)
    drawing = [format for format in chosen if format.charts]
    collect = None
    if shared.charts is None and drawing:
        from reportgen.render import html

        progress("rendering the charts")
        sections = None if "html" in names else _pdf_sections(options.pdf)  # a PDF alone: only its charts
        collect = html.start_charts(report, interactive=options.interactive, sections=sections)
    files = {}
    for format in (format for format in chosen if not format.charts):  # while the charts render
        progress(f"rendering {format.file}")
        files[format.file] = format.render(report, shared)
    if collect is not None:
        shared = replace(shared, charts=collect())
    for format in drawing:
        progress(f"rendering {format.file}")
        files[format.file] = format.render(report, shared)
    return {format.file: files[format.file] for format in chosen}


def _pdf_sections(pdf_kind: str) -> tuple[str, ...] | None:
    from reportgen.render import pdf  # WeasyPrint: imported only when a PDF is made

    return pdf.PDF_KINDS.get(pdf_kind)


def render_one(report: Report, name: str, **options: object) -> bytes:
    """The bytes of one output (`FORMATS[name]`), written alone. `options` as `Options`."""
    return FORMATS[name].render(report, Options(**options))  # type: ignore[arg-type]


def write(report: Report, path: Path, name: str, **options: object) -> Path:
    """Write one output (`FORMATS[name]`) to `path` atomically; returns the path. `options` as `Options`."""
    return write_atomic(path, render_one(report, name, **options))
