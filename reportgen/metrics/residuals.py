"""Small, fixed-size chart data of a regression's errors: whatever the row count, at most a few thousand numbers.

Numbers are rounded to about four significant digits of their axis's range (`_decimals`), so a
target around 1e6 with a spread of 10 keeps three decimals and one with a spread of 1e6 none.

Percentiles and quantiles are exact (`np.quantile`'s linear interpolation) but found without
sorting the rows (`_quantiles`), and per-row work runs in blocks that stay in cache, so that
10 million rows take well under a second for the three charts on typical data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from reportgen.metrics.regression import ErrorRows

# The range of the density and histogram charts: extreme rows are counted, not drawn.
TAILS = (0.005, 0.995)
BAND_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)

_BLOCK = 1 << 16
# `_quantiles`: cells per group in one counting pass, and when to stop counting and partition.
_CELLS = 2048
_FEW = 1 << 16
_MAX_DEPTH = 6
_SAMPLE = 1 << 14
_FINE = 1 << 16
_CROWDED = 8  # a cell holding this many times its even share of the sample calls for the table
# Up to this many edges, one vectorized comparison per edge beats a binary search per row.
_COMPARE_MAX_EDGES = 32


@dataclass(frozen=True)
class Density:
    """Predicted (x) against actual (y) values as counts on a square grid, one range for both axes.

    Attributes
    ----------
    low, high : float
        The range of both axes, so that the diagonal y = x is the perfect prediction: the 0.5th and
        99.5th percentiles of predictions and targets taken together.
    x0, x1, y0, y1 : list of float
        Bounds of each non-empty cell (predicted from x0 to x1, actual from y0 to y1).
    count : list of int
        Rows in each cell.
    outside : int
        Rows whose prediction or target is outside [low, high], in no cell.
    """

    low: float
    high: float
    x0: list[float]
    x1: list[float]
    y0: list[float]
    y1: list[float]
    count: list[int]
    outside: int


@dataclass(frozen=True)
class ResidualBands:
    """Residuals (y_true - y_pred) against the prediction, in bins of roughly equal row counts.

    Bins are cut at quantiles of the prediction, repeated cut points dropped (tied predictions
    stay in one bin); a bin holds x0 < prediction <= x1, the first one also x0. Empty bins are
    left out.

    Attributes
    ----------
    x0, x1 : list of float
        The bin's range of predictions.
    mean_predicted, mean_residual : list of float
        Means of the prediction and of the residual in the bin.
    q10, q25, median, q75, q90 : list of float
        Quantiles of the residual in the bin (linear interpolation, as `np.quantile`).
    n : list of int
        Rows in the bin.
    """

    x0: list[float]
    x1: list[float]
    mean_predicted: list[float]
    mean_residual: list[float]
    q10: list[float]
    q25: list[float]
    median: list[float]
    q75: list[float]
    q90: list[float]
    n: list[int]


@dataclass(frozen=True)
class ResidualHistogram:
    """Counts of residuals (y_true - y_pred) in equal bins from their 0.5th to 99.5th percentile.

    Attributes
    ----------
    edges : list of float
        Bin edges, one more than `counts`; the last bin includes its upper edge.
    counts : list of int
        Rows per bin.
    below, above : int
        Rows with a residual below the first edge and above the last one.
    """

    edges: list[float]
    counts: list[int]
    below: int
    above: int


def density(rows: ErrorRows, bins: int = 40) -> Density:
    """Predicted against actual values on a `bins` × `bins` grid over one shared range.

    Parameters
    ----------
    rows : ErrorRows
        Per-row targets and predictions, at least one row.
    bins : int
        Cells along each axis.

    Examples
    --------
    >>> rows = ErrorRows.prepare(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.5, 3.0, 3.5]))
    >>> grid = density(rows, bins=2)
    >>> grid.low, grid.high, grid.count, grid.outside
    (1.0, 3.9825, [1, 1, 1], 1)
    """
    edges = density_edges(_quantiles((rows.y_pred, rows.y_true), TAILS)[0], bins)
    counts = np.zeros(bins * bins + 1, dtype=np.int64)
    for block in _blocks(len(rows.y_true)):
        x, x_inside = _bin_index(rows.y_pred[block], edges)
        y, y_inside = _bin_index(rows.y_true[block], edges)
        x *= bins
        x += y
        x[~(x_inside & y_inside)] = bins * bins  # one extra cell for the rows outside
        counts += np.bincount(x, minlength=bins * bins + 1)
    return density_of(edges, counts)


def density_edges(tails: np.ndarray, bins: int = 40) -> np.ndarray:
    """The grid's edges (`density`) from the `TAILS` quantiles of predictions and targets taken together."""
    return np.linspace(*_widened(*tails), bins + 1)


