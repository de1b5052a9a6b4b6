"""Multiclass tasks measured where the data lies: the classes from the distinct values of the label and prediction
columns, each row's class codes and probabilities as SQL, and the statistics of `reportgen.metrics.multiclass` and
of the top label's calibration, as the numpy engine computes them.

The probability columns are checked as `reportgen.io` checks them. A row's sum adds its columns in the order numpy
adds them (`row_sum`), so a normalized probability is numpy's to the bit: equal probabilities stay equal, and the
predicted class (the first of the most probable), the top-k ranks and the ties of each one-vs-rest ROC AUC come out
as the numpy engine's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reportgen.config import DataSection
from reportgen.engines import aggregates
from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection, is_infinite
from reportgen.engines.families import Coded, plain
from reportgen.errors import InputError, counted, quoted_list, shown
from reportgen.expression_sql import kind_of_sql_type
from reportgen.io import SUM_TOLERANCE, multiclass_values, top_k_of
from reportgen.metrics import calibration
from reportgen.metrics.measure import Spread
from reportgen.metrics.multiclass import ClassConfusion, ClassScores, MulticlassStats
from reportgen.metrics.statistics import EPS, ScoreStats
from reportgen.metrics.tasks import Statistics

MAX_CLASSES = 1000  # distinct labels (and predictions) an SQL engine maps to classes


@dataclass(frozen=True)
class ClassOutputs(Outputs):
    """A multiclass task's outputs as SQL over the relation.

    `y_true` and `y_pred` give class codes in [0, len(classes)); `score` gives the top label's probability (the
    calibration's confidence), or is None without probabilities.

    Attributes
    ----------
    probabilities : tuple of str, or None
        Each class's probability as DOUBLE, divided by the row's sum where `[data] normalize` is set, in class
        order (no parameters); None without probability columns.
    classes : list of str
        The class labels in code order, as `Predictions.classes`.
    top_k : tuple of int
        The k of each top-k accuracy, as `Predictions.top_k`.
    """

    probabilities: tuple[str, ...] | None
    classes: list[str]
    top_k: tuple[int, ...]


def class_outputs(connection: Connection, data: DataSection, types: dict[str, str], source: str) -> ClassOutputs:
    """Check a multiclass task's columns as `check_predictions` checks them (missing labels are refused before), and
    give its outputs as SQL.

    Raises
    ------
    InputError
        As `check_predictions` on the same rows (counting rows instead of listing them); and where the label or
        prediction column holds more than `MAX_CLASSES` distinct values.
    """
    labels, label_rows = _distinct(connection, data.label, source)
    predicted = predicted_rows = None
    if data.prediction is not None:
        predicted, predicted_rows = _distinct(connection, data.prediction, source)
    found = multiclass_values(labels, label_rows, predicted, predicted_rows, list(types), data, source)
    probabilities = None
    if found.probability_columns is not None:
        probabilities = checked_probabilities(connection, found.probability_columns, types, data.normalize, source)
    top_k = top_k_of(data, len(found.classes), probabilities is not None)
    quote = connection.dialect.quote
    y_true, y_true_params = _coded(quote(data.label), labels, found.label_codes)
    if found.prediction_codes is not None:
        assert data.prediction is not None and predicted is not None, "predictions come from their column"
        y_pred, y_pred_params = _coded(quote(data.prediction), predicted, found.prediction_codes)
    else:
        assert probabilities is not None, "DataSection requires a prediction column or probability columns"
        y_pred, y_pred_params = _argmax(list(probabilities)), []
    score = None if probabilities is None else _greatest(list(probabilities))
    return ClassOutputs(y_true, y_pred, score, y_true_params, y_pred_params, probabilities, found.classes, top_k)


def _distinct(connection: Connection, column: str, source: str) -> tuple[pd.Series, np.ndarray]:
    """A column's distinct values (in the dtype pandas reads them in) and the rows holding each."""
    found = connection.frame(f"SELECT {connection.dialect.quote(column)} AS v, COUNT(*) AS n FROM "
                             f"{connection.relation} GROUP BY 1 LIMIT {MAX_CLASSES + 1}")
    if len(found) > MAX_CLASSES:
        raise InputError(f'{source}: column "{shown(column)}": more than {MAX_CLASSES:,} distinct values; the SQL '
                         f'engines measure at most {MAX_CLASSES:,} classes (set [report] engine = "numpy" for more)')
    return pd.Series(found["v"].tolist()), found["n"].to_numpy(dtype=np.int64)


