"""Altair chart builders: one pure function per chart, from document dataclasses to `alt.Chart`.

No I/O, no rendering and no metric math: chart data arrives pre-aggregated and small.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from reportgen.metrics.curves import CalibrationBins, Curve, ScoreHistogram
from reportgen.report import FairnessResult, OperatingPoint, SliceResult

FONT = "DejaVu Sans"
ACCENT = "#2456a4"
MUTED = "#8a94a6"
ALERT = "#c2410c"
WIDTH = 280
SLICE_METRICS = ("accuracy", "recall", "fpr", "roc_auc")
SLICE_CHART_MAX_GROUPS = 30
RATE_LABELS = {
    "selection_rate": "Selection rate",
    "tpr": "True positive rate",
    "fpr": "False positive rate",
    "precision": "Precision",
}


def theme(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply the card's look: its font, quiet axes, no chart border."""
    return chart.configure(font=FONT).configure_view(strokeWidth=0).configure_axis(
        labelFontSize=11, titleFontSize=11, titleFontWeight="normal", gridColor="#e5e7eb", domainColor="#9ca3af"
    ).configure_legend(labelFontSize=11, titleFontSize=11, orient="bottom")


def _diagonal() -> alt.Chart:
    data = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0]})
    return alt.Chart(data).mark_line(color=MUTED, strokeDash=[4, 4]).encode(x="x:Q", y="y:Q")


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
                x="x:Q", y="y:Q", tooltip=[alt.Tooltip("label:N", title="Operating point")]
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
    baseline = alt.Chart(pd.DataFrame({"y": [prevalence]})).mark_rule(color=MUTED, strokeDash=[4, 4]).encode(y="y:Q")
    return alt.layer(baseline, line).properties(width=WIDTH, height=WIDTH, title="Precision-recall curve")


def calibration_chart(bins: CalibrationBins) -> alt.LayerChart:
    """Reliability diagram: observed positive rate per score bin, with intervals."""
    data = pd.DataFrame(
        {"x": bins.mean_score, "y": bins.observed, "low": bins.ci_low, "high": bins.ci_high, "n": bins.n}
    )
    base = alt.Chart(data)
    tooltip = [
        alt.Tooltip("x:Q", title="Mean score", format=".3f"),
        alt.Tooltip("y:Q", title="Observed rate", format=".3f"),
        alt.Tooltip("n:Q", title="Rows"),
    ]
    bars = base.mark_rule(color=ACCENT, opacity=0.6).encode(x="x:Q", y="low:Q", y2="high:Q")
    line = base.mark_line(color=ACCENT, point=alt.OverlayMarkDef(color=ACCENT, size=30)).encode(
        x=_unit("x", "Mean predicted probability"), y=_unit("y", "Observed positive rate"), tooltip=tooltip
    )
    return alt.layer(_diagonal(), bars, line).properties(width=WIDTH, height=WIDTH, title="Calibration")


def score_histogram_chart(histogram: ScoreHistogram, positive_label: str) -> alt.Chart:
    """Score distribution by true class, pre-binned."""
    edges = histogram.edges
    rows = []
    for name, counts in ((f"positive ({positive_label})", histogram.positives), ("negative", histogram.negatives)):
        rows += [
            {"start": lo, "end": hi, "count": c, "class": name}
            for lo, hi, c in zip(edges[:-1], edges[1:], counts, strict=True)
        ]
    return alt.Chart(pd.DataFrame(rows)).mark_rect(opacity=0.6).encode(
        x=alt.X("start:Q", title="Score", scale=alt.Scale(domain=[0, 1])),
        x2="end:Q",
        y=alt.Y("count:Q", title="Rows"),
        y2=alt.datum(0),
        color=alt.Color("class:N", title="True class", scale=alt.Scale(range=[ACCENT, "#d97706"])),
        tooltip=["class:N", alt.Tooltip("start:Q", title="From"), alt.Tooltip("end:Q", title="To"), "count:Q"],
    ).properties(width=WIDTH, height=WIDTH * 0.7, title="Score distribution by class")


