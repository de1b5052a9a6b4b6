"""What monitoring over time counts, where the data lies: each row's time window as SQL, the current rows per window
and bin of each drift test, and a classifier's per-row errors in time order for the change detectors.

Windows are those `reportgen.windows.window_codes` forms in memory (`window_bounds` gives their starts); a row
without a time is in none (code -1). The analysis (`reportgen.analysis.monitoring`) reads these counts as it reads
the numpy engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection
from reportgen.engines.families import NO_CODES, Coded, time_range, window_of
from reportgen.engines.scan import statistics
from reportgen.errors import InputError, quoted_list, shown
from reportgen.metrics import tasks
from reportgen.metrics.tasks import Statistics
from reportgen.slices import SliceFamily
from reportgen.windows import TooManyWindows, default_window, parse_window, window_bounds

ERROR_BATCH = 1 << 22  # per-row errors fetched at once for the change detectors (one byte each)


@dataclass(frozen=True)
class TimeWindows:
    """The current rows' time windows: `coded` gives each row's window as SQL (-1 without a time), its family's
    labels the windows in time order; `alias` the window used (given, or chosen from the time span); `missing` the
    rows without a time."""

    coded: Coded
    alias: str
    missing: int

    @property
    def labels(self) -> list[str]:
        return self.coded.family.labels


def time_windows(connection: Connection, column: str, alias: str | None, max_windows: int, source: str) -> TimeWindows:
    """The windows of `[monitoring] time` (`column`) over the connection's relation, as the numpy engine forms them.

    Raises
    ------
    InputError
        If the column is missing, holds no dates or naive timestamps or no time at all, or makes more than
        `max_windows` windows.
    """
    types = connection.column_types()
    if column not in types:
        raise InputError(f'{source}: no column "{shown(column)}" ([monitoring] time); columns are: '
                         f"{quoted_list(list(types), limit=12)}")
    where = f'{source}: column "{shown(column)}" ([monitoring] time)'
    first, last, missing = time_range(connection, column, types[column], where)
    if first is None:
        raise InputError(f"{where}: no times (every value is missing)")
    alias = alias or default_window(first, last)
    try:
        starts, labels = window_bounds(first, last, parse_window(alias), max_windows)
    except TooManyWindows as exc:
        raise InputError(f'{where}: window "{shown(alias)}" makes {exc}, more than [monitoring] max_windows = '
                         f"{max_windows}; use a longer window") from None
    quoted = connection.dialect.quote(column)
    counted, params = window_of(quoted, starts)
    coded = Coded(SliceFamily("time", "windows", [column], labels, NO_CODES),
                  f"CASE WHEN {quoted} IS NULL THEN -1 ELSE {counted} END", params)
    return TimeWindows(coded, alias, missing)


def cells(group: Coded, windows: TimeWindows) -> Coded:
    """The cells group × window of a slice family (group-major: group g, window w is g × windows + w)."""
    n = len(windows.labels)
    family = group.family
    labels = [f"{label} · {w}" for label in family.labels for w in range(n)]
    code = (f"CASE WHEN ({group.code}) >= 0 AND ({windows.coded.code}) >= 0 "
            f"THEN ({group.code}) * {n} + ({windows.coded.code}) ELSE -1 END")
    return Coded(SliceFamily(family.name, family.kind, family.columns, labels, NO_CODES), code,
                 [*group.params, *windows.coded.params, *group.params, *windows.coded.params])


@dataclass(frozen=True)
class SqlWindows:
    """The sufficient statistics by time window (`reportgen.analysis.over_time.WindowStatistics`) counted by the
    engine: `coded` are the measured slice families with their SQL (`Scanned.coded`), `engine` the task's metrics
    and calibration bins (`Measured.engine`)."""

    connection: Connection
    outputs: Outputs
    coded: Sequence[Coded]
    windows: TimeWindows
    task: str
    engine: tasks.Engine

    def by_window(self) -> Statistics:
        return statistics(self.task, self.connection, self.outputs, [self.windows.coded], self.engine)[0]

    def by_groups(self, indices: Sequence[int]) -> list[Statistics]:
        if not indices:
            return []
        return statistics(self.task, self.connection, self.outputs,
                          [cells(self.coded[index], self.windows) for index in indices], self.engine)


def time_ordered_errors(connection: Connection, outputs: Outputs, time: str, windows: TimeWindows
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A classifier's per-row errors (1: wrong) in time order, rows without a time left out, and the rows per
    window. Rows of one time come in the order of a hash of their values: an SQL engine knows no file order, so
    where many rows share a time the stream can differ from the numpy engine's (which keeps the file's order)."""
    quote = connection.dialect.quote
    quoted = quote(time)
    every = ", ".join(quote(c) for c in connection.column_types())
    wrong = f"CASE WHEN ({outputs.y_true}) <> ({outputs.y_pred}) THEN 1 ELSE 0 END"
    parts = [np.zeros(0, dtype=np.int8)]
    for batch in connection.batches(
            f"SELECT {wrong} AS e FROM {connection.relation} WHERE {quoted} IS NOT NULL "
            f"ORDER BY {quoted}, {connection.dialect.hash}({every})",
            [*outputs.y_true_params, *outputs.y_pred_params], rows=ERROR_BATCH):
        parts.append(batch["e"].astype(np.int8))
    return np.concatenate(parts), rows_by_window(connection, connection.relation, windows)


def rows_by_window(connection: Connection, relation: str, windows: TimeWindows) -> np.ndarray:
    """The rows of `relation` in each window."""
    found = connection.frame(f"SELECT w, COUNT(*) AS n FROM (SELECT {windows.coded.code} AS w FROM {relation}) "
                             "AS windowed WHERE w >= 0 GROUP BY w", windows.coded.params)
    sizes = np.zeros(len(windows.labels), dtype=np.int64)
    sizes[found["w"].to_numpy(dtype=np.intp)] = found["n"].to_numpy(dtype=np.int64)
    return sizes

