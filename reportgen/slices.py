"""Slice specs → integer group codes per row, one code array per slice family."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reportgen.config import SliceSpec
from reportgen.errors import ConfigError, InputError, counted, plain_list, shown
from reportgen.expression import ExpressionError, evaluate, parse
from reportgen.io import ColumnCodes, ValueCodes
from reportgen.labels import cap_label, distinct
from reportgen.vocabulary import OVERALL
from reportgen.windows import TooManyWindows, parse_times, parse_window, window_codes

MISSING = "(missing)"
OTHER = "(other)"


@dataclass(frozen=True)
class SliceFamily:
    """The groups of one slice definition.

    Attributes
    ----------
    name : str
        The family's name, e.g. "sex" or "sex × race".
    kind : str
        "values", "bins", "quantiles", "windows" (of time, in time order), "intersection" or "query".
    columns : list of str
        The data columns it is defined on (empty for a query).
    labels : list of str
        One label per group, in display order.
    codes : ndarray of int32
        One group code per row, in [0, len(labels)); -1 where a row is in no group.
    notes : list of str
        What the reader should know about how the groups were formed (caps, collapsed bins).
    pooled : int
        Values beyond `max_groups` pooled into the last group, "(other)"; 0 when nothing was pooled.
    sizes : ndarray of int64 or None
        Of a family with pooled values formed by an engine that keeps no codes: rows per distinct value (or
        combination), pooled values counted one by one; None otherwise.
    """

    name: str
    kind: str
    columns: list[str]
    labels: list[str]
    codes: np.ndarray
    notes: list[str] = field(default_factory=list)
    pooled: int = 0
    sizes: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.labels)

    @property
    def n_listed(self) -> int:
        """Groups of one value (or combination, or bin) each: all but a pool of values beyond `max_groups`."""
        return self.n_groups - (1 if self.pooled else 0)

    @property
    def n_distinct(self) -> int:
        """Groups in the data: those listed, and each pooled value."""
        return self.n_listed + self.pooled


@dataclass(frozen=True)
class ShownGroups:
    """How the card shows a family with more groups than it may show: the largest, then the rest as one.

    Attributes
    ----------
    groups : list of int
        The groups shown, as indices into the family's labels, largest first (ties in the family's order);
        a pool of values beyond `max_groups` is never among them.
    other : SliceFamily
        One group, "(other)", of the same name: the rows of every group not shown (pool included),
        to be measured like any family.
    merged : int
        How many groups "(other)" holds, each pooled value counted as one group.
    """

    groups: list[int]
    other: SliceFamily
    merged: int


def shown_groups(family: SliceFamily, max_shown: int, counts: np.ndarray | None = None) -> ShownGroups | None:
    """The groups the card shows of a family of more than `max_shown` groups; None when it shows them all.

    The largest groups, largest first; of time windows, the latest, in time order. The rest form "(other)".
    `counts`, the rows per group, are counted from the family's codes unless given (an SQL engine's families
    have no codes); "(other)" then has no codes either.

    Examples
    --------
    >>> family = SliceFamily("id", "values", ["id"], ["a", "b", "c"], np.array([0, 1, 1, 2, 2, 2], dtype=np.int32))
    >>> shown = shown_groups(family, 2)
    >>> shown.groups, shown.other.labels, shown.other.codes.tolist(), shown.merged
    ([2, 1], ['(other)'], [0, -1, -1, -1, -1, -1], 1)
    """
    if family.n_groups <= max_shown:
        return None
    if family.kind == "windows":  # time order kept: the latest windows (and missing times, last)
        groups = np.arange(family.n_groups)[-max_shown:]
    else:
        if counts is None:
            counts = np.bincount(family.codes[family.codes >= 0], minlength=family.n_groups)
        groups = np.argsort(-counts[: family.n_listed], kind="stable")[:max_shown]
    in_other = (family.codes >= 0) & ~np.isin(family.codes, groups)
    other = SliceFamily(family.name, family.kind, family.columns, [OTHER], np.where(in_other, 0, -1).astype(np.int32))
    return ShownGroups(groups.tolist(), other, family.n_distinct - len(groups))


def overall_family(n_rows: int) -> SliceFamily:
    """The family of one group, "overall", holding all `n_rows` rows."""
    return SliceFamily(OVERALL, OVERALL, [], [OVERALL], np.zeros(n_rows, dtype=np.int32))


def build_slices(
    frame: pd.DataFrame, specs: list[SliceSpec], *, source: str, codes: ColumnCodes | None = None
) -> list[SliceFamily]:
    """Turn slice specs into slice families over the rows of `frame`.

    Parameters
    ----------
    frame : DataFrame
        The predictions with their metadata columns.
    specs : list of SliceSpec
        Validated slice definitions.
    source : str
        The data's name, for error messages.
    codes : ColumnCodes, optional
        The frame's columns as codes, shared with the evaluation's other analyses (`Predictions.codes`);
        by default factorized here.

    Raises
    ------
    InputError
        If a slice names a missing column or bins do not cover the data.
    ConfigError
        If a `where` query is not a valid condition on the columns.
    """
    value_codes = _ValueCodes(codes if codes is not None else ColumnCodes(frame))
    return [_build(frame, spec, index, source, value_codes) for index, spec in enumerate(specs)]


class _ValueCodes:
    """`_value_codes` of a frame's columns, each computed once (families often share a column)."""

    def __init__(self, codes: ColumnCodes) -> None:
        self._codes = codes
        self._done: dict[str, tuple[np.ndarray, list[str]]] = {}

    def __call__(self, column: str) -> tuple[np.ndarray, list[str]]:
        if column not in self._done:
            self._done[column] = _value_codes(self._codes(column), self._codes.frame[column])
        codes, labels = self._done[column]
        return codes, list(labels)