def _coded(column: str, values: pd.Series, codes: np.ndarray) -> tuple[str, list[object]]:
    """SQL of each row's class code: the code of its value among the column's distinct `values`."""
    branches = " ".join(f"WHEN ? THEN {int(code)}" for code in codes)
    return f"CASE {column} {branches} END", [plain(v) for v in values.tolist()]


def checked_probabilities(
    connection: Connection, columns: list[str], types: dict[str, str], normalize: bool, source: str
) -> tuple[str, ...]:
    """Each class's probability as SQL, after `reportgen.io`'s checks: numbers, none missing, NaN or infinite, all in
    [0, 1], and each row's sum within `SUM_TOLERANCE` of 1 or, to be divided by, above 0."""
    relation = connection.relation
    raw = [f"CAST({connection.dialect.quote(column)} AS DOUBLE)" for column in columns]
    numeric = [k for k, column in enumerate(columns) if kind_of_sql_type(types[column]) == "number"]
    counts = ", ".join(
        f"SUM(CASE WHEN {raw[k]} IS NULL OR isnan({raw[k]}) OR {is_infinite(raw[k])} THEN 1 ELSE 0 END) AS missing{k}, "
        f"SUM(CASE WHEN {raw[k]} < 0 OR {raw[k]} > 1 THEN 1 ELSE 0 END) AS outside{k}" for k in numeric)
    bad = connection.frame(f"SELECT {counts} FROM {relation}") if numeric else pd.DataFrame()
    for k, column in enumerate(columns):  # column by column, in class order, as `reportgen.io` checks them
        if k not in numeric:
            raise InputError(f'{source}: column "{shown(column)}" holds {shown(types[column])} values; probabilities '
                             "must be probabilities")
        for name, noun, what in ((f"missing{k}", "missing, NaN or infinite value", "among the probabilities"),
                                 (f"outside{k}", "value", "outside [0, 1]; probabilities must be probabilities")):
            count = int(bad[name].iloc[0] or 0)
            if count:
                raise InputError(f'{source}: column "{shown(column)}": {counted(count, noun)} {what}')
    total = row_sum(raw)
    listed = quoted_list(columns, limit=3)
    if normalize:
        zero = int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation} WHERE {total} = 0")["n"].iloc[0])
        if zero:
            raise InputError(f"{source}: columns {listed}: {counted(zero, 'row')} with all probabilities 0; they "
                             "cannot be normalized")
        return tuple(f"({p} / {total})" for p in raw)
    off = connection.frame(f"SELECT COUNT(*) AS n, MIN(t) AS low, MAX(t) AS high FROM (SELECT {total} AS t FROM "
                           f"{relation}) AS sums WHERE ABS(t - 1) > ?", [SUM_TOLERANCE])
    n_off = int(off["n"].iloc[0])
    if n_off:
        low, high = float(off["low"].iloc[0]), float(off["high"].iloc[0])
        raise InputError(f"{source}: columns {listed}: {counted(n_off, 'row')} whose probabilities sum to "
                         f"{low:.4g}–{high:.4g}, not 1; fix them or set [data] normalize = true")
    return tuple(raw)


def row_sum(terms: list[str]) -> str:
    """SQL of the sum of `terms` (DOUBLE) added as numpy adds a row of a C-ordered array (`reportgen.io` stacks the
    probability columns so), so its result is numpy's to the bit: in order below 8 terms, else pairwise with eight
    accumulators in blocks of at most 128.

    Examples
    --------
    >>> row_sum(["a", "b", "c"])
    '((a + b) + c)'
    """
    n = len(terms)
    if n < 8:
        return _in_order(terms)
    if n <= 128:
        end = n - n % 8
        r = [_in_order(terms[j:end:8]) for j in range(8)]
        blocks = f"((({r[0]} + {r[1]}) + ({r[2]} + {r[3]})) + (({r[4]} + {r[5]}) + ({r[6]} + {r[7]})))"
        return _in_order([blocks, *terms[end:]])
    half = n // 2 - (n // 2) % 8
    return f"({row_sum(terms[:half])} + {row_sum(terms[half:])})"


def _in_order(terms: list[str]) -> str:
    """SQL adding `terms` from the first to the last."""
    total = terms[0]
    for term in terms[1:]:
        total = f"({total} + {term})"
    return total


