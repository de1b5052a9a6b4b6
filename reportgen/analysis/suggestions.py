"""What to try, with each finding's own numbers: one builder per rule, applied once every analysis has run.

`suggest` replaces the suggestions of every finding whose rule has a builder in `BUILDERS`; findings
of other rules keep their own. Each builder reads the finding and what it needs from the context and
writes options, not verdicts, every number through `reportgen.formatting`:
- a weak slice: how many more labelled rows would halve its interval (an interval's width goes as
  1/√n, so halving it takes four times the rows: `more_rows_to_shrink`); a weak or discovered slice:
  the columns that set its rows apart from the rest (`distinguishing_columns`); small groups: the
  rows each lacks to reach `min_support`;
- a fairness gap (binary, with scores): the threshold on the score for one group that brings its rate
  to the reference group's, and what it costs in that group's other rates (`threshold_matching`);
- a regression against a baseline: the rows of each group the baseline got right and the model wrong;
- poor calibration: the labelled rows a held-out split would give; class imbalance: the class weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding
from reportgen.analysis.error_analysis import DISCOVERED
from reportgen.analysis.fairness import GAPS, sensitive_family
from reportgen.analysis.merge import evidence_rows
from reportgen.formatting import about, count, figure, num, pct, signed, support_unit
from reportgen.io import ColumnCodes
from reportgen.labels import display_label
from reportgen.slices import SliceFamily
from reportgen.vocabulary import OVERALL, RATE_LABELS

MIN_STANDARDIZED_DIFFERENCE = 0.2  # a numeric column's means this many pooled SDs apart (Cohen's "small")
MIN_TOTAL_VARIATION = 0.1  # a categorical column whose value shares differ by this much in total
MAX_DISTINGUISHING = 3  # columns named per slice
MAX_GROUPS_NAMED = 3  # groups named in one suggestion
# A baseline comparison of these metrics rests on the rows of one label (their denominators).
LABEL_ROWS = {"recall": (1, "positive"), "fnr": (1, "positive"), "specificity": (0, "negative"),
              "fpr": (0, "negative")}
# When a threshold moves one rate of a group, what else changes for it.
COSTS = {"selection_rate": ("precision", "fpr"), "tpr": ("precision", "fpr"), "fpr": ("tpr", "precision"),
         "precision": ("tpr", "selection_rate")}


class Sources:
    """What the builders read: the context, and its candidate columns for contrasts, prepared once on first use."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._by_score: dict[str, np.ndarray] = {}

    @cached_property
    def columns(self) -> list[Column]:
        """The metadata columns (`candidate_columns`), without the declared columns and those that look like
        model outputs (the sanity checks'); none when the checks did not run (an engine without a row-level pass)."""
        frame, checks = self.context.predictions.frame, self.context.results["checks"]
        if checks is None:
            return []
        return candidate_columns(frame, set(checks.declared) | set(checks.model_outputs),
                                 max_values=self.context.config.error_analysis.max_values,
                                 codes=self.context.predictions.codes)


    def descending(self) -> np.ndarray:
        """Binary: the rows by descending score (ties in any order), as `measure` sorted them."""
        return self.context.measured.engine.rows.order[::-1]

    def codes_by_score(self, family: SliceFamily) -> np.ndarray:
        """Binary: the family's group codes of the rows in `descending` order, taken once per family."""
        if family.name not in self._by_score:
            self._by_score[family.name] = family.codes[self.descending()]
        return self._by_score[family.name]


Builder = Callable[[Finding, Sources], list[str]]


def suggest(findings: list[Finding], context: Context) -> list[Finding]:
    """The registry's post-pass: each finding with the suggestions its rule's builder writes (others unchanged)."""
    sources = Sources(context)
    return [replace(f, suggestions=BUILDERS[f.id](f, sources)) if f.id in BUILDERS else f for f in findings]


# ---------------------------------------------------------------------------------------------- the numbers


def more_rows_to_shrink(n: int, factor: float = 2.0) -> float:
    """Rows to add to `n` for an interval `factor` times narrower, its width going as 1/√n: n·(factor² − 1)."""
    return n * (factor**2 - 1)


