"""Engine equivalence: the same rows through the numpy engine and an SQL engine give the same statistics (counts
exactly, sums to 1e-12 relative), the same groups, metrics, intervals, chart data and findings.

The numpy engine is itself tested against scikit-learn and Fairlearn (tests/metrics, tests/oracle); here it is the
oracle of the SQL engines. DuckDB runs in every test; Spark (local mode) where PySpark is installed.
"""

from __future__ import annotations

import dataclasses
from unittest.mock import patch

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.analysis import checks, comparison, merge, registry
from reportgen.analysis.base import Context
from reportgen.analysis.registry import run_analyses
from tests.engines.conftest import SQL_ENGINES

SLICES = [
    {"column": "sex"},
    {"column": "region", "max_groups": 4},  # values pooled as "(other)"
    {"column": "flag"},  # true/false with missing values
    {"column": "level"},  # integers
    {"column": "age", "quantiles": 4},
    {"column": "income", "bins": [0, 20_000, 50_000, float("inf")]},  # missing values: their own group
    {"column": "rating", "quantiles": 5},  # ties: fewer bins than asked
    {"columns": ["sex", "region"]},
    {"name": "young earners", "where": "income > 30000 and age < 40"},
    {"name": "nobody", "where": "age > 1000"},  # no row: an empty group
    {"column": "scored_at", "window": "MS"},  # months, missing times last
    {"name": "weeks", "column": "scored_at", "window": "W"},  # ISO weeks, more than max_groups_shown
    {"name": "half days", "column": "scored_at", "window": "12h"},  # a fixed span starting past midnight
]


def frame(n: int = 3000, seed: int = 0, *, tied: bool = False) -> pd.DataFrame:
    """Predictions with every kind of column a slice is built on: text with missing values, true/false, integers,
    floats with missing values, many values, ties."""
    rng = np.random.default_rng(seed)
    region = rng.choice([f"r{k}" for k in range(9)], n, p=np.r_[[0.3, 0.2, 0.15, 0.1], np.full(5, 0.05)])
    score = rng.random(n)
    if tied:
        score = np.round(score, 2)
    income = rng.lognormal(10.3, 0.6, n)
    income[rng.random(n) < 0.05] = np.nan
    flag = pd.array(rng.random(n) < 0.4, dtype="boolean")
    flag[rng.random(n) < 0.05] = pd.NA
    scored_at = pd.Series(pd.Timestamp("2024-03-14 15:00") + pd.to_timedelta(rng.integers(0, 60 * 86400, n), unit="s"))
    scored_at[rng.random(n) < 0.02] = pd.NaT
    sex = pd.array(rng.choice(["f", "m"], n), dtype="string")
    sex[rng.random(n) < 0.03] = pd.NA
    return pd.DataFrame({
        "y": (rng.random(n) < score * 0.8 + 0.1).astype(int),
        "p": score,
        "target": 3 * score + rng.normal(0, 0.5, n),
        "sex": sex,
        "region": region,
        "flag": flag,
        "level": rng.integers(1, 4, n),
        "age": rng.integers(18, 80, n),
        "income": income,
        "rating": rng.choice([1.0, 2.0, 2.0, 2.0, 3.0], n),
        "scored_at": scored_at.astype("datetime64[us]"),
    })


def evaluations(engine: str, data: pd.DataFrame, **options) -> tuple[reportgen.Evaluation, reportgen.Evaluation]:
    options = {"slices": SLICES, "resamples": 200, "max_groups_shown": 5, **options}
    return (reportgen.evaluate(data, engine="numpy", **options),
            reportgen.evaluate(data, engine=engine, **options))


def assert_same_arrays(expected: object, actual: object, where: str) -> None:
    """Every array field of two statistics dataclasses alike: integers exactly, floats to 1e-12 relative."""
    for field in dataclasses.fields(expected):
        left, right = getattr(expected, field.name), getattr(actual, field.name)
        if dataclasses.is_dataclass(left):
            assert_same_arrays(left, right, f"{where}.{field.name}")
        elif isinstance(left, np.ndarray):
            if left.dtype.kind in "iub":
                np.testing.assert_array_equal(right, left, err_msg=f"{where}.{field.name}")
            else:
                np.testing.assert_allclose(right, left, rtol=1e-12, atol=1e-300, err_msg=f"{where}.{field.name}")


def assert_same_rounded(expected: object, actual: object) -> None:
    """Chart data rounded to 4 decimals alike: counts exactly, each rounded number within one unit of its last
    decimal (a mean of tied scores can sit exactly half-way, where the order of additions decides the rounding)."""
    for field in dataclasses.fields(expected):
        left, right = getattr(expected, field.name), getattr(actual, field.name)
        if isinstance(left, list) and left and isinstance(left[0], float):
            np.testing.assert_allclose(np.array(right, float), np.array(left, float), rtol=0, atol=1.01e-4,
                                       err_msg=field.name)
        elif isinstance(left, float):
            assert right == pytest.approx(left, abs=1.01e-4), field.name
        else:
            assert right == left, field.name


