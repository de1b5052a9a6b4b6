"""What an SQL engine gives the statistics: a relation to query, its columns, and a dialect.

DuckDB and Spark SQL share all the SQL the statistics need but the quoting of names, which `Dialect` holds.
Values never enter SQL text: constants are positional ``?`` parameters and columns quoted identifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Dialect:
    """The spellings that differ between engines.

    Attributes
    ----------
    name : str
        "duckdb" or "spark".
    quote : callable
        Column name → quoted identifier.
    materialized : str
        What asks for a common table expression read several times to be computed once ("MATERIALIZED " in DuckDB;
        Spark has no such hint).
    hash : str
        A function of any number of values giving a 64-bit hash.
    """

    name: str
    quote: Callable[[str], str]
    materialized: str = ""
    hash: str = "hash"


class Connection(Protocol):
    """An open engine over the predictions, visible to SQL as `relation`.

    `streaming`: whether the rank statistics are summed here as `batches` hands this process a sorted scan chunk by
    chunk (an embedded engine); a cluster engine (Spark) computes the running sums itself, with window functions,
    and returns per-group results only (its `batches` serve narrow results only: the change detectors' stream).
    """

    dialect: Dialect
    relation: str
    streaming: bool

    def frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The result of one query (small: per group and bin), as a data frame."""
        ...

    def batches(self, sql: str, params: Sequence[object] = (), rows: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
        """The result of one (large, sorted) query in chunks of about `rows` rows, column name → values."""
        ...

    def column_types(self, relation: str = ...) -> dict[str, str]:
        """Column name → its SQL type, in the order of the input's relation (or of another `relation`)."""
        ...

    def attach(self, paths: Sequence[Path] | pd.DataFrame, source: str) -> str:
        """Open another input (files of one format, or a data frame) as a relation, and give its name."""
        ...

    def view(self, name: str, sql: str, params: Sequence[object] = ()) -> None:
        """Name a query (its parameters bound) as a view, dropped when the connection closes."""
        ...

    def close(self) -> None:
        """Release the engine."""
        ...


def is_infinite(number: str) -> str:
    """SQL true where a DOUBLE is ±infinity (Spark has no `isinf`)."""
    return f"ABS({number}) = CAST('Infinity' AS DOUBLE)"


@dataclass(frozen=True)
class Over:
    """An open engine with another of its relations (a view) as the one queried: the same connection."""

    connection: Connection
    relation: str

    @property
    def dialect(self) -> Dialect:
        """The engine's dialect."""
        return self.connection.dialect

    @property
    def streaming(self) -> bool:
        """Whether the engine streams sorted scans (`Connection`)."""
        return self.connection.streaming

    def frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """As `Connection.frame`."""
        return self.connection.frame(sql, params)

    def batches(self, sql: str, params: Sequence[object] = (), rows: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
        """As `Connection.batches`."""
        return self.connection.batches(sql, params, rows)

    def column_types(self, relation: str | None = None) -> dict[str, str]:
        """Column name → SQL type of this relation (or of another `relation`)."""
        return self.connection.column_types(relation or self.relation)

    def attach(self, paths: Sequence[Path] | pd.DataFrame, source: str) -> str:
        """As `Connection.attach`."""
        return self.connection.attach(paths, source)

    def view(self, name: str, sql: str, params: Sequence[object] = ()) -> None:
        """As `Connection.view`."""
        self.connection.view(name, sql, params)
