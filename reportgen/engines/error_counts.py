"""What an error analysis counts, where the data lies: each row's error as SQL, the rows and error sums of every
slice of the candidate columns, the error tree's nodes, and the rows shown as examples.

The search itself (which slices to count, the tests, the tree's splits) is the numpy engine's
(`reportgen.analysis.discovery`, `reportgen.analysis.error_tree`); an SQL engine only gives it counts. The rows
searched are a view (`error_relation`): the input's columns, each row's error and how confident the model was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection, Over
from reportgen.engines.families import Coded, missing_sql, plain
from reportgen.engines.multiclass_sql import ClassOutputs
from reportgen.expression_sql import kind_of_sql_type
from reportgen.labels import display_label
from reportgen.metrics.statistics import EPS

ERROR, CONFIDENCE = "reportgen_error", "reportgen_confidence"
FLOATING = ("float", "double", "real", "float4", "float8")  # SQL types whose numbers are never identifiers
SETS_PER_QUERY = 64  # slices of this many combinations of columns counted by one scan (GROUPING SETS)
PROFILED_PER_QUERY = 16  # columns whose distinct values one scan counts
LARGEST = 1e30  # as `reportgen.analysis.error_tree.LARGEST`: numbers beyond are split as ±LARGEST
ERROR_ALIAS = "e"  # the error in a query's subquery of codes


@dataclass(frozen=True)
class ErrorRelation:
    """The rows an error analysis searches, as a relation of the engine.

    Attributes
    ----------
    connection : Over
        The engine, over a view of the rows searched (all rows; binary "fnr" and "fpr": the rows of one label):
        the input's columns, the row's error (`error`) and the model's confidence (`confidence`: the predicted
        class's probability; without probabilities, or for a measure that is not 0/1, the error).
    error, confidence : str
        The two columns' quoted names.
    names : list of str
        The input's columns, in order (the view's others).
    rows : int
        Rows searched.
    total, squares : float
        The error's sum and sum of squares over them.
    """

    connection: Over
    error: str
    confidence: str
    names: list[str]
    rows: int
    total: float
    squares: float


def error_relation(connection: Connection, task: str, outputs: Outputs, measure: str, name: str) -> ErrorRelation:
    """The view `name` of the rows searched for the error measure `measure` (a name of
    `reportgen.analysis.discovery.MEASURES` that fits the task and the outputs)."""
    types = connection.column_types()
    error_column, confidence_column = (_unused(wanted, types) for wanted in (ERROR, CONFIDENCE))
    quote = connection.dialect.quote
    value, where, confidence = _measure(task, outputs, measure)
    sql = (f"SELECT *, {value[0]} AS {quote(error_column)}, {confidence[0]} AS {quote(confidence_column)} "
           f"FROM {connection.relation}" + (f" WHERE {where[0]}" if where else ""))
    connection.view(name, sql, [*value[1], *confidence[1], *(where[1] if where else [])])
    over = Over(connection, name)
    error = quote(error_column)
    found = over.frame(f"SELECT COUNT(*) AS n, SUM({error}) AS total, SUM({error} * {error}) AS squares FROM {name}")
    return ErrorRelation(over, error, quote(confidence_column), list(types), int(found["n"].iloc[0]),
                         float(found["total"].iloc[0] or 0.0), float(found["squares"].iloc[0] or 0.0))


def _unused(wanted: str, types: dict[str, str]) -> str:
    """`wanted`, or `wanted` with a number, whichever no input column is called."""
    name, k = wanted, 1
    while name in types:
        name, k = f"{wanted}_{k}", k + 1
    return name


Sql = tuple[str, list[object]]


def _measure(task: str, outputs: Outputs, measure: str) -> tuple[Sql, Sql | None, Sql]:
    """Each row's error, the condition on the rows searched (None: every row) and the model's confidence, as SQL with
    their parameters, as `reportgen.analysis.discovery.error_measure` and the error analysis's `_confidence`."""
    y, yhat = (f"({outputs.y_true})", list(outputs.y_true_params)), (f"({outputs.y_pred})", list(outputs.y_pred_params))
    where = None
    if measure in ("error_rate", "fnr", "fpr"):
        value: Sql = (f"CASE WHEN {y[0]} <> {yhat[0]} THEN 1.0 ELSE 0.0 END", y[1] + yhat[1])
        if measure != "error_rate":
            label = 1 if measure == "fnr" else 0
            where = (f"{y[0]} = {label}", y[1])
    elif measure == "log_loss":
        p_true = _class_probability(task, outputs, y)
        value = (f"-LN(LEAST(GREATEST({p_true[0]}, ?), ?))", [*p_true[1], EPS, 1 - EPS])
    elif measure == "brier":
        value = (f"({outputs.score} - {y[0]}) * ({outputs.score} - {y[0]})", y[1] + y[1])
    elif measure == "abs_error":
        value = (f"ABS({y[0]} - {yhat[0]})", y[1] + yhat[1])
    else:
        value = (f"({y[0]} - {yhat[0]}) * ({y[0]} - {yhat[0]})", (y[1] + yhat[1]) * 2)
    has_scores = outputs.score is not None and (not isinstance(outputs, ClassOutputs) or outputs.probabilities)
    binary = measure in ("error_rate", "fnr", "fpr")
    confidence = _class_probability(task, outputs, yhat) if binary and has_scores else value
    return value, where, confidence


