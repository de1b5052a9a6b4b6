"""The reference rows a deployed model's data is compared with (`[monitoring] reference`): read and checked once.

The reference holds the rows the model was validated on, with the columns of the predictions; its labels are
optional. Its columns must be the predictions' (extra ones are ignored) and of the same kind (numbers, text,
dates); with its labels it is checked as predictions are, for the reference's own performance.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reportgen.config import Config
from reportgen.errors import InputError, quoted_list, shown
from reportgen.io import Predictions, check_predictions, file_fingerprint, frame_fingerprint, read_table
from reportgen.windows import parse_times


@dataclass(frozen=True)
class Reference:
    """Checked reference rows.

    Attributes
    ----------
    frame : DataFrame
        The reference's columns that the predictions have, in the predictions' order.
    source : str
        The file as the user wrote it, or "reference data frame".
    fingerprint : str
        "sha256:<hex>" of the file's bytes, or of the frame's contents.
    predictions : Predictions or None
        The reference's labels and model outputs, checked as `[data]`'s; None when the reference has no
        label column (its performance is then not known).
    times : Series or None
        `[monitoring] time` read as datetimes, where the reference has that column.
    """

    frame: pd.DataFrame
    source: str
    fingerprint: str
    predictions: Predictions | None
    times: pd.Series | None


def load_reference(path: Path, current: Predictions, config: Config, *, source: str) -> Reference:
    """Read the reference file and check it against the predictions (see `check_reference`)."""
    return check_reference(read_table(path, source), current, config, source=source, fingerprint=file_fingerprint(path))


def check_reference(
    frame: pd.DataFrame, current: Predictions, config: Config, *, source: str, fingerprint: str | None = None
) -> Reference:
    """Check reference rows against the predictions they are compared with.

    Parameters
    ----------
    frame : DataFrame
        The reference rows.
    current : Predictions
        The checked predictions.
    config : Config
        The validated config: `[data]` names the label and outputs, `[monitoring]` the columns and time.
    source : str
        Names the reference in messages.
    fingerprint : str, optional
        Of the file the frame was read from; by default, of the frame's contents.

    Raises
    ------
    InputError
        If the reference has no rows, lacks columns the comparison needs (listed), holds a column of
        another kind than the predictions' (listed), has times that are not dates, or (with its label
        column) fails the checks the predictions' label and outputs get.
    """
    if len(frame) == 0:
        raise InputError(f"{source}: no rows; the reference is empty")
    monitoring, label = config.monitoring, config.data.label
    needed = list(monitoring.columns) if monitoring.columns is not None else [
        str(column) for column in current.frame.columns if column not in (label, monitoring.time)
    ]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise InputError(
            f"{source}: no column {quoted_list(missing)}, which the predictions have; add "
            f"{'it' if len(missing) == 1 else 'them'} to the reference, or list the columns to compare in "
            "[monitoring] columns"
        )
    unknown = [column for column in needed if column not in current.frame.columns]
    if unknown:
        raise InputError(f"{current.source}: no column {quoted_list(unknown)} ([monitoring] columns); columns are: "
                         f"{quoted_list(current.frame.columns, limit=12)}")
    other_kind = [f'"{shown(column)}" ({_kind(frame[column])} here, {_kind(current.frame[column])} in '
                  f"{shown(current.source)})"
                  for column in needed
                  if _kind(frame[column]) != _kind(current.frame[column])
                  and frame[column].notna().any() and current.frame[column].notna().any()]  # empty: any kind
    if other_kind:
        raise InputError(f"{source}: columns of another kind than in the predictions: {', '.join(other_kind[:5])}"
                         f"{f' … and {len(other_kind) - 5} more' if len(other_kind) > 5 else ''}; "
                         "write each column the same way in both files")
    kept = [column for column in current.frame.columns if column in frame.columns]
    times = None
    if monitoring.time is not None and monitoring.time in frame.columns:
        times = parse_times(frame[monitoring.time], f'{source}: column "{shown(monitoring.time)}" ([monitoring] time)')
    predictions = None
    if label in frame.columns:
        predictions = check_predictions(frame, config.data, task=current.task, source=source, fingerprint=fingerprint)
    return Reference(frame=frame[kept], source=source, fingerprint=fingerprint or frame_fingerprint(frame),
                     predictions=predictions, times=times)


def _kind(values: pd.Series) -> str:
    """ "numbers", "true/false", "dates" or "text": what a column holds, as drift tests tell them apart."""
    if pd.api.types.is_bool_dtype(values):
        return "true/false"
    if pd.api.types.is_numeric_dtype(values):
        return "numbers"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "dates"
    return "text"
