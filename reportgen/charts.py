"""Altair chart builders: one pure function per chart, from document dataclasses to `alt.Chart`.

No I/O, no rendering and no metric math: chart data arrives pre-aggregated and small. Text from
the data (group labels, classes, conditions, names) is shortened with `reportgen.labels.display_label`
and a chart draws at most `SLICE_CHART_MAX_GROUPS` groups, so a spec's size does not grow with the
rows, the groups or the labels' length (tests hold every chart of a hostile build under
`CHART_SPEC_BUDGET` bytes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import altair as alt
import pandas as pd
from altair.utils.schemapi import debug_mode

from reportgen.analysis.data_drift import WindowDrift
from reportgen.analysis.over_time import ChangePoint, MetricSeries
from reportgen.document.schema import (
    DriftColumn,
    FairnessResult,
    GroupChange,
    OperatingPoint,
    SliceChange,
    SliceResult,
)
from reportgen.labels import CHART_LABEL_CHARS, display_label, display_labels
from reportgen.metrics.calibration import Reliability
from reportgen.metrics.curves import Curve, ScoreHistogram
from reportgen.metrics.residuals import Density, ResidualBands, ResidualHistogram
from reportgen.vocabulary import RATE_LABELS, SLICE_METRICS

if TYPE_CHECKING:
    from reportgen.analysis.error_tree import TreeNode

T = TypeVar("T")
# The charts' font: "Reportgen Sans" is Liberation Sans (metric-compatible with Arial) under another name, shipped
# with the package and embedded in the page and the PDF (`templates.font_faces`); vl-convert lays the charts out
# with its own built-in copy of Liberation Sans, the next name, so text is drawn with the widths it was measured
# with on every machine. (A system font such as DejaVu Sans made vl-convert reopen the font file for every
# character it measured: three times the CPU for the example's charts.)
FONT = "Reportgen Sans, Liberation Sans, Arial, sans-serif"
ACCENT = "#2456a4"
MUTED = "#8a94a6"
ALERT = "#c2410c"
GOOD = "#166534"
WIDTH = 280
CHANGE_FLAGS = {"improvement": "improvement", "regression": "regression", None: "no significant change"}
STRATEGY_TITLES = {"uniform": "Uniform bins", "quantile": "Quantile bins (equal counts)"}
SLICE_CHART_MAX_GROUPS = 30  # groups drawn in a slice, fairness or comparison chart (the largest); tables have all
CHART_SPEC_BUDGET = 200_000  # bytes of a chart's Vega-Lite JSON, whatever the input (checked in tests)
CONFUSION_CHART_MAX_CLASSES = 30


LEGEND_COLUMNS = 4
LABEL_LIMIT = 220  # pixels for an axis or legend label: a whole `CHART_LABEL_CHARS` label (Vega cuts at 160–180)


THEME = {
    "font": FONT,
    "view": {"strokeWidth": 0},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "titleFontWeight": "normal", "gridColor": "#e5e7eb",
             "domainColor": "#9ca3af", "labelLimit": LABEL_LIMIT},
    "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom", "columns": LEGEND_COLUMNS,
               "labelLimit": LABEL_LIMIT},
}


def spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite spec in the card's look (`THEME`): its font, quiet axes, no chart border, legends
    below in rows of at most `LEGEND_COLUMNS` (a legend of many groups wraps instead of widening the chart past a
    page); labels are shortened before they reach a chart and drawn whole (`LABEL_LIMIT`), so names cut alike
    stay apart.

    Altair's schema validation is skipped (it took half the time of building the card's charts); the tests
    validate every chart of the examples against the Vega-Lite schema.
    """
    with debug_mode(False):
        result = chart.to_dict(validate=False)
    config = result.setdefault("config", {})
    for key, value in THEME.items():
        config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    return result


def _diagonal(low: float = 0.0, high: float = 1.0, color: str = MUTED) -> alt.Chart:
    """The dashed line y = x from `low` to `high`: chance on a ROC curve, perfection elsewhere."""
    data = pd.DataFrame({"x": [low, high], "y": [low, high]})
    return alt.Chart(data).mark_line(color=color, strokeDash=[4, 4]).encode(x=alt.X("x:Q"), y=alt.Y("y:Q"))


def _unit(field: str, title: str) -> alt.X | alt.Y:
    scale = alt.Scale(domain=[0, 1])
    return (alt.X if field == "x" else alt.Y)(f"{field}:Q", title=title, scale=scale)


def roc_chart(curve: Curve, point: OperatingPoint) -> alt.LayerChart:
    """ROC curve with the chance diagonal and the operating point at the decision threshold."""
    data = pd.DataFrame({"x": curve.x, "y": curve.y})
    line = alt.Chart(data).mark_line(color=ACCENT, interpolate="linear").encode(
        x=_unit("x", "False positive rate"), y=_unit("y", "True positive rate"),
        tooltip=[alt.Tooltip("x:Q", title="FPR", format=".3f"), alt.Tooltip("y:Q", title="TPR", format=".3f")],
    )
    layers = [_diagonal(), line]
    if point.fpr is not None and point.tpr is not None:
        marker = pd.DataFrame({"x": [point.fpr], "y": [point.tpr], "label": [f"threshold {point.threshold:g}"]})
        layers.append(
            alt.Chart(marker).mark_point(color=ALERT, filled=True, size=70).encode(
                x=alt.X("x:Q"), y=alt.Y("y:Q"), tooltip=[alt.Tooltip("label:N", title="Operating point")]
            )
        )
    return alt.layer(*layers).properties(width=WIDTH, height=WIDTH, title="ROC curve")


def precision_recall_chart(curve: Curve, prevalence: float) -> alt.LayerChart:
    """Precision-recall curve with the no-skill line at the prevalence."""
    data = pd.DataFrame({"x": curve.x, "y": curve.y})
    line = alt.Chart(data).mark_line(color=ACCENT, interpolate="step-after").encode(
        x=_unit("x", "Recall"), y=_unit("y", "Precision"),
        tooltip=[alt.Tooltip("x:Q", title="Recall", format=".3f"), alt.Tooltip("y:Q", title="Precision", format=".3f")],
    )
    baseline = alt.Chart(pd.DataFrame({"y": [prevalence]})).mark_rule(color=MUTED, strokeDash=[4, 4]).encode(y=alt.Y("y:Q"))
    return alt.layer(baseline, line).properties(width=WIDTH, height=WIDTH, title="Precision-recall curve")