@dataclass(frozen=True)
class ThresholdMatch:
    """A threshold on one group's scores (positive at score ≥ threshold) and that group's rates with it."""

    threshold: float
    rates: dict[str, float]


def _rates(tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int) -> list[dict[str, float]]:
    """The rates of each (tp, fp) pair of a group with these class counts; NaN where a denominator is 0."""
    table = _rate_table(tp, fp, positives, negatives)
    return [{name: float(values[i]) for name, values in table.items()} for i in range(len(tp))]


def _rate_table(tp: np.ndarray, fp: np.ndarray, positives: int, negatives: int) -> dict[str, np.ndarray]:
    """Rate name → its value for each (tp, fp) pair, as `_rates`."""
    tp, fp = tp.astype(np.float64), fp.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return {"selection_rate": (tp + fp) / (positives + negatives), "tpr": tp / positives, "fpr": fp / negatives,
                "precision": tp / (tp + fp)}


def threshold_matching(
    scores: np.ndarray, y_true: np.ndarray, rate: str, target: float, *, order: np.ndarray | None = None
) -> ThresholdMatch | None:
    """The threshold on these scores whose `rate` (a key of `COSTS`) comes closest to `target`.

    Candidates are the distinct scores (one sort; tied scores move together) and "above every score";
    on ties of the distance the highest threshold wins. None when the rate is undefined at every
    candidate (e.g. TPR of a group without positives). `order` gives the rows to match on, highest
    score first (tied scores in any order); by default every row, sorted here.
    """
    if order is None:
        order = np.argsort(-scores, kind="stable")
    ranked, positive = scores[order], y_true[order] == 1
    ends = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])  # the last row of each run of tied scores
    tp = np.r_[0, np.cumsum(positive)[ends]]
    fp = np.r_[0, np.cumsum(~positive)[ends]]
    thresholds = np.r_[np.inf, ranked[ends]]
    positives, negatives = int(positive.sum()), int((~positive).sum())
    distance = np.abs(_rate_table(tp, fp, positives, negatives)[rate] - target)
    if not np.isfinite(distance).any():
        return None
    best = int(np.nanargmin(distance))
    return ThresholdMatch(float(thresholds[best]), _rates(tp[[best]], fp[[best]], positives, negatives)[0])


@dataclass(frozen=True)
class Column:
    """A column prepared once for contrasts, so that each slice costs one pass over it.

    Numbers: `values` centred on their mean with NaN as 0, `valid` where a value is present, `offset` the
    mean added back; categories: `values` codes into `labels`. `totals` holds, over all rows, the count,
    sum and sum of squares of the centred numbers, or the count of each category.
    """

    name: str
    values: np.ndarray
    labels: np.ndarray | None
    totals: np.ndarray
    valid: np.ndarray | None = None
    offset: float = 0.0


def _numeric_column(name: str, raw: np.ndarray) -> Column:
    """Numbers centred on their mean (NaN as 0), with their totals."""
    valid = ~np.isnan(raw)
    offset = float(raw[valid].mean()) if valid.any() else 0.0
    centred = np.where(valid, raw - offset, 0.0)
    totals = np.array([valid.sum(), centred.sum(), centred @ centred], dtype=np.float64)
    return Column(name, centred, None, totals, valid, offset)


def candidate_columns(
    frame: pd.DataFrame, exclude: set[str], *, max_values: int, codes: ColumnCodes | None = None
) -> list[Column]:
    """The columns of `frame` to contrast, each prepared once: numeric ones as numbers, others with at most
    `max_values` values as categories; `exclude` and identifiers (whole numbers or text, every value distinct,
    as the error analysis leaves out) are left out. `codes` are the frame's columns as codes, shared with the
    evaluation's other analyses (`Predictions.codes`); by default factorized here."""
    codes = codes if codes is not None else ColumnCodes(frame)
    columns = []
    for name in frame.columns:
        values = frame[name]
        if name in exclude:
            continue
        if pd.api.types.is_float_dtype(values):
            columns.append(_numeric_column(name, values.to_numpy(dtype=np.float64, na_value=np.nan)))
            continue
        found = codes(name)
        if len(found.values) == len(values):
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns.append(_numeric_column(name, values.to_numpy(dtype=np.float64, na_value=np.nan)))
        elif len(found.values) <= max_values:
            columns.append(Column(name, found.codes, np.asarray(found.values, dtype=object),
                                  np.bincount(found.codes, minlength=len(found.values)).astype(np.float64)))
    return columns


