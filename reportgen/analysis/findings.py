"""Plain-language findings: rules that read an evaluation and say what a reviewer should act on.

Each rule is a function from the evaluation to a list of `Finding`; `derive_findings` runs them all
and orders the result by severity. A finding carries its evidence as numbers (with intervals) and
as a sentence, the card section that shows it, and what to try, worded as options.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reportgen.labels import DISPLAY_LABEL_CHARS, display_label, shorten
from reportgen.metrics.intervals import mean_and_variance
from reportgen.metrics.metric import Fraction, Mean
from reportgen.metrics.values import EMPTY

if TYPE_CHECKING:
    from reportgen.evaluation import Evaluation

SEVERITIES = ("high", "medium", "low")
OVERALL = "overall"
MINORITY_SHARE = 0.2  # binary: the rarer class below this share makes accuracy misleading
CLASS_RATIO = 5.0  # multiclass: the largest class this many times the smallest
NEAR_CONSTANT = 0.99  # one predicted class for this share of rows
F1_GAIN = 0.02  # a threshold that raises F1 by this much is worth a look
LARGE_GAP = 0.1  # a weak slice this far below the rest (classification) is high severity
LARGE_ERROR_SHARE = 0.2  # regression: MAE this share above the rest's is high severity
MAX_WEAK_SLICES = 5
SLICE_METRICS = {"binary": ("accuracy", "recall", "fpr"), "multiclass": ("accuracy",), "regression": ("mae",)}


@dataclass(frozen=True)
class Evidence:
    """A number a finding rests on: one metric of one group, with its interval.

    `p_value` and `q_value` (Benjamini–Hochberg adjusted) are set for tests of a group against
    the rest of the data; `compared_with` is the value it was compared with, if any.
    """

    slice: str
    group: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    compared_with: float | None = None
    p_value: float | None = None
    q_value: float | None = None


@dataclass(frozen=True)
class Finding:
    """One finding.

    Attributes
    ----------
    id : str
        The rule that raised it, e.g. "weak_slice".
    severity : str
        "high", "medium" or "low".
    title : str
        One sentence.
    detail : str
        The evidence in words, numbers included.
    section : str
        Anchor of the card section that shows it, e.g. "#slice-2".
    evidence : list of Evidence
        The numbers.
    suggestions : list of str
        What to try, from standard practice; options, not verdicts.
    """

    id: str
    severity: str
    title: str
    detail: str
    section: str
    evidence: list[Evidence]
    suggestions: list[str]


def derive_findings(ev: Evaluation, *, extra: Sequence[Finding] = ()) -> list[Finding]:
    """Run every rule and add the `extra` findings (e.g. the training history's); ordered by severity, then
    in rule order."""
    found = [finding for rule in RULES for finding in rule(ev)] + list(extra)
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))


# ---------------------------------------------------------------------------------------------- helpers


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _q(value: float) -> str:
    return "< 1e-15" if value < 1e-15 else f"= {value:.2g}"


def _plain(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _row(ev: Evaluation, slice_name: str, group: str, metric: str) -> Any:
    table = ev.metrics
    rows = table[(table["slice"] == slice_name) & (table["group"] == group) & (table["metric"] == metric)]
    return rows.iloc[0] if len(rows) else None


def _evidence(ev: Evaluation, slice_name: str, group: str, metric: str, **extra: Any) -> Evidence:
    row = _row(ev, slice_name, group, metric)
    return Evidence(
        slice=slice_name, group=group, metric=metric, value=_plain(row["value"]), ci_low=_plain(row["ci_low"]),
        ci_high=_plain(row["ci_high"]), n=int(row["n"]), **extra,
    )


def _overall(ev: Evaluation, metric: str) -> float | None:
    row = _row(ev, OVERALL, OVERALL, metric)
    return None if row is None else _plain(row["value"])


def _slice_anchor(ev: Evaluation, slice_name: str) -> str:
    names = [family.name for family in ev.families if family.name != OVERALL]
    return f"#slice-{names.index(slice_name) + 1}" if slice_name in names else "#overall"


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), in the input's order.

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(adjusted, 1.0)
    return q


def _two_sided(z: np.ndarray) -> np.ndarray:
    normal = NormalDist()
    return np.array([2 * (1 - normal.cdf(abs(v))) if np.isfinite(v) else np.nan for v in np.atleast_1d(z)])


def _against_rest(measure: Fraction | Mean, overall: Fraction | Mean) -> tuple[np.ndarray, np.ndarray]:
    """Each group's value minus the rest of the data's, and the two-sided p-value of that difference.

    Proportions: the pooled two-proportion z-test; means: Welch's z-test. The rest is the whole
    data set less the group, so the two samples are disjoint.
    """
    if isinstance(measure, Fraction):
        assert isinstance(overall, Fraction)
        k, m = measure.numerator.astype(np.float64), measure.denominator.astype(np.float64)
        k_rest, m_rest = overall.numerator[0] - k, overall.denominator[0] - m
        with np.errstate(divide="ignore", invalid="ignore"):
            p1, p2 = k / m, k_rest / m_rest
            pooled = (k + k_rest) / (m + m_rest)
            z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / m + 1 / m_rest))
        z = np.where((pooled > 0) & (pooled < 1), z, 0.0)
        return p1 - p2, _two_sided(z)
    assert isinstance(overall, Mean)
    mean, variance = mean_and_variance(measure.total, measure.squares, measure.n)
    mean_rest, variance_rest = mean_and_variance(
        overall.total[0] - measure.total, overall.squares[0] - measure.squares, overall.n[0] - measure.n
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean - mean_rest) / np.sqrt(variance + variance_rest)
    return mean - mean_rest, _two_sided(z)


def _measure(ev: Evaluation, slice_name: str, metric: str) -> Fraction | Mean | None:
    """The metric's per-group counts (a proportion) or moments (a mean), where it has them."""
    stats = ev.statistics[slice_name]
    if ev.task == "regression":
        return Mean(*stats.errors.moments(metric), undefined=EMPTY)
    entry = ev.registry[metric]
    result = entry.compute(getattr(stats, entry.source))
    return result if isinstance(result, Fraction) else None


# ---------------------------------------------------------------------------------------------- rules


def class_imbalance(ev: Evaluation) -> list[Finding]:
    """A rare class makes accuracy misleading: say which metric to read instead."""
    suggestions = [
        "Read balanced accuracy, macro F1 and the precision-recall view rather than accuracy.",
        "In training, consider class weights or resampling (over-sampling the rare class, under-sampling the common one).",
        "Consider tuning the decision threshold for the costs of each kind of error.",
    ]
    if ev.task == "binary":
        prevalence = _overall(ev, "prevalence")
        if prevalence is None or min(prevalence, 1 - prevalence) >= MINORITY_SHARE:
            return []
        rare = "positive" if prevalence < 0.5 else "negative"
        majority_accuracy = max(prevalence, 1 - prevalence)
        detail = (
            f"Only {_pct(min(prevalence, 1 - prevalence))} of rows are {rare}: always predicting the other class "
            f"would score an accuracy of {_num(majority_accuracy)}. The model's accuracy is "
            f"{_num(_overall(ev, 'accuracy'))}; its balanced accuracy is {_num(_overall(ev, 'balanced_accuracy'))}, "
            f"average precision {_num(_overall(ev, 'average_precision'))} and MCC {_num(_overall(ev, 'mcc'))}."
        )
        metrics = ("prevalence", "accuracy", "balanced_accuracy", "average_precision", "mcc")
    elif ev.task == "multiclass":
        counts = ev.statistics[OVERALL].confusion.true_counts[0].astype(np.float64)
        present = counts[counts > 0]
        if len(present) < 2 or present.max() < CLASS_RATIO * present.min():
            return []
        classes = ev.predictions.classes
        largest, smallest = int(np.argmax(counts)), int(np.argmin(np.where(counts > 0, counts, np.inf)))
        share = counts / counts.sum()
        detail = (
            f'Class "{classes[largest]}" has {_pct(share[largest])} of rows and "{classes[smallest]}" '
            f"{_pct(share[smallest])} ({present.max() / present.min():.0f}×): accuracy "
            f"({_num(_overall(ev, 'accuracy'))}) is dominated by the common classes. Macro F1 is "
            f"{_num(_overall(ev, 'macro_f1'))} and balanced accuracy {_num(_overall(ev, 'balanced_accuracy'))}."
        )
        metrics = ("accuracy", "balanced_accuracy", "macro_f1")
    else:
        return []
    return [Finding(
        id="class_imbalance", severity="medium",
        title="The classes are imbalanced, so accuracy overstates performance.",
        detail=detail, section="#overall",
        evidence=[_evidence(ev, OVERALL, OVERALL, m) for m in metrics],
        suggestions=suggestions,
    )]


def weak_slices(ev: Evaluation) -> list[Finding]:
    """Groups whose metric is significantly worse than the rest of the data (Benjamini–Hochberg)."""
    tests = []
    min_support = ev.config.report.min_support
    for family in ev.families:
        if family.name == OVERALL:
            continue
        for metric in SLICE_METRICS[ev.task]:
            measure, overall = _measure(ev, family.name, metric), _measure(ev, OVERALL, metric)
            if measure is None or overall is None:
                continue
            difference, p_value = _against_rest(measure, overall)
            size = np.asarray(ev.statistics[family.name].n)
            for index, label in enumerate(family.labels):
                if size[index] >= min_support and np.isfinite(p_value[index]) and size[index] < ev.statistics[OVERALL].n[0]:
                    tests.append((family.name, label, metric, float(difference[index]), float(p_value[index])))
    if not tests:
        return []
    q_values = benjamini_hochberg(np.array([t[4] for t in tests]))
    fdr = ev.config.findings.fdr
    weak = []
    for (slice_name, group, metric, difference, p_value), q_value in zip(tests, q_values, strict=True):
        worse = difference < 0 if ev.registry[metric].higher_is_better else difference > 0
        if q_value <= fdr and worse:
            weak.append((abs(difference), slice_name, group, metric, difference, p_value, float(q_value)))
    weak.sort(key=lambda t: -t[0])
    findings = []
    for _, slice_name, group, metric, difference, p_value, q_value in weak[:MAX_WEAK_SLICES]:
        label = ev.registry[metric].label
        overall_value = _overall(ev, metric)
        evidence = _evidence(ev, slice_name, group, metric, compared_with=overall_value, p_value=p_value,
                             q_value=q_value)
        relative = abs(difference) / overall_value if overall_value else np.inf
        large = relative >= LARGE_ERROR_SHARE if ev.task == "regression" else abs(difference) >= LARGE_GAP
        findings.append(Finding(
            id="weak_slice", severity="high" if large else "medium",
            title=f'{label} is significantly worse for {display_label(slice_name)} = "{display_label(group)}" than '
                  "for the rest of the data.",
            detail=(
                f'{label} for "{display_label(group)}" is {_num(evidence.value)} ({_num(evidence.ci_low)}–{_num(evidence.ci_high)}, '
                f"{evidence.n:,} rows) against {_num(overall_value)} overall; the difference from the rest of the data, "
                f"{difference:+.3f}, is significant after Benjamini–Hochberg correction over {len(tests)} tests "
                f"(q {_q(q_value)}, false discovery rate {fdr:g})."
            ),
            section=_slice_anchor(ev, slice_name),
            evidence=[evidence],
            suggestions=[
                "Collect more (or augmented) training data for this group, and check its labels for errors.",
                "Look for features that would explain this group's behaviour, or for a shift between its training and evaluation data.",
                "If a different decision threshold for this group is considered, weigh its legal and fairness implications.",
            ],
        ))
    if len(weak) > MAX_WEAK_SLICES:
        findings.append(Finding(
            id="weak_slice", severity="low",
            title=f"{len(weak) - MAX_WEAK_SLICES} more group{'s are' if len(weak) - MAX_WEAK_SLICES > 1 else ' is'} "
                  "significantly worse than the rest of the data.",
            detail="They are marked in the slice tables; the five with the largest differences are listed above.",
            section="#slices", evidence=[], suggestions=[],
        ))
    return findings


def fairness_breaches(ev: Evaluation) -> list[Finding]:
    """Fairness gaps beyond their threshold, one finding per sensitive column (and class), saying which are significant."""
    findings = []
    breached = ev.fairness[ev.fairness["breached"].eq(True)]
    for (sensitive, class_label), rows in breached.groupby(["sensitive", "class_label"], sort=False, dropna=False):
        class_label = None if pd.isna(class_label) else class_label
        of_class = f' for class "{class_label}"' if class_label is not None else ""
        significant = rows["significant"].eq(True)
        parts = [
            f"{str(row.gap).replace('_', ' ')} {_num(row.value)} ({_num(row.ci_low)}–{_num(row.ci_high)}, "
            f"threshold {row.threshold:.3g}, {shorten(str(row.between), 2 * DISPLAY_LABEL_CHARS)}"
            f"{'' if row.significant else '; not significant'})"
            for row in rows.itertuples()
        ]
        findings.append(Finding(
            id="fairness_gap", severity="high" if significant.any() else "medium",
            title=f"{len(rows)} fairness gap{'s' if len(rows) > 1 else ''}{of_class} across {sensitive} "
                  f"{'are' if len(rows) > 1 else 'is'} beyond the threshold"
                  + (f", {int(significant.sum())} significantly." if significant.any() else ", none significantly."),
            detail="Beyond the threshold: " + "; ".join(parts) + "."
                   + ("" if significant.all() else " A gap whose interval includes no gap may be noise: more data would tell."),
            section=f"#fairness-{ev.config.fairness.sensitive.index(sensitive) + 1}",
            evidence=[Evidence(slice=str(sensitive), group=str(row.between), metric=str(row.gap), value=_plain(row.value),
                               ci_low=_plain(row.ci_low), ci_high=_plain(row.ci_high), n=None,
                               compared_with=float(row.threshold)) for row in rows.itertuples()],
            suggestions=[
                "Look at the per-group rates to see which group drives the gap, and whether the labels themselves are biased.",
                "Mitigations to consider: reweighting or resampling the training data, fairness-constrained training "
                "(e.g. Fairlearn's ExponentiatedGradient) or group-aware thresholds (e.g. Fairlearn's ThresholdOptimizer).",
            ],
        ))
    return findings


def small_slices(ev: Evaluation) -> list[Finding]:
    """Groups with fewer rows than `min_support`: their numbers are greyed in the card."""
    min_support = ev.config.report.min_support
    small = [
        (family.name, label, int(n))
        for family in ev.families if family.name != OVERALL
        for label, n in zip(family.labels, ev.statistics[family.name].n, strict=True)
        if n < min_support
    ]
    if not small:
        return []
    shown = ", ".join(f'{display_label(s)} = "{display_label(g)}" ({n})' for s, g, n in small[:8]) + (f", and {len(small) - 8} more" if len(small) > 8 else "")
    return [Finding(
        id="small_slices", severity="low",
        title=f"{len(small)} group{'s have' if len(small) > 1 else ' has'} fewer than {min_support} rows; "
              "their numbers are too uncertain to read alone.",
        detail=f"Greyed in the tables: {shown}. Their intervals are wide and they are left out of the weak-slice tests.",
        section="#slices",
        evidence=[Evidence(slice=s, group=g, metric="count", value=float(n), ci_low=None, ci_high=None, n=n)
                  for s, g, n in small[:20]],
        suggestions=[
            "Merge small groups (coarser bins or categories), or collect more evaluation data for them.",
            "Read their intervals rather than their point values.",
        ],
    )]


def undefined_metrics(ev: Evaluation) -> list[Finding]:
    """Metric values that are undefined, counted by reason."""
    table = ev.metrics[ev.metrics["value"].isna() & (ev.metrics["n"] > 0)]
    if table.empty:
        return []
    overall = table[table["slice"] == OVERALL]
    reasons = Counter(table["undefined_reason"])
    detail = "; ".join(f"{n} × {reason}" for reason, n in reasons.most_common())
    if not overall.empty:
        labels = ", ".join(ev.registry[m].label for m in overall["metric"])
        title = f"{labels} {'is' if len(overall) == 1 else 'are'} undefined on the whole evaluation set."
    else:
        title = f"{len(table)} metric values are undefined in some groups (shown as n/a, never as 0)."
    return [Finding(
        id="undefined_metrics", severity="medium" if not overall.empty else "low",
        title=title, detail=f"Reasons: {detail}.",
        section="#overall" if not overall.empty else "#slices",
        evidence=[_evidence(ev, OVERALL, OVERALL, m) for m in overall["metric"]],
        suggestions=["Where a group lacks a class, its class-based metrics cannot be computed: merge groups or add data."],
    )]


def poor_calibration(ev: Evaluation) -> list[Finding]:
    """An expected calibration error above `[findings] max_ece`."""
    if "ece" not in ev.registry:
        return []
    ece = _overall(ev, "ece")
    limit = ev.config.findings.max_ece
    if ece is None or ece <= limit:
        return []
    what = "top-label probabilities" if ev.task == "multiclass" else "scores"
    return [Finding(
        id="poor_calibration", severity="medium",
        title=f"The model's {what} are poorly calibrated (ECE {_num(ece)}, above {limit:g}).",
        detail=(
            f"On average the predicted probability is {_num(ece)} away from the observed frequency "
            f"(uniform bins; the largest bin gap, MCE, is {_num(_overall(ev, 'mce'))}). Probabilities read as "
            "risks would mislead."
        ),
        section="#calibration",
        evidence=[_evidence(ev, OVERALL, OVERALL, m) for m in ("ece", "mce", "ece_quantile")],
        suggestions=[
            "Recalibrate on held-out data: Platt scaling (scikit-learn's CalibratedClassifierCV, method='sigmoid') "
            "or isotonic regression (method='isotonic', which needs more data)"
            + ("; for neural networks, temperature scaling." if ev.task == "multiclass" else "."),
            "Check for a shift between the training and evaluation data.",
        ],
    )]


def constant_predictions(ev: Evaluation) -> list[Finding]:
    """One predicted class (or a near-constant predicted value) for almost every row."""
    predictions = ev.predictions
    if ev.task == "regression":
        spread, target_spread = float(np.std(predictions.y_pred)), float(np.std(predictions.y_true))
        if target_spread == 0 or spread >= (1 - NEAR_CONSTANT) * target_spread:
            return []
        detail = (f"The predictions' standard deviation is {spread:.4g}, against {target_spread:.4g} for the targets: "
                  "the model barely varies its output.")
    else:
        counts = np.bincount(predictions.y_pred, minlength=max(len(predictions.classes), 2))
        top = int(np.argmax(counts))
        share = counts[top] / counts.sum()
        if share < NEAR_CONSTANT:
            return []
        name = predictions.classes[top] if ev.task == "multiclass" else (
            f"positive ({predictions.positive_label})" if top == 1 else "negative")
        detail = f"The model predicts {name} for {_pct(share)} of rows."
    return [Finding(
        id="constant_predictions", severity="high",
        title="The predictions are constant or nearly so.",
        detail=detail, section="#overall", evidence=[],
        suggestions=[
            "Check that the right model was trained, saved and loaded: a constant output often means a pipeline bug.",
            "Check the decision threshold against the score distribution, and the class balance of the training data.",
        ],
    )]


def threshold_choice(ev: Evaluation) -> list[Finding]:
    """Binary: a threshold that would give a clearly higher F1 than the configured one."""
    choice = ev.curves.thresholds
    f1 = _overall(ev, "f1")
    if choice is None or choice.f1 is None or f1 is None or choice.f1 - f1 < F1_GAIN:
        return []
    data = ev.config.data
    current = f'the "{data.prediction}" column' if data.prediction else f"threshold {data.threshold:g}"
    return [Finding(
        id="threshold_choice", severity="low",
        title=f"A decision threshold of {choice.f1_threshold:.3g} would raise F1 from {_num(f1)} to {_num(choice.f1)}.",
        detail=(
            f"With {current}, F1 is {_num(f1)}; on this data, predicting positive at score ≥ {choice.f1_threshold:.4g} "
            f"gives F1 {_num(choice.f1)}, and Youden's J (TPR − FPR) is highest, {_num(choice.youden_j)}, at "
            f"{choice.youden_threshold:.4g}. Chosen on the evaluation data itself, these are optimistic."
        ),
        section="#overall",
        evidence=[_evidence(ev, OVERALL, OVERALL, "f1", compared_with=choice.f1)],
        suggestions=[
            "Tune the threshold on a separate validation set, for the costs of false positives and false negatives.",
        ],
    )]


def systematic_bias(ev: Evaluation) -> list[Finding]:
    """Regression: a mean residual whose interval excludes 0."""
    if ev.task != "regression":
        return []
    evidence = _evidence(ev, OVERALL, OVERALL, "mean_residual")
    if evidence.value is None or evidence.ci_low is None or (evidence.ci_low <= 0 <= evidence.ci_high):
        return []
    direction = "under-predicts" if evidence.value > 0 else "over-predicts"
    return [Finding(
        id="systematic_bias", severity="low",
        title=f"The model {direction} on average, by {abs(evidence.value):.4g}.",
        detail=(f"The mean residual (actual − predicted) is {evidence.value:.4g} "
                f"({evidence.ci_low:.4g} to {evidence.ci_high:.4g}); its interval excludes 0."),
        section="#overall", evidence=[evidence],
        suggestions=["Check for a shift in the target between training and evaluation data; "
                     "a bias term or recalibration of the output (e.g. isotonic) may remove it."],
    )]


RULES: tuple[Callable[[Evaluation], list[Finding]], ...] = (
    constant_predictions,
    class_imbalance,
    weak_slices,
    fairness_breaches,
    poor_calibration,
    threshold_choice,
    systematic_bias,
    undefined_metrics,
    small_slices,
)
