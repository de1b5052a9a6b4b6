"""Multiclass and regression input: each bad input raises one error class with a one-line message, and the task is inferred."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.config import DataSection
from reportgen.errors import ConfigError, InputError
from reportgen.io import check_predictions

R = 100


def three_classes(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Labels "ant", "bee", "cat" with probability columns p_ant, p_bee, p_cat summing to 1 and a prediction."""
    rng = np.random.default_rng(seed)
    names = np.array(["ant", "bee", "cat"])
    probabilities = rng.dirichlet([2, 2, 2], n)
    return pd.DataFrame({
        "y": names[np.arange(n) % 3],
        **{f"p_{c}": probabilities[:, k] for k, c in enumerate(names)},
        "pred": names[np.argmax(probabilities, axis=1)],
    })


SCORES = {"ant": "p_ant", "bee": "p_bee", "cat": "p_cat"}


def numbers(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(5, 2, n)
    return pd.DataFrame({"y": y, "pred": y + rng.normal(0, 0.5, n)})


def check(df: pd.DataFrame, task: str | None = None, **data: Any) -> reportgen.io.Predictions:
    return check_predictions(df, DataSection(**data), task=task, source="preds.csv")


# ---------------------------------------------------------------------------------------------- probabilities


def off_sum() -> pd.DataFrame:
    df = three_classes()
    df.loc[1, "p_ant"] += 0.2  # row 2 sums to 1.2
    df.loc[4, ["p_ant", "p_bee", "p_cat"]] *= 0.5  # row 5 sums to 0.5
    return df


def test_probabilities_not_summing_to_1_via_evaluate() -> None:
    with pytest.raises(InputError, match=(
        r'^data frame: columns "p_ant", "p_bee", "p_cat": 2 rows \(rows 2, 5\) whose probabilities sum to '
        r"0\.5–1\.2, not 1; fix them or set normalize=True$"  # the keyword, not the config file's key
    )):
        reportgen.evaluate(off_sum(), label="y", scores=SCORES, resamples=R)


def test_probabilities_not_summing_to_1_via_check_predictions() -> None:
    with pytest.raises(InputError, match=r'^preds\.csv: columns "p_ant", "p_bee", "p_cat": 2 rows \(rows 2, 5\)'):
        check(off_sum(), label="y", score_prefix="p_")


def test_probabilities_within_tolerance_pass() -> None:
    df = three_classes()
    df.loc[0, "p_ant"] += 5e-5  # a CSV's rounding
    assert check(df, label="y", score_prefix="p_").task == "multiclass"


def test_normalize_fixes_the_sums() -> None:
    df = off_sum()
    columns = ["p_ant", "p_bee", "p_cat"]
    expected = df[columns].to_numpy() / df[columns].to_numpy().sum(axis=1, keepdims=True)
    ev = reportgen.evaluate(df, label="y", scores=SCORES, normalize=True, resamples=R)
    np.testing.assert_allclose(ev.predictions.scores, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(ev.predictions.scores.sum(axis=1), 1.0)
    predictions = check(df, label="y", score_prefix="p_", normalize=True)
    np.testing.assert_allclose(predictions.scores, expected, rtol=0, atol=1e-15)
    # the metrics use the normalized values: log loss recomputed from them
    log_loss = -np.mean(np.log(expected[np.arange(len(df)), np.arange(len(df)) % 3]))
    value = ev.metrics.query("slice == 'overall' and metric == 'log_loss'")["value"].iloc[0]
    assert value == pytest.approx(log_loss, rel=1e-9)


def test_normalize_rejects_all_zero_rows() -> None:
    df = three_classes()
    df.loc[2, ["p_ant", "p_bee", "p_cat"]] = 0.0
    with pytest.raises(InputError, match=r"1 row \(row 3\) with all probabilities 0; they cannot be normalized"):
        reportgen.evaluate(df, label="y", score_prefix="p_", normalize=True, resamples=R)


def test_probability_outside_0_1() -> None:
    df = three_classes()
    df.loc[3, "p_cat"] = 1.5
    with pytest.raises(InputError, match=r'^preds\.csv: column "p_cat": 1 value \(row 4\) outside \[0, 1\]; '
                                         r"probabilities must be probabilities$"):
        check(df, label="y", scores=SCORES)


def test_probability_infinite() -> None:
    df = three_classes()
    df.loc[0, "p_bee"] = np.inf
    with pytest.raises(InputError, match=r'column "p_bee": 1 NaN or infinite value \(row 1\) among the probabilities'):
        reportgen.evaluate(df, label="y", scores=SCORES, resamples=R)


def test_probability_column_missing() -> None:
    with pytest.raises(InputError, match=r'^data frame: no column "p_dog" \(scores\); columns are: y, p_ant'):
        reportgen.evaluate(three_classes(), label="y", scores=SCORES | {"dog": "p_dog"}, resamples=R)


# ---------------------------------------------------------------------------------------------- classes


def test_label_class_without_probability_column() -> None:
    df = three_classes()
    df.loc[[4, 7], "y"] = "dog"
    message = (r'^data frame: column "y": label "dog" \(2 rows \(rows 5, 8\)\) has no probability column; '
               r'the probability columns are for "ant", "bee", "cat"$')
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", scores=SCORES, resamples=R)
    with pytest.raises(InputError, match=r'^preds\.csv: column "y": label "dog"'):
        check(df, label="y", score_prefix="p_")


def test_prediction_not_among_the_classes() -> None:
    df = three_classes()
    df.loc[9, "pred"] = "emu"
    message = r'^data frame: column "pred": prediction "emu" \(1 row \(row 10\)\) has no probability column'
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", scores=SCORES, prediction="pred", resamples=R)
    with pytest.raises(InputError, match=r'column "pred": prediction "emu"'):
        check(df, label="y", score_prefix="p_", prediction="pred")


def test_prediction_only_adds_its_classes() -> None:
    # without probability columns a predicted class nobody has is still a class (a column of zeros)
    df = three_classes()
    df.loc[9, "pred"] = "emu"
    predictions = check(df, task="multiclass", label="y", prediction="pred")
    assert predictions.classes == ["ant", "bee", "cat", "emu"]
    assert predictions.top_k == () and predictions.scores is None


@pytest.mark.parametrize(("columns", "count"), [(["p_ant"], "1 column"), ([], "0 columns")])
def test_score_prefix_matching_fewer_than_two_columns(columns: list[str], count: str) -> None:
    df = three_classes()[["y", "pred", *columns]]
    message = (rf'^data frame: score_prefix "p_" matches {count}; a multiclass task needs one probability '
               r"column per class; columns are: y, pred")
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", score_prefix="p_", resamples=R)
    with pytest.raises(InputError, match=rf'^preds\.csv: \[data\] score_prefix "p_" matches {count}'):
        check(df, label="y", score_prefix="p_")


def test_score_prefix_ignores_a_column_named_the_prefix() -> None:
    df = three_classes().rename(columns={"p_ant": "p_"})
    # "p_" itself is no class column: the two left are for "bee" and "cat", so label "ant" has none
    with pytest.raises(InputError, match=r'label "ant" \(20 rows \(rows 1, 4, 7, 10, 13 …\)\) has no probability column; '
                                         r'the probability columns are for "bee", "cat"$'):
        check(df, label="y", score_prefix="p_")


@pytest.mark.parametrize("top_k", [[3], [2, 4]])
def test_top_k_not_below_number_of_classes(top_k: list[int]) -> None:
    too_large = ", ".join(str(k) for k in top_k if k >= 3)
    message = (rf"top_k: {too_large} must be below the number of classes \(3\); "
               r"top-k accuracy with k ≥ classes is always 1$")
    with pytest.raises(InputError, match="^" + message):
        reportgen.evaluate(three_classes(), label="y", score_prefix="p_", top_k=top_k, resamples=R)
    with pytest.raises(InputError, match=r"^\[data\] " + message):
        check(three_classes(), label="y", scores=SCORES, top_k=top_k)


def test_top_k_needs_probabilities() -> None:
    with pytest.raises(InputError, match=r'^top_k needs probability columns; set "scores" or "score_prefix"$'):
        reportgen.evaluate(three_classes(), label="y", prediction="pred", task="multiclass", top_k=[2], resamples=R)


def test_top_k_default_drops_k_not_below_classes() -> None:
    assert check(three_classes(), label="y", score_prefix="p_").top_k == ()  # 3 and 5 are not below 3
    df = three_classes().assign(y=lambda d: np.where(np.arange(len(d)) % 4 == 0, "dog", d["y"]), p_dog=0.0)
    assert check(df, label="y", score_prefix="p_").top_k == (3,)


def test_fractional_labels_with_task_multiclass() -> None:
    df = numbers()
    with pytest.raises(InputError, match=(
        r'^data frame: column "y" holds fractional numbers, not class labels; '
        r'for a numeric target set task="regression"$'
    )):
        reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R)
    with pytest.raises(InputError, match=r'^preds\.csv: column "y" holds fractional numbers'):
        check(df, task="multiclass", label="y", prediction="pred")


def test_missing_multiclass_prediction() -> None:
    df = three_classes()
    df["pred"] = df["pred"].astype(object)
    df.loc[5, "pred"] = None
    with pytest.raises(InputError, match=r'^data frame: column "pred": 1 missing value \(row 6\); fill or drop them$'):
        reportgen.evaluate(df, label="y", prediction="pred", resamples=R)


# ---------------------------------------------------------------------------------------------- regression


@pytest.mark.parametrize(("column", "what"), [("y", "targets"), ("pred", "predicted values")])
def test_non_numeric_regression_values(column: str, what: str) -> None:
    df = numbers().astype({column: object})
    df.loc[[2, 6], column] = "n/a"
    message = (rf'^data frame: column "{column}": 2 non-numeric values \(rows 3, 7\); regression {what} must be '
               r'numbers \(for class labels set task="multiclass"\)$')
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", prediction="pred", task="regression", resamples=R)
    with pytest.raises(InputError, match=rf'^preds\.csv: column "{column}": 2 non-numeric values'):
        check(df, task="regression", label="y", prediction="pred")


def test_true_false_regression_target() -> None:
    df = numbers().assign(y=lambda d: d["y"] > 5)
    with pytest.raises(InputError, match=r'^data frame: column "y" is true/false; regression targets must be numbers$'):
        reportgen.evaluate(df, label="y", prediction="pred", task="regression", resamples=R)


@pytest.mark.parametrize(("column", "value"), [("y", np.inf), ("pred", -np.inf)])
def test_infinite_regression_values(column: str, value: float) -> None:
    df = numbers()
    df.loc[[0, 9, 10], column] = value
    message = rf'^data frame: column "{column}": 3 infinite values \(rows 1, 10, 11\)$'
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", prediction="pred", resamples=R)  # inferred: regression
    with pytest.raises(InputError, match=rf'^preds\.csv: column "{column}": 3 infinite values'):
        check(df, task="regression", label="y", prediction="pred")


def test_missing_regression_target() -> None:
    df = numbers()
    df.loc[3, "y"] = np.nan
    with pytest.raises(InputError, match=r'^data frame: column "y": 1 missing value \(row 4\); fill or drop them$'):
        reportgen.evaluate(df, label="y", prediction="pred", resamples=R)


def test_constant_regression_targets_are_not_an_error() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": np.full(80, 2.5), "pred": 2.5 + rng.normal(0, 0.2, 80)})
    ev = reportgen.evaluate(df, label="y", prediction="pred", resamples=R)  # 2.5: fractional, so regression
    assert ev.task == "regression"
    table = ev.metrics.query("slice == 'overall'").set_index("metric")
    for metric in ("r2", "explained_variance"):
        assert np.isnan(table.loc[metric, "value"])
        assert table.loc[metric, "undefined_reason"] == "all targets in this group are equal"
    assert table.loc["mae", "value"] == pytest.approx((df["y"] - df["pred"]).abs().mean())
    (finding,) = [f for f in ev.findings if f.id == "undefined_metrics"]
    assert {e.metric for e in finding.evidence} == {"r2", "explained_variance"}
    assert "all targets in this group are equal" in finding.detail


# ---------------------------------------------------------------------------------------------- task against keys


def test_task_regression_with_scores_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r'^evaluate\(\): scores does not apply to a regression task '
                                          r"\(set by task\)$"):
        reportgen.evaluate(three_classes(), label="y", scores=SCORES, prediction="pred", task="regression", resamples=R)


