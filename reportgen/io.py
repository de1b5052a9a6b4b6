"""Reading predictions: the file formats, and every column check, done once here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.config import DataSection
from reportgen.errors import InputError, counted, plain_list, quoted_list

READERS = {
    ".csv": lambda p: pd.read_csv(p),
    ".parquet": lambda p: pd.read_parquet(p),
    ".jsonl": lambda p: pd.read_json(p, lines=True, precise_float=True),  # else 0.3 reads as 0.30000000000000004
}


@dataclass(frozen=True)
class Predictions:
    """Checked binary-classification predictions, one entry per row.

    Attributes
    ----------
    frame : DataFrame
        Every column of the input, for slicing.
    y_true, y_pred : ndarray of int8
        Labels and predicted labels, 1 for the positive class.
    scores : ndarray of float64
        Probability of the positive class, finite and in [0, 1].
    source : str
        The file name (or "data frame").
    fingerprint : str
        "sha256:<hex>" of the file's bytes, or of the frame's contents.
    positive_label : str
        The label value counted as positive, as text.
    """

    frame: pd.DataFrame
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    source: str
    fingerprint: str
    positive_label: str


def read_table(path: Path, source: str) -> pd.DataFrame:
    """Read a predictions file (.csv, .parquet or .jsonl) into a DataFrame; `source` names it in errors.

    Raises
    ------
    InputError
        If the file is missing, of an unknown format, unreadable or empty.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            f'{source}: unknown format "{path.suffix}"; use one of {plain_list(READERS)}'
        )
    if not path.is_file():
        raise InputError(f"{source}: no such predictions file ({path})")
    try:
        frame = reader(path)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except Exception as exc:  # parsers raise many types; all mean "not readable as this format"
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise InputError(f"{source}: cannot read as {path.suffix[1:]}: {first_line}") from None
    if len(frame) == 0:
        raise InputError(f"{source}: no rows; the predictions file is empty")
    return frame


