"""The model card as one self-contained HTML file: Jinja templates, inline CSS, inline SVG charts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

import altair as alt
import jinja2
import vl_convert
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen import charts
from reportgen.metrics.binary import LABELS
from reportgen.render.files import write_atomic
from reportgen.report import Report

VEGA_LITE_VERSION = "6.4"
SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class RenderedChart:
    """A chart ready for the page: an element id, its SVG and (interactive mode) its spec as JSON."""

    id: str
    title: str
    svg: Markup
    spec: dict | None


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # an image would load from the network; alt text stays as text
    md.validateLink = _safe_link
    return md


def _safe_link(url: str) -> bool:
    """Allow http, https and mailto links and in-page anchors; nothing else (no javascript:, data:, file:)."""
    url = url.strip()
    if url.startswith("#"):
        return True
    scheme = urlparse(url).scheme.lower()
    return scheme in SAFE_SCHEMES


_MD = _markdown()


def markdown(text: str | None) -> Markup:
    """Render user markdown to HTML: raw HTML escaped, images dropped, links limited to safe schemes."""
    return Markup(_MD.render(text or ""))


def num(value: float | None, digits: int = 3) -> str:
    """A number with `digits` decimals, or an en dash when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 3) -> str:
    """A difference with its sign."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def count(value: int | None) -> str:
    """An integer with thousands separators."""
    return "–" if value is None else f"{value:,}"


def environment() -> jinja2.Environment:
    """The Jinja environment: templates from the package, autoescape on, strict undefined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("reportgen.templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=num, signed=signed, pct=pct, count=count, markdown=markdown)
    env.globals["metric_labels"] = LABELS
    env.globals["rate_labels"] = charts.RATE_LABELS
    return env


def chart_specs(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    """Every chart of the card as (id, title, chart), in page order."""
    overall = {m.name: m.value for m in report.overall.metrics}
    found: list[tuple[str, str, alt.TopLevelMixin]] = []
    c = report.charts
    if c.roc is not None:
        found.append(("chart-roc", "ROC curve", charts.roc_chart(c.roc, c.operating_point)))
    if c.precision_recall is not None:
        prevalence = overall["prevalence"] or 0.0
        found.append(("chart-pr", "Precision-recall curve", charts.precision_recall_chart(c.precision_recall, prevalence)))
    found.append(("chart-calibration", "Calibration", charts.calibration_chart(c.calibration)))
    found.append(("chart-scores", "Score distribution",
                  charts.score_histogram_chart(c.score_histogram, report.evaluation_data.positive_label)))
    for index, result in enumerate(report.slices):
        found.append((f"chart-slice-{index}", result.name, charts.slice_chart(result, overall, LABELS)))
    for index, result in enumerate(report.fairness):
        if any(r.difference is not None for g in result.groups if not g.is_reference for r in g.rates):
            found.append((f"chart-fairness-{index}", result.sensitive, charts.fairness_chart(result)))
    return found


def render_charts(report: Report, *, interactive: bool) -> dict[str, RenderedChart]:
    """Render every chart to inline SVG (and keep the spec for interactive pages)."""
    rendered = {}
    for chart_id, title, chart in chart_specs(report):
        spec = charts.theme(chart).to_dict()
        svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION)
        rendered[chart_id] = RenderedChart(chart_id, title, Markup(svg), spec if interactive else None)
    return rendered


def to_html(report: Report, *, interactive: bool = False) -> str:
    """Render the model card to one HTML document.

    Parameters
    ----------
    report : Report
        The document.
    interactive : bool
        Embed the Vega runtime once (inlined, no network) for tooltips; otherwise the page has no
        JavaScript at all.
    """
    env = environment()
    css = resources.files("reportgen.templates").joinpath("report.css").read_text(encoding="utf-8")
    vega = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION) if interactive else None
    assert vega is None or "</script" not in vega.lower(), "the Vega bundle cannot be inlined safely"
    return env.get_template("base.html.j2").render(
        report=report,
        charts=render_charts(report, interactive=interactive),
        css=Markup(css),
        vega_bundle=Markup(vega) if vega else None,
        interactive=interactive,
    )


def write_html(report: Report, path: Path, *, interactive: bool = False) -> Path:
    """Write `report.html` atomically; returns the path."""
    return write_atomic(path, to_html(report, interactive=interactive).encode("utf-8"))