def reliability_chart(diagrams: list[Reliability], title: str) -> alt.FacetChart:
    """Reliability diagrams side by side (uniform and quantile bins): observed rate per bin, with intervals."""
    rows = [
        {"strategy": STRATEGY_TITLES[d.strategy], "x": x, "y": y, "low": lo, "high": hi, "n": n}
        for d in diagrams
        for x, y, lo, hi, n in zip(d.mean_confidence, d.observed, d.ci_low, d.ci_high, d.n, strict=True)
    ]
    base = alt.Chart()
    tooltip = [
        alt.Tooltip("x:Q", title="Mean predicted probability", format=".3f"),
        alt.Tooltip("y:Q", title="Observed rate", format=".3f"),
        alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("n:Q", title="Rows"),
    ]
    bars = base.mark_rule(color=ACCENT, opacity=0.6).encode(x=alt.X("x:Q"), y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
    line = base.mark_line(color=ACCENT, point=alt.OverlayMarkDef(color=ACCENT, size=30)).encode(
        x=_unit("x", "Mean predicted probability"), y=_unit("y", "Observed rate"), tooltip=tooltip
    )
    diagonal_rule = base.mark_rule(color=MUTED, strokeDash=[4, 4]).encode(
        x=alt.XDatum(0), y=alt.YDatum(0), x2=alt.X2Datum(1), y2=alt.Y2Datum(1)
    )
    return alt.layer(diagonal_rule, bars, line, data=pd.DataFrame(rows), width=WIDTH * 0.85, height=WIDTH * 0.85).facet(
        column=alt.Column("strategy:N", title=None, sort=[STRATEGY_TITLES[d.strategy] for d in diagrams]), title=title,
    )


def slice_reliability_chart(result: SliceResult) -> alt.Chart:
    """One reliability line per group of a slice (uniform bins)."""
    names = _names([c.group for c in result.calibration])
    rows = [
        {"group": names[c.group], "x": x, "y": y, "n": n}
        for c in result.calibration
        for x, y, n in zip(c.uniform.mean_confidence, c.uniform.observed, c.uniform.n, strict=True)
    ]
    lines = alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=_unit("x", "Mean predicted probability"), y=_unit("y", "Observed rate"),
        color=alt.Color("group:N", title=display_label(result.name),
                        sort=list(names.values())),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f"), alt.Tooltip("n:Q")],
    )
    return alt.layer(_diagonal(), lines).properties(width=WIDTH, height=WIDTH,
                                                    title=f"Calibration by {display_label(result.name)}")


def confusion_chart(matrix: list[list[int]], classes: list[str]) -> alt.HConcatChart:
    """Confusion matrix heatmaps: counts, and each actual class's row as shares (recall on the diagonal)."""
    classes = display_labels(classes, CHART_LABEL_CHARS)
    rows = []
    for i, actual in enumerate(classes):
        total = sum(matrix[i])
        for j, predicted in enumerate(classes):
            count = matrix[i][j]
            share = count / total if total else 0.0
            rows.append({"actual": actual, "predicted": predicted, "count": count, "share": round(share, 4),
                         "count_text": f"{count:,}", "share_text": f"{100 * share:.0f}%" if total else "–"})
    data = pd.DataFrame(rows)
    data["count_dark"] = data["count"] > data["count"].max() / 2  # white text on the darker cells
    data["share_dark"] = data["share"] > 0.5
    side = max(160, min(26 * len(classes), 420))

    def heatmap(value: str, text: str, title: str, scheme: str) -> alt.LayerChart:
        base = alt.Chart(data).encode(
            x=alt.X("predicted:N", title="Predicted", sort=classes, axis=alt.Axis(labelAngle=-40)),
            y=alt.Y("actual:N", title="Actual", sort=classes),
        )
        cells = base.mark_rect().encode(
            color=alt.Color(f"{value}:Q", scale=alt.Scale(scheme=scheme), legend=None),
            tooltip=[alt.Tooltip("actual:N"), alt.Tooltip("predicted:N"), alt.Tooltip("count:Q"), alt.Tooltip("share:Q", format=".1%")],
        )
        labels = base.mark_text(fontSize=10).encode(
            text=f"{text}:N",
            color=alt.condition(f"datum.{value}_dark", alt.value("white"), alt.value("#1f2937")),
        ) if len(classes) <= 15 else None
        layers = [cells] + ([labels] if labels is not None else [])
        return alt.layer(*layers).properties(width=side, height=side, title=title)

    return alt.hconcat(
        heatmap("count", "count_text", "Counts", "blues"),
        heatmap("share", "share_text", "Share of each actual class", "blues"),
    ).resolve_scale(color="independent")


def score_histogram_chart(histogram: ScoreHistogram, positive_label: str) -> alt.Chart:
    """Score distribution by true class, pre-binned."""
    edges = histogram.edges
    rows = []
    for name, counts in ((f"positive ({display_label(positive_label)})", histogram.positives),
                         ("negative", histogram.negatives)):
        rows += [
            {"start": lo, "end": hi, "count": c, "class": name}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ]
    return alt.Chart(pd.DataFrame(rows)).mark_rect(opacity=0.6).encode(
        x=alt.X("start:Q", title="Score", scale=alt.Scale(domain=[0, 1])),
        x2=alt.X2("end:Q"),
        y=alt.Y("count:Q", title="Rows"),
        y2=alt.Y2Datum(0),
        color=alt.Color("class:N", title="True class", scale=alt.Scale(range=[ACCENT, "#d97706"])),
        tooltip=[alt.Tooltip("class:N"), alt.Tooltip("start:Q", title="From"), alt.Tooltip("end:Q", title="To"), alt.Tooltip("count:Q")],
    ).properties(width=WIDTH, height=WIDTH * 0.7, title="Score distribution by class")


def density_chart(density: Density) -> alt.LayerChart:
    """Predicted against actual as a binned density (darker: more rows), with the diagonal of perfect predictions."""
    data = pd.DataFrame({"x0": density.x0, "x1": density.x1, "y0": density.y0, "y1": density.y1,
                         "count": density.count})
    scale = alt.Scale(domain=[density.low, density.high])
    cells = alt.Chart(data).mark_rect().encode(
        x=alt.X("x0:Q", title="Predicted", scale=scale), x2=alt.X2("x1:Q"),
        y=alt.Y("y0:Q", title="Actual", scale=scale), y2=alt.Y2("y1:Q"),
        color=alt.Color("count:Q", title="Rows", scale=alt.Scale(type="log", scheme="blues")),
        tooltip=[alt.Tooltip("x0:Q", title="Predicted from", format=".4g"), alt.Tooltip("x1:Q", title="to", format=".4g"),
                 alt.Tooltip("y0:Q", title="Actual from", format=".4g"), alt.Tooltip("y1:Q", title="to", format=".4g"),
                 alt.Tooltip("count:Q", title="Rows")],
    )
    return alt.layer(cells, _diagonal(density.low, density.high, ALERT)).properties(width=WIDTH, height=WIDTH, title="Predicted against actual")