@dataclass(frozen=True)
class Contrast:
    """How one column sets a slice's rows apart: its size and the text that says so."""

    column: str
    size: float
    text: str


def distinguishing_columns(columns: list[Column], mask: np.ndarray) -> list[Contrast]:
    """The columns whose values differ most between the rows in `mask` and the rest, largest first.

    Numeric columns by the standardized mean difference (means apart over the pooled standard
    deviation, NaN left out), categorical ones by the total variation distance between the two value
    distributions; those under `MIN_STANDARDIZED_DIFFERENCE` or `MIN_TOTAL_VARIATION` are left out,
    and the two kinds are ranked on their own scales, interleaved.
    """
    numeric, categorical = [], []
    rows = np.flatnonzero(mask)  # `take` on indices: much faster than a boolean mask per column
    for column in columns:
        if column.labels is None:
            contrast = _numeric_contrast(column, rows)
            if contrast is not None and abs(contrast.size) >= MIN_STANDARDIZED_DIFFERENCE:
                numeric.append(contrast)
        else:
            contrast = _categorical_contrast(column, rows)
            if contrast.size >= MIN_TOTAL_VARIATION:
                categorical.append(contrast)
    numeric.sort(key=lambda c: -abs(c.size))
    categorical.sort(key=lambda c: -c.size)
    interleaved = [c for pair in zip(numeric, categorical) for c in pair]
    longer = numeric if len(numeric) > len(categorical) else categorical
    return (interleaved + longer[min(len(numeric), len(categorical)):])[:MAX_DISTINGUISHING]


def _numeric_contrast(column: Column, rows: np.ndarray) -> Contrast | None:
    """Means and sample variances inside and outside, from the sums over the slice's rows and the column's totals."""
    assert column.valid is not None
    values = column.values.take(rows)
    inside = np.array([np.count_nonzero(column.valid.take(rows)), values.sum(), np.square(values).sum()])
    outside = column.totals - inside
    (n_in, sum_in, squares_in), (n_out, sum_out, squares_out) = inside, outside
    if n_in < 2 or n_out < 2:
        return None
    mean_in, mean_out = sum_in / n_in, sum_out / n_out
    variance_in = max(squares_in - n_in * mean_in**2, 0.0) / (n_in - 1)
    variance_out = max(squares_out - n_out * mean_out**2, 0.0) / (n_out - 1)
    pooled = np.sqrt((variance_in + variance_out) / 2)
    if pooled == 0:
        return None
    smd = float((mean_in - mean_out) / pooled)
    return Contrast(column.name, smd, f'"{display_label(column.name)}" (mean {figure(mean_in + column.offset)} here, '
                                      f"{figure(mean_out + column.offset)} elsewhere; standardized difference "
                                      f"{signed(smd, 2)})")


def _categorical_contrast(column: Column, rows: np.ndarray) -> Contrast:
    assert column.labels is not None
    counts_in = np.bincount(column.values.take(rows), minlength=len(column.labels))
    inside = counts_in / max(len(rows), 1)
    outside = (column.totals - counts_in) / max(len(column.values) - len(rows), 1)
    tv = float(np.abs(inside - outside).sum() / 2)
    top = int(np.argmax(np.abs(inside - outside)))
    return Contrast(column.name, tv, f'"{display_label(column.name)}" ("{display_label(column.labels[top])}": '
                                     f"{pct(float(inside[top]))} of these rows, {pct(float(outside[top]))} of the rest; "
                                     f"total variation {num(tv, 2)})")


# ---------------------------------------------------------------------------------------------- builders


