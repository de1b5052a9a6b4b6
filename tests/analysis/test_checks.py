"""Sanity checks on the inputs: each check fires on a planted case, stays silent on realistic and random data, and
its statistics equal scikit-learn's, scipy's or a pandas loop's.

The checks run on narrow inputs (`check_predictions` of a small frame); the error-analysis exclusion and the
bundled examples run whole evaluations.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.datasets import load_iris
from sklearn.metrics import roc_auc_score

import reportgen
from reportgen.analysis import checks, findings
from reportgen.analysis.base import Finding
from reportgen.analysis.checks import Checks, check_findings, declared_columns, looks_like_output, sanity_checks
from reportgen.baseline import Baseline
from reportgen.config import Config, DataSection
from reportgen.evaluation import evaluate_config
from reportgen.io import ColumnCodes, check_predictions
from reportgen.metrics.statistics import Rows
from tests.analysis.test_findings import inputs_for

EXAMPLES = Path(__file__).parents[2] / "examples"
CHECK_IDS = {"leakage", "duplicate_output", "duplicate_rows", "nearly_one_class"}


def run_checks(df: pd.DataFrame, *, task: str | None = None, baselines: tuple[Baseline, ...] = (), **data: object,
               ) -> tuple[Checks, list[Finding]]:
    """The checks and their findings for `df` (label column "y"; `data` names the other columns as `[data]` does)."""
    section = DataSection(label="y", **data)
    predictions = check_predictions(df, section, task=task, source="test.csv")
    result = sanity_checks(predictions, declared_columns(Config(data=section), df), baselines)
    return result, check_findings(result, predictions.task)


def ids(found: list[Finding]) -> list[str]:
    return [f.id for f in found]


def binary(n: int = 2000, seed: int = 0, prevalence: float = 0.3) -> pd.DataFrame:
    """Binary labels with an honest score (AUC about 0.85) and two unrelated metadata columns."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    return pd.DataFrame({"y": y, "p": np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1).round(3),
                         "age": rng.integers(18, 80, n), "region": rng.choice(["north", "south", "east"], n)})


def multiclass(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    """Three classes with probabilities right about 70% of the time, and an unrelated metadata column."""
    rng = np.random.default_rng(seed)
    y = rng.choice(["a", "b", "c"], n)
    logits = rng.normal(size=(n, 3)) + 1.5 * (y[:, None] == np.array(["a", "b", "c"]))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return pd.DataFrame({"y": y, "p_a": p[:, 0], "p_b": p[:, 1], "p_c": 1 - p[:, 0] - p[:, 1],
                         "site": rng.choice(["x", "y", "z", "w"], n)})


def regression(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """A target, predictions with R² about 0.5, and an unrelated metadata column."""
    rng = np.random.default_rng(seed)
    y = rng.normal(50, 10, n)
    return pd.DataFrame({"y": y, "pred": y + rng.normal(0, 10, n), "hours": rng.normal(40, 5, n)})


# ---------------------------------------------------------------------------------------------- leakage: the output


def test_a_score_pointed_at_the_label_is_leakage() -> None:
    df = binary()
    result, found = run_checks(df, score="y")
    assert result.output.value == 1.0 and result.output.equals_label == "y"
    (finding,) = [f for f in found if f.id == "leakage"]
    assert (finding.severity, finding.section) == ("high", "overall")
    assert '"y"' in finding.title and "equals the label on every row" in finding.title


def test_a_score_that_separates_perfectly_is_leakage_and_an_inverted_one_too() -> None:
    df = binary()
    perfect = np.where(df["y"] == 1, 0.6, 0.4) + df["p"] / 100
    for inverted, scores in ((False, perfect), (True, 1 - perfect)):
        frame = df.assign(p=scores)
        result, found = run_checks(frame, score="p")
        assert result.output.leaks and result.output.equals_label is None
        (finding,) = found
        assert (finding.id, finding.severity) == ("leakage", "high")
        assert ("inverted" in finding.title) is inverted
        assert finding.evidence[0].metric == "roc_auc"
        assert finding.evidence[0].value == pytest.approx(roc_auc_score(frame["y"], frame["p"]), abs=1e-12)


@given(scores=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]) | st.floats(0, 1), min_size=1, max_size=60),
       labels=st.lists(st.integers(0, 1), min_size=60, max_size=60))