def _build(
    frame: pd.DataFrame, spec: SliceSpec, index: int, source: str, value_codes: _ValueCodes
) -> SliceFamily:
    key = f"[[slices]] #{index + 1}"
    if spec.where is not None:
        return _query_family(frame, spec, key)
    columns = [spec.column] if spec.column is not None else list(spec.columns or [])
    for column in columns:
        if column not in frame.columns:
            raise InputError(
                f'{source}: no column "{column}" ({key}); columns are: {plain_list(frame.columns, limit=12)}'
            )
    if spec.columns is not None:
        return _intersection_family(frame, spec, value_codes)
    if spec.bins is not None or spec.quantiles is not None:
        return _binned_family(frame[spec.column], spec, key, source)
    if spec.window is not None:
        return _window_family(frame[spec.column], spec, key, source)
    codes, labels = value_codes(spec.column)
    codes, labels, notes, pooled = _cap(codes, labels, spec.max_groups)
    return SliceFamily(spec.title, "values", columns, distinct(labels), codes, notes, pooled)


def _value_codes(found: ValueCodes, values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes for each distinct value, sorted, with missing values as a last "(missing)" group (`found`: the
    codes of `values` in order of appearance)."""
    try:  # sorting the distinct values sorts the column's codes (as `pd.factorize(values, sort=True)` does)
        rank, uniques = pd.factorize(found.present_values, sort=True)
    except TypeError:  # mixed types that do not sort: order by text instead
        codes, uniques = pd.factorize(values.astype("string"), sort=True, use_na_sentinel=True)
    else:
        codes = np.append(rank, -1)[found.present_codes]  # -1 (missing) takes the last entry
    labels = [group_label(v) for v in uniques]
    codes = codes.astype(np.int32)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(labels)
        labels.append(MISSING)
    return codes, labels


def group_label(value: object) -> str:
    """How a column value names its group: as text, with whole floats written as integers, cut to
    `MAX_LABEL_CHARS` (`reportgen.labels`) so that no longer string goes further."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return cap_label(str(value))


def _cap(
    codes: np.ndarray, labels: list[str], max_groups: int
) -> tuple[np.ndarray, list[str], list[str], int]:
    """Keep the `max_groups - 1` largest groups and pool the rest into "(other)"; also returns how many
    values were pooled."""
    if len(labels) <= max_groups:
        return codes, labels, [], 0
    remap, capped_labels, notes, pooled = cap_groups(np.bincount(codes[codes >= 0], minlength=len(labels)), labels,
                                                     max_groups)
    new_codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(np.int32)
    return new_codes, capped_labels, notes, pooled


def cap_groups(counts: np.ndarray, labels: list[str], max_groups: int) -> tuple[np.ndarray, list[str], list[str], int]:
    """Of groups with these row `counts`, the `max_groups - 1` largest kept (in their order) and the rest pooled
    as "(other)": each old group's new code, the new labels, a note and how many values were pooled.
    Groups are left as they are when there are at most `max_groups`."""
    if len(labels) <= max_groups:
        return np.arange(len(labels), dtype=np.int32), labels, [], 0
    keep = np.sort(np.argsort(-counts, kind="stable")[: max_groups - 1])
    remap = np.full(len(labels), len(keep), dtype=np.int32)
    remap[keep] = np.arange(len(keep), dtype=np.int32)
    note = (
        f"{len(labels)} distinct values: the {len(keep)} largest groups are measured one by one and the other "
        f"{len(labels) - len(keep)} values ({int(counts.sum() - counts[keep].sum())} rows) are pooled as \"{OTHER}\"."
    )
    return remap, [labels[i] for i in keep] + [OTHER], [note], len(labels) - len(keep)


def _binned_family(values: pd.Series, spec: SliceSpec, key: str, source: str) -> SliceFamily:
    numbers = pd.to_numeric(values, errors="coerce")
    not_numeric = numbers.isna() & values.notna()
    if not_numeric.any():
        raise InputError(
            f'{source}: column "{shown(spec.column)}" ({key} bins): {counted(int(not_numeric.sum()), "non-numeric value")}, '
            f'e.g. "{shown(values[not_numeric].iloc[0])}"; use a plain "column" slice for categories'
        )
    x = numbers.to_numpy(dtype=np.float64)
    present = ~np.isnan(x)
    notes: list[str] = []
    if spec.quantiles is not None:
        if not present.any():
            raise InputError(f'{source}: column "{shown(spec.column)}" ({key}): no numbers to form quantiles from')
        numbers = x[present]
        # with infinities, interpolating between two of them is undefined: take data values as edges instead
        method = "linear" if np.isfinite(numbers).all() else "inverted_cdf"
        edges = quantile_edges(np.quantile(numbers, np.linspace(0, 1, spec.quantiles + 1), method=method))
        notes += quantile_notes(spec.quantiles, edges)
        kind = "quantiles"
    else:
        edges = np.asarray(spec.bins, dtype=np.float64)
        kind = "bins"
        outside = present & ((x < edges[0]) | (x > edges[-1]))
        if outside.any():
            raise bins_outside(f'{source}: column "{shown(spec.column)}" ({key} bins)', int(outside.sum()), edges,
                               np.nanmin(x), np.nanmax(x))
    n_bins = max(len(edges) - 1, 1)
    codes = _bin_codes(x, edges, n_bins)
    labels = bin_labels(edges)
    if not present.all():
        codes[~present] = len(labels)
        labels.append(MISSING)
    return SliceFamily(spec.title, kind, [str(spec.column)], labels, codes, notes)


def bins_outside(where: str, outside: int, edges: np.ndarray, low: float, high: float) -> InputError:
    """The error for `outside` values of a binned column beyond its bins' `edges` (the data ranging low to high)."""
    return InputError(f"{where}: {counted(outside, 'value')} outside [{_edge(edges[0])}, {_edge(edges[-1])}] (data min "
                      f"{_edge(low)}, max {_edge(high)}); widen the bins (TOML accepts -inf and inf)")


def quantile_edges(edges: np.ndarray) -> np.ndarray:
    """The distinct quantiles as bin edges (two equal edges where every value is one)."""
    edges = np.unique(edges)
    return np.array([edges[0], edges[0]]) if len(edges) < 2 else edges


def quantile_notes(asked: int, edges: np.ndarray) -> list[str]:
    """What the reader should know when tied values leave fewer quantile bins than asked for."""
    if len(edges) - 1 < asked:
        return [f"{asked} quantile bins were asked for; tied values leave {len(edges) - 1} distinct bins."]
    return []


def bin_labels(edges: np.ndarray) -> list[str]:
    """"[lo, hi)" of each bin between `edges`, the last one closed; one "[x, x]" bin for two equal edges."""
    n_bins = max(len(edges) - 1, 1)
    return [
        f"[{_edge(lo)}, {_edge(hi)}{']' if i == n_bins - 1 else ')'}"
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True))
    ] or [f"[{_edge(edges[0])}, {_edge(edges[0])}]"]