def test_task_multiclass_with_score_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r'^evaluate\(\): score does not apply to a multiclass task \(set by task\)$'):
        reportgen.evaluate(three_classes(), label="y", score="p_ant", task="multiclass", resamples=R)


def test_check_predictions_task_contradicting_keys() -> None:
    with pytest.raises(ConfigError, match=r'^\[data\] "score_prefix" does not apply to a regression task \(set by \[model\] task\)$'):
        check(three_classes(), task="regression", label="y", score_prefix="p_")


@pytest.mark.parametrize("task", ["binary", None])
def test_binary_score_with_three_labels(task: str | None) -> None:
    message = (r'^data frame: column "y": labels must be binary, found 3 values: "ant", "bee", "cat"; for more classes '
               r'set task="multiclass" and name the probability columns')
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(three_classes(), label="y", score="p_ant", task=task, resamples=R)
    with pytest.raises(InputError, match=r'^preds\.csv: column "y": labels must be binary, found 3 values'):
        check(three_classes(), task=task, label="y", score="p_ant")


def test_inferred_task_contradicting_keys() -> None:
    # fractional labels make the task regression, where "normalize" does not apply
    with pytest.raises(InputError, match=(
        r'^\[data\] "normalize" does not apply to a regression task; the task was inferred from column "y" of '
        r"preds\.csv: set \[model\] task if that is wrong$"
    )):
        check(numbers(), label="y", prediction="pred", normalize=True)


