"""The sufficient statistics of every family as SQL aggregates: what the numpy engine computes with bincounts
and sorts (`reportgen.metrics.statistics`, `calibration`, `regression`), computed where the data lies.

Counts are exact; sums agree with the numpy engine's up to the order of floating-point additions. Rank
statistics (ROC AUC with ties, average precision, DeLong's placements) come from each group's runs of tied
scores, cumulated in score order by window functions: the engine sorts, out of core, and returns per-group sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.engines.connection import Connection
from reportgen.engines.families import Coded
from reportgen.engines.quantiles import quantiles
from reportgen.metrics import calibration, curves, residuals
from reportgen.metrics.binary import BinaryStats
from reportgen.metrics.measure import Spread
from reportgen.metrics.regression import ErrorStats, RegressionStats
from reportgen.metrics.statistics import EPS, Confusion, ScoreStats
from reportgen.metrics.streamed import ScoreStream
from reportgen.metrics.tasks import Statistics


@dataclass(frozen=True)
class Outputs:
    """The model's outputs as SQL over the relation.

    Attributes
    ----------
    y_true, y_pred : str
        Binary: 1 for the positive class, else 0. Regression: the target and the prediction as DOUBLE.
    score : str or None
        Binary: the positive-class probability as DOUBLE (a column: no parameters).
    y_true_params, y_pred_params : list
        The parameters of ``y_true`` and of ``y_pred``.
    """

    y_true: str
    y_pred: str
    score: str | None
    y_true_params: list[object]
    y_pred_params: list[object]


def _base(connection: Connection, outputs: Outputs, coded: list[Coded]) -> tuple[str, list[object]]:
    """A subquery of y, yhat, s and one group code g0, g1, ... per family."""
    codes = ", ".join(f"{c.code} AS g{i}" for i, c in enumerate(coded))
    score = outputs.score or "CAST(NULL AS DOUBLE)"
    params = [*outputs.y_true_params, *outputs.y_pred_params]
    for c in coded:
        params += c.params
    return (f"(SELECT {outputs.y_true} AS y, {outputs.y_pred} AS yhat, {score} AS s, {codes} "
            f"FROM {connection.relation}) AS base", params)


def group_counts(connection: Connection, outputs: Outputs, coded: list[Coded]) -> list[np.ndarray]:
    """Rows per group of each family (one scan)."""
    base, params = _base(connection, outputs, coded)
    sets = ", ".join(f"(g{i})" for i in range(len(coded)))
    cols = ", ".join(f"g{i}" for i in range(len(coded)))
    found = connection.frame(f"SELECT {cols}, COUNT(*) AS n FROM {base} GROUP BY GROUPING SETS ({sets})", params)
    return [_per_group(found, i, c.family.n_groups, "n").astype(np.int64) for i, c in enumerate(coded)]


def _per_group(found: pd.DataFrame, i: int, n_groups: int, column: str) -> np.ndarray:
    """A per-group column of the grouping set of family i (groups without rows: 0)."""
    mine = found[found[f"g{i}"].notna()]
    mine = mine[mine[f"g{i}"] >= 0]
    return np.bincount(mine[f"g{i}"].to_numpy(dtype=np.int64), weights=mine[column].to_numpy(dtype=np.float64),
                       minlength=n_groups)


def bin_sql(confidence: str, edges: np.ndarray) -> tuple[str, list[float]]:
    """Each row's calibration bin: the inner edges strictly below its confidence (`calibration._bin_index`)."""
    inner = edges[1:-1].tolist()
    return " + ".join(f"CASE WHEN {confidence} > ? THEN 1 ELSE 0 END" for _ in inner) or "0", inner


def calibration_rows(connection: Connection, outputs: Outputs, n_bins: int) -> calibration.CalibrationRows:
    """The bins' edges of both strategies (quantile edges over every row's score, at the fractions numpy's
    `percentile` uses), without per-row arrays."""
    assert outputs.score is not None, "calibration needs probabilities"
    fractions = np.true_divide(np.linspace(0, 1, n_bins + 1) * 100, 100)
    edges = quantiles(connection, outputs.score, [], fractions)[0]
    empty = np.zeros(0)
    return calibration.CalibrationRows(
        confidence=empty, outcome=empty.astype(np.int8), uniform_bin=empty.astype(np.int8),
        quantile_bin=empty.astype(np.int8), uniform_edges=np.linspace(0.0, 1.0, n_bins + 1),
        quantile_edges=edges)