@settings(max_examples=200, deadline=None)
def test_output_auc_from_the_score_runs_equals_sklearn(scores, labels) -> None:
    """The output check's ROC AUC, summed over runs of tied scores, is scikit-learn's; None with one class."""
    y = np.array(labels[:len(scores)], dtype=np.int8)
    p = np.array(scores)
    auc = checks._roc_auc(Rows.prepare(y, y, p))
    if len(np.unique(y)) < 2:
        assert auc is None
    else:
        assert auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_a_perfect_score_on_a_handful_of_positives_is_not_called_leakage_unless_it_is_the_label() -> None:
    df = binary(300, prevalence=0.0)
    df.loc[:2, "y"] = 1  # 3 positives, scored above every negative
    df.loc[:2, "p"] = 0.999
    result, found = run_checks(df, score="p")
    assert result.output.value == 1.0 and not result.output.leaks
    assert "leakage" not in ids(found)
    result, found = run_checks(df.assign(p=df["y"]), score="p")
    assert result.output.equals_label == "p" and "leakage" in ids(found)


def test_a_prediction_column_equal_to_the_label_is_leakage_whatever_the_score() -> None:
    df = binary().assign(pred=lambda d: d["y"])
    result, found = run_checks(df, score="p", prediction="pred")
    assert result.output.value < 0.95 and result.output.equals_label == "pred"
    assert ids(found) == ["leakage"]


def test_multiclass_every_prediction_right_and_confident_is_leakage_but_not_when_unsure() -> None:
    df = multiclass().assign(weight=lambda d: np.random.default_rng(1).random(len(d)))  # no duplicated rows
    one_hot = {f"p_{c}": np.where(df["y"] == c, 0.995, 0.0025) for c in "abc"}
    result, found = run_checks(df.assign(**one_hot), score_prefix="p_")
    assert (result.output.statistic, result.output.value) == ("accuracy", 1.0)
    assert result.output.confidence == pytest.approx(0.995)
    assert ids(found) == ["leakage"]
    unsure = {f"p_{c}": np.where(df["y"] == c, 0.4, 0.3) for c in "abc"}  # right every time, at 0.4
    assert run_checks(df.assign(**unsure), score_prefix="p_")[1] == []


def test_multiclass_prediction_column_equal_to_the_label_is_leakage() -> None:
    df = multiclass().assign(predicted=lambda d: d["y"])
    result, found = run_checks(df, prediction="predicted", score_prefix="p_")
    assert result.output.equals_label == "predicted" and ids(found) == ["leakage"]


def test_regression_predictions_equal_to_the_target_or_nearly_are_leakage() -> None:
    df = regression()
    result, found = run_checks(df.assign(pred=df["y"]), prediction="pred", task="regression")
    assert result.output.equals_label == "pred" and ids(found) == ["leakage"]
    nearly = df.assign(pred=df["y"] + np.random.default_rng(1).normal(0, 0.1, len(df)))
    result, found = run_checks(nearly, prediction="pred", task="regression")
    expected_r2 = 1 - ((nearly["y"] - nearly["pred"]) ** 2).sum() / ((nearly["y"] - nearly["y"].mean()) ** 2).sum()
    assert result.output.value == pytest.approx(expected_r2) and result.output.value > checks.OUTPUT_R2
    assert ids(found) == ["leakage"] and result.output.equals_label is None


# ---------------------------------------------------------------------------------------------- leakage: metadata


def test_a_metadata_column_equal_to_the_label_is_leakage() -> None:
    df = binary().assign(outcome=lambda d: np.where(d["y"] == 1, "defaulted", "repaid"))
    result, found = run_checks(df, score="p")
    (check,) = [c for c in result.columns if c.column == "outcome"]
    assert (check.statistic, check.value, check.error_reduction, check.separates) == ("majority_accuracy", 1, 1, "label")
    (finding,) = found
    assert (finding.id, finding.severity) == ("leakage", "high") and '"outcome"' in finding.title
    assert [(e.slice, e.metric, e.value) for e in finding.evidence] == [("outcome", "majority_accuracy", 1.0)]


