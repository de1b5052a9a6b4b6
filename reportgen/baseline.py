"""Reading a baseline model's predictions and aligning them row by row with the candidate's.

The baseline names its output columns as `[data]` does; its labels are the candidate's. Rows are
joined on `[baseline] id`, or else must be in the candidate's order, which is checked on every
column the two files share.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen import io
from reportgen.config import BaselineSpec, DataSection, output_key
from reportgen.errors import InputError, counted, counted_rows, plain_list, quoted_list, shown
from reportgen.io import Predictions

# Messages of `io.check_predictions` name these keys as `[data]` keys; for a baseline they are its own.
_BASELINE_KEYS = re.compile(r"\[data\] (score|scores|score_prefix|prediction|threshold|normalize)\b")
# ... and count rows in the candidate's order, which after a join are not the baseline file's rows.
_ROW_NUMBERS = re.compile(r"\((rows?) ([\d, ]+?)( …)?\)")


@dataclass(frozen=True)
class Baseline:
    """A baseline's checked predictions, in the candidate's row order.

    Attributes
    ----------
    name : str
        `[baseline] name`.
    source : str
        The file as the user wrote it (`[baseline] path`).
    predictions : Predictions
        The baseline's `y_pred` and `scores`; `task`, `y_true`, `classes` and `positive_label` are
        the candidate's.
    join : str
        How rows were matched, for the card: 'on column "row_id"' or "by row order".
    unmatched : int
        Baseline rows left out because no candidate row has their id (0 by row order).
    """

    name: str
    source: str
    predictions: Predictions
    join: str
    unmatched: int


def load_baseline(spec: BaselineSpec, candidate: Predictions, data: DataSection, *, path: Path) -> Baseline:
    """Read a baseline's predictions file, align its rows with the candidate's and check them.

    Parameters
    ----------
    spec : BaselineSpec
        The `[baseline]` table.
    candidate : Predictions
        The checked predictions of the model under evaluation.
    data : DataSection
        The candidate's `[data]` table: the label column, and the defaults the baseline shares.
    path : Path
        The baseline's file, resolved (`spec.path` is relative to the config's folder).

    Returns
    -------
    Baseline

    Raises
    ------
    InputError
        If the baseline's output does not fit the candidate's task, its file is unreadable or lacks
        a named column, its rows cannot be matched one to one with the candidate's (by `id`, or in
        order), or its predictions fail the checks `[data]` columns get.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "old.csv").write_text("row_id,p_old\\n3,0.7\\n1,0.2\\n2,0.9\\n")
    >>> data = DataSection(label="y", score="p")
    >>> frame = pd.DataFrame({"row_id": [1, 2], "y": [0, 1], "p": [0.1, 0.8]})
    >>> candidate = io.check_predictions(frame, data, source="preds.csv")
    >>> spec = BaselineSpec(path="old.csv", score="p_old", id="row_id")
    >>> baseline = load_baseline(spec, candidate, data, path=folder / "old.csv")
    >>> baseline.predictions.scores.tolist(), baseline.join, baseline.unmatched
    ([0.2, 0.9], 'on column "row_id"', 1)
    """
    return align_baseline(spec, io.read_table(path, spec.path), candidate, data, fingerprint=io.file_fingerprint(path))


def align_baseline(
    spec: BaselineSpec, frame: pd.DataFrame, candidate: Predictions, data: DataSection, *, fingerprint: str | None = None
) -> Baseline:
    """As `load_baseline`, for a baseline's predictions already read into `frame`.

    `fingerprint` is of the file the frame was read from; by default, of the frame's contents.
    """
    source = spec.path
    section = baseline_section(spec, candidate.task, data)
    outputs = output_columns(spec, list(frame.columns), data.label)
    if spec.id is None:
        _check_row_order(frame, candidate, spec, data)
        order = np.arange(len(frame))
        join = "by row order"
    else:
        order = _join_on_id(frame, candidate, spec, data)
        join = f'on column "{shown(spec.id)}"'
    label = candidate.frame[data.label].reset_index(drop=True)
    aligned = pd.concat([label, frame[outputs].iloc[order].reset_index(drop=True)], axis=1)
    if candidate.task == "multiclass" and spec.prediction is not None:
        _reject_regression_output(aligned[spec.prediction], candidate, spec)
    try:
        predictions = io.check_predictions(
            aligned, section, task=candidate.task, source=source,
            fingerprint=fingerprint or io.frame_fingerprint(frame),
        )
    except InputError as exc:
        ids = None if spec.id is None else candidate.frame[spec.id]
        raise InputError(in_baseline_terms(str(exc), ids)) from None
    predictions = _on_candidate_classes(predictions, candidate, source)
    assert np.array_equal(predictions.y_true, candidate.y_true), "the aligned labels are the candidate's"
    assert predictions.positive_label == candidate.positive_label, "the same labels pick the same positive"
    return Baseline(
        name=spec.name, source=source, predictions=predictions, join=join, unmatched=len(frame) - len(order)
    )


def in_baseline_terms(message: str, ids: pd.Series | None) -> str:
    """A message of `io.check_predictions` on the aligned frame, naming the baseline's keys, and ids for rows."""
    message = _BASELINE_KEYS.sub(r"[baseline] \1", message)
    if ids is None:
        return message

    def by_id(match: re.Match[str]) -> str:
        rows = [int(row) - 1 for row in match[2].split(", ")]
        return f"(id{match[1][3:]} {plain_list(_text(ids.iloc[rows]))}{match[3] or ''})"

    return _ROW_NUMBERS.sub(by_id, message)


