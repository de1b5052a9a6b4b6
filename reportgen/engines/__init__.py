"""Engines: where the sufficient statistics are computed.

The numpy engine reads the predictions into memory (`reportgen.metrics.measure`); the SQL engines (DuckDB,
embedded and out of core; Spark, on a cluster) compute the same statistics where the data lies and return
only per-group arrays (`reportgen.engines.scan`). Everything downstream — metrics, intervals, gaps,
findings, the card — is shared. `ENGINES` lists them; `SQL_ENGINES` those that scan.
"""

from __future__ import annotations

ENGINES = ("numpy", "duckdb", "spark")
SQL_ENGINES = ("duckdb", "spark")
