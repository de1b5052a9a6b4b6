"""A baseline compared where the data lies: its predictions joined to the candidate's on `[baseline] id`, the join
checked as `reportgen.baseline` checks it, and the paired statistics of each family
(`reportgen.metrics.paired.PairedStats`) as SQL over the joined rows.

The joined rows are a view: every candidate column, and the baseline's output columns renamed (`OUTPUT` before
their names), so that a baseline's "score" column never shadows the candidate's. SQL rows have no order, so an SQL
engine joins on an id only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.baseline import baseline_section, in_baseline_terms, output_columns
from reportgen.config import BaselineSpec, DataSection
from reportgen.engines.aggregates import Outputs, log_loss_sql
from reportgen.engines.connection import Connection, Over
from reportgen.engines.families import Coded
from reportgen.engines.multiclass_sql import ClassOutputs, true_rank
from reportgen.errors import InputError, counted, plain_list, quoted_list, shown
from reportgen.expression_sql import kind_of_sql_type
from reportgen.metrics.metric import Metric
from reportgen.metrics.paired import Linearization, OccupiedCells, PairedStats, Sums
from reportgen.metrics.statistics import EPS
from reportgen.metrics.tasks import Statistics

KEY = "reportgen_key"
LABEL = "reportgen_label"
OUTPUT = "reportgen_baseline_"
_EXAMPLES = 5


@dataclass(frozen=True)
class BaselineInput:
    """A baseline to compare where the data lies.

    Attributes
    ----------
    spec : BaselineSpec
        Its `[baseline]` table.
    data : list of Path, or DataFrame
        Its predictions files (one format), or a data frame (`reportgen.evaluate`).
    fingerprint : str
        Their hash.
    """

    spec: BaselineSpec
    data: list[Path] | pd.DataFrame
    fingerprint: str


@dataclass(frozen=True)
class Joined:
    """A baseline's rows joined to the candidate's.

    Attributes
    ----------
    connection : Over
        The engine, querying the joined rows.
    section : DataSection
        The `[data]` table the baseline's outputs are checked and measured with, naming the renamed columns.
    unmatched : int
        Baseline rows no candidate row has the id of.
    """

    connection: Over
    section: DataSection
    unmatched: int

    def in_baseline_terms(self, message: str) -> str:
        """A message about the joined rows, naming the baseline's columns (no prediction column's name starts with
        `OUTPUT`) and keys."""
        return in_baseline_terms(message.replace(OUTPUT, ""), None)


def join_baseline(connection: Connection, baseline: BaselineInput, data: DataSection, task: str,
                  source: str) -> Joined:
    """Open a baseline's predictions, check its id column and join its rows to the candidate's (`source`).

    Raises
    ------
    InputError
        As `reportgen.baseline.load_baseline`: no `[baseline] id` (an SQL engine joins on one), an output key that
        does not fit the task, a missing column, missing or repeated ids, a candidate row without a baseline row,
        a label that differs; each in one line.
    """
    spec = baseline.spec
    section = baseline_section(spec, task, data)
    if spec.id is None:
        raise InputError(f'{spec.path}: [baseline] "{shown(spec.name)}": the {connection.dialect.name} engine joins a '
                         "baseline's rows to the predictions on an id column (rows in SQL have no order); set "
                         '[baseline] id, or [report] engine = "numpy" to match rows by their order')
    relation = connection.attach(baseline.data, spec.path)
    theirs, ours = connection.column_types(relation), connection.column_types()
    where = f'{spec.path}: [baseline] id "{shown(spec.id)}"'
    for types, file in ((ours, source), (theirs, spec.path)):
        if spec.id not in types:
            raise InputError(f'{where}: no column "{shown(spec.id)}" in {file}; columns are: '
                             f"{plain_list(list(types), limit=12)}")
    outputs = output_columns(spec, list(theirs), data.label)
    clashing = [c for c in ours if c in (KEY, LABEL) or c.startswith(OUTPUT)]
    if clashing:
        raise InputError(f"{source}: column {quoted_list(clashing)} has a name the {connection.dialect.name} engine "
                         "gives the baseline's columns; rename it")
    key = _key_type(ours[spec.id], theirs[spec.id])
    quote = connection.dialect.quote
    ours_key, theirs_key = f"CAST(c.{quote(spec.id)} AS {key})", f"CAST({quote(spec.id)} AS {key})"
    for rel, types, file in ((connection.relation, ours, source), (relation, theirs, spec.path)):
        _check_ids(connection, rel, quote(spec.id), kind_of_sql_type(types[spec.id]), key, file, where)
    unmatched = (f"FROM {connection.relation} AS c LEFT JOIN (SELECT {theirs_key} AS k FROM {relation}) AS b "
                 f"ON {ours_key} = b.k WHERE b.k IS NULL")
    n = int(connection.frame(f"SELECT COUNT(*) AS n {unmatched}")["n"].iloc[0])
    rows = int(connection.frame(f"SELECT COUNT(*) AS n FROM {connection.relation}")["n"].iloc[0])
    if n:
        absent = connection.frame(f"SELECT {ours_key} AS k {unmatched} ORDER BY 1 LIMIT {_EXAMPLES}")
        shown_ids = plain_list(absent["k"].astype(str).tolist())
        raise InputError(f"{where}: {n} of the {rows} predictions {'has' if n == 1 else 'have'} no baseline row "
                         f"(e.g. {'id' if n == 1 else 'ids'} {shown_ids}{' …' if n > _EXAMPLES else ''}); the "
                         "baseline must cover every row")
    renamed = {f"{OUTPUT}{column}": column for column in outputs}
    selected = ", ".join(f"{quote(column)} AS {quote(name)}" for name, column in renamed.items())
    label_check = f", {quote(data.label)} AS {LABEL}" if data.label in theirs else ""
    joined = f"{relation}_joined"
    connection.view(joined, f"SELECT c.*, {', '.join(f'b.{quote(name)}' for name in renamed)}"
                            f"{f', b.{LABEL}' if label_check else ''} FROM {connection.relation} AS c JOIN "
                            f"(SELECT {theirs_key} AS {KEY}, {selected}{label_check} FROM {relation}) AS b "
                            f"ON {ours_key} = b.{KEY}")
    if label_check:
        _check_labels(connection, joined, quote(data.label), ours[data.label], theirs[data.label], quote(spec.id), where,
                      data.label)
    theirs_rows = int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation}")["n"].iloc[0])
    keys = {"score": section.score, "prediction": section.prediction, "score_prefix": section.score_prefix}
    named = {key: f"{OUTPUT}{value}" for key, value in keys.items() if value is not None}
    if section.scores is not None:
        named["scores"] = {label: f"{OUTPUT}{column}" for label, column in section.scores.items()}
    return Joined(Over(connection, joined), section.model_copy(update=named), theirs_rows - rows)


def _key_type(ours: str, theirs: str) -> str:
    """The SQL type both id columns are compared as: whole numbers exactly, other numbers by value, else as text
    (`baseline._unique_keys`)."""
    if kind_of_sql_type(ours) == kind_of_sql_type(theirs) == "number":
        whole = all(re.search(r"int", t, re.IGNORECASE) for t in (ours, theirs))
        return "BIGINT" if whole else "DOUBLE"
    return "STRING"


def _check_ids(connection: Connection, relation: str, column: str, kind: str | None, key: str, file: str,
               where: str) -> None:
    """An id column with every row's id present and no id twice."""
    missing = f"{column} IS NULL" + (f" OR isnan(CAST({column} AS DOUBLE))" if kind == "number" else "")
    n = int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation} WHERE {missing}")["n"].iloc[0])
    if n:
        raise InputError(f"{where}: {counted(n, 'missing id')} in {file}; each row needs its own id")
    repeated = connection.frame(f"SELECT CAST({column} AS {key}) AS k FROM {relation} GROUP BY 1 HAVING COUNT(*) > 1 "
                                f"ORDER BY 1 LIMIT {_EXAMPLES + 1}")
    if len(repeated):
        n = int(connection.frame(f"SELECT COUNT(*) AS n FROM (SELECT CAST({column} AS {key}) AS k FROM {relation} "
                                 "GROUP BY 1 HAVING COUNT(*) > 1) AS r")["n"].iloc[0])
        few = plain_list(repeated["k"].astype(str).tolist()[:_EXAMPLES]) + (" …" if n > _EXAMPLES else "")
        raise InputError(f"{where}: {counted(n, 'duplicate id')} in {file} (e.g. {few}); each row needs its own id")


