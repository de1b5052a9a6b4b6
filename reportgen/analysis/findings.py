"""Plain-language findings: rules that read the measured tables and say what a reviewer should act on.

Each rule is a function from `FindingInputs` to a list of `Finding`; `derive_findings` runs them all.
A finding carries its evidence as numbers (with intervals) and as a sentence, the card section
that shows it; what to try comes later, with each finding's numbers (`reportgen.analysis.suggestions`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding, Outcome, TestFamily
from reportgen.formatting import count, counted_support, figure, num, p_clause, pct, signed
from reportgen.io import Predictions
from reportgen.labels import DISPLAY_LABEL_CHARS, display_label, shorten
from reportgen.metrics.measure import Measured
from reportgen.metrics.metric import Fraction, Mean
from reportgen.metrics.significance import against_rest, benjamini_hochberg
from reportgen.metrics.values import EMPTY
from reportgen.slices import OTHER, SliceFamily
from reportgen.vocabulary import OVERALL, TESTED_METRICS

MINORITY_SHARE = 0.2  # binary: the rarer class below this share makes accuracy misleading
CLASS_RATIO = 5.0  # multiclass: the largest class this many times the smallest
NEAR_CONSTANT = 0.99  # one predicted class for this share of rows
F1_GAIN = 0.02  # a threshold that raises F1 by this much is worth a look
LARGE_GAP = 0.1  # a weak slice this far below the rest (classification) is high severity
LARGE_ERROR_SHARE = 0.2  # regression: MAE this share above the rest's is high severity
MAX_WEAK_SLICES = 5
WEAK_SLICES = "weak slices"  # the family of the weak-slice tests


@dataclass(frozen=True)
class FindingInputs:
    """What the rules read.

    Attributes
    ----------
    predictions : Predictions
        The checked input (its labels and predicted classes).
    measured : Measured
        The metric tables and statistics of every group.
    fairness_gaps : DataFrame
        The fairness analysis's summary gaps (`Fairness.gaps`).
    min_support, fdr, max_ece : int, float, float
        As ``[report] min_support``, ``[findings] fdr`` and ``[findings] max_ece``.
    threshold : float
        Binary: the decision threshold on the score.
    prediction_column : str or None
        The column of predicted labels, where the predictions were given rather than derived.
    """

    predictions: Predictions
    measured: Measured
    fairness_gaps: pd.DataFrame
    min_support: int
    fdr: float
    max_ece: float
    threshold: float
    prediction_column: str | None


def derive_findings(inputs: FindingInputs) -> list[Finding]:
    """Run every rule, in rule order."""
    return [finding for rule in RULES for finding in rule(inputs)]


def run(context: Context) -> Outcome:
    """The rules over an evaluation's measured tables and fairness gaps (the "findings" analysis)."""
    config = context.config
    inputs = FindingInputs(
        predictions=context.predictions, measured=context.measured, fairness_gaps=context.results["fairness"].gaps,
        min_support=config.report.min_support, fdr=config.findings.fdr, max_ece=config.findings.max_ece,
        threshold=config.data.threshold, prediction_column=config.data.prediction,
    )
    families = [weak_slice_family(inputs)] if len(inputs.measured.families) > 1 else []
    found = derive_findings(inputs)
    checks = context.results["checks"]
    if checks is not None and checks.nearly_one_class:  # its finding says what class_imbalance would, and more
        found = [f for f in found if f.id != "class_imbalance"]
    return Outcome(None, found, families)


# ---------------------------------------------------------------------------------------------- helpers


