"""Slice discovery: search the metadata columns for the slices where the model fails most.

A slice is a conjunction of one to three conditions (column = value, or column in a quantile bin).
Every slice of a depth is counted at once: the candidate columns' group codes are combined into
one code per row and `np.bincount` gives each cell's rows and error sums, so the search costs a
few passes over the rows per combination of columns, never a pass per slice. Each slice with
enough rows is tested (one-sided: is the model worse there?) against the rest of the data and,
from two conditions on, against the other rows of each more general slice (the same conditions
less one): a slice no worse than the rest of a more general one is explained by it. Its p-value
is the largest of these (it must pass every test), and the p-values of all slices of all depths
are adjusted together (Benjamini–Hochberg): the reported slices are those within the rate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from reportgen.config import DEFAULT_CANDIDATE_COLUMNS, MAX_CANDIDATE_COLUMNS, SliceSpec
from reportgen.errors import ConfigError, InputError, plain_list, quoted_list
from reportgen.io import ColumnCodes, Predictions
from reportgen.labels import cap_label
from reportgen.metrics.intervals import mean_interval, wilson
from reportgen.metrics.significance import benjamini_hochberg
from reportgen.metrics.statistics import EPS
from reportgen.slices import SliceFamily, build_slices

MEASURES = {
    "error_rate": "error rate",
    "fnr": "false negative rate",
    "fpr": "false positive rate",
    "log_loss": "mean log loss",
    "brier": "mean Brier score",
    "abs_error": "mean absolute error",
    "squared_error": "mean squared error",
}
TASK_MEASURES = {
    "binary": ("error_rate", "fnr", "fpr", "log_loss", "brier"),
    "multiclass": ("error_rate", "log_loss"),
    "regression": ("abs_error", "squared_error"),
}
BINARY_MEASURES = ("error_rate", "fnr", "fpr")  # 0/1 per row: error rates
MAX_COMBINATIONS = 10_000  # combinations of candidate columns searched, over all depths
# (group, cell) tables up to this size are counted with one bincount, larger ones through np.unique.
_DENSE_CELLS = 1 << 24


@dataclass(frozen=True)
class Measure:
    """The per-row error measure slices are ranked by.

    `values` holds one value per row (none for rows an engine holds where they lie: `unmeasured`); `binary` says
    whether they are 0/1 (an error rate). `rows` selects the rows the measure is defined on (binary FNR: the positive
    labels; FPR: the negative ones), None for all.
    """

    name: str
    label: str
    values: np.ndarray
    binary: bool
    rows: np.ndarray | None = None


def measure_name(task: str, metric: str | None, has_probabilities: bool, *, source: str = "config") -> str:
    """The error measure of `[error_analysis] metric` (default: error rate, or absolute error for regression).

    Raises
    ------
    ConfigError
        If the metric does not apply to the task, or needs probabilities the predictions lack.
    """
    name = metric or TASK_MEASURES[task][0]
    if name not in TASK_MEASURES[task]:
        raise ConfigError(
            f'{source}: [error_analysis] metric: "{name}" does not apply to a {task} task; use one of '
            f"{quoted_list(TASK_MEASURES[task])}"
        )
    if name in ("log_loss", "brier") and not has_probabilities:
        raise ConfigError(
            f'{source}: [error_analysis] metric: "{name}" needs probabilities; name the probability columns in [data]'
        )
    return name


def unmeasured(name: str) -> Measure:
    """The measure `name` of rows an engine holds where they lie: no per-row values here."""
    return Measure(name, MEASURES[name], np.zeros(0), name in BINARY_MEASURES)


def error_measure(predictions: Predictions, metric: str | None, *, source: str = "config") -> Measure:
    """The per-row error measure of `metric` (`measure_name`).

    "fnr" and "fpr" (binary) are error rates over the rows of one label: their `values` cover
    `rows` only. `source` (the config file) starts error messages.

    Raises
    ------
    ConfigError
        If the metric does not apply to the task, or needs probabilities the predictions lack.
    """
    task = predictions.task
    y_true, y_pred, scores = predictions.y_true, predictions.y_pred, predictions.scores
    name = measure_name(task, metric, scores is not None, source=source)
    rows = None
    if name == "error_rate":
        values = (y_true != y_pred).astype(np.float64)
    elif name in ("fnr", "fpr"):
        label = 1 if name == "fnr" else 0
        rows = np.flatnonzero(y_true == label)
        values = (y_pred[rows] != label).astype(np.float64)
    elif name == "log_loss":
        p_true = np.where(y_true == 1, scores, 1 - scores) if task == "binary" else (
            np.take_along_axis(scores, y_true[:, None], axis=1)[:, 0])
        values = -np.log(np.clip(p_true, EPS, 1 - EPS))
    elif name == "brier":
        values = (scores - y_true) ** 2
    elif name == "abs_error":
        values = np.abs(y_true - y_pred)
    else:
        values = (y_true - y_pred) ** 2
    return Measure(name, MEASURES[name], np.asarray(values, dtype=np.float64), name in BINARY_MEASURES, rows)


@dataclass(frozen=True)
class ColumnProfile:
    """What the choice of candidate columns reads of a column: its distinct values (a missing value counting as
    one), whether it holds real numbers (not booleans), and whether they are floating-point (never an identifier)."""

    distinct: int
    numeric: bool
    floating: bool

    @classmethod
    def of(cls, codes: ColumnCodes, column: str) -> ColumnProfile:
        """The profile of a column of the frame whose `codes` are given."""
        values = codes.frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        return cls(len(codes(column).values), numeric, pd.api.types.is_float_dtype(values))


def candidate_specs(
    names: Sequence[str], n_rows: int, profile: Callable[[str], ColumnProfile], columns: list[str] | None,
    exclude: set[str], *, max_values: int, quantiles: int, source: str, max_columns: int = DEFAULT_CANDIDATE_COLUMNS,
    model_outputs: Mapping[str, str] | None = None,
) -> tuple[list[SliceSpec], list[str]]:
    """The candidate columns as slice specs (values, or quantile bins for numbers with many values), whatever the
    engine: `names` are the input's columns in order and `profile` gives a column's `ColumnProfile`.

    Without `columns`, every column not in `exclude` is a candidate except columns that look like
    model outputs (`model_outputs`: column → why, from `reportgen.analysis.checks`), identifiers (whole
    numbers or text, every value distinct) and columns with one value; text columns with more than
    `max_values` values are left out. The first `max_columns` candidates in the input's order are
    kept and the columns after the last one are not examined (`columns`, validated against
    `max_columns` in the config, are all kept). Returns the specs and notes on what was left out.

    Raises
    ------
    InputError
        If a named column is missing or has a single value, or no column is left.
    """
    notes: list[str] = []
    chosen = columns if columns is not None else [c for c in names if c not in exclude]
    specs = []
    examined = 0
    for column in chosen:
        if len(specs) == max_columns and columns is None:
            break
        examined += 1
        if column not in names:
            raise InputError(
                f'{source}: no column "{column}" ([error_analysis] columns); columns are: '
                f"{plain_list(names, limit=12)}"
            )
        if columns is None and model_outputs and str(column) in model_outputs:
            notes.append(f'"{cap_label(str(column))}" looks like a model output ({model_outputs[str(column)]})')
            continue
        found = profile(column)
        if found.distinct < 2:
            if columns is not None:
                raise InputError(
                    f'{source}: column "{column}" ([error_analysis] columns) has a single value, so it cannot '
                    "separate slices; remove it"
                )
            notes.append(f'"{cap_label(str(column))}" has a single value')
            continue
        if columns is None and found.distinct == n_rows and not found.floating:
            notes.append(f'"{cap_label(str(column))}" looks like an identifier (every value distinct)')
            continue
        if found.numeric and found.distinct > max_values:
            specs.append(SliceSpec(column=column, quantiles=quantiles))
        elif found.distinct <= max_values or columns is not None:
            specs.append(SliceSpec(column=column, max_groups=max(max_values, 2)))
        else:
            notes.append(f'"{cap_label(str(column))}" has {found.distinct} distinct values (more than {max_values})')
    if not specs:
        raise InputError(
            f"{source}: no candidate columns for error analysis"
            + (f" ({_listed(notes)})" if notes else "")
            + "; add metadata columns to the predictions or list them in [error_analysis] columns"
        )
    found_notes = [f"Left out: {_listed(notes)}."] if notes else []
    if examined < len(chosen):
        found_notes.append(
            f"{len(chosen):,} metadata columns: the first {len(specs):,} candidates in the file's order were "
            f"searched and the last {len(chosen) - examined:,} columns were not examined; set [error_analysis] "
            f"max_columns (at most {MAX_CANDIDATE_COLUMNS:,}) or list the columns to search in [error_analysis] columns."
        )
    return specs, found_notes


def candidate_families(
    frame: pd.DataFrame, columns: list[str] | None, exclude: set[str], *, max_values: int, quantiles: int, source: str,
    max_columns: int = DEFAULT_CANDIDATE_COLUMNS, model_outputs: Mapping[str, str] | None = None,
    codes: ColumnCodes | None = None,
) -> tuple[list[SliceFamily], list[str]]:
    """The candidate columns of a frame as slice families (`candidate_specs`), and notes on what was left out.

    `codes` are the frame's columns as codes, shared with the evaluation's other analyses (`Predictions.codes`); by
    default factorized here.

    Raises
    ------
    InputError
        If a named column is missing or has a single value, or no column is left.
    """
    codes = codes if codes is not None else ColumnCodes(frame)
    specs, notes = candidate_specs(list(frame.columns), len(frame), lambda column: ColumnProfile.of(codes, column),
                                   columns, exclude, max_values=max_values,
                                   quantiles=quantiles, source=source, max_columns=max_columns,
                                   model_outputs=model_outputs)
    return build_slices(frame, specs, source=source, codes=codes), notes


def _listed(notes: list[str], limit: int = 5) -> str:
    """Notes joined by "; ", at most `limit` of them, then "… and N more"."""
    shown = "; ".join(notes[:limit])
    return shown if len(notes) <= limit else f"{shown}; … and {len(notes) - limit:,} more"


@dataclass(frozen=True)
class Discovery:
    """Every slice tested, and the ones reported.

    Attributes
    ----------
    tested : DataFrame
        One row per slice with at least `min_support` rows (and rows outside it): conditions
        (tuple of (column, group label) pairs), depth, n, value (the measure's mean), rest (its mean
        over the other rows), difference, p_rest (one-sided, against the rest), p_value (the
        largest of p_rest and the p-values against the rest of each more general slice), q_value,
        significant.
    reported : DataFrame
        The significant slices, most worse first, with their rank (1 = worst) and ci_low /
        ci_high of the value.
    overall : float
        The measure's mean over all rows.
    notes : list of str
        What the reader should know about the search (levels cut by `max_combinations`).
    """

    tested: pd.DataFrame
    reported: pd.DataFrame
    overall: float
    notes: list[str] = field(default_factory=list)


def discover(
    families: list[SliceFamily], measure: Measure, *, depth: int, min_support: int, fdr: float, level: float,
    max_combinations: int = MAX_COMBINATIONS,
) -> Discovery:
    """Test every slice of up to `depth` conditions on distinct columns and keep those where the model is worse.

    Parameters
    ----------
    families : list of SliceFamily
        The candidate columns' groups (every row in a group).
    measure : Measure
        The per-row error measure.
    depth : int
        Most conditions per slice (1 to 3).
    min_support : int
        Fewest rows of a slice (and of the rest of the data) for it to be tested.
    fdr : float
        False discovery rate of the Benjamini–Hochberg adjustment over all tested slices.
    level : float
        Confidence level of the reported values' intervals.
    max_combinations : int
        Most combinations of columns searched over all depths (`_combinations`: deeper levels
        combine the first columns only, and `Discovery.notes` says so).
    """
    values = measure.values
    squared = None if measure.binary else np.square(values)  # 0/1 values are their own squares

    def count(combos: Sequence[tuple[int, ...]]) -> list[Cells]:
        return [count_cells(combo, families, values, squared, min_support) for combo in combos]

    totals = (float(values.sum()), float(np.square(values).sum()), len(values))
    return discover_cells(families, count, totals, measure.binary, depth=depth, min_support=min_support, fdr=fdr,
                          level=level, max_combinations=max_combinations)


def discover_cells(
    families: Sequence[SliceFamily], count: Callable[[Sequence[tuple[int, ...]]], list[Cells]],
    totals: tuple[float, float, int], binary: bool, *, depth: int, min_support: int, fdr: float, level: float,
    max_combinations: int = MAX_COMBINATIONS,
) -> Discovery:
    """`discover` from counts any engine makes: `count` gives, for combinations of the families (indices), each
    combination's `Cells` with `min_support` rows or more (`cells`); `totals` are the measure's sum, sum of squares
    and rows."""
    total, squares, n_rows = totals
    combos, notes = _combinations(len(families), depth, max_combinations)
    counted = _counted(count(combos))
    if counted.empty:
        return Discovery(counted, counted, total / n_rows, notes)
    p_parents = _against_parents(counted, binary, min_support)
    testable = (counted["n"] <= n_rows - min_support).to_numpy()
    tested, p_parents = counted[testable].reset_index(drop=True), p_parents[testable]
    if tested.empty:
        return Discovery(tested, tested, total / n_rows, notes)
    rest = (total - tested["total"].to_numpy(), squares - tested["squares"].to_numpy(), n_rows - tested["n"].to_numpy())
    value, rest_value, p_rest = _worse_than(
        (tested["total"].to_numpy(), tested["squares"].to_numpy(), tested["n"].to_numpy()), rest, binary)
    p_value = np.maximum(np.nan_to_num(p_rest, nan=1.0), p_parents)
    tested = tested.assign(value=value, rest=rest_value, difference=value - rest_value, p_rest=p_rest,
                           p_value=p_value, q_value=benjamini_hochberg(p_value))
    tested["significant"] = (tested["q_value"] <= fdr) & (tested["difference"] > 0)
    reported = tested[tested["significant"]]
    low, high = _interval(reported, binary, level)
    reported = reported.assign(ci_low=low, ci_high=high).sort_values(
        ["difference", "n"], ascending=[False, False], kind="stable").reset_index(drop=True)
    reported["rank"] = np.arange(1, len(reported) + 1)
    return Discovery(tested, reported, total / n_rows, notes)


def _combinations(n_columns: int, depth: int, budget: int) -> tuple[list[tuple[int, ...]], list[str]]:
    """The combinations of candidate columns to search, depth by depth, at most `budget` in all.

    Every column alone is searched; a deeper level combines the first k columns only, k the most
    whose combinations fit in what is left of the budget. Returns them and a note per level cut.
    """
    combos: list[tuple[int, ...]] = []
    notes = []
    for d in range(1, min(depth, n_columns) + 1):
        k = n_columns
        while k >= d and math.comb(k, d) > max(budget - len(combos), 0) and d > 1:
            k -= 1
        if k < n_columns:
            notes.append(
                f"Slices of {d} conditions combine only the first {k} of the {n_columns} candidate columns "
                f"(at most {budget:,} combinations of columns are searched)." if k >= d else
                f"Slices of {d} conditions were not searched (at most {budget:,} combinations of columns are)."
            )
        combos += itertools.combinations(range(k), d)
    return combos, notes


def slice_text(conditions: tuple[tuple[str, str], ...]) -> str:
    """A slice in words: 'sex = Female & race = Black' (as `[error_analysis.targets]` keys are written)."""
    return " & ".join(f"{column} = {label}" for column, label in conditions)


Cells = tuple[list[tuple[tuple[str, str], ...]], np.ndarray, np.ndarray, np.ndarray]


def _counted(parts: list[Cells]) -> pd.DataFrame:
    """The cells of every combination as one table (built once: a frame per combination costs more
    than its counting)."""
    if not parts:
        return pd.DataFrame()
    conditions = [c for part in parts for c in part[0]]
    return pd.DataFrame({
        "conditions": pd.Series(conditions, dtype=object),
        "depth": np.array([len(c) for c in conditions], dtype=np.int64),
        **{name: np.concatenate([part[i] for part in parts]) for i, name in ((1, "n"), (2, "total"), (3, "squares"))},
    })


def count_cells(combo: tuple[int, ...], families: list[SliceFamily], values: np.ndarray, squared: np.ndarray | None,
              min_support: int) -> Cells:
    """The cells of one combination of columns with `min_support` rows or more, counted from the rows (a slice is
    tested when the rest of the data has as many too). `squared` holds the values squared; None when they are their
    own squares (0/1)."""
    chosen = [families[i] for i in combo]
    sizes = [f.n_groups for f in chosen]
    key = np.zeros(len(values), dtype=np.int64)
    for family in chosen:
        key *= family.n_groups
        key += family.codes
    size = int(np.prod(sizes))
    if size <= _DENSE_CELLS:
        n = np.bincount(key, minlength=size)
        cells = np.flatnonzero(n >= min_support)
        counts = n[cells]
        sums = np.bincount(key, weights=values, minlength=size)[cells]
        squares = sums if squared is None else np.bincount(key, weights=squared, minlength=size)[cells]
    else:
        cells, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=values)
        squares = sums if squared is None else np.bincount(inverse, weights=squared)
        wanted = counts >= min_support
        cells, counts, sums, squares = cells[wanted], counts[wanted], sums[wanted], squares[wanted]
    return cells_of(chosen, np.unravel_index(cells, sizes), counts, sums, squares)


def cells_of(chosen: Sequence[SliceFamily], codes: Sequence[np.ndarray], counts: np.ndarray, sums: np.ndarray,
             squares: np.ndarray) -> Cells:
    """A combination's `Cells`: each cell's conditions (from its group code in each of the `chosen` families),
    rows, sum and sum of squares of the measure."""
    conditions = [
        tuple((family.columns[0], family.labels[code]) for family, code in zip(chosen, per_cell, strict=True))
        for per_cell in zip(*(np.asarray(c).tolist() for c in codes), strict=True)
    ]
    return (conditions, np.asarray(counts, dtype=np.int64), np.asarray(sums, dtype=np.float64),
            np.asarray(squares, dtype=np.float64))


def _worse_than(
    inside: tuple[np.ndarray, np.ndarray, np.ndarray], outside: tuple[np.ndarray, np.ndarray, np.ndarray], binary: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The measure's mean inside and outside, and the one-sided p-value that it is higher inside.

    0/1 values: the pooled two-proportion z-test; other values: Welch's z-test.
    """
    (t1, s1, n1), (t2, s2, n2) = inside, outside
    n1, n2 = n1.astype(np.float64), n2.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m2 = t1 / n1, t2 / n2
        if binary:
            pooled = (t1 + t2) / (n1 + n2)
            se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        else:
            v1 = np.maximum(s1 - n1 * m1**2, 0) / (n1 - 1)
            v2 = np.maximum(s2 - n2 * m2**2, 0) / (n2 - 1)
            se = np.sqrt(v1 / n1 + v2 / n2)
        z = (m1 - m2) / se
    p = np.where(se > 0, scipy_stats.norm.sf(z), np.where(m1 > m2, 0.0, 1.0))
    return m1, m2, np.where((n1 >= 2) & (n2 >= 2), p, np.nan)