def _where(evidence: Evidence) -> str:
    if evidence.slice == DISCOVERED:
        return f'the slice "{display_label(evidence.group)}"'
    return f'{display_label(evidence.slice)} = "{display_label(evidence.group)}"'


def _resting_on(evidence: Evidence) -> tuple[int | None, str]:
    """The rows the evidence's value rests on and what they are: its support (6 "positives"), else its rows."""
    if evidence.support is not None and evidence.support_unit is not None:
        return evidence.support, evidence.support_unit
    return evidence.n, "rows"


def _halving(evidence: Evidence, task: str) -> list[str]:
    rows, unit = _resting_on(evidence)
    if rows is None or evidence.ci_low is None or evidence.ci_high is None:
        return []
    mix = ", in the same mix of classes" if task != "regression" and unit == "rows" else ""
    return [f"About {about(more_rows_to_shrink(rows))} more labelled {unit} of {_where(evidence)} "
            f"({count(rows)} now{mix}) would halve the width of its interval "
            f"({num(evidence.ci_low)}–{num(evidence.ci_high)})."]


def _slice_columns(finding: Finding, context: Context) -> set[str]:
    """The columns the finding's slices are defined on (never "distinguishing" them)."""
    families = {family.name: family for family in context.measured.families}
    errors = context.results.get("error_analysis")
    conditions = {} if errors is None or errors.slices.empty else dict(
        zip(errors.slices["slice"], errors.slices["conditions"], strict=True))
    named: set[str] = set()
    for e in finding.evidence:
        if e.slice in families:
            named |= set(families[e.slice].columns)
        named |= {column for column, _ in conditions.get(e.group, ())} if e.slice == DISCOVERED else set()
    return named


def _distinguishing(finding: Finding, sources: Sources) -> list[str]:
    context = sources.context
    mask = evidence_rows(context)(finding.evidence[0])
    if mask is None or mask.all() or not mask.any():
        return []
    own = _slice_columns(finding, context)
    found = distinguishing_columns([c for c in sources.columns if c.name not in own], mask)
    if not found:
        return []
    return [f"Columns that set the {count(int(mask.sum()))} rows of {_where(finding.evidence[0])} apart, to check "
            f"for a missing feature, label errors or a shift: {'; '.join(c.text for c in found)}."]


def weak_slice(finding: Finding, sources: Sources) -> list[str]:
    """More rows to halve its interval; the columns that set it apart."""
    if not finding.evidence:
        return []
    return _halving(finding.evidence[0], sources.context.measured.task) + _distinguishing(finding, sources)


def error_slice(finding: Finding, sources: Sources) -> list[str]:
    """The columns that set it apart; its errors to read (an error rate); watching it as a configured slice."""
    context = sources.context
    e = finding.evidence[0]
    errors = context.results.get("error_analysis")
    read = [] if errors is None or not errors.measure.binary or not errors.examples.get(e.group, pd.DataFrame()).size else [
        f"Read the most confident of its {count(round(e.value * e.n))} errors, shown in the error analysis: label "
        "noise, a missing feature or a data shift often shows there."]
    watch = (f"To watch these {count(e.n)} rows in every report ({e.metric.replace('_', ' ')} {num(e.value)} against "
             f"{num(e.compared_with)} elsewhere), configure them as a slice, with a quality gate.")
    return _distinguishing(finding, sources) + read + [watch]


def small_slices(finding: Finding, sources: Sources) -> list[str]:
    """The rows each of the smallest supports lacks to reach `min_support` (rows of a small group, or the
    positives, negatives, ... a metric of a larger group rests on)."""
    context = sources.context
    min_support = context.config.report.min_support
    fewest: dict[tuple[str, str], Evidence] = {}  # per group, the value resting on the fewest rows
    for e in finding.evidence:
        known = fewest.get((e.slice, e.group))
        if known is None or (_resting_on(e)[0] or 0) < (_resting_on(known)[0] or 0):
            fewest[(e.slice, e.group)] = e
    smallest = sorted(fewest.values(), key=lambda e: _resting_on(e)[0] or 0)[:MAX_GROUPS_NAMED]
    lacking = "; ".join(
        f"{count(min_support - (rows or 0))} more {support_unit(min_support - (rows or 0), unit)} for {_where(e)} "
        f"({count(rows)} now)"
        for e in smallest for rows, unit in [_resting_on(e)])
    return [f"Labelled data to reach min_support ({count(min_support)}), the smallest first: {lacking}; "
            f"or merge {'them' if len(finding.evidence) > 1 else 'it'} into coarser bins or categories."]