def density_of(edges: np.ndarray, counts: np.ndarray) -> Density:
    """The grid from its edges and the rows per cell (predicted bin × bins + actual bin; one more: outside)."""
    bins = len(edges) - 1
    low, high = edges[0], edges[-1]
    used = np.flatnonzero(counts[:-1])
    decimals = _decimals(high - low)
    rounded = np.round(edges, decimals)
    column, row = used // bins, used % bins
    return Density(
        low=float(rounded[0]),
        high=float(rounded[-1]),
        x0=rounded[column].tolist(),
        x1=rounded[column + 1].tolist(),
        y0=rounded[row].tolist(),
        y1=rounded[row + 1].tolist(),
        count=counts[used].tolist(),
        outside=int(counts[-1]),
    )


def residual_bands(rows: ErrorRows, bins: int = 20) -> ResidualBands:
    """Mean and quantiles of the residual in `bins` quantile bins of the prediction.

    Cut points and each bin's residual quantiles are exact (`np.quantile`'s linear interpolation),
    found by `_quantiles` without sorting the rows.

    Parameters
    ----------
    rows : ErrorRows
        Per-row predictions and residuals, at least one row.
    bins : int
        Number of bins before tied cut points are merged.

    Examples
    --------
    >>> rows = ErrorRows.prepare(np.arange(1.0, 9.0), np.arange(8.0))
    >>> bands = residual_bands(rows, bins=2)
    >>> bands.x0, bands.x1, bands.mean_predicted, bands.n
    ([0.0, 3.5], [3.5, 7.0], [1.5, 5.5], [4, 4])
    """
    cuts = _quantiles((rows.y_pred,), np.linspace(0, 1, bins + 1))[0]
    inner = band_edges(cuts)
    size = len(inner) + 1
    index = np.empty(len(rows.y_pred), dtype=np.int8 if size <= 127 else np.intp)
    n, predicted, residual = np.zeros(size, dtype=np.int64), np.zeros(size), np.zeros(size)
    for block in _blocks(len(index)):
        index[block] = at = _edges_below(rows.y_pred[block], inner)
        n += np.bincount(at, minlength=size)
        predicted += np.bincount(at, weights=rows.y_pred[block], minlength=size)
        residual += np.bincount(at, weights=rows.residual[block], minlength=size)
    quantiles = _quantiles((rows.residual,), BAND_QUANTILES, groups=(index,), n_groups=size)
    return bands_of(cuts, n, predicted, residual, quantiles)


def band_edges(cuts: np.ndarray) -> np.ndarray:
    """The inner edges of the bands: the distinct inner cut points (`residual_bands`)."""
    return np.unique(cuts[1:-1])


def bands_of(cuts: np.ndarray, n: np.ndarray, predicted: np.ndarray, residual: np.ndarray,
             quantiles: np.ndarray) -> ResidualBands:
    """The bands from the prediction's cut points, and per bin its rows, sums of predictions and residuals, and the
    residual's `BAND_QUANTILES` (a row per bin)."""
    inner = band_edges(cuts)
    used = n > 0
    edges = np.concatenate([cuts[:1], inner, cuts[-1:]])
    x_decimals = _decimals(cuts[-1] - cuts[0])
    spread = quantiles[used]
    y_decimals = _decimals(float(spread[:, -1].max() - spread[:, 0].min()))

    def on_x(values: np.ndarray) -> list[float]:
        return np.round(values, x_decimals).tolist()

    def on_y(values: np.ndarray) -> list[float]:
        return np.round(values, y_decimals).tolist()

    return ResidualBands(
        x0=on_x(edges[:-1][used]),
        x1=on_x(edges[1:][used]),
        mean_predicted=on_x(predicted[used] / n[used]),
        mean_residual=on_y(residual[used] / n[used]),
        q10=on_y(spread[:, 0]),
        q25=on_y(spread[:, 1]),
        median=on_y(spread[:, 2]),
        q75=on_y(spread[:, 3]),
        q90=on_y(spread[:, 4]),
        n=n[used].tolist(),
    )