def _check_labels(connection: Connection, joined: str, label: str, ours: str, theirs: str, id_column: str,
                  where: str, name: str) -> None:
    """A label column in the baseline's file must hold the candidate's label on every row (numbers within 1e-9
    relative)."""
    other = LABEL
    if kind_of_sql_type(ours) == kind_of_sql_type(theirs) == "number":
        a, b = f"CAST({label} AS DOUBLE)", f"CAST({other} AS DOUBLE)"
        same = f"({a} = {b} OR ABS({a} - {b}) <= 1e-9 * ABS({b}) OR ({a} IS NULL AND {b} IS NULL))"
    else:
        same = f"(CAST({label} AS STRING) IS NOT DISTINCT FROM CAST({other} AS STRING))"
    differ = connection.frame(f"SELECT CAST({id_column} AS STRING) AS k FROM {joined} WHERE NOT {same} ORDER BY 1 "
                              f"LIMIT {_EXAMPLES + 1}")
    if len(differ):
        n = int(connection.frame(f"SELECT COUNT(*) AS n FROM {joined} WHERE NOT {same}")["n"].iloc[0])
        few = plain_list(differ["k"].tolist()[:_EXAMPLES]) + (" …" if n > _EXAMPLES else "")
        raise InputError(f'{where}: column "{shown(name)}" differs from the predictions for {counted(n, "id")} '
                         f"(e.g. {few}); an id must name the same row in both files")