def binary_statistics(
    connection: Connection, outputs: Outputs, coded: list[Coded], bins: calibration.CalibrationRows, *,
    chart: bool = True,
) -> tuple[list[Statistics], dict[str, object]]:
    """Every family's binary statistics, and (with `chart`) the whole set's chart data
    (`reportgen.metrics.measure.Curves`' roc, precision_recall, thresholds and scores).

    Confusion counts, losses and calibration bins come from one scan; the rank sums and the curves from one sorted
    scan streamed through `ScoreStream` (an embedded engine), or from window functions per family (a cluster).
    """
    base, params = _base(connection, outputs, coded)
    uniform, uniform_params = bin_sql("s", bins.uniform_edges)
    quantile, quantile_params = bin_sql("s", bins.quantile_edges)
    log_loss = log_loss_sql("s", "y")
    cols = ", ".join(f"g{i}" for i in range(len(coded)))
    sets = ", ".join(f"(g{i}, y, yhat, ub, qb)" for i in range(len(coded)))
    found = connection.frame(
        f"SELECT {cols}, y, yhat, ub, qb, COUNT(*) AS n, SUM(ll) AS ll, SUM(ll * ll) AS ll2, SUM(se) AS se, "
        f"SUM(se * se) AS se2, SUM(s) AS conf FROM (SELECT *, {uniform} AS ub, {quantile} AS qb, {log_loss} AS ll, "
        f"(s - y) * (s - y) AS se FROM {base}) AS rows_ GROUP BY GROUPING SETS ({sets})",
        [*uniform_params, *quantile_params, EPS, 1 - EPS, *params])
    n_bins = bins.n_bins
    parts = []
    for i, c in enumerate(coded):
        n_groups = c.family.n_groups
        mine = found[found[f"g{i}"].notna() & (found[f"g{i}"] >= 0)]
        g = mine[f"g{i}"].to_numpy(dtype=np.int64)
        y, yhat = mine["y"].to_numpy(dtype=np.int64), mine["yhat"].to_numpy(dtype=np.int64)
        n = mine["n"].to_numpy(dtype=np.float64)

        def per_group(weights: np.ndarray, key: np.ndarray = g, size: int = n_groups) -> np.ndarray:
            return np.bincount(key, weights=weights, minlength=size)

        confusion = Confusion.from_cells(
            per_group(n, g * 4 + y * 2 + yhat, 4 * n_groups).reshape(n_groups, 4).astype(np.int64))
        losses = {name: per_group(mine[column].to_numpy(dtype=np.float64)) for name, column in
                  (("log_loss_sum", "ll"), ("log_loss_sq", "ll2"), ("brier_sum", "se"), ("brier_sq", "se2"))}
        binned = []
        for column in ("ub", "qb"):
            key, size = g * n_bins + mine[column].to_numpy(dtype=np.int64), n_groups * n_bins
            binned.append(calibration.BinStats(
                n=per_group(n, key, size).reshape(n_groups, n_bins).astype(np.int64),
                confidence_sum=per_group(mine["conf"].to_numpy(dtype=np.float64), key, size).reshape(n_groups, n_bins),
                outcome_sum=per_group(n * y, key, size).reshape(n_groups, n_bins).astype(np.int64)))
        parts.append((confusion, losses, calibration.CalibrationStats(*binned)))
    totals = [(c.tp + c.fn, c.tn + c.fp) for c, _, _ in parts]
    found_chart: dict[str, object] = {}
    if connection.streaming:
        sums, found_chart = _streamed(connection, outputs, coded, totals, with_curves=chart)
    else:
        sums = [_rank_sums(connection, outputs, c) for c in coded]
        if chart:
            found_chart = _windowed_curves(connection, outputs, int(totals[0][0][0]), int(totals[0][1][0]))
    if chart:
        found_chart["scores"] = _score_histogram(connection, outputs)
    statistics = [Statistics(BinaryStats(confusion, ScoreStats(n_pos=pos, n_neg=neg, **rank_sums, **losses)), binned)
                  for (confusion, losses, binned), (pos, neg), rank_sums in zip(parts, totals, sums, strict=True)]
    return statistics, found_chart


