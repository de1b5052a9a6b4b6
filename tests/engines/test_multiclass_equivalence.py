"""Multiclass engine equivalence: the same rows through the numpy engine and an SQL engine give the same statistics —
confusion matrices, each class's one-vs-rest rank sums, log-loss sums, top-k hits, top-label calibration bins (counts
exactly, sums to 1e-12 relative) — the same metrics, per-class metrics, intervals, chart data and findings; and bad
probability columns are refused with the numpy engine's one-line errors.

Probabilities are multiples of a quarter of a row's weights, so many tie within a row (the predicted class, top-k
ranks) and across rows (each class's ROC AUC).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.engines.multiclass_sql import row_sum
from reportgen.errors import InputError
from tests.engines.conftest import SQL_ENGINES
from tests.engines.test_equivalence import (
    SLICES,
    assert_same_arrays,
    assert_same_evaluation,
    evaluations,
    frame,
    without_row_level,
)

CLASSES = ["cat", "dog", "emu", "yak"]


def multiclass_frame(n: int = 2000, seed: int = 0, *, n_classes: int = 4, sums_to_one: bool = True) -> pd.DataFrame:
    """`frame`'s slice columns, text labels drawn from the probabilities, a probability column per class ("p_cat",
    ...; each a quarter of a weight 0–3, divided by the row's weights' sum where `sums_to_one`) and a prediction
    column that is the label on about half the rows."""
    data = frame(n, seed)
    rng = np.random.default_rng(seed + 100)
    names = CLASSES[:n_classes]
    weights = rng.integers(0, 4, (n, n_classes)).astype(np.float64)
    weights[weights.sum(axis=1) == 0, 0] = 1.0
    probabilities = weights / weights.sum(axis=1, keepdims=True)
    labels = np.minimum((rng.random(n)[:, None] > np.cumsum(probabilities, axis=1)).sum(axis=1), n_classes - 1)
    data["label"] = pd.array(np.array(names)[labels], dtype="string")
    for k, name in enumerate(names):
        data[f"p_{name}"] = probabilities[:, k] if sums_to_one else weights[:, k] / 4
    data["predicted"] = np.where(rng.random(n) < 0.5, data["label"], rng.choice(names, n))
    return data


def assert_same_multiclass(expected: reportgen.Evaluation, actual: reportgen.Evaluation) -> None:
    """`assert_same_evaluation`, plus what it does not reach in a multiclass task: each class's one-vs-rest score
    statistics and the top-k hits, the per-class metrics, the confusion table, the classes and the findings."""
    assert_same_evaluation(expected, actual)
    pairs = [(name, stats.task, actual.statistics[name].task) for name, stats in expected.statistics.items()]
    pairs += [(f"{name} (other)", other.statistics.task, actual.measured.others[name].statistics.task)
              for name, other in expected.measured.others.items()]
    for name, left, right in pairs:
        assert (left.scores is None) == (right.scores is None), name
        if left.scores is not None:
            assert len(right.scores.one_vs_rest) == len(left.scores.one_vs_rest)
            for k, (of_left, of_right) in enumerate(zip(left.scores.one_vs_rest, right.scores.one_vs_rest,
                                                        strict=True)):
                assert_same_arrays(of_left, of_right, f"{name} class {k}")
            assert right.scores.top_k_hits.keys() == left.scores.top_k_hits.keys()
            for k, hits in left.scores.top_k_hits.items():
                np.testing.assert_array_equal(right.scores.top_k_hits[k], hits, err_msg=f"{name} top {k}")
    left, right = expected.class_metrics, actual.class_metrics
    exact = ["slice", "group", "class_label", "metric", "n", "support", "undefined_reason"]
    pd.testing.assert_frame_equal(right[exact], left[exact])
    for column in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(right[column].to_numpy(float), left[column].to_numpy(float), rtol=1e-9, atol=1e-12,
                                   err_msg=f"class metrics {column}")
    pd.testing.assert_frame_equal(actual.confusion, expected.confusion)
    assert (actual.predictions.classes, actual.predictions.top_k) == (expected.predictions.classes,
                                                                      expected.predictions.top_k)
    np.testing.assert_array_equal(actual.measured.spread.predicted, expected.measured.spread.predicted)
    assert [(f.id, f.title) for f in actual.findings] == [(f.id, f.title) for f in without_row_level(expected)]


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("options", [
    {"score_prefix": "p_"},  # predicted class: the most probable, the first of tied ones; top_k (3,) by default
    {"scores": {name: f"p_{name}" for name in CLASSES}, "prediction": "predicted", "top_k": [1, 2]},
], ids=["argmax", "prediction column"])
def test_multiclass_with_probabilities(engine: str, options: dict, spark_session) -> None:
    expected, actual = evaluations(engine, multiclass_frame(), label="label", **options)
    assert expected.predictions.top_k == ((3,) if "top_k" not in options else (1, 2))
    assert_same_multiclass(expected, actual)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_normalized_probabilities(engine: str, spark_session) -> None:
    data = multiclass_frame(1200, seed=1, sums_to_one=False)
    expected, actual = evaluations(engine, data, label="label", score_prefix="p_", normalize=True, top_k=[2])
    assert_same_multiclass(expected, actual)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_multiclass_without_probabilities(engine: str, spark_session) -> None:
    data = multiclass_frame(1500, seed=2, n_classes=3)
    data.loc[:9, "predicted"] = "zebra"  # predicted but never a label: a class all the same
    expected, actual = evaluations(engine, data, label="label", prediction="predicted", task="multiclass")
    assert actual.predictions.classes == ["cat", "dog", "emu", "zebra"]
    assert_same_multiclass(expected, actual)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_integer_classes_sorted_by_number_and_predictions_read_as_floats(engine: str, spark_session) -> None:
    data = multiclass_frame(800, seed=6, n_classes=3)
    numbers = {"cat": 10, "dog": 2, "emu": 1}
    data["label"] = data["label"].map(numbers).astype(np.int64)
    data["predicted"] = data["predicted"].map(numbers).astype(np.float64)  # 2.0 is class "2"
    data = data.rename(columns={f"p_{name}": f"p_{number}" for name, number in numbers.items()})
    expected, actual = evaluations(engine, data, label="label", score_prefix="p_", prediction="predicted", top_k=[1])
    assert actual.predictions.classes == ["1", "2", "10"]
    assert_same_multiclass(expected, actual)


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_one_row_groups_and_groups_of_one_class(engine: str, n_classes: int, spark_session) -> None:
    data = multiclass_frame(400, seed=3, n_classes=n_classes)
    data.loc[0, "region"] = "alone"  # a group of one row
    data.loc[data["level"] == 3, "label"] = "cat"  # a group of one class: its other classes' AUCs undefined
    top_k = [1] if n_classes == 2 else [1, 3]  # two classes: a top-1 hit is class 1 above 0.5 matching the label
    expected, actual = evaluations(engine, data, label="label", score_prefix="p_", top_k=top_k,
                                   slices=[{"column": "region"}, {"column": "level"}, *SLICES[-2:]])
    assert_same_multiclass(expected, actual)


def test_row_sums_are_numpys_to_the_bit() -> None:
    """`row_sum` adds as numpy adds along a row of the stacked probability columns (in order below 8 terms, pairwise
    above): the normalized probabilities, and so their ties, are the numpy engine's."""
    rng = np.random.default_rng(7)
    for n_terms in (2, 7, 8, 9, 17, 130, 300):
        columns = pd.DataFrame(rng.random((500, n_terms)) * rng.choice([1e-9, 1.0, 1e3], (500, n_terms)),
                               columns=[f"c{k}" for k in range(n_terms)])
        sql = row_sum([f'"c{k}"' for k in range(n_terms)])
        found = duckdb.connect().execute(f"SELECT {sql} AS t FROM columns").df()["t"].to_numpy()
        stacked = np.column_stack([columns[column].to_numpy() for column in columns])  # as `reportgen.io` stacks them
        np.testing.assert_array_equal(found, stacked.sum(axis=1), err_msg=f"{n_terms} terms")


