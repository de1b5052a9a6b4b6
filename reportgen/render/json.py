"""The model card as JSON, with a versioned, published JSON Schema."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reportgen.document.schema import SCHEMA_VERSION, Report
from reportgen.errors import InputError, shown
from reportgen.io import read_json_file
from reportgen.render.files import write_atomic

SCHEMA_FILE = "schema/report.schema.json"


def to_json(report: Report) -> str:
    """Serialize the report: fields in document order, `null` only for absent values."""
    return json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"



def read_json(path: Path) -> Report:
    """Read a `report.json` back into the document.

    Raises
    ------
    InputError
        If the file is missing, is not strict JSON (`io.read_json_file`: UTF-8, at most 64 MB, no NaN or
        repeated keys), was written with another major schema version, or does
        not match the schema.
    """
    try:
        raw = read_json_file(path, source=str(path), what="report.json")
    except FileNotFoundError:
        raise InputError(f"{path}: no such report file (build one with `reportgen build`)") from None
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if not isinstance(version, str) or version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"{path}: report schema {shown(version)} cannot be read by this reportgen (schema {SCHEMA_VERSION}); "
            "rebuild the report with this version"
        )
    try:
        return _adapter().validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        older = _version(version) < _version(SCHEMA_VERSION)
        hint = f"; it was written with schema {version}, older than {SCHEMA_VERSION}: rebuild it" if older else ""
        raise InputError(f"{path}: not a valid report: {shown(where)}: {shown(error['msg'], 160)}{hint}") from None


def _version(text: str) -> tuple[int, ...]:
    """ "2.10.0" → (2, 10, 0); parts that are not numbers count as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in text.split("."))


@functools.cache
def _adapter() -> TypeAdapter[Report]:
    return TypeAdapter(Report)


def report_schema() -> dict[str, Any]:
    """The JSON Schema of `to_json`'s output, generated from the document dataclasses."""
    schema = _adapter().json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }


def published_schema() -> dict[str, Any]:
    """The schema file shipped inside the package."""
    return json.loads(resources.files("reportgen").joinpath(SCHEMA_FILE).read_text(encoding="utf-8"))


if __name__ == "__main__":  # python -m reportgen.render.json: regenerate the published schema
    target = Path(__file__).resolve().parents[1] / SCHEMA_FILE
    write_atomic(target, (json.dumps(report_schema(), indent=2) + "\n").encode())
    sys.stdout.write(f"{target}\n")