def _bin_codes(x: np.ndarray, edges: np.ndarray, n_bins: int) -> np.ndarray:
    """Each number's bin, ``clip(searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)`` as int32: a bin holds
    its lower edge, the last bin also its upper one. NaN gets some bin: the caller gives missing values their own.

    With few bins, the inner edges at or below each value are counted, one comparison per edge over all
    rows, several times faster than a binary search per row.
    """
    inner = edges[1:n_bins]
    if len(inner) > _COUNT_MAX_EDGES:
        return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1).astype(np.int32)
    codes = np.zeros(len(x), dtype=np.int32)
    at_or_above = np.empty(len(x), dtype=bool)
    for edge in inner:
        np.greater_equal(x, edge, out=at_or_above)
        codes += at_or_above
    return codes


# Up to this many inner edges, `_bin_codes` compares with each edge instead of searching.
_COUNT_MAX_EDGES = 16


def _window_family(values: pd.Series, spec: SliceSpec, key: str, source: str) -> SliceFamily:
    """One group per time window (`reportgen.windows`), every window from the first to the last, in time order;
    missing times last, as "(missing)"."""
    where = f'column "{shown(spec.column)}" ({key} window "{shown(spec.window)}")'
    times = parse_times(values, f"{source}: {where}")
    try:
        codes, labels = window_codes(times, parse_window(str(spec.window)), spec.max_groups)
    except TooManyWindows as exc:
        raise InputError(f"{source}: {where}: {exc}, more than max_groups = {spec.max_groups}; use a longer window "
                         "or raise max_groups") from None
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(MISSING)
    return SliceFamily(spec.title, "windows", [str(spec.column)], labels, codes)


