"""Reading predictions: the file formats, and every column check, done once here."""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from reportgen.config import DataSection
from reportgen.errors import ConfigError, InputError, counted, counted_rows, plain_list, quoted_list, shown

# The largest JSON document read back (report.json, the site manifest, a Keras history): 64 MB.
MAX_JSON_BYTES = 64 * 2**20
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

    @cached_property
    def codes(self) -> ColumnCodes:
        """The columns of `frame` as codes, each factorized once for every analysis of the evaluation."""
        return ColumnCodes(self.frame)


@dataclass(frozen=True)
class ValueCodes:
    """One column's distinct values, numbered in order of first appearance, missing values as one more value.

    `codes` and `values` are ``pandas.factorize(column, use_na_sentinel=False)``; `present_codes` and
    `present_values` are ``pandas.factorize(column)``, without the missing value (-1 where a value is missing).

    Attributes
    ----------
    codes : ndarray of intp
        One code per row, in [0, len(values)).
    values : Index
        The distinct values in code order; the missing value (as pandas writes it) among them at `missing`.
    missing : int or None
        The code of the missing values; None when no value is missing.
    """

    codes: np.ndarray
    values: pd.Index
    missing: int | None

    @classmethod
    def of(cls, column: pd.Series) -> ValueCodes:
        """Factorize a column."""
        codes, values = pd.factorize(column, use_na_sentinel=False)
        missing = np.flatnonzero(pd.isna(values))
        return cls(codes, values, int(missing[0]) if len(missing) else None)

    @cached_property
    def present_codes(self) -> np.ndarray:
        """One code per row into `present_values`; -1 where the value is missing."""
        if self.missing is None:
            return self.codes
        return np.where(self.codes == self.missing, -1, self.codes - (self.codes > self.missing))

    @property
    def present_values(self) -> pd.Index:
        """The distinct values that are not missing, in code order."""
        return self.values if self.missing is None else self.values.delete(self.missing)