def _class_probability(task: str, outputs: Outputs, y: Sql) -> Sql:
    """The probability the model gives the class `y` (1 or 0 for a binary task; a class code for a multiclass one)."""
    if task == "binary":
        return f"CASE WHEN {y[0]} = 1 THEN {outputs.score} ELSE 1.0 - {outputs.score} END", y[1]
    assert isinstance(outputs, ClassOutputs) and outputs.probabilities, "a multiclass log loss needs probabilities"
    branches = " ".join(f"WHEN {k} THEN {p}" for k, p in enumerate(outputs.probabilities))
    return f"CASE {y[0]} {branches} END", y[1]


def profiles(over: Connection, columns: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Per column: its distinct present values and its missing values over the relation's rows;
    `PROFILED_PER_QUERY` columns a scan."""
    types, quote = over.column_types(), over.dialect.quote
    found = {}
    for start in range(0, len(columns), PROFILED_PER_QUERY):
        part = columns[start:start + PROFILED_PER_QUERY]
        terms = []
        for k, column in enumerate(part):
            missing = missing_sql(quote(column), types[column])
            terms += [f"COUNT(DISTINCT CASE WHEN {missing} THEN NULL ELSE {quote(column)} END) AS d{k}",
                      f"SUM(CASE WHEN {missing} THEN 1 ELSE 0 END) AS m{k}"]
        counted = over.frame(f"SELECT {', '.join(terms)} FROM {over.relation}").iloc[0]
        for k, column in enumerate(part):
            found[column] = (int(counted[f"d{k}"]), int(counted[f"m{k}"] or 0))
    return found


def is_floating(sql_type: str) -> bool:
    """Whether a column of this SQL type holds floating-point numbers (never an identifier)."""
    return sql_type.lower() in FLOATING


def is_whole(sql_type: str) -> bool:
    """Whether a column of this SQL type holds whole numbers (integers, not decimals or floating-point ones)."""
    return (kind_of_sql_type(sql_type) == "number" and not is_floating(sql_type)
            and not sql_type.lower().startswith("decimal"))


def output_copies(over: Connection, task: str, outputs: Outputs, columns: Sequence[str],
                  distinct: dict[str, int]) -> dict[str, str]:
    """The columns among `columns` that copy a model output, each with how (`reportgen.analysis.checks`'s
    `_output_copy`): grouping the rows as the predicted class does, or equal to a numeric output in every row.
    `distinct` counts each column's values, a missing value counting as one."""
    types, quote, relation_name = over.column_types(), over.dialect.quote, over.relation
    found: dict[str, str] = {}
    y_pred = (f"({outputs.y_pred})", list(outputs.y_pred_params))
    if task != "regression":
        n_predicted = int(over.frame(f"SELECT COUNT(DISTINCT {y_pred[0]}) AS n FROM {relation_name}", y_pred[1])
                          ["n"].iloc[0])
        for column in columns:
            if n_predicted > 1 and distinct[column] == n_predicted:
                key = f"CASE WHEN {missing_sql(quote(column), types[column])} THEN NULL ELSE {quote(column)} END"
                pairs = over.frame(f"SELECT COUNT(*) AS n FROM (SELECT {key} AS v, {y_pred[0]} AS c FROM "
                                   f"{relation_name} GROUP BY 1, 2) AS pairs", y_pred[1])
                if int(pairs["n"].iloc[0]) == n_predicted:
                    found[column] = "equal to the predicted class"
    numeric_outputs = _numeric_outputs(task, outputs)
    numbers = [c for c in columns if c not in found and kind_of_sql_type(types[c]) == "number"]
    if not numbers or not numeric_outputs:
        return found
    terms = [f"SUM(CASE WHEN CAST({quote(c)} AS DOUBLE) = {sql} AND NOT isnan(CAST({quote(c)} AS DOUBLE)) THEN 0 "
             f"ELSE 1 END) AS x{i}_{k}" for i, c in enumerate(numbers) for k, (_, sql) in enumerate(numeric_outputs)]
    differing = over.frame(f"SELECT {', '.join(terms)} FROM {relation_name}").iloc[0]
    for i, column in enumerate(numbers):
        what = next((what for k, (what, _) in enumerate(numeric_outputs) if int(differing[f"x{i}_{k}"] or 0) == 0),
                    None)
        if what is not None:
            found[column] = what
    return found


def _numeric_outputs(task: str, outputs: Outputs) -> list[tuple[str, str]]:
    """The model's numeric outputs as SQL (no parameters), each with how a column equal to it is described."""
    if task == "regression":
        return [("equal to the prediction", outputs.y_pred)]
    if task == "binary":
        return [] if outputs.score is None else [("equal to the score", outputs.score)]
    assert isinstance(outputs, ClassOutputs)
    return [(f'equal to the probability of "{display_label(c)}"', p)
            for c, p in zip(outputs.classes, outputs.probabilities or (), strict=False)]


def slice_cells(relation: ErrorRelation, coded: Sequence[Coded], combos: Sequence[tuple[int, ...]], min_support: int,
                binary: bool) -> list[tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]]:
    """Per combination of the `coded` families (indices): each cell's group codes (one array per family, cells in
    ascending order of their codes), rows, error sum and sum of squares, for cells of `min_support` rows or more.

    `SETS_PER_QUERY` combinations a scan, as GROUPING SETS: a combination's rows are those whose other codes are
    NULL (a candidate family puts every row in a group, so its code is never NULL)."""
    over, error = relation.connection, relation.error
    found: list[tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(combos), SETS_PER_QUERY):
        part = combos[start:start + SETS_PER_QUERY]
        used = sorted({i for combo in part for i in combo})
        codes = ", ".join(f"{coded[i].code} AS g{i}" for i in used)
        params = [p for i in used for p in coded[i].params]
        sets = ", ".join("(" + ", ".join(f"g{i}" for i in combo) + ")" for combo in part)
        squares = "" if binary else f", SUM({ERROR_ALIAS} * {ERROR_ALIAS}) AS squares"
        cells = over.frame(
            f"SELECT {', '.join(f'g{i}' for i in used)}, COUNT(*) AS n, SUM({ERROR_ALIAS}) AS total{squares} "
            f"FROM (SELECT {codes}, {error} AS {ERROR_ALIAS} FROM {over.relation}) AS coded "
            f"GROUP BY GROUPING SETS ({sets}) HAVING COUNT(*) >= {int(min_support)}", params)
        present = cells[[f"g{i}" for i in used]].notna().to_numpy()
        for combo in part:
            mine = cells[(present == np.isin(used, combo)).all(axis=1)]
            mine = mine.sort_values([f"g{i}" for i in combo], kind="stable")
            total = mine["total"].to_numpy(dtype=np.float64)
            found.append(([mine[f"g{i}"].to_numpy(dtype=np.int64) for i in combo], mine["n"].to_numpy(dtype=np.int64),
                          total, total if binary else mine["squares"].to_numpy(dtype=np.float64)))
    return found



