"""Hostile configs and data files, as hypothesis strategies, and the check every loader must pass.

Shared by the fuzz test (`tests/test_fuzz_loaders.py`, a few seconds in CI) and the long run
(`benchmarks/fuzz_loaders.py`, many examples). A case is a project folder: `config.toml` and one
data file. `run_case` loads it as `reportgen build` would (`load_config`, `load_predictions`,
`evaluate_config`); every failure must be a `ReportgenError` whose message is one line of at most
`MAX_MESSAGE` characters. Anything else escaping is a bug.
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import strategies as st

import reportgen
from reportgen.config import Config, load_config
from reportgen.errors import ReportgenError
from reportgen.io import load_predictions

# The longest error message accepted: a message names a file (the test's temporary path, ~100
# characters, perhaps twice) and at most a dozen user values of 80 characters.
MAX_MESSAGE = 1500
FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = ("y", "p", "sex", "age", "pred", "score", "overall", "", " p", "p.1", "Unnamed: 0")


@dataclass(frozen=True)
class Raw:
    """Text written into a TOML or JSON document as is (a token no serializer would write)."""

    text: str


# ------------------------------------------------------------------------------------------ values

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
_names = st.one_of(st.sampled_from(COLUMNS), _text, st.just("n" * 300))
_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 0.5, -1e308, 1e-320, 2**53 + 1]),
)
_specials = st.sampled_from([
    Raw("1" + "0" * 5000),  # more digits than Python converts
    Raw("[" * 3000 + "]" * 3000),  # deeper than Python recurses
    Raw("NaN"), Raw("-Infinity"),
    "x" * 5000, "9" * 5000, "a\nb", "\x1b[31mred", "\u202eevil", "\x00", "é", "1e999",
])
scalars = st.one_of(st.none(), st.booleans(), _numbers, _text, _names, _specials)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
                      max_leaves=6)

# ------------------------------------------------------------------------------------------ config

_SECTIONS = {name: field.annotation for name, field in Config.model_fields.items()}


def _keys_of(section: str) -> list[str]:
    annotation = _SECTIONS.get(section)
    model = getattr(annotation, "__args__", (annotation,))[0] if section in ("slices", "gates", "baseline") else annotation
    return list(getattr(model, "model_fields", {}))


def _base_config(data_name: str) -> dict:
    return {
        "report": {"resamples": 100, "output_dir": "out"},
        "data": {"path": data_name, "label": "y", "score": "p"},
        "slices": [{"column": "sex"}],
        "fairness": {"sensitive": ["sex"]},
        "error_analysis": {"enabled": False},
    }


@st.composite
def config_texts(draw: st.DrawFn, data_name: str, *, gentle: bool = False) -> str | bytes:
    """A config: the valid base with some keys changed, added or removed, or text no TOML reader accepts.

    A `gentle` config changes at most one known key and is always TOML, so that most reach the pipeline.
    """
    doc = _base_config(data_name)
    for _ in range(draw(st.sampled_from([0, 0, 1] if gentle else [0, 0, 0, 0, 1, 1, 2, 4]))):
        section = draw(st.sampled_from(list(_SECTIONS) if gentle else [*_SECTIONS, "nonsense"]))
        known = st.sampled_from(_keys_of(section) or ["x"])
        key = draw(known if gentle else st.one_of(known, known, known, _names))
        value = draw(values)
        table = doc.setdefault(section, [{}] if section in ("slices", "gates") else {})
        if isinstance(table, list):
            table = table[0] if table else table.append({}) or table[0]
        if draw(st.booleans()) and key in table:
            del table[key]
        else:
            table[key] = value
    text = toml_document(doc)
    if gentle:
        return text
    kind = draw(st.sampled_from(["valid"] * 6 + ["cut", "garbage", "bytes"]))
    if kind == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if kind == "garbage":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.sampled_from(["[", "]]", "=", '"', "\x00", "\ufeff", "[data]\n", "x = [" * 50])) + text[at:]
    if kind == "bytes":
        return text.encode("utf-8")[:50] + draw(st.binary(max_size=20))
    return text


def toml_value(value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"
    return '""'  # None: TOML has no null


def toml_document(doc: dict) -> str:
    """TOML text of `doc`: tables of key = value lines, lists of tables as [[name]]."""
    lines = []
    for name, table in doc.items():
        quoted = json.dumps(name, ensure_ascii=False)
        if isinstance(table, dict):
            lines.append(f"[{quoted}]")
            lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in table.items()]
        elif isinstance(table, list) and all(isinstance(t, dict) for t in table):
            for entry in table:
                lines.append(f"[[{quoted}]]")
                lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in entry.items()]
        else:
            lines.insert(0, f"{quoted} = {toml_value(table)}")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------------- data


@st.composite
def data_columns(draw: st.DrawFn, *, nested: bool) -> list[tuple[str, list]]:
    """(name, cells) pairs: usually a label "y" and a score "p", then columns of mixed, odd values."""
    n = draw(st.sampled_from([0, 1, 2, 5, 12, 40]))
    cell = values if nested else scalars
    odd = st.lists(cell, min_size=n, max_size=n)
    y = draw(st.one_of(*[st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n)] * 4, odd))
    p = draw(st.one_of(*[st.lists(st.floats(0, 1), min_size=n, max_size=n)] * 4, odd))
    columns = [("y", y), ("p", p)] if draw(st.integers(0, 9)) else []
    sex = st.lists(st.sampled_from(["f", "m"]), min_size=n, max_size=n)
    columns.append(("sex", draw(st.one_of(sex, sex, st.lists(st.sampled_from(["f", "m", None, ""]), min_size=n, max_size=n),
                                          odd))))
    for _ in range(draw(st.integers(0, 3))):
        columns.append((draw(_names), draw(odd)))
    return columns


def _plain(value: object) -> object:
    return value.text if isinstance(value, Raw) else value


def csv_bytes(columns: list[tuple[str, list]]) -> bytes:
    frame = pd.DataFrame({i: pd.Series([_plain(v) for v in cells], dtype=object) for i, (_, cells) in enumerate(columns)})
    frame.columns = [name for name, _ in columns]
    return frame.to_csv(index=False).encode("utf-8", "surrogatepass")


def jsonl_bytes(columns: list[tuple[str, list]]) -> bytes:
    rows = max((len(cells) for _, cells in columns), default=0)

    def dump(value: object) -> str:
        if isinstance(value, Raw):
            return value.text
        if isinstance(value, list):
            return "[" + ", ".join(dump(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.items()) + "}"
        return json.dumps(value)

    lines = ["{" + ", ".join(f"{json.dumps(name)}: {dump(cells[i])}" for name, cells in columns) + "}" for i in range(rows)]
    return "\n".join(lines).encode("utf-8")


_ARROW_TYPES = st.sampled_from(["int", "float", "string", "bool", "null", "list", "struct", "map", "binary", "dict"])


@st.composite
def parquet_bytes(draw: st.DrawFn) -> bytes:
    """A Parquet file: "y" and "p" and columns of any Arrow type, names perhaps repeated."""
    n = draw(st.sampled_from([1, 3, 12, 40]))
    ints = st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n)
    names = ["y", "p", "sex"]
    arrays = [pa.array(draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))),
              pa.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))),
              pa.array(draw(st.lists(st.sampled_from(["f", "m"]), min_size=n, max_size=n)))]
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(_ARROW_TYPES)
        if kind == "int":
            array = pa.array(draw(ints))
        elif kind == "float":
            array = pa.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), type=pa.float64())
        elif kind == "string":
            array = pa.array(draw(st.lists(st.one_of(st.none(), _text, st.just("s" * 5000)), min_size=n, max_size=n)),
                             type=pa.string())
        elif kind == "bool":
            array = pa.array(draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=n, max_size=n)), type=pa.bool_())
        elif kind == "null":
            array = pa.nulls(n)
        elif kind == "list":
            array = pa.array(draw(st.lists(st.lists(st.integers(0, 9), max_size=3), min_size=n, max_size=n)))
        elif kind == "struct":
            array = pa.array([{"a": v} for v in draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))])
        elif kind == "map":
            array = pa.array([[("k", v)] for v in draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))],
                             type=pa.map_(pa.string(), pa.int64()))
        elif kind == "binary":
            array = pa.array(draw(st.lists(st.binary(max_size=8), min_size=n, max_size=n)), type=pa.binary())
        else:
            array = pa.array(draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n))).dictionary_encode()
        names.append(draw(_names))
        arrays.append(array)
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, names=names), sink)
    return sink.getvalue()


@st.composite
def data_files(draw: st.DrawFn) -> tuple[str, bytes]:
    """(file name, bytes): a CSV, JSONL or Parquet file with odd contents, or a broken one."""
    fmt = draw(st.sampled_from(FORMATS))
    if fmt == "parquet":
        content = draw(parquet_bytes())
    else:
        columns = draw(data_columns(nested=fmt == "jsonl"))
        content = csv_bytes(columns) if fmt == "csv" else jsonl_bytes(columns)
    damage = draw(st.sampled_from(["none"] * 6 + ["cut", "insert", "random"]))
    if damage == "cut":
        content = content[: draw(st.integers(0, len(content)))]
    elif damage == "insert":
        at = draw(st.integers(0, len(content)))
        extra = draw(st.one_of(st.sampled_from([b",", b"\n", b'"', b"\x00", b"\xff", b"\r", b"{", b",,,\n"]),
                               st.binary(max_size=8)))
        content = content[:at] + extra + content[at:]
    elif damage == "random":
        content = draw(st.binary(max_size=200))
    return f"data.{fmt}", content


# ------------------------------------------------------------------------------------------- check


def one_line(call, *args, **kwargs):
    """The result of `call`, or None when it raised a ReportgenError of one bounded line."""
    try:
        return call(*args, **kwargs)
    except ReportgenError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
        assert len(message) <= MAX_MESSAGE, f"{len(message)} characters: {message[:300]!r}…"
        return None


def run_case(folder: Path, config: str | bytes, data_name: str, data: bytes, *, evaluate: bool = True) -> None:
    """Load a project as `reportgen build` does; every failure must be one bounded line."""
    path = folder / "config.toml"
    path.write_bytes(config if isinstance(config, bytes) else config.encode("utf-8", "surrogatepass"))
    (folder / data_name).write_bytes(data)
    loaded = one_line(load_config, path)
    if loaded is None:
        return
    cfg, base = loaded
    one_line(load_predictions, folder / data_name, cfg.data, task=cfg.model.task, source=data_name)
    if evaluate:
        one_line(reportgen.evaluate_config, path)
