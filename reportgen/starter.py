"""`reportgen init`: a commented starter config guessed from a predictions file, and the config's JSON Schema.

Guesses come from column names and values only (nothing in the data is executed); each is written as
a "# guessed:" comment above its key. What cannot be guessed is left out with a "# TODO:" comment, so
that the file fails to build with a one-line error naming that key. Column names are written as TOML
basic strings with every quote, backslash and unprintable character escaped (`toml_value`), so no
name can end a string or a comment line early.

The config names its schema with a `#:schema` directive (Taplo, Even Better TOML, Tombi) pointing at
a copy of the published schema written beside it, `.reportgen/config.schema.json`: a relative path
works offline, on any machine, and does not depend on where reportgen is installed.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reportgen.config import config_schema
from reportgen.errors import InputError, counted, shown
from reportgen.io import SUM_TOLERANCE, read_table
from reportgen.render.files import write_atomic

SCHEMA_FILE = "schema/config.schema.json"  # in the package; regenerate with `python -m reportgen.starter`
SCHEMA_COPY = Path(".reportgen") / "config.schema.json"  # beside the written config; the #:schema directive's target
DEFAULT_OUT = Path("reportgen.toml")

LABEL_NAMES = ("label", "labels", "target", "y", "y_true", "ytrue", "true", "truth", "ground_truth", "actual",
               "outcome", "class", "gold", "true_label", "target_class")
SCORE_NAMES = ("score", "proba", "prob", "probability", "p", "p_1", "p1", "prediction_score", "pred_proba",
               "pred_prob", "y_score", "y_proba", "y_prob", "proba_1", "prob_1", "predicted_probability")
PREDICTION_NAMES = ("pred", "prediction", "predicted", "y_pred", "ypred", "yhat", "y_hat", "preds", "predictions",
                    "predicted_label", "predicted_class", "predicted_value")
PREDICTION_AFFIXES = (("predicted_", ""), ("prediction_", ""), ("pred_", ""), ("", "_pred"), ("", "_predicted"),
                      ("", "_prediction"), ("", "_hat"))
SENSITIVE_WORDS = ("sex", "gender", "race", "ethnicity", "ethnic", "age", "religion", "disability", "disabled",
                   "nationality", "native_country", "country_of_birth", "citizenship", "marital", "marital_status",
                   "maritl", "pregnancy", "pregnant", "sexual_orientation", "orientation", "veteran", "caste")
POSITIVE_WORDS = ("1", "true", "yes", "y", "positive", "pos")
MAX_CATEGORIES = 20  # a non-numeric column with more values is not offered as a slice
MAX_NUMERIC_VALUES = 10  # a numeric column with more values is sliced into quartiles
QUANTILES = 4
MAX_PREFIX = 64  # probability columns' prefixes are looked for in the first characters of a name
MAX_ACTIVE_SLICES = 8  # candidate slices written as [[slices]]; more are written commented out


@dataclass(frozen=True)
class Column:
    """What the guesses need to know of one column.

    `values` holds the distinct values (missing values left out) when there are at most
    `MAX_CATEGORIES`, else None.
    """

    name: str
    key: str
    n_values: int
    n_missing: int
    numeric: bool
    whole: bool
    fractions: bool
    values: tuple[Any, ...] | None

    @property
    def text_values(self) -> set[str] | None:
        """The distinct values as text, whole floats without ".0"."""
        if self.values is None:
            return None
        return {str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in self.values}


@dataclass
class Starter:
    """The guessed config: the task, `[data]` keys with their values, why each was guessed (`guessed`) or what
    to fill in (`todo`), candidate slices with a note each, columns left out and sensitive columns."""

    task: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    guessed: dict[str, str] = field(default_factory=dict)
    todo: dict[str, str] = field(default_factory=dict)
    slices: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)


def profile(frame: pd.DataFrame) -> list[Column]:
    """One `Column` per column of `frame`, in order."""
    columns = []
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        numbers = present.to_numpy(dtype=np.float64) if numeric else np.empty(0)
        finite = bool(np.isfinite(numbers).all())
        n_values = int(present.nunique())
        columns.append(Column(
            name=str(name),
            key=re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_"),
            n_values=n_values,
            n_missing=int(len(values) - len(present)),
            numeric=numeric,
            whole=numeric and finite and bool(np.all(np.mod(numbers, 1) == 0)),
            fractions=numeric and len(present) == len(values) and finite and bool(
                np.all((numbers >= 0) & (numbers <= 1))),
            values=tuple(sorted(pd.unique(present), key=str)) if n_values <= MAX_CATEGORIES else None,
        ))
    return columns


def guess(frame: pd.DataFrame) -> Starter:
    """Guess the task, the `[data]` columns, candidate slices and sensitive columns of a predictions table."""
    columns = profile(frame)
    starter = Starter()
    by_name = {c.name: c for c in columns}
    family = _probability_family(frame, columns)
    score = None if family is not None and family[1] > 2 else _score(columns, family)
    prediction = _named(columns, PREDICTION_NAMES, exclude={score})
    if prediction is None:
        keys = {c.key for c in columns}  # "predicted_wage" is a prediction when "wage" is a column
        prediction = next((c for c in columns if c.name != score and _affix_stem(c.key) in keys - {None}
                           and not _scorelike(c.key)), None)
    prediction_name = prediction.name if prediction is not None else None
    label, why = _label(columns, family, score, prediction_name)
    task, task_why = _task(by_name.get(label) if label else None, family)
    starter.task = task
    if task is not None:
        starter.guessed["task"] = task_why
    if label is not None:
        starter.data["label"] = label
        n_values = by_name[label].n_values
        starter.guessed["label"] = why if "values" in why else f"{why}, {counted(n_values, 'value')}"
    else:
        starter.todo["label"] = "no column is named like the true labels (label, target, y, ...); name it here"
    # without a label (so a task), the model's columns that were found are still written
    kind = task or ("multiclass" if family is not None and family[1] > 2 else "binary" if score is not None else None)
    if kind == "multiclass" and family is not None:
        starter.data["score_prefix"] = family[0]
        starter.guessed["score_prefix"] = f"{family[1]} columns in [0, 1] starting with it sum to 1 on every row"
    if kind == "binary":
        if score is not None:
            starter.data["score"] = score
            starter.guessed["score"] = _score_reason(by_name[score], family)
        else:
            starter.todo["score"] = "no column of positive-class probabilities (numbers in [0, 1]) was found; name it"
    if prediction_name is not None:
        starter.data["prediction"] = prediction_name
        starter.guessed["prediction"] = "named like predictions"
    elif kind == "regression":
        starter.todo["prediction"] = "no column is named like predicted values (prediction, y_pred, ...); name it"
    elif kind == "multiclass" and family is None:
        starter.todo["prediction"] = ("no column of predicted classes (prediction, y_pred, ...) nor probability "
                                      'columns summing to 1 were found; name it, or set "score_prefix"')
    if task == "binary" and label is not None:
        _positive_label(starter, by_name[label], _suffix(score, family))
    model_columns = {label, score, prediction_name} | (set(family[2]) if family is not None else set())
    _candidate_slices(starter, [c for c in columns if c.name not in model_columns], len(frame))
    starter.sensitive = [c.name for c in columns if c.name not in model_columns and _sensitive(c.key)]
    return starter


def _named(columns: list[Column], names: tuple[str, ...], exclude: set[str | None]) -> Column | None:
    """The column whose normalized name comes first in `names`."""
    found = [(names.index(c.key), i) for i, c in enumerate(columns) if c.key in names and c.name not in exclude]
    return columns[min(found)[1]] if found else None


def _affix_stem(key: str) -> str | None:
    """"wage" for "predicted_wage" or "wage_pred": the column a prediction column is named after."""
    for prefix, suffix in PREDICTION_AFFIXES:
        if key.startswith(prefix) and key.endswith(suffix) and len(key) > len(prefix) + len(suffix):
            return key[len(prefix):len(key) - len(suffix)]
    return None


def _scorelike(key: str) -> bool:
    return key in SCORE_NAMES or any(word in key.split("_") for word in ("proba", "prob", "probability", "score"))


def _probability_family(frame: pd.DataFrame, columns: list[Column]) -> tuple[str, int, list[str]] | None:
    """(prefix, number of columns, columns): the largest set of columns sharing a prefix that ends at their first or
    second "_", all in [0, 1] and summing to 1 on every row, as `[data] score_prefix` reads them (every column
    starting with the prefix)."""
    families: dict[str, list[Column]] = {}
    for c in columns:  # a name starts with a prefix ending at its n-th "_" iff its own n-th "_" ends the same prefix
        ends = [i for i, ch in enumerate(c.name[:MAX_PREFIX]) if ch == "_"][:2]
        for end in ends:
            if end + 1 < len(c.name):
                families.setdefault(c.name[:end + 1], []).append(c)
    best = None
    for prefix, members in sorted(families.items(), key=lambda item: len(item[0])):
        if len(members) < 2 or not all(c.fractions for c in members):
            continue
        sums = frame[[c.name for c in members]].to_numpy(dtype=np.float64).sum(axis=1)
        if np.all(np.abs(sums - 1) <= SUM_TOLERANCE) and (best is None or len(members) > best[1]):
            best = (prefix, len(members), [c.name for c in members])
    return best


def _score(columns: list[Column], family: tuple[str, int, list[str]] | None) -> str | None:
    """The binary score column: of two probability columns, the positive class's; else one named like a score;
    else the only column of fractions in [0, 1] that are not all 0 and 1."""
    if family is not None:
        prefix, _, names = family
        return next((n for n in names if n[len(prefix):].lower() in POSITIVE_WORDS), sorted(names)[-1])
    named = _named([c for c in columns if c.fractions], SCORE_NAMES, exclude=set())
    if named is not None:
        return named.name
    fractional = [c for c in columns if c.fractions and not c.whole]
    scorelike = [c for c in fractional if _scorelike(c.key)]
    chosen = scorelike if len(scorelike) == 1 else fractional
    return chosen[0].name if len(chosen) == 1 else None


def _score_reason(column: Column, family: tuple[str, int, list[str]] | None) -> str:
    if family is not None:
        return f'of the two probability columns starting with "{shown(family[0])}", the positive class\'s'
    if column.key in SCORE_NAMES or _scorelike(column.key):
        return "named like a score, numbers in [0, 1]"
    return "the only column of fractions in [0, 1]"


def _label(
    columns: list[Column], family: tuple[str, int, list[str]] | None, score: str | None, prediction: str | None,
) -> tuple[str | None, str]:
    """The label column and why, or (None, "")."""
    model = {score, prediction} | (set(family[2]) if family is not None else set())
    candidates = [c for c in columns if c.name not in model]
    named = _named(candidates, LABEL_NAMES, exclude=set())
    if named is not None:
        return named.name, "named like a label"
    stem = next((_affix_stem(c.key) for c in columns if c.name == prediction), None)
    derived = next((c for c in candidates if stem is not None and c.key == stem), None)
    if derived is not None:
        return derived.name, f'the prediction column "{shown(prediction)}" is named after it'
    others = [c for c in candidates if not _sensitive(c.key) and not _scorelike(c.key)]
    if family is not None:
        classes = {name[len(family[0]):] for name in family[2]}
        matching = [c for c in others if c.values is not None and c.n_values >= 2 and c.text_values <= classes]
        if len(matching) == 1:
            return matching[0].name, f'its values are the classes of the "{shown(family[0])}" probability columns'
    if score is not None:
        two = [c for c in others if c.n_values == 2 and c.n_missing == 0]
        predicted = next((c for c in columns if c.name == prediction), None)
        same = [c for c in two if predicted is not None and c.text_values == predicted.text_values]
        binary = [c for c in two if c.text_values in ({"0", "1"}, {"False", "True"})]
        for chosen, why in ((same, "the only other column with the prediction's two values"),
                            (binary, "the only other column of 0/1 or true/false values")):
            if len(chosen) == 1:
                return chosen[0].name, why
    return None, ""


def _task(label: Column | None, family: tuple[str, int, list[str]] | None) -> tuple[str | None, str]:
    """The task and why, or (None, "") when the label is unknown."""
    if label is None:
        return None, ""
    if family is not None and (family[1] > 2 or label.n_values > 2):
        return "multiclass", f"{family[1]} probability columns starting with \"{shown(family[0])}\""
    if label.n_values <= 2:
        return "binary", f"the label has {counted(label.n_values, 'value')}"
    if label.numeric and not label.whole:
        return "regression", "the label holds fractional numbers"
    if label.numeric and label.n_values > MAX_CATEGORIES:
        return "regression", f"the label holds whole numbers with {label.n_values:,} values"
    return "multiclass", f"the label has {label.n_values} values"


def _suffix(score: str | None, family: tuple[str, int, list[str]] | None) -> str | None:
    """The class a family's probability column is for ("B" for "p_B")."""
    return score[len(family[0]):] if score is not None and family is not None else None