def residual_bands_chart(bands: ResidualBands) -> alt.LayerChart:
    """Residuals against the prediction: median and mean per bin, with 25–75% and 10–90% bands."""
    data = pd.DataFrame({
        "x": bands.mean_predicted, "mean": bands.mean_residual, "q10": bands.q10, "q25": bands.q25,
        "median": bands.median, "q75": bands.q75, "q90": bands.q90, "n": bands.n,
    })
    base = alt.Chart(data)
    x = alt.X("x:Q", title="Predicted (bin mean)", scale=alt.Scale(zero=False))
    outer = base.mark_area(color=ACCENT, opacity=0.15).encode(x=x, y=alt.Y("q10:Q", title="Residual (actual − predicted)"), y2=alt.Y2("q90:Q"))
    inner = base.mark_area(color=ACCENT, opacity=0.3).encode(x=x, y=alt.Y("q25:Q"), y2=alt.Y2("q75:Q"))
    median = base.mark_line(color=ACCENT).encode(x=x, y=alt.Y("median:Q"))
    mean = base.mark_line(color=ALERT, strokeDash=[4, 3], point=alt.OverlayMarkDef(color=ALERT, size=20)).encode(
        x=x, y=alt.Y("mean:Q"),
        tooltip=[alt.Tooltip("x:Q", title="Predicted", format=".4g"), alt.Tooltip("mean:Q", title="Mean residual", format=".4g"),
                 alt.Tooltip("median:Q", format=".4g"), alt.Tooltip("q10:Q", format=".4g"), alt.Tooltip("q90:Q", format=".4g"),
                 alt.Tooltip("n:Q", title="Rows")],
    )
    zero = alt.Chart().mark_rule(color=MUTED).encode(y=alt.YDatum(0))
    return alt.layer(outer, inner, zero, median, mean).properties(
        width=WIDTH, height=WIDTH, title="Residuals by prediction"
    )


def residual_histogram_chart(histogram: ResidualHistogram) -> alt.Chart:
    """Distribution of the residuals, pre-binned."""
    edges = histogram.edges
    data = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": histogram.counts})
    bars = alt.Chart(data).mark_rect(color=ACCENT, opacity=0.7).encode(
        x=alt.X("start:Q", title="Residual (actual − predicted)"), x2=alt.X2("end:Q"),
        y=alt.Y("count:Q", title="Rows"), y2=alt.Y2Datum(0),
        tooltip=[alt.Tooltip("start:Q", title="From", format=".4g"), alt.Tooltip("end:Q", title="To", format=".4g"), alt.Tooltip("count:Q")],
    )
    zero = alt.Chart().mark_rule(color=ALERT, strokeDash=[4, 3]).encode(x=alt.XDatum(0))
    return alt.layer(bars, zero).properties(width=WIDTH, height=WIDTH * 0.7, title="Residual distribution")


def slice_chart(
    result: SliceResult, overall: dict[str, float | None], labels: dict[str, str], task: str
) -> alt.FacetChart:
    """Key metrics of the task per group with intervals, one panel per metric, the overall value as a rule.

    At most `SLICE_CHART_MAX_GROUPS` groups (the largest) are drawn, and the subtitle says so; the
    table has them all. Classification metrics share the [0, 1] scale; regression errors get their own scales.
    """
    defined = {m.name for g in result.groups for m in g.metrics if m.value is not None}
    shown = [m for m in SLICE_METRICS[task] if m in overall and m in defined]
    groups, subtitle = _largest(result.groups)
    names = _names([g.group for g in groups])
    order = list(names.values())
    rows = [
        {
            "group": names[g.group], "metric": labels[m.name], "value": m.value, "low": m.ci_low, "high": m.ci_high,
            "n": g.n, "overall": overall[m.name],
        }
        for g in groups
        for m in g.metrics
        if m.name in shown
    ]
    base = alt.Chart()
    y = alt.Y("group:N", title=None, sort=order)
    scale = alt.Scale(domain=[0, 1]) if task != "regression" else alt.Scale(zero=False)
    x = alt.X("value:Q", title=None, scale=scale)
    tooltip = [alt.Tooltip("group:N"), alt.Tooltip("metric:N"), alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("low:Q", format=".3f"),
               alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("n:Q")]
    rule = base.mark_rule(color=MUTED, strokeDash=[4, 3]).encode(x=alt.X("mean(overall):Q"))
    bars = base.mark_rule(color=ACCENT, strokeWidth=2, opacity=0.5).encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"), y=y)
    points = base.mark_point(color=ACCENT, filled=True, size=45).encode(x=x, y=y, tooltip=tooltip)
    return alt.layer(rule, bars, points, data=pd.DataFrame(rows), width=150, height=alt.Step(18)).facet(
        column=alt.Column("metric:N", title=None, sort=[labels[m] for m in shown],
                          header=alt.Header(labelFontSize=12)),
        resolve=_x_scales("independent" if task == "regression" else "shared"),
        title=_title(f"{display_label(result.name)}: key metrics by group (dashed: overall)", subtitle),
    )