def fairness_gap(finding: Finding, sources: Sources) -> list[str]:
    """Binary with scores: a group threshold that matches the reference's rate, and its cost; more rows where
    a gap is not significant; group-aware mitigation across the column."""
    context = sources.context
    sensitive = finding.subject or finding.evidence[0].slice
    suggestions = []
    if context.measured.task == "binary" and context.predictions.scores is not None:
        seen: set[tuple[str, str]] = set()
        for e in finding.evidence:
            found = _matching_threshold(e, sources)
            if found is not None and found[0] not in seen:
                seen.add(found[0])
                suggestions.append(found[1])
    fdr = context.config.findings.fdr
    unsure = [e for e in finding.evidence if e.ci_low is not None and (e.q_value is None or e.q_value > fdr)]
    if unsure:
        family = sensitive_family(context.measured.families, sensitive)
        n = np.bincount(family.codes[family.codes >= 0], minlength=family.n_groups)
        e = unsure[0]
        pair = _pair(e.group, family.labels)
        if pair is not None:
            rows = int(n[family.labels.index(pair[0])] + n[family.labels.index(pair[1])])
            suggestions.append(
                f'The {e.metric.replace("_", " ")} ({num(e.value)}, {num(e.ci_low)}–{num(e.ci_high)}) is not '
                f'significant and may be noise: '
                f'about {about(more_rows_to_shrink(rows))} more labelled rows of "{display_label(pair[0])}" and '
                f'"{display_label(pair[1])}" ({count(rows)} now) would halve its interval.')
    suggestions.append(
        f'Across "{display_label(sensitive)}", to consider: reweighting or resampling the training data, '
        "fairness-constrained training (e.g. Fairlearn's ExponentiatedGradient) or group-aware thresholds "
        "(Fairlearn's ThresholdOptimizer), and whether the labels themselves are biased.")
    return suggestions


def _pair(between: str, labels: list[str]) -> tuple[str, str] | None:
    """The two group labels of "A vs B" (labels may contain " vs " themselves)."""
    for label in labels:
        rest = between.removeprefix(f"{label} vs ")
        if rest != between and rest in labels:
            return label, rest
    return None


def _matching_threshold(evidence: Evidence, sources: Sources) -> tuple[tuple[str, str], str] | None:
    """((rate, group moved), sentence): the threshold for the group of the pair that is not the reference (or, without it,
    the one farther from it) that brings its rate to the reference group's, with the cost."""
    context = sources.context
    fairness = context.results.get("fairness")
    if fairness is None or evidence.metric not in GAPS:
        return None
    gaps = fairness.gaps
    row = gaps[(gaps["sensitive"] == evidence.slice) & (gaps["gap"] == evidence.metric)]
    family = sensitive_family(context.measured.families, evidence.slice)
    pair = _pair(evidence.group, family.labels)
    if row.empty or pair is None or row["rate"].iloc[0] not in COSTS:
        return None
    rate, reference = str(row["rate"].iloc[0]), fairness.references[evidence.slice]
    predictions = context.predictions
    confusion = context.measured.statistics[family.name].task.confusion
    index = {label: family.labels.index(label) for label in {*pair, reference}}
    current = {label: _rates(confusion.tp[[i]], confusion.fp[[i]], int(confusion.tp[i] + confusion.fn[i]),
                             int(confusion.fp[i] + confusion.tn[i]))[0] for label, i in index.items()}
    target = current[reference][rate]
    moved = next((g for g in pair if g != reference), pair[0]) if reference in pair else max(
        pair, key=lambda g: abs(current[g][rate] - target))
    if moved == reference or not np.isfinite(target) or not np.isfinite(current[moved][rate]):
        return None
    if context.measured.engine.rows is None:  # an engine without a row-level pass: no scores to move a threshold on
        return None
    rows = sources.descending()[sources.codes_by_score(family) == index[moved]]
    match = threshold_matching(predictions.scores, predictions.y_true, rate, target, order=rows)
    if match is None:
        return None
    before, after = current[moved], match.rates
    costs = " and ".join(f"its {RATE_LABELS[c].lower()} from {num(before[c])} to {num(after[c])}" for c in COSTS[rate])
    config = context.config.data
    now = f'the "{display_label(config.prediction)}" column' if config.prediction else f"threshold {figure(config.threshold)}"
    return (rate, moved), (
        f'A threshold of {figure(match.threshold)} on the score for {display_label(evidence.slice)} = '
        f'"{display_label(moved)}" (instead of {now}) would move its {RATE_LABELS[rate].lower()} from '
        f'{num(before[rate])} to {num(after[rate])}, against {num(target)} for the reference "{display_label(reference)}"; '
        f"on this data it would also move {costs}. Group-specific thresholds have legal and fairness implications "
        "to weigh.")


