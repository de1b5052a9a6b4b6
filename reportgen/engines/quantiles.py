"""Exact quantiles of a column (per group) out of core: numpy's linear interpolation between two order statistics,
each found by counting the values in buckets of their range and narrowing to the bucket that holds it.

An engine's own quantile aggregates (DuckDB's `quantile_cont`, Spark's `percentile`) hold every value of a group in
memory: 100M scores need gigabytes. Here each pass is one scan returning per-bucket counts; a rank's bucket is
found from the cumulative counts; a bucket of one value answers at once, a small bucket's values are fetched, a
large one is counted again over its own range. Buckets follow the values' order (the bucket of a value never
decreases as it grows, whatever the rounding), so the values below a bucket are exactly those of the buckets
before it, and each rank is exact.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reportgen.engines.connection import Connection
from reportgen.metrics.residuals import interpolated, quantile_ranks

BUCKETS = 4096  # per group and pass
FETCH = 1 << 16  # a bucket of at most this many values is fetched and partitioned here
MAX_PASSES = 16


def quantiles(
    connection: Connection, value: str, params: Sequence[object], fractions: Sequence[float], *,
    group: str = "0", group_params: Sequence[object] = (), n_groups: int = 1, source: str | None = None,
    source_params: Sequence[object] = (),
) -> np.ndarray:
    """`np.quantile(values, fractions)` (linear interpolation) of a number per group, over the relation's rows.

    Parameters
    ----------
    connection : Connection
        The engine.
    value : str
        SQL of a DOUBLE; rows where it is NULL are left out (NaN must be filtered by the caller's SQL).
    params : sequence
        The parameters of `value`.
    fractions : sequence of float
        In [0, 1].
    group, group_params, n_groups
        SQL of each row's group in [0, n_groups) (negative: in no group), and its parameters.
    source, source_params
        The rows: a subquery and its parameters (default: the connection's relation).

    Returns
    -------
    ndarray of float64, shape (n_groups, len(fractions))
        NaN for a group without values.
    """
    rows = (f"(SELECT g, v FROM (SELECT CAST({group} AS BIGINT) AS g, {value} AS v FROM {source or connection.relation}) "
            "AS r WHERE v IS NOT NULL AND g >= 0) AS values_")
    all_params = [*group_params, *params, *source_params]
    found = connection.frame(f"SELECT g, COUNT(*) AS n, MIN(v) AS low, MAX(v) AS high FROM {rows} GROUP BY g",
                             all_params)
    n = np.zeros(n_groups, dtype=np.int64)
    low, high = np.full(n_groups, np.nan), np.full(n_groups, np.nan)
    at = found["g"].to_numpy(dtype=np.int64)
    n[at] = found["n"].to_numpy(dtype=np.int64)
    low[at], high[at] = found["low"].to_numpy(dtype=np.float64), found["high"].to_numpy(dtype=np.float64)
    q = np.asarray(fractions, dtype=np.float64)
    result = np.full((n_groups, len(q)), np.nan)
    filled = np.flatnonzero(n)
    if not len(filled):
        return result
    lower, upper, gamma = quantile_ranks(n[filled], q)
    group_of = np.broadcast_to(filled[:, None], lower.shape)
    wanted_groups = np.concatenate([group_of.ravel(), group_of.ravel()])
    wanted_ranks = np.concatenate([lower.ravel(), upper.ravel()])
    values = _order_statistics(connection, rows, all_params, wanted_groups, wanted_ranks, low, high)
    below, above = values.reshape(2, *lower.shape)
    result[filled] = interpolated(below, above, gamma)
    return result


def data_quantiles(
    connection: Connection, value: str, params: Sequence[object], fractions: Sequence[float], *,
    source: str | None = None, source_params: Sequence[object] = (),
) -> np.ndarray:
    """`np.quantile(values, fractions, method="inverted_cdf")` of a number over the relation's rows: each a value of
    the data, so that infinities (between which nothing interpolates) may be among them. `value`, `params`, `source`
    and `source_params` as in `quantiles`; NaN for every fraction without values."""
    infinity = "CAST('Infinity' AS DOUBLE)"
    every = f"(SELECT {value} AS v FROM {source or connection.relation}) AS r WHERE v IS NOT NULL"
    all_params = [*params, *source_params]
    found = connection.frame(
        f"SELECT COUNT(*) AS n, SUM(CASE WHEN v = -{infinity} THEN 1 ELSE 0 END) AS below, "
        f"SUM(CASE WHEN v = {infinity} THEN 1 ELSE 0 END) AS above, MIN(CASE WHEN ABS(v) < {infinity} THEN v END) "
        f"AS low, MAX(CASE WHEN ABS(v) < {infinity} THEN v END) AS high FROM {every}", all_params).iloc[0]
    q = np.asarray(fractions, dtype=np.float64)
    n = int(found["n"])
    if n == 0:
        return np.full(len(q), np.nan)
    below, above = int(found["below"]), int(found["above"])
    ranks = np.clip(np.ceil(n * q - 1), 0, n - 1).astype(np.int64)  # numpy's inverted_cdf index
    result = np.where(ranks < below, -np.inf, np.inf)
    finite = (ranks >= below) & (ranks < n - above)
    if finite.any():
        rows = f"(SELECT 0 AS g, v FROM {every} AND ABS(v) < {infinity}) AS values_"
        result[finite] = _order_statistics(connection, rows, all_params, np.zeros(int(finite.sum()), dtype=np.int64),
                                           ranks[finite] - below, np.array([float(found["low"])]),
                                           np.array([float(found["high"])]))
    return result


def _order_statistics(
    connection: Connection, rows: str, params: list[object], groups: np.ndarray, ranks: np.ndarray,
    low: np.ndarray, high: np.ndarray,
) -> np.ndarray:
    """The value of each (group, rank), rank 0 a group's smallest; `low`, `high`: each group's range."""
    result = np.full(len(ranks), np.nan)
    # each pending rank: its group, its rank among the values in [start, stop], that range
    pending = np.arange(len(ranks))
    rank, start, stop = ranks.copy(), low[groups].copy(), high[groups].copy()
    for _ in range(MAX_PASSES):
        settled = start[pending] == stop[pending]
        result[pending[settled]] = start[pending[settled]]
        pending = pending[~settled]
        if not len(pending):
            return result
        ranges = {(int(groups[i]), float(start[i]), float(stop[i])) for i in pending}
        counted = _bucket_counts(connection, rows, params, sorted(ranges))
        fetch = []
        for i in pending:
            key = (int(groups[i]), float(start[i]), float(stop[i]))
            counts, lows, highs = counted[key]
            cumulative = np.cumsum(counts)
            bucket = int(np.searchsorted(cumulative, rank[i], side="right"))
            rank[i] -= cumulative[bucket] - counts[bucket]
            start[i], stop[i] = lows[bucket], highs[bucket]
            if start[i] != stop[i] and counts[bucket] <= FETCH:
                fetch.append(i)
        if fetch:
            result[fetch] = _fetched(connection, rows, params, groups[fetch], rank[fetch], start[fetch], stop[fetch])
            pending = np.setdiff1d(pending, fetch)
    if len(pending):
        result[pending] = _fetched(connection, rows, params, groups[pending], rank[pending], start[pending],
                                   stop[pending])
    return result


def _bucket_counts(
    connection: Connection, rows: str, params: list[object], ranges: list[tuple[int, float, float]]
) -> dict[tuple[int, float, float], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per (group, start, stop): the values in [start, stop] counted in `BUCKETS` buckets, with each bucket's
    smallest and largest value. A range too wide for a double is measured in halves."""
    # the ranges as a table joined on the group (a CASE over the ranges would repeat the group's SQL in every branch)
    table, table_params = [], []
    for index, (group, start, stop) in enumerate(ranges):
        half = 0.5 if np.isinf(stop - start) else 1.0
        table.append(f"({index}, {group}, ?, ?, ?, ?, ?)")
        table_params += [start, stop, half, start * half, stop * half - start * half]
    # the position in the range, in [0, 1], times the buckets: no overflow, however narrow the range
    bucket = f"LEAST(CAST(FLOOR((v * k.half - k.base) / k.width * {BUCKETS}) AS BIGINT), {BUCKETS - 1})"
    found = connection.frame(
        f"SELECT k.r AS r, {bucket} AS b, COUNT(*) AS n, MIN(v) AS low, MAX(v) AS high FROM {rows} "
        f"JOIN (VALUES {', '.join(table)}) AS k(r, g, start, stop, half, base, width) "
        "ON values_.g = k.g AND v >= k.start AND v <= k.stop GROUP BY 1, 2",
        [*params, *table_params])
    counted = {}
    for index, key in enumerate(ranges):
        mine = found[found["r"] == index]
        b = mine["b"].to_numpy(dtype=np.int64)
        counts, lows, highs = np.zeros(BUCKETS, dtype=np.int64), np.full(BUCKETS, np.nan), np.full(BUCKETS, np.nan)
        counts[b] = mine["n"].to_numpy(dtype=np.int64)
        lows[b], highs[b] = mine["low"].to_numpy(dtype=np.float64), mine["high"].to_numpy(dtype=np.float64)
        counted[key] = (counts, lows, highs)
    return counted


def _fetched(
    connection: Connection, rows: str, params: list[object], groups: np.ndarray, ranks: np.ndarray,
    start: np.ndarray, stop: np.ndarray,
) -> np.ndarray:
    """The value of rank r among a group's values in [start, stop], each range's values fetched and partitioned."""
    ranges = sorted({(int(g), float(a), float(b)) for g, a, b in zip(groups, start, stop, strict=True)})
    table = ", ".join(f"({index}, {group}, ?, ?)" for index, (group, _, _) in enumerate(ranges))
    found = connection.frame(f"SELECT k.r AS r, v FROM {rows} JOIN (VALUES {table}) AS k(r, g, start, stop) "
                             "ON values_.g = k.g AND v >= k.start AND v <= k.stop",
                             [*params, *[x for _, a, b in ranges for x in (a, b)]])
    values = {index: np.sort(found.loc[found["r"] == index, "v"].to_numpy(dtype=np.float64))
              for index in range(len(ranges))}
    position = {key: index for index, key in enumerate(ranges)}
    return np.array([values[position[(int(g), float(a), float(b))]][int(r)]
                     for g, r, a, b in zip(groups, ranks, start, stop, strict=True)])