def log_loss_sql(score: str, y: str) -> str:
    """SQL of a row's log loss (`statistics.Rows`): −ln of the probability given to the label, clipped to
    [EPS, 1 − EPS]; its parameters are EPS and 1 − EPS."""
    return f"-LN(LEAST(GREATEST(CASE WHEN {y} = 1 THEN {score} ELSE 1.0 - {score} END, ?), ?))"


def _streamed(
    connection: Connection, outputs: Outputs, coded: list[Coded], totals: list[tuple[np.ndarray, np.ndarray]],
    with_curves: bool = True,
) -> tuple[list[dict[str, np.ndarray]], dict[str, object]]:
    """Rank sums of every family and (`with_curves`) the whole set's curves from one scan sorted by score,
    streamed in chunks."""
    assert outputs.score is not None, "a binary task has scores"
    score = outputs.score
    n_scores = None  # the curves' thinning needs the distinct scores: one more scan
    if with_curves:
        distinct = connection.frame(f"SELECT COUNT(DISTINCT {score}) AS n FROM {connection.relation}")
        n_scores = int(distinct["n"].iloc[0])
    codes = ", ".join(f"CAST({c.code} AS {_integer(c.family.n_groups)}) AS g{i}" for i, c in enumerate(coded))
    params = [*outputs.y_true_params]
    for c in coded:
        params += c.params
    stream = ScoreStream(totals, n_scores)
    for batch in connection.batches(f"SELECT {score} AS s, CAST({outputs.y_true} AS TINYINT) AS y, {codes} "
                                    f"FROM {connection.relation} ORDER BY s", params):
        stream.add(batch["s"], batch["y"], [batch[f"g{i}"] for i in range(len(coded))])
    sums, found = stream.finish()
    return sums, {"roc": found.roc, "precision_recall": found.precision_recall, "thresholds": found.thresholds}


def _integer(n_groups: int) -> str:
    """The narrowest SQL integer type holding the group codes -1 … n_groups (less to sort and stream)."""
    return "SMALLINT" if n_groups < 2**15 - 1 else "INTEGER"


def streamed_rank_sums(
    connection: Connection, outputs: Outputs, coded: list[Coded], totals: list[tuple[np.ndarray, np.ndarray]]
) -> list[dict[str, np.ndarray]]:
    """Each family's rank sums (`ScoreStats`' auc_sum, v10_sq, ap_sum, v01_sq) of the score `outputs.score` against
    the labels `outputs.y_true` (1 or 0) — one class's probability against the rest, say — from one scan sorted by
    score, streamed through `ScoreStream` (an embedded engine); `totals`: per family, each group's positives and
    negatives."""
    return _streamed(connection, outputs, coded, totals, with_curves=False)[0]


def _rank_sums(connection: Connection, outputs: Outputs, coded: Coded) -> dict[str, np.ndarray]:
    """AUC sum, squared DeLong placements and AP sum per group (`windowed_rank_sums`)."""
    assert outputs.score is not None, "a binary task has scores"
    rows = f"SELECT {coded.code} AS g, {outputs.y_true} AS y, {outputs.score} AS s FROM {connection.relation}"
    return windowed_rank_sums(connection, rows, [*coded.params, *outputs.y_true_params], coded.family.n_groups)