def residual_histogram(rows: ErrorRows, bins: int = 40) -> ResidualHistogram:
    """Residual counts in `bins` equal bins between the residuals' 0.5th and 99.5th percentiles.

    Parameters
    ----------
    rows : ErrorRows
        Per-row residuals, at least one row.
    bins : int
        Number of bins.

    Examples
    --------
    >>> rows = ErrorRows.prepare(np.array([0.0, 1.0, 2.0, 10.0]), np.zeros(4))
    >>> histogram = residual_histogram(rows, bins=2)
    >>> histogram.edges, histogram.counts, histogram.below, histogram.above
    ([0.015, 4.9475, 9.88], [2, 0], 1, 1)
    """
    low, high = _widened(*_quantiles((rows.residual,), TAILS)[0])
    counts, edges = np.histogram(rows.residual, bins, range=(low, high))
    below = int(np.count_nonzero(rows.residual < low))
    return histogram_of(edges, counts, below, len(rows.residual) - below - int(counts.sum()))


def histogram_edges(tails: np.ndarray, bins: int = 40) -> np.ndarray:
    """The histogram's edges (`residual_histogram`) from the residual's `TAILS` quantiles, as `np.histogram`'s."""
    return np.histogram_bin_edges([], bins, range=_widened(*tails))


def histogram_of(edges: np.ndarray, counts: np.ndarray, below: int, above: int) -> ResidualHistogram:
    """The histogram from its edges, the rows per bin and those below and above them."""
    return ResidualHistogram(
        edges=np.round(edges, _decimals(edges[-1] - edges[0])).tolist(),
        counts=[int(c) for c in counts],
        below=int(below),
        above=int(above),
    )


def _widened(low: float, high: float) -> tuple[float, float]:
    """The range [low, high], or ±0.5 around it when it is a single value (as `np.histogram`)."""
    low, high = float(low), float(high)
    return (low - 0.5, high + 0.5) if high <= low else (low, high)


def _bin_index(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin of each value on equal-width `edges` (the last bin closed), and whether it is inside them.

    The bin is computed from the value's offset, then checked against the edges (rounding can put a
    value lying on an edge in the neighbouring bin), as `np.histogram` does. Values outside get a
    bin in range that means nothing.
    """
    bins = len(edges) - 1
    low, high = edges[0], edges[-1]
    position = np.subtract(values, low)
    position *= bins / (high - low)
    np.clip(position, 0, bins - 1, out=position)
    index = position.astype(np.intp)
    del position
    index -= values < edges[index]
    index += (values >= edges[index + 1]) & (index < bins - 1)
    inside = values >= low
    inside &= values <= high
    return index, inside


def _edges_below(values: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Number of `inner` edges (sorted) strictly below each value: its bin."""
    if len(inner) > _COMPARE_MAX_EDGES:
        return np.searchsorted(inner, values, side="left")
    index = np.zeros(len(values), dtype=np.intp)
    above = np.empty(len(values), dtype=bool)
    for edge in inner:  # one comparison per edge beats a binary search per row for few edges
        np.greater(values, edge, out=above)
        index += above
    return index


def _quantiles(
    columns: tuple[np.ndarray, ...],
    probabilities: Sequence[float] | np.ndarray,
    *,
    groups: tuple[np.ndarray, ...] | None = None,
    n_groups: int = 1,
) -> np.ndarray:
    """`np.quantile` (linear interpolation) of the values of `columns` taken together, per group.

    Exact and without sorting the rows: the ranks on either side of each quantile are selected by
    `_select`, then interpolated as numpy does.

    Parameters
    ----------
    columns : tuple of ndarray of float64
        Finite values, at least one in all.
    probabilities : sequence of float
        In [0, 1].
    groups : tuple of ndarray of int, optional
        Group in [0, n_groups) of each value, one array per column; all in group 0 without.
    n_groups : int
        Number of groups.

    Returns
    -------
    ndarray of float64, shape (n_groups, len(probabilities))
        NaN for an empty group.
    """
    q = np.asarray(probabilities, dtype=np.float64)
    groups = groups if groups is not None else (None,) * len(columns)
    cells = _Cells.count(columns, groups, n_groups, *_first_layout(columns))
    n = cells.n
    result = np.full((n_groups, len(q)), np.nan)
    filled = np.flatnonzero(n)

    lower, upper, gamma = quantile_ranks(n[filled], q)
    ranks = np.stack([lower, upper])  # (2, groups with values, quantiles)
    group_of_rank = np.broadcast_to(filled[None, :, None], ranks.shape)
    below, above = _select(cells, columns, groups, group_of_rank.ravel(), ranks.ravel()).reshape(ranks.shape)
    result[filled] = interpolated(below, above, gamma)
    return result


