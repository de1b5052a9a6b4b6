"""What drift against a reference counts, where the data lies: each column's statistics over the reference's rows
and the current ones (`reportgen.analysis.data_drift` reads them as it reads the numpy engine's).

Numbers: the values' runs of equal values over both sides, cumulated in order by window functions, give the
Kolmogorov–Smirnov statistic and the Wasserstein distance exactly as the merged sorted samples do; the PSI bins are
the reference's exact quantiles (`reportgen.engines.quantiles`); a side of at most `EXACT_KS_ROWS` values is fetched
for scipy's exact p-value. Categories: counts per value on each side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.config import Config
from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection, Over, is_infinite
from reportgen.engines.families import Coded, missing_sql
from reportgen.engines.quantiles import quantiles
from reportgen.engines.scan import checked_outputs
from reportgen.errors import InputError, quoted_list, shown
from reportgen.expression_sql import kind_of_sql_type
from reportgen.metrics.drift import (
    NumberDrift,
    category_drift,
    ks_p_value,
    psi,
)
from reportgen.slices import MISSING, group_label

TIMES = ("date", "timestamp", "timestamp_ns", "timestamp_ms", "timestamp_s", "timestamp_ntz", "datetime",
         "timestamp with time zone", "timestamptz", "timestamp_ltz")


@dataclass(frozen=True)
class ReferenceInput:
    """`[monitoring] reference` as an SQL engine reads it: its files (or a data frame), naming it `source`."""

    data: Sequence[Path] | pd.DataFrame
    source: str
    fingerprint: str


def column_kind(sql_type: str) -> str:
    """ "numbers", "true/false", "dates" or "text": what a column holds, as `reportgen.reference` tells them apart."""
    if sql_type.lower() in ("boolean", "bool"):
        return "true/false"
    if kind_of_sql_type(sql_type) == "number":
        return "numbers"
    if sql_type.lower() in TIMES or sql_type.lower().startswith("timestamp"):
        return "dates"
    return "text"


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a relation of the engine, and its columns' SQL types."""

    relation: str
    types: dict[str, str]


@dataclass(frozen=True)
class SideCounts:
    """What the shared drift code reads of a column (`reportgen.analysis.data_drift.Compared`'s numbers).

    `found` is a `NumberDrift` or a `CategoryDrift`, None where there is nothing to test (no values on a side, one
    value in both: `constant`, or fewer than two `categories`). The chart's data: for numbers, `quantile` (both
    sides' quantile at a fraction), `extremes` (the lowest and highest value of both) and `bins` (each side's values
    per bin of inner edges); for categories, `per_category` (each side's count per category).
    """

    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    constant: bool
    categories: list[str]
    found: object | None
    quantile: Callable[[float], tuple[float, float]] | None = None
    extremes: tuple[float, float] | None = None
    bins: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    per_category: tuple[np.ndarray, np.ndarray] | None = None


def _union(connection: Connection, reference: Side, current: Side, value: Callable[[Side], str], where: str) -> str:
    """Both sides' `value` (the column as SQL) with a side flag r (1: reference), rows where `where` holds."""
    parts = [f"SELECT {value(side)} AS x, {flag} AS r FROM {side.relation} WHERE {where.format(side=side)}"
             for side, flag in ((reference, 1), (current, 0))]
    return f"({parts[0]} UNION ALL {parts[1]}) AS sides"