def _greatest(terms: list[str]) -> str:
    """SQL of the largest of `terms`."""
    return f"GREATEST({', '.join(terms)})" if len(terms) > 1 else terms[0]


def _argmax(terms: list[str]) -> str:
    """SQL of the position of the largest of `terms`, the first of equal ones (`np.argmax`)."""
    return f"CASE {_greatest(terms)} {' '.join(f'WHEN {term} THEN {k}' for k, term in enumerate(terms))} END"


def multiclass_statistics(
    connection: Connection, outputs: ClassOutputs, coded: list[Coded], bins: calibration.CalibrationRows | None
) -> list[Statistics]:
    """Every family's multiclass statistics (`reportgen.metrics.multiclass.group_stats`) and, with probabilities, its
    top label's calibration bins (`calibration.calibration_stats` on `calibration.top_label`); `bins` exactly with
    probabilities.

    Confusion matrices, log-loss sums, top-k hits and calibration bins come from one scan; each class's rank sums
    against the rest from one sorted scan per class streamed through `ScoreStream` (an embedded engine), or from
    window functions per family over the rows taken once per class (a cluster).
    """
    assert (bins is None) == (outputs.probabilities is None), "calibration bins come with probabilities"
    found = _cells(connection, outputs, coded, bins)
    n_classes = len(outputs.classes)
    scanned, confusions = [], []
    for i, c in enumerate(coded):
        mine = found[found[f"g{i}"].notna() & (found[f"g{i}"] >= 0)]
        cells = mine[mine["y"].notna()]
        key = ((cells[f"g{i}"].to_numpy(dtype=np.int64) * n_classes + cells["y"].to_numpy(dtype=np.int64)) * n_classes
               + cells["yhat"].to_numpy(dtype=np.int64))
        matrix = _summed(cells, "n", key, c.family.n_groups * n_classes * n_classes)
        confusions.append(ClassConfusion(matrix.reshape(-1, n_classes, n_classes).astype(np.int64)))
        scanned.append((mine, cells))
    if bins is None:
        return [Statistics(MulticlassStats(confusion, None), None) for confusion in confusions]
    rank_sums = _one_vs_rest_sums(connection, outputs, coded, [confusion.true_counts for confusion in confusions])
    statistics = []
    for i, (confusion, (mine, cells), of_classes) in enumerate(zip(confusions, scanned, rank_sums, strict=True)):
        n, positives = confusion.n, confusion.true_counts
        g, n_groups = cells[f"g{i}"].to_numpy(dtype=np.int64), len(n)
        unsummed = np.full(n_groups, np.nan) if n.any() else np.zeros(n_groups)  # `score_stats`: 0 without a row
        one_vs_rest = tuple(
            ScoreStats(n_pos=positives[:, k], n_neg=n - positives[:, k], **of_classes[k], log_loss_sum=unsummed,
                       log_loss_sq=unsummed, brier_sum=unsummed, brier_sq=unsummed)
            for k in range(n_classes))
        hits = {k: _summed(cells, f"hit{j}", g, n_groups).astype(np.int64) for j, k in enumerate(outputs.top_k)}
        scores = ClassScores(n, one_vs_rest, _summed(cells, "ll", g, n_groups), _summed(cells, "ll2", g, n_groups),
                             hits)
        binned = [_bin_stats(mine, f"g{i}", column, n_groups, bins.n_bins) for column in ("ub", "qb")]
        statistics.append(Statistics(MulticlassStats(confusion, scores), calibration.CalibrationStats(*binned)))
    return statistics


def _summed(found: pd.DataFrame, column: str, key: np.ndarray, size: int) -> np.ndarray:
    """A column of a scan's result summed into `size` cells by `key`."""
    return np.bincount(key, weights=found[column].to_numpy(dtype=np.float64), minlength=size)


def _bin_stats(mine: pd.DataFrame, group: str, column: str, n_groups: int, n_bins: int) -> calibration.BinStats:
    """A family's rows, confidences and right top labels per group and bin, from the scan's grouping by the group
    column and the bin column ("ub" uniform, "qb" quantile)."""
    in_bins = mine[mine[column].notna()]
    key = in_bins[group].to_numpy(dtype=np.int64) * n_bins + in_bins[column].to_numpy(dtype=np.int64)
    size, shape = n_groups * n_bins, (n_groups, n_bins)
    return calibration.BinStats(n=_summed(in_bins, "n", key, size).reshape(shape).astype(np.int64),
                                confidence_sum=_summed(in_bins, "conf", key, size).reshape(shape),
                                outcome_sum=_summed(in_bins, "ok", key, size).reshape(shape).astype(np.int64))


