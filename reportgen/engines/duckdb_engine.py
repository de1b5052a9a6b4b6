"""The DuckDB engine: the predictions files queried in place, out of core, by an embedded DuckDB.

DuckDB spills sorts, aggregates and windows to a temporary folder when they outgrow `memory_limit`, so a
log larger than memory is measured on one machine. Files are opened through DuckDB's Python API (never
by pasting a path into SQL); every constant in a query is a parameter.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.engines.connection import Dialect
from reportgen.errors import InputError, shown
from reportgen.expression_sql import duckdb_identifier

RELATION = "reportgen_input"


DIALECT = Dialect("duckdb", duckdb_identifier, materialized="MATERIALIZED ")


class DuckDBConnection:
    """An in-process DuckDB over Parquet, CSV or JSONL files, as the relation `RELATION`.

    Parameters
    ----------
    paths : sequence of Path, or DataFrame
        The files, all of one format (their union is the input); or a data frame, queried in place.
    source : str
        Names the input in messages.
    memory_limit : str or None
        DuckDB's memory limit (e.g. "2GB"); its default (80% of RAM) when None.
    threads : int or None
        Worker threads; DuckDB's default (every core) when None. With one, every sum adds its numbers in the
        files' order, so the same input gives the same bits.
    """

    dialect = DIALECT
    relation = RELATION
    streaming = True

    def __init__(self, paths: Sequence[Path] | pd.DataFrame, source: str, *, memory_limit: str | None = None,
                 threads: int | None = None) -> None:
        import duckdb  # the optional engine loads only when chosen

        self._duckdb = duckdb
        self.source = source
        self.memory_limit = memory_limit
        self._others = itertools.count(1)
        self._spill = tempfile.TemporaryDirectory(prefix="reportgen-duckdb-")
        config = {"temp_directory": self._spill.name, "preserve_insertion_order": False}
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        if threads is not None:
            config["threads"] = threads
        try:
            self._connection = duckdb.connect(":memory:", config=config)
        except duckdb.Error as exc:
            self._spill.cleanup()
            raise InputError(f"[report] memory_limit: DuckDB refuses it ({_first_line(exc)}); write e.g. \"4GB\"") \
                from None
        try:
            if isinstance(paths, pd.DataFrame):
                self._connection.register(RELATION, paths)
            else:
                self._open([str(path) for path in paths])
        except Exception:
            self.close()
            raise

    def _open(self, files: list[str]) -> None:
        self._read(files, self.source).create_view(RELATION)

    def _read(self, files: list[str], source: str) -> object:
        """A DuckDB relation over files of one format."""
        suffix = Path(files[0]).suffix.lower()
        connection = self._connection
        try:
            if suffix == ".parquet":
                return connection.read_parquet(files)
            if suffix == ".csv":
                return connection.read_csv(files, header=True)
            if suffix == ".jsonl":
                return connection.read_json(files, format="newline_delimited")
        except self._duckdb.Error as exc:
            raise InputError(f"{source}: not readable by DuckDB ({_first_line(exc)})") from None
        raise InputError(f'{source}: unknown format "{shown(suffix)}"; the duckdb engine reads .parquet, .csv and '
                         ".jsonl files")

    def attach(self, paths: Sequence[Path] | pd.DataFrame, source: str) -> str:
        """Open another input (a baseline's predictions: files or a data frame) as a relation; its name."""
        name = f"reportgen_other_{next(self._others)}"
        with self._errors():
            if isinstance(paths, pd.DataFrame):
                self._connection.register(name, paths)
            else:
                self._read([str(path) for path in paths], source).create_view(name)
        return name

    def view(self, name: str, sql: str, params: Sequence[object] = ()) -> None:
        """Name a query (its parameters bound) as a view."""
        with self._errors():
            self._connection.sql(sql, params=list(params)).create_view(name)

    def frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The result of one query as a data frame; a DuckDB error becomes a one-line InputError."""
        with self._errors():
            return self._connection.execute(sql, list(params)).df()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """DuckDB's errors as one-line InputErrors: running out of memory names the setting."""
        try:
            yield
        except self._duckdb.OutOfMemoryException as exc:
            limit = self.memory_limit or "its default, 80% of the memory"
            raise InputError(f"{self.source}: DuckDB ran out of memory at [report] memory_limit = {limit} "
                             f"({_first_line(exc)}); raise memory_limit, or free disk for its spill folder "
                             f"({self._spill.name})") from None
        except self._duckdb.Error as exc:
            raise InputError(f"{self.source}: DuckDB could not compute a statistic ({_first_line(exc)})") from None

    def batches(self, sql: str, params: Sequence[object] = (), rows: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
        """The result of one query in Arrow record batches of about `rows` rows, as numpy arrays."""
        with self._errors():
            reader = self._connection.sql(sql, params=list(params)).to_arrow_reader(batch_size=rows)  # it streams
            with reader:
                for batch in reader:
                    yield {name: column.to_numpy(zero_copy_only=False)
                           for name, column in zip(batch.schema.names, batch.columns, strict=True)}

    def column_types(self, relation: str = RELATION) -> dict[str, str]:
        """Column name → DuckDB type name of the input (or of another `relation`), in the files' order."""
        described = self._connection.execute(f"DESCRIBE {relation}").fetchall()
        return {str(row[0]): str(row[1]) for row in described}

    def version(self) -> str:
        """DuckDB's version."""
        return self._duckdb.__version__

    def close(self) -> None:
        """Close DuckDB and remove its spill folder."""
        if hasattr(self, "_connection"):
            self._connection.close()
        self._spill.cleanup()


def _first_line(exc: BaseException) -> str:
    return shown(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 200)