def _edge(value: float) -> str:
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    return format(float(value), ".4g")


def _intersection_family(frame: pd.DataFrame, spec: SliceSpec, value_codes: _ValueCodes) -> SliceFamily:
    columns = list(spec.columns or [])
    codes, labels = value_codes(columns[0])
    for column in columns[1:]:
        more_codes, more_labels = value_codes(column)
        # keep only observed combinations after each column, so codes never outgrow the row count
        size = len(labels) * len(more_labels)
        observed, codes = observed_codes(codes.astype(np.int64) * len(more_labels) + more_codes, size)
        labels = [cap_label(f"{labels[k // len(more_labels)]} & {more_labels[k % len(more_labels)]}")
                  for k in observed.tolist()]
    codes, labels, notes, pooled = _cap(codes.astype(np.int32), labels, spec.max_groups)
    return SliceFamily(spec.title, "intersection", columns, distinct(labels), codes, notes, pooled)


def observed_codes(combined: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(combined, return_inverse=True)` for values in [0, size), by counting when size is small: the
    values that occur, ascending, and for each row its value's position among them."""
    if size > max(2 * len(combined), 1 << 16):
        return np.unique(combined, return_inverse=True)
    present = np.bincount(combined, minlength=size) > 0
    position = np.cumsum(present) - 1
    return np.flatnonzero(present), position[combined]



def _query_family(frame: pd.DataFrame, spec: SliceSpec, key: str) -> SliceFamily:
    expression = str(spec.where)
    try:
        selected = evaluate(parse(expression), frame)
    except ExpressionError as exc:
        raise ConfigError(f'{key} where "{shown(expression)}": {exc}') from None
    codes = np.where(selected, 0, -1).astype(np.int32)
    notes = [] if selected.any() else [f'No row matches "{expression}".']
    return SliceFamily(spec.title, "query", [], [expression], codes, notes)
