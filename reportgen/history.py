"""Reading training histories: per-epoch logs as a CSV, a Keras JSON or an MLflow run folder.

Every check on the file is done here, once; `History` is what the rest of the package trusts.

Epoch numbers are kept as the tool logged them: Lightning's and Keras's CSV `epoch` column and
MLflow's `step` are 0-based for the common loggers, and a Keras `History.history` JSON (which
holds no epoch numbers) gets 0, 1, …, n - 1, as Keras's own `History.epoch`. A reader of the card
can so find any epoch it names in their own logs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen import io
from reportgen.errors import InputError, counted, counted_rows, plain_list, quoted_list, shown

KINDS = ("csv", "keras", "mlflow")
ACCEPTED = "a .csv file with an epoch column, a Keras History.history .json file, or an MLflow run folder"
RUN_HINT = "pass one run folder"
EPOCH_COLUMNS = ("epoch", "epochs")  # compared case-insensitively: "Epoch" too
NOT_METRICS = ("step", "global_step")  # CSV columns that count steps, not metrics
# Cells that mean "not logged at this epoch": empty (Lightning, pandas), "NA" (Keras's CSVLogger).
MISSING_TEXT = ("", "NA", "N/A", "n/a", "null", "None", "<NA>")


@dataclass(frozen=True)
class History:
    """A training history: metric values per epoch.

    Attributes
    ----------
    source : str
        The path as the user wrote it.
    kind : str
        "csv", "keras" or "mlflow".
    epochs : ndarray of int64
        Increasing, unique; as logged (see the module docstring).
    series : dict of str to ndarray of float64
        Metric name as logged (e.g. "train_loss", "val_loss", "loss", "val_accuracy", "train/acc")
        → one value per epoch; NaN where the metric was not logged, or was logged as NaN or ±inf.
    params : dict of str to str
        An MLflow run's parameters (`params/<name>`); empty for the other kinds.
    nonfinite : dict of str to ndarray of bool
        Metric name → per epoch, whether the value logged was NaN or ±inf (a gap in the curve, as
        opposed to an epoch at which the metric was not logged, e.g. validation every 5 epochs).
    """

    source: str
    kind: str
    epochs: np.ndarray
    series: dict[str, np.ndarray]
    params: dict[str, str]
    nonfinite: dict[str, np.ndarray]


def read_history(path: Path, *, source: str) -> History:
    """Read a training history; the kind follows from the path.

    A folder is read as an MLflow run (`mlruns/<experiment>/<run>`: `meta.yaml`, `metrics/`, and
    `params/`); a `.json` file as a Keras `History.history` (an object of metric name → list of
    per-epoch values; an "epoch" list, if present, gives the epoch numbers); a `.csv` file as a
    table with an "epoch" column ("epochs" and any capitalization are accepted). In a CSV with
    several rows per epoch (Lightning's CSVLogger writes one per logging step, each column filled
    only on the rows that logged it), each column keeps its last finite value within the epoch.
    "step" and "global_step" columns are dropped; columns with no number at all (e.g. timestamps
    as text) are ignored. NaN and infinite values are kept as NaN and marked in
    `History.nonfinite`.

    Parameters
    ----------
    path : Path
        The file or folder.
    source : str
        The path as the user wrote it, for messages and the card.

    Returns
    -------
    History

    Raises
    ------
    InputError
        If the path is missing or of no accepted kind, the file is empty, unreadable or not of the
        expected shape, a CSV has no epoch column or a column mixing numbers and text, a folder is
        not an MLflow run, or no metric has a single finite value.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "h.json").write_text('{"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.7, NaN]}')
    >>> history = read_history(folder / "h.json", source="h.json")
    >>> history.kind, history.epochs.tolist(), history.series["val_loss"].tolist()
    ('keras', [0, 1, 2], [1.0, 0.7, nan])
    """
    if not path.exists():
        raise InputError(f"{source}: no such training history file or folder ({path}); use {ACCEPTED}")
    if path.is_dir():
        history = _read_mlflow(path, source)
    elif path.suffix.lower() == ".json":
        history = _read_keras(path, source)
    elif path.suffix.lower() == ".csv":
        history = _read_csv(path, source)
    else:
        raise InputError(f'{source}: unknown training history format "{path.suffix}"; use {ACCEPTED}')
    _require_values(history)
    return history


def _require_values(history: History) -> None:
    """At least one metric with one finite value."""
    names = list(history.series)
    if not names:
        raise InputError(f"{history.source}: no metrics; a training history needs per-epoch losses or metrics")
    if not any(np.isfinite(values).any() for values in history.series.values()):
        raise InputError(
            f"{history.source}: no finite value in any metric ({quoted_list(names)}); every value logged is "
            "NaN, infinite or missing"
        )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return shown(text.splitlines()[0], 160) if text else exc.__class__.__name__


# ---------------------------------------------------------------------------------------------- CSV


def _read_csv(path: Path, source: str) -> History:
    if path.stat().st_size == 0:
        raise InputError(f"{source}: the file is empty; expected a CSV with an epoch column and one column per metric")
    try:
        frame = io.read_csv(path, source, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(f"{source}: the file is empty; expected a CSV with an epoch column and one column per metric") from None
    except (InputError, MemoryError):
        raise
    except Exception as exc:  # parsers raise many types; all mean "not readable as CSV"
        raise InputError(f"{source}: cannot read as csv: {_first_line(exc)}") from None
    columns = [str(c).strip() for c in frame.columns]
    if len(set(columns)) < len(columns):
        repeated = [c for c in dict.fromkeys(columns) if columns.count(c) > 1]
        raise InputError(f"{source}: the header repeats column {quoted_list(repeated)}; give each column its own name")
    frame.columns = columns
    epoch_column = next((c for c in columns if c.lower() in EPOCH_COLUMNS), None)
    if epoch_column is None:
        hint = 'name the column of epoch numbers "epoch"'
        if columns and columns[0].startswith("Unnamed: "):  # pandas' to_csv wrote the index without a name
            hint += ' (the unnamed first column looks like a pandas index: write it with index_label="epoch")'
        raise InputError(f"{source}: no epoch column; columns are: {plain_list(columns)}; {hint}")
    if len(frame) == 0:
        raise InputError(f"{source}: no rows; the training history is empty")
    epochs = _csv_epochs(frame[epoch_column], epoch_column, source)
    values, logged_nonfinite = {}, {}
    for column in columns:
        if column.lower() in EPOCH_COLUMNS or column.lower() in NOT_METRICS:
            continue
        parsed = _csv_numbers(frame[column], column, source)
        if parsed is not None:
            values[column], logged_nonfinite[column] = parsed
    numbers = pd.DataFrame(values, index=pd.Index(epochs, name="epoch"))
    # Last finite value of each column within an epoch (groupby's `last` skips NaN).
    per_epoch = numbers.groupby(level=0, sort=True).last()
    nonfinite_any = pd.DataFrame(logged_nonfinite, index=numbers.index).groupby(level=0, sort=True).any()
    series = {c: per_epoch[c].to_numpy(dtype=np.float64) for c in values}
    nonfinite = {c: nonfinite_any[c].to_numpy(dtype=bool) & np.isnan(series[c]) for c in values}
    return History(
        source=source, kind="csv", epochs=per_epoch.index.to_numpy(dtype=np.int64), series=series, params={},
        nonfinite=nonfinite,
    )


def _csv_epochs(column: pd.Series, name: str, source: str) -> np.ndarray:
    """The epoch column as int64; an InputError for missing or non-whole values."""
    text = column.str.strip()
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(numbers) | (np.mod(numbers, 1) != 0)
    if bad.any():
        raise InputError(
            f'{source}: column "{name}": {counted_rows(bad, "value")} not a whole-number epoch: '
            f"{quoted_list(text[bad].unique().tolist())}; every row needs its epoch number"
        )
    return numbers.astype(np.int64)


def _csv_numbers(column: pd.Series, name: str, source: str) -> tuple[np.ndarray, np.ndarray] | None:
    """A metric column as float64 (NaN where missing or not finite) and where it logged NaN/inf; None for a
    column without numbers (text, or empty), which is not a metric."""
    text = column.str.strip()
    missing = text.isin(MISSING_TEXT).to_numpy()
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64, copy=True)
    parsed = ~np.isnan(numbers)  # re-read with Python's correctly rounded parser: pandas < 3.1's is off by an ulp
    numbers[parsed] = text[parsed].astype(np.float64).to_numpy()
    nan_text = text.str.lower().str.lstrip("+-").eq("nan").to_numpy()
    bad = np.isnan(numbers) & ~missing & ~nan_text
    if not np.isfinite(numbers).any() and not nan_text.any():
        return None
    if bad.any():
        raise InputError(
            f'{source}: column "{name}": {counted_rows(bad, "non-numeric value")}: {quoted_list(text[bad].unique().tolist())}; '
            "a metric column holds numbers, or is empty where not logged"
        )
    nonfinite = ~np.isfinite(numbers) & ~missing
    return np.where(np.isfinite(numbers), numbers, np.nan), nonfinite


# ---------------------------------------------------------------------------------------------- Keras


def _read_keras(path: Path, source: str) -> History:
    shape = 'expected a Keras History.history: an object of metric name → list of per-epoch values, e.g. {"loss": [0.9, 0.6]}'
    try:
        with path.open("rb") as handle:
            start = handle.read(4096)
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {_first_line(exc)}") from None
    if not start.strip():
        raise InputError(f"{source}: the file is empty; {shape}")
    data = io.read_json_file(path, source=source, what="Keras history", advice=shape, allow_nan=True)
    if not isinstance(data, dict):
        raise InputError(f"{source}: found a JSON {_json_type(data)}; {shape}")
    if not data:
        raise InputError(f"{source}: no metrics; {shape}")
    not_lists = [name for name, values in data.items() if not isinstance(values, list)]
    if not_lists:
        raise InputError(f"{source}: {quoted_list(not_lists)} {'is not a list' if len(not_lists) == 1 else 'are not lists'}; {shape}")
    lengths = {name: len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f'"{name}": {n}' for name, n in list(lengths.items())[:5])
        raise InputError(
            f"{source}: the lists differ in length ({shown}{' …' if len(lengths) > 5 else ''}); every metric needs "
            "one value per epoch (with validation_freq > 1, log with keras.callbacks.CSVLogger instead)"
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise InputError(f"{source}: the lists are empty; the training history has no epochs")
    epoch_key = next((name for name in data if name.lower() in EPOCH_COLUMNS), None)
    if epoch_key is not None:
        epochs = _keras_epochs(data.pop(epoch_key), epoch_key, source)
        if not data:
            raise InputError(f'{source}: no metrics besides "{epoch_key}"; {shape}')
    else:
        epochs = np.arange(n, dtype=np.int64)
    series, nonfinite = {}, {}
    for name, values in data.items():
        numbers, bad = _json_numbers(values)
        if bad.any():
            found = plain_list(dict.fromkeys(json.dumps(values[i]) for i in np.flatnonzero(bad)))  # as in the file
            raise InputError(
                f'{source}: "{name}": {counted(int(bad.sum()), "value")} not a number (epochs {_epoch_list(bad, epochs)}: '
                f"{found}); each list holds one number per epoch"
            )
        series[name] = np.where(np.isfinite(numbers), numbers, np.nan)
        nonfinite[name] = np.array([v is not None for v in values]) & ~np.isfinite(numbers)
    return History(source=source, kind="keras", epochs=epochs, series=series, params={}, nonfinite=nonfinite)


def _json_type(value: object) -> str:
    return {list: "list", str: "string", bool: "true/false", type(None): "null"}.get(type(value), "number")


def _epoch_list(mask: np.ndarray, epochs: np.ndarray) -> str:
    return plain_list(epochs[mask].tolist())


def _json_numbers(values: list) -> tuple[np.ndarray, np.ndarray]:
    """Values as float64 (null → NaN; numbers written as text are read) and where a value is not a number."""
    numbers = np.full(len(values), np.nan)
    bad = np.zeros(len(values), dtype=bool)
    for i, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            bad[i] = True
            continue
        try:
            numbers[i] = float(value)
        except (ValueError, OverflowError):
            bad[i] = True
    return numbers, bad


def _keras_epochs(values: list, key: str, source: str) -> np.ndarray:
    numbers, bad = _json_numbers(values)
    with np.errstate(invalid="ignore"):
        bad |= ~np.isfinite(numbers) | (np.mod(numbers, 1) != 0)
    if bad.any() or (len(numbers) > 1 and np.any(np.diff(numbers) <= 0)):
        raise InputError(f'{source}: "{key}" must list increasing whole epoch numbers, one per value')
    return numbers.astype(np.int64)


# ---------------------------------------------------------------------------------------------- MLflow


def _is_run(folder: Path) -> bool:
    return (folder / "meta.yaml").is_file() and (folder / "metrics").is_dir()


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _not_a_run(path: Path, source: str) -> InputError:
    """The error for a folder that is not a run, with a hint when it is an experiment or a store."""
    base = source.rstrip("/\\") or "."
    runs = [p.name for p in _subfolders(path) if _is_run(p)]
    if runs:
        return InputError(
            f"{source}: an MLflow experiment folder, not a run; {RUN_HINT}, e.g. "
            f"{base}/{runs[0]} (runs here: {quoted_list(runs)})"
        )
    for experiment in _subfolders(path):
        runs = [p.name for p in _subfolders(experiment) if _is_run(p)]
        if runs:
            return InputError(
                f"{source}: an MLflow store (mlruns/), not a run; {RUN_HINT}, e.g. "
                f"{base}/{experiment.name}/{runs[0]}"
            )
    if (path / "metrics.csv").is_file():  # a Lightning CSVLogger folder (lightning_logs/version_N)
        return InputError(
            f'{source}: a folder, not a history file or MLflow run; did you mean "{base}/metrics.csv"?'
        )
    lacking = [what for what, ok in (("meta.yaml", (path / "meta.yaml").is_file()),
                                     ("metrics/ folder", (path / "metrics").is_dir())) if not ok]
    return InputError(
        f"{source}: a folder but not an MLflow run (no {' and no '.join(lacking)}); {RUN_HINT}, "
        "e.g. mlruns/0/<run id>, or a .csv or Keras .json history file"
    )


def _files(folder: Path) -> dict[str, Path]:
    """Files under `folder` by their relative name ("train/acc" for nested folders), hidden ones left out."""
    if not folder.is_dir():
        return {}
    found = {}
    for file in sorted(folder.rglob("*")):
        relative = file.relative_to(folder)
        if file.is_file() and not any(part.startswith(".") for part in relative.parts):
            found[relative.as_posix()] = file
    return found


def _read_mlflow(path: Path, source: str) -> History:
    if not _is_run(path):
        raise _not_a_run(path, source)
    logged: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, file in _files(path / "metrics").items():
        steps, values = _mlflow_metric(file, f"metrics/{name}", source)
        if len(steps):
            logged[name] = (steps, values)
    if not logged:
        raise InputError(f"{source}: the MLflow run has no metric values (its metrics/ folder is empty)")
    epochs = np.unique(np.concatenate([steps for steps, _ in logged.values()]))
    series, nonfinite = {}, {}
    for name, (steps, values) in logged.items():
        column = np.full(len(epochs), np.nan)
        column[np.searchsorted(epochs, steps)] = values
        series[name] = np.where(np.isfinite(column), column, np.nan)
        nonfinite[name] = np.zeros(len(epochs), dtype=bool)
        nonfinite[name][np.searchsorted(epochs, steps)] = ~np.isfinite(values)
    params = {}
    for name, file in _files(path / "params").items():
        try:
            params[name] = file.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"{source}: cannot read params/{name}: {_first_line(exc)}") from None
    return History(source=source, kind="mlflow", epochs=epochs, series=series, params=params, nonfinite=nonfinite)


def _mlflow_metric(file: Path, name: str, source: str) -> tuple[np.ndarray, np.ndarray]:
    """One metric file's steps (unique, increasing) and values, keeping per step the last value logged (by
    timestamp, then by line)."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read {name}: {_first_line(exc)}") from None
    stamps, values, steps = [], [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 3:
                raise ValueError
            stamp, value, step = int(fields[0]), float(fields[1]), int(fields[2])
        except ValueError:
            raise InputError(
                f'{source}: {name} line {number}: expected "<timestamp ms> <value> <step>", found "{shown(line.strip(), 60)}"'
            ) from None
        stamps.append(stamp)
        values.append(value)
        steps.append(step)
    if not steps:
        return np.array([], dtype=np.int64), np.array([])
    step_array = np.array(steps, dtype=np.int64)
    order = np.lexsort((np.arange(len(steps)), np.array(stamps, dtype=np.int64), step_array))
    sorted_steps = step_array[order]
    last = np.r_[sorted_steps[1:] != sorted_steps[:-1], True]
    return sorted_steps[last], np.array(values, dtype=np.float64)[order][last]

