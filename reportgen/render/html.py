"""The model card as one self-contained HTML file: Jinja templates, inline CSS, inline SVG charts."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

import jinja2
import vl_convert
from jinja2.utils import htmlsafe_json_dumps
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen import charts
from reportgen.analysis.base import Finding
from reportgen.document.schema import Report
from reportgen.figures import each_chart, metric_labels
from reportgen.formatting import count, counted_support, num, pct, pvalue, short, signed
from reportgen.labels import DISPLAY_SLICE_CHARS
from reportgen.render import templates, vega
from reportgen.vocabulary import CALIBRATION_METRICS, RATE_LABELS, headline_metrics

SAFE_SCHEMES = {"http", "https", "mailto"}


@dataclass(frozen=True)
class RenderedChart:
    """A chart ready for the page: an element id, its title and section, its SVG and (interactive mode) its
    spec as JSON."""

    id: str
    title: str
    section: str
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


def cell(value: int | float | str | None, column: str = "") -> str:
    """A cell of a `Section` table: a count as `count` writes it, a number as `num` (in a "p" or "q" column as
    `pvalue`: "< 0.001"), text cut as `short` cuts it, "–" when absent."""
    if isinstance(value, str):
        return short(value)
    if isinstance(value, int):
        return count(value)
    return pvalue(value) if column in ("p", "q") else num(value)


def environment(report: Report) -> jinja2.Environment:
    """The Jinja environment for one report: templates from the package, autoescape on, strict undefined."""
    env = templates.environment()
    env.filters.update(num=num, signed=signed, pct=pct, pvalue=pvalue, count=count, counted_support=counted_support,
                       markdown=markdown, short=short, cell=cell)
    env.tests["startingwith"] = str.startswith  # select the charts of a kind by their id's prefix
    names = [m.name for m in report.metrics.metrics]
    env.globals.update(
        metric_labels=metric_labels(report),
        metric_directions={m.name: m.higher_is_better for m in report.metrics.metrics},
        support_units={m.name: m.support_unit for m in report.metrics.metrics},
        class_support_units={m.name: m.support_unit for m in report.metrics.class_metrics},
        rate_labels=RATE_LABELS,
        performance_metrics=[name for name in names if name not in CALIBRATION_METRICS],
        calibration_metrics=["count", *[name for name in names if name in CALIBRATION_METRICS]],
        headline_metrics=headline_metrics(report.task, names),
        slice_chars=DISPLAY_SLICE_CHARS,
        finding_anchor=functools.partial(finding_anchor, report),
    )
    return env


def finding_anchor(report: Report, finding: Finding) -> str:
    """The link from a finding to the part of the page that shows it, e.g. "#slice-2" or "#error-analysis"."""
    subjects = {
        "slices": ("slice", [result.name for result in report.slices]),
        "fairness": ("fairness", [result.sensitive for result in report.fairness]),
        "comparison": ("comparison", [result.baseline for result in report.comparisons]),
    }
    if finding.section in subjects and finding.subject is not None:
        prefix, names = subjects[finding.section]
        if finding.subject in names:
            return f"#{prefix}-{names.index(finding.subject) + 1}"
    return "#" + finding.section.replace("_", "-")


def render_charts(
    report: Report, *, interactive: bool, sections: Collection[str] | None = None,
) -> dict[str, RenderedChart]:
    """Render the card's charts to inline SVG and keep the spec for interactive pages; `sections` keeps only the
    charts of those card sections (`Figure.section`), None keeps all (`start_charts`, then its result)."""
    return start_charts(report, interactive=interactive, sections=sections)()


def start_charts(
    report: Report, *, interactive: bool, sections: Collection[str] | None = None,
) -> Callable[[], dict[str, RenderedChart]]:
    """Build the card's charts and give each to one `vega.Batch` as soon as it is built; returns the function
    that waits for their SVGs (the caller can work meanwhile: with warm workers they render in other
    processes). The page's templates are compiled before waiting."""
    batch = vega.Batch()
    figures = []
    try:
        for figure in each_chart(report, sections):
            spec = charts.spec(figure.chart)
            batch.add(spec)
            figures.append((figure, spec))
    except BaseException:
        batch.stop()  # no worker is left waiting for specs
        raise

    def result() -> dict[str, RenderedChart]:
        templates.compile_page(environment(report))
        return {
            figure.id: RenderedChart(figure.id, figure.title, figure.section, Markup(svg), spec if interactive else None)
            for (figure, spec), svg in zip(figures, batch.svgs(), strict=True)
        }

    return result


def to_html(
    report: Report, *, interactive: bool = False, downloads: Sequence[str] = (),
    rendered: dict[str, RenderedChart] | None = None,
) -> str:
    """Render the model card to one HTML document.

    Parameters
    ----------
    report : Report
        The document.
    interactive : bool
        Embed the Vega runtime once (inlined, no network) for tooltips; otherwise the page has no
        JavaScript at all. The page's Content-Security-Policy forbids every script but its own
        inline ones (allowed by their SHA-256), and every request.
    downloads : sequence of str
        File names written beside the page (e.g. "report.pdf", "report.json"), linked from its header.
    rendered : dict, optional
        The charts from `render_charts` with the same `interactive`, when they are rendered already
        (for the PDF too).
    """
    env = environment(report)
    css = templates.font_faces() + templates.stylesheet("report.css")
    charts = rendered if rendered is not None else render_charts(report, interactive=interactive)
    scripts = _scripts(charts) if interactive else {}
    return env.get_template("base.html.j2").render(
        report=report,
        charts=charts,
        css=Markup(css),
        **{name: Markup(text) for name, text in scripts.items()},
        content_security_policy=Markup(templates.content_security_policy(list(scripts.values()))),
        interactive=interactive,
        downloads=list(downloads),
    )


def _scripts(charts: dict[str, RenderedChart]) -> dict[str, str]:
    """The interactive page's two inline scripts, exactly as the page holds them (the policy hashes them):
    the Vega runtime, then one `vegaEmbed` call per chart with its spec as HTML-safe JSON. Expressions
    are interpreted (`ast: true`), so the runtime needs no `eval`."""
    bundle = vl_convert.javascript_bundle(vl_version=vega.VEGA_LITE_VERSION)
    calls = "".join(f"vegaEmbed({json.dumps('#' + c.id)}, {htmlsafe_json_dumps(c.spec, sort_keys=True)}, "
                    '{actions: false, renderer: "svg", ast: true});\n' for c in charts.values() if c.spec is not None)
    scripts = {"vega_bundle": bundle, "embed_calls": "\n" + calls}
    for name, text in scripts.items():  # "</script" would end the element; CR and NUL change what is hashed
        assert not re.search(r"</script|<!--|[\r\0]", text, re.IGNORECASE), f"{name} cannot be inlined safely"
    return scripts