def windowed_rank_sums(connection: Connection, rows: str, params: list[object], n_parts: int) -> dict[str, np.ndarray]:
    """AUC sum, squared DeLong placements and AP sum per part (`statistics._rank_sums_of_runs`), from each part's
    runs of tied scores, cumulated in ascending score order by a window function.

    `rows` is a query, with parameters `params`, of the columns g (the part: a group, or a group and a class, in
    [0, n_parts); negative for rows in none), y (1 positive, 0 negative) and s (the score, DOUBLE).
    """
    window = "PARTITION BY g ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    found = connection.frame(
        f"""
        WITH runs AS (
            SELECT g, s, CAST(SUM(y) AS DOUBLE) AS pos, CAST(COUNT(*) - SUM(y) AS DOUBLE) AS neg
            FROM ({rows}) AS r
            WHERE g >= 0 GROUP BY g, s),
        placed AS (
            SELECT g, pos, neg, SUM(pos) OVER ({window}) - pos AS pos_below, SUM(neg) OVER ({window}) - neg AS neg_below,
                   SUM(pos) OVER (PARTITION BY g) AS n_pos, SUM(neg) OVER (PARTITION BY g) AS n_neg
            FROM runs)
        SELECT g,
            SUM(pos * (neg_below + 0.5 * neg)) AS auc_sum,
            SUM(CASE WHEN n_neg > 0 THEN pos * POWER((neg_below + 0.5 * neg) / n_neg, 2) ELSE 0 END) AS v10_sq,
            SUM(CASE WHEN pos > 0 THEN pos * (n_pos - pos_below) / ((n_pos - pos_below) + (n_neg - neg_below))
                ELSE 0 END) AS ap_sum,
            SUM(CASE WHEN n_pos > 0 THEN neg * POWER((n_pos - pos_below - pos + 0.5 * pos) / n_pos, 2) ELSE 0 END)
                AS v01_sq
        FROM placed GROUP BY g""",
        params)
    g = found["g"].to_numpy(dtype=np.int64)
    return {name: np.bincount(g, weights=found[name].to_numpy(dtype=np.float64), minlength=n_parts)
            for name in ("auc_sum", "v10_sq", "ap_sum", "v01_sq")}


def _windowed_curves(connection: Connection, outputs: Outputs, n_pos: int, n_neg: int) -> dict[str, object]:
    """The whole set's ROC and precision-recall curves and best thresholds (`reportgen.metrics.curves`), from the
    runs of tied scores cumulated from the highest down by window functions."""
    assert outputs.score is not None, "a binary task has scores"
    runs = (f"(SELECT s, CAST(SUM(y) AS DOUBLE) AS pos, CAST(COUNT(*) - SUM(y) AS DOUBLE) AS neg FROM "
            f"(SELECT {outputs.y_true} AS y, {outputs.score} AS s FROM {connection.relation}) AS r GROUP BY s) AS runs")
    descending = "ORDER BY s DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    vertices = (f"(SELECT s, SUM(pos) OVER ({descending}) AS tps, SUM(neg) OVER ({descending}) AS fps, "
                f"ROW_NUMBER() OVER (ORDER BY s DESC) AS i FROM {runs}) AS vertices")
    params = outputs.y_true_params
    n_scores = int(connection.frame(f"SELECT COUNT(*) AS n FROM {runs}", params)["n"].iloc[0])
    keep = curves.thinned(n_scores + 1)
    listed = ", ".join("?" for _ in keep)
    points = connection.frame(f"SELECT i, tps, fps FROM {vertices} WHERE i IN ({listed}) ORDER BY i",
                              [*params, *keep.tolist()])
    # vertex 0 is (0, 0), before the highest score; vertex i the i-th highest distinct score's
    tps = np.zeros(len(keep))
    fps = np.zeros(len(keep))
    at = np.searchsorted(keep, points["i"].to_numpy(dtype=np.int64))
    tps[at], fps[at] = points["tps"].to_numpy(dtype=np.float64), points["fps"].to_numpy(dtype=np.float64)
    found: dict[str, object] = {"roc": None, "precision_recall": None,
                                "thresholds": curves.ThresholdChoice(None, None, None, None)}
    if n_pos:
        found["precision_recall"] = curves.precision_recall_points(keep, tps, fps, n_pos)
    if n_pos and n_neg:
        found["roc"] = curves.roc_points(tps, fps, n_pos, n_neg)
        best = {}
        for name, criterion in (("f1", "2 * tps / (tps + fps + ?)"), ("youden", "tps / ? - fps / ?")):
            criterion_params = [float(n_pos)] if name == "f1" else [float(n_pos), float(n_neg)]
            top = connection.frame(f"SELECT s, {criterion} AS value FROM {vertices} ORDER BY 2 DESC, s DESC LIMIT 1",
                                   [*criterion_params, *params])
            best[name] = (float(top["s"].iloc[0]), float(top["value"].iloc[0]))
        found["thresholds"] = curves.ThresholdChoice(best["f1"][0], best["f1"][1], best["youden"][0], best["youden"][1])
    return found