def test_a_numeric_column_that_separates_is_leakage_in_either_direction() -> None:
    rng = np.random.default_rng(3)
    df = binary()
    df["days_late"] = np.where(df["y"] == 1, rng.integers(30, 90, len(df)), rng.integers(0, 30, len(df)))
    df["paid_on_time"] = -df["days_late"] + rng.normal(0, 1, len(df))
    df.loc[rng.choice(len(df), 200, replace=False), "paid_on_time"] = np.nan  # missing values are left out
    result, found = run_checks(df, score="p")
    separating = {c.column: c for c in result.columns if c.separates}
    assert set(separating) == {"days_late", "paid_on_time"}
    present = df["paid_on_time"].notna()
    assert separating["paid_on_time"].value == pytest.approx(
        roc_auc_score(df["y"][present], df["paid_on_time"][present]), abs=1e-12)
    assert separating["paid_on_time"].rows == present.sum()
    (finding,) = found
    assert "2 columns" in finding.title and "against the label" in finding.detail


def test_multiclass_a_column_that_separates_one_class_from_the_rest_is_low() -> None:
    df = multiclass()
    df["beak"] = np.where(df["y"] == "b", 10.0, 0.0) + np.random.default_rng(2).random(len(df))
    result, found = run_checks(df, score_prefix="p_")
    (check,) = [c for c in result.columns if c.separates]
    assert (check.column, check.class_label, check.value, check.separates) == ("beak", "b", 1.0, "class")
    (finding,) = found
    assert (finding.id, finding.severity) == ("leakage", "low")
    assert "one class from the others" in finding.title and '"b" against the rest' in finding.detail


def test_iris_petal_length_tells_setosa_apart_a_strong_feature_not_high_leakage() -> None:
    iris = load_iris(as_frame=True)
    names = np.array(iris.target_names)
    df = iris.data.assign(y=names[iris.target], predicted=names[(iris.target + (np.arange(150) % 10 == 0)) % 3])
    result, found = run_checks(df, prediction="predicted", task="multiclass")
    assert {c.column for c in result.columns if c.separates} == {"petal length (cm)", "petal width (cm)"}
    assert {c.separates for c in result.columns} == {None, "class"}
    assert [(f.id, f.severity) for f in found] == [("leakage", "low")]


def test_multiclass_a_numeric_class_code_is_read_value_by_value_and_is_leakage() -> None:
    df = multiclass()
    df["species_code"] = df["y"].map({"a": 0, "b": 1, "c": 2})  # the middle class is not extreme against the rest
    result, found = run_checks(df, score_prefix="p_")
    statistics = {c.statistic: c.separates for c in result.columns if c.column == "species_code"}
    assert statistics == {"roc_auc": "class", "majority_accuracy": "label"}
    (finding,) = found
    assert (finding.id, finding.severity) == ("leakage", "high") and '"species_code"' in finding.title


def test_regression_a_column_computed_from_the_target_is_leakage() -> None:
    df = regression()
    df["log_y"] = np.log(df["y"] - df["y"].min() + 1)  # monotone: a rank correlation of 1
    df["y_twice"] = 2 * df["y"]
    result, found = run_checks(df, prediction="pred", task="regression")
    assert {c.column for c in result.columns if c.separates} == {"log_y", "y_twice"}
    check = next(c for c in result.columns if c.column == "hours")
    assert check.value == pytest.approx(spearmanr(df["hours"], df["y"]).statistic, abs=1e-12)
    gaps = df.assign(hours=df["hours"].mask(df.index % 7 == 0).round())  # missing values and ties
    (check,) = [c for c in run_checks(gaps, prediction="pred", task="regression")[0].columns if c.column == "hours"]
    assert check.value == pytest.approx(
        spearmanr(gaps["hours"], gaps["y"], nan_policy="omit").statistic, abs=1e-12)
    assert check.rows == gaps["hours"].notna().sum()
    assert ids(found) == ["leakage"] and "follow the target" in found[0].title