def paired_statistics(
    connection: Connection, task: str, candidate: Outputs, baseline: Outputs, coded: Sequence[Coded],
    candidate_stats: Sequence[Statistics], baseline_stats: Sequence[Statistics], metrics: tuple[Metric, ...],
) -> list[PairedStats]:
    """Each family's paired statistics, as `paired_rows.Pair.statistics` computes them from the same rows.

    `connection` queries the joined rows; `candidate` and `baseline` are the two models' outputs as SQL over them,
    `metrics` those compared (`paired.shared_metrics`).
    """
    names = {metric.name for metric in metrics}
    if task == "binary":
        cells = _binary_cells(connection, candidate, baseline, coded)
        placements = (_placement_sums(connection, candidate, baseline, coded) if "roc_auc" in names
                      else [None] * len(coded))
        return [PairedStats(task, metrics, joint, {name: sums for name, sums in differences.items() if name in names},
                            frozenset(), placed)
                for (joint, differences), placed in zip(cells, placements, strict=True)]
    if task == "multiclass":
        assert isinstance(candidate, ClassOutputs) and isinstance(baseline, ClassOutputs)
        return [PairedStats(task, metrics, joint, differences, frozenset(n for n in differences if n != "log_loss"))
                for joint, differences in _class_cells(connection, candidate, baseline, coded, names)]
    return [PairedStats(task, metrics, None, _regression_sums(connection, candidate, baseline, c, first, second, names))
            for c, first, second in zip(coded, candidate_stats, baseline_stats, strict=True)]


def _binary_cells(
    connection: Connection, candidate: Outputs, baseline: Outputs, coded: Sequence[Coded]
) -> list[tuple[OccupiedCells, dict[str, Sums]]]:
    """Per family: the joint cells (label, candidate's prediction, baseline's prediction) of each group, and the
    sums of the per-row differences of log loss and Brier score, from one scan."""
    assert candidate.score is not None and baseline.score is not None, "binary models have scores"
    scores = f", {candidate.score} AS sc, {baseline.score} AS sb"
    terms = {"log_loss": f"({log_loss_sql('sc', 'y')}) - ({log_loss_sql('sb', 'y')})",
             "brier": "(sc - y) * (sc - y) - (sb - y) * (sb - y)"}
    return _joint_cells(connection, candidate, baseline, coded, 2, scores, "", terms, [EPS, 1 - EPS, EPS, 1 - EPS])