def _score_histogram(connection: Connection, outputs: Outputs, n_bins: int = 20) -> curves.ScoreHistogram:
    """Scores by class in `n_bins` uniform bins (`reportgen.metrics.curves.score_histogram`)."""
    histogram = connection.frame(
        f"SELECT LEAST(CAST(FLOOR(s * {n_bins}) AS INT), {n_bins - 1}) AS b, y, COUNT(*) AS n FROM "
        f"(SELECT {outputs.y_true} AS y, {outputs.score} AS s FROM {connection.relation}) AS r GROUP BY 1, 2",
        outputs.y_true_params)
    key = histogram["b"].to_numpy(dtype=np.int64) * 2 + histogram["y"].to_numpy(dtype=np.int64)
    counts = np.bincount(key, weights=histogram["n"].to_numpy(dtype=np.float64), minlength=2 * n_bins)
    counts = counts.reshape(n_bins, 2).astype(np.int64)
    return curves.ScoreHistogram(edges=np.round(np.linspace(0, 1, n_bins + 1), 4).tolist(),
                                 positives=counts[:, 1].tolist(), negatives=counts[:, 0].tolist())


def regression_statistics(connection: Connection, outputs: Outputs, coded: list[Coded]) -> list[Statistics]:
    """Every family's error statistics (`reportgen.metrics.regression.error_stats`): sums in one scan, then per
    family the sums centred on each group's means and the median absolute error."""
    base, params = _base(connection, outputs, coded)
    cols = ", ".join(f"g{i}" for i in range(len(coded)))
    sets = ", ".join(f"(g{i})" for i in range(len(coded)))
    errors = ("SELECT *, y - yhat AS e, ABS(y - yhat) AS ae, (y - yhat) * (y - yhat) AS se, "
              "CASE WHEN y = 0 THEN 0.0 ELSE ABS(y - yhat) / GREATEST(ABS(y), ?) END AS ape FROM ")
    found = connection.frame(
        f"SELECT {cols}, COUNT(*) AS n, SUM(CASE WHEN y = 0 THEN 1 ELSE 0 END) AS zero_targets, SUM(y) AS y_sum, "
        "SUM(e) AS residual_sum, SUM(ae) AS abs_error_sum, SUM(se) AS squared_error_sum, "
        "SUM(se * se) AS squared_error_sq, SUM(ape) AS ape_sum, SUM(ape * ape) AS ape_sq, "
        "CASE WHEN MIN(y) = MAX(y) THEN 1 ELSE 0 END AS targets_equal, MAX(ae) AS max_abs_error "
        f"FROM ({errors}{base}) AS errors GROUP BY GROUPING SETS ({sets})", [EPS, *params])
    result = []
    for i, c in enumerate(coded):
        n_groups = c.family.n_groups
        n = _per_group(found, i, n_groups, "n").astype(np.int64)

        def summed(column: str) -> np.ndarray:
            return _per_group(found, i, n_groups, column)

        some = np.maximum(n, 1)
        y_mean, e_mean = summed("y_sum") / some, summed("residual_sum") / some
        mine = found[found[f"g{i}"].notna() & (found[f"g{i}"] >= 0)]
        largest = np.full(n_groups, np.nan)
        largest[mine[f"g{i}"].to_numpy(dtype=np.int64)] = mine["max_abs_error"].to_numpy(dtype=np.float64)
        equal = np.ones(n_groups, dtype=bool)
        equal[mine[f"g{i}"].to_numpy(dtype=np.int64)] = mine["targets_equal"].to_numpy(dtype=np.int64) == 1
        centred = _centred_sums(connection, outputs, c, y_mean, e_mean)
        result.append(Statistics(RegressionStats(ErrorStats(
            n=n, zero_targets=summed("zero_targets").astype(np.int64), targets_equal=equal,
            residual_sum=summed("residual_sum"), abs_error_sum=summed("abs_error_sum"),
            squared_error_sum=summed("squared_error_sum"), squared_error_sq=summed("squared_error_sq"),
            ape_sum=summed("ape_sum"), ape_sq=summed("ape_sq"), **centred, max_abs_error=largest)), None))
    return result