def quantile_ranks(n: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's "linear" quantiles of groups of `n` values (n ≥ 1) at fractions `q`: the ranks below and above each
    (int64, shape (groups, fractions)) and the weight of the one above, from the virtual index (n - 1)·q."""
    last = (np.asarray(n) - 1)[:, None].astype(np.float64)
    virtual = last * q
    lower = np.floor(virtual)
    gamma = virtual - lower
    at_end = virtual >= last
    upper = np.where(at_end, last, lower + 1)
    lower = np.where(at_end, last, lower)
    return lower.astype(np.int64), upper.astype(np.int64), gamma


def interpolated(below: np.ndarray, above: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """numpy's interpolation between the values at the ranks of `quantile_ranks`, operation for operation."""
    difference = above - below
    return np.where(gamma >= 0.5, above - difference * (1 - gamma), below + difference * gamma)


def _first_layout(columns: tuple[np.ndarray, ...]) -> tuple[float, float, np.ndarray | None, bool]:
    """Range, cell table and tie tracking of the first counting pass, from a sample of every k-th value.

    The range is about the 0.1th to 99.9th percentiles (values outside go to the first or last
    cell, so a few extreme values do not squeeze all the others into one cell). When the sample
    crowds into a few equal-width cells (skewed values: prices, counts), `_FINE` equal slices of the
    range are merged into `_CELLS` cells holding about equal shares of it. Only speed depends on
    the sample: the result is exact whatever it is. Falls back to [min, max] when the bulk is one
    value. Where the sample repeats values (integer targets), cells track their smallest and
    largest values, so that a cell of equal values is known without a second look.
    """
    sample = np.concatenate([column[:: max(1, len(column) // _SAMPLE)] for column in columns])
    tied = 2 * len(np.unique(sample)) < len(sample)
    low, high = (float(bound) for bound in np.quantile(sample, [0.001, 0.999]))
    if high <= low:
        return (min(float(column.min()) for column in columns if len(column)),
                max(float(column.max()) for column in columns if len(column)), None, tied)

    def shares(slices: int) -> np.ndarray:
        position = np.subtract(sample, low)
        position *= slices / (high - low)
        np.clip(position, 0, slices - 1, out=position)
        return np.bincount(position.astype(np.intp), minlength=slices)

    if shares(_CELLS).max() <= _CROWDED * len(sample) / _CELLS:
        return low, high, None, tied
    share = shares(_FINE)
    before = np.cumsum(share) - share
    return low, high, (before * _CELLS // len(sample)).astype(np.intp), tied  # table: non-decreasing


@dataclass(frozen=True)
class _Cells:
    """Values of each group counted in `_CELLS` cells over a range (the first and last cells also
    take the values below and above it): equal-width cells, or equal-width slices merged by `table`.

    A value's cell never decreases as the value grows, so a group's cells are in value order: the
    cell holding a given rank follows from the cumulative counts, and the rank's value is among
    that cell's values only. With `tied`, each cell's smallest and largest values are kept too.
    """

    low: np.ndarray | float
    scale: np.ndarray | float
    table: np.ndarray | None
    n_groups: int
    counts: np.ndarray
    smallest: np.ndarray | None
    largest: np.ndarray | None

    @classmethod
    def count(
        cls,
        columns: tuple[np.ndarray, ...],
        groups: tuple[np.ndarray | None, ...],
        n_groups: int,
        low: np.ndarray | float,
        high: np.ndarray | float,
        table: np.ndarray | None = None,
        tied: bool = False,
    ) -> _Cells:
        """One pass over the values, cut at [low, high] (one range for all groups, or one per group).

        `table`, if given, maps each of its length's equal-width slices of the range to a cell.
        """
        span = np.subtract(high, low, dtype=np.float64)
        slices = _CELLS if table is None else len(table)
        scale = np.divide(slices, span, out=np.zeros_like(span), where=span > 0)
        size = n_groups * _CELLS
        counts = np.zeros(size, np.int64)
        smallest, largest = (np.full(size, np.inf), np.full(size, -np.inf)) if tied else (None, None)
        cells = cls(low, scale, table, n_groups, counts, smallest, largest)
        for column, group in zip(columns, groups, strict=True):
            for block in _blocks(len(column)):
                cell = cells.cell(column, group, block)
                counts += np.bincount(cell, minlength=size)
                if tied:
                    np.minimum.at(smallest, cell, column[block])
                    np.maximum.at(largest, cell, column[block])
        return cells

    @property
    def n(self) -> np.ndarray:
        """Values per group."""
        return self.counts.reshape(self.n_groups, _CELLS).sum(axis=1)

    def cell(self, column: np.ndarray, group: np.ndarray | None, block: slice) -> np.ndarray:
        """Cell of each value of `column[block]`, numbered group by group."""
        at = None if group is None else group[block]
        low = self.low if np.ndim(self.low) == 0 else np.take(self.low, at)
        scale = self.scale if np.ndim(self.scale) == 0 else np.take(self.scale, at)
        position = np.subtract(column[block], low)
        position *= scale
        np.clip(position, 0, (_CELLS if self.table is None else len(self.table)) - 1, out=position)
        cell = position.astype(np.intp)
        if self.table is not None:
            np.take(self.table, cell, out=cell)
        if at is not None:
            cell += np.multiply(at, _CELLS, dtype=np.intp)
        return cell

    def locate(self, group: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell holding the value of each rank of its group, and the rank within that cell."""
        counts = self.counts.reshape(self.n_groups, _CELLS)
        # Offset each group's cumulative counts past the previous group's, so one search serves all.
        offset = np.arange(self.n_groups, dtype=np.int64)[:, None] * (int(self.counts.sum()) + 1)
        cumulative = (np.cumsum(counts, axis=1) + offset).ravel()
        cell = np.searchsorted(cumulative, rank + offset[group, 0], side="right")
        return cell, rank - (cumulative[cell] - offset[group, 0] - self.counts[cell])


def _select(
    cells: _Cells,
    columns: tuple[np.ndarray, ...],
    groups: tuple[np.ndarray | None, ...],
    group: np.ndarray,
    rank: np.ndarray,
    depth: int = 0,
) -> np.ndarray:
    """Value of each (group, rank) of the values counted in `cells`; rank 0 is a group's smallest.

    One more pass keeps the values of the cells holding a wanted rank. A cell whose kept values
    are all equal (ties) answers at once; the others, if still many, are counted again in finer
    cells over each one's own range, until few remain; those are partitioned.
    """
    cell, within = cells.locate(group, rank)
    if cells.smallest is not None and cells.largest is not None:  # ranks in cells of equal values
        settled = cells.smallest[cell] == cells.largest[cell]
        if settled.any():
            value = cells.smallest[cell]
            rest = np.flatnonzero(~settled)
            if len(rest):
                value[rest] = _select(replace(cells, smallest=None, largest=None), columns, groups,
                                      group[rest], rank[rest], depth)
            return value
    wanted = np.unique(cell)
    slot = np.full(len(cells.counts), -1, dtype=np.intp)  # which wanted cell: 0, 1, …, or -1
    slot[wanted] = np.arange(len(wanted))
    kept_values, kept_parts = [], []
    for column, of_group in zip(columns, groups, strict=True):
        for block in _blocks(len(column)):
            part = np.take(slot, cells.cell(column, of_group, block))
            keep = part >= 0
            kept_values.append(column[block][keep])
            kept_parts.append(part[keep])
    values, part, target = np.concatenate(kept_values), np.concatenate(kept_parts), slot[cell]
    smallest, largest = np.full(len(wanted), np.inf), np.full(len(wanted), -np.inf)
    np.minimum.at(smallest, part, values)
    np.maximum.at(largest, part, values)
    value = smallest[target]
    open_ = np.flatnonzero(smallest[target] < largest[target])
    if len(open_) == 0:
        return value
    spread = smallest < largest
    if not spread.all():  # drop the values of the cells already answered
        values, part = values[spread[part]], (np.cumsum(spread) - 1)[part[spread[part]]]
        target, smallest, largest = (np.cumsum(spread) - 1)[target], smallest[spread], largest[spread]
    if len(values) > _FEW and depth < _MAX_DEPTH:
        finer = _Cells.count((values,), (part,), len(smallest), smallest, largest)
        value[open_] = _select(finer, (values,), (part,), target[open_], within[open_], depth + 1)
        return value
    values = values[np.argsort(part, kind="stable")]
    stops = np.cumsum(np.bincount(part, minlength=len(smallest)))
    for w in np.unique(target[open_]):  # a few small slices: one partition each
        segment = values[stops[w - 1] if w else 0 : stops[w]]
        mine = open_[target[open_] == w]
        segment.partition(np.unique(within[mine]))
        value[mine] = segment[within[mine]]
    return value


def _blocks(n_rows: int) -> list[slice]:
    """Slices of `_BLOCK` rows: per-row temporaries of one block stay in cache (as `np.histogram` does)."""
    return [slice(start, start + _BLOCK) for start in range(0, n_rows, _BLOCK)]


def _decimals(span: float) -> int:
    """Decimals that keep about four significant digits of a range `span` wide (negative: tens, hundreds…)."""
    if not np.isfinite(span) or span <= 0:
        return 4
    return int(min(4 - np.floor(np.log10(span)), 15))