def _class_cells(
    connection: Connection, candidate: ClassOutputs, baseline: ClassOutputs, coded: Sequence[Coded], names: set[str]
) -> list[tuple[OccupiedCells, dict[str, Sums]]]:
    """Per family: the joint cells (label, candidate's class, baseline's class) of each group, and the sums of the
    per-row differences of log loss and of the top-k hits both models have, from one scan."""
    k = len(candidate.classes)
    models = {"c": candidate.probabilities, "b": baseline.probabilities}
    probabilities = "".join(f", {p} AS p{m}{j}" for m, columns in models.items() for j, p in enumerate(columns or ()))
    columns = {m: [f"p{m}{j}" for j in range(k)] for m, listed in models.items() if listed is not None}
    true = "".join(f", CASE y {' '.join(f'WHEN {j} THEN {p}' for j, p in enumerate(listed))} END AS t{m}"
                   for m, listed in columns.items())
    terms, term_params = {}, []
    if "log_loss" in names:
        terms["log_loss"] = "(-LN(LEAST(GREATEST(tc, ?), ?))) - (-LN(LEAST(GREATEST(tb, ?), ?)))"
        term_params += [EPS, 1 - EPS, EPS, 1 - EPS]
    for top in sorted(set(candidate.top_k) & set(baseline.top_k)):
        if f"top_{top}_accuracy" in names:
            terms[f"top_{top}_accuracy"] = (f"CASE WHEN ({true_rank(columns['c'], 'tc')}) < ? THEN 1.0 ELSE 0.0 END - "
                                            f"CASE WHEN ({true_rank(columns['b'], 'tb')}) < ? THEN 1.0 ELSE 0.0 END")
            term_params += [top, top]
    return _joint_cells(connection, candidate, baseline, coded, k, probabilities, true, terms, term_params)


def _joint_cells(
    connection: Connection, candidate: Outputs, baseline: Outputs, coded: Sequence[Coded], k: int, selected: str,
    derived: str, terms: dict[str, str], term_params: list[object],
) -> list[tuple[OccupiedCells, dict[str, Sums]]]:
    """One scan grouped by each family's (group, label, candidate's prediction, baseline's prediction), `k` classes:
    per family the joint cells and the `Sums` of each per-row difference in `terms` (name → SQL over the columns
    y, yc, yb, the extra columns `selected` and those `derived` from them; parameters `term_params`)."""
    codes = ", ".join(f"{c.code} AS g{i}" for i, c in enumerate(coded))
    params = [*candidate.y_true_params, *candidate.y_pred_params, *baseline.y_pred_params]
    for c in coded:
        params += c.params
    rows = (f"SELECT {candidate.y_true} AS y, {candidate.y_pred} AS yc, {baseline.y_pred} AS yb{selected}, {codes} "
            f"FROM {connection.relation}")
    differences = "".join(f", {term} AS d_{name}" for name, term in terms.items())
    summed = "".join(f", SUM(d_{name}) AS t_{name}, SUM(d_{name} * d_{name}) AS q_{name}" for name in terms)
    cols = ", ".join(f"g{i}" for i in range(len(coded)))
    sets = ", ".join(f"(g{i}, y, yc, yb)" for i in range(len(coded)))
    found = connection.frame(
        f"SELECT {cols}, y, yc, yb, COUNT(*) AS n{summed} FROM (SELECT *{differences} FROM (SELECT *{derived} FROM "
        f"({rows}) AS r) AS t) AS d GROUP BY GROUPING SETS ({sets})", [*term_params, *params])
    result = []
    for i, c in enumerate(coded):
        n_groups = c.family.n_groups
        mine = found[found[f"g{i}"].notna() & (found[f"g{i}"] >= 0)]
        g = mine[f"g{i}"].to_numpy(dtype=np.int64)
        cell = ((mine["y"].to_numpy(dtype=np.int64) * k + mine["yc"].to_numpy(dtype=np.int64)) * k
                + mine["yb"].to_numpy(dtype=np.int64))
        n = mine["n"].to_numpy(dtype=np.int64)
        order = np.argsort(g * k**3 + cell, kind="stable")
        rows_per_group = np.bincount(g, weights=n, minlength=n_groups).astype(np.int64)

        def per_group(column: str) -> np.ndarray:
            return np.bincount(g, weights=mine[column].to_numpy(dtype=np.float64), minlength=n_groups)

        result.append((OccupiedCells(g[order], cell[order], n[order], n_groups, k),
                       {name: Sums(per_group(f"t_{name}"), per_group(f"q_{name}"), rows_per_group) for name in terms}))
    return result