def _centred_sums(
    connection: Connection, outputs: Outputs, coded: Coded, y_mean: np.ndarray, e_mean: np.ndarray
) -> dict[str, np.ndarray]:
    """Σ(y - ȳ)², Σ(y - ȳ)⁴, Σ(e - ē)², Σ(e - ē)⁴, Σe²(y - ȳ)², Σ(e - ē)²(y - ȳ)² per group, the means passed in as
    parameters (those the numpy engine computes from the same sums); and the median |e| per group."""
    n_groups = coded.family.n_groups
    mean_of = " ".join(f"WHEN {k} THEN ?" for k in range(n_groups))
    found = connection.frame(
        f"""
        SELECT g, SUM(b) AS target_ss, SUM(b * b) AS target_ss_sq, SUM(c) AS residual_ss, SUM(c * c) AS residual_ss_sq,
               SUM(se * b) AS cross_squared_error, SUM(c * b) AS cross_residual
        FROM (SELECT g, (y - ym) * (y - ym) AS b, (e - em) * (e - em) AS c, e * e AS se
              FROM (SELECT g, y, y - yhat AS e, CASE g {mean_of} END AS ym, CASE g {mean_of} END AS em
                    FROM (SELECT {coded.code} AS g, {outputs.y_true} AS y, {outputs.y_pred} AS yhat
                          FROM {connection.relation}) AS r WHERE g >= 0) AS m) AS d
        GROUP BY g""",
        [*y_mean.tolist(), *e_mean.tolist(), *coded.params, *outputs.y_true_params, *outputs.y_pred_params])
    g = found["g"].to_numpy(dtype=np.int64)
    sums = {name: np.bincount(g, weights=found[name].to_numpy(dtype=np.float64), minlength=n_groups)
            for name in ("target_ss", "target_ss_sq", "residual_ss", "residual_ss_sq", "cross_squared_error",
                         "cross_residual")}
    median = quantiles(connection, f"ABS({outputs.y_true} - {outputs.y_pred})",
                       [*outputs.y_true_params, *outputs.y_pred_params], [0.5], group=coded.code,
                       group_params=coded.params, n_groups=n_groups)[:, 0]
    return {**sums, "median_abs_error": median}


def spread(connection: Connection, outputs: Outputs, task: str, predicted: np.ndarray | None) -> Spread:
    """How much the model's output varies (`reportgen.metrics.measure.Spread`); `predicted`: rows per predicted
    class, from the confusion counts."""
    if task == "regression":
        found = connection.frame(f"SELECT STDDEV_POP({outputs.y_pred}) AS p, STDDEV_POP({outputs.y_true}) AS t "
                                 f"FROM {connection.relation}", [*outputs.y_pred_params, *outputs.y_true_params])
        return Spread(None, prediction_std=float(found["p"].iloc[0]), target_std=float(found["t"].iloc[0]))
    assert outputs.score is not None, "a binary task has scores"
    found = connection.frame(f"SELECT MIN({outputs.score}) AS low, MAX({outputs.score}) AS high FROM "
                             f"{connection.relation}")
    return Spread(predicted, constant_scores=bool(found["low"].iloc[0] == found["high"].iloc[0]))