def number_counts(connection: Connection, reference: Side, current: Side, column: str, *, label: bool,
                  bins: int) -> SideCounts:
    """A number column's counts and statistics on both sides (rows with a missing label left out for a label)."""
    quote = connection.dialect.quote
    quoted = quote(column)
    number = f"CAST({quoted} AS DOUBLE)"
    finite = f"({quoted} IS NOT NULL AND NOT isnan({number}) AND NOT {is_infinite(number)})"

    def kept(side: Side) -> str:
        return _kept(quoted, side.types[column], label)

    sizes = {}
    for name, side in (("reference", reference), ("current", current)):
        found = connection.frame(f"SELECT COUNT(*) AS n_rows, SUM(CASE WHEN {finite} THEN 1 ELSE 0 END) AS n, "
                                 f"MIN(CASE WHEN {finite} THEN {number} END) AS low, MAX(CASE WHEN {finite} THEN "
                                 f"{number} END) AS high FROM {side.relation} WHERE {kept(side)}").iloc[0]
        sizes[name] = (int(found["n_rows"]), int(found["n"] or 0), found["low"], found["high"])
    (rows_r, n_r, low_r, high_r), (rows_c, n_c, low_c, high_c) = sizes["reference"], sizes["current"]
    missing = (1 - n_r / rows_r if rows_r else float("nan"), 1 - n_c / rows_c if rows_c else float("nan"))
    constant = n_r > 0 and n_c > 0 and low_r == high_r == low_c == high_c
    common = dict(n_reference=n_r, n_current=n_c, missing_reference=missing[0], missing_current=missing[1],
                  constant=constant, categories=[])
    if n_r == 0 or n_c == 0 or constant:
        return SideCounts(**common, found=None)
    values = _union(connection, reference, current, lambda side: number, f"{finite}")

    def quantile_of(side: Side, fractions: Sequence[float]) -> np.ndarray:
        return quantiles(connection, f"CASE WHEN {finite} THEN {number} END", [], fractions, source=side.relation)[0]

    def counts(inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        bin_of = " + ".join("CASE WHEN x >= ? THEN 1 ELSE 0 END" for _ in inner) or "0"
        found = connection.frame(f"SELECT r, {bin_of} AS b, COUNT(*) AS n FROM {values} GROUP BY 1, 2",
                                 [float(e) for e in inner])
        by_side = []
        for flag in (1, 0):
            mine = found[found["r"] == flag]
            per_bin = np.zeros(len(inner) + 1, dtype=np.int64)
            per_bin[mine["b"].to_numpy(dtype=np.intp)] = mine["n"].to_numpy(dtype=np.int64)
            by_side.append(per_bin)
        return by_side[0], by_side[1]

    gaps = connection.frame(
        f"SELECT MAX(ABS(gap)) AS ks, SUM(CASE WHEN next_x IS NULL THEN 0.0 ELSE ABS(gap) * (next_x - x) END) AS w "
        f"FROM (SELECT x, CAST(SUM(nr) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS DOUBLE) / {n_r} "
        f"- CAST(SUM(nc) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS DOUBLE) / {n_c} AS gap, "
        f"LEAD(x) OVER (ORDER BY x) AS next_x FROM (SELECT x, SUM(r) AS nr, SUM(1 - r) AS nc FROM {values} "
        "GROUP BY x) AS runs) AS cumulated").iloc[0]
    ks = float(gaps["ks"])
    mean = connection.frame(f"SELECT AVG({number}) AS m FROM {reference.relation} WHERE {finite}")["m"].iloc[0]
    spread = float(np.sqrt(connection.frame(
        f"SELECT SUM(({number} - ?) * ({number} - ?)) AS s FROM {reference.relation} WHERE {finite}",
        [float(mean), float(mean)])["s"].iloc[0] / n_r))
    edges = np.unique(quantile_of(reference, np.arange(1, bins) / bins))
    reference_counts, current_counts = counts(edges)

    def samples() -> tuple[np.ndarray, np.ndarray]:
        found = connection.frame(f"SELECT x, r FROM {values}")
        return (np.sort(found.loc[found["r"] == 1, "x"].to_numpy(dtype=np.float64)),
                np.sort(found.loc[found["r"] == 0, "x"].to_numpy(dtype=np.float64)))

    found = NumberDrift(ks=ks, ks_p=ks_p_value(ks, n_r, n_c, samples), wasserstein=float(gaps["w"]), spread=spread,
                        psi=float(psi(reference_counts, current_counts)), edges=edges,
                        reference_counts=reference_counts, current_counts=current_counts)
    tails = [quantile_of(side, [0.005, 0.995]) for side in (reference, current)]
    return SideCounts(**common, found=found, quantile=lambda q: (tails[0][int(q > 0.5)], tails[1][int(q > 0.5)]),
                      extremes=(min(low_r, low_c), max(high_r, high_c)), bins=counts)


def category_counts(connection: Connection, reference: Side, current: Side, column: str, *, label: bool,
                    numbers: bool) -> SideCounts:
    """A category column's counts per value on both sides: numbers as numbers, true/false as "True"/"False", anything
    else as text; a missing value is a category ("(missing)"), but for a label, whose missing rows are left out."""
    quote = connection.dialect.quote
    quoted = quote(column)

    parts = [f"SELECT {_category(quoted, side.types[column], numbers)} AS x, {flag} AS r FROM {side.relation} "
             f"WHERE {_kept(quoted, side.types[column], label)}" for side, flag in ((reference, 1), (current, 0))]
    found = connection.frame(f"SELECT x, SUM(r) AS nr, SUM(1 - r) AS nc FROM ({parts[0]} UNION ALL {parts[1]}) AS "
                             "sides GROUP BY x")
    codes, labels = _category_labels(found["x"], numbers)
    reference_counts = np.bincount(codes, weights=found["nr"].to_numpy(np.float64), minlength=len(labels))
    current_counts = np.bincount(codes, weights=found["nc"].to_numpy(np.float64), minlength=len(labels))
    n_r, n_c = int(reference_counts.sum()), int(current_counts.sum())
    missing_at = [i for i, label in enumerate(labels) if label == MISSING]
    missing_r = float(reference_counts[missing_at].sum() / n_r) if n_r else float("nan")
    missing_c = float(current_counts[missing_at].sum() / n_c) if n_c else float("nan")
    common = dict(n_reference=n_r, n_current=n_c, missing_reference=missing_r, missing_current=missing_c,
                  constant=False, categories=labels)
    if n_r == 0 or n_c == 0 or len(labels) < 2:
        return SideCounts(**common, found=None)
    per_category = (reference_counts.astype(np.int64), current_counts.astype(np.int64))
    return SideCounts(**common, found=category_drift(*per_category), per_category=per_category)


def _kept(quoted: str, sql_type: str, label: bool) -> str:
    """SQL true for the rows a column's test reads: a label's rows without a label yet are left out."""
    return f"NOT {missing_sql(quoted, sql_type)}" if label else "TRUE"


def _category(quoted: str, sql_type: str, numbers: bool) -> str:
    """A category column's value as the tests read it: numbers as numbers, true/false as "True"/"False", anything else
    as text; NULL where missing."""
    if numbers:
        value = f"CAST({quoted} AS DOUBLE)"
    elif sql_type.lower() in ("boolean", "bool"):
        value = f"CASE WHEN {quoted} THEN 'True' ELSE 'False' END"
    else:
        value = f"CAST({quoted} AS STRING)"
    return f"CASE WHEN {missing_sql(quoted, sql_type)} THEN NULL ELSE {value} END"


def _category_labels(values: pd.Series, numbers: bool) -> tuple[np.ndarray, list[str]]:
    """Each fetched category value's code into the sorted categories' labels ("(missing)" for NULL, last)."""
    codes, categories = pd.factorize(pd.Series(values.tolist(), dtype=np.float64 if numbers else "string"),
                                     use_na_sentinel=False, sort=True)
    return codes, [MISSING if pd.isna(c) else group_label(c) for c in categories]


def window_counts(connection: Connection, current: Side, column: str, windows: Coded, *, label: bool,
                  edges: np.ndarray | None = None, categories: Sequence[str] = (), numbers: bool = True) -> np.ndarray:
    """The current rows per time window (`windows`: each row's, -1 without one) and bin of a column's test
    (windows × bins): a number column's finite values in the bins of inner `edges`; else each of `categories` (the
    labels `category_counts` gives)."""
    quoted = connection.dialect.quote(column)
    sql_type = current.types[column]
    if edges is not None:
        number = f"CAST({quoted} AS DOUBLE)"
        finite = f"{quoted} IS NOT NULL AND NOT isnan({number}) AND NOT {is_infinite(number)}"
        value = f"CASE WHEN {finite} THEN {number} END"
        bin_of = " + ".join("CASE WHEN x >= ? THEN 1 ELSE 0 END" for _ in edges) or "0"
        params, n_bins = [float(e) for e in edges], len(edges) + 1
    else:
        value, bin_of, params, n_bins = _category(quoted, sql_type, numbers), "x", [], len(categories)
    found = connection.frame(
        f"SELECT w, {bin_of} AS b, COUNT(*) AS n FROM (SELECT {windows.code} AS w, {value} AS x FROM "
        f"{current.relation} WHERE {_kept(quoted, sql_type, label)}) AS windowed WHERE w >= 0"
        f"{' AND x IS NOT NULL' if edges is not None else ''} GROUP BY 1, 2", [*params, *windows.params])
    if edges is None:  # categories: the values' places among `categories`
        codes, labels = _category_labels(found["b"], numbers)
        found["b"] = np.array([list(categories).index(label) for label in labels])[codes]
    counts = np.zeros((windows.family.n_groups, n_bins), dtype=np.int64)
    counts[found["w"].to_numpy(dtype=np.intp), found["b"].to_numpy(dtype=np.intp)] = found["n"].to_numpy(np.int64)
    return counts


def attach_reference(connection: Connection, found: ReferenceInput, current: Side, config: Config, *,
                     current_source: str) -> tuple[Side, int, Outputs | None]:
    """Open the reference with the engine and check its rows against the predictions as
    `reportgen.reference.check_reference` does: the reference's side, its rows and, where it has labels (checked
    as the predictions' are), the model's outputs over it as SQL.

    Raises
    ------
    InputError
        If the reference has no rows, lacks columns the comparison needs, holds a column of another kind than the
        predictions', or (with its label column) fails the checks the predictions' label and outputs get.
    """
    source, empty = found.source, f"{found.source}: no rows; the reference is empty"
    if isinstance(found.data, pd.DataFrame) and found.data.empty:  # Spark infers no columns from no rows
        raise InputError(empty)
    name = connection.attach(found.data, source)
    reference = Side(name, connection.column_types(name))
    rows = int(connection.frame(f"SELECT COUNT(*) AS n FROM {reference.relation}")["n"].iloc[0])
    if rows == 0:
        raise InputError(empty)
    monitoring, label = config.monitoring, config.data.label
    needed = list(monitoring.columns) if monitoring.columns is not None else [
        column for column in current.types if column not in (label, monitoring.time)]
    missing = [column for column in needed if column not in reference.types]
    if missing:
        raise InputError(
            f"{source}: no column {quoted_list(missing)}, which the predictions have; add "
            f"{'it' if len(missing) == 1 else 'them'} to the reference, or list the columns to compare in "
            "[monitoring] columns")
    unknown = [column for column in needed if column not in current.types]
    if unknown:
        raise InputError(f"{current_source}: no column {quoted_list(unknown)} ([monitoring] columns); columns are: "
                         f"{quoted_list(list(current.types), limit=12)}")
    differing = [c for c in needed if column_kind(reference.types[c]) != column_kind(current.types[c])]
    quote = connection.dialect.quote
    other_kind = [f'"{shown(column)}" ({column_kind(reference.types[column])} here, '
                  f"{column_kind(current.types[column])} in {shown(current_source)})"
                  for column in differing if all(_any_value(connection, side.relation, quote(column))
                                                 for side in (reference, current))]  # empty: any kind
    if other_kind:
        raise InputError(f"{source}: columns of another kind than in the predictions: {', '.join(other_kind[:5])}"
                         f"{f' … and {len(other_kind) - 5} more' if len(other_kind) > 5 else ''}; "
                         "write each column the same way in both files")
    if label not in reference.types:
        return reference, rows, None
    return reference, rows, checked_outputs(Over(connection, reference.relation), config, reference.types, source,
                                            found.fingerprint)[2]


def _any_value(connection: Connection, relation: str, quoted: str) -> bool:
    return bool(len(connection.frame(f"SELECT 1 AS one FROM {relation} WHERE {quoted} IS NOT NULL LIMIT 1")))
