"""Baselines: aligning another model's predictions with the candidate's, and one test per bad input."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from reportgen.baseline import Baseline, load_baseline
from reportgen.config import BaselineSpec, Config, DataSection, validate
from reportgen.errors import ConfigError, InputError
from reportgen.io import Predictions, check_predictions, load_predictions

BINARY = DataSection(label="y", score="p")


@pytest.fixture
def candidate_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": [10, 11, 12, 13, 14, 15],
            "y": [0, 1, 1, 0, 1, 0],
            "p": [0.1, 0.8, 0.4, 0.3, 0.9, 0.6],
            "sex": ["f", "m", "f", None, "m", "f"],
        }
    )


@pytest.fixture
def candidate(candidate_frame) -> Predictions:
    return check_predictions(candidate_frame, BINARY, source="preds.csv")


def _load(tmp_path, frame: pd.DataFrame, candidate: Predictions, data: DataSection = BINARY, name="b.csv", **keys):
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return load_baseline(BaselineSpec(name="old", path=name, **keys), candidate, data, path=path)


def _fails(tmp_path, frame: pd.DataFrame, candidate: Predictions, message: str, data=BINARY, **keys) -> None:
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        _load(tmp_path, frame, candidate, data, **keys)


# Alignment ----------------------------------------------------------------------------------------


def test_rows_joined_on_id_land_on_the_candidates_rows(tmp_path, candidate):
    old = {10: 0.2, 11: 0.7, 12: 0.55, 13: 0.45, 14: 0.3, 15: 0.9}
    frame = pd.DataFrame({"row_id": [15, 99, 12, 10, 14, 98, 13, 11]})
    frame["p_old"] = frame["row_id"].map(old).fillna(0.5)
    baseline = _load(tmp_path, frame, candidate, score="p_old", id="row_id")
    assert isinstance(baseline, Baseline)
    assert (baseline.name, baseline.source) == ("old", "b.csv")
    assert baseline.join == 'on column "row_id"'
    assert baseline.unmatched == 2
    predictions = baseline.predictions
    np.testing.assert_array_equal(predictions.scores, [0.2, 0.7, 0.55, 0.45, 0.3, 0.9])
    np.testing.assert_array_equal(predictions.y_pred, [0, 1, 1, 0, 0, 1])  # [data] threshold 0.5
    np.testing.assert_array_equal(predictions.y_true, candidate.y_true)
    assert (predictions.task, predictions.positive_label, predictions.source) == ("binary", "1", "b.csv")
    assert predictions.fingerprint.startswith("sha256:") and predictions.fingerprint != candidate.fingerprint


def test_a_baseline_threshold_replaces_the_candidates(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [10, 11, 12, 13, 14, 15], "p_old": [0.2, 0.7, 0.55, 0.45, 0.3, 0.9]})
    baseline = _load(tmp_path, frame, candidate, score="p_old", id="row_id", threshold=0.6)
    np.testing.assert_array_equal(baseline.predictions.y_pred, [0, 1, 0, 0, 0, 1])


@pytest.mark.parametrize(
    ("candidate_ids", "baseline_ids", "name"),
    [
        ([17, 18, 19], ["19", "17", "18"], "b.parquet"),
        ([17, 18, 19], [19.0, 17.0, 18.0], "b.parquet"),
        (["17", "18", "19"], [19, 17, 18], "b.csv"),
        (["17", "18", "19"], [19.0, 17.0, 18.0], "b.parquet"),
        ([17.0, 18.0, 19.0], [19, 17, 18], "b.csv"),
    ],
)
def test_ids_match_by_value_across_types_and_formats(tmp_path, candidate_ids, baseline_ids, name):
    candidate = check_predictions(
        pd.DataFrame({"row_id": candidate_ids, "y": [0, 1, 1], "p": [0.2, 0.7, 0.6]}), BINARY, source="preds.csv"
    )
    frame = pd.DataFrame({"row_id": baseline_ids, "p_old": [0.9, 0.1, 0.5]})
    baseline = _load(tmp_path, frame, candidate, name=name, score="p_old", id="row_id")
    np.testing.assert_array_equal(baseline.predictions.scores, [0.1, 0.5, 0.9])


def test_whole_float_ids_read_from_a_csv_join_integer_ids_from_parquet(tmp_path):
    pd.DataFrame({"row_id": ["17.0", "18.0", "19.0"], "y": [0, 1, 1], "p": [0.2, 0.7, 0.6]}).to_csv(
        tmp_path / "preds.csv", index=False
    )
    candidate = load_predictions(tmp_path / "preds.csv", BINARY, source="preds.csv")
    assert candidate.frame["row_id"].dtype == np.float64
    frame = pd.DataFrame({"row_id": pd.array([18, 19, 17], dtype="int64"), "p_old": [0.5, 0.9, 0.1]})
    baseline = _load(tmp_path, frame, candidate, name="b.parquet", score="p_old", id="row_id")
    np.testing.assert_array_equal(baseline.predictions.scores, [0.1, 0.5, 0.9])


def test_rows_in_the_same_order_are_checked_on_the_shared_columns(tmp_path, candidate, candidate_frame):
    frame = candidate_frame.assign(p=[0.9, 0.9, 0.9, 0.9, 0.9, 0.9], p_old=[0.2, 0.7, 0.55, 0.45, 0.3, 0.9])
    frame["y"] = frame["y"].astype(float)  # 1.0 is 1
    baseline = _load(tmp_path, frame, candidate, score="p_old")  # "p", the candidate's score, is not compared
    assert (baseline.join, baseline.unmatched) == ("by row order", 0)
    np.testing.assert_array_equal(baseline.predictions.scores, [0.2, 0.7, 0.55, 0.45, 0.3, 0.9])
    assert list(baseline.predictions.frame.columns) == ["y", "p_old"]


def test_a_binary_baseline_may_name_its_predicted_labels(tmp_path, candidate):
    frame = pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "p_old": [0.2, 0.7, 0.55, 0.45, 0.3, 0.9], "hard": [1] * 6})
    baseline = _load(tmp_path, frame, candidate, score="p_old", prediction="hard")
    np.testing.assert_array_equal(baseline.predictions.y_pred, [1] * 6)


@pytest.fixture
def multiclass() -> tuple[Predictions, DataSection]:
    data = DataSection(label="y", score_prefix="p_")
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "y": ["cat", "dog", "cat", "fox"],
            "p_cat": [0.6, 0.2, 0.5, 0.1],
            "p_dog": [0.3, 0.7, 0.2, 0.1],
            "p_fox": [0.1, 0.1, 0.3, 0.8],
        }
    )
    return check_predictions(frame, data, source="preds.csv"), data


def test_a_multiclass_baseline_with_named_probability_columns(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame(
        {"id": ["d", "c", "b", "a"], "cat": [0.2, 0.1, 0.5, 0.3], "dog": [0.2, 0.1, 0.4, 0.6], "fox": [0.6, 0.8, 0.1, 0.1]}
    )
    baseline = _load(tmp_path, frame, candidate, data, scores={"fox": "fox", "dog": "dog", "cat": "cat"}, id="id")
    predictions = baseline.predictions
    assert predictions.classes == candidate.classes == ["cat", "dog", "fox"]
    np.testing.assert_array_equal(predictions.scores, [[0.3, 0.6, 0.1], [0.5, 0.4, 0.1], [0.1, 0.1, 0.8], [0.2, 0.2, 0.6]])
    np.testing.assert_array_equal(predictions.y_pred, [1, 0, 2, 2])
    np.testing.assert_array_equal(predictions.y_true, candidate.y_true)


def test_a_multiclass_baseline_with_a_score_prefix_and_normalize(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame(
        {"y": ["cat", "dog", "cat", "fox"], "o_cat": [0.4, 0.2, 0.2, 0], "o_dog": [0.2, 0.2, 0, 0], "o_fox": [0.2, 0.4, 0, 0.8]}
    )
    baseline = _load(tmp_path, frame, candidate, data, score_prefix="o_", normalize=True)
    np.testing.assert_allclose(baseline.predictions.scores[0], [0.5, 0.25, 0.25])
    np.testing.assert_array_equal(baseline.predictions.y_pred, [0, 2, 0, 2])
    assert baseline.predictions.top_k == candidate.top_k


def test_a_multiclass_baseline_of_predicted_classes_only(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame({"id": ["b", "a", "c", "d"], "guess": ["dog", "cat", "fox", "dog"]})
    baseline = _load(tmp_path, frame, candidate, data, prediction="guess", id="id")
    np.testing.assert_array_equal(baseline.predictions.y_pred, [0, 1, 2, 1])
    assert baseline.predictions.scores is None


def test_a_baseline_that_never_predicts_a_class_the_candidate_predicts_is_coded_on_the_candidates_classes(
    tmp_path,
):
    data = DataSection(label="y", prediction="guess")
    candidate = check_predictions(
        pd.DataFrame({"y": ["cat", "dog", "cat"], "guess": ["cat", "owl", "dog"]}), data, source="preds.csv"
    )
    baseline = _load(tmp_path, pd.DataFrame({"y": ["cat", "dog", "cat"], "old": ["dog", "dog", "cat"]}),
                     candidate, data, prediction="old")
    assert baseline.predictions.classes == candidate.classes == ["cat", "dog", "owl"]
    np.testing.assert_array_equal(baseline.predictions.y_true, candidate.y_true)
    np.testing.assert_array_equal(baseline.predictions.y_pred, [1, 1, 0])


def test_a_regression_baseline(tmp_path):
    data = DataSection(label="price", prediction="yhat")
    candidate_frame = pd.DataFrame({"k": [1, 2, 3], "price": [1.5, 2.0, 3.25], "yhat": [1.0, 2.5, 3.0]})
    candidate = check_predictions(candidate_frame, data, source="preds.csv")
    frame = pd.DataFrame({"k": [3, 1, 2], "old": [2.75, 1.25, 2.0]})
    baseline = _load(tmp_path, frame, candidate, data, prediction="old", id="k")
    np.testing.assert_array_equal(baseline.predictions.y_pred, [1.25, 2.0, 2.75])
    np.testing.assert_array_equal(baseline.predictions.y_true, [1.5, 2.0, 3.25])


# Bad baselines ------------------------------------------------------------------------------------


def test_a_baseline_of_another_task(tmp_path, candidate):
    frame = pd.DataFrame({"a": [0.5] * 6, "b": [0.5] * 6})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: [baseline] "old": its "scores" make it a multiclass model, but the candidate is a binary model; '
        "compare models of the same task",
        scores={"0": "a", "1": "b"},
    )


def test_a_binary_baseline_needs_a_score(tmp_path, candidate):
    _fails(
        tmp_path,
        pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "hard": [1] * 6}),
        candidate,
        'b.csv: [baseline] "old" gives only "prediction"; a binary model\'s baseline needs "score", the column '
        "of positive-class probabilities",
        prediction="hard",
    )


def test_a_regression_baseline_for_a_multiclass_candidate(tmp_path):
    data = DataSection(label="grade", prediction="pred")
    frame = pd.DataFrame({"grade": [1, 2, 3, 2], "pred": [1, 2, 3, 3]})
    candidate = check_predictions(frame, data, task="multiclass", source="preds.csv")
    _fails(
        tmp_path,
        pd.DataFrame({"grade": [1, 2, 3, 2], "old": [1.0, 2.4, 3.0, 1.7]}),
        candidate,
        'b.csv: [baseline] prediction "old" holds numbers that are not classes (2.4, 1.7); it looks like a '
        'regression model, but the candidate is a multiclass model with classes "1", "2", "3"; compare models of the '
        "same task",
        data=data,
        prediction="old",
    )


def test_a_key_that_does_not_apply_to_the_task(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame({"y": ["cat", "dog", "cat", "fox"], "guess": ["cat"] * 4})
    message = 'b.csv: [baseline] "threshold" does not apply to a multiclass task'
    _fails(tmp_path, frame, candidate, message, data=data, prediction="guess", threshold=0.3)


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"score_prefix": ""}, 'c.toml: [baseline]: "score_prefix" is empty'),
        ({"scores": {}}, 'c.toml: [baseline]: "scores" is empty; map each class to its probability column'),
    ],
)
def test_an_empty_output_key_is_a_config_error(keys, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        validate(Config, {"data": {"label": "y", "prediction": "q"}, "baseline": {"path": "b.csv", **keys}},
                 source="c.toml")


def test_a_missing_output_column(tmp_path, candidate):
    _fails(
        tmp_path,
        pd.DataFrame({"y": [0, 1, 1, 0, 1, 0], "p_new": [0.5] * 6}),
        candidate,
        'b.csv: no column "p_old" ([baseline] score); columns are: y, p_new',
        score="p_old",
    )


def test_an_output_column_that_is_the_label(tmp_path, candidate):
    _fails(
        tmp_path,
        pd.DataFrame({"y": [0.5] * 6}),
        candidate,
        'b.csv: [baseline] score: column "y" is the label of the predictions ([data] label); the baseline\'s '
        "output must be in columns of its own",
        score="y",
    )


def test_a_score_prefix_matching_one_column(tmp_path, multiclass):
    candidate, data = multiclass
    _fails(
        tmp_path,
        pd.DataFrame({"y": ["cat", "dog", "cat", "fox"], "o_cat": [1.0] * 4}),
        candidate,
        'b.csv: [baseline] score_prefix "o_" matches 1 column; a multiclass model needs one probability column '
        "per class; columns are: y, o_cat",
        data=data,
        score_prefix="o_",
    )


def test_probabilities_not_summing_to_one_point_to_the_baselines_normalize(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame({"y": ["cat", "dog", "cat", "fox"], "o_cat": [0.5, 0, 0, 0], "o_dog": [0.5] * 4, "o_fox": [0.5] * 4})
    message = (
        'b.csv: columns "o_cat", "o_dog", "o_fox": 1 row (row 1) whose probabilities sum to 1.5–1.5, not 1; '
        "fix them or set [baseline] normalize = true"
    )
    _fails(tmp_path, frame, candidate, message, data=data, score_prefix="o_")


def test_a_bad_value_after_a_join_is_named_by_its_id(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [15, 14, 13, 12, 11, 10], "p_old": [0.5, 1.5, 0.5, 2.0, 0.5, 0.5]})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: column "p_old": 2 values (ids 12, 14) outside [0, 1]; scores must be probabilities of the '
        "positive class",
        score="p_old",
        id="row_id",
    )


def test_different_classes(tmp_path, multiclass):
    candidate, data = multiclass
    frame = pd.DataFrame({"y": ["cat", "dog", "cat", "fox"], "guess": ["cat", "dog", "cat", "owl"]})
    _fails(
        tmp_path,
        frame,
        candidate,
        "b.csv: the classes differ from the predictions' (\"owl\" only in b.csv); the two models must have the "
        "same classes",
        data=data,
        prediction="guess",
    )


def test_no_id_column(tmp_path, candidate, candidate_frame):
    _fails(
        tmp_path,
        pd.DataFrame({"p_old": [0.5] * 6}),
        candidate,
        'b.csv: [baseline] id "key": no column "key" in preds.csv; columns are: row_id, y, p, sex',
        score="p_old",
        id="key",
    )
    _fails(
        tmp_path,
        pd.DataFrame({"p_old": [0.5] * 6}),
        candidate,
        'b.csv: [baseline] id "row_id": no column "row_id" in b.csv; columns are: p_old',
        score="p_old",
        id="row_id",
    )


def test_missing_ids(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [10, None, 12, 13, None, 15], "p_old": [0.5] * 6})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: [baseline] id "row_id": 2 missing ids (rows 2, 5) in b.csv; each row needs its own id',
        score="p_old",
        id="row_id",
    )


def test_duplicate_ids(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [10.0, 17.0, 23.0, 17.0, 99.0, 23.0, 99.0, 17.0, 11.0], "p_old": [0.5] * 9})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: [baseline] id "row_id": 3 duplicate ids in b.csv (e.g. 17, 23, 99); each row needs its own id',
        score="p_old",
        id="row_id",
    )


def test_duplicate_ids_in_the_candidate(tmp_path, candidate_frame):
    candidate = check_predictions(candidate_frame.assign(row_id=[1, 2, 3, 1, 4, 5]), BINARY, source="preds.csv")
    _fails(
        tmp_path,
        pd.DataFrame({"row_id": [1, 2, 3, 4, 5], "p_old": [0.5] * 5}),
        candidate,
        'b.csv: [baseline] id "row_id": 1 duplicate id in preds.csv (e.g. 1); each row needs its own id',
        score="p_old",
        id="row_id",
    )


def test_candidate_rows_without_a_baseline_row(tmp_path):
    ids = np.arange(1, 1001)
    candidate = check_predictions(
        pd.DataFrame({"row_id": ids, "y": ids % 2, "p": np.full(1000, 0.5)}), BINARY, source="preds.csv"
    )
    absent = [4, 8, 15, 16, 23, 42, 108, 200, 300, 400, 500, 600]
    kept = np.setdiff1d(ids, absent)
    frame = pd.DataFrame({"row_id": kept[::-1], "p_old": np.full(len(kept), 0.5)})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: [baseline] id "row_id": 12 of the 1000 predictions have no baseline row (e.g. ids 4, 8, 15, '
        "16, 23 …); the baseline must cover every row",
        score="p_old",
        id="row_id",
    )


def test_labels_that_disagree_after_the_join(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [15, 14, 13, 12, 11, 10], "y": [0, 0, 0, 1, 0, 0], "p_old": [0.5] * 6})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: [baseline] id "row_id": column "y" differs from the predictions for 2 ids (e.g. 11, 14); an '
        "id must name the same row in both files",
        score="p_old",
        id="row_id",
    )


def test_another_number_of_rows_without_id(tmp_path, candidate):
    _fails(
        tmp_path,
        pd.DataFrame({"y": [0, 1, 1, 0, 1], "p_old": [0.5] * 5}),
        candidate,
        "b.csv: 5 rows, but preds.csv has 6; give the baseline's predictions for the same rows in the same "
        "order, or set [baseline] id to join the files on an id column",
        score="p_old",
    )


def test_rows_in_another_order_without_id(tmp_path, candidate):
    frame = pd.DataFrame({"row_id": [10, 11, 12, 13, 14, 15], "y": [1, 0, 1, 0, 1, 1], "p_old": [0.5] * 6})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: 3 rows differ from the predictions in column "y" (rows 1, 2, 6); rows must be in the same '
        "order, or set [baseline] id",
        score="p_old",
    )


def test_rows_in_another_order_found_in_a_text_column(tmp_path, candidate):
    frame = pd.DataFrame({"sex": ["m", "m", "f", None, "m", "f"], "p_old": [0.5] * 6})
    _fails(
        tmp_path,
        frame,
        candidate,
        'b.csv: 1 row differs from the predictions in column "sex" (row 1); rows must be in the same order, '
        "or set [baseline] id",
        score="p_old",
    )


def test_no_shared_column_without_id(tmp_path, candidate):
    _fails(
        tmp_path,
        pd.DataFrame({"p": [0.5] * 6, "p_old": [0.5] * 6}),  # "p" is the candidate's score: not compared
        candidate,
        'b.csv: shares no column with the predictions (e.g. the label "y"), so the row order cannot be '
        "checked; add the label column or set [baseline] id",
        score="p_old",
    )


def test_an_unreadable_baseline_file_is_named_as_written(tmp_path, candidate):
    spec = BaselineSpec(path="old/b.csv", score="p_old")
    with pytest.raises(InputError, match=re.escape("old/b.csv: no such predictions file")):
        load_baseline(spec, candidate, BINARY, path=tmp_path / "old" / "b.csv")