class ColumnCodes:
    """The columns of one frame as `ValueCodes`, each factorized on first use and kept."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._done: dict[str, ValueCodes] = {}

    def __call__(self, column: str) -> ValueCodes:
        """The codes of `column` (a column of the frame)."""
        if column not in self._done:
            self._done[column] = ValueCodes.of(self.frame[column])
        return self._done[column]


def read_table(path: Path, source: str) -> pd.DataFrame:
    """Read a predictions file (.csv, .parquet or .jsonl) into a DataFrame; `source` names it in errors.

    A table is flat: every column has one name, and every cell one value (no JSON objects or
    lists, no Parquet list, struct or map columns). A CSV has the header's number of fields on
    every line; a JSONL file one JSON object per line, each key once.

    Raises
    ------
    InputError
        If the file is missing, of an unknown format, not UTF-8 text (CSV, JSONL), unreadable,
        ragged, repeats a column name or a key, holds nested values, or is empty.
    """
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            f'{source}: unknown format "{shown(path.suffix)}"; use one of {plain_list(READERS)}'
        )
    if not path.is_file():
        raise InputError(f"{source}: no such predictions file ({path})")
    try:
        frame = reader(path, source)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame()
    except UnicodeDecodeError:
        raise _not_utf8(path, source) from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to read; a predictions file is a flat table") from None
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # parsers raise many types; all mean "not readable as this format"
        raise InputError(f"{source}: cannot read as {path.suffix[1:]}: {_first_line(exc)}") from None
    if len(frame) == 0:
        raise InputError(f"{source}: no rows; the predictions file is empty")
    return frame


def read_csv(path: Path, source: str, **options: Any) -> pd.DataFrame:
    """Read a CSV file with `pandas.read_csv(path, **options)`, refusing what pandas lets pass silently.

    The header and the first line after it are read once first: a file that is not UTF-8 text,
    holds a NUL byte in its header, or repeats a column name (pandas would rename the copy "p.1")
    is refused. A line with more or fewer fields than the header (pandas would take extra fields
    of the first line as an index, or fill missing ones with NaN) is refused, naming the line; the
    fields of every line are counted (by pyarrow, ~0.1 s a million lines) only when the last column
    has an empty cell, which a short line leaves.

    Raises
    ------
    InputError
        As described; other parser errors propagate (`read_table` turns them into one line).
    """
    skip_space = bool(options.get("skipinitialspace", False))
    header, first, first_line = _csv_head(path, source, skip_space)
    if first is not None and len(first) != len(header):
        raise InputError(_ragged(source, first_line, len(first), len(header)))
    try:
        frame = pd.read_csv(path, **options)
    except UnicodeDecodeError:
        raise _not_utf8(path, source) from None
    except pd.errors.ParserError as exc:
        found = _FIELD_COUNT.search(str(exc))
        if found is None:
            raise
        raise InputError(_ragged(source, int(found[1]), int(found[2]), len(header))) from None
    last = frame.iloc[:, -1] if len(frame.columns) else pd.Series([], dtype=object)
    short_possible = bool(last.isna().any()) or (last.dtype != np.float64 and bool((last == "").any()))
    if len(frame.columns) != len(header) or short_possible:
        _reject_ragged_lines(path, source, len(header), skip_space)
    return frame


def _csv_head(path: Path, source: str, skipinitialspace: bool) -> tuple[list[str], list[str] | None, int]:
    """The header, the first line after it and that line's number.

    The file must be UTF-8 text (checked up to the header), its header must hold no NUL byte and
    no field over Python's csv field limit, and name each column once (empty names excepted:
    pandas calls them "Unnamed: 3").
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, skipinitialspace=skipinitialspace)
            rows = (row for row in reader if row)
            header = next(rows, [])
            if any("\x00" in name for name in header):
                raise InputError(f"{source}: holds a NUL byte in its first line; not a CSV text file")
            try:
                first = next(rows, None)
            except csv.Error:  # a cell over the csv module's limit (128 KB), which pandas reads: no check
                first = None
            first_line = reader.line_num
    except UnicodeDecodeError:
        raise _not_utf8(path, source) from None
    except csv.Error as exc:
        raise InputError(f"{source}: cannot read the CSV header: {_first_line(exc)}") from None
    names = [name for name in header if name.strip()]
    if len(set(names)) < len(names):
        repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
        raise InputError(
            f"{source}: the header repeats column {quoted_list(repeated)}; give each column its own name "
            "(pandas would silently rename the copy)"
        )
    return header, first, first_line


_FIELD_COUNT = re.compile(r"Expected \d+ fields in line (\d+), saw (\d+)")


def _ragged(source: str, line: int, fields: int, expected: int) -> str:
    return (
        f"{source}: line {line} has {counted(fields, 'field')}, the header has {expected}; every line needs one "
        "value per column (leave a value empty, not out)"
    )


def _reject_ragged_lines(path: Path, source: str, expected: int, skipinitialspace: bool) -> None:
    """An InputError for the first line whose number of fields differs from the header's.

    pyarrow counts the fields of every line first (in C++, ~0.1 s a million lines); only when it finds
    a ragged line is the file read again with Python's csv module, whose quoting rules are pandas', to
    confirm it and name its line.
    """
    if not _arrow_finds_ragged(path):
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=skipinitialspace)
        rows = (row for row in reader if row)
        next(rows, None)  # the header
        try:
            for row in rows:
                if len(row) != expected:
                    raise InputError(_ragged(source, reader.line_num, len(row), expected))
        except csv.Error:  # a cell over the csv module's limit (128 KB), which pandas reads: no line to name
            return


def _arrow_finds_ragged(path: Path) -> bool:
    """Whether a line has another number of fields than the first; True when pyarrow cannot tell."""
    ragged = []

    def note(row: pa_csv.InvalidRow) -> str:
        ragged.append(row)
        return "skip"

    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=note),
            convert_options=pa_csv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.binary()}),
        )
        for _ in reader:
            if ragged:
                return True
    except (pa.ArrowException, OSError):
        return True
    return bool(ragged)