def assert_same_evaluation(expected: reportgen.Evaluation, actual: reportgen.Evaluation) -> None:
    assert [(f.name, f.kind, f.labels, f.notes, f.pooled) for f in actual.families] == [
        (f.name, f.kind, f.labels, f.notes, f.pooled) for f in expected.families]
    for name, stats in expected.statistics.items():
        assert_same_arrays(stats.task, actual.statistics[name].task, name)
        if stats.calibration is not None:
            assert_same_arrays(stats.calibration, actual.statistics[name].calibration, f"{name} calibration")
    assert expected.measured.others.keys() == actual.measured.others.keys()
    for name, other in expected.measured.others.items():
        assert actual.measured.others[name].shown.groups == other.shown.groups
        assert_same_arrays(other.statistics.task, actual.measured.others[name].statistics.task, f"{name} (other)")
    left, right = expected.metrics, actual.metrics
    pd.testing.assert_frame_equal(right[["slice", "group", "metric", "n", "support", "undefined_reason"]],
                                  left[["slice", "group", "metric", "n", "support", "undefined_reason"]])
    for column in ("value", "ci_low", "ci_high"):
        np.testing.assert_allclose(right[column].to_numpy(float), left[column].to_numpy(float), rtol=1e-9,
                                   atol=1e-12, err_msg=column)
    assert actual.measured.curves == expected.measured.curves
    assert actual.measured.reliability.keys() == expected.measured.reliability.keys()
    for name, diagrams in expected.measured.reliability.items():
        for left_group, right_group in zip(diagrams, actual.measured.reliability[name], strict=True):
            for left_diagram, right_diagram in zip(left_group, right_group, strict=True):
                assert_same_rounded(left_diagram, right_diagram)
    assert actual.measured.spread.constant_scores == expected.measured.spread.constant_scores


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("tied", [False, True], ids=["distinct scores", "tied scores"])
def test_binary_statistics_and_metrics_equal_the_numpy_engines(engine: str, tied: bool, spark_session) -> None:
    expected, actual = evaluations(engine, frame(tied=tied), label="y", score="p")
    assert_same_evaluation(expected, actual)
    assert [(f.id, f.title) for f in actual.findings] == [(f.id, f.title) for f in without_row_level(expected)]


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_binary_with_a_prediction_column_and_a_text_positive_label(engine: str, spark_session) -> None:
    data = frame(800, seed=3)
    data["y"] = np.where(data["y"] == 1, "fraud", "ok")
    data["predicted"] = np.where(data["p"] > 0.6, "fraud", "ok")
    expected, actual = evaluations(engine, data, label="y", score="p", prediction="predicted",
                                   positive_label="fraud")
    assert_same_evaluation(expected, actual)
    assert actual.predictions.positive_label == "fraud"


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_regression_statistics_and_metrics_equal_the_numpy_engines(engine: str, spark_session) -> None:
    data = frame(seed=1)
    data.loc[:40, "target"] = 0.0  # zero targets: left out of MAPE
    expected, actual = evaluations(engine, data, label="target", prediction="p", task="regression")
    assert_same_evaluation(expected, actual)
    assert actual.measured.spread.prediction_std == pytest.approx(expected.measured.spread.prediction_std, rel=1e-12)


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_one_row_groups_and_single_class_groups(engine: str, spark_session) -> None:
    data = frame(300, seed=2)
    data.loc[0, "region"] = "alone"  # a group of one row
    data.loc[data["level"] == 3, "y"] = 1  # a group of positives only
    expected, actual = evaluations(engine, data, label="y", score="p",
                                   slices=[{"column": "region"}, {"column": "level"}])
    assert_same_evaluation(expected, actual)


def without_row_level(evaluation: reportgen.Evaluation) -> list:
    """The findings of the numpy engine's evaluation as an SQL engine raises them: without the sanity checks' (they
    read every row) and without merging findings on the same rows (it compares row masks)."""
    context = Context(config=evaluation.config, predictions=evaluation.predictions, measured=evaluation.measured)
    from_checks = {(f.id, f.title) for f in checks.run(context).findings}
    with patch.object(registry, "FINISHING", tuple(f for f in registry.FINISHING if f is not merge.merge_duplicates)):
        found = run_analyses(context)[1]
    return [f for f in found if (f.id, f.title) not in from_checks]


