"""The Spark engine: the same SQL statistics as DuckDB's, run by Spark over Parquet, CSV or JSONL files or a catalog
table, so a cluster does the heavy part and reportgen renders the card on the driver.

Needs the optional extra: ``pip install 'reportgen[spark]'`` (PySpark and a Java 17 runtime). Under
`spark-submit` the session it starts uses the submitted master; otherwise `[report] spark_master`, else
``local[*]``. A session that was already active (a notebook's, a test's) is used and left running.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.engines.connection import Dialect
from reportgen.errors import InputError, shown
from reportgen.expression_sql import spark_identifier

_VIEWS = itertools.count()


DIALECT = Dialect("spark", spark_identifier, hash="xxhash64")


class SparkConnection:
    """A Spark session over the input, as a temporary view.

    Parameters
    ----------
    files : list of Path, optional
        Files of one format, read as one table.
    frame : DataFrame, optional
        A data frame, handed to Spark (tests, notebooks).
    table : str, optional
        A catalog table.
    source : str
        Names the input in messages.
    master : str, optional
        The Spark master URL (see the module's docstring).
    """

    dialect = DIALECT
    streaming = False  # the cluster sums the rank statistics (window functions); nothing streams to the driver

    def __init__(self, *, files: Sequence[Path] | None = None, frame: pd.DataFrame | None = None,
                 table: str | None = None, source: str, master: str | None = None) -> None:
        try:
            from pyspark.errors import PySparkException
            from pyspark.sql import SparkSession
        except ImportError:
            raise InputError('[report] engine = "spark" needs PySpark: pip install "reportgen[spark]" (and a Java 17 '
                             "runtime)") from None
        self._errors = PySparkException
        self.source = source
        active = SparkSession.getActiveSession()
        self._own = active is None
        if active is not None:
            self._spark = active
        else:
            builder = SparkSession.builder.appName("reportgen").config("spark.ui.enabled", "false")
            if master is not None or "PYSPARK_GATEWAY_PORT" not in os.environ:  # not under spark-submit
                builder = builder.master(master or "local[*]")
            self._spark = builder.getOrCreate()
            self._spark.sparkContext.setLogLevel("OFF")  # its errors become one-line messages here
        self.relation = f"reportgen_input_{os.getpid()}_{next(_VIEWS)}"
        self._views: list[str] = []
        try:
            self._frame = self._read(files, frame, table, source)
            self._frame.createOrReplaceTempView(self.relation)
        except Exception:
            self.close()
            raise

    def _read(self, files: Sequence[Path] | None, frame: pd.DataFrame | None, table: str | None, source: str) -> object:
        reader = self._spark.read
        try:
            if table is not None:
                return self._spark.table(table)
            if frame is not None:
                return self._spark.createDataFrame(frame)
            paths = [str(path) for path in files or []]
            suffix = Path(paths[0]).suffix.lower()
            if suffix == ".parquet":
                return reader.parquet(*paths)
            if suffix == ".csv":
                return reader.csv(paths, header=True, inferSchema=True)
            if suffix == ".jsonl":
                return reader.json(paths)
        except self._errors as exc:
            raise InputError(f"{source}: not readable by Spark ({_first_line(exc)})") from None
        raise InputError(f'{source}: unknown format "{shown(suffix)}"; the spark engine reads .parquet, .csv and '
                         ".jsonl files")

    def frame(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        """The result of one query as a data frame; a Spark error becomes a one-line InputError."""
        try:
            result = self._spark.sql(sql, args=[p.item() if isinstance(p, np.generic) else p for p in params])
            rows = result.collect()
        except self._errors as exc:
            raise InputError(f"{self.source}: Spark could not compute a statistic ({_first_line(exc)})") from None
        return pd.DataFrame([tuple(row) for row in rows], columns=result.columns)

    def batches(self, sql: str, params: Sequence[object] = (), rows: int = 1 << 20) -> Iterator[dict[str, np.ndarray]]:
        """The result of one (sorted) query brought to the driver a partition at a time, in order, in chunks of
        `rows` rows (each row passes through Python: meant for narrow results, as the change detectors' one byte a
        row)."""
        try:
            result = self._spark.sql(sql, args=[p.item() if isinstance(p, np.generic) else p for p in params])
            names, chunk = result.columns, []
            for row in result.toLocalIterator():
                chunk.append(tuple(row))
                if len(chunk) == rows:
                    yield {name: np.array(values) for name, values in zip(names, zip(*chunk), strict=True)}
                    chunk = []
        except self._errors as exc:
            raise InputError(f"{self.source}: Spark could not compute a statistic ({_first_line(exc)})") from None
        if chunk:
            yield {name: np.array(values) for name, values in zip(names, zip(*chunk), strict=True)}

    def attach(self, paths: Sequence[Path] | pd.DataFrame, source: str) -> str:
        """Open another input (a baseline's predictions: files or a data frame) as a temporary view; its name."""
        name = f"reportgen_other_{os.getpid()}_{next(_VIEWS)}"
        if isinstance(paths, pd.DataFrame):
            found = self._read(None, paths, None, source)
        else:
            found = self._read(paths, None, None, source)
        found.createOrReplaceTempView(name)
        self._views.append(name)
        return name

    def view(self, name: str, sql: str, params: Sequence[object] = ()) -> None:
        """Name a query (its parameters bound) as a temporary view."""
        try:
            self._spark.sql(sql, args=[p.item() if isinstance(p, np.generic) else p for p in params]
                            ).createOrReplaceTempView(name)
        except self._errors as exc:
            raise InputError(f"{self.source}: Spark could not compute a statistic ({_first_line(exc)})") from None
        self._views.append(name)

    def column_types(self, relation: str | None = None) -> dict[str, str]:
        """Column name → Spark SQL type name of the input (or of another `relation`), in its order."""
        return dict((self._frame if relation is None else self._spark.table(relation)).dtypes)

    def version(self) -> str:
        """Spark's version."""
        return str(self._spark.version)

    def close(self) -> None:
        """Drop the view; stop the session if this connection started it."""
        for name in getattr(self, "_views", []):
            self._spark.catalog.dropTempView(name)
        if hasattr(self, "_frame"):
            self._spark.catalog.dropTempView(self.relation)
        if self._own:
            self._spark.stop()


def _first_line(exc: BaseException) -> str:
    return shown(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, 200)
