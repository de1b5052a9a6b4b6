"""The SQL engines under test, and one Spark session (local mode) shared by every test that needs it."""

from __future__ import annotations

import importlib.util

import pytest

SQL_ENGINES = ["duckdb", *(["spark"] if importlib.util.find_spec("pyspark") else [])]


@pytest.fixture(scope="session")
def spark_session_started():
    """A local Spark session for the whole test run (starting one takes seconds), stopped at the end."""
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("reportgen-tests")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
    yield spark
    spark.stop()


@pytest.fixture
def spark_session(request: pytest.FixtureRequest):
    """The shared session when the test runs the spark engine (the engine reuses an active session)."""
    engine = getattr(request, "param", None) or request.node.callspec.params.get("engine")
    if engine == "spark":
        return request.getfixturevalue("spark_session_started")
    return None