def _plain(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _row(inputs: FindingInputs, slice_name: str, group: str, metric: str) -> Any:
    table = inputs.measured.metrics
    rows = table[(table["slice"] == slice_name) & (table["group"] == group) & (table["metric"] == metric)]
    return rows.iloc[0] if len(rows) else None


def _evidence(inputs: FindingInputs, slice_name: str, group: str, metric: str, **extra: Any) -> Evidence:
    row = _row(inputs, slice_name, group, metric)
    return Evidence(
        slice=slice_name, group=group, metric=metric, value=_plain(row["value"]), ci_low=_plain(row["ci_low"]),
        ci_high=_plain(row["ci_high"]), n=int(row["n"]), support=int(row["support"]),
        support_unit=str(row["support_unit"]), **extra,
    )


def _supported(evidence: Evidence) -> str:
    """The rows a value rests on, in words: "6 positives", "191 rows"."""
    return counted_support(evidence.support, evidence.support_unit)


def _support(measure: Fraction | Mean) -> np.ndarray:
    """The rows a proportion or a mean rests on, per group: its denominator, or its count."""
    return np.asarray(measure.denominator if isinstance(measure, Fraction) else measure.n, dtype=np.int64)


def _measure(inputs: FindingInputs, slice_name: str, metric: str) -> Fraction | Mean | None:
    """The metric's per-group counts (a proportion) or moments (a mean), where it has them."""
    stats = inputs.measured.statistics[slice_name]
    if inputs.measured.task == "regression":
        return Mean(*stats.errors.moments(metric), undefined=EMPTY)
    entry = inputs.measured.registry[metric]
    result = entry.compute(getattr(stats, entry.source))
    return result if isinstance(result, Fraction) else None


# ---------------------------------------------------------------------------------------------- rules


def class_imbalance(inputs: FindingInputs) -> list[Finding]:
    """A rare class makes accuracy misleading: say which metric to read instead."""
    if inputs.measured.task == "binary":
        prevalence = inputs.measured.overall("prevalence")
        cells = inputs.measured.statistics[OVERALL].confusion
        positives, rows = int(cells.tp[0] + cells.fn[0]), int(cells.tp[0] + cells.fn[0] + cells.fp[0] + cells.tn[0])
        minority = min(positives, rows - positives) / rows  # from counts: 1 - prevalence would round below the line
        if prevalence is None or minority >= MINORITY_SHARE:
            return []
        rare = "positive" if prevalence < 0.5 else "negative"
        majority_accuracy = 1 - minority
        detail = (
            f"Only {pct(minority)} of rows are {rare}: always predicting the other class "
            f"would score an accuracy of {num(majority_accuracy)}. The model's accuracy is "
            f"{num(inputs.measured.overall('accuracy'))}; its balanced accuracy is {num(inputs.measured.overall('balanced_accuracy'))}, "
            f"average precision {num(inputs.measured.overall('average_precision'))} and MCC {num(inputs.measured.overall('mcc'))}."
        )
        metrics = ("prevalence", "accuracy", "balanced_accuracy", "average_precision", "mcc")
    elif inputs.measured.task == "multiclass":
        counts = inputs.measured.statistics[OVERALL].confusion.true_counts[0].astype(np.float64)
        present = counts[counts > 0]
        if len(present) < 2 or present.max() < CLASS_RATIO * present.min():
            return []
        classes = inputs.predictions.classes
        largest, smallest = int(np.argmax(counts)), int(np.argmin(np.where(counts > 0, counts, np.inf)))
        share = counts / counts.sum()
        detail = (
            f'Class "{classes[largest]}" has {pct(share[largest])} of rows and "{classes[smallest]}" '
            f"{pct(share[smallest])} ({present.max() / present.min():.0f}×): accuracy "
            f"({num(inputs.measured.overall('accuracy'))}) is dominated by the common classes. Macro F1 is "
            f"{num(inputs.measured.overall('macro_f1'))} and balanced accuracy {num(inputs.measured.overall('balanced_accuracy'))}."
        )
        metrics = ("accuracy", "balanced_accuracy", "macro_f1")
    else:
        return []
    return [Finding(
        id="class_imbalance", severity="medium",
        title="The classes are imbalanced, so accuracy overstates performance.",
        detail=detail, section="overall", subject=None,
        evidence=[_evidence(inputs, OVERALL, OVERALL, m) for m in metrics],
    )]


def weak_slice_tests(inputs: FindingInputs) -> pd.DataFrame:
    """Every group of every slice against the rest of the data, on the task's `TESTED_METRICS`.

    One row per test: slice, group, metric, difference (group − rest), p_value, q_value
    (Benjamini–Hochberg over all of them: the "weak slices" family) and worse (the difference is in
    the metric's worse direction). A group is tested on a metric only where its p-value is finite
    and the rows the metric rests on (its support: the positives for recall, the negatives for FPR,
    the rows for accuracy) number at least `min_support`, in the group and in the rest of the data.
    """
    tests = []
    min_support = inputs.min_support
    for family in inputs.measured.families:
        if family.name == OVERALL:
            continue
        for metric in TESTED_METRICS[inputs.measured.task]:
            measure, overall = _measure(inputs, family.name, metric), _measure(inputs, OVERALL, metric)
            if measure is None or overall is None:
                continue
            difference, p_value = against_rest(measure, overall)
            support = _support(measure)
            testable = (support >= min_support) & (_support(overall)[0] - support >= min_support) & np.isfinite(p_value)
            tests += [(family.name, family.labels[i], metric, float(difference[i]), float(p_value[i]))
                      for i in np.flatnonzero(testable)]
    table = pd.DataFrame(tests, columns=["slice", "group", "metric", "difference", "p_value"])
    higher_is_better = table["metric"].map(lambda name: bool(inputs.measured.registry[name].higher_is_better))
    return table.assign(q_value=benjamini_hochberg(table["p_value"].to_numpy(dtype=np.float64)),
                        worse=np.where(higher_is_better, table["difference"] < 0, table["difference"] > 0))


def weak_slice_family(inputs: FindingInputs) -> TestFamily:
    """The "weak slices" family: its tests, and the discoveries (groups significantly worse than the rest)."""
    tests = weak_slice_tests(inputs)
    labels = ", ".join(inputs.measured.registry[m].label for m in TESTED_METRICS[inputs.measured.task])
    return TestFamily(
        WEAK_SLICES,
        f"Each group of every slice against the rest of the data, on {labels}, where the metric's support is at "
        "least the minimum in the group and in the rest (two-proportion z-test; Welch's z-test for mean errors); "
        "a group is flagged where it is significantly worse.",
        tests=len(tests), discoveries=int(((tests["q_value"] <= inputs.fdr) & tests["worse"]).sum()),
    )


def weak_slices(inputs: FindingInputs) -> list[Finding]:
    """Groups whose metric is significantly worse than the rest of the data (the "weak slices" family)."""
    tests = weak_slice_tests(inputs)
    if tests.empty:
        return []
    fdr = inputs.fdr
    weak = [
        (abs(t.difference), t.slice, t.group, t.metric, t.difference, t.p_value, float(t.q_value))
        for t in tests.itertuples() if t.q_value <= fdr and t.worse
    ]
    weak.sort(key=lambda t: -t[0])
    findings = []
    for _, slice_name, group, metric, difference, p_value, q_value in weak[:MAX_WEAK_SLICES]:
        label = inputs.measured.registry[metric].label
        overall_value = inputs.measured.overall(metric)
        evidence = _evidence(inputs, slice_name, group, metric, compared_with=overall_value, p_value=p_value,
                             q_value=q_value)
        relative = abs(difference) / overall_value if overall_value else np.inf
        large = relative >= LARGE_ERROR_SHARE if inputs.measured.task == "regression" else abs(difference) >= LARGE_GAP
        findings.append(Finding(
            id="weak_slice", severity="high" if large else "medium",
            title=f'{label} is significantly worse for {display_label(slice_name)} = "{display_label(group)}" than '
                  "for the rest of the data.",
            detail=(
                f'{label} for "{display_label(group)}" is {num(evidence.value)} ({num(evidence.ci_low)}–{num(evidence.ci_high)}, '
                f"{_supported(evidence)}) against {num(overall_value)} overall; the difference from the rest of the "
                "data, "
                f"{signed(difference)}, is significant after Benjamini–Hochberg correction over {len(tests)} tests "
                f"(q {p_clause(q_value)}, false discovery rate {fdr:g})."
            ),
            section="slices", subject=slice_name,
            evidence=[evidence],
        ))
    if len(weak) > MAX_WEAK_SLICES:
        findings.append(Finding(
            id="weak_slice", severity="low",
            title=f"{len(weak) - MAX_WEAK_SLICES} more group{'s are' if len(weak) - MAX_WEAK_SLICES > 1 else ' is'} "
                  "significantly worse than the rest of the data.",
            detail="They are marked in the slice tables; the five with the largest differences are listed above.",
            section="slices", subject=None, evidence=[],
        ))
    return findings


def fairness_breaches(inputs: FindingInputs) -> list[Finding]:
    """Fairness gaps beyond their threshold, one finding per sensitive column (and class), saying which are
    significant (q-value within `fdr`, the "fairness" family); high severity only with a significant gap."""
    findings = []
    breached = inputs.fairness_gaps[inputs.fairness_gaps["breached"].eq(True)]
    for (sensitive, class_label), rows in breached.groupby(["sensitive", "class_label"], sort=False, dropna=False):
        class_label = None if pd.isna(class_label) else class_label
        of_class = f' for class "{class_label}"' if class_label is not None else ""
        significant = rows["significant"].eq(True)
        parts = [
            f"{str(row.gap).replace('_', ' ')} {num(row.value)} ({num(row.ci_low)}–{num(row.ci_high)}, "
            f"threshold {row.threshold:.3g}, {shorten(str(row.between), 2 * DISPLAY_LABEL_CHARS)}; "
            f"{_significance(_plain(row.q_value), bool(row.significant))})"
            for row in rows.itertuples()
        ]
        findings.append(Finding(
            id="fairness_gap", severity="high" if significant.any() else "medium",
            title=f"{len(rows)} fairness gap{'s' if len(rows) > 1 else ''}{of_class} across {sensitive} "
                  f"{'are' if len(rows) > 1 else 'is'} beyond the threshold"
                  + (f", {int(significant.sum())} significantly." if significant.any() else ", none significantly."),
            detail="Beyond the threshold: " + "; ".join(parts) + "."
                   + ("" if significant.all() else
                      f" A gap that is not significant (q above {inputs.fdr:g}, Benjamini–Hochberg over the fairness "
                      "tests) may be noise, even where its unadjusted interval excludes 0: more data would tell."),
            section="fairness", subject=str(sensitive),
            evidence=[Evidence(slice=str(sensitive), group=str(row.between), metric=str(row.gap), value=_plain(row.value),
                               ci_low=_plain(row.ci_low), ci_high=_plain(row.ci_high), n=None,
                               compared_with=float(row.threshold), p_value=_plain(row.p_value),
                               q_value=_plain(row.q_value)) for row in rows.itertuples()],
        ))
    return findings


def _significance(q_value: float | None, significant: bool) -> str:
    """How a gap's test came out, in words: "q = 0.004", "not significant, q = 0.21" or "not tested"."""
    if q_value is None:
        return "not tested"
    return f"q {p_clause(q_value)}" if significant else f"not significant, q {p_clause(q_value)}"


SMALL_EVIDENCE = 20  # the small groups a small_slices finding lists as evidence, first in slice order


def small_slices(inputs: FindingInputs) -> list[Finding]:
    """Groups whose numbers rest on fewer than `min_support` rows: all of them (a group with few rows),
    or some metrics' (recall on a group's few positives). Those values are greyed in the card and not tested."""
    min_support = inputs.min_support
    table = inputs.measured.metrics
    # an undefined value (a macro AUC where a class is absent) is n/a already, and `undefined_metrics` says why
    below = table[(table["slice"] != OVERALL) & (table["support"] < min_support) & table["undefined_reason"].isna()]
    position = {(family.name, label): (f, g) for f, family in enumerate(inputs.measured.families)
                for g, label in enumerate(family.labels)}
    small = sorted(below.groupby(["slice", "group"], sort=False), key=lambda item: position[item[0]])
    if not small:
        return []
    described, evidence = [], []
    for (slice_name, group), rows in small:
        where = f'{display_label(slice_name)} = "{display_label(group)}"'
        if int(rows["n"].iloc[0]) < min_support:  # every number of the group
            described.append(f"{where}: {int(rows['n'].iloc[0]):,} rows")
            if len(evidence) < SMALL_EVIDENCE:
                evidence.append(_evidence(inputs, slice_name, group, "count"))
            continue
        parts = []
        for (support, unit), of_unit in rows.groupby(["support", "support_unit"], sort=False):
            labels = ", ".join(inputs.measured.registry[m].label for m in of_unit["metric"])
            parts.append(f"{counted_support(int(support), unit)} ({labels})")
            if len(evidence) < SMALL_EVIDENCE:  # each looks its row up in the whole table: thousands would cost minutes
                evidence.append(_evidence(inputs, slice_name, group, str(of_unit["metric"].iloc[0])))
        described.append(f"{where}: {', '.join(parts)}")
    shown = "; ".join(described[:8]) + (f"; and {len(described) - 8} more" if len(described) > 8 else "")
    return [Finding(
        id="small_slices", severity="low",
        title=f"{len(small)} group{'s have' if len(small) > 1 else ' has'} numbers resting on fewer than {min_support} "
              "rows; they are too uncertain to read alone.",
        detail=f"Greyed in the tables: {shown}. Their intervals are wide and they are left out of the weak-slice tests.",
        section="slices", subject=None,
        evidence=evidence,
    )]


def undefined_metrics(inputs: FindingInputs) -> list[Finding]:
    """Metric values that are undefined, counted by reason."""
    table = inputs.measured.metrics[inputs.measured.metrics["value"].isna() & (inputs.measured.metrics["n"] > 0)]
    if table.empty:
        return []
    overall = table[table["slice"] == OVERALL]
    reasons = Counter(table["undefined_reason"])
    detail = "; ".join(f"{n} × {reason}" for reason, n in reasons.most_common())
    if not overall.empty:
        labels = ", ".join(inputs.measured.registry[m].label for m in overall["metric"])
        title = f"{labels} {'is' if len(overall) == 1 else 'are'} undefined on the whole evaluation set."
    else:
        title = (f"{len(table)} metric value{'s are' if len(table) > 1 else ' is'} undefined in some groups "
                 "(shown as n/a, never as 0).")
    return [Finding(
        id="undefined_metrics", severity="medium" if not overall.empty else "low",
        title=title, detail=f"Reasons: {detail}.",
        section="overall" if not overall.empty else "slices", subject=None,
        evidence=[_evidence(inputs, OVERALL, OVERALL, m) for m in overall["metric"]],
    )]


def poor_calibration(inputs: FindingInputs) -> list[Finding]:
    """An expected calibration error above `[findings] max_ece`."""
    if "ece" not in inputs.measured.registry:
        return []
    ece = inputs.measured.overall("ece")
    limit = inputs.max_ece
    if ece is None or ece <= limit:
        return []
    what = "top-label probabilities" if inputs.measured.task == "multiclass" else "scores"
    return [Finding(
        id="poor_calibration", severity="medium",
        title=f"The model's {what} are poorly calibrated (ECE {num(ece)}, above {limit:g}).",
        detail=(
            f"On average the predicted probability is {num(ece)} away from the observed frequency "
            f"(uniform bins; the largest bin gap, MCE, is {num(inputs.measured.overall('mce'))}). Probabilities read as "
            "risks would mislead."
        ),
        section="calibration", subject=None,
        evidence=[_evidence(inputs, OVERALL, OVERALL, m) for m in ("ece", "mce", "ece_quantile")],
    )]


def constant_predictions(inputs: FindingInputs) -> list[Finding]:
    """One predicted class (or a near-constant predicted value) for almost every row, or the same scores on every row."""
    predictions, spread = inputs.predictions, inputs.measured.spread
    if inputs.measured.task == "regression":
        assert spread.prediction_std is not None and spread.target_std is not None, "regression spreads are measured"
        if spread.target_std == 0 or spread.prediction_std >= (1 - NEAR_CONSTANT) * spread.target_std:
            return []
        detail = (f"The predictions' standard deviation is {figure(spread.prediction_std)}, against "
                  f"{figure(spread.target_std)} for the targets: the model barely varies its output.")
    else:
        counts = spread.predicted
        assert counts is not None, "classification counts its predicted classes"
        top = int(np.argmax(counts))
        share = counts[top] / counts.sum()
        constant_scores = spread.constant_scores
        if share < NEAR_CONSTANT and not constant_scores:
            return []
        name = predictions.classes[top] if inputs.measured.task == "multiclass" else (
            f"positive ({predictions.positive_label})" if top == 1 else "negative")
        detail = f"The model predicts {name} for {pct(share)} of rows." if share >= NEAR_CONSTANT else (
            "The model's scores are the same on every row, although its predicted classes vary: the ranking "
            "metrics and calibration say nothing about it.")
    return [Finding(
        id="constant_predictions", severity="high",
        title="The predictions are constant or nearly so.",
        detail=detail, section="overall", subject=None, evidence=[],
    )]


def threshold_choice(inputs: FindingInputs) -> list[Finding]:
    """Binary: a threshold that would give a clearly higher F1 than the configured one."""
    choice = inputs.measured.curves.thresholds
    f1 = inputs.measured.overall("f1")
    if choice is None or choice.f1 is None or f1 is None or choice.f1 - f1 < F1_GAIN:
        return []
    current = (f'the "{inputs.prediction_column}" column' if inputs.prediction_column
               else f"threshold {inputs.threshold:g}")
    return [Finding(
        id="threshold_choice", severity="low",
        title=f"A decision threshold of {choice.f1_threshold:.3g} would raise F1 from {num(f1)} to {num(choice.f1)}.",
        detail=(
            f"With {current}, F1 is {num(f1)}; on this data, predicting positive at score ≥ {figure(choice.f1_threshold)} "
            f"gives F1 {num(choice.f1)}, and Youden's J (TPR − FPR) is highest, {num(choice.youden_j)}, at "
            f"{figure(choice.youden_threshold)}. Chosen on the evaluation data itself, these are optimistic."
        ),
        section="overall", subject=None,
        evidence=[_evidence(inputs, OVERALL, OVERALL, "f1", compared_with=choice.f1)],
    )]


def systematic_bias(inputs: FindingInputs) -> list[Finding]:
    """Regression: a mean residual whose interval excludes 0."""
    if inputs.measured.task != "regression":
        return []
    evidence = _evidence(inputs, OVERALL, OVERALL, "mean_residual")
    if evidence.value is None or evidence.ci_low is None or (evidence.ci_low <= 0 <= evidence.ci_high):
        return []
    direction = "under-predicts" if evidence.value > 0 else "over-predicts"
    return [Finding(
        id="systematic_bias", severity="low",
        title=f"The model {direction} on average, by {figure(abs(evidence.value))}.",
        detail=(f"The mean residual (actual − predicted) is {figure(evidence.value)} "
                f"({figure(evidence.ci_low)} to {figure(evidence.ci_high)}); its interval excludes 0."),
        section="overall", subject=None, evidence=[evidence],
    )]


def many_groups(inputs: FindingInputs) -> list[Finding]:
    """A slice of more groups than the card shows (`[report] max_groups_shown`): often an identifier-like column."""
    found = []
    for name, other in inputs.measured.others.items():
        family = inputs.measured.family(name)
        sizes = _group_sizes(inputs.predictions.frame, family, inputs.measured.statistics[name].n)
        singles, median = int((sizes == 1).sum()), float(np.median(sizes))
        too_small = int((sizes < inputs.min_support).sum())
        shown = len(other.shown.groups)
        # most groups too small to measure alone: the slice identifies rows rather than groups them
        identifier_like = too_small > len(sizes) / 2
        sensitive = family.kind == "values" and family.columns[0] in set(inputs.fairness_gaps.get("sensitive", ()))
        found.append(Finding(
            id="many_groups", severity="medium" if identifier_like else "low",
            title=f'The slice "{display_label(name)}" has {count(len(sizes))} groups'
                  + (" (identifier-like)" if identifier_like else "")
                  + f'; the card shows the {count(shown)} largest and "{OTHER}".',
            detail=f"{pct(singles / len(sizes), 0)} of its groups have a single row and the median group has "
                   f"{figure(median)} rows; {count(too_small)} groups have fewer than {inputs.min_support} rows. "
                   f'"{OTHER}" holds the other {count(other.shown.merged)} groups '
                   f"({count(int(other.statistics.n[0]))} rows), measured as one group; report.json lists "
                   "the groups one by one up to the slice's max_groups."
                   + (" As a sensitive column, its fairness gaps span every group: they compare the extremes of "
                      "many small groups." if sensitive else ""),
            section="slices", subject=name,
            evidence=[Evidence(slice=name, group=OTHER, metric="count", value=float(other.statistics.n[0]),
                               ci_low=None, ci_high=None, n=int(other.statistics.n[0]))],
            suggestions=[
                "Bin the column (bins or quantiles) or slice by a coarser column that groups these values.",
                "Drop the slice if the column identifies rows (an id); show it beside the errors instead "
                "([error_analysis] display).",
                "Raise [report] max_groups_shown to show more groups on the card.",
            ],
        ))
    return found


def _group_sizes(frame: pd.DataFrame, family: SliceFamily, listed: np.ndarray) -> np.ndarray:
    """Rows per group of the data, values pooled beyond `max_groups` counted one by one."""
    if not family.pooled:
        return np.asarray(listed, dtype=np.int64)
    if family.sizes is not None:
        return family.sizes
    return frame.groupby(family.columns, dropna=False, observed=True, sort=False).size().to_numpy()


RULES: tuple[Callable[[FindingInputs], list[Finding]], ...] = (
    constant_predictions,
    class_imbalance,
    weak_slices,
    fairness_breaches,
    poor_calibration,
    threshold_choice,
    systematic_bias,
    undefined_metrics,
    small_slices,
    many_groups,
)