def _cells(
    connection: Connection, outputs: ClassOutputs, coded: list[Coded], bins: calibration.CalibrationRows | None
) -> pd.DataFrame:
    """One scan, grouped by each family's (group, label, prediction) — with probabilities: the log-loss sums and top-k
    hits of those cells — and by its (group, uniform bin) and (group, quantile bin): rows, confidences and top
    labels that are right."""
    codes = ", ".join(f"{c.code} AS g{i}" for i, c in enumerate(coded))
    probabilities = outputs.probabilities or ()
    selected = ", ".join([f"{outputs.y_true} AS y", f"{outputs.y_pred} AS yhat",
                          *(f"{p} AS p{k}" for k, p in enumerate(probabilities)), codes])
    base = f"SELECT {selected} FROM {connection.relation}"
    params = [*outputs.y_true_params, *outputs.y_pred_params]
    for c in coded:
        params += c.params
    cols = ", ".join(f"g{i}" for i in range(len(coded)))
    confusion_sets = [f"(g{i}, y, yhat)" for i in range(len(coded))]
    if bins is None:
        return connection.frame(f"SELECT {cols}, y, yhat, COUNT(*) AS n FROM ({base}) AS rows_ GROUP BY GROUPING SETS "
                                f"({', '.join(confusion_sets)})", params)
    columns = [f"p{k}" for k in range(len(probabilities))]
    p_true = f"CASE y {' '.join(f'WHEN {k} THEN {p}' for k, p in enumerate(columns))} END"
    derived = (f"SELECT *, {_greatest(columns)} AS conf, {_argmax(columns)} AS top, {p_true} AS p_true "
               f"FROM ({base}) AS b")
    uniform, uniform_params = aggregates.bin_sql("conf", bins.uniform_edges)
    quantile, quantile_params = aggregates.bin_sql("conf", bins.quantile_edges)
    ranked = f", {true_rank(columns)} AS r" if outputs.top_k else ""
    rows = (f"SELECT *, -LN(LEAST(GREATEST(p_true, ?), ?)) AS ll, CASE WHEN top = y THEN 1 ELSE 0 END AS ok, "
            f"{uniform} AS ub, {quantile} AS qb{ranked} FROM ({derived}) AS d")
    hits = "".join(f", SUM(CASE WHEN r < ? THEN 1 ELSE 0 END) AS hit{j}" for j in range(len(outputs.top_k)))
    sets = confusion_sets + [f"(g{i}, {b})" for i in range(len(coded)) for b in ("ub", "qb")]
    return connection.frame(
        f"SELECT {cols}, y, yhat, ub, qb, COUNT(*) AS n, SUM(ll) AS ll, SUM(ll * ll) AS ll2, SUM(conf) AS conf, "
        f"SUM(ok) AS ok{hits} FROM ({rows}) AS rows_ GROUP BY GROUPING SETS ({', '.join(sets)})",
        [*outputs.top_k, EPS, 1 - EPS, *uniform_params, *quantile_params, *params])


def true_rank(columns: list[str], p_true: str = "p_true") -> str:
    """SQL of where a row's label stands among the classes in `top_k_accuracy_score`'s order
    (`reportgen.metrics.multiclass._true_rank`): the classes more probable, or as probable with a higher code; with
    two classes, 0 where class 1's probability above 0.5 predicts the label, else 1. `p_true` names the column of the
    label's probability, `y` is the label's code."""
    if len(columns) == 2:
        return f"CASE WHEN ({columns[1]} > 0.5 AND y = 1) OR ({columns[1]} <= 0.5 AND y <> 1) THEN 0 ELSE 1 END"
    return " + ".join(f"CASE WHEN {p} > {p_true} OR ({p} = {p_true} AND y < {k}) THEN 1 ELSE 0 END"
                      for k, p in enumerate(columns))


