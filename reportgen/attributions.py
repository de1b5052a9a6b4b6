"""Precomputed attributions (`[explanations] path`): each row's contribution of each feature to its prediction, as
computed by any library (SHAP values, most often), read from a file and matched to the predictions' rows.

The file holds one column per feature (`[model] features`, else every column but the id) and, with `[explanations]
id`, the id column the predictions share; without it, one row per prediction in the same order. Attributions are
often computed on a sample of rows: predictions without a row in the file are allowed and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen import io
from reportgen.baseline import match_ids
from reportgen.errors import InputError, counted_rows, quoted_list, shown
from reportgen.io import Predictions


@dataclass(frozen=True)
class Attributions:
    """Attributions matched to the predictions.

    Attributes
    ----------
    source : str
        The file, as the config names it.
    features : list of str
        The attributed features, in the file's order of `[model] features`.
    values : ndarray
        The predictions' rows × `features`; NaN where a prediction has no row in the file.
    join : str
        How rows were matched: 'on column "id"' or "by row order".
    unmatched : int
        Rows of the file that match no prediction (left out).
    """

    source: str
    features: list[str]
    values: np.ndarray
    join: str
    unmatched: int

    @property
    def rows(self) -> np.ndarray:
        """Which predictions have attributions."""
        return ~np.isnan(self.values).all(axis=1)


def load_attributions(path: Path, source: str, predictions: Predictions, features: list[str] | None,
                      id_column: str | None) -> Attributions:
    """Read the attributions file at `path` and match its rows to `predictions` (see the module docstring).

    Raises
    ------
    InputError
        If the file is unreadable, lacks a feature or the id column, holds anything but finite numbers in a
        feature's column, has missing or repeated ids, matches no prediction, or (without an id) has another number
        of rows than the predictions.
    """
    frame = io.read_table(path, source)
    return match_attributions(frame, source, predictions, features, id_column)


def match_attributions(frame: pd.DataFrame, source: str, predictions: Predictions, features: list[str] | None,
                       id_column: str | None) -> Attributions:
    """As `load_attributions`, for attributions already read into `frame`."""
    columns = list(features) if features else [str(c) for c in frame.columns if c != id_column]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: no column {quoted_list(missing)} ([model] features: one attribution column "
                         f"per feature); columns are: {quoted_list(frame.columns, limit=12)}")
    if not columns:
        raise InputError(f"{source}: no attribution column besides the id; give one column per feature")
    values = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        values[:, j] = _finite(frame[column], column, source)
    n = len(predictions.frame)
    if id_column is None:
        if len(frame) != n:
            raise InputError(f"{source}: {len(frame):,} rows, the predictions {n:,}; set [explanations] id "
                             "to the id column both files hold to match rows")
        return Attributions(source, columns, values, "by row order", 0)
    where = f'{source}: [explanations] id "{shown(id_column)}"'
    order, _ = match_ids(predictions.frame, frame, id_column, (predictions.source, source), where)
    found = order >= 0
    if not found.any():
        raise InputError(f"{where}: no id matches a prediction's; the ids must name the predictions' rows")
    matched = np.full((n, len(columns)), np.nan)
    matched[found] = values[order[found]]
    return Attributions(source, columns, matched, f'on column "{shown(id_column)}"', len(frame) - int(found.sum()))


def _finite(values: pd.Series, column: str, source: str) -> np.ndarray:
    """A feature's attributions as floats, checked to be finite numbers."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InputError(f'{source}: column "{shown(column)}" holds {values.dtype} values; attributions are numbers')
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise InputError(f'{source}: column "{shown(column)}" has {counted_rows(bad, "missing or infinite value")}; '
                         "every attribution must be a number")
    return numbers