def test_ambiguous_integer_labels_ask_for_the_task() -> None:
    df = pd.DataFrame({"y": [1, 2, 3, 2] * 10, "pred": [1, 2, 2, 3] * 10})
    message = (r'^data frame: column "y" holds whole numbers and no probability columns are named, so the task is '
               r'ambiguous; set task="multiclass" or "regression"$')
    with pytest.raises(InputError, match=message):
        reportgen.evaluate(df, label="y", prediction="pred", resamples=R)
    with pytest.raises(InputError, match=r"^preds\.csv: column \"y\" holds whole numbers"):
        check(df, label="y", prediction="pred")
    # either task, set explicitly, works
    assert reportgen.evaluate(df, label="y", prediction="pred", task="multiclass", resamples=R).predictions.classes == [
        "1", "2", "3"]
    assert reportgen.evaluate(df, label="y", prediction="pred", task="regression", resamples=R).task == "regression"


# ---------------------------------------------------------------------------------------------- task inference


@pytest.mark.parametrize(
    ("frame", "data", "task"),
    [
        (pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.1, 0.8, 0.6, 0.3]}), {"score": "p"}, "binary"),
        (three_classes(), {"scores": SCORES}, "multiclass"),
        (three_classes(), {"score_prefix": "p_"}, "multiclass"),
        (three_classes(), {"score_prefix": "p_", "prediction": "pred"}, "multiclass"),
        (three_classes(), {"prediction": "pred"}, "multiclass"),  # strings
        (pd.DataFrame({"y": [True, False, True], "pred": [True, True, False]}), {"prediction": "pred"}, "multiclass"),
        (numbers(), {"prediction": "pred"}, "regression"),  # fractional numbers
        (pd.DataFrame({"y": ["1.5", "2", "3.25"], "pred": [1.0, 2.0, 3.0]}), {"prediction": "pred"}, "regression"),
        # whole-number labels with probability columns: the keys decide
        (pd.DataFrame({"y": [0, 1, 2], "p0": [0.8, 0.1, 0.1], "p1": [0.1, 0.8, 0.1], "p2": [0.1, 0.1, 0.8]}),
         {"score_prefix": "p"}, "multiclass"),
    ],
)
def test_task_inference(frame: pd.DataFrame, data: dict[str, Any], task: str) -> None:
    assert check(frame, label="y", **data).task == task