def slice_chart(result: SliceResult, overall: dict[str, float | None], labels: dict[str, str]) -> alt.FacetChart:
    """Key metrics per group with intervals, one panel per metric, the overall value as a rule.

    At most `SLICE_CHART_MAX_GROUPS` groups (the largest) are drawn; the table has them all.
    """
    groups = sorted(result.groups, key=lambda g: -g.n)[:SLICE_CHART_MAX_GROUPS]
    order = [g.group for g in result.groups if g in groups]
    rows = [
        {
            "group": g.group, "metric": labels[m.name], "value": m.value, "low": m.ci_low, "high": m.ci_high,
            "n": g.n, "overall": overall[m.name],
        }
        for g in groups
        for m in g.metrics
        if m.name in SLICE_METRICS
    ]
    base = alt.Chart()
    y = alt.Y("group:N", title=None, sort=order)
    x = alt.X("value:Q", title=None, scale=alt.Scale(domain=[0, 1]))
    tooltip = ["group:N", "metric:N", alt.Tooltip("value:Q", format=".3f"), alt.Tooltip("low:Q", format=".3f"),
               alt.Tooltip("high:Q", format=".3f"), "n:Q"]
    rule = base.mark_rule(color=MUTED, strokeDash=[4, 3]).encode(x="mean(overall):Q")
    bars = base.mark_rule(color=ACCENT, strokeWidth=2, opacity=0.5).encode(x="low:Q", x2="high:Q", y=y)
    points = base.mark_point(color=ACCENT, filled=True, size=45).encode(x=x, y=y, tooltip=tooltip)
    return alt.layer(rule, bars, points, data=pd.DataFrame(rows)).properties(
        width=150, height=alt.Step(18)
    ).facet(
        column=alt.Column("metric:N", title=None, sort=[labels[m] for m in SLICE_METRICS],
                          header=alt.Header(labelFontSize=12)),
    ).properties(title=f"{result.name}: key metrics by group (dashed: overall)")


def fairness_chart(result: FairnessResult) -> alt.FacetChart:
    """Each group's rate minus the reference group's, with intervals and the allowed band."""
    rows = [
        {
            "group": g.group, "rate": RATE_LABELS[r.rate], "difference": r.difference, "low": r.ci_low,
            "high": r.ci_high, "breached": "beyond threshold" if r.breached else "within threshold",
            "band_low": -result.max_difference, "band_high": result.max_difference,
        }
        for g in result.groups
        for r in g.rates
        if not g.is_reference and r.difference is not None
    ]
    base = alt.Chart()
    y = alt.Y("group:N", title=None)
    x = alt.X("difference:Q", title=f"Difference from {result.reference}")
    band = base.mark_rect(color="#e8eef8").encode(x="min(band_low):Q", x2="max(band_high):Q")
    zero = base.mark_rule(color=MUTED).encode(x=alt.datum(0))
    bars = base.mark_rule(color=ACCENT, strokeWidth=2, opacity=0.5).encode(x="low:Q", x2="high:Q", y=y)
    points = base.mark_point(filled=True, size=50).encode(
        x=x, y=y,
        color=alt.Color("breached:N", title=None, scale=alt.Scale(
            domain=["within threshold", "beyond threshold"], range=[ACCENT, ALERT])),
        tooltip=["group:N", "rate:N", alt.Tooltip("difference:Q", format="+.3f"),
                 alt.Tooltip("low:Q", format="+.3f"), alt.Tooltip("high:Q", format="+.3f")],
    )
    return alt.layer(band, zero, bars, points, data=pd.DataFrame(rows)).properties(
        width=150, height=alt.Step(20)
    ).facet(column=alt.Column("rate:N", title=None, sort=list(RATE_LABELS.values()))).properties(
        title=f"{result.sensitive}: gaps against the reference group (shaded: ±{result.max_difference:g})"
    )