def trend_chart(rows: list[dict[str, object]], versions: list[str], metrics: list[str]) -> alt.FacetChart:
    """Headline metrics across a model's versions (oldest first), with intervals; one panel per metric.

    `rows` hold "version", "metric" (its label), "value", "low" and "high" (None where undefined).
    """
    base = alt.Chart()
    x = alt.X("version:N", title=None, sort=versions, axis=alt.Axis(labelAngle=-30, labelLimit=90))
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    line = base.mark_line(color=MUTED, strokeWidth=1).encode(x=x, y=y)
    bars = base.mark_rule(color=ACCENT, strokeWidth=2, opacity=0.5).encode(x=x, y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
    points = base.mark_point(color=ACCENT, filled=True, size=40).encode(
        x=x, y=y, tooltip=[alt.Tooltip("version:N"), alt.Tooltip("metric:N"), alt.Tooltip("value:Q", format=".3f")]
    )
    return alt.layer(line, bars, points, data=pd.DataFrame(rows)).properties(width=170, height=110).facet(
        column=alt.Column("metric:N", title=None, sort=metrics, header=alt.Header(labelFontSize=12)),
    ).resolve_scale(y="independent")


def fairness_chart(result: FairnessResult) -> alt.FacetChart:
    """Each group's rate minus the reference group's, with intervals and the allowed band.

    At most `SLICE_CHART_MAX_GROUPS` groups (the largest) are drawn, and the subtitle says so.
    """
    groups, subtitle = _largest([g for g in result.groups if not g.is_reference])
    names = _names([g.group for g in groups])
    rows = [
        {
            "group": names[g.group], "rate": _rate_title(r.rate, r.class_label), "difference": r.difference, "low": r.ci_low,
            "high": r.ci_high, "breached": "beyond threshold" if r.breached else "within threshold",
            "band_low": -result.max_difference, "band_high": result.max_difference,
        }
        for g in groups
        for r in g.rates
        if r.difference is not None
    ]
    base = alt.Chart()
    y = alt.Y("group:N", title=None, sort=list(names.values()))
    x = alt.X("difference:Q", title=f"Difference from {display_label(result.reference)}")
    band = base.mark_rect(color="#e8eef8").encode(x=alt.X("min(band_low):Q"), x2=alt.X2("max(band_high):Q"))
    zero = base.mark_rule(color=MUTED).encode(x=alt.XDatum(0))
    bars = base.mark_rule(color=ACCENT, strokeWidth=2, opacity=0.5).encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"), y=y)
    points = base.mark_point(filled=True, size=50).encode(
        x=x, y=y,
        color=alt.Color("breached:N", title=None, scale=alt.Scale(
            domain=["within threshold", "beyond threshold"], range=[ACCENT, ALERT])),
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("rate:N"), alt.Tooltip("difference:Q", format="+.3f"),
                 alt.Tooltip("low:Q", format="+.3f"), alt.Tooltip("high:Q", format="+.3f")],
    )
    return alt.layer(band, zero, bars, points, data=pd.DataFrame(rows), width=150, height=alt.Step(20)).facet(
        facet=alt.Facet("rate:N", title=None, sort=list(dict.fromkeys(row["rate"] for row in rows))), columns=4,
        title=_title(f"{display_label(result.sensitive)}: gaps against the reference group "
                     f"(shaded: ±{result.max_difference:g})", subtitle),
    )


def _rate_title(rate: str, class_label: str | None) -> str:
    return RATE_LABELS[rate] if class_label is None else f"{RATE_LABELS[rate]} · {display_label(class_label)}"


LEARNING_CURVE_POINTS = 60  # up to this many epochs, each value is also marked with a dot


def _chart_number(value: float | None) -> float | None:
    """A value rounded to 4 significant digits for a chart; None for NaN."""
    return None if value is None or pd.isna(value) else float(f"{value:.4g}")


