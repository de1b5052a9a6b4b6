"""The model card as JSON, with a versioned, published JSON Schema."""

from __future__ import annotations

import dataclasses
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from reportgen.render.files import write_atomic
from reportgen.report import Report

SCHEMA_FILE = "schema/report.schema.json"


def to_json(report: Report) -> str:
    """Serialize the report: fields in document order, `null` only for absent values."""
    return json.dumps(dataclasses.asdict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(report: Report, path: Path) -> Path:
    """Write `report.json` atomically; returns the path."""
    return write_atomic(path, to_json(report).encode("utf-8"))


def report_schema() -> dict[str, Any]:
    """The JSON Schema of `to_json`'s output, generated from the document dataclasses."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(Report).json_schema()
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
