"""Reading predictions: the file formats, and every column check, done once here."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.config import DataSection
from reportgen.errors import ConfigError, InputError, counted, plain_list, quoted_list

READERS = {
    ".csv": lambda p: pd.read_csv(p),
    ".parquet": lambda p: pd.read_parquet(p),
    ".jsonl": lambda p: pd.read_json(p, lines=True, precise_float=True),  # else 0.3 reads as 0.30000000000000004
}


# Probabilities of one row may miss 1 by this much (rounding in a CSV) before they are an error.
SUM_TOLERANCE = 1e-4
DEFAULT_TOP_K = (3, 5)
# Regression values beyond this would overflow float64 in the fourth powers behind MSE's interval.
MAX_MAGNITUDE = 1e50


@dataclass(frozen=True)
class Predictions:
    """Checked predictions, one entry per row.

    Attributes
    ----------
    frame : DataFrame
        Every column of the input, for slicing.
    task : str
        "binary", "multiclass" or "regression".
    y_true, y_pred : ndarray
        Binary: int8, 1 for the positive class. Multiclass: intp codes into `classes`.
        Regression: float64 targets and predicted values, finite.
    scores : ndarray of float64 or None
        Binary: probability of the positive class, in [0, 1]. Multiclass: one column per class of
        `classes`, rows summing to 1, or None without probability columns. Regression: None.
    source : str
        The file name (or "data frame").
    fingerprint : str
        "sha256:<hex>" of the file's bytes, or of the frame's contents.
    positive_label : str or None
        Binary: the label value counted as positive, as text.
    classes : list of str
        Multiclass: the class labels in code order (sorted as scikit-learn sorts them).
    top_k : tuple of int
        Multiclass: the k of each top-k accuracy, each below the number of classes.
    """

    frame: pd.DataFrame
    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None
    source: str
    fingerprint: str
    positive_label: str | None = None
    classes: list[str] = field(default_factory=list)
    top_k: tuple[int, ...] = ()


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


def load_predictions(
    path: Path, data: DataSection, *, task: str | None = None, source: str | None = None
) -> Predictions:
    """Read a predictions file and check its columns against `[data]`.

    `source` names the file in messages and in the card (default: `path` as given); pass the
    path as the user wrote it so the card does not depend on where the project lives.
    """
    frame = read_table(path, source or str(path))
    return check_predictions(
        frame, data, task=task, source=source or str(path), fingerprint=file_fingerprint(path)
    )


def check_predictions(
    frame: pd.DataFrame,
    data: DataSection,
    *,
    task: str | None = None,
    source: str,
    fingerprint: str | None = None,
) -> Predictions:
    """Check the label, score and prediction columns for the task and convert them to arrays.

    Parameters
    ----------
    frame : DataFrame
        The predictions.
    data : DataSection
        Which columns hold what.
    task : str, optional
        "binary", "multiclass" or "regression"; inferred from `data` and the labels when None.
    source : str
        Names the data in messages.
    fingerprint : str, optional
        Of the file the frame was read from; by default, of the frame's contents.

    Raises
    ------
    InputError
        On a missing column, labels that do not fit the task, scores or probabilities that are
        not probabilities, or predictions that are not labels.
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
    inferred = task is None
    task = _infer_task(labels, data, source) if task is None else task
    try:
        data.check_task(task)
    except ValueError as exc:
        if not inferred:
            raise ConfigError(f"[data] {exc} (set by [model] task)") from None
        raise InputError(
            f'[data] {exc}; the task was inferred from column "{data.label}" of {source}: '
            "set [model] task if that is wrong"
        ) from None
    fingerprint = fingerprint or frame_fingerprint(frame)
    if task == "regression":
        return _regression(frame, data, source, fingerprint)
    if task == "multiclass":
        return _multiclass(frame, data, source, fingerprint)
    return _binary(frame, data, source, fingerprint)


def _infer_task(labels: pd.Series, data: DataSection, source: str) -> str:
    """The task the `[data]` keys and the labels point to; an InputError when they do not decide it."""
    if data.score is not None:
        return "binary"
    if data.scores is not None or data.score_prefix is not None:
        return "multiclass"
    numbers = pd.to_numeric(labels, errors="coerce")
    if numbers.isna().any() or pd.api.types.is_bool_dtype(labels):
        return "multiclass"
    if not _all_whole(numbers.to_numpy(dtype=np.float64)):  # inf too: regression, whose checks name the rows
        return "regression"
    raise InputError(
        f'{source}: column "{data.label}" holds whole numbers and no probability columns are named, so the '
        'task is ambiguous; set [model] task = "multiclass" or "regression"'
    )