def baseline_section(spec: BaselineSpec, task: str, data: DataSection) -> DataSection:
    """The `[data]` table the baseline is checked with: its own output keys, the candidate's label."""
    if spec.task not in (None, task):
        key = output_key(spec)
        makes = "make" if key == '"scores"' else "makes"
        raise InputError(
            f'{spec.path}: [baseline] "{shown(spec.name)}": its {key} {makes} it a {spec.task} model, but the '
            f"candidate is a {task} model; compare models of the same task"
        )
    if task == "binary" and spec.score is None:
        raise InputError(
            f'{spec.path}: [baseline] "{shown(spec.name)}" gives only "prediction"; a binary model\'s baseline needs '
            '"score", the column of positive-class probabilities'
        )
    keys = {
        "label": data.label,
        "score": spec.score,
        "scores": spec.scores,
        "score_prefix": spec.score_prefix,
        "prediction": spec.prediction,
        "threshold": spec.threshold,
    }
    if "normalize" in spec.model_fields_set:
        keys["normalize"] = spec.normalize
    if task == "binary":  # the candidate's settings, where they apply
        keys["positive_label"] = data.positive_label
        keys["threshold"] = spec.threshold if spec.threshold is not None else data.threshold
    if spec.task == "multiclass":
        keys["top_k"] = data.top_k
    section = DataSection(**{key: value for key, value in keys.items() if value is not None})
    try:
        section.check_task(task)
    except ValueError as exc:
        raise InputError(f"{spec.path}: [baseline] {exc}") from None
    return section


def output_columns(spec: BaselineSpec, available: Sequence[object], label: str) -> list[str]:
    """The baseline's output columns among the columns of its file (`available`), each checked to exist and not to
    be the label."""
    prefix = spec.score_prefix
    named = {
        "score": [spec.score],
        "scores": list((spec.scores or {}).values()),
        "score_prefix": [c for c in available if prefix and str(c).startswith(prefix) and str(c) != prefix],
        "prediction": [spec.prediction],
    }
    for key, columns in named.items():
        missing = [column for column in columns if column is not None and column not in available]
        if missing:
            raise InputError(
                f"{spec.path}: no column {quoted_list(missing)} ([baseline] {key}); "
                f"columns are: {plain_list(available, limit=12)}"
            )
        if label in columns:
            raise InputError(
                f'{spec.path}: [baseline] {key}: column "{shown(label)}" is the label of the predictions ([data] label); '
                "the baseline's output must be in columns of its own"
            )
    if prefix is not None and len(named["score_prefix"]) < 2:
        raise InputError(
            f'{spec.path}: [baseline] score_prefix "{shown(prefix)}" matches {counted(len(named["score_prefix"]), "column")}; '
            f"a multiclass model needs one probability column per class; columns are: "
            f"{plain_list(available, limit=12)}"
        )
    return list(dict.fromkeys(c for columns in named.values() for c in columns if c is not None))