def _not_utf8(path: Path, source: str) -> InputError:
    """The error for a file that is not UTF-8 text, naming the first bad byte and its line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    newlines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                data = pending + block
                line = newlines + data.count(b"\n", 0, exc.start) + 1
                return InputError(
                    f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save the file as UTF-8"
                )
            newlines += block.count(b"\n")
    return InputError(f"{source}: not UTF-8 text (it ends inside a character); save the file as UTF-8")


def _read_parquet(path: Path, source: str) -> pd.DataFrame:
    """A Parquet file, its schema checked first: one name per column, no list, struct or map columns."""
    schema = pq.read_schema(path)
    names = list(schema.names)
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise InputError(f"{source}: repeats column {quoted_list(repeated)}; give each column its own name")
    nested = [f'"{shown(f.name, 40)}" ({shown(f.type, 30)})' for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise InputError(f"{source}: {_nested_columns(nested)}")
    return pd.read_parquet(path)


class _DuplicateKey(ValueError):
    """A JSON object names a key twice."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    row = dict(pairs)
    if len(row) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return row


def _read_jsonl(path: Path, source: str) -> pd.DataFrame:
    """A JSON Lines file: one JSON object per line (blank lines skipped), each key once.

    Numbers are read exactly (0.3 is 0.3); NaN and Infinity are read (and refused where a column
    must be finite); values are kept as written (no date or number guessing from text).
    """
    scan = json.JSONDecoder().scan_once  # the C scanner, called once per line
    rows: list[dict[str, Any]] = []
    append = rows.append
    for number, line in enumerate(path.read_bytes().decode("utf-8").split("\n"), start=1):
        # Each key is followed by one colon: more colons than keys may be a repeated key (or a colon in
        # a text value, or a nested object), so only then is the line read again, keeping every pair.
        try:
            row, end = scan(line, 0)
            if end == len(line) and type(row) is dict and line.count(":") <= len(row):
                append(row)
                continue
        except (StopIteration, ValueError, RecursionError):
            pass
        row = _jsonl_row(line, number, source)
        if row is not None:
            append(row)
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    _reject_nested(frame, source)  # the one format whose cells can hold objects and lists
    return frame


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_unique_pairs)


def _jsonl_row(line: str, number: int, source: str) -> dict[str, Any] | None:
    """One line of a JSONL file, read with every check: None for a blank line, else its object."""
    if not line.strip():
        return None
    try:
        row = _STRICT_JSON.decode(line)
    except _DuplicateKey as exc:
        raise InputError(
            f'{source}: line {number}: key "{shown(exc.args[0])}" appears twice in one object; give each key once'
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: line {number}: not JSON ({exc.msg} at column {exc.colno}); each line holds one JSON object"
        ) from None
    except RecursionError:
        raise InputError(f"{source}: line {number}: nested too deeply to read; a predictions file is a flat table") from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise InputError(
            f"{source}: line {number}: a number of more than 4,300 digits; write it as text or in exponent form"
        ) from None
    if not isinstance(row, dict):
        raise InputError(
            f"{source}: line {number}: a JSON {_json_kind(row)}, not an object; each line holds one row as "
            '{"column": value, …}'
        )
    return row


def _json_kind(value: object) -> str:
    return {list: "array", str: "string", bool: "true/false", type(None): "null"}.get(type(value), "number")


_NESTED = (dict, list, tuple, set, np.ndarray)


def _reject_nested(frame: pd.DataFrame, source: str) -> None:
    """An InputError naming the columns whose cells hold objects or lists (a flat table holds none)."""
    nested = []
    for name in frame.columns:
        values = frame[name]
        if values.dtype != object:
            continue
        rows = next((i for i, v in enumerate(values.to_numpy()) if isinstance(v, _NESTED)), None)
        if rows is not None:
            nested.append(f'"{shown(name, 60)}" (row {rows + 1})')
    if nested:
        raise InputError(f"{source}: {_nested_columns(nested)}")


def _nested_columns(described: list[str]) -> str:
    return (
        f"{'column' if len(described) == 1 else 'columns'} {plain_list(described)} hold{'s' if len(described) == 1 else ''} nested values (lists, objects, "
        "structs or maps), which reportgen cannot slice or score; flatten them into plain columns "
        "(e.g. pandas.json_normalize) or drop them"
    )