def test_inferred_multiclass_encodes_classes() -> None:
    df = pd.DataFrame({"y": [0, 1, 2, 10], "p0": [0.7, 0.1, 0.1, 0.1], "p1": [0.1, 0.7, 0.1, 0.1],
                       "p2": [0.1, 0.1, 0.7, 0.1], "p10": [0.1, 0.1, 0.1, 0.7]})
    predictions = check(df, label="y", score_prefix="p")
    assert predictions.classes == ["0", "1", "2", "10"]  # by number, as scikit-learn sorts them
    assert predictions.y_true.tolist() == [0, 1, 2, 3] == predictions.y_pred.tolist()


# ---------------------------------------------------------------------------------------------- the CLI


def test_cli_bad_multiclass_file_exits_2_without_output(tmp_path: Path) -> None:
    off_sum().to_csv(tmp_path / "predictions.csv", index=False)
    config = tmp_path / "config.toml"
    config.write_text('[report]\noutput_dir = "out"\n[data]\npath = "predictions.csv"\nlabel = "y"\n'
                      'score_prefix = "p_"\n')
    result = subprocess.run([sys.executable, "-m", "reportgen.cli", "build", str(config)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("reportgen: error: ")
    assert 'predictions.csv: columns "p_ant", "p_bee", "p_cat": 2 rows (rows 2, 5)' in last
    assert "normalize = true" in last
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_cli_regression_task_contradiction_exits_2(tmp_path: Path) -> None:
    numbers().to_csv(tmp_path / "predictions.csv", index=False)
    config = tmp_path / "config.toml"
    config.write_text('[report]\noutput_dir = "out"\n[model]\ntask = "regression"\n[data]\npath = "predictions.csv"\n'
                      'label = "y"\nprediction = "pred"\ntop_k = [2]\n')
    result = subprocess.run([sys.executable, "-m", "reportgen.cli", "build", str(config)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("reportgen: error: ")
    assert '"top_k" does not apply to a regression task (set by [model] task)' in last
    assert not (tmp_path / "out").exists()


def test_regression_values_whose_squares_overflow() -> None:
    frame = pd.DataFrame({"y": [1e300, -1e51, 5.0, 3.0], "p": [0.0, 1.0, 2.0, 1.0]})
    with pytest.raises(InputError, match=r'^data frame: column "y": 2 values \(rows 1, 2\) beyond ±1e\+50, whose '
                                         r"squares overflow; rescale the column"):
        reportgen.evaluate(frame, label="y", prediction="p", task="regression", resamples=R)


@pytest.mark.parametrize("names", [[0, 1], [("a", "b"), "c"]])
def test_evaluate_names_columns_that_are_not_text(names: list[Any]) -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.integers(0, 2, 50), "p": rng.random(50)})
    for name in names:
        df[name] = rng.random(50)
    shown = re.escape(", ".join(f'"{n}"' for n in names if not isinstance(n, str)))
    with pytest.raises(InputError, match=rf"^evaluate\(\): data: column names must be text, and {shown} (is|are) not"):
        reportgen.evaluate(df, label="y", score="p")


def test_an_evaluation_reprs_as_one_short_line() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.integers(0, 2, 400), "p": rng.random(400), "g": rng.choice(["a", "b"], 400)})
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "g"}], resamples=100)
    counts = {s: sum(f.severity == s for f in ev.findings) for s in ("high", "medium", "low")}
    text = repr(ev)
    assert "\n" not in text and len(text) < 120
    assert text.startswith(f"<Evaluation: binary, 400 rows, 1 slices, {len(ev.findings)} findings")
    assert all(f"{n} {s}" in text for s, n in counts.items() if n)