def _placement_sums(connection: Connection, candidate: Outputs, baseline: Outputs, coded: Sequence[Coded]
                    ) -> list[dict[tuple[str, int], Sums]]:
    """Per family, the `Sums` of DeLong's placement values of each model and of their difference among each label's
    rows of each group (`paired_rows._placements`), from one query: each model's runs of tied scores per group,
    cumulated in score order by a window function, give each run's placement of a positive and of a negative; every
    row is then joined to its run under both models."""
    window = "PARTITION BY g ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"

    def runs(i: int, m: int) -> str:
        group = f"g{i}" if m == 1 else f"h{i}"
        return f"""(SELECT g, s, CASE WHEN n_neg > 0 THEN (neg_below + 0.5 * neg) / n_neg END AS as_positive,
                        CASE WHEN n_pos > 0 THEN ((n_pos - pos_below) - 0.5 * pos) / n_pos END AS as_negative
                 FROM (SELECT g, s, pos, neg, SUM(pos) OVER ({window}) - pos AS pos_below,
                              SUM(neg) OVER ({window}) - neg AS neg_below, SUM(pos) OVER (PARTITION BY g) AS n_pos,
                              SUM(neg) OVER (PARTITION BY g) AS n_neg
                       FROM (SELECT {group} AS g, s{m} AS s, SUM(y) AS pos, COUNT(*) - SUM(y) AS neg FROM r
                             WHERE g{i} >= 0 GROUP BY {group}, s{m}) AS counted) AS cumulated)"""

    # Each family's group under two names (h = -1 - g): joined on one group column, an optimizer would infer that
    # the two runs tables share it and might join them to each other on the group alone (a cross product).
    codes = ", ".join(f"{c.code} AS g{i}" for i, c in enumerate(coded))
    twice = ", ".join(f"g{i}, -1 - g{i} AS h{i}" for i in range(len(coded)))
    params: list[object] = []
    for c in coded:
        params += c.params
    # + 0.0: a score of -0.0 is 0.0's tie, as in numpy
    rows = (f"SELECT {twice}, CAST(y AS DOUBLE) AS y, s1 + 0.0 AS s1, s2 + 0.0 AS s2 FROM (SELECT {codes}, "
            f"{candidate.y_true} AS y, {candidate.score} AS s1, {baseline.score} AS s2 FROM {connection.relation}) "
            "AS coded")
    placed = ", ".join(f"CASE WHEN r.y = 1 THEN p{m}.as_positive ELSE p{m}.as_negative END AS v{m}" for m in (1, 2))
    parts = " UNION ALL ".join(
        f"SELECT {i} AS f, r.g{i} AS g, r.y AS y, {placed} FROM r JOIN {runs(i, 1)} AS p1 ON r.g{i} = p1.g AND "
        f"r.s1 = p1.s JOIN {runs(i, 2)} AS p2 ON r.h{i} = p2.g AND r.s2 = p2.s" for i in range(len(coded)))
    found = connection.frame(
        f"""
        WITH r AS {connection.dialect.materialized}({rows})
        SELECT f, g, y, COUNT(*) AS n, SUM(v1) AS t1, SUM(v1 * v1) AS q1, SUM(v2) AS t2, SUM(v2 * v2) AS q2,
               SUM(v1 - v2) AS t3, SUM((v1 - v2) * (v1 - v2)) AS q3
        FROM ({parts}) AS v
        GROUP BY f, g, y""",
        [*params, *candidate.y_true_params])
    return [_placements_of(found[found["f"] == i], c.family.n_groups) for i, c in enumerate(coded)]


def _placements_of(found: pd.DataFrame, n_groups: int) -> dict[tuple[str, int], Sums]:
    """One family's placement sums from the rows of `_placement_sums`' query."""
    sums = {}
    for label in (1, 0):
        mine = found[found["y"] == label]
        g = mine["g"].to_numpy(dtype=np.int64)
        for m, model in ((1, "candidate"), (2, "baseline"), (3, "difference")):
            total, squares = np.zeros(n_groups), np.zeros(n_groups)
            total[g], squares[g] = (mine[f"t{m}"].to_numpy(dtype=np.float64),
                                    mine[f"q{m}"].to_numpy(dtype=np.float64))
            n = np.zeros(n_groups, dtype=np.int64)
            n[g] = mine["n"].to_numpy(dtype=np.int64)
            sums[model, label] = Sums(total, squares, n)
    return sums