def _positive_label(starter: Starter, label: Column, score_class: str | None) -> None:
    """The positive class of a binary label not written 0/1 or true/false: the class of the score's probability
    column, else one that reads as positive, else a TODO."""
    texts = label.text_values or set()
    if texts <= {"0", "1"} or texts <= {"False", "True"} or label.values is None or len(label.values) < 2:
        return
    for why, matches in (("the class of the score's probability column", lambda text: text == score_class),
                         ("the label value that reads as positive", lambda text: text.lower() in POSITIVE_WORDS)):
        positive = next((v for v in label.values if matches(str(v))), None)
        if positive is not None:
            starter.data["positive_label"] = _plain(positive)
            starter.guessed["positive_label"] = why
            return
    shown_values = ", ".join(_comment_value(_plain(v)) for v in label.values)
    starter.todo["positive_label"] = f"the label's values are {shown_values}; set the positive one"


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value TOML writes."""
    return value.item() if isinstance(value, np.generic) else value


def _sensitive(key: str) -> bool:
    words = key.split("_")
    return key in SENSITIVE_WORDS or any(word in SENSITIVE_WORDS for word in words) or key.startswith("marit")


def _candidate_slices(starter: Starter, columns: list[Column], n_rows: int) -> None:
    """Value slices for categorical and low-cardinality columns, quartiles for numeric ones; ids and constants
    left out, with the reason."""
    for c in columns:
        if c.n_values <= 1:
            starter.left_out.append(f'"{shown(c.name)}" ({"no values" if c.n_values == 0 else "one value"})')
        elif c.n_values == n_rows and not (c.numeric and not c.whole):
            starter.left_out.append(f'"{shown(c.name)}" (a different value on every row: an id)')
        elif not c.numeric and c.n_values > MAX_CATEGORIES:
            starter.left_out.append(f'"{shown(c.name)}" ({c.n_values:,} values, too many groups for one slice)')
        elif c.numeric and c.n_values > MAX_NUMERIC_VALUES:
            starter.slices.append(({"column": c.name, "quantiles": QUANTILES}, f"numeric, {c.n_values:,} values"))
        else:
            starter.slices.append(({"column": c.name}, counted(c.n_values, "value")))


def toml_value(value: Any) -> str:
    """A string, number, boolean or list of them as TOML on one line; strings as basic strings.

    Quotes, backslashes and every character that is not printable (control characters, line and
    paragraph separators, format characters) are escaped, so the text stays on its line, in a
    comment as in a value.

    Examples
    --------
    >>> print(toml_value('a "b"\\nc'))
    "a \\"b\\"\\nc"
    """
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    return '"' + "".join(_ESCAPES.get(c) or (c if c.isprintable() else _unicode_escape(c)) for c in str(value)) + '"'


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _unicode_escape(char: str) -> str:
    return f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}"


def render(starter: Starter, *, data_path: str, source: str, n_rows: int, n_columns: int) -> str:
    """The starter config's text: the `#:schema` directive, then each section with its comments."""
    lines = [
        f"#:schema ./{SCHEMA_COPY.as_posix()}",
        "",
        f'# Written by `reportgen init` from "{shown(source)}" ({n_rows:,} rows, {counted(n_columns, "column")}).',
        '# Lines marked "guessed" were inferred from the column names and values: check them.',
        "# Build the report with: reportgen build <this file>. Every key: docs/init.md and the schema above.",
        "",
        "[report]",
        'title = "Model card"',
        'output_dir = "out"                 # relative to this file',
        "",
        "[model]",
        'name = "model"',
    ]
    if starter.task is not None:
        lines += [f"# guessed: task = {toml_value(starter.task)} ({starter.guessed['task']})",
                  f"task = {toml_value(starter.task)}"]
    else:
        lines += ['# TODO: task = "binary", "multiclass" or "regression" (the label is unknown, so is the task)']
    lines += ["", "[data]", f"path = {toml_value(data_path)}"]
    for key in ("label", "score", "score_prefix", "prediction", "positive_label"):
        if key in starter.data:
            lines += [f"# guessed: {key} = {_comment_value(starter.data[key])} ({starter.guessed[key]})",
                      f"{key} = {toml_value(starter.data[key])}"]
        elif key in starter.todo:
            lines += [f"# TODO: {key}: {starter.todo[key]}"]
    lines += ["", "# Slices: the groups each metric is reported for, from columns that are not the model's."]
    for index, (spec, why) in enumerate(starter.slices):
        mark = "" if index < MAX_ACTIVE_SLICES else "# "
        if index == MAX_ACTIVE_SLICES:
            lines += [f"# More candidates (at most {MAX_ACTIVE_SLICES} slices are on; each adds to the build time):"]
        lines += ["", f"{mark}[[slices]]                     # {why}"]
        lines += [f"{mark}{key} = {toml_value(value)}" for key, value in spec.items()]
    lines += [""] * bool(starter.left_out) + [f"# left out: {note}" for note in starter.left_out]
    lines += ["", "[fairness]"]
    if starter.sensitive:
        lines += ["# Columns named like protected attributes: keep the ones that are, then uncomment the line.",
                  "# Each sensitive column gets a slice and fairness gaps.",
                  f"# sensitive = {toml_value(starter.sensitive)}"]
    else:
        lines += ["# No column is named like a protected attribute; list the sensitive columns, if any:",
                  '# sensitive = ["column", ...]']
    return "\n".join(lines) + "\n"