def _first_line(exc: BaseException) -> str:
    """An exception's message: its first line, cut to a bounded length."""
    text = str(exc).strip()
    return shown(text.splitlines()[0], 160) if text else exc.__class__.__name__


READERS: dict[str, Callable[[Path, str], pd.DataFrame]] = {
    ".csv": read_csv,
    ".parquet": _read_parquet,
    ".jsonl": _read_jsonl,
}


def read_json_file(
    path: Path, *, source: str, what: str, advice: str = "", allow_nan: bool = False, max_bytes: int | None = None
) -> Any:
    """Read a JSON document strictly: UTF-8, at most `max_bytes` (default `MAX_JSON_BYTES`), each key once per object, no NaN or
    Infinity unless `allow_nan`, and no nesting deeper than Python's recursion limit.

    Every problem is an InputError "`source`: not a readable `what` (reason)[; `advice`]".

    Raises
    ------
    FileNotFoundError
        If there is no file (the caller knows what to suggest).
    InputError
        Otherwise, for a file that cannot be read or is not such JSON.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "a.json"
    >>> _ = path.write_text('{"x": NaN}')
    >>> read_json_file(path, source="a.json", what="document")
    Traceback (most recent call last):
    reportgen.errors.InputError: a.json: not a readable document (NaN is not a JSON number)
    """
    suffix = f"; {advice}" if advice else ""
    max_bytes = MAX_JSON_BYTES if max_bytes is None else max_bytes
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise InputError(f"{source}: not a readable {what} ({exc.strerror or exc.__class__.__name__}){suffix}") from None
    if len(data) > max_bytes:
        raise InputError(f"{source}: not a readable {what} (over {max_bytes // 2**20} MB, the most read){suffix}")
    try:
        text = data.decode("utf-8")
        decoder = json.JSONDecoder(
            object_pairs_hook=_unique_pairs, **({} if allow_nan else {"parse_constant": _no_constant})
        )
        return decoder.decode(text)
    except UnicodeDecodeError as exc:
        reason = f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start:,}"
    except json.JSONDecodeError as exc:
        reason = f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    except _DuplicateKey as exc:
        reason = f'key "{shown(exc.args[0])}" appears twice in one object'
    except _NotANumber as exc:
        reason = f"{exc.args[0]} is not a JSON number"
    except RecursionError:
        reason = "nested too deeply"
    except ValueError:  # Python refuses integers of more than 4,300 digits
        reason = "a number of more than 4,300 digits"
    raise InputError(f"{source}: not a readable {what} ({reason}){suffix}")


class _NotANumber(ValueError):
    """NaN, Infinity or -Infinity, which JSON does not allow."""


def _no_constant(name: str) -> Any:
    raise _NotANumber(name)


def file_fingerprint(path: Path) -> str:
    """Return "sha256:<hex>" of a file's bytes."""
    return files_fingerprint([path])


def files_fingerprint(paths: list[Path]) -> str:
    """Return "sha256:<hex>" of the bytes of several files in turn (of one file: `file_fingerprint`)."""
    digest = hashlib.sha256()
    for path in paths:
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
    if not frame.columns.is_unique:
        repeated = frame.columns[frame.columns.duplicated()].unique()
        raise InputError(f"{source}: repeats column {quoted_list(repeated)}; give each column its own name")
    for key in ("label", "score", "prediction"):
        column = getattr(data, key)
        if column is not None and column not in frame.columns:
            raise InputError(
                f'{source}: no column "{shown(column)}" ([data] {key}); '
                f"columns are: {plain_list(frame.columns, limit=12)}"
            )
    labels = frame[data.label]
    _reject_missing(labels, data.label, source)
    task = checked_task(labels, data, task, source)
    fingerprint = fingerprint or frame_fingerprint(frame)
    if task == "regression":
        return _regression(frame, data, source, fingerprint)
    if task == "multiclass":
        return _multiclass(frame, data, source, fingerprint)
    return _binary(frame, data, source, fingerprint)


@dataclass(frozen=True)
class Unlabelled:
    """Current rows whose label has not arrived yet (`[monitoring]`): compared with the reference, and their
    metrics estimated from the model's probabilities, never measured.

    Attributes
    ----------
    frame : DataFrame
        The rows, every column.
    scores : ndarray of float64 or None
        As `Predictions.scores` (multiclass: on the classes of the labelled rows); None without probabilities.
    """

    frame: pd.DataFrame
    scores: np.ndarray | None