def file_fingerprint(path: Path) -> str:
    """Return "sha256:<hex>" of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """Return "sha256:<hex>" of a frame's column names and values."""
    digest = hashlib.sha256("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


def load_predictions(path: Path, data: DataSection, *, source: str | None = None) -> Predictions:
    """Read a predictions file and check its columns against `[data]`.

    `source` names the file in messages and in the card (default: `path` as given); pass the
    path as the user wrote it so the card does not depend on where the project lives.
    """
    frame = read_table(path, source or str(path))
    return check_predictions(frame, data, source=source or str(path), fingerprint=file_fingerprint(path))


def check_predictions(
    frame: pd.DataFrame, data: DataSection, *, source: str, fingerprint: str | None = None
) -> Predictions:
    """Check label, score and prediction columns and convert them to arrays.

    Raises
    ------
    InputError
        On a missing column, non-binary labels, scores outside [0, 1] or not finite,
        or predictions that are not labels.
    """
    if len(frame) == 0:
        raise InputError(f"{source}: no rows; the predictions are empty")
    for key in ("label", "score", "prediction"):
        column = getattr(data, key)
        if column is not None and column not in frame.columns:
            raise InputError(
                f'{source}: no column "{column}" ([data] {key}); '
                f"columns are: {plain_list(frame.columns, limit=12)}"
            )
    labels = frame[data.label]
    _reject_missing(labels, data.label, source)
    positive = _positive_label(labels, data, source)
    y_true = _is_positive(labels, positive)
    scores = _checked_scores(frame[data.score], data.score, source)
    if data.prediction is None:
        y_pred = (scores >= data.threshold).astype(np.int8)
    else:
        predicted = frame[data.prediction]
        _reject_missing(predicted, data.prediction, source)
        _check_prediction_values(predicted, labels, positive, data.prediction, source)
        y_pred = _is_positive(predicted, positive)
    return Predictions(
        frame=frame,
        y_true=y_true,
        y_pred=y_pred,
        scores=scores,
        source=source,
        fingerprint=fingerprint or frame_fingerprint(frame),
        positive_label=str(positive),
    )


def _rows(mask: np.ndarray, noun: str) -> str:
    """ "3 values (rows 17, 94, 203)": how many rows `mask` selects, and the first 1-based row numbers."""
    n = int(mask.sum())
    rows = np.flatnonzero(mask)[:5] + 1
    more = " …" if n > 5 else ""
    return f"{counted(n, noun)} ({'row' if n == 1 else 'rows'} {plain_list(rows)}{more})"


def _reject_missing(values: pd.Series, column: str, source: str) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        raise InputError(f'{source}: column "{column}": {_rows(missing, "missing value")}; fill or drop them')


def _positive_label(labels: pd.Series, data: DataSection, source: str) -> object:
    values = pd.unique(labels)
    if len(values) > 2:
        raise InputError(
            f'{source}: column "{data.label}": labels must be binary, found {len(values)} values: '
            f"{quoted_list(sorted(map(str, values)))}"
        )
    if data.positive_label is not None:
        match = _matching_value(values, data.positive_label)
        if match is None:
            raise InputError(
                f'{source}: [data] positive_label "{data.positive_label}" is not a value of column '
                f'"{data.label}"; values are: {quoted_list(sorted(map(str, values)))}'
            )
        return match
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return True
    if set(_as_numbers(values)) <= {0.0, 1.0}:
        return 1
    raise InputError(
        f'{source}: column "{data.label}" has labels {quoted_list(sorted(map(str, values)))}: '
        "set [data] positive_label to the positive one"
    )


def _as_numbers(values: np.ndarray) -> list[float | None]:
    numbers: list[float | None] = []
    for v in values:
        try:
            numbers.append(float(v))
        except (TypeError, ValueError):
            numbers.append(None)
    return numbers


def _matching_value(values: np.ndarray, wanted: object) -> object | None:
    """The value equal to `wanted`, comparing as written first, then as text, then as numbers."""
    for v in values:
        if v == wanted and isinstance(v, (bool, np.bool_)) == isinstance(wanted, bool):
            return v
    for v in values:
        if str(v) == str(wanted):
            return v
    for v, number in zip(values, _as_numbers(values), strict=True):
        if number is not None and not isinstance(wanted, str) and number == float(wanted):
            return v
    return None


def _is_positive(values: pd.Series, positive: object) -> np.ndarray:
    if positive is True:
        return values.astype(bool).to_numpy().astype(np.int8)
    matched = values.to_numpy() == positive
    if not matched.any():
        matched = values.astype(str).to_numpy() == str(positive)
    if not matched.any():  # the same number written another way: "1.0" for 1, or 1 for "1.0"
        number = _as_numbers(np.array([positive], dtype=object))[0]
        if number is not None:
            matched = (pd.to_numeric(values, errors="coerce") == number).to_numpy()
    return matched.astype(np.int8)


def _checked_scores(values: pd.Series, column: str, source: str) -> np.ndarray:
    try:
        scores = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = (numeric.isna() & values.notna()).to_numpy()
        raise InputError(
            f'{source}: column "{column}": {_rows(bad, "non-numeric value")}; scores must be probabilities'
        ) from None
    bad = ~np.isfinite(scores)
    if bad.any():
        raise InputError(f'{source}: column "{column}": {_rows(bad, "NaN or infinite score")}')
    bad = (scores < 0) | (scores > 1)
    if bad.any():
        raise InputError(
            f'{source}: column "{column}": {_rows(bad, "value")} outside [0, 1]; '
            "scores must be probabilities of the positive class"
        )
    return scores


def _check_prediction_values(
    predicted: pd.Series, labels: pd.Series, positive: object, column: str, source: str
) -> None:
    values = pd.unique(predicted)
    allowed = [*pd.unique(labels), positive]
    if positive == 1 or positive is True:
        allowed += [0, 1, True, False]
    unknown = [v for v in values if _matching_value(np.asarray(allowed, dtype=object), v) is None]
    if unknown or len(values) > 2:
        raise InputError(
            f'{source}: column "{column}": predictions must be label values '
            f"({quoted_list(sorted({str(v) for v in allowed}))}); found {quoted_list(sorted(map(str, values)))}"
        )
