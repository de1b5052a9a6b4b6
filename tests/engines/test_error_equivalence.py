"""The error analysis through the SQL engines: the same candidate columns, slices, tests, scope for improvement,
examples and error tree as the numpy engine's (itself tested in tests/analysis), from counts made where the data
lies; the tree's nodes counted by the engine equal the rows' own; its sample is the same rows however they are
ordered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.analysis import error_sources
from reportgen.analysis.error_tree import describe, error_tree, grow, paths
from reportgen.engines.connection import Over
from reportgen.engines.duckdb_engine import DuckDBConnection
from reportgen.engines.error_counts import ErrorRelation, node_sums, tree_rows
from tests.engines.conftest import SQL_ENGINES
from tests.engines.test_equivalence import frame

HOSTILE = 'grade"; DROP TABLE reportgen_input; --'


def predictions(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """`frame`'s columns with errors planted in two slices, a column copying the score, one named like an output,
    an identifier, a constant, and a text column with a hostile name and values."""
    data = frame(n, seed)
    rng = np.random.default_rng(seed + 1)
    planted = ((data["sex"] == "m").fillna(False) & (data["level"] == 2)).to_numpy()
    planted |= (data["region"] == "r1").to_numpy()
    flipped = rng.random(n) < np.where(planted, 0.45, 0.1)
    data["y"] = np.where(flipped, 1 - (data["p"] >= 0.5), data["p"] >= 0.5).astype(int)
    data["kind"] = rng.choice(["cat", "dog", "fox"], n, p=[0.5, 0.3, 0.2])
    data["kind_predicted"] = np.where(data["p"] >= 0.4, data["kind"], "cat")
    shares = rng.dirichlet([2, 2, 2], n) + np.where(planted, 0.0, 1.0)[:, None] * np.eye(3)[
        pd.Categorical(data["kind"], categories=["cat", "dog", "fox"]).codes]
    for k, kind in enumerate(["cat", "dog", "fox"]):  # probabilities, sharper outside the planted slices
        data[f"prob_{kind}"] = shares[:, k] / shares.sum(axis=1)
    data["target"] = 3 * data["p"] + np.where(planted, rng.normal(0, 2.0, n), rng.normal(0, 0.3, n))
    data["fit"] = 3 * data["p"]
    data["p_copy"] = data["p"]
    data["old_prediction"] = rng.random(n)
    data["row_id"] = np.arange(n)
    data["constant"] = "same"
    data[HOSTILE] = rng.choice(["r'0", "x\"); --", "plain"], n)
    return data.drop(columns=["scored_at"])


CASES = {
    "binary error rate": dict(label="y", score="p", error_analysis={"depth": 3, "target": "best"}),
    "binary fnr": dict(label="y", score="p", error_analysis={"metric": "fnr", "targets": {"sex = m": 0.1}}),
    "binary log loss": dict(label="y", score="p", error_analysis={"metric": "log_loss", "display": ["p", "row_id"]}),
    "binary brier": dict(label="y", score="p", error_analysis={"metric": "brier"}),
    "multiclass": dict(label="kind", prediction="kind_predicted", task="multiclass",
                       error_analysis={"target": "best"}),
    "multiclass log loss": dict(label="kind", scores={c: f"prob_{c}" for c in ("cat", "dog", "fox")},
                                task="multiclass", error_analysis={"metric": "log_loss"}),
    "regression": dict(label="target", prediction="fit", error_analysis={"metric": "squared_error", "depth": 3}),
}


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_the_error_analysis_equals_the_numpy_engines(engine: str, case: str, spark_session) -> None:
    data = predictions()
    options = {"slices": [{"column": "sex"}, {"column": "region", "max_groups": 4}], "resamples": 100, **CASES[case]}
    expected = reportgen.evaluate(data, engine="numpy", **options).results["error_analysis"]
    actual = reportgen.evaluate(data, engine=engine, **options).results["error_analysis"]
    assert actual.measure.name == expected.measure.name
    assert actual.columns == expected.columns and actual.notes == expected.notes
    assert HOSTILE in actual.columns and "old_prediction" not in actual.columns  # named like a model output
    assert ("p_copy" in actual.columns) == ("score" not in CASES[case])  # a copy of the score
    assert (actual.tested, actual.discoveries) == (expected.tested, expected.discoveries)
    assert expected.discoveries > 0  # the planted slices are found: the comparison is not of empty tables
    assert actual.overall == pytest.approx(expected.overall, rel=1e-12)
    assert_same_table(actual.slices, expected.slices, exact=["slice", "conditions", "depth", "n", "rank"])
    assert_same_table(actual.improvements, expected.improvements,
                      exact=["slice", "origin", "n", "target_source"])
    assert actual.examples.keys() == expected.examples.keys() and actual.examples
    for text, rows in expected.examples.items():
        if "score" in CASES[case] or "scores" in CASES[case] or case == "regression":
            pd.testing.assert_frame_equal(actual.examples[text], rows)
        else:  # every error equally confident: the engine shows the first in the columns' order, numpy in the file's
            assert_errors_of_the_slice(actual.examples[text], data, expected, text)
    assert [(n.id, n.parent, n.depth, n.condition, n.n, n.leaf) for n in actual.tree] == [
        (n.id, n.parent, n.depth, n.condition, n.n, n.leaf) for n in expected.tree]
    np.testing.assert_allclose([n.error for n in actual.tree], [n.error for n in expected.tree], rtol=1e-12)
    assert len(expected.tree) > 1
    assert actual.rows == {}  # the rows stay where they lie: findings on the same rows are not merged


def assert_errors_of_the_slice(shown: pd.DataFrame, data: pd.DataFrame, expected: object, text: str) -> None:
    """Every row shown is a wrong prediction of the slice `text` (its rows from the numpy engine's result), as many
    as the numpy engine shows."""
    rows = data.iloc[expected.rows[text]]
    wrong = rows[rows["kind"] != rows["kind_predicted"]]
    outputs = ["kind", "kind_predicted"]  # text: shown as it is
    assert len(shown) == len(expected.examples[text]) and len(shown)
    assert set(shown[outputs].itertuples(index=False)) <= set(wrong[outputs].itertuples(index=False))


def assert_same_table(actual: pd.DataFrame, expected: pd.DataFrame, *, exact: list[str]) -> None:
    """Columns in `exact` equal; the other numbers to 1e-9 relative (sums in another order)."""
    assert list(actual.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(actual[exact].reset_index(drop=True), expected[exact].reset_index(drop=True))
    for column in expected.columns.difference(exact):
        if pd.api.types.is_numeric_dtype(expected[column]):
            np.testing.assert_allclose(actual[column].to_numpy(float), expected[column].to_numpy(float), rtol=1e-9,
                                       atol=1e-300, err_msg=column)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_model_outputs_are_found_as_the_sanity_checks_find_them(engine: str, spark_session) -> None:
    data = predictions(1200, seed=4)[["y", "p", "sex", "region", "p_copy", "old_prediction"]]
    data["predicted_copy"] = np.where(data["p"] >= 0.5, "yes", "no")  # groups the rows as the predicted class
    options = {"label": "y", "score": "p", "resamples": 100}
    numpy_engine = reportgen.evaluate(data, engine="numpy", **options).results
    expected = numpy_engine["checks"].model_outputs
    actual = reportgen.evaluate(data, engine=engine, **options).results["error_analysis"].notes
    assert expected == {"p_copy": "equal to the score", "old_prediction": "named like one",
                        "predicted_copy": "equal to the predicted class"}
    assert actual == numpy_engine["error_analysis"].notes
    for column, why in expected.items():
        assert f'"{column}" looks like a model output ({why})' in actual[0]


def relation(connection: DuckDBConnection, data: pd.DataFrame) -> ErrorRelation:
    """The rows of `data` with their error in column "err"."""
    quote = connection.dialect.quote
    return ErrorRelation(Over(connection, connection.relation), quote("err"), quote("err"), list(data.columns),
                         len(data), float(data["err"].sum()), float((data["err"] ** 2).sum()))


def test_tree_nodes_counted_by_the_engine_equal_the_rows_own() -> None:
    rng = np.random.default_rng(7)
    n = 5000
    amount = rng.normal(0, 1, n)
    amount[rng.random(n) < 0.1] = np.nan
    amount[:5] = [np.inf, -np.inf, 1e35, -1e35, 3e38]
    city = pd.Series(rng.choice([f"c{k}" for k in range(60)], n), dtype=object)  # more than TOP_VALUES: "(other)"
    city[rng.random(n) < 0.05] = None
    err = (rng.random(n) < np.where(np.isnan(amount) | (city == "c3"), 0.8, np.where(amount > 0.5, 0.5, 0.1)))
    data = pd.DataFrame({"amount": amount, "city": city, "err": err.astype(float)})
    for classification in (True, False):
        errors = data["err"].to_numpy() if classification else data["err"].to_numpy() * rng.random(n)
        data["err"] = errors
        expected = error_tree(data, ["amount", "city"], errors, max_depth=4, min_leaf=20, classification=classification)
        grown = grow(data, ["amount", "city"], errors, max_depth=4, min_leaf=20, classification=classification)
        connection = DuckDBConnection(data, "data frame")
        try:
            counted = node_sums(relation(connection, data), *paths(grown))
        finally:
            connection.close()
        actual = describe(grown, *counted, n_rows=n)
        assert [(n.condition, n.n, n.leaf) for n in actual] == [(n.condition, n.n, n.leaf) for n in expected]
        np.testing.assert_allclose([n.error for n in actual], [n.error for n in expected], rtol=1e-12)
        conditions = " ".join(n.condition for n in actual)
        assert "(other)" in conditions or "missing" in conditions  # the hard cases were split on


def test_the_tree_sample_is_the_same_rows_however_they_are_ordered() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    data = pd.DataFrame({"a": rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1]), "b": rng.integers(0, 3, n)})
    data["err"] = (rng.random(n) < 0.2).astype(float)  # few distinct rows: most are duplicates
    samples = []
    for order, threads in ((np.arange(n), None), (rng.permutation(n), 1), (rng.permutation(n), 2)):
        shuffled = data.iloc[order].reset_index(drop=True)
        connection = DuckDBConnection(shuffled, "data frame", threads=threads)
        try:
            samples.append(tree_rows(relation(connection, shuffled), ["a", "b"], 4000))
        finally:
            connection.close()
    for rows, errors in samples[1:]:
        pd.testing.assert_frame_equal(rows, samples[0][0])
        np.testing.assert_array_equal(errors, samples[0][1])
    rows, errors = samples[0]
    assert len(rows) == 4000
    shares = rows.assign(err=errors).value_counts(normalize=True)
    expected = data.value_counts(normalize=True)
    # duplicates are drawn one by one, not all or none: each kind of row keeps about its share
    np.testing.assert_allclose(shares.reindex(expected.index).to_numpy(), expected.to_numpy(), atol=0.02)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_the_tree_of_a_sample_counts_every_row(engine: str, monkeypatch: pytest.MonkeyPatch, spark_session) -> None:
    data = predictions(3000, seed=2)
    monkeypatch.setattr(error_sources, "MAX_FIT_ROWS", 1000)  # grown on a sample, counted over every row
    found = reportgen.evaluate(data, engine=engine, label="y", score="p", resamples=100).results["error_analysis"]
    tree = found.tree
    assert tree[0].n == 3000 and len(tree) > 1
    assert tree[0].error == pytest.approx(found.overall, rel=1e-12)
    for node in tree:
        children = [c for c in tree if c.parent == node.id]
        if children:
            assert sum(c.n for c in children) == node.n
            assert sum(c.n * c.error for c in children) == pytest.approx(node.n * node.error, rel=1e-12)