def test_identifiers_are_not_leakage_even_in_rows_sorted_by_label() -> None:
    df = binary().sort_values("y", kind="stable").reset_index(drop=True)
    df["row"] = np.arange(len(df))  # ROC AUC 1 against the label: it separates anything
    df["key"] = [f"k{i}" for i in range(len(df))]
    result, found = run_checks(df, score="p")
    assert result.skipped == {"row": "identifier-like (every value distinct)",
                              "key": f"identifier-like ({len(df):,} distinct values in {len(df):,} rows)"}
    assert found == []


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n", [40, 400, 4000])
def test_random_columns_never_separate(seed: int, n: int) -> None:
    rng = np.random.default_rng([seed, 14])  # not the stream of the frames' own columns
    noise = {
        "normal": rng.normal(size=n), "few_numbers": rng.integers(0, 3, n).astype(float),
        "heavy_tail": rng.standard_cauchy(n), "with_gaps": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
        "category": rng.choice(list("abcdefgh"), n), "flag": rng.random(n) < 0.1,
        "rare_value": rng.choice(["common", "rare"], n, p=[0.98, 0.02]),
    }
    tasks = [
        (binary(n, seed).assign(**noise), {"score": "p"}),
        (binary(n, seed, prevalence=0.05).assign(**noise), {"score": "p"}),
        (multiclass(n, seed).assign(**noise), {"score_prefix": "p_"}),
        (regression(n, seed).assign(**noise), {"prediction": "pred", "task": "regression"}),
    ]
    for df, data in tasks:
        result, found = run_checks(df, **data)
        assert not [c.column for c in result.columns if c.separates]
        assert "leakage" not in ids(found)


def test_every_kind_of_column_is_read_once_without_a_warning() -> None:
    n = 300
    rng = np.random.default_rng(8)
    odd = {
        "when": pd.date_range("2020-01-01", periods=n, freq="h"), "lag": pd.to_timedelta(rng.integers(0, 5, n), "D"),
        "kind": pd.Categorical(rng.choice(["a", "b"], n)),
        "count": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 5, n)), dtype="Int64"),
        "maybe": pd.array(np.where(rng.random(n) < 0.2, None, rng.random(n) < 0.5), dtype="boolean"),
        "complex": rng.normal(size=n) + 1j, "infinite": np.where(rng.random(n) < 0.1, np.inf, rng.normal(size=n)),
        "mixed": [1 if i % 2 else "a" for i in range(n)],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result, found = run_checks(binary(n).assign(**odd), score="p")
    assert {c.column for c in result.columns} | set(result.skipped) == {"age", "region", *odd}
    assert not set(result.skipped) & {c.column for c in result.columns}
    assert not [c for c in result.columns if c.separates] and found == []


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_column_auc_equals_scikit_learn_with_ties_and_missing_values(data: st.DataObject) -> None:
    n = data.draw(st.integers(25, 80))
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    values = np.array(data.draw(st.lists(st.one_of(st.integers(-3, 3).map(float), st.just(np.nan)),
                                         min_size=n, max_size=n)))
    present = ~np.isnan(values)
    if min(y[present].sum(), (1 - y[present]).sum()) < checks.MIN_CLASS_ROWS or len(np.unique(values[present])) < 2:
        return
    df = pd.DataFrame({"y": y, "p": np.linspace(0, 1, n), "x": values})
    (check,) = [c for c in run_checks(df, score="p")[0].columns if c.statistic == "roc_auc"]
    assert check.value == pytest.approx(roc_auc_score(y[present], values[present]), abs=1e-12)


def test_multiclass_column_auc_is_the_class_furthest_from_a_half_as_scikit_learn() -> None:
    df = multiclass(600, seed=4)
    df["size"] = np.random.default_rng(5).normal(size=len(df)) + (df["y"] == "c") * 0.8
    (check,) = [c for c in run_checks(df, score_prefix="p_")[0].columns if c.column == "size"]
    aucs = {c: roc_auc_score(df["y"] == c, df["size"]) for c in "abc"}
    furthest = max(aucs, key=lambda c: abs(aucs[c] - 0.5))
    assert (check.class_label, check.value) == (furthest, pytest.approx(aucs[furthest], abs=1e-12))