def _against_parents(tested: pd.DataFrame, binary: bool, min_support: int) -> np.ndarray:
    """Per slice, the largest one-sided p-value that it is worse than the other rows of a parent slice.

    A parent is the same conditions less one; a slice of one condition has none (p 0). A parent
    with fewer than `min_support` other rows explains the slice outright (p 1). One vectorized test
    per dropped position: the parents are found by a dictionary lookup per slice.
    """
    conditions = tested["conditions"].tolist()
    index_of = {frozenset(c): i for i, c in enumerate(conditions)}
    sums = [tested[column].to_numpy() for column in ("total", "squares", "n")]
    worst = np.zeros(len(tested))
    for position in range(max((len(c) for c in conditions), default=0)):
        rows = np.array([i for i, c in enumerate(conditions) if len(c) > 1 and position < len(c)], dtype=np.intp)
        if len(rows) == 0:
            continue
        parents = np.array([index_of[frozenset(conditions[i]) - {conditions[i][position]}] for i in rows])
        inside = tuple(values[rows] for values in sums)
        other = tuple(values[parents] - values[rows] for values in sums)
        p_value = np.nan_to_num(_worse_than(inside, other, binary)[2], nan=1.0)  # type: ignore[arg-type]
        p_value[other[2] < min_support] = 1.0
        worst[rows] = np.maximum(worst[rows], p_value)
    return worst


def _interval(reported: pd.DataFrame, binary: bool, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson interval of an error rate, or t interval of a mean, per reported slice."""
    if binary:
        return wilson(reported["total"].to_numpy(), reported["n"].to_numpy(), level)
    return mean_interval(reported["total"].to_numpy(), reported["squares"].to_numpy(), reported["n"].to_numpy(), level)
