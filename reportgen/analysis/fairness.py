"""Fairness gaps across the groups of a sensitive column, with Fairlearn's definitions.

Summary gaps follow Fairlearn's ``method="between_groups"``: the largest minus the smallest
group value (differences) or the smallest over the largest (ratios); the disparate-impact ratio
compares each group's selection rate with the reference group's. Classification rates are
proportions of counts (`Fraction`), regression errors are means (`Mean`), so intervals are
closed-form and O(groups): Newcombe's score interval for differences of proportions, Katz's log
interval for their ratios, a normal (Welch) interval for differences of means.

Significance is decided by tests, adjusted together: each gap tests "the rate is equal in every
group" (the chi-square test of homogeneity over the groups with a defined rate; equalized odds sums
the TPR and FPR statistics, which come from disjoint rows; the parity difference and both ratios share
the selection-rate test; Welch's ANOVA for mean errors), each group tests its difference from the
reference (two-proportion z-test, Welch's z-test). All of them, over every sensitive column and
class, form the "fairness" family: Benjamini–Hochberg at `[findings] fdr`, and a gap or a difference
is significant where its q-value is at most the rate. The intervals stay unadjusted, so an interval
that excludes 0 can belong to a gap that is not significant.

Multiclass tasks compare each class's selection rate and recall (one class against the rest);
regression tasks compare the mean absolute error and the mean residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Outcome, TestFamily
from reportgen.config import FairnessSection
from reportgen.errors import ConfigError, quoted_list
from reportgen.metrics import binary, intervals, tasks
from reportgen.metrics.metric import Bounds, Fraction, Mean
from reportgen.metrics.significance import (
    benjamini_hochberg,
    chi_square_p,
    homogeneity,
    two_proportions,
    welch,
    welch_anova,
)
from reportgen.metrics.statistics import Confusion
from reportgen.metrics.values import EMPTY
from reportgen.slices import SliceFamily, group_label

Measure = Fraction | Mean

RATES = {
    "selection_rate": binary.selection_rate,
    "tpr": binary.recall,
    "fpr": binary.fpr,
    "precision": binary.precision,
}

GAPS = {
    # gap name: (rates it is computed from, "difference", "ratio" or "reference_ratio")
    "demographic_parity_difference": (("selection_rate",), "difference"),
    "demographic_parity_ratio": (("selection_rate",), "ratio"),
    "equal_opportunity_difference": (("tpr",), "difference"),
    "equalized_odds_difference": (("tpr", "fpr"), "difference"),
    "predictive_parity_difference": (("precision",), "difference"),
    "disparate_impact_ratio": (("selection_rate",), "reference_ratio"),
}
CLASS_RATES = ("selection_rate", "tpr")  # per class of a multiclass task, one class against the rest
CLASS_GAPS = {name: GAPS[name] for name in ("demographic_parity_difference", "equal_opportunity_difference")}
DEFAULT_ERROR_SHARE = 0.1  # regression: gaps are flagged beyond this share of the overall MAE by default
ERROR_GAPS = {
    "mae_difference": (("mae",), "difference"),
    "mean_residual_difference": (("mean_residual",), "difference"),
}

BY_GROUP_COLUMNS = [
    "sensitive", "group", "n", "rate", "value", "difference", "ci_low", "ci_high", "ratio",
    "breached", "p_value", "q_value", "significant", "undefined_reason",
]
GAP_COLUMNS = [
    "sensitive", "gap", "value", "ci_low", "ci_high", "threshold", "breached", "hypothesis", "p_value", "q_value",
    "significant", "between", "rate", "note", "undefined_reason",
]
_GAP_NUMBERS = ("value", "ci_low", "ci_high", "threshold", "p_value", "q_value")
FAMILY = "fairness"
FAMILY_DESCRIPTION = (
    "Every fairness gap, one test per sensitive column, class and rate of “the rate is equal in every group” "
    "(chi-square test of homogeneity; equalized odds combines its true and false positive rates; Welch's ANOVA for "
    "mean errors), and every group's difference from the reference group (two-proportion z-test; Welch's z-test)."
)


@dataclass(frozen=True)
class Thresholds:
    """When a gap is flagged: a difference above `max_difference`, a ratio below `min_ratio`."""

    max_difference: float
    min_ratio: float


@dataclass(frozen=True)
class Fairness:
    """The fairness analysis's result.

    Attributes
    ----------
    by_group : DataFrame
        Per sensitive column, group and rate: value, difference from the reference with its interval,
        p_value, q_value and significant (multiclass: per class_label).
    gaps : DataFrame
        Per sensitive column, the summary gaps, flagged against the thresholds; hypothesis names the
        rates its test compares ("tpr+fpr" for equalized odds), which gaps of one column and class share.
    references : dict
        Sensitive column → reference group label.
    thresholds : Thresholds
        The thresholds gaps were flagged at (regression: in the target's units).
    family : TestFamily
        The tests adjusted together to decide `significant`.
    """

    by_group: pd.DataFrame
    gaps: pd.DataFrame
    references: dict[str, str]
    thresholds: Thresholds
    family: TestFamily


@dataclass(frozen=True)
class _Pair:
    rate: str
    value: float
    first: int
    second: int
    low: float
    high: float


def rates(counts: Confusion, names: tuple[str, ...] = tuple(RATES)) -> dict[str, Measure]:
    """The classification rates `names` (keys of `RATES`) of confusion counts per group."""
    return {name: RATES[name](counts) for name in names}


def fairness_tables(
    sensitive: str,
    labels: list[str],
    n: np.ndarray,
    measures: dict[str, Measure],
    reference: int,
    thresholds: Thresholds,
    *,
    level: float,
    gaps: dict[str, tuple[tuple[str, ...], str]] = GAPS,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-group rates and summary gaps for one sensitive column.

    Parameters
    ----------
    sensitive : str
        The sensitive column's name.
    labels : list of str
        Group labels.
    n : ndarray of int
        Rows per group.
    measures : dict
        Rate name → its per-group `Fraction` (classification, see `rates`) or `Mean` (regression errors).
    reference : int
        Index of the reference group.
    thresholds : Thresholds
        Flagging thresholds.
    level : float
        Confidence level of the intervals.
    gaps : dict
        The summary gaps to compute: name → (rates it uses, "difference", "ratio" or
        "reference_ratio"); ratios need `Fraction` rates.

    Returns
    -------
    by_group : DataFrame
        One row per group and rate: its value, the difference from the reference with an
        interval and the p-value of its test, the ratio to the reference (selection rate), and
        `breached`; q_value and significant are left for `adjust` (NaN and None).
    gaps : DataFrame
        One row per summary gap in `gaps`, with the p-value of its hypothesis; undefined, with
        the reason, when fewer than two groups have a defined rate.
    """
    parts = [_by_group(sensitive, labels, n, name, measure, reference, thresholds, level)
             for name, measure in measures.items()]
    by_group = pd.DataFrame({column: np.concatenate([part[column] for part in parts]) for column in BY_GROUP_COLUMNS})
    rows = [_gap(sensitive, labels, gap, rates_used, kind, measures, reference, thresholds, level)
            for gap, (rates_used, kind) in gaps.items()]
    table = pd.DataFrame({
        column: np.array([np.nan if row[column] is None else row[column] for row in rows], dtype=np.float64)
        if column in _GAP_NUMBERS else np.array([row[column] for row in rows], dtype=object)
        for column in GAP_COLUMNS
    })
    return by_group, table


def adjust(by_group: pd.DataFrame, gaps: pd.DataFrame, fdr: float) -> tuple[pd.DataFrame, pd.DataFrame, TestFamily]:
    """Benjamini–Hochberg over every test of the tables (the "fairness" family): q_value and significant.

    A hypothesis that several gaps share (same sensitive column, class and rates) is one test. A
    compared group or a defined gap whose test is undefined is not significant; rows compared with
    nothing keep significant None.
    """
    hypothesis = gaps.groupby(["sensitive", "class_label", "hypothesis"], sort=False, dropna=False).ngroup().to_numpy()
    gap_p = gaps["p_value"].to_numpy(dtype=np.float64)
    # the shared p-value of each hypothesis (its gaps' p-values agree; NaN where none of them is defined)
    shared = pd.Series(gap_p).groupby(hypothesis).first().reindex(range(hypothesis.max(initial=-1) + 1)).to_numpy()
    hypothesis_tested = np.isfinite(shared)
    group_p = by_group["p_value"].to_numpy(dtype=np.float64)
    group_tested = np.isfinite(group_p)
    q = benjamini_hochberg(np.concatenate([shared[hypothesis_tested], group_p[group_tested]]))
    by_hypothesis = np.full(len(shared), np.nan)
    by_hypothesis[hypothesis_tested] = q[: hypothesis_tested.sum()]
    gap_q = np.where(np.isfinite(gap_p), by_hypothesis[hypothesis], np.nan)
    group_q = np.full(len(by_group), np.nan)
    group_q[group_tested] = q[hypothesis_tested.sum():]
    family = TestFamily(FAMILY, FAMILY_DESCRIPTION, tests=len(q), discoveries=int((q <= fdr).sum()))
    return (
        by_group.assign(q_value=group_q, significant=_significant(group_q, by_group["breached"], fdr)),
        gaps.assign(q_value=gap_q, significant=_significant(gap_q, gaps["breached"], fdr)),
        family,
    )


def _significant(q: np.ndarray, breached: pd.Series, fdr: float) -> np.ndarray:
    """q ≤ fdr where the row was compared (its `breached` is set), None elsewhere."""
    compared = breached.notna().to_numpy()
    return np.where(compared, q <= fdr, None).astype(object)


def _by_group(
    sensitive: str,
    labels: list[str],
    n: np.ndarray,
    rate: str,
    measure: Measure,
    reference: int,
    thresholds: Thresholds,
    level: float,
) -> dict[str, np.ndarray]:
    """One rate's columns of the by-group table (`BY_GROUP_COLUMNS`), one entry per group."""
    values = measure.values()
    value = values.value
    difference = value - value[reference]
    everyone = np.arange(len(labels))
    low, high = _difference_bounds(measure, everyone, np.full(len(labels), reference), level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(value[reference] > 0, value / value[reference], np.nan)
    is_reference = np.arange(len(labels)) == reference
    low[is_reference] = high[is_reference] = np.nan
    compared = np.isfinite(difference) & ~is_reference
    p_value = np.where(compared, _against_reference(measure, reference), np.nan)
    breached = np.abs(difference) > thresholds.max_difference
    if rate == "selection_rate":
        with np.errstate(divide="ignore"):
            breached |= np.fmin(ratio, 1 / ratio) < thresholds.min_ratio
    reason = np.where(
        np.isfinite(value), np.where(np.isfinite(difference), None, "the reference group's value is undefined"),
        values.reason,
    )
    groups = len(labels)
    return {
        "sensitive": np.full(groups, sensitive, dtype=object),
        "group": np.array(labels, dtype=object),
        "n": np.asarray(n),
        "rate": np.full(groups, rate, dtype=object),
        "value": value,
        "difference": difference,
        "ci_low": low,
        "ci_high": high,
        "ratio": ratio if rate == "selection_rate" else np.full(groups, np.nan),
        "breached": np.where(compared, breached, None).astype(object),
        "p_value": p_value,
        "q_value": np.full(groups, np.nan),
        "significant": np.full(groups, None, dtype=object),
        "undefined_reason": reason.astype(object),
    }


def _against_reference(measure: Measure, reference: int) -> np.ndarray:
    """Two-sided p-value of each group's difference from the reference group (z-tests)."""
    if isinstance(measure, Mean):
        moments = (measure.total, measure.squares, measure.n)
        return welch(moments, tuple(a[reference] for a in moments))[1]  # type: ignore[arg-type]
    k, m = measure.numerator, measure.denominator
    return two_proportions(k, m, k[reference], m[reference])[1]


def _equal_rates_p(measures: list[Measure]) -> float:
    """P-value of "each of these rates is equal in every group": chi-square of homogeneity, summed over rates
    computed on disjoint rows (statistics and degrees of freedom add up); Welch's ANOVA for one mean."""
    if isinstance(measures[0], Mean):
        assert len(measures) == 1, "mean errors are tested one at a time"
        mean = measures[0]
        return welch_anova(mean.total, mean.squares, mean.n)
    tests = [homogeneity(m.numerator, m.denominator) for m in measures if isinstance(m, Fraction)]
    return chi_square_p(sum(t[0] for t in tests), sum(t[1] for t in tests))


def _difference_bounds(measure: Measure, first: np.ndarray, second: np.ndarray, level: float) -> Bounds:
    """Interval of measure[first] − measure[second], per pair of group indices."""
    if isinstance(measure, Mean):
        moments = (measure.total, measure.squares, measure.n)
        return intervals.mean_difference(
            tuple(a[first] for a in moments), tuple(a[second] for a in moments), level  # type: ignore[arg-type]
        )
    k, m = measure.numerator, measure.denominator
    return intervals.newcombe(k[first], m[first], k[second], m[second], level)


def _gap(
    sensitive: str,
    labels: list[str],
    gap: str,
    rates: tuple[str, ...],
    kind: str,
    measures: dict[str, Measure],
    reference: int,
    thresholds: Thresholds,
    level: float,
) -> dict[str, object]:
    threshold = thresholds.max_difference if kind == "difference" else thresholds.min_ratio
    found = {rate: _extreme_pair(rate, measures[rate], kind, reference, level) for rate in rates}
    pairs = [pair for pair in found.values() if pair is not None]
    row: dict[str, object] = {"sensitive": sensitive, "gap": gap, "threshold": threshold, "hypothesis": "+".join(rates),
                              "q_value": None, "significant": None}
    if not pairs:
        return row | {
            "value": None, "ci_low": None, "ci_high": None, "breached": None, "p_value": None,
            "between": None, "rate": None, "note": None, "undefined_reason": _undefined_reason(rates, kind),
        }
    if kind == "difference":
        pair = max(pairs, key=lambda p: p.value)  # equalized odds: the worse of TPR and FPR gaps
        breached = pair.value > threshold
    else:
        pair = min(pairs, key=lambda p: p.value)
        breached = pair.value < threshold
    left_out = [_undefined_reason((rate,), kind) for rate, p in found.items() if p is None]
    return row | {
        "value": pair.value, "ci_low": pair.low, "ci_high": pair.high,
        "breached": bool(breached), "p_value": _equal_rates_p([measures[rate] for rate in rates]),
        "between": f"{labels[pair.first]} vs {labels[pair.second]}", "rate": pair.rate,
        "note": "; ".join(left_out) or None, "undefined_reason": None,
    }


def _undefined_reason(rates: tuple[str, ...], kind: str) -> str:
    names = " and ".join(rates)
    if kind == "reference_ratio":
        return f"the reference group's {names} is undefined or 0"
    if kind == "ratio":
        return f"fewer than two groups with a defined {names}, or all are 0"
    return f"fewer than two groups with a defined {names}"


def _extreme_pair(rate: str, measure: Measure, kind: str, reference: int, level: float) -> _Pair | None:
    """The gap between the groups with the highest and lowest rate (or lowest vs reference)."""
    value = measure.values().value
    defined = np.flatnonzero(np.isfinite(value))
    if len(defined) < 2:
        return None
    ranked = defined[np.argsort(value[defined], kind="stable")]
    lowest, highest = int(ranked[0]), int(ranked[-1])
    if kind == "difference":
        low, high = _difference_bounds(measure, np.array([highest]), np.array([lowest]), level)
        return _Pair(rate, float(value[highest] - value[lowest]), highest, lowest, float(low[0]), float(high[0]))
    assert isinstance(measure, Fraction), "ratio gaps are defined for rates (proportions) only"
    k, m = measure.numerator, measure.denominator
    top = reference if kind == "reference_ratio" else highest
    if not np.isfinite(value[top]) or value[top] == 0:
        return None
    if kind == "reference_ratio" and lowest == reference:
        lowest = int(ranked[1])
    low, high = intervals.katz_ratio(k[lowest], m[lowest], k[top], m[top], level)
    return _Pair(rate, float(value[lowest] / value[top]), lowest, top, float(low), float(high))


def thresholds_for(settings: FairnessSection, task: str, overall_mae: float | None) -> Thresholds:
    """The configured thresholds; for regression, differences in the target's units (default:
    `DEFAULT_ERROR_SHARE` of the overall MAE)."""
    if task != "regression":
        return Thresholds(settings.max_difference, settings.min_ratio)
    if settings.max_error_difference is not None:
        return Thresholds(settings.max_error_difference, settings.min_ratio)
    return Thresholds(float(DEFAULT_ERROR_SHARE * (np.nan if overall_mae is None else overall_mae)), settings.min_ratio)


def measure_fairness(
    sensitive: dict[str, tuple[SliceFamily, tasks.Statistics]],
    *,
    task: str,
    classes: list[str],
    references: dict[str, object],
    thresholds: Thresholds,
    level: float,
    fdr: float,
) -> Fairness:
    """Rates per group and summary gaps for each sensitive column, tested and adjusted together (`adjust`).

    Parameters
    ----------
    sensitive : dict
        Sensitive column → its slice family and that family's statistics, in config order.
    task : str
        "binary", "multiclass" (each class against the rest) or "regression".
    classes : list of str
        Multiclass: the class labels in code order.
    references : dict
        Sensitive column → the configured reference group (as written); the largest group otherwise.
    thresholds, level
        When gaps are flagged, and the intervals' confidence level.
    fdr : float
        The false discovery rate of the Benjamini–Hochberg adjustment over every test (`[findings] fdr`).

    Raises
    ------
    ConfigError
        If a configured reference is not a group of its column.
    """
    by_group, gaps, chosen = [], [], {}
    for column, (family, family_stats) in sensitive.items():
        n = np.asarray(family_stats.n)
        reference = _reference_index(family, n, references.get(column), column)
        chosen[column] = family.labels[reference]
        for class_label, measures, gap_kinds in _fairness_measures(task, classes, family_stats):
            group_table, gap_table = fairness_tables(
                column, family.labels, n, measures, reference, thresholds, level=level, gaps=gap_kinds
            )
            by_group.append(group_table.assign(class_label=class_label))
            gaps.append(gap_table.assign(class_label=class_label))
    if not by_group:
        return Fairness(pd.DataFrame(columns=[*BY_GROUP_COLUMNS, "class_label"]),
                        pd.DataFrame(columns=[*GAP_COLUMNS, "class_label"]), {}, thresholds,
                        TestFamily(FAMILY, FAMILY_DESCRIPTION, tests=0, discoveries=0))
    by_group_table, gap_table, family = adjust(pd.concat(by_group, ignore_index=True),
                                               pd.concat(gaps, ignore_index=True), fdr)
    return Fairness(by_group_table, gap_table, chosen, thresholds, family)


def sensitive_family(families: list[SliceFamily], column: str) -> SliceFamily:
    """The one-column family of a sensitive column (`Config.all_slices` adds one where none is configured)."""
    for family in families:
        if family.kind in ("values", "bins", "quantiles") and family.columns == [column]:
            return family
    raise AssertionError(f"no slice family for sensitive column {column!r}")


def run(context: Context) -> Outcome:
    """The fairness analysis of an evaluation: its result and its family of tests (none without a sensitive
    column); the findings read the result (`findings.fairness_breaches`)."""
    measured, settings = context.measured, context.config.fairness
    sensitive = {}
    for column in settings.sensitive:
        family = sensitive_family(measured.families, column)
        sensitive[column] = (family, measured.statistics[family.name])
    result = measure_fairness(
        sensitive, task=measured.task, classes=context.predictions.classes, references=dict(settings.reference),
        thresholds=thresholds_for(settings, measured.task, measured.overall("mae")),
        level=context.config.report.confidence_level, fdr=context.config.findings.fdr,
    )
    return Outcome(result, families=[result.family] if settings.sensitive else [])


def _fairness_measures(
    task: str, classes: list[str], family_stats: tasks.Statistics
) -> list[tuple[str | None, dict[str, Measure], dict[str, tuple[tuple[str, ...], str]]]]:
    """(class label or None, rate → measure, gaps) for each comparison the task makes."""
    of_task = family_stats.task
    if task == "binary":
        return [(None, rates(of_task.confusion), GAPS)]
    if task == "multiclass":
        return [(name, rates(of_task.confusion.ovr(k), CLASS_RATES), CLASS_GAPS) for k, name in enumerate(classes)]
    errors = of_task.errors
    measures: dict[str, Measure] = {
        name: Mean(*errors.moments(name), undefined=EMPTY) for name in ("mae", "mean_residual")
    }
    return [(None, measures, ERROR_GAPS)]


def _reference_index(family: SliceFamily, n: np.ndarray, wanted: object, column: str) -> int:
    """The configured reference group, or the largest group (never a pool of values beyond `max_groups`)."""
    if wanted is None:
        return int(np.argmax(n[: family.n_listed]))
    text = group_label(wanted)
    if text not in family.labels:
        raise ConfigError(
            f'[fairness] reference.{column}: "{wanted}" is not a group of "{column}"; '
            f"groups are: {quoted_list(family.labels, limit=10)}"
        )
    return family.labels.index(text)