def test_categorical_accuracy_and_error_reduction_equal_a_pandas_loop() -> None:
    df = multiclass(900, seed=6)
    df["site"] = np.where(df["y"] == "a", "x", df["site"])  # "x" mostly "a"
    (check,) = [c for c in run_checks(df, score_prefix="p_")[0].columns if c.column == "site"]
    right = sum(group.value_counts().max() for _, group in df.groupby("site")["y"])
    most_common = df["y"].value_counts().max()
    assert check.value == pytest.approx(right / len(df))
    assert check.error_reduction == pytest.approx((right - most_common) / (len(df) - most_common))
    assert not check.separates


# ---------------------------------------------------------------------------------------------- copies of the output


def test_a_metadata_column_equal_to_the_predictions_is_a_duplicate_output() -> None:
    df = binary()
    df["rule_flag"] = np.where(df["p"] >= 0.5, "flagged", "clear")  # the predicted class, recoded
    df["p_copy_without_the_name"] = df["p"]
    result, found = run_checks(df, score="p")
    assert result.model_outputs == {"rule_flag": "equal to the predicted class",
                                    "p_copy_without_the_name": "equal to the score"}
    assert result.copies == ["rule_flag", "p_copy_without_the_name"]
    (finding,) = found
    assert (finding.id, finding.severity) == ("duplicate_output", "medium") and '"rule_flag"' in finding.title


def test_a_copy_of_predictions_that_never_name_one_class_is_found() -> None:
    df = multiclass()
    df["predicted"] = np.where(df["p_a"] > df["p_c"], "a", "c")  # "b" is never predicted
    df["decision"] = df["predicted"].map({"a": "accept", "c": "refer"})
    result, found = run_checks(df, prediction="predicted", task="multiclass")
    assert result.model_outputs == {"decision": "equal to the predicted class"} and result.copies == ["decision"]
    assert ids(found) == ["duplicate_output"]


def test_columns_named_or_equal_like_model_outputs_are_not_metadata_and_raise_nothing() -> None:
    df = multiclass()
    df["predicted"] = df[["p_a", "p_b", "p_c"]].to_numpy().argmax(axis=1).astype(str)  # undeclared, named like one
    df["prob_other_model"] = np.random.default_rng(0).random(len(df))
    result, found = run_checks(df, score_prefix="p_")
    assert result.model_outputs == {"predicted": "equal to the predicted class", "prob_other_model": "named like one"}
    assert result.copies == [] and found == []
    assert {c.column for c in result.columns} == {"site"}


def test_a_baseline_identical_to_the_model_is_a_duplicate_output() -> None:
    df = binary()
    section = DataSection(label="y", score="p")
    candidate = check_predictions(df, section, source="test.csv")
    other = check_predictions(df.assign(p=np.clip(df["p"] + 0.01, 0, 1)), section, source="test.csv")
    same = Baseline("same model", "same.csv", candidate, "by row order", 0)
    different = Baseline("older model", "older.csv", other, "by row order", 0)
    result = sanity_checks(candidate, declared_columns(Config(data=section), df), [same, different])
    assert result.identical_baselines == ["same model"]
    (finding,) = check_findings(result, "binary")
    assert (finding.id, finding.section, finding.subject) == ("duplicate_output", "comparison", "same model")


@pytest.mark.parametrize("name", ["predicted", "prediction", "pred", "y_pred", "yhat", "y_hat", "score", "proba",
                                  "prob_default", "probability", "logit", "predictedWage", "model-output"])
def test_names_of_model_outputs(name: str) -> None:
    assert looks_like_output(name)


@pytest.mark.parametrize("name", ["credit_score", "predator_count", "problem", "age", "sex", "probe", "output_kw"])
def test_names_that_are_not_model_outputs(name: str) -> None:
    assert not looks_like_output(name)


def test_a_constant_score_with_varying_predicted_classes_is_a_constant_prediction() -> None:
    df = binary(400).assign(p=0.5, pred=lambda d: d["region"].eq("north").astype(int))
    (finding,) = findings.constant_predictions(inputs_for(df, score="p", prediction="pred"))
    assert finding.severity == "high" and "scores are the same on every row" in finding.detail
    assert findings.constant_predictions(inputs_for(binary(400).assign(pred=lambda d: (d["p"] > 0.5).astype(int)),
                                                    score="p", prediction="pred")) == []


