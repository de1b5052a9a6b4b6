"""Which engine reads the predictions, and the files it reads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reportgen.config import ReportSection
from reportgen.engines.connection import Connection
from reportgen.errors import InputError, plain_list

FORMATS = (".parquet", ".csv", ".jsonl")
AUTO_BYTES = 256 * 1024 * 1024  # "auto" takes duckdb above this many bytes of input


def input_files(path: Path, source: str) -> list[Path]:
    """The files of `[data] path`: the file itself, or a folder's files of one format (at any depth), sorted.

    Raises
    ------
    InputError
        If nothing is there, the folder holds no predictions file, or files of several formats.
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{source}: no such predictions file or folder ({path})")
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
                   and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts))
    if not files:
        raise InputError(f"{source}: the folder holds no {plain_list(FORMATS)} file")
    formats = sorted({p.suffix.lower() for p in files})
    if len(formats) > 1:
        raise InputError(f"{source}: the folder holds files of several formats ({plain_list(formats)}); keep one format "
                         "per folder")
    return files


def choose_engine(engine: str, files: list[Path], folder: bool) -> tuple[str, str]:
    """The engine to run and a sentence saying why (for the progress output and the card).

    "auto" takes duckdb for a folder of files or more than `AUTO_BYTES` of them, else numpy.
    """
    size = sum(path.stat().st_size for path in files)
    if engine != "auto":
        return engine, f'engine "{engine}" set by [report] engine'
    if folder:
        return "duckdb", f"engine duckdb chosen for a folder of {len(files)} files ({_megabytes(size)})"
    if size > AUTO_BYTES:
        return "duckdb", (f"engine duckdb chosen for {_megabytes(size)} of input, above {_megabytes(AUTO_BYTES)} "
                          '(set [report] engine = "numpy" to read it into memory)')
    return "numpy", f"engine numpy chosen for {_megabytes(size)} of input"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.1f} kB"


def numpy_file(files: list[Path], folder: bool, source: str) -> Path:
    """The one file the numpy engine reads."""
    if folder:
        raise InputError(f'{source}: a folder of files is read by the duckdb or spark engine; set [report] engine = '
                         f'"duckdb" (now "numpy"), or name one file')
    return files[0]


def connect(
    engine: str, *, files: list[Path] | None, frame: pd.DataFrame | None, table: str | None, source: str,
    settings: ReportSection,
) -> Connection:
    """Open an SQL engine over the input: files, a data frame, or (Spark) a catalog table.

    Raises
    ------
    InputError
        If the engine's package is not installed, or the input cannot be read.
    """
    if engine == "duckdb":
        from reportgen.engines.duckdb_engine import DuckDBConnection

        return DuckDBConnection(frame if frame is not None else files or [], source, memory_limit=settings.memory_limit,
                                threads=settings.threads)
    from reportgen.engines.spark_engine import SparkConnection

    return SparkConnection(files=files, frame=frame, table=table, source=source, master=settings.spark_master)
