"""The model card as a PDF: the HTML templates in print mode, laid out by WeasyPrint, nothing fetched.

Print mode (``medium="print"`` in `templates/base.html.j2`) adds a cover page, a table of contents with page
numbers and `templates/print.css`, splits wide metric tables into narrower ones and opens every
``<details>``. Two kinds of PDF (`PDF_KINDS`, ``[report] pdf``): "sign-off", the default, a card a reviewer
reads (the headline, gates, findings, the comparison's and fairness's summary tables, the key metrics of each
slice, the card's text, the overall and monitoring charts), saying on its cover that the per-slice detail is in the HTML and
JSON; and "full", every section of the HTML page. Charts are the vl-convert SVG of the HTML page,
embedded as ``data:`` URIs and drawn as vectors. The page has no JavaScript, and WeasyPrint gets a URL fetcher
that refuses every URL except ``data:``: all assets are inline, nothing is read from disk or the network.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import TypeVar
from urllib.parse import unquote_to_bytes

import weasyprint
from markupsafe import Markup
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reportgen.document.schema import Report
from reportgen.errors import ConfigError, did_you_mean
from reportgen.render import templates
from reportgen.render.html import RenderedChart, environment, render_charts
from reportgen.vocabulary import SLICE_METRICS

PAGE_SIZES = {"A4": "A4", "Letter": "letter"}  # page_size → CSS `@page { size }`
PDF_KINDS = {"sign-off": ("overall", "calibration", "monitoring"), "full": None}  # pdf → the chart sections it draws
COLUMNS_PER_TABLE = 7  # metric columns of one printed table, beside the group column

T = TypeVar("T")


class RefusedURL(ValueError):
    """A URL that the PDF renderer will not load: any but a ``data:`` URI (the card's assets are all inline)."""


class InlineOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that decodes ``data:`` URIs (the charts) and refuses every other URL.

    The card's HTML has its CSS inline, its charts as ``data:`` URIs and its user text sanitized, so
    WeasyPrint never needs a file or the network; if it asks for one (a bug, or markup that slipped
    through), the resource is left out (WeasyPrint logs an error) instead of being read.
    """

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Decode a ``data:`` URI; refuse anything else (file, http, https, ftp, relative, ...).

        Raises
        ------
        RefusedURL
            If `url` is not a ``data:`` URI.
        """
        if url[:5].lower() != "data:":
            raise RefusedURL(f"the model card loads no URL: {url[:80]!r}")
        header, _, payload = url[5:].partition(",")
        media_type, *parameters = header.split(";")
        body = unquote_to_bytes(payload)
        if "base64" in parameters:
            body = base64.b64decode(body)
        return URLFetcherResponse(url, body, {"Content-Type": media_type or "text/plain"})


def column_parts(columns: Sequence[T], size: int = COLUMNS_PER_TABLE) -> list[list[T]]:
    """Split table columns into the fewest parts of at most `size`, as even as possible, in order.

    Examples
    --------
    >>> column_parts(list("abcdefgh"), 7)
    [['a', 'b', 'c', 'd'], ['e', 'f', 'g', 'h']]
    >>> column_parts(list("abc"), 7)
    [['a', 'b', 'c']]
    """
    n_parts = max(1, math.ceil(len(columns) / size))
    width, extra = divmod(len(columns), n_parts)
    parts, start = [], 0
    for index in range(n_parts):
        stop = start + width + (index < extra)
        parts.append(list(columns[start:stop]))
        start = stop
    return parts


def print_html(
    report: Report, *, page_size: str = "A4", pdf: str = "sign-off", rendered: dict[str, RenderedChart] | None = None,
) -> str:
    """The HTML page that becomes the PDF: the card's templates in print mode, with print.css inlined.

    Parameters
    ----------
    report : Report
        The document.
    page_size : {"A4", "Letter"}
        The paper size.
    pdf : {"sign-off", "full"}
        The sign-off card, or every section of the HTML page (`PDF_KINDS`).
    rendered : dict, optional
        The charts from `render_charts`, when the HTML page has rendered them already; otherwise only
        those this kind of PDF draws are rendered.

    Raises
    ------
    ConfigError
        If `page_size` or `pdf` is not one of the values above.
    """
    if page_size not in PAGE_SIZES:
        raise ConfigError(f'page_size: "{page_size}" is not a page size; use "A4" or "Letter"'
                          f"{did_you_mean(page_size, list(PAGE_SIZES))}")
    if pdf not in PDF_KINDS:
        raise ConfigError(f'pdf: "{pdf}" is not a kind of PDF; use "sign-off" or "full"'
                          f"{did_you_mean(pdf, list(PDF_KINDS))}")
    sections = PDF_KINDS[pdf]
    if rendered is None:
        rendered = render_charts(report, interactive=False, sections=sections)
    css = templates.font_faces() + templates.stylesheet("report.css")
    print_css = templates.stylesheet("print.css") + f"@page {{ size: {PAGE_SIZES[page_size]}; }}\n"
    env = environment(report)
    env.globals.update(column_parts=column_parts, slice_metrics=["count", *SLICE_METRICS[report.task]])
    return env.get_template("base.html.j2").render(
        report=report,
        charts={key: c for key, c in rendered.items() if sections is None or c.section in sections},
        css=Markup(css),
        print_css=Markup(print_css),
        vega_bundle=None,
        interactive=False,
        downloads=[],
        medium="print",
        pdf=pdf,
    )


def to_pdf(
    report: Report, *, page_size: str = "A4", pdf: str = "sign-off", rendered: dict[str, RenderedChart] | None = None,
) -> bytes:
    """Render the model card to PDF bytes, the same for the same report.

    Parameters
    ----------
    report : Report
        The document.
    page_size : {"A4", "Letter"}
        The paper size.
    pdf : {"sign-off", "full"}
        The sign-off card (the default), or every section of the HTML page.
    rendered : dict, optional
        The charts from `render.html.render_charts` (rendered once for the HTML page and the PDF).

    Returns
    -------
    bytes
        The PDF: a cover, contents with page numbers, the card's sections; vector charts; title and
        author (the model's owners) in its metadata, no creation date.

    Raises
    ------
    ConfigError
        If `page_size` is not "A4" or "Letter", or `pdf` not "sign-off" or "full".
    """
    return html_to_pdf(print_html(report, page_size=page_size, pdf=pdf, rendered=rendered))


def html_to_pdf(html: str) -> bytes:
    """Lay out an HTML page with WeasyPrint, loading nothing but ``data:`` URIs (see `InlineOnlyFetcher`).

    The page has no base URL, so relative URLs resolve to nothing; absolute ones reach the fetcher and
    are refused. PDF metadata comes from the page: ``<title>``, ``<meta name="author">``,
    ``<meta name="description">`` (subject), ``<meta name="generator">`` (creator); no dates.
    """
    return weasyprint.HTML(string=html, url_fetcher=InlineOnlyFetcher()).write_pdf()