def regression_curves(connection: Connection, outputs: Outputs) -> dict[str, object]:
    """The whole set's predicted-against-actual grid, residual bands and residual histogram
    (`reportgen.metrics.residuals`): edges from exact quantiles, then counts, sums and per-bin quantiles."""
    rows = (f"(SELECT {outputs.y_true} AS y, {outputs.y_pred} AS yhat FROM {connection.relation}) AS r")
    params = [*outputs.y_true_params, *outputs.y_pred_params]
    tails = list(residuals.TAILS)

    def quantiles_of(sql: str, at: list[float], sql_params: list[object]) -> np.ndarray:
        return quantiles(connection, "v", [], at, source=f"({sql}) AS values_", source_params=sql_params)[0]

    both = f"SELECT yhat AS v FROM {rows} UNION ALL SELECT y AS v FROM {rows}"
    edges = residuals.density_edges(quantiles_of(both, tails, params + params))
    x, x_params = _edges_at_or_below("yhat", edges[1:-1])
    y, y_params = _edges_at_or_below("y", edges[1:-1])
    inside = "yhat >= ? AND yhat <= ? AND y >= ? AND y <= ?"
    bounds = [float(edges[0]), float(edges[-1])] * 2
    bins = len(edges) - 1
    grid = connection.frame(f"SELECT CASE WHEN {inside} THEN ({x}) * {bins} + ({y}) ELSE {bins * bins} END AS cell, "
                            f"COUNT(*) AS n FROM {rows} GROUP BY 1", [*bounds, *x_params, *y_params, *params])
    counts = np.bincount(grid["cell"].to_numpy(dtype=np.int64), weights=grid["n"].to_numpy(dtype=np.float64),
                         minlength=bins * bins + 1).astype(np.int64)

    cuts = quantiles_of(f"SELECT yhat AS v FROM {rows}", np.linspace(0, 1, 21).tolist(), params)
    inner = residuals.band_edges(cuts)
    band = " + ".join("CASE WHEN yhat > ? THEN 1 ELSE 0 END" for _ in inner) or "0"
    found = connection.frame(
        f"SELECT b, COUNT(*) AS n, SUM(yhat) AS predicted, SUM(y - yhat) AS residual "
        f"FROM (SELECT *, {band} AS b FROM {rows}) AS banded GROUP BY b", [*inner.tolist(), *params])
    size = len(inner) + 1
    b = found["b"].to_numpy(dtype=np.int64)
    n, predicted, residual = np.zeros(size, dtype=np.int64), np.zeros(size), np.zeros(size)
    n[b], predicted[b] = found["n"].to_numpy(dtype=np.int64), found["predicted"].to_numpy(dtype=np.float64)
    residual[b] = found["residual"].to_numpy(dtype=np.float64)
    band_quantiles = quantiles(connection, "y - yhat", [], residuals.BAND_QUANTILES, group=band,
                               group_params=inner.tolist(), n_groups=size, source=rows, source_params=params)

    errors = f"SELECT y - yhat AS v FROM {rows}"
    histogram_edges = residuals.histogram_edges(quantiles_of(errors, tails, params))
    low, high = float(histogram_edges[0]), float(histogram_edges[-1])
    at, at_params = _edges_at_or_below("v", histogram_edges[1:-1])
    histogram = connection.frame(
        f"SELECT CASE WHEN v < ? THEN -1 WHEN v > ? THEN {len(histogram_edges) - 1} ELSE {at} END AS bin, "
        f"COUNT(*) AS n FROM ({errors}) AS errors GROUP BY 1", [low, high, *at_params, *params])
    by_bin = dict(zip(histogram["bin"].astype(int), histogram["n"].astype(int), strict=True))
    return {
        "density": residuals.density_of(edges, counts),
        "residual_bands": residuals.bands_of(cuts, n, predicted, residual, band_quantiles),
        "residual_histogram": residuals.histogram_of(
            histogram_edges, [by_bin.get(k, 0) for k in range(len(histogram_edges) - 1)], by_bin.get(-1, 0),
            by_bin.get(len(histogram_edges) - 1, 0)),
    }


def _edges_at_or_below(column: str, inner: np.ndarray) -> tuple[str, list[float]]:
    """SQL of the number of `inner` edges at or below a value: its bin among equal-width edges, the last bin closed
    (`np.histogram`'s assignment)."""
    listed = inner.tolist()
    return " + ".join(f"CASE WHEN {column} >= ? THEN 1 ELSE 0 END" for _ in listed) or "0", listed
