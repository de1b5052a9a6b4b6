"""Slice specs → slice families over an SQL relation: the groups from small queries, each row's group as SQL.

The groups (labels, order, caps, notes) are those `reportgen.slices` forms in memory — the same functions
name and cap them — from per-value counts and quantiles the engine computes. A family's `codes` are left
empty: each row's group is the family's `code`, an SQL expression (``-1`` for rows in no group).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reportgen.config import SliceSpec
from reportgen.engines.connection import Connection, is_infinite
from reportgen.engines.quantiles import data_quantiles, quantiles
from reportgen.errors import ConfigError, InputError, plain_list, shown
from reportgen.expression import ExpressionError, column_names, parse
from reportgen.expression_sql import kind_of_sql_type, to_sql
from reportgen.labels import cap_label, distinct
from reportgen.slices import (
    MISSING,
    OTHER,
    SliceFamily,
    bin_labels,
    bins_outside,
    cap_groups,
    group_label,
    quantile_edges,
    quantile_notes,
)
from reportgen.vocabulary import OVERALL
from reportgen.windows import TooManyWindows, parse_window, window_bounds

NO_CODES = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True)
class Coded:
    """A slice family and the SQL of each row's group code, with its parameters."""

    family: SliceFamily
    code: str
    params: list[object] = field(default_factory=list)


def overall() -> Coded:
    """The family of one group holding every row."""
    return Coded(SliceFamily(OVERALL, OVERALL, [], [OVERALL], NO_CODES), "0")


def families(connection: Connection, specs: Sequence[SliceSpec], source: str) -> list[Coded]:
    """The families of `specs` over the connection's relation (see `reportgen.slices.build_slices`).

    Raises
    ------
    InputError
        If a slice names a missing column, bins do not cover the data or a binned column is not numeric.
    ConfigError
        If a `where` query is not a valid condition on the columns.
    """
    types = connection.column_types()
    values = _Values(connection, types)
    return [_family(connection, spec, index, source, types, values) for index, spec in enumerate(specs)]


def other_family(coded: Coded, shown_groups: list[int]) -> Coded:
    """"(other)" of a family the card shows capped: the rows of every group not in `shown_groups`."""
    family = coded.family
    other = SliceFamily(family.name, family.kind, family.columns, [OTHER], NO_CODES)
    listed = ", ".join("?" for _ in shown_groups)
    return Coded(other, f"CASE WHEN ({coded.code}) >= 0 AND ({coded.code}) NOT IN ({listed}) THEN 0 ELSE -1 END",
                 [*coded.params, *coded.params, *shown_groups])


def _family(
    connection: Connection, spec: SliceSpec, index: int, source: str, types: dict[str, str], values: _Values
) -> Coded:
    key = f"[[slices]] #{index + 1}"
    if spec.where is not None:
        return _query_family(connection, spec, key, types)
    columns = [spec.column] if spec.column is not None else list(spec.columns or [])
    for column in columns:
        if column not in types:
            raise InputError(f'{source}: no column "{column}" ({key}); columns are: {plain_list(list(types), limit=12)}')
    if spec.columns is not None:
        return _intersection_family(connection, spec, values)
    if spec.bins is not None or spec.quantiles is not None:
        return _binned_family(connection, spec, key, source, types)
    if spec.window is not None:
        return _window_family(connection, spec, key, source, types[str(spec.column)])
    value_code = values(spec.column)
    remap, labels, notes, pooled = cap_groups(value_code.counts, value_code.labels, spec.max_groups)
    code, params = _remapped(value_code, remap)
    sizes = value_code.counts if pooled else None
    return Coded(SliceFamily(spec.title, "values", columns, distinct(labels), NO_CODES, notes, pooled, sizes), code,
                 params)


@dataclass(frozen=True)
class _ValueCode:
    """A column's groups before capping: labels (sorted values, then "(missing)"), rows per group, and the SQL
    giving each row's group."""

    labels: list[str]
    counts: np.ndarray
    code: str
    params: list[object]


class _Values:
    """`_value_code` of each column, computed once (families often share a column)."""

    def __init__(self, connection: Connection, types: dict[str, str]) -> None:
        self._connection, self._types = connection, types
        self._done: dict[str, _ValueCode] = {}

    def __call__(self, column: str) -> _ValueCode:
        if column not in self._done:
            self._done[column] = _value_code(self._connection, column, self._types[column])
        return self._done[column]


def missing_sql(quoted: str, sql_type: str) -> str:
    """SQL true where a value is missing: NULL, or NaN in a floating-point column (as pandas counts it)."""
    if kind_of_sql_type(sql_type) == "number":
        return f"({quoted} IS NULL OR isnan(CAST({quoted} AS DOUBLE)))"
    return f"({quoted} IS NULL)"