def _one_row_off(data: pd.DataFrame) -> pd.DataFrame:
    data.loc[7, "p_cat"] = (data.loc[7, "p_cat"] + 0.5) % 1.0  # the row sums to 0.5 or 1.5
    return data


def _outside(data: pd.DataFrame) -> pd.DataFrame:
    data.loc[[3, 9], "p_dog"] = 1.5
    return data


def _unknown_label(data: pd.DataFrame) -> pd.DataFrame:
    data.loc[[2, 5, 8], "label"] = "zebra"
    return data


def _nan(data: pd.DataFrame) -> pd.DataFrame:
    data.loc[4, "p_emu"] = np.nan
    return data


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize(("change", "options", "fragments"), [
    (_one_row_off, {}, ["whose probabilities sum to", "not 1; fix them or set normalize=True"]),
    (lambda data: data, {"scores": {"cat": "p_cat", "dog": "p_dog", "emu": "p_emu", "yak": "p_yak", "ox": "p_ox"}},
     ['no column "p_ox" (scores); columns are:']),
    (_outside, {}, ['column "p_dog": 2 values', "outside [0, 1]; probabilities must be probabilities"]),
    (_nan, {}, ['column "p_emu": 1 ', "among the probabilities"]),
    (_unknown_label, {}, ['column "label": label "zebra" (3 rows', "has no probability column"]),
    (lambda data: data, {"top_k": [4]}, ["top_k: 4 must be below the number of classes (4)"]),
], ids=["sum not 1", "missing column", "outside [0, 1]", "NaN", "label without a column", "top_k too large"])
def test_bad_probabilities_are_the_numpy_engines_one_line_errors(engine: str, change, options: dict,
                                                                 fragments: list[str], spark_session) -> None:
    data = change(multiclass_frame(300, seed=4))
    keys = options if "scores" in options else {"score_prefix": "p_", **options}
    for which in ("numpy", engine):
        with pytest.raises(InputError) as raised:
            reportgen.evaluate(data, label="label", engine=which, **keys)
        message = str(raised.value)
        assert "\n" not in message
        for fragment in fragments:
            assert fragment in message, (which, message)