def _outputs(keys: BaselineSpec | DataSection, columns: pd.Index) -> set[str]:
    """Every column a model's output keys name (or, with `score_prefix`, match) among `columns`."""
    names = {keys.score, keys.prediction, *(keys.scores or {}).values()} - {None}
    if keys.score_prefix is not None:
        names |= {str(c) for c in columns if str(c).startswith(keys.score_prefix)}
    return names


def _check_row_order(frame: pd.DataFrame, candidate: Predictions, spec: BaselineSpec, data: DataSection) -> None:
    """Without an id, the files must agree row by row on every column they share but the models' outputs."""
    if len(frame) != len(candidate.frame):
        raise InputError(
            f"{spec.path}: {counted(len(frame), 'row')}, but {candidate.source} has {len(candidate.frame)}; "
            "give the baseline's predictions for the same rows in the same order, or set [baseline] id to join "
            "the files on an id column"
        )
    skip = _outputs(spec, frame.columns) | _outputs(data, candidate.frame.columns)
    shared = [c for c in candidate.frame.columns if c in frame.columns and c not in skip]
    if not shared:
        raise InputError(
            f'{spec.path}: shares no column with the predictions (e.g. the label "{shown(data.label)}"), so the row '
            "order cannot be checked; add the label column or set [baseline] id"
        )
    for column in sorted(shared, key=lambda c: c != data.label):  # the label first
        differ = _differing(candidate.frame[column], frame[column])
        n = int(differ.sum())
        if n:
            raise InputError(
                f'{spec.path}: {counted(n, "row")} differ{"s" if n == 1 else ""} from the predictions in column '
                f'"{shown(column)}" ({"row" if n == 1 else "rows"} {_few(np.flatnonzero(differ) + 1)}); rows must be in '
                "the same order, or set [baseline] id"
            )


def _join_on_id(frame: pd.DataFrame, candidate: Predictions, spec: BaselineSpec, data: DataSection) -> np.ndarray:
    """Positions of the baseline's rows in the candidate's row order, matched on `spec.id`."""
    assert spec.id is not None, "joining needs [baseline] id"
    where = f'{spec.path}: [baseline] id "{shown(spec.id)}"'
    order, wanted = match_ids(candidate.frame, frame, spec.id, (candidate.source, spec.path), where)
    absent = order < 0
    n = int(absent.sum())
    if n:
        raise InputError(
            f"{where}: {n} of the {len(wanted)} predictions {'has' if n == 1 else 'have'} no baseline row "
            f"(e.g. {'id' if n == 1 else 'ids'} {_few(_text(wanted[absent]))}); the baseline must cover every row"
        )
    if data.label in frame.columns:
        differ = _differing(candidate.frame[data.label], frame[data.label].iloc[order])
        n = int(differ.sum())
        if n:
            raise InputError(
                f'{where}: column "{shown(data.label)}" differs from the predictions for {counted(n, "id")} '
                f"(e.g. {_few(_text(wanted[differ]))}); an id must name the same row in both files"
            )
    return order


def match_ids(wanted: pd.DataFrame, have: pd.DataFrame, column: str, files: tuple[str, str], where: str
              ) -> tuple[np.ndarray, pd.Series]:
    """Where each row of `wanted` is in `have`, matched on their `column` (−1: nowhere), and `wanted`'s ids; both
    files' ids checked complete and unique (numbers matched by value, or else as text: 17, 17.0 and "17" match).

    Raises
    ------
    InputError
        Starting with `where`, if a file (`files`: `wanted`'s, `have`'s) lacks the column, or has missing or
        repeated ids.
    """
    wanted_ids = _id_column(wanted, column, files[0], where)
    have_ids = _id_column(have, column, files[1], where)
    by_value = _is_number(wanted_ids) and _is_number(have_ids)
    keys = _unique_keys(wanted_ids, by_value, files[0], where)
    return _unique_keys(have_ids, by_value, files[1], where).get_indexer(keys), wanted_ids