def regression(finding: Finding, sources: Sources) -> list[str]:
    """The rows of each group the baseline got right and the model gets wrong (and the other way)."""
    context = sources.context
    baseline = next((b for b in context.baselines if b.name == finding.subject), None)
    if baseline is None:
        return []
    rows_of = evidence_rows(context)
    predictions, theirs = context.predictions, baseline.predictions
    if predictions.task == "regression":
        ours_worse = np.abs(predictions.y_true - predictions.y_pred) > np.abs(predictions.y_true - theirs.y_pred)
        theirs_worse = np.abs(predictions.y_true - predictions.y_pred) < np.abs(predictions.y_true - theirs.y_pred)
        what = "on which this model's error is larger than the baseline's"
    else:
        ours_right, theirs_right = predictions.y_pred == predictions.y_true, theirs.y_pred == predictions.y_true
        ours_worse, theirs_worse = theirs_right & ~ours_right, ours_right & ~theirs_right
        what = "the baseline got right and this model gets wrong"
    parts, seen = [], set()
    for e in finding.evidence:
        mask = np.ones(len(ours_worse), dtype=bool) if e.slice == OVERALL else rows_of(e)
        if (e.slice, e.group) in seen or mask is None:
            continue
        seen.add((e.slice, e.group))
        where = "all rows" if e.slice == OVERALL else _where(e)
        if predictions.task == "binary" and e.metric in LABEL_ROWS:
            label, name = LABEL_ROWS[e.metric]
            mask = mask & (predictions.y_true == label)
            where = f"the {name} labels of {where}"
        parts.append(f"{count(int((ours_worse & mask).sum()))} of {where} "
                     f"({count(int((theirs_worse & mask).sum()))} the other way)")
    worst = finding.evidence[0]
    label = context.measured.registry[worst.metric].label if worst.metric in context.measured.registry else worst.metric
    return [f'Look at the rows {what} (baseline "{display_label(baseline.name)}"): ' + "; ".join(parts[:MAX_GROUPS_NAMED])
            + "; label noise, a changed feature or a changed threshold often shows there.",
            f"If the trade-off is accepted (the largest: {label} {signed(worst.value)} "
            f"{'overall' if worst.slice == OVERALL else 'for ' + _where(worst)}), record why in the card's caveats; "
            "a max_regression gate can hold the line."]


def poor_calibration(finding: Finding, sources: Sources) -> list[str]:
    """Recalibration on a held-out split of the labelled rows there are."""
    context = sources.context
    n = len(context.predictions.y_true)
    fit = n // 2
    multiclass = context.measured.task == "multiclass"
    return [f"Recalibrate on held-out labelled rows: split these {count(n)} in two, fit on {count(fit)} and "
            f"re-measure the ECE (now {num(finding.evidence[0].value)}) on the other {count(n - fit)}. Platt scaling "
            "(CalibratedClassifierCV, method='sigmoid') fits two parameters; isotonic regression (method='isotonic') "
            "needs more rows" + ("; temperature scaling fits one, for neural networks." if multiclass else ".")]