def baseline_of(data: pd.DataFrame, column: str, values: np.ndarray, seed: int) -> pd.DataFrame:
    """Another model's outputs on the same rows, shuffled, with the label and with rows of ids the candidate lacks."""
    rng = np.random.default_rng(seed)
    theirs = pd.DataFrame({"row_id": data["row_id"], column: values, "y": data["y"]}).sample(frac=1.0, random_state=seed)
    extra = pd.DataFrame({"row_id": [-1, -2], column: values[:2], "y": data["y"].iloc[:2]})
    return pd.concat([theirs, extra], ignore_index=True).assign(noise=rng.random(len(theirs) + 2))


def paired_statistics(engine: str, evaluation: reportgen.Evaluation, data: pd.DataFrame, baseline: pd.DataFrame,
                      spec: dict) -> tuple[dict, dict]:
    """Each family's paired statistics from both models' rows (the numpy engine) and from the SQL engine."""
    from reportgen.baseline import align_baseline
    from reportgen.config import BaselineSpec
    from reportgen.engines.paired_sql import BaselineInput
    from reportgen.engines.scan import measure_sql
    from reportgen.engines.source import connect

    config, measured = evaluation.config, evaluation.measured
    spec = BaselineSpec(path="data frame", **{key: value for key, value in spec.items() if key != "data"})
    found = align_baseline(spec, baseline, evaluation.predictions, config.data)
    numpy_pairs = comparison.measure_baseline(found, measured.engine, measured.families, measured.statistics,
                                              config.report).paired
    sql_config = config.model_copy(update={"report": config.report.model_copy(update={"engine": engine})})
    connection = connect(engine, files=None, frame=data, table=None, source="data frame", settings=sql_config.report)
    try:
        sql_pairs = measure_sql(connection, sql_config, source="data frame", fingerprint="-", engine=engine,
                                version="-", notes=[], baselines=[BaselineInput(spec, baseline, "-")])[3][0].paired
    finally:
        connection.close()
    return numpy_pairs, sql_pairs


def assert_same_paired(expected: dict, actual: dict) -> None:
    """Joint cells exactly; sums of per-row differences and of placements to 1e-12 relative (to the sum of the
    terms' sizes, as a sum of differences can cancel to about zero)."""
    assert actual.keys() == expected.keys()
    for name, left in expected.items():
        right = actual[name]
        assert [m.name for m in right.metrics] == [m.name for m in left.metrics]
        assert (left.joint is None) == (right.joint is None), name
        if left.joint is not None:
            assert_same_arrays(left.joint, right.joint, f"{name} joint cells")
        assert right.indicators == left.indicators
        sums = [(key, left.differences[key], right.differences[key]) for key in left.differences]
        assert right.differences.keys() == left.differences.keys()
        assert (left.placements is None) == (right.placements is None)
        sums += [(key, left.placements[key], right.placements[key]) for key in left.placements or {}]
        for key, one, other in sums:
            np.testing.assert_array_equal(other.n, one.n, err_msg=f"{name} {key} n")
            for field in ("total", "squares"):
                a, b = getattr(one, field), getattr(other, field)
                np.testing.assert_array_equal(np.isnan(b), np.isnan(a), err_msg=f"{name} {key} {field}")
                # the sum of |terms|: the squares themselves, and for the total at most √(squares · n)
                size = np.nan_to_num(one.squares) if field == "squares" else np.sqrt(np.nan_to_num(one.squares) * one.n)
                scale = size + 1e-300
                assert np.all(np.abs(np.nan_to_num(b - a)) <= 1e-12 * scale), f"{name} {key} {field}"


def assert_same_comparison(expected: reportgen.Evaluation, actual: reportgen.Evaluation) -> None:
    (left,), (right,) = expected.comparisons, actual.comparisons
    assert (right.name, right.join, right.unmatched) == (left.name, left.join, left.unmatched)
    text = ["slice", "group", "metric", "method", "test", "undefined_reason", "flag", "mirror_of", "n", "support"]
    pd.testing.assert_frame_equal(right.table[text], left.table[text])
    for column in ("candidate", "baseline", "difference", "ci_low", "ci_high", "p_value", "q_value"):
        np.testing.assert_allclose(right.table[column].to_numpy(float), left.table[column].to_numpy(float), rtol=1e-9,
                                   atol=1e-12, err_msg=column)
    pd.testing.assert_frame_equal(right.baseline_metrics[["slice", "group", "metric", "n"]],
                                  left.baseline_metrics[["slice", "group", "metric", "n"]])
    np.testing.assert_allclose(right.baseline_metrics["value"].to_numpy(float),
                               left.baseline_metrics["value"].to_numpy(float), rtol=1e-9, atol=1e-12)
    compared = [(f.id, f.title, f.detail) for f in expected.findings if f.section == "comparison"]
    assert [(f.id, f.title, f.detail) for f in actual.findings if f.section == "comparison"] == compared