def _all_whole(numbers: np.ndarray) -> bool:
    """Whether every number is a whole number (NaN and infinities are not)."""
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.mod(numbers, 1) == 0))


def _binary(frame: pd.DataFrame, data: DataSection, source: str, fingerprint: str) -> Predictions:
    assert data.score is not None, "DataSection.check_task requires a score column for binary tasks"
    labels = frame[data.label]
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
        task="binary",
        y_true=y_true,
        y_pred=y_pred,
        scores=scores,
        source=source,
        fingerprint=fingerprint,
        positive_label=str(positive),
    )


def _regression(frame: pd.DataFrame, data: DataSection, source: str, fingerprint: str) -> Predictions:
    assert data.prediction is not None, "DataSection.check_task requires a prediction column for regression"
    return Predictions(
        frame=frame,
        task="regression",
        y_true=_finite_numbers(frame[data.label], data.label, source, "targets"),
        y_pred=_finite_numbers(frame[data.prediction], data.prediction, source, "predicted values"),
        scores=None,
        source=source,
        fingerprint=fingerprint,
    )


def _finite_numbers(values: pd.Series, column: str, source: str, what: str) -> np.ndarray:
    _reject_missing(values, column, source)
    if pd.api.types.is_bool_dtype(values):
        raise InputError(f'{source}: column "{column}" is true/false; regression {what} must be numbers')
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        raise InputError(
            f'{source}: column "{column}": {_rows(bad, "non-numeric value")}; regression {what} must be '
            'numbers (for class labels set [model] task = "multiclass")'
        )
    array = numbers.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise InputError(f'{source}: column "{column}": {_rows(bad, "infinite value")}')
    bad = np.abs(array) > MAX_MAGNITUDE
    if bad.any():
        raise InputError(
            f'{source}: column "{column}": {_rows(bad, "value")} beyond ±{MAX_MAGNITUDE:.0e}, whose squares '
            "overflow; rescale the column (e.g. to thousands)"
        )
    return array


def _multiclass(frame: pd.DataFrame, data: DataSection, source: str, fingerprint: str) -> Predictions:
    labels = frame[data.label]
    if pd.api.types.is_float_dtype(labels) and not _all_whole(labels.to_numpy(dtype=np.float64)):
        raise InputError(
            f'{source}: column "{data.label}" holds fractional numbers, not class labels; '
            'for a numeric target set [model] task = "regression"'
        )
    label_text = _class_text(labels)
    columns = _probability_columns(frame, data, source)
    predicted_text = None
    if data.prediction is not None:
        _reject_missing(frame[data.prediction], data.prediction, source)
        predicted_text = _class_text(frame[data.prediction])
    if columns is not None:
        classes = _sorted_classes(list(columns))
        _require_columns_for(label_text, classes, data.label, "label", source)
        if predicted_text is not None:
            _require_columns_for(predicted_text, classes, data.prediction, "prediction", source)
    else:
        seen = pd.unique(label_text).tolist()
        if predicted_text is not None:
            seen += pd.unique(predicted_text).tolist()
        classes = _sorted_classes(list(dict.fromkeys(seen)))
    y_true = _encode(label_text, classes)
    scores = None
    if columns is not None:
        scores = _probabilities(frame, [columns[c] for c in classes], data.normalize, source)
    if predicted_text is not None:
        y_pred = _encode(predicted_text, classes)
    else:
        assert scores is not None, "DataSection requires a prediction column or probability columns"
        y_pred = np.argmax(scores, axis=1).astype(np.intp)  # ties: the first class, as numpy and scikit-learn
    return Predictions(
        frame=frame,
        task="multiclass",
        y_true=y_true,
        y_pred=y_pred,
        scores=scores,
        source=source,
        fingerprint=fingerprint,
        classes=classes,
        top_k=_top_k(data, len(classes), scores is not None),
    )


def _class_text(values: pd.Series) -> np.ndarray:
    """Class labels as text, integers without a trailing ".0" (a CSV column with gaps reads as floats)."""
    if pd.api.types.is_float_dtype(values):
        values = values.astype(np.int64)
    return values.astype(str).to_numpy(dtype=object)


def _sorted_classes(names: list[str]) -> list[str]:
    """Class names in scikit-learn's order: by number when all are numbers, else as text."""
    numbers = _as_numbers(np.asarray(names, dtype=object))
    if all(n is not None for n in numbers):
        return [name for _, name in sorted(zip(numbers, names, strict=True))]
    return sorted(names)