def _value_code(connection: Connection, column: str, sql_type: str) -> _ValueCode:
    """Each distinct value sorted, as `reportgen.slices._value_codes` orders them, missing values last."""
    quoted = connection.dialect.quote(column)
    missing = missing_sql(quoted, sql_type)
    counted_values = connection.frame(
        f"SELECT CASE WHEN {missing} THEN NULL ELSE {quoted} END AS v, COUNT(*) AS n FROM {connection.relation} "
        f"GROUP BY 1")
    present = counted_values[counted_values["v"].notna()]
    order = np.argsort(pd.factorize(present["v"], sort=True)[0], kind="stable")
    present = present.iloc[order]
    value_list = present["v"].tolist()
    labels = [group_label(v) for v in value_list]
    counts = present["n"].to_numpy(dtype=np.int64)
    n_missing = int(counted_values.loc[counted_values["v"].isna(), "n"].sum())
    branches = " ".join(f"WHEN {quoted} = ? THEN {k}" for k in range(len(value_list)))
    code = f"CASE WHEN {missing} THEN {len(labels)} {branches} ELSE -1 END"
    if n_missing:
        labels.append(MISSING)
        counts = np.append(counts, n_missing)
    return _ValueCode(labels, counts, code, [plain(v) for v in value_list])


def plain(value: object) -> object:
    """A value as a query parameter: numpy scalars as Python ones."""
    return value.item() if isinstance(value, np.generic) else value


def _remapped(value_code: _ValueCode, remap: np.ndarray) -> tuple[str, list[object]]:
    """The SQL of a value code after `cap_groups`' remapping (identity: unchanged)."""
    if np.array_equal(remap, np.arange(len(remap))):
        return value_code.code, value_code.params
    branches = " ".join(f"WHEN ? THEN {int(new)}" for new in remap)
    return (f"CASE ({value_code.code}) {branches} ELSE -1 END",
            [*value_code.params, *range(len(remap))])


def _intersection_family(connection: Connection, spec: SliceSpec, values: _Values) -> Coded:
    columns = list(spec.columns or [])
    parts = [values(column) for column in columns]
    combined, params = f"({parts[0].code})", list(parts[0].params)
    for part in parts[1:]:
        combined = f"({combined}) * {len(part.labels)} + ({part.code})"
        params += part.params
    observed = connection.frame(f"SELECT {combined} AS k, COUNT(*) AS n FROM {connection.relation} GROUP BY 1 "
                                "ORDER BY 1", params)
    keys = observed["k"].to_numpy(dtype=np.int64)
    labels = []
    for key in keys.tolist():
        names = []
        for part in reversed(parts):
            key, position = divmod(key, len(part.labels))
            names.append(part.labels[position])
        label = names[-1]
        for name in reversed(names[:-1]):
            label = cap_label(f"{label} & {name}")
        labels.append(label)
    sizes = observed["n"].to_numpy(dtype=np.int64)
    remap, labels, notes, pooled = cap_groups(sizes, labels, spec.max_groups)
    branches = " ".join(f"WHEN ? THEN {int(new)}" for new in remap)
    code = f"CASE ({combined}) {branches} ELSE -1 END"
    return Coded(SliceFamily(spec.title, "intersection", columns, distinct(labels), NO_CODES, notes, pooled,
                             sizes if pooled else None), code, [*params, *map(int, keys)])


def _binned_family(connection: Connection, spec: SliceSpec, key: str, source: str, types: dict[str, str]) -> Coded:
    column = str(spec.column)
    if kind_of_sql_type(types[column]) != "number":
        raise InputError(f'{source}: column "{shown(column)}" ({key} bins): holds {shown(types[column])} values, not '
                         'numbers; use a plain "column" slice for categories')
    quoted, relation = connection.dialect.quote(column), connection.relation
    x = f"CAST({quoted} AS DOUBLE)"
    present = f"({quoted} IS NOT NULL AND NOT isnan({x}))"
    notes: list[str] = []
    if spec.quantiles is not None:
        found = connection.frame(f"SELECT COUNT(*) AS n, SUM(CASE WHEN {is_infinite(x)} THEN 1 ELSE 0 END) AS infinite "
                                 f"FROM {relation} WHERE {present}")
        if int(found["n"].iloc[0]) == 0:
            raise InputError(f'{source}: column "{shown(column)}" ({key}): no numbers to form quantiles from')
        # with infinities, interpolating between two of them is undefined: data values are the edges instead
        quantiles_of = data_quantiles if int(found["infinite"].iloc[0]) else lambda *args: quantiles(*args)[0]
        edges = quantile_edges(quantiles_of(connection, f"CASE WHEN {present} THEN {x} END", [],
                                            np.linspace(0, 1, spec.quantiles + 1)))
        notes += quantile_notes(spec.quantiles, edges)
        kind = "quantiles"
    else:
        edges = np.asarray(spec.bins, dtype=np.float64)
        kind = "bins"
        found = connection.frame(
            f"SELECT SUM(CASE WHEN {x} < ? OR {x} > ? THEN 1 ELSE 0 END) AS outside, MIN({x}) AS low, "
            f"MAX({x}) AS high FROM {relation} WHERE {present}", [float(edges[0]), float(edges[-1])])
        outside = found["outside"].iloc[0]
        if not pd.isna(outside) and int(outside):
            raise bins_outside(f'{source}: column "{shown(column)}" ({key} bins)', int(outside), edges,
                               float(found["low"].iloc[0]), float(found["high"].iloc[0]))
    labels = bin_labels(edges)
    inner = edges[1:max(len(edges) - 1, 1)].tolist()
    counted_edges = " + ".join(f"CASE WHEN {x} >= ? THEN 1 ELSE 0 END" for _ in inner) or "0"
    any_missing = connection.frame(f"SELECT COUNT(*) AS n FROM {relation} WHERE NOT {present}")
    if int(any_missing["n"].iloc[0]):
        labels.append(MISSING)
    code = f"CASE WHEN NOT {present} THEN {len(labels) - 1} ELSE {counted_edges} END"
    return Coded(SliceFamily(spec.title, kind, [column], labels, NO_CODES, notes), code, inner)