def learning_curves_chart(
    epochs: list[int], series: dict[str, list[float | None]], best_epoch: int | None
) -> alt.HConcatChart:
    """Learning curves: losses in one panel, other metrics (when given) in another, the best epoch as a rule.

    Series whose name contains "loss" are drawn in the loss panel. A value is a number; NaN
    where the value logged was NaN or infinite (the line has a gap there); or None where the
    series was not logged at that epoch (the line joins its neighbours, as for validation run
    every few epochs). Values are rounded to 4 significant digits and stored once, one row per
    epoch, so the spec stays small.

    Parameters
    ----------
    epochs : list of int
        Increasing epoch numbers.
    series : dict of str to list
        At least one series; name → one value (or NaN, or None) per epoch.
    best_epoch : int or None
        Epoch of the lowest validation loss, drawn as a dashed rule in each panel.
    """
    keys = {name: f"s{i}" for i, name in enumerate(series)}
    rows = []
    for i, epoch in enumerate(epochs):
        row: dict[str, float | int | None] = {"epoch": int(epoch)}
        for name, values in series.items():
            if values[i] is not None:
                row[keys[name]] = _chart_number(values[i])
        rows.append(row)
    data = alt.InlineData(values=rows)
    names = alt.LookupData(alt.InlineData(values=[{"key": k, "series": n} for n, k in keys.items()]),
                           key="key", fields=["series"])
    losses = [name for name in series if "loss" in name.lower()]
    others = [name for name in series if name not in losses]
    panels = []
    for title, axis, members in (("Loss", "Loss", losses), ("Other metrics", "Value", others)):
        if not members:
            continue
        lines = alt.Chart(data).transform_fold(
            [keys[n] for n in members], as_=["key", "value"]
        ).transform_filter("isDefined(datum.value)").transform_lookup(lookup="key", from_=names).mark_line(
            invalid="break-paths-filter-domains", point=len(epochs) <= LEARNING_CURVE_POINTS, strokeWidth=1.6,
        ).encode(
            x=alt.X("epoch:Q", title="Epoch", axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y("value:Q", title=axis, scale=alt.Scale(zero=False)),
            color=alt.Color("series:N", title=None, sort=members, scale=alt.Scale(scheme="tableau10")),
            tooltip=[alt.Tooltip("series:N", title="Series"), alt.Tooltip("epoch:Q", title="Epoch"),
                     alt.Tooltip("value:Q", title="Value", format=".4g")],
        )
        layers = [lines]
        if best_epoch is not None:
            best = pd.DataFrame({"epoch": [int(best_epoch)], "label": [f"best epoch {best_epoch}"]})
            layers.append(alt.Chart(best).mark_rule(color=MUTED, strokeDash=[4, 4]).encode(
                x=alt.X("epoch:Q"), tooltip=[alt.Tooltip("label:N", title="Lowest validation loss")]
            ))
        panels.append(alt.layer(*layers).properties(width=WIDTH, height=WIDTH * 0.7, title=title))
    subtitle = f"dashed: best epoch ({best_epoch}), the lowest validation loss" if best_epoch is not None else ""
    return alt.hconcat(*panels).resolve_scale(color="independent").properties(
        title=alt.TitleParams("Learning curves", subtitle=subtitle) if subtitle else "Learning curves"
    )


def compared_metrics(groups: list[GroupChange], directions: dict[str, bool | None], task: str) -> list[str]:
    """The metrics the comparison charts draw: the task's `SLICE_METRICS` that have a better
    direction and a paired interval in at least one of `groups`, in that order (at most four)."""
    defined = {m.name for g in groups for m in g.metrics if m.ci_low is not None}
    return [name for name in SLICE_METRICS[task] if directions.get(name) is not None and name in defined]


def _shown_groups(change: SliceChange) -> tuple[list[GroupChange], str]:
    """The groups a comparison chart draws (the `SLICE_CHART_MAX_GROUPS` largest, in table order) and a
    subtitle saying so when some are left out."""
    return _largest(change.groups)


def _largest(groups: list[T]) -> tuple[list[T], str]:
    """The `SLICE_CHART_MAX_GROUPS` largest groups (by `n`, in their order) and a subtitle saying so when
    some are left out."""
    largest = {id(g) for g in sorted(groups, key=lambda g: -g.n)[:SLICE_CHART_MAX_GROUPS]}  # type: ignore[attr-defined]
    shown = [g for g in groups if id(g) in largest]
    left_out = len(groups) - len(shown)
    subtitle = f"the {len(shown)} largest of {len(groups):,} groups; the table has them all" if left_out else ""
    return shown, subtitle


def _names(groups: list[str]) -> dict[str, str]:
    """Each group's name on a chart: at most `CHART_LABEL_CHARS` characters, the names kept distinct."""
    return dict(zip(groups, display_labels(groups, CHART_LABEL_CHARS), strict=True))


def _x_scales(resolution: str) -> alt.Resolve:
    """Facet panels' x scales: "shared" or "independent" (as `.resolve_scale(x=...)`, without copying the chart)."""
    return alt.Resolve(scale=alt.ScaleResolveMap(x=resolution))


def _title(text: str, subtitle: str) -> alt.TitleParams | str:
    return alt.TitleParams(text, subtitle=subtitle) if subtitle else text


def comparison_chart(
    change: SliceChange, baseline: str, labels: dict[str, str], directions: dict[str, bool | None], task: str
) -> alt.FacetChart:
    """Candidate and baseline side by side per group, each with its own interval; one panel per metric.

    Parameters
    ----------
    change : SliceChange
        One slice family's groups, compared (`SliceChange("overall", [overall])` for the whole data).
    baseline : str
        The baseline's name, shown in the legend beside "candidate".
    labels : dict of str to str
        Display label of each metric.
    directions : dict of str to bool or None
        `higher_is_better` of each metric; the panels are the task's `SLICE_METRICS` with one.
    task : str
        "binary", "multiclass" or "regression". Each panel has its own scale, from zero (bars start
        there), so that two close values of a small rate stay apart.

    Returns
    -------
    alt.FacetChart
        At most `SLICE_CHART_MAX_GROUPS` groups (the largest) are drawn; the table has them all.
    """
    names = compared_metrics(change.groups, directions, task)
    groups, subtitle = _shown_groups(change)
    baseline, name = display_label(baseline), display_label(change.name)
    shown_as = _names([g.group for g in groups])
    models = ["candidate", baseline if baseline != "candidate" else "baseline: candidate"]
    rows = [
        {"group": shown_as[g.group], "metric": labels[m.name], "model": model, "value": _chart_number(value),
         "low": _chart_number(low), "high": _chart_number(high), "n": g.n}
        for g in groups
        for m in g.metrics
        if m.name in names
        for model, value, low, high in (
            (models[0], m.candidate, m.candidate_ci_low, m.candidate_ci_high),
            (models[1], m.baseline, m.baseline_ci_low, m.baseline_ci_high),
        )
        if value is not None
    ]
    order = list(shown_as.values())
    y = alt.Y("group:N", title=None, sort=order, scale=alt.Scale(domain=order))
    offset = alt.YOffset("model:N", sort=models, scale=alt.Scale(domain=models, paddingInner=0.1))
    x = alt.X("value:Q", title=None, scale=alt.Scale(zero=True), axis=alt.Axis(tickCount=3))
    tooltip = [alt.Tooltip("group:N"), alt.Tooltip("metric:N"), alt.Tooltip("model:N"), alt.Tooltip("value:Q", format=".3f"),
               alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("n:Q", title="Rows")]
    base = alt.Chart()
    bars = base.mark_bar(opacity=0.85).encode(
        x=x, y=y, yOffset=offset,
        color=alt.Color("model:N", title=None, sort=models, scale=alt.Scale(domain=models, range=[ACCENT, MUTED])),
        tooltip=tooltip,
    )
    intervals = base.mark_rule(color="#1f2933", strokeWidth=1.5).transform_filter(
        "isValid(datum.low) && isValid(datum.high)"
    ).encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"), y=y, yOffset=offset)
    columns = ["group", "metric", "model", "value", "low", "high", "n"]
    return alt.layer(bars, intervals, data=pd.DataFrame(rows, columns=columns), width=150, height=alt.Step(13)).facet(
        column=alt.Column("metric:N", title=None, sort=[labels[n] for n in names], header=alt.Header(labelFontSize=12)),
        resolve=_x_scales("independent"),
        title=_title(f"{name}: candidate and {baseline} by group (lines: intervals)", subtitle),
    )


def delta_chart(
    change: SliceChange, baseline: str, labels: dict[str, str], directions: dict[str, bool | None], task: str
) -> alt.FacetChart:
    """Each group's difference from the baseline (candidate − baseline) with its paired interval, coloured by
    flag; one panel per metric, a rule at zero.

    Differences keep their sign, as in the tables; each panel's header says which side is better (for
    an error, a negative difference is an improvement). Parameters are those of `comparison_chart`.
    Regression panels get their own scales; classification panels share one.
    """
    names = compared_metrics(change.groups, directions, task)
    groups, subtitle = _shown_groups(change)
    baseline, name = display_label(baseline), display_label(change.name)
    shown_as = _names([g.group for g in groups])
    headers = {name: f"{labels[name]}|{'better →' if directions[name] else '← better'}" for name in names}
    rows = [
        {"group": shown_as[g.group], "panel": headers[m.name], "metric": labels[m.name], "difference": _chart_number(m.difference),
         "low": _chart_number(m.ci_low), "high": _chart_number(m.ci_high), "q": _chart_number(m.q_value),
         "flag": CHANGE_FLAGS[m.flag], "n": g.n}
        for g in groups
        for m in g.metrics
        if m.name in names and m.difference is not None
    ]
    order = list(shown_as.values())
    y = alt.Y("group:N", title=None, sort=order, scale=alt.Scale(domain=order))
    flags = list(CHANGE_FLAGS.values())
    tooltip = [alt.Tooltip("group:N"), alt.Tooltip("metric:N", title="Metric"), alt.Tooltip("difference:Q", format="+.3f"),
               alt.Tooltip("low:Q", format="+.3f"), alt.Tooltip("high:Q", format="+.3f"), alt.Tooltip("q:Q", format=".3g"),
               alt.Tooltip("flag:N", title="Flag"), alt.Tooltip("n:Q", title="Rows")]
    base = alt.Chart()
    zero = base.mark_rule(color=MUTED).encode(x=alt.XDatum(0))
    color = alt.Color("flag:N", title=None, sort=flags, scale=alt.Scale(domain=flags, range=[GOOD, ALERT, MUTED]),
                      legend=alt.Legend(symbolOpacity=1))
    intervals = base.mark_rule(strokeWidth=2, opacity=0.5).transform_filter(
        "isValid(datum.low) && isValid(datum.high)"
    ).encode(x=alt.X("low:Q"), x2=alt.X2("high:Q"), y=y, color=color)
    points = base.mark_point(filled=True, size=50, opacity=1).encode(
        x=alt.X("difference:Q", title=["Difference from", baseline], axis=alt.Axis(titleLimit=150)), y=y, color=color,
        tooltip=tooltip,
    )
    columns = ["group", "panel", "metric", "difference", "low", "high", "q", "flag", "n"]
    return alt.layer(zero, intervals, points, data=pd.DataFrame(rows, columns=columns), width=150,
                     height=alt.Step(18)).facet(
        column=alt.Column("panel:N", title=None, sort=[headers[n] for n in names],
                          header=alt.Header(labelFontSize=12, labelExpr="split(datum.value, '|')")),
        resolve=_x_scales("independent" if task == "regression" else "shared"),
        title=_title(f"{name}: difference from {baseline} (candidate − baseline), with paired intervals", subtitle),
    )


ICICLE_WIDTH = 640
ICICLE_ROW = 60
ICICLE_CHAR = 6.2  # rough width of a character of a 10 px label, to keep labels inside their node


def error_tree_chart(nodes: list[TreeNode], *, measure: str) -> alt.LayerChart:
    """The error tree as an icicle: one row per depth (root on top), each node as wide as its share of rows
    and laid out within its parent, coloured by its error; nodes wide enough say their condition, error and rows.

    Parameters
    ----------
    nodes : list of TreeNode
        From `reportgen.analysis.error_tree.error_tree`, in pre-order (a parent before its children,
        children left to right).
    measure : str
        The error in words ("error rate", "mean |residual|"): the legend title and the labels' word.
    """
    starts: dict[int | None, float] = {}  # where each node's next child starts
    paths: dict[int | None, list[str]] = {None: []}
    rows = []
    for node in nodes:
        x0 = starts.get(node.parent, 0.0)
        starts[node.parent], starts[node.id] = x0 + node.share, x0
        condition = display_label(node.condition)
        paths[node.id] = paths[node.parent] + ([condition] if node.parent is not None else [])
        lines = [condition, f"{measure} {node.error:.3g} · n {node.n:,}"]
        fits = max(len(line) for line in lines) * ICICLE_CHAR + 8 <= node.share * ICICLE_WIDTH
        rows.append({
            "depth": node.depth, "x0": round(x0, 6), "x1": round(x0 + node.share, 6),
            "middle": round(x0 + node.share / 2, 6), "condition": condition,
            "path": " and ".join(paths[node.id]) or condition, "n": node.n, "share": _chart_number(node.share),
            "error": _chart_number(node.error), "label": "\n".join(lines) if fits else "",
        })
    data = pd.DataFrame(rows)
    data["dark"] = data["error"] > 0.6 * data["error"].max()  # white text on the darker nodes
    y = alt.Y("depth:O", axis=None, scale=alt.Scale(paddingInner=0))
    x_scale = alt.Scale(domain=[0, 1], nice=False)  # shares of all rows
    tooltip = [alt.Tooltip("condition:N", title="Condition"), alt.Tooltip("path:N", title="Rows where"),
               alt.Tooltip("n:Q", title="Rows", format=","), alt.Tooltip("share:Q", title="Share", format=".1%"),
               alt.Tooltip("error:Q", title=measure, format=".4g")]
    cells = alt.Chart(data).mark_rect(stroke="white", strokeWidth=1.5).encode(
        x=alt.X("x0:Q", axis=None, scale=x_scale), x2=alt.X2("x1:Q"), y=y,
        color=alt.Color("error:Q", title=measure, scale=alt.Scale(range=["#fff1e6", ALERT], domainMin=0),
                        legend=alt.Legend(type="symbol", symbolType="square")),  # a gradient's SVG id varies
        tooltip=tooltip,
    )
    labels = alt.Chart(data).mark_text(fontSize=10, lineBreak="\n").encode(
        x=alt.X("middle:Q", axis=None, scale=x_scale), y=y, text=alt.Text("label:N"),
        color=alt.condition("datum.dark", alt.value("white"), alt.value("#1f2937")), tooltip=tooltip,
    )
    return alt.layer(cells, labels).properties(
        width=ICICLE_WIDTH, height=alt.Step(ICICLE_ROW),
        title=alt.TitleParams("Error tree", subtitle=f"width: share of rows; colour: {measure}"),
    )


DRIFT_CHART_MAX_COLUMNS = 30  # columns drawn in the drift and by-window charts (largest shift first); the table has all
DISTRIBUTION_CHARTS = 6  # columns whose distributions are drawn, largest shift first
EFFECT_TITLES = {"wasserstein": "Wasserstein (reference SDs)", "jensen_shannon": "Jensen–Shannon"}


def drift_chart(columns: list[DriftColumn]) -> alt.FacetChart:
    """Each tested column's shift from the reference, largest first, against the size from which it drifts (a
    tick), coloured by the verdict; one panel per statistic (numbers: Wasserstein; categories: Jensen–Shannon)."""
    tested = [c for c in columns if c.effect_value is not None][:DRIFT_CHART_MAX_COLUMNS]
    names = dict(zip([c.column for c in tested], display_labels([c.column for c in tested], CHART_LABEL_CHARS),
                     strict=True))
    rows = [{"column": names[c.column], "effect": EFFECT_TITLES[c.effect], "value": c.effect_value,
             "threshold": c.threshold, "verdict": "drifted" if c.drifted else "no drift", "q": c.q_value}
            for c in tested]
    y = alt.Y("column:N", title=None, sort=[names[c.column] for c in tested])
    color = alt.Color("verdict:N", title=None, scale=alt.Scale(domain=["drifted", "no drift"], range=[ALERT, MUTED]))
    bars = alt.Chart().mark_bar(height=12).encode(
        x=alt.X("value:Q", title=None), y=y, color=color,
        tooltip=[alt.Tooltip("column:N"), alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("q:Q", format=".3g")])
    ticks = alt.Chart().mark_tick(color="#111827", thickness=2, size=16).encode(x=alt.X("threshold:Q"), y=y)
    return alt.layer(bars, ticks, data=pd.DataFrame(rows), width=220, height=alt.Step(18)).facet(
        row=alt.Row("effect:N", title=None, header=alt.Header(labelFontSize=12)),
        title=_title("Shift from the reference, largest first (tick: the size from which a column drifts)",
                     _more(len([c for c in columns if c.effect_value is not None]), len(tested))),
    ).resolve_scale(x="independent", y="independent")


def distribution_chart(column: DriftColumn) -> alt.Chart:
    """A column's distribution in the reference and now: shares per bin (numbers, as steps) or per category."""
    d = column.distribution
    sides = (("reference", d.reference), ("current", d.current))
    color = alt.Color("side:N", title=None, scale=alt.Scale(domain=["reference", "current"], range=[MUTED, ACCENT]))
    title = display_label(column.column)
    if d.edges is not None:
        rows = [{"side": side, "start": d.edges[i], "share": share} for side, shares in sides
                for i, share in enumerate([*shares, shares[-1]])]  # the last step drawn to the last edge
        return alt.Chart(pd.DataFrame(rows), title=title).mark_line(interpolate="step-after").encode(
            x=alt.X("start:Q", title=None, scale=alt.Scale(zero=False)),
            y=alt.Y("share:Q", title="Share", axis=alt.Axis(format="%")), color=color,
        ).properties(width=WIDTH, height=120)
    labels = display_labels(d.labels, CHART_LABEL_CHARS)
    rows = [{"side": side, "category": label, "share": share} for side, shares in sides
            for label, share in zip(labels, shares, strict=True)]
    return alt.Chart(pd.DataFrame(rows), title=title).mark_bar().encode(
        y=alt.Y("category:N", title=None, sort=labels), yOffset=alt.YOffset("side:N", sort=["reference", "current"]),
        x=alt.X("share:Q", title="Share", axis=alt.Axis(format="%")), color=color,
    ).properties(width=WIDTH, height=alt.Step(8))


def drift_heatmap(by_window: WindowDrift) -> alt.LayerChart:
    """Each column's PSI per time window (darker: larger), a dot where the window drifted in it; empty windows
    blank."""
    columns = by_window.columns[:DRIFT_CHART_MAX_COLUMNS]
    names = display_labels(columns, CHART_LABEL_CHARS)
    rows = [{"column": name, "window": window, "psi": psi, "drifted": drifted}
            for name, psis, flags in zip(names, by_window.psi, by_window.drifted, strict=False)
            for window, psi, drifted in zip(by_window.windows, psis, flags, strict=True) if psi is not None]
    x = alt.X("window:O", title=None, sort=by_window.windows, axis=alt.Axis(labelAngle=-45))
    y = alt.Y("column:N", title=None, sort=names)
    cells = alt.Chart().mark_rect().encode(
        x=x, y=y, color=alt.Color("psi:Q", title="PSI", scale=alt.Scale(scheme="oranges", domainMin=0)),
        tooltip=[alt.Tooltip("column:N"), alt.Tooltip("window:O"), alt.Tooltip("psi:Q", format=".3f")])
    dots = alt.Chart().mark_point(filled=True, color="#111827", size=30).encode(x=x, y=y).transform_filter(
        alt.datum.drifted)
    return alt.layer(cells, dots, data=pd.DataFrame(rows)).properties(
        width=alt.Step(28), height=alt.Step(18),
        title=_title("PSI by time window (dot: the window drifted in that column)",
                     _more(len(by_window.columns), len(columns))))


def performance_over_time_chart(series: list[MetricSeries], windows: list[str], labels: dict[str, str],
                                changes: list[ChangePoint]) -> alt.FacetChart:
    """Metrics per time window with their intervals (band), the reference's interval as a grey band, and where a
    change detector places the start of a change for the worse (a dashed red rule); a window without rows is a
    gap, not a zero. One panel per metric."""
    starts = {(c.metric, c.start) for c in changes if c.worse}
    rows = [{"metric": labels.get(s.metric, s.metric), "window": v.window, "value": v.value, "low": v.ci_low,
             "high": v.ci_high, "n": v.n, "reference_low": s.reference_low, "reference_high": s.reference_high,
             "change": (s.metric, v.window) in starts, "estimate": v.estimate}
            for s in series for v in s.values]
    x = alt.X("window:O", title=None, sort=windows, axis=alt.Axis(labelAngle=-45))
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    band = alt.Chart().mark_area(color=ACCENT, opacity=0.15).encode(x=x, y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
    line = alt.Chart().mark_line(color=ACCENT, point=alt.OverlayMarkDef(color=ACCENT, filled=True, size=30)).encode(
        x=x, y=y, tooltip=[alt.Tooltip("window:O"), alt.Tooltip("value:Q", format=".3f"),
                           alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("n:Q")])
    reference = alt.Chart().mark_area(color=MUTED, opacity=0.25).encode(
        x=x, y=alt.Y("reference_low:Q"), y2=alt.Y2("reference_high:Q"))
    change = alt.Chart().mark_rule(color=ALERT, strokeDash=[4, 3]).encode(x=x).transform_filter(alt.datum.change)
    estimate = alt.Chart().mark_line(color=MUTED, strokeDash=[2, 2]).encode(x=x, y=alt.Y("estimate:Q"))
    return alt.layer(reference, band, line, estimate, change, data=pd.DataFrame(rows)).properties(width=210, height=120).facet(
        facet=alt.Facet("metric:N", title=None, sort=[labels.get(s.metric, s.metric) for s in series],
                        header=alt.Header(labelFontSize=12)),
        columns=3,
        title=_title(f"By time window, with intervals{_over_time_key(series, starts)}", ""),
    ).resolve_scale(y="independent")


def _over_time_key(series: list[MetricSeries], starts: set[tuple[str, str]]) -> str:
    """The key to what the performance chart draws besides the values: only what it draws."""
    drawn = [("grey band: the reference's interval", any(s.reference_low is not None for s in series)),
             ("dotted: estimated from the probabilities alone", any(v.estimate is not None for s in series
                                                                     for v in s.values)),
             ("dashed red: a change for the worse begins", bool(starts))]
    shown = [what for what, present in drawn if present]
    return f" ({'; '.join(shown)})" if shown else ""


def slice_over_time_chart(series: list[MetricSeries], windows: list[str], label: str, min_support: int
                          ) -> alt.LayerChart:
    """One slice's key metric per group and time window, a line per group with its intervals as ticks; a window
    with fewer than `min_support` of the group's rows is a gap (its value means little on its own)."""
    names = dict(zip([s.group for s in series], display_labels([s.group for s in series], CHART_LABEL_CHARS),
                     strict=True))
    rows = [{"group": names[s.group], "window": v.window, "value": v.value if v.n >= min_support else None,
             "low": v.ci_low, "high": v.ci_high, "n": v.n} for s in series for v in s.values]
    x = alt.X("window:O", title=None, sort=windows, axis=alt.Axis(labelAngle=-45))
    color = alt.Color("group:N", title=None, sort=list(names.values()))
    line = alt.Chart().mark_line(point=alt.OverlayMarkDef(filled=True, size=25)).encode(
        x=x, y=alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)), color=color,
        tooltip=[alt.Tooltip("group:N"), alt.Tooltip("window:O"), alt.Tooltip("value:Q", format=".3f"),
                 alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"), alt.Tooltip("n:Q")])
    bars = alt.Chart().mark_rule(opacity=0.35, strokeWidth=2).encode(x=x, y=alt.Y("low:Q"), y2=alt.Y2("high:Q"),
                                                                     color=color)
    bars = bars.transform_filter(alt.datum.value != None)  # noqa: E711 (a Vega expression, not a Python test)
    title = _title(f"{display_label(series[0].slice)}: {label} by group and time window",
                   f"windows of fewer than {min_support} of a group's rows left out")
    return alt.layer(bars, line, data=pd.DataFrame(rows)).properties(width=560, height=160, title=title)


def _more(total: int, shown: int) -> str:
    return f"the {shown} largest of {total} drawn; the table lists all" if total > shown else ""


IMPORTANCE_CHART_FEATURES = 20  # the permutation-importance chart draws this many features, most important first


def importance_chart(features: list[str], values: list[float], lows: list[float], highs: list[float],
                     what: str, title: str = "Permutation importance (line: the interval over the shuffles)"
                     ) -> alt.LayerChart:
    """Each feature's importance (a bar, most important first) with its interval (a rule); 0 (the feature does not
    matter) marked."""
    shown = display_labels(features[:IMPORTANCE_CHART_FEATURES], CHART_LABEL_CHARS)
    data = pd.DataFrame({"feature": shown, "value": values[:len(shown)], "low": lows[:len(shown)],
                         "high": highs[:len(shown)]})
    y = alt.Y("feature:N", title=None, sort=shown)
    bars = alt.Chart().mark_bar(color=ACCENT, opacity=0.8).encode(
        y=y, x=alt.X("value:Q", title=what), tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("value:Q", format=".4f"),
                                                     alt.Tooltip("low:Q", format=".4f"),
                                                     alt.Tooltip("high:Q", format=".4f")])
    intervals = alt.Chart().mark_rule(color="#111827").encode(y=y, x=alt.X("low:Q"), x2=alt.X2("high:Q"))
    zero = alt.Chart().mark_rule(color=MUTED).encode(x=alt.XDatum(0))
    return alt.layer(bars, intervals, zero, data=data).properties(
        width=WIDTH, height=alt.Step(16),
        title=_title(title, _more(len(features), len(shown))))


def swarm_chart(rows: list[list[object]]) -> alt.Chart:
    """A beeswarm summary drawn from binned data: per feature (a row, most important first), a dot per attribution
    bin sized by its rows and coloured by their mean percentile of the feature's value (blue low, orange high; grey:
    unknown); rows are (feature, bin centre, bin width, rows, percentile or None)."""
    data = pd.DataFrame(rows, columns=["feature", "attribution", "width", "rows", "level"])
    order = list(dict.fromkeys(data["feature"]))
    shown = dict(zip(order, display_labels(order, CHART_LABEL_CHARS), strict=True))
    data["feature"] = data["feature"].map(shown)
    zero = alt.Chart().mark_rule(color=MUTED).encode(x=alt.XDatum(0))
    dots = alt.Chart().mark_circle(opacity=0.9, stroke="#ffffff", strokeWidth=0.5).encode(
        x=alt.X("attribution:Q", title="attribution"),
        y=alt.Y("feature:N", title=None, sort=[shown[f] for f in order]),
        size=alt.Size("rows:Q", title="rows", scale=alt.Scale(range=[8, 260])),
        color=alt.condition("datum.level === null", alt.value(MUTED), alt.Color(
            "level:Q", title="feature value (percentile)", scale=alt.Scale(scheme="blueorange", domain=[0, 1]))),
        tooltip=[alt.Tooltip("feature:N"), alt.Tooltip("attribution:Q", format=".4f"), alt.Tooltip("rows:Q"),
                 alt.Tooltip("level:Q", format=".2f", title="feature value (percentile)")])
    return alt.layer(zero, dots, data=data).properties(
        width=WIDTH, height=alt.Step(22),
        title=_title("Attributions of the most important features",
                     "dot size: rows; colour: the feature's value among all rows, blue low to orange high"))


def dependence_chart(feature: str, rows: list[list[object]], output: str) -> alt.LayerChart:
    """One feature's partial dependence (a line per group of rows: "overall", "sex = f", ...) with the overall ICE
    band (10% to 90% of the rows' curves) and its median (dashed); rows are (group, value, average, ICE 10%,
    ICE 50%, ICE 90%)."""
    data = pd.DataFrame(rows, columns=["rows", "value", "average", "low", "middle", "high"])
    numeric = all(isinstance(v, int | float) for v in data["value"])
    x = alt.X("value:Q" if numeric else "value:N", title=display_labels([feature], CHART_LABEL_CHARS)[0],
              sort=None if numeric else list(dict.fromkeys(data["value"])))
    overall = data[data["rows"] == "overall"]
    band = alt.Chart(overall).mark_area(color=MUTED, opacity=0.25).encode(x=x, y=alt.Y("low:Q", title=output),
                                                                          y2=alt.Y2("high:Q"))
    middle = alt.Chart(overall).mark_line(color=MUTED, strokeDash=[4, 3]).encode(x=x, y=alt.Y("middle:Q"))
    lines = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=20)).encode(
        x=x, y=alt.Y("average:Q"), color=alt.Color("rows:N", title=None, sort=list(dict.fromkeys(data["rows"]))),
        tooltip=[alt.Tooltip("rows:N"), alt.Tooltip("value"), alt.Tooltip("average:Q", format=".4f")])
    return alt.layer(band, middle, lines).properties(
        width=WIDTH, height=160,
        title=_title(f"Partial dependence on {display_labels([feature], CHART_LABEL_CHARS)[0]}",
                     "grey band: 10% to 90% of the rows' ICE curves, dashed: their median"))