def _regression_sums(
    connection: Connection, candidate: Outputs, baseline: Outputs, coded: Coded, first: Statistics,
    second: Statistics, names: set[str],
) -> dict[str, Sums]:
    """The sums of each regression metric's per-row difference (`paired_rows._per_row_differences`) per group of
    one family; the linearizations' per-group constants are parameters."""
    n_groups = coded.family.n_groups
    constants = Linearization.of(first, second)
    divisors = {"dc": constants.double_rmse[0], "db": constants.double_rmse[1], "v": constants.target_variance}
    usable = {name: np.isfinite(values) & (values != 0) for name, values in divisors.items()}
    per_group: dict[str, np.ndarray] = {name: np.where(usable[name], values, 1.0) for name, values in divisors.items()}
    per_group |= {"mc": np.nan_to_num(constants.mean_residual[0]), "mb": np.nan_to_num(constants.mean_residual[1])}
    # one row of constants per group, joined (a CASE per constant would be copied into every term that reads it)
    constants_sql = ", ".join(f"({k}, {', '.join('?' for _ in per_group)})" for k in range(n_groups))
    constant_params = [float(per_group[name][k]) for k in range(n_groups) for name in per_group]
    terms = {
        "mae": "ABS(y - yc) - ABS(y - yb)",
        "mse": "(y - yc) * (y - yc) - (y - yb) * (y - yb)",
        "mean_residual": "(y - yc) - (y - yb)",
        "mape": "ABS(y - yc) / GREATEST(ABS(y), ?) - ABS(y - yb) / GREATEST(ABS(y), ?)",
        "rmse": "(y - yc) * (y - yc) / dc - (y - yb) * (y - yb) / db",
        "r2": "-((y - yc) * (y - yc) - (y - yb) * (y - yb)) / v",
        "explained_variance": "-(((y - yc) - mc) * ((y - yc) - mc) - ((y - yb) - mb) * ((y - yb) - mb)) / v",
    }
    wanted = [name for name in terms if name in names]
    if not wanted:
        return {}
    counted_rows = {name: "y <> 0" if name == "mape" else "1 = 1" for name in wanted}
    selected = ", ".join(f"{terms[name]} AS d_{name}" for name in wanted)
    aggregated = ", ".join(f"SUM(CASE WHEN {counted_rows[name]} THEN d_{name} END) AS t_{name}, SUM(CASE WHEN "
                           f"{counted_rows[name]} THEN d_{name} * d_{name} END) AS q_{name}, SUM(CASE WHEN "
                           f"{counted_rows[name]} THEN 1 ELSE 0 END) AS n_{name}" for name in wanted)
    rows = (f"SELECT {coded.code} AS g, {candidate.y_true} AS y, {candidate.y_pred} AS yc, {baseline.y_pred} AS yb "
            f"FROM {connection.relation}")
    found = connection.frame(
        f"SELECT g, {aggregated} FROM (SELECT r.g AS g, y, {selected} FROM ({rows}) AS r JOIN (VALUES "
        f"{constants_sql}) AS k(g, {', '.join(per_group)}) ON r.g = k.g) AS d GROUP BY g",
        [*([EPS, EPS] if "mape" in wanted else []), *coded.params, *candidate.y_true_params,
         *candidate.y_pred_params, *baseline.y_pred_params, *constant_params])
    g = found["g"].to_numpy(dtype=np.int64)
    sums = {}
    for name in wanted:
        total, squares = np.zeros(n_groups), np.zeros(n_groups)
        n = np.zeros(n_groups, dtype=np.int64)
        total[g] = found[f"t_{name}"].to_numpy(dtype=np.float64, na_value=0.0)
        squares[g] = found[f"q_{name}"].to_numpy(dtype=np.float64, na_value=0.0)
        n[g] = found[f"n_{name}"].to_numpy(dtype=np.int64)
        broken = {"rmse": ~(usable["dc"] & usable["db"]), "r2": ~usable["v"],
                  "explained_variance": ~usable["v"]}.get(name)
        if broken is not None:  # a zero or undefined divisor: numpy's terms are not finite, nor its sums
            total, squares = np.where(broken & (n > 0), np.nan, total), np.where(broken & (n > 0), np.nan, squares)
        sums[name] = Sums(total, squares, n)
    return sums