# Column types whose values are naive times (wall-clock, no time zone) in DuckDB and Spark.
NAIVE_TIMES = ("date", "timestamp", "timestamp_ns", "timestamp_ms", "timestamp_s", "timestamp_ntz", "datetime")


def _window_family(connection: Connection, spec: SliceSpec, key: str, source: str, sql_type: str) -> Coded:
    """One group per time window (`reportgen.windows.window_bounds`), from the first time's to the last's; missing
    times last, as "(missing)". The times must be dates or naive timestamps."""
    column = str(spec.column)
    where = f'{source}: column "{shown(column)}" ({key} window "{shown(spec.window)}")'
    first, last, missing = time_range(connection, column, sql_type, where)
    if first is None:
        starts, labels = [], []
    else:
        try:
            starts, labels = window_bounds(first, last, parse_window(str(spec.window)), spec.max_groups)
        except TooManyWindows as exc:
            raise InputError(f"{where}: {exc}, more than max_groups = {spec.max_groups}; use a longer window or raise "
                             "max_groups") from None
    if missing:
        labels.append(MISSING)
    counted_starts, params = window_of(connection.dialect.quote(column), starts)
    code = f"CASE WHEN {connection.dialect.quote(column)} IS NULL THEN {len(labels) - 1} ELSE {counted_starts} END"
    return Coded(SliceFamily(spec.title, "windows", [column], labels, NO_CODES), code, params)


def time_range(connection: Connection, column: str, sql_type: str, where: str
               ) -> tuple[pd.Timestamp | None, pd.Timestamp | None, int]:
    """A time column's first and last time (None without any) and its missing values.

    Raises
    ------
    InputError
        If the column holds other values than dates or naive timestamps (`where` starts the message).
    """
    if sql_type.lower() not in NAIVE_TIMES:
        raise InputError(f"{where}: holds {shown(sql_type)} values; the {connection.dialect.name} engine forms windows "
                         "of dates or timestamps without a time zone (store them so in Parquet), or set [report] "
                         'engine = "numpy" to parse text and zoned times')
    quoted = connection.dialect.quote(column)
    found = connection.frame(f"SELECT MIN({quoted}) AS first, MAX({quoted}) AS last, SUM(CASE WHEN {quoted} IS NULL "
                             f"THEN 1 ELSE 0 END) AS missing FROM {connection.relation}").iloc[0]
    if pd.isna(found["first"]):
        return None, None, int(found["missing"] or 0)
    return pd.Timestamp(found["first"]), pd.Timestamp(found["last"]), int(found["missing"] or 0)


def window_of(quoted: str, starts: Sequence[pd.Timestamp]) -> tuple[str, list[object]]:
    """SQL of a present time's window among windows starting at `starts` (`reportgen.windows.window_bounds`): the
    starts after the first it is at or after."""
    counted = " + ".join(f"CASE WHEN {quoted} >= ? THEN 1 ELSE 0 END" for _ in starts[1:]) or "0"
    return counted, [start.to_pydatetime() for start in starts[1:]]


def _query_family(connection: Connection, spec: SliceSpec, key: str, types: dict[str, str]) -> Coded:
    expression = str(spec.where)
    try:
        tree = parse(expression)
        kinds = {}
        for name in column_names(tree):
            if name not in types:
                raise ExpressionError(f'no column "{shown(name, 40)}"; columns are: '
                                      f"{plain_list([shown(c, 40) for c in types], limit=12)}")
            kind = kind_of_sql_type(types[name])
            if kind is None:
                raise ExpressionError(f'column "{shown(name, 40)}" holds {shown(types[name], 30)} values; conditions '
                                      "compare numbers, text and true/false values")
            kinds[name] = kind
        condition, params = to_sql(tree, kinds, connection.dialect.quote)
    except ExpressionError as exc:
        raise ConfigError(f'{key} where "{shown(expression)}": {exc}') from None
    matched = connection.frame(f"SELECT COUNT(*) AS n FROM {connection.relation} WHERE {condition}", params)
    notes = [] if int(matched["n"].iloc[0]) else [f'No row matches "{expression}".']
    return Coded(SliceFamily(spec.title, "query", [], [expression], NO_CODES, notes),
                 f"CASE WHEN {condition} THEN 0 ELSE -1 END", list(params))