# ---------------------------------------------------------------------------------------------- rows and labels


@pytest.mark.parametrize(("repeated", "severity"), [(100, "medium"), (20, "low"), (10, None)])
def test_duplicated_rows_above_one_percent(repeated: int, severity: str | None) -> None:
    df = binary(1000)
    df["income"] = np.random.default_rng(7).lognormal(10, 1, len(df))  # no accidental duplicates
    df = pd.concat([df, df.iloc[:repeated]], ignore_index=True)
    result, found = run_checks(df, score="p")
    assert result.duplicated_rows == repeated
    assert [(f.id, f.severity) for f in found] == ([("duplicate_rows", severity)] if severity else [])
    if severity:
        assert f"{repeated} rows" in found[0].title and "more than once" in found[0].detail


def test_labels_of_nearly_one_class_say_how_many_rare_rows_there_are() -> None:
    df = binary(2000, prevalence=0.0)
    df.loc[:9, "y"] = 1  # 10 positives: 0.5%
    result, found = run_checks(df, score="p")
    assert result.class_counts == {"negative": 1990, "positive": 10}
    (finding,) = found
    assert (finding.id, finding.severity) == ("nearly_one_class", "medium")
    assert "Only 10 of 2,000 labels are positive" in finding.title


def test_multiclass_nearly_one_class_lists_the_rare_classes() -> None:
    df = multiclass(1000)
    df["y"] = np.where(np.arange(len(df)) < 996, "a", np.where(np.arange(len(df)) < 999, "b", "c"))
    (finding,) = [f for f in run_checks(df, score_prefix="p_")[1] if f.id == "nearly_one_class"]
    assert 'Class "a" has 99.6% of the labels' in finding.title and '"b" 3' in finding.detail


def test_an_imbalance_below_the_line_is_left_to_class_imbalance() -> None:
    assert run_checks(binary(2000, prevalence=0.05), score="p")[1] == []


@pytest.mark.parametrize(("positives", "expected"), [(10, "nearly_one_class"), (100, "class_imbalance")])
def test_nearly_one_class_stands_for_the_class_imbalance_finding(positives: int, expected: str) -> None:
    """One effect, one finding: at 0.5% positives the card says "nearly one class" (with the accuracy advice of
    class_imbalance), at 5% only "class imbalance"."""
    df = binary(2000, prevalence=0.0)
    df.loc[:positives - 1, "y"] = 1
    found = {f.id: f for f in reportgen.evaluate(df, label="y", score="p", resamples=100).findings}
    assert expected in found and ({"nearly_one_class", "class_imbalance"} - {expected}).isdisjoint(found)
    if expected == "nearly_one_class":
        share = 1 - positives / 2000
        assert f"always predicting negative would score {share:.3f}" in found[expected].detail


# ---------------------------------------------------------------------------------------------- whole evaluations


def test_issue_14_an_undeclared_predicted_column_is_not_an_error_analysis_candidate() -> None:
    """The model fails where it predicts "c": without the exclusion, "predicted = c" was the top error slice."""
    df = multiclass(3000, seed=1)
    top = df[["p_a", "p_b", "p_c"]].to_numpy().argmax(axis=1)
    df["predicted"] = np.array(["a", "b", "c"])[top]
    wrong = (df["predicted"] == "c") & (np.random.default_rng(1).random(len(df)) < 0.6)
    df.loc[wrong, "y"] = np.where(df.loc[wrong, "y"] == "a", "b", "a")
    ev = reportgen.evaluate(df, label="y", score_prefix="p_", resamples=100)
    analysis = ev.results["error_analysis"]
    assert "predicted" not in analysis.columns and "site" in analysis.columns
    assert any('"predicted" looks like a model output (equal to the predicted class)' in n for n in analysis.notes)
    assert not [f for f in ev.findings if "predicted" in f.title]