def group_sums(relation: ErrorRelation, coded: Sequence[Coded]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each family's rows and error sum per group, over the rows searched; one scan (GROUPING SETS)."""
    if not coded:
        return []
    over = relation.connection
    codes = ", ".join(f"{c.code} AS g{i}" for i, c in enumerate(coded))
    sets = ", ".join(f"(g{i})" for i in range(len(coded)))
    found = over.frame(f"SELECT {', '.join(f'g{i}' for i in range(len(coded)))}, COUNT(*) AS n, SUM({ERROR_ALIAS}) "
                       f"AS total FROM (SELECT {codes}, {relation.error} AS {ERROR_ALIAS} FROM {over.relation}) "
                       f"AS coded GROUP BY GROUPING SETS ({sets})", [p for c in coded for p in c.params])
    sums = []
    for i, c in enumerate(coded):
        mine = found[found[f"g{i}"].notna() & (found[f"g{i}"] >= 0)]
        groups = mine[f"g{i}"].to_numpy(dtype=np.intp)
        n, total = np.zeros(c.family.n_groups, dtype=np.int64), np.zeros(c.family.n_groups)
        n[groups], total[groups] = mine["n"].to_numpy(dtype=np.int64), mine["total"].to_numpy(dtype=np.float64)
        sums.append((n, total))
    return sums


def tree_rows(relation: ErrorRelation, columns: Sequence[str], limit: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The `columns` and the errors of the rows the error tree is grown on: every row when there are at
    most `limit`, else `limit` of them drawn by a hash of each row's values and its number among the rows with the
    same values (the same rows however the engine orders them); in a fixed order."""
    over, quote = relation.connection, relation.connection.dialect.quote
    listed = ", ".join([*(quote(c) for c in columns), relation.error])
    order = ", ".join(f"{term} NULLS LAST" for term in [*(quote(c) for c in columns), relation.error])
    if relation.rows <= limit:
        found = over.frame(f"SELECT {listed} FROM {over.relation} ORDER BY {order}")
    else:
        hashed = over.dialect.hash
        found = over.frame(
            f"SELECT {listed} FROM (SELECT {listed}, {hashed}(h, ROW_NUMBER() OVER (PARTITION BY h ORDER BY h)) AS k "
            f"FROM (SELECT {listed}, {hashed}({listed}) AS h FROM {over.relation}) AS hashed) AS numbered "
            f"ORDER BY k, {order} LIMIT {int(limit)}")
    errors = found.iloc[:, -1].to_numpy(dtype=np.float64)
    found = found.iloc[:, :-1]
    found.columns = list(columns)
    return found, errors


@dataclass(frozen=True)
class Split:
    """A split of the error tree, as an engine tests it on a row.

    `kind` is "number" (left: the number, as the tree reads it, at most `value`; a missing number goes left when
    `missing_left`), "value" (right: the column equals `value`), "missing" (right: the value is missing) or "other"
    (right: present and none of `kept`)."""

    column: str
    kind: str
    value: object = None
    kept: tuple[object, ...] = ()
    missing_left: bool = False


def node_sums(relation: ErrorRelation, paths: Sequence[Sequence[tuple[Split, bool]]],
              splits: Sequence[Split | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node of a grown tree (its path from the root: splits, each with whether it goes left): the rows reaching
    it, their error sum, and whether any of them misses the number its split reads; one scan."""
    over = relation.connection
    types, quote = over.column_types(), over.dialect.quote
    terms: list[str] = []
    params: list[object] = []
    for k, (path, split) in enumerate(zip(paths, splits, strict=True)):
        steps = [_step(split_of, left, types, quote) for split_of, left in path]
        reached = " AND ".join(f"({sql})" for sql, _ in steps) or "TRUE"
        reached_params = [p for _, step_params in steps for p in step_params]
        terms += [f"SUM(CASE WHEN {reached} THEN 1 ELSE 0 END) AS n{k}",
                  f"SUM(CASE WHEN {reached} THEN {relation.error} ELSE 0 END) AS t{k}"]
        params += reached_params * 2
        if split is not None and split.kind == "number":
            missing = missing_sql(quote(split.column), types[split.column])
            terms.append(f"SUM(CASE WHEN {reached} AND {missing} THEN 1 ELSE 0 END) AS m{k}")
            params += reached_params
    found = over.frame(f"SELECT {', '.join(terms)} FROM {over.relation}", params).iloc[0]
    n = np.array([int(found[f"n{k}"] or 0) for k in range(len(paths))], dtype=np.int64)
    total = np.array([float(found[f"t{k}"] or 0.0) for k in range(len(paths))])
    missing = np.array([f"m{k}" in found.index and int(found[f"m{k}"] or 0) > 0 for k in range(len(paths))])
    return n, total, missing


def _step(split: Split, left: bool, types: dict[str, str], quote: object) -> Sql:
    """SQL true for the rows a split sends the way `left` says."""
    column = quote(split.column)
    missing = missing_sql(column, types[split.column])
    if split.kind == "number":
        number = f"CAST(CAST(LEAST(GREATEST(CAST({column} AS DOUBLE), ?), ?) AS FLOAT) AS DOUBLE)"
        goes_left = (f"(({missing}) AND {'TRUE' if split.missing_left else 'FALSE'}) OR (NOT ({missing}) AND "
                     f"{number} <= ?)")
        params: list[object] = [-LARGEST, LARGEST, float(split.value)]  # type: ignore[arg-type]
        return (goes_left, params) if left else (f"NOT ({goes_left})", params)
    if split.kind == "value":
        indicator, params = f"COALESCE({column} = ?, FALSE)", [_parameter(split.value)]
    elif split.kind == "missing":
        indicator, params = missing, []
    else:
        listed = ", ".join("?" for _ in split.kept)
        indicator = f"NOT ({missing})"
        if split.kept:
            indicator += f" AND NOT COALESCE({column} IN ({listed}), FALSE)"
        params = [_parameter(v) for v in split.kept]
    return (f"NOT ({indicator})", params) if left else (indicator, params)


def _parameter(value: object) -> object:
    """A value read back from the engine as a query parameter."""
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return plain(value)


def examples(relation: ErrorRelation, conditions: Sequence[tuple[Coded, int]], display: Sequence[str],
             limit: int) -> pd.DataFrame:
    """The `display` columns of the rows in a slice (each family's code equal to the group) with an error, the most
    confident first (ties in the columns' order), at most `limit`."""
    over, quote = relation.connection, relation.connection.dialect.quote
    columns = list(dict.fromkeys(display))
    where = " AND ".join(f"({coded.code}) = ?" for coded, _ in conditions)
    params = [p for coded, group in conditions for p in [*coded.params, group]]
    order = ", ".join(f"{quote(c)} NULLS LAST" for c in columns)
    found = over.frame(f"SELECT {', '.join(quote(c) for c in columns)} FROM {over.relation} WHERE {where} AND "
                       f"{relation.error} > 0 ORDER BY {relation.confidence} DESC, {order} LIMIT {int(limit)}", params)
    found.columns = columns
    return found[list(display)]