def _id_column(frame: pd.DataFrame, column: str, file: str, where: str) -> pd.Series:
    """The id column of `file`, checked to be present and complete."""
    if column not in frame.columns:
        raise InputError(f'{where}: no column "{shown(column)}" in {file}; columns are: {plain_list(frame.columns, limit=12)}')
    ids = frame[column].reset_index(drop=True)
    missing = ids.isna().to_numpy()
    if missing.any():
        raise InputError(f"{where}: {counted_rows(missing, 'missing id')} in {file}; each row needs its own id")
    return ids


def _unique_keys(ids: pd.Series, by_value: bool, file: str, where: str) -> pd.Index:
    """The ids as join keys, checked to be unique: numbers by value, or else text (17, 17.0 and "17" match)."""
    keys = pd.Index(ids.to_numpy()) if by_value else pd.Index(_text(ids), dtype=object)
    repeated = pd.unique(_text(ids[keys.duplicated()]))
    if len(repeated):
        raise InputError(
            f"{where}: {counted(len(repeated), 'duplicate id')} in {file} (e.g. {_few(repeated)}); "
            "each row needs its own id"
        )
    return keys


def _differing(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Where two columns differ, position by position: numbers within 1e-9 (relative), other values as
    written (as text when their types differ); missing equals missing."""
    if _is_number(left) and _is_number(right):
        return ~np.isclose(
            left.to_numpy(dtype=np.float64, na_value=np.nan),
            right.to_numpy(dtype=np.float64, na_value=np.nan),
            rtol=1e-9,
            atol=0.0,
            equal_nan=True,
        )
    same_type = left.dtype == right.dtype
    a = left.to_numpy(dtype=object) if same_type else _text(left)
    b = right.to_numpy(dtype=object) if same_type else _text(right)
    missing_a, missing_b = left.isna().to_numpy(), right.isna().to_numpy()
    both = ~missing_a & ~missing_b
    differ = missing_a != missing_b
    differ[both] = a[both] != b[both]
    return differ


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _text(values: pd.Series) -> np.ndarray:
    """Values as text, whole floats without ".0" (a CSV column with gaps reads 17 as 17.0), so that 17,
    17.0 and "17" compare equal."""
    text = values.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            whole = (np.mod(numbers, 1) == 0) & (np.abs(numbers) < 2**53)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
    return text


def _few(values: np.ndarray) -> str:
    """ "4, 8, 15, 16, 23 …": the first five values, and "…" when there are more."""
    return plain_list(values[:5]) + (" …" if len(values) > 5 else "")


def _reject_regression_output(predicted: pd.Series, candidate: Predictions, spec: BaselineSpec) -> None:
    """A numeric prediction column with values that are not the candidate's classes is a regression model's."""
    if not _is_number(predicted):
        return
    text = _text(predicted)
    foreign = pd.unique(text[predicted.notna().to_numpy() & ~np.isin(text, candidate.classes)])
    if len(foreign):
        raise InputError(
            f'{spec.path}: [baseline] prediction "{shown(spec.prediction)}" holds numbers that are not classes '
            f"({_few(foreign)}); it looks like a regression model, but the candidate is a multiclass model with classes "
            f"{quoted_list(candidate.classes)}; compare models of the same task"
        )


def _on_candidate_classes(predictions: Predictions, candidate: Predictions, source: str) -> Predictions:
    """A multiclass baseline coded on the candidate's classes.

    A baseline with predictions only may see fewer classes than the candidate (a class only the
    candidate predicts): its predictions are re-coded on the candidate's classes. Otherwise the
    classes must be the same.
    """
    if predictions.classes == candidate.classes:
        return predictions
    foreign = [c for c in predictions.classes if c not in candidate.classes]
    if predictions.scores is None and not foreign:
        codes = np.array([candidate.classes.index(c) for c in predictions.classes], dtype=np.intp)
        return dataclasses.replace(predictions, classes=list(candidate.classes), y_true=candidate.y_true,
                                   y_pred=codes[predictions.y_pred])
    only = [
        f"{quoted_list(names)} only in {file}"
        for names, file in (
            (foreign, source),
            ([c for c in candidate.classes if c not in predictions.classes], candidate.source),
        )
        if names
    ]
    raise InputError(
        f"{source}: the classes differ from the predictions' ({', '.join(only)}); the two models must have the "
        "same classes"
    )