def test_a_score_pointed_at_the_label_leads_the_findings_once() -> None:
    df = binary(1000).assign(outcome=lambda d: np.where(d["y"] == 1, "defaulted", "repaid"))
    ev = reportgen.evaluate(df, label="y", score="y", resamples=100)
    assert (ev.findings[0].id, ev.findings[0].severity) == ("leakage", "high")
    assert ev.results["checks"].copies == ["outcome"]  # a copy of the label is now a copy of the output ...
    assert [f.id for f in ev.findings if f.id in CHECK_IDS] == ["leakage"]  # ... and says nothing more
    assert isinstance(ev.results["checks"], Checks)


@pytest.mark.parametrize("example", ["adult-income", "penguins", "wage"])
def test_the_bundled_examples_raise_no_sanity_finding(example: str) -> None:
    ev = evaluate_config(EXAMPLES / example / "config.toml")
    result = ev.results["checks"]
    assert result.columns and not [c.column for c in result.columns if c.separates]
    assert result.model_outputs == {} and result.duplicated_rows == 0
    assert not CHECK_IDS & {f.id for f in ev.findings}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-5, 40), min_size=1, max_size=60), st.integers(-(2**40), 2**40))
def test_ranks_and_codes_equal_scipys_by_counting_and_by_sorting(values: list[int], shift: int) -> None:
    from scipy.stats import rankdata

    numbers = np.asarray(values, dtype=np.float64) + shift
    expected_codes = rankdata(numbers, method="dense") - 1
    for integers, order in [(True, None), (False, None), (False, np.argsort(numbers))]:
        ranks, codes = checks._ranked(numbers, order, integers=integers)
        assert np.array_equal(ranks, rankdata(numbers, method="average")), (integers, order)
        assert np.array_equal(codes, expected_codes)


@given(rows=st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.sampled_from([0.0, -0.0, 1.5, np.nan]),
                               st.integers(0, 2), st.sampled_from([1, "1", None, np.nan, True])),
                     min_size=1, max_size=30))
@settings(max_examples=150, deadline=None)
def test_repeated_rows_are_what_dataframe_duplicated_counts(rows) -> None:
    frame = pd.DataFrame(rows, columns=["text", "number", "whole", "mixed"]).astype(
        {"text": "str", "mixed": object})
    frame["category"] = frame["text"].astype("category")
    assert checks.repeated_rows(ColumnCodes(frame)) == int(frame.duplicated().sum())


def test_repeated_rows_of_many_wide_columns_renumber_before_they_overflow() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.integers(0, 40, (500, 14)), columns=[f"c{i}" for i in range(14)])  # 40^14 > 2^63
    frame = pd.concat([frame, frame.iloc[::7]], ignore_index=True)
    assert checks.repeated_rows(ColumnCodes(frame)) == int(frame.duplicated().sum()) == 72


@given(values=st.lists(st.sampled_from([0.1, 0.25, 0.5, -0.0, 0.0, 0.9, np.nan]) | st.floats(0, 1), min_size=1,
                       max_size=40),
       other=st.lists(st.sampled_from(["a", "b"]), min_size=40, max_size=40))
@settings(max_examples=200, deadline=None)
def test_rows_whose_score_ties_are_the_only_ones_that_can_repeat(values, other) -> None:
    scores = np.array(values, dtype=np.float64)
    marked = checks.tied(scores, np.argsort(scores, kind="stable"))
    assert marked.tolist() == pd.Series(scores).duplicated(keep=False).tolist()
    frame = pd.DataFrame({"score": scores, "other": other[:len(scores)]})
    assert checks.repeated_rows(ColumnCodes(frame), marked) == int(frame.duplicated().sum())


def test_untied_scores_leave_only_the_tied_rows_to_code() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"score": rng.random(1000), "group": rng.choice(["a", "b"], 1000)})
    frame.loc[990:, "score"] = 0.5  # ten rows tie, two groups: eight repeats
    codes = ColumnCodes(frame)
    marked = checks.tied(frame["score"].to_numpy(), np.argsort(frame["score"].to_numpy()))
    assert checks.repeated_rows(codes, marked) == int(frame.duplicated().sum()) == 8
    assert codes._done == {}  # the whole frame's columns were never factorized