def class_imbalance(finding: Finding, sources: Sources) -> list[str]:
    """Class weights from the class counts; the metrics to read instead of accuracy."""
    context = sources.context
    counts = np.bincount(np.asarray(context.predictions.y_true, dtype=np.intp))
    present = counts[counts > 0]
    ratio = present.max() / present.min()
    values = {e.metric: e.value for e in finding.evidence}
    read = ", ".join(f"{context.measured.registry[m].label} ({num(v)})" for m, v in values.items()
                     if m not in ("accuracy", "prevalence"))
    return [f"Read {read} rather than accuracy ({num(values.get('accuracy'))}).",
            f"In training, weights of about {figure(float(ratio), 2)} : 1 for the rarest class against the most "
            f"common ({count(int(present.min()))} rows against {count(int(present.max()))}), or resampling to even "
            "them out; then tune the decision threshold for the costs of each kind of error."]


def threshold_choice(finding: Finding, sources: Sources) -> list[str]:
    """Tuning the threshold on separate data, starting from this data's best ones."""
    context = sources.context
    choice = context.measured.curves.thresholds
    return [f"Tune the threshold on a separate validation set: here F1 peaks at {figure(choice.f1_threshold)} "
            f"(F1 {num(choice.f1)}, against {num(finding.evidence[0].value)} now) and Youden's J at "
            f"{figure(choice.youden_threshold)}; weigh the costs of false positives and false negatives."]


def constant_predictions(finding: Finding, sources: Sources) -> list[str]:
    """Where the scores lie against the threshold, or the spread of the predictions."""
    context = sources.context
    predictions = context.predictions
    check = "Check that the right model was trained, saved and loaded: a constant output often means a pipeline bug"
    if predictions.task == "binary" and predictions.scores is not None:
        low, median, high = np.quantile(predictions.scores, [0.01, 0.5, 0.99])
        return [f"{check}. The scores' 1st, 50th and 99th percentiles are {figure(float(low))}, "
                f"{figure(float(median))} and {figure(float(high))}, against the threshold "
                f"{figure(context.config.data.threshold)}: check the threshold and the training data's class balance."]
    return [f"{check} ({finding.detail.rstrip('.')})."]


def systematic_bias(finding: Finding, sources: Sources) -> list[str]:
    """The shift that would centre the residuals on this data."""
    e = finding.evidence[0]
    return [f"Adding {figure(e.value)} ({figure(e.ci_low)} to {figure(e.ci_high)}) to every prediction would centre "
            "the residuals on this data; fit such a shift (or an isotonic recalibration of the output) on held-out "
            "data, and check the target for a shift between training and evaluation."]


def undefined_metrics(finding: Finding, sources: Sources) -> list[str]:
    """The groups with an undefined metric, with the first reason."""
    context = sources.context
    table = context.measured.metrics
    undefined = table[table["value"].isna() & (table["n"] > 0) & (table["slice"] != OVERALL)]
    groups = undefined.drop_duplicates(["slice", "group"])
    if groups.empty:
        metrics = ", ".join(e.metric for e in finding.evidence)
        return [f"Adding labelled rows of the missing class (or of the rows its denominator counts) would define "
                f"{metrics} on the whole set."]
    first = groups.iloc[0]
    return [f"{count(len(groups))} group{'s have' if len(groups) > 1 else ' has'} a metric that cannot be computed "
            f'(first: {display_label(first["slice"])} = "{display_label(first["group"])}", {first["undefined_reason"]}): '
            "merging small groups or adding labelled rows of the missing class would define it."]


BUILDERS: dict[str, Builder] = {
    "weak_slice": weak_slice,
    "error_slice": error_slice,
    "small_slices": small_slices,
    "fairness_gap": fairness_gap,
    "regression": regression,
    "poor_calibration": poor_calibration,
    "class_imbalance": class_imbalance,
    "threshold_choice": threshold_choice,
    "constant_predictions": constant_predictions,
    "systematic_bias": systematic_bias,
    "undefined_metrics": undefined_metrics,
}
