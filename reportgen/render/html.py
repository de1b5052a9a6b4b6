"""The model card as one self-contained HTML file: Jinja templates, inline CSS, inline SVG charts."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

import altair as alt
import jinja2
import vl_convert
from jinja2.utils import htmlsafe_json_dumps
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen import charts
from reportgen.analysis.base import Finding
from reportgen.document.schema import Report, TrainingResult
from reportgen.formatting import count, num, pct, pvalue, short, signed
from reportgen.labels import DISPLAY_SLICE_CHARS
from reportgen.render import templates
from reportgen.vocabulary import CALIBRATION_METRICS, RATE_LABELS, headline_metrics

VEGA_LITE_VERSION = "6.4"
SAFE_SCHEMES = {"http", "https", "mailto"}
MAX_CHART_EPOCHS = 500  # learning curves are drawn at about this many epochs at most


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


def environment(report: Report) -> jinja2.Environment:
    """The Jinja environment for one report: templates from the package, autoescape on, strict undefined."""
    env = templates.environment()
    env.filters.update(num=num, signed=signed, pct=pct, pvalue=pvalue, count=count, markdown=markdown, short=short)
    names = [m.name for m in report.metrics.metrics]
    env.globals.update(
        metric_labels=metric_labels(report),
        metric_directions={m.name: m.higher_is_better for m in report.metrics.metrics},
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


def metric_labels(report: Report) -> dict[str, str]:
    """Display label of each metric of the report (from its registry entries)."""
    return {m.name: m.label for m in [*report.metrics.metrics, *report.metrics.class_metrics]} | {"count": "Count"}


def chart_specs(report: Report) -> list[tuple[str, str, alt.TopLevelMixin]]:
    """Every chart of the card as (id, title, chart), in page order."""
    overall = {m.name: m.value for m in report.overall.metrics}
    labels = metric_labels(report)
    found: list[tuple[str, str, alt.TopLevelMixin]] = []
    directions = {m.name: m.higher_is_better for m in report.metrics.metrics}
    for i, comparison in enumerate(report.comparisons):  # the comparison section follows the glance
        for j, change in enumerate(comparison.slices):
            if not charts.compared_metrics(change.groups, directions, report.task):
                continue
            args = (change, comparison.baseline, labels, directions, report.task)
            found.append((f"chart-comparison-{i}-{j}-bars", f"{change.name}: candidate and {comparison.baseline}",
                          charts.comparison_chart(*args)))
            found.append((f"chart-comparison-{i}-{j}-delta", f"{change.name}: difference from {comparison.baseline}",
                          charts.delta_chart(*args)))
    c = report.charts
    if c.roc is not None and c.operating_point is not None:
        found.append(("chart-roc", "ROC curve", charts.roc_chart(c.roc, c.operating_point)))
    if c.precision_recall is not None:
        prevalence = overall["prevalence"] or 0.0
        found.append(("chart-pr", "Precision-recall curve", charts.precision_recall_chart(c.precision_recall, prevalence)))
    if c.score_histogram is not None:
        found.append(("chart-scores", "Score distribution",
                      charts.score_histogram_chart(c.score_histogram, report.evaluation_data.positive_label or "")))
    classes = [k.label for k in report.evaluation_data.classes]
    if report.overall.class_matrix is not None and len(classes) <= charts.CONFUSION_CHART_MAX_CLASSES:
        found.append(("chart-confusion", "Confusion matrix", charts.confusion_chart(report.overall.class_matrix, classes)))
    if c.density is not None:
        found.append(("chart-density", "Predicted against actual", charts.density_chart(c.density)))
    if c.residual_bands is not None:
        found.append(("chart-residuals", "Residuals against predicted", charts.residual_bands_chart(c.residual_bands)))
    if c.residual_histogram is not None:
        found.append(("chart-residual-histogram", "Residual distribution",
                      charts.residual_histogram_chart(c.residual_histogram)))
    if c.reliability:
        what = "top-label confidence" if report.task == "multiclass" else "positive-class probability"
        found.append(("chart-calibration", "Calibration",
                      charts.reliability_chart(c.reliability, f"Calibration of the {what}")))
    if report.training is not None:
        epochs, curves = _curves(report.training)
        found.append(("chart-training", "Learning curves",
                      charts.learning_curves_chart(epochs, curves, report.training.best_epoch)))
    for index, result in enumerate(report.slices):
        found.append((f"chart-slice-{index}", result.name, charts.slice_chart(result, overall, labels, report.task)))
        if len(result.calibration) > 1:
            found.append((f"chart-slice-calibration-{index}", f"Calibration by {result.name}",
                          charts.slice_reliability_chart(result)))
    for index, result in enumerate(report.fairness):
        if any(r.difference is not None for g in result.groups if not g.is_reference for r in g.rates):
            found.append((f"chart-fairness-{index}", result.sensitive, charts.fairness_chart(result)))
    errors = report.error_analysis
    if errors is not None and len(errors.tree) > 1:
        found.append(("chart-error-tree", "Error tree", charts.error_tree_chart(errors.tree, measure=errors.measure)))
    return found


def chart_svg(chart: alt.TopLevelMixin) -> tuple[dict, Markup]:
    """A chart in the card's theme: its Vega-Lite spec and its SVG (vl-convert escapes data text)."""
    spec = charts.theme(chart).to_dict()
    return spec, Markup(vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION))


def _curves(training: TrainingResult) -> tuple[list[int], dict[str, list[float | None]]]:
    """The epochs drawn and each series at them, as the learning-curve chart takes them: NaN where a
    non-finite value was logged (a gap), None where nothing was logged. Long histories are thinned to
    about `MAX_CHART_EPOCHS` evenly spaced epochs, keeping the last, the best and every gap."""
    n = len(training.epochs)
    position = {epoch: index for index, epoch in enumerate(training.epochs)}
    keep = set(range(0, n, max(1, -(-n // MAX_CHART_EPOCHS)))) | {n - 1}
    keep |= {position[e] for s in training.series for e in s.nonfinite_epochs}
    if training.best_epoch is not None:
        keep.add(position[training.best_epoch])
    shown = sorted(keep)
    curves = {}
    for s in training.series:
        gaps = set(s.nonfinite_epochs)
        curves[s.name] = [math.nan if training.epochs[i] in gaps else s.values[i] for i in shown]
    return [training.epochs[i] for i in shown], curves


def render_charts(report: Report, *, interactive: bool) -> dict[str, RenderedChart]:
    """Render every chart to inline SVG (and keep the spec for interactive pages)."""
    rendered = {}
    for chart_id, title, chart in chart_specs(report):
        spec, svg = chart_svg(chart)
        rendered[chart_id] = RenderedChart(chart_id, title, svg, spec if interactive else None)
    return rendered


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
    css = templates.stylesheet("report.css")
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
    vega = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    calls = "".join(f"vegaEmbed({json.dumps('#' + c.id)}, {htmlsafe_json_dumps(c.spec, sort_keys=True)}, "
                    '{actions: false, renderer: "svg", ast: true});\n' for c in charts.values() if c.spec is not None)
    scripts = {"vega_bundle": vega, "embed_calls": "\n" + calls}
    for name, text in scripts.items():  # "</script" would end the element; CR and NUL change what is hashed
        assert not re.search(r"</script|<!--|[\r\0]", text, re.IGNORECASE), f"{name} cannot be inlined safely"
    return scripts