def split_unlabelled(frame: pd.DataFrame, data: DataSection, source: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The rows with a label, and apart those without one (None when every row has a label).

    Raises
    ------
    InputError
        If the label column is missing, or no row has a label.
    """
    if data.label not in frame.columns:
        return frame, None  # check_predictions says what is missing
    missing = frame[data.label].isna().to_numpy()
    if not missing.any():
        return frame, None
    if missing.all():
        raise InputError(f'{source}: column "{shown(data.label)}" ([data] label): no row has a label; the card measures '
                         "the labelled rows and estimates the rest, so at least some must have arrived")
    return frame[~missing], frame[missing]


def check_unlabelled(frame: pd.DataFrame, data: DataSection, labelled: Predictions, source: str) -> Unlabelled:
    """Check the model's probabilities on rows without a label as `check_predictions` checks the labelled rows'."""
    scores = None
    if labelled.task == "binary":
        assert data.score is not None, "a binary task has a score column"
        scores = _checked_scores(frame[data.score], data.score, source)
    elif labelled.task == "multiclass" and labelled.scores is not None:
        columns = probability_columns(frame, data, source)
        assert columns is not None, "the labelled rows' probabilities came from these columns"
        scores = _probabilities(frame, [columns[c] for c in labelled.classes], data.normalize, source)
    return Unlabelled(frame=frame, scores=scores)


def checked_task(labels: pd.Series, data: DataSection, task: str | None, source: str) -> str:
    """The task (`task`, or inferred from `data` and the labels when None), checked against the `[data]` keys.

    Raises
    ------
    ConfigError, InputError
        If a `[data]` key does not belong to the task set by `[model] task` (ConfigError) or inferred (InputError).
    """
    inferred = task is None
    task = infer_task(labels, data, source) if task is None else task
    try:
        data.check_task(task)
    except ValueError as exc:
        if not inferred:
            raise ConfigError(f"[data] {exc} (set by [model] task)") from None
        raise InputError(
            f'[data] {exc}; the task was inferred from column "{shown(data.label)}" of {source}: '
            "set [model] task if that is wrong"
        ) from None
    return task


def infer_task(labels: pd.Series, data: DataSection, source: str) -> str:
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
        f'{source}: column "{shown(data.label)}" holds whole numbers and no probability columns are named, so the '
        'task is ambiguous; set [model] task = "multiclass" or "regression"'
    )


def _all_whole(numbers: np.ndarray) -> bool:
    """Whether every number is a whole number (NaN and infinities are not)."""
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.mod(numbers, 1) == 0))


def binary_values(
    labels: pd.Series, predicted: pd.Series | None, data: DataSection, source: str
) -> tuple[str, list[object], list[object]]:
    """Of the distinct values of the label column (and of the prediction column, if any): the positive label as
    text, and the label values and prediction values that count as positive.

    Engines that never load the rows (`reportgen.engines.scan`) call this on the distinct values, so labels
    mean the same whichever engine reads them.

    Raises
    ------
    InputError
        As `check_predictions` on a binary task's labels and predictions.
    """
    positive = _positive_label(labels, data, source)
    if predicted is not None:
        assert data.prediction is not None, "predictions come from the prediction column"
        _check_prediction_values(predicted, labels, positive, data.prediction, source)
    label_positives = labels[_is_positive(labels, positive) == 1].tolist()
    prediction_positives = [] if predicted is None else predicted[_is_positive(predicted, positive) == 1].tolist()
    return str(positive), label_positives, prediction_positives


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
        raise InputError(f'{source}: column "{shown(column)}" is true/false; regression {what} must be numbers')
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        raise InputError(
            f'{source}: column "{shown(column)}": {counted_rows(bad, "non-numeric value")}; regression {what} must be '
            'numbers (for class labels set [model] task = "multiclass")'
        )
    array = numbers.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(array)
    if bad.any():
        raise InputError(f'{source}: column "{shown(column)}": {counted_rows(bad, "infinite value")}')
    bad = np.abs(array) > MAX_MAGNITUDE
    if bad.any():
        raise InputError(
            f'{source}: column "{shown(column)}": {counted_rows(bad, "value")} beyond ±{MAX_MAGNITUDE:.0e}, whose squares '
            "overflow; rescale the column (e.g. to thousands)"
        )
    return array


def _multiclass(frame: pd.DataFrame, data: DataSection, source: str, fingerprint: str) -> Predictions:
    labels = frame[data.label]
    if pd.api.types.is_float_dtype(labels) and not _all_whole(labels.to_numpy(dtype=np.float64)):
        raise InputError(
            f'{source}: column "{shown(data.label)}" holds fractional numbers, not class labels; '
            'for a numeric target set [model] task = "regression"'
        )
    label_text = class_text(labels)
    columns = probability_columns(frame, data, source)
    predicted_text = None
    if data.prediction is not None:
        _reject_missing(frame[data.prediction], data.prediction, source)
        predicted_text = class_text(frame[data.prediction])
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
        top_k=top_k_of(data, len(classes), scores is not None),
    )


@dataclass(frozen=True)
class ClassValues:
    """A multiclass task's classes, found from the distinct values of its columns (`multiclass_values`).

    Attributes
    ----------
    classes : list of str
        The class labels in code order, as `Predictions.classes`.
    label_codes : ndarray of intp
        The class code of each distinct label value.
    prediction_codes : ndarray of intp or None
        The class code of each distinct prediction value; None without a prediction column.
    probability_columns : list of str or None
        The probability column of each class, in code order; None without probabilities.
    """

    classes: list[str]
    label_codes: np.ndarray
    prediction_codes: np.ndarray | None
    probability_columns: list[str] | None


def multiclass_values(
    labels: pd.Series, label_rows: np.ndarray, predicted: pd.Series | None, predicted_rows: np.ndarray | None,
    columns: list[str], data: DataSection, source: str,
) -> ClassValues:
    """The classes of a multiclass task from the distinct values of the label column (and of the prediction column,
    if any) and the rows holding each, checked as `check_predictions` checks them, short of the probabilities'
    values and `[data] top_k` (`top_k_of`).

    Engines that never load the rows (`reportgen.engines.multiclass_sql`) call this on the distinct values, so
    classes mean the same whichever engine reads them.

    Parameters
    ----------
    labels, predicted : Series
        Distinct values of the label and prediction columns (missing labels already refused), in the columns' dtype.
    label_rows, predicted_rows : ndarray of int
        Rows holding each of those values.
    columns : list of str
        Every column of the input.

    Raises
    ------
    InputError
        On fractional labels, missing probability columns or predictions, or a label or prediction without a
        probability column.
    """
    if pd.api.types.is_float_dtype(labels) and not _all_whole(labels.to_numpy(dtype=np.float64)):
        raise InputError(
            f'{source}: column "{shown(data.label)}" holds fractional numbers, not class labels; '
            'for a numeric target set [model] task = "regression"'
        )
    label_text = class_text(labels)
    by_class = probability_columns(pd.DataFrame(columns=columns), data, source)
    predicted_text = None
    if predicted is not None:
        assert data.prediction is not None and predicted_rows is not None, "predictions come from their column"
        missing = predicted.isna().to_numpy()
        if missing.any():
            raise InputError(f'{source}: column "{shown(data.prediction)}": '
                             f'{counted(int(predicted_rows[missing].sum()), "missing value")}; fill or drop them')
        predicted_text = class_text(predicted)
    if by_class is not None:
        classes = _sorted_classes(list(by_class))
        _require_columns_for(label_text, classes, data.label, "label", source, label_rows)
        if predicted_text is not None:
            _require_columns_for(predicted_text, classes, data.prediction, "prediction", source, predicted_rows)
    else:
        seen = pd.unique(label_text).tolist() + ([] if predicted_text is None else pd.unique(predicted_text).tolist())
        classes = _sorted_classes(list(dict.fromkeys(seen)))
    return ClassValues(
        classes=classes,
        label_codes=_encode(label_text, classes),
        prediction_codes=None if predicted_text is None else _encode(predicted_text, classes),
        probability_columns=None if by_class is None else [by_class[c] for c in classes],
    )


def class_text(values: pd.Series) -> np.ndarray:
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


def probability_columns(frame: pd.DataFrame, data: DataSection, source: str) -> dict[str, str] | None:
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
            f'{source}: [data] score_prefix "{shown(prefix)}" matches {counted(len(found), "column")}; '
            f"a multiclass task needs one probability column per class; columns are: "
            f"{plain_list(frame.columns, limit=12)}"
        )
    return found


def _require_columns_for(
    text: np.ndarray, classes: list[str], column: str | None, what: str, source: str, rows: np.ndarray | None = None
) -> None:
    """Every class in the label (or prediction) column must have a probability column; `text` holds one value per
    row, or with `rows` (the rows holding each) the column's distinct values."""
    unknown = sorted(set(pd.unique(text)) - set(classes))
    if unknown:
        held = np.isin(text, unknown)
        where = counted_rows(held, "row") if rows is None else counted(int(rows[held].sum()), "row")
        raise InputError(
            f'{source}: column "{shown(column)}": {what} {quoted_list(unknown)} ({where}) has no '
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
                f"{source}: columns {quoted_list(columns, limit=3)}: {counted_rows(zero, 'row')} with all probabilities 0; "
                "they cannot be normalized"
            )
        return scores / sums[:, None]
    off = np.abs(sums - 1) > SUM_TOLERANCE
    if off.any():
        raise InputError(
            f"{source}: columns {quoted_list(columns, limit=3)}: {counted_rows(off, 'row')} whose probabilities sum to "
            f"{sums[off].min():.4g}–{sums[off].max():.4g}, not 1; fix them or set [data] normalize = true"
        )
    return scores


def top_k_of(data: DataSection, n_classes: int, has_probabilities: bool) -> tuple[int, ...]:
    """The k of each top-k accuracy (`Predictions.top_k`): `[data] top_k`, or those of `DEFAULT_TOP_K` below the
    number of classes; none without probabilities.

    Raises
    ------
    InputError
        If `[data] top_k` is set without probabilities, or a k is not below the number of classes.
    """
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


def _reject_missing(values: pd.Series, column: str, source: str) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        raise InputError(f'{source}: column "{shown(column)}": {counted_rows(missing, "missing value")}; fill or drop them')


def _positive_label(labels: pd.Series, data: DataSection, source: str) -> object:
    values = pd.unique(labels)
    if len(values) > 2:
        raise InputError(
            f'{source}: column "{shown(data.label)}": labels must be binary, found {len(values)} values: '
            f"{quoted_list(sorted(map(str, values)))}; for more classes set [model] task = \"multiclass\" "
            'and name the probability columns ("scores" or "score_prefix")'
        )
    if data.positive_label is not None:
        match = _matching_value(values, data.positive_label)
        if match is None:
            raise InputError(
                f'{source}: [data] positive_label "{shown(data.positive_label)}" is not a value of column '
                f'"{shown(data.label)}"; values are: {quoted_list(sorted(map(str, values)))}'
            )
        return match
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return True
    if set(_as_numbers(values)) <= {0.0, 1.0}:
        return 1
    raise InputError(
        f'{source}: column "{shown(data.label)}" has labels {quoted_list(sorted(map(str, values)))}: '
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
            f'{source}: column "{shown(column)}": {counted_rows(bad, "non-numeric value")}; {what} must be probabilities'
        ) from None
    bad = ~np.isfinite(scores)
    if bad.any():
        raise InputError(f'{source}: column "{shown(column)}": {counted_rows(bad, "NaN or infinite value")} among the {what}')
    bad = (scores < 0) | (scores > 1)
    if bad.any():
        meaning = "probabilities of the positive class" if what == "scores" else "probabilities"
        raise InputError(f'{source}: column "{shown(column)}": {counted_rows(bad, "value")} outside [0, 1]; {what} must be {meaning}')
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
            f'{source}: column "{shown(column)}": predictions must be label values '
            f"({quoted_list(sorted({str(v) for v in allowed}))}); found {quoted_list(sorted(map(str, values)))}"
        )