def _encode(text: np.ndarray, classes: list[str]) -> np.ndarray:
    """Codes of `text` values in `classes` (every value is known to be a class)."""
    order = np.argsort(np.asarray(classes, dtype=object))
    sorted_classes = np.asarray(classes, dtype=object)[order]
    return order[np.searchsorted(sorted_classes, text)].astype(np.intp)


def _probability_columns(frame: pd.DataFrame, data: DataSection, source: str) -> dict[str, str] | None:
    """Class name → probability column, from `scores` or `score_prefix`; None when neither is set."""
    if data.scores is not None:
        missing = [column for column in data.scores.values() if column not in frame.columns]
        if missing:
            raise InputError(
                f"{source}: no column {quoted_list(missing)} ([data] scores); "
                f"columns are: {plain_list(frame.columns, limit=12)}"
            )
        return dict(data.scores)
    if data.score_prefix is None:
        return None
    prefix = data.score_prefix
    found = {str(c)[len(prefix):]: str(c) for c in frame.columns if str(c).startswith(prefix) and str(c) != prefix}
    if len(found) < 2:
        raise InputError(
            f'{source}: [data] score_prefix "{prefix}" matches {counted(len(found), "column")}; '
            f"a multiclass task needs one probability column per class; columns are: "
            f"{plain_list(frame.columns, limit=12)}"
        )
    return found


def _require_columns_for(text: np.ndarray, classes: list[str], column: str | None, what: str, source: str) -> None:
    """Every class in the label (or prediction) column must have a probability column."""
    unknown = sorted(set(pd.unique(text)) - set(classes))
    if unknown:
        rows = np.isin(text, unknown)
        raise InputError(
            f'{source}: column "{column}": {what} {quoted_list(unknown)} ({_rows(rows, "row")}) has no '
            f"probability column; the probability columns are for {quoted_list(classes)}"
        )


def _probabilities(frame: pd.DataFrame, columns: list[str], normalize: bool, source: str) -> np.ndarray:
    """The probability columns as an (n, classes) array, finite, in [0, 1], each row summing to 1."""
    scores = np.column_stack([_checked_scores(frame[c], c, source, "probabilities") for c in columns])
    sums = scores.sum(axis=1)
    if normalize:
        zero = sums == 0
        if zero.any():
            raise InputError(
                f"{source}: columns {quoted_list(columns, limit=3)}: {_rows(zero, 'row')} with all probabilities 0; "
                "they cannot be normalized"
            )
        return scores / sums[:, None]
    off = np.abs(sums - 1) > SUM_TOLERANCE
    if off.any():
        raise InputError(
            f"{source}: columns {quoted_list(columns, limit=3)}: {_rows(off, 'row')} whose probabilities sum to "
            f"{sums[off].min():.4g}–{sums[off].max():.4g}, not 1; fix them or set [data] normalize = true"
        )
    return scores


def _top_k(data: DataSection, n_classes: int, has_probabilities: bool) -> tuple[int, ...]:
    if data.top_k is None:
        return tuple(k for k in DEFAULT_TOP_K if k < n_classes) if has_probabilities else ()
    if not has_probabilities:
        raise InputError('[data] top_k needs probability columns; set "scores" or "score_prefix"')
    too_large = [k for k in data.top_k if k >= n_classes]
    if too_large:
        raise InputError(
            f"[data] top_k: {plain_list(too_large)} must be below the number of classes ({n_classes}); "
            "top-k accuracy with k ≥ classes is always 1"
        )
    return tuple(sorted(set(data.top_k)))


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
            f"{quoted_list(sorted(map(str, values)))}; for more classes set [model] task = \"multiclass\" "
            'and name the probability columns ("scores" or "score_prefix")'
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


def _checked_scores(values: pd.Series, column: str, source: str, what: str = "scores") -> np.ndarray:
    try:
        scores = pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = (numeric.isna() & values.notna()).to_numpy()
        raise InputError(
            f'{source}: column "{column}": {_rows(bad, "non-numeric value")}; {what} must be probabilities'
        ) from None
    bad = ~np.isfinite(scores)
    if bad.any():
        raise InputError(f'{source}: column "{column}": {_rows(bad, "NaN or infinite value")} among the {what}')
    bad = (scores < 0) | (scores > 1)
    if bad.any():
        meaning = "probabilities of the positive class" if what == "scores" else "probabilities"
        raise InputError(f'{source}: column "{column}": {_rows(bad, "value")} outside [0, 1]; {what} must be {meaning}')
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