def _comment_value(value: Any) -> str:
    return shown(toml_value(value), 120)


def write_starter(data: Path, out: Path | None = None, *, force: bool = False) -> tuple[list[Path], list[str]]:
    """Write a starter config for a predictions file, and the config schema beside it.

    Parameters
    ----------
    data : Path
        The predictions file (.csv, .parquet or .jsonl), read with `reportgen.io.read_table`.
    out : Path, optional
        The config to write (default `reportgen.toml` in the current folder); `[data] path` is written
        relative to its folder.
    force : bool
        Overwrite `out` if it exists.

    Returns
    -------
    written : list of Path
        The config, then the schema copy (`.reportgen/config.schema.json` beside it).
    notes : list of str
        One line per guess and per key left to fill in.

    Raises
    ------
    InputError
        If `out` exists (without `force`), or the predictions file cannot be read.
    """
    out = DEFAULT_OUT if out is None else out
    if (out.exists() or out.is_symlink()) and not force:
        raise InputError(f"{out}: already exists; give another --out, or --force to overwrite it")
    frame = read_table(data, str(data))
    starter = guess(frame)
    try:
        data_path = Path(os.path.relpath(data.resolve(), out.parent.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        data_path = data.resolve().as_posix()
    text = render(starter, data_path=data_path, source=data.name, n_rows=len(frame), n_columns=len(frame.columns))
    schema = write_atomic(out.parent / SCHEMA_COPY, schema_text())  # first: a failure then leaves no config
    written = [write_atomic(out, text.encode("utf-8")), schema]
    notes = [f"guessed {key} = {_comment_value(value)} ({starter.guessed[key]})"
             for key, value in [("task", starter.task), *starter.data.items()] if key in starter.guessed]
    notes += [f"TODO {key}: {why}" for key, why in starter.todo.items()]
    return written, notes


def schema_text() -> bytes:
    """The config's JSON Schema as published: indented JSON, one trailing newline."""
    return (json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def published_schema() -> bytes:
    """The config schema file shipped inside the package."""
    return resources.files("reportgen").joinpath(SCHEMA_FILE).read_bytes()


if __name__ == "__main__":  # python -m reportgen.starter: regenerate the published config schema
    target = Path(__file__).resolve().parent / SCHEMA_FILE
    write_atomic(target, schema_text())
    sys.stdout.write(f"{target}\n")