@pytest.mark.parametrize("engine", SQL_ENGINES)
@pytest.mark.parametrize("task", ["binary", "regression", "multiclass", "fewer classes"])
def test_a_baseline_gives_the_numpy_engines_paired_statistics_and_comparison(engine: str, task: str,
                                                                             spark_session) -> None:
    data = frame(2000, seed=5, tied=True).assign(row_id=lambda d: np.arange(len(d)) * 7 + 3)
    rng = np.random.default_rng(6)
    if task == "binary":  # a better baseline where level is 1, so that some regressions are significant
        theirs = np.where(data["level"] == 1, 0.15 + 0.7 * data["y"], rng.random(len(data))).round(2)
        options = {"label": "y", "score": "p"}
        spec = {"score": "p_old", "id": "row_id", "name": "old model"}
        column = "p_old"
    elif task in ("multiclass", "fewer classes"):
        data["label"] = data["level"].map({1: "a", 2: "b", 3: "c"})
        raw = rng.random((len(data), 3)) + 1.5 * np.eye(3)[data["level"].to_numpy() - 1] * (data["age"].to_numpy() < 50)[:, None]
        for k, name in enumerate("abc"):  # the candidate: probabilities, rounded (ties), top-2 accuracy
            data[f"p_{name}"] = (raw[:, k] / raw.sum(axis=1)).round(2)
        options = {"label": "label", "score_prefix": "p_", "normalize": True, "top_k": [2]}
        better = np.eye(3)[data["level"].to_numpy() - 1] * 2 + rng.random((len(data), 3))
        if task == "multiclass":
            theirs = better / better.sum(axis=1, keepdims=True)
            spec = {"score_prefix": "old_", "id": "row_id", "name": "old model", "normalize": True}
            column = "old_a"
        else:  # predictions only, and never class "c": coded on the candidate's classes
            theirs = np.where(better[:, 0] > better[:, 1], "a", "b")
            spec = {"prediction": "old_class", "id": "row_id", "name": "old model"}
            column = "old_class"
    else:
        theirs = data["target"].to_numpy() + rng.normal(0, np.where(data["level"] == 1, 0.1, 0.8))
        data.loc[data["sex"] == "f", "target"] = 1.5  # a constant target and a perfect model: undefined R², RMSE 0
        data.loc[data["sex"] == "f", "p"] = 1.5
        data.loc[:30, "target"] = 0.0  # zero targets: left out of MAPE
        options = {"label": "target", "prediction": "p", "task": "regression"}
        spec = {"prediction": "pred_old", "id": "row_id", "name": "old model"}
        column = "pred_old"
    if task == "multiclass":
        baseline = baseline_of(data, column, theirs[:, 0], seed=7).drop(columns="y")
        order = baseline["row_id"].map(dict(zip(data["row_id"], range(len(data))))).fillna(0).astype(int).to_numpy()
        for k, name in enumerate("abc"):
            baseline[f"old_{name}"] = theirs[order, k]
    else:
        baseline = baseline_of(data, column, theirs, seed=7)
    if task in ("multiclass", "fewer classes"):
        baseline = baseline.drop(columns="y", errors="ignore")
    if task == "regression":
        baseline["y"] = baseline["row_id"].map(data.set_index("row_id")["target"])
        baseline = baseline.rename(columns={"y": "target"})
    spec["data"] = baseline
    if engine == "spark":  # a query per family and statistic: Spark's overhead; every kind of family but one of each
        options["slices"] = [SLICES[k] for k in (1, 3, 4, 5, 8, 9, 12)]
    expected, actual = evaluations(engine, data, **options, baseline=spec)
    assert_same_comparison(expected, actual)
    assert expected.comparisons[0].unmatched == 2
    assert_same_paired(*paired_statistics(engine, expected, data, baseline, spec))
    if task != "regression":
        assert any(f.section == "comparison" for f in expected.findings), "the case should hold a regression"


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_quantile_bins_of_a_column_with_infinities_are_the_numpy_engines(engine: str, spark_session) -> None:
    data = frame(1000, seed=11)
    rng = np.random.default_rng(11)
    data["spiky"] = np.where(rng.random(1000) < 0.3, np.inf, rng.normal(0, 1, 1000))  # the top quantile: infinite
    data.loc[data.index[:20], "spiky"] = -np.inf
    expected, actual = evaluations(engine, data, label="y", score="p", slices=[{"column": "spiky", "quantiles": 4}])
    assert "∞" in expected.families[1].labels[-1]
    assert_same_evaluation(expected, actual)