def _one_vs_rest_sums(
    connection: Connection, outputs: ClassOutputs, coded: list[Coded], true_counts: list[np.ndarray]
) -> list[list[dict[str, np.ndarray]]]:
    """Per family, per class: the rank sums of the class's probability against the rest (`true_counts`: per family,
    each group's rows of each class)."""
    assert outputs.probabilities is not None, "one-vs-rest rank sums need probabilities"
    n_classes = len(outputs.classes)
    if connection.streaming:
        by_class = []
        for k, probability in enumerate(outputs.probabilities):
            against = Outputs(f"CASE WHEN ({outputs.y_true}) = ? THEN 1 ELSE 0 END",
                              f"CASE WHEN ({outputs.y_pred}) = ? THEN 1 ELSE 0 END", probability,
                              [*outputs.y_true_params, k], [*outputs.y_pred_params, k])
            totals = [(counts[:, k], counts.sum(axis=1) - counts[:, k]) for counts in true_counts]
            by_class.append(aggregates.streamed_rank_sums(connection, against, coded, totals))
        return [[of_class[i] for of_class in by_class] for i in range(len(coded))]
    selected = ", ".join(f"{p} AS p{k}" for k, p in enumerate(outputs.probabilities))
    score = f"CASE k {' '.join(f'WHEN {k} THEN p{k}' for k in range(n_classes))} END"
    classes = ", ".join(f"({k})" for k in range(n_classes))
    result = []
    for c in coded:
        n_groups = c.family.n_groups
        rows = (f"SELECT gc * {n_classes} + k AS g, CASE WHEN yc = k THEN 1 ELSE 0 END AS y, {score} AS s FROM "
                f"(SELECT {c.code} AS gc, {outputs.y_true} AS yc, {selected} FROM {connection.relation}) AS r "
                f"CROSS JOIN (VALUES {classes}) AS classes(k) WHERE gc >= 0")
        sums = aggregates.windowed_rank_sums(connection, rows, [*c.params, *outputs.y_true_params],
                                             n_groups * n_classes)
        result.append([{name: values.reshape(n_groups, n_classes)[:, k] for name, values in sums.items()}
                       for k in range(n_classes)])
    return result


def on_classes(outputs: ClassOutputs, classes: list[str], labels: Outputs, source: str) -> ClassOutputs:
    """A baseline's outputs coded on the candidate's `classes`, its labels the candidate's (`labels`): as
    `reportgen.baseline` re-codes a baseline that predicts fewer classes; with probabilities the classes must be the
    same.

    Raises
    ------
    InputError
        If the baseline has a class the candidate has not, or has probabilities for other classes.
    """
    if outputs.classes == classes:
        return replace(outputs, y_true=labels.y_true, y_true_params=labels.y_true_params)
    foreign = [c for c in outputs.classes if c not in classes]
    if outputs.probabilities is None and not foreign:
        codes = " ".join(f"WHEN {k} THEN {classes.index(c)}" for k, c in enumerate(outputs.classes))
        return replace(outputs, y_true=labels.y_true, y_true_params=labels.y_true_params,
                       y_pred=f"CASE ({outputs.y_pred}) {codes} END", classes=list(classes))
    only = [f"{quoted_list(names)} only in {where}" for names, where in (
        (foreign, source), ([c for c in classes if c not in outputs.classes], "the predictions")) if names]
    raise InputError(f"{source}: the classes differ from the predictions' ({', '.join(only)}); the two models must "
                     "have the same classes")


def spread(connection: Connection, outputs: ClassOutputs, confusion: ClassConfusion) -> Spread:
    """How much the model's output varies (`reportgen.metrics.measure.Spread`): rows per predicted class, from the
    whole set's confusion matrix; constant scores where each class's probability is the same on every row."""
    n_classes = len(outputs.classes)
    predicted = np.zeros(max(n_classes, 2), dtype=np.int64)
    predicted[:n_classes] = confusion.predicted_counts[0]
    if outputs.probabilities is None:
        return Spread(predicted)
    selected = ", ".join(f"{p} AS p{k}" for k, p in enumerate(outputs.probabilities))
    ranges = ", ".join(f"MIN(p{k}) AS low{k}, MAX(p{k}) AS high{k}" for k in range(n_classes))
    found = connection.frame(f"SELECT {ranges} FROM (SELECT {selected} FROM {connection.relation}) AS p")
    constant = all(float(found[f"low{k}"].iloc[0]) == float(found[f"high{k}"].iloc[0]) for k in range(n_classes))
    return Spread(predicted, constant_scores=constant)
