"""Reading predictions: formats, and one test per bad input (class and message)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.config import DataSection
from reportgen.errors import InputError
from reportgen.io import check_predictions, load_predictions, read_table

DATA = DataSection(label="y", score="p")


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [0, 1, 1, 0, 1, 0],
            "p": [0.1, 0.8, 0.4, 0.3, 0.9, 0.6],
            "pred": [0, 1, 0, 0, 1, 1],
            "sex": ["f", "m", "f", None, "m", "f"],
            "age": [23.0, 45.0, 31.0, 60.0, np.nan, 38.0],
        }
    )


def _check(frame: pd.DataFrame, data: DataSection = DATA):
    return check_predictions(frame, data, source="preds.csv")


# Formats ------------------------------------------------------------------------------------------


def test_csv_parquet_and_jsonl_load_the_same_data(tmp_path, frame):
    frame.to_csv(tmp_path / "p.csv", index=False)
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    frame.to_json(tmp_path / "p.jsonl", orient="records", lines=True)
    data = DataSection(label="y", score="p", prediction="pred")
    loaded = [load_predictions(tmp_path / f"p.{ext}", data) for ext in ("csv", "parquet", "jsonl")]
    for predictions in loaded:
        np.testing.assert_array_equal(predictions.y_true, [0, 1, 1, 0, 1, 0])
        np.testing.assert_array_equal(predictions.y_pred, frame["pred"])
        np.testing.assert_array_equal(predictions.scores, frame["p"])  # exactly: JSON floats read precisely
        assert predictions.positive_label == "1"
        assert predictions.fingerprint.startswith("sha256:")
        assert predictions.frame["sex"].isna().tolist() == frame["sex"].isna().tolist()
        assert predictions.frame["sex"].dropna().tolist() == ["f", "m", "f", "m", "f"]
        np.testing.assert_allclose(predictions.frame["age"].to_numpy(dtype=float), frame["age"])
    # and the same metrics
    config = dict(label="y", score="p", prediction="pred", slices=[{"column": "sex"}], resamples=100)
    tables = [reportgen.evaluate(p.frame, **config).metrics for p in loaded]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0])


def test_format_is_chosen_by_suffix_case_insensitively(tmp_path, frame):
    frame.to_csv(tmp_path / "P.CSV", index=False)
    assert len(read_table(tmp_path / "P.CSV", "P.CSV")) == len(frame)


def test_the_file_fingerprint_is_of_its_bytes(tmp_path, frame):
    import hashlib

    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False)
    predictions = load_predictions(path, DATA)
    assert predictions.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


# Bad files ----------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"^.*nope\.csv: no such predictions file"):
        load_predictions(tmp_path / "nope.csv", DATA)


def test_unknown_format(tmp_path):
    path = tmp_path / "preds.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match=r'preds\.xlsx: unknown format "\.xlsx"; use one of \.csv, \.parquet, \.jsonl'):
        load_predictions(path, DATA)


@pytest.mark.parametrize(
    ("name", "content"),
    [("bad.parquet", b"not a parquet file"), ("bad.jsonl", b"{not json\n"), ("bad.csv", b"\xff\xfe\x00y,p\n\x00")],
)
def test_unreadable_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    suffix = name.split(".")[1]
    with pytest.raises(InputError, match=rf"{re.escape(name)}: cannot read as {suffix}: \S"):
        load_predictions(path, DATA)


def test_a_folder_is_not_a_predictions_file(tmp_path):
    (tmp_path / "preds.csv").mkdir()
    with pytest.raises(InputError, match="no such predictions file"):
        load_predictions(tmp_path / "preds.csv", DATA)


@pytest.mark.parametrize("content", ["", "y,p\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "preds.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=r"preds\.csv: no rows; the predictions file is empty"):
        load_predictions(path, DATA)


def test_empty_frame():
    with pytest.raises(InputError, match="preds.csv: no rows"):
        _check(pd.DataFrame({"y": [], "p": []}))


def test_the_message_names_the_source_as_given(tmp_path):
    with pytest.raises(InputError, match=r"^data/preds\.csv: no such predictions file"):
        load_predictions(tmp_path / "preds.csv", DATA, source="data/preds.csv")


# Bad columns --------------------------------------------------------------------------------------


def test_missing_column_lists_the_columns(frame):
    with pytest.raises(
        InputError, match=r'^preds\.csv: no column "label" \(\[data\] label\); columns are: y, p, pred, sex, age$'
    ):
        _check(frame, DataSection(label="label", score="p"))


@pytest.mark.parametrize("key", ["score", "prediction"])
def test_missing_score_or_prediction_column(frame, key):
    data = DataSection(**{"label": "y", "score": "p", key: "nope"})
    with pytest.raises(InputError, match=rf'no column "nope" \(\[data\] {key}\); columns are: y, p'):
        _check(frame, data)


def test_labels_not_binary(frame):
    with pytest.raises(InputError, match=r'column "y": labels must be binary, found 3 values: "0", "1", "2"'):
        _check(frame.assign(y=[0, 1, 2, 0, 1, 0]))


def test_string_labels_need_positive_label(frame):
    labels = ["no", "yes", "yes", "no", "yes", "no"]
    with pytest.raises(InputError, match=r'column "y" has labels "no", "yes": set \[data\] positive_label'):
        _check(frame.assign(y=labels))
    predictions = _check(frame.assign(y=labels), DataSection(label="y", score="p", positive_label="yes"))
    np.testing.assert_array_equal(predictions.y_true, [0, 1, 1, 0, 1, 0])
    assert predictions.positive_label == "yes"


def test_positive_label_not_among_values(frame):
    labels = ["no", "yes", "yes", "no", "yes", "no"]
    data = DataSection(label="y", score="p", positive_label="Yes")
    with pytest.raises(InputError, match=r'positive_label "Yes" is not a value of column "y"; values are: "no", "yes"'):
        _check(frame.assign(y=labels), data)


def test_scores_outside_unit_interval(frame):
    with pytest.raises(
        InputError, match=r'column "p": 2 values \(rows 2, 5\) outside \[0, 1\]; scores must be probabilities'
    ):
        _check(frame.assign(p=[0.1, 1.2, 0.4, 0.3, -0.01, 0.6]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_scores_give_count_and_rows(frame, bad):
    with pytest.raises(InputError, match=r'column "p": 2 NaN or infinite values \(rows 3, 6\) among the scores'):
        _check(frame.assign(p=[0.1, 0.8, bad, 0.3, 0.9, bad]))


def test_many_bad_rows_are_capped_at_five():
    frame = pd.DataFrame({"y": np.zeros(12, dtype=int), "p": np.r_[np.full(9, np.nan), 0.1, 0.2, 0.3]})
    with pytest.raises(InputError, match=r"9 NaN or infinite values \(rows 1, 2, 3, 4, 5 …\) among the scores$"):
        _check(frame)


def test_scores_that_are_not_numbers(frame):
    with pytest.raises(InputError, match=r'column "p": 1 non-numeric value \(row 2\); scores must be probabilities'):
        _check(frame.assign(p=[0.1, "high", 0.4, 0.3, 0.9, 0.6]))


def test_missing_labels(frame):
    with pytest.raises(InputError, match=r'column "y": 1 missing value \(row 4\); fill or drop them'):
        _check(frame.assign(y=[0, 1, 1, None, 1, 0]))


def test_missing_predictions(frame):
    with pytest.raises(InputError, match=r'column "pred": 1 missing value \(row 1\)'):
        _check(frame.assign(pred=[None, 1, 0, 0, 1, 1]), DataSection(label="y", score="p", prediction="pred"))


@pytest.mark.parametrize("predictions", [[0, 1, 2, 0, 1, 1], ["no", "yes", "no", "no", "yes", "yes"]])
def test_predictions_that_are_not_labels(frame, predictions):
    data = DataSection(label="y", score="p", prediction="pred")
    with pytest.raises(InputError, match=r'column "pred": predictions must be label values \(.*"0", "1".*\); found'):
        _check(frame.assign(pred=predictions), data)


# Label conventions --------------------------------------------------------------------------------


def test_boolean_labels(frame):
    predictions = _check(frame.assign(y=frame["y"].astype(bool)))
    np.testing.assert_array_equal(predictions.y_true, frame["y"])


def test_threshold_makes_the_predictions(frame):
    predictions = _check(frame, DataSection(label="y", score="p", threshold=0.4))
    np.testing.assert_array_equal(predictions.y_pred, (frame["p"] >= 0.4).astype(int))


def test_positive_label_zero_flips_the_classes(frame):
    predictions = _check(frame, DataSection(label="y", score="p", prediction="pred", positive_label=0))
    np.testing.assert_array_equal(predictions.y_true, 1 - frame["y"])
    np.testing.assert_array_equal(predictions.y_pred, 1 - frame["pred"])


def test_string_predictions_of_string_labels(frame):
    data = DataSection(label="y", score="p", prediction="pred", positive_label="yes")
    yes_no = np.array(["no", "yes"])
    predictions = _check(frame.assign(y=yes_no[frame["y"]], pred=yes_no[frame["pred"]]), data)
    np.testing.assert_array_equal(predictions.y_true, frame["y"])
    np.testing.assert_array_equal(predictions.y_pred, frame["pred"])


def test_numeric_labels_written_as_text_keep_their_positives(frame):
    """Labels "0.0"/"1.0" (text, e.g. from JSON) are 0/1: once silently read as all negative."""
    text = frame.assign(y=frame["y"].map({0: "0.0", 1: "1.0"}))
    predictions = _check(text, DataSection(label="y", score="p", prediction="pred"))
    np.testing.assert_array_equal(predictions.y_true, frame["y"])
    np.testing.assert_array_equal(predictions.y_pred, frame["pred"])


def test_integer_predictions_of_text_labels_match_numerically(frame):
    text = frame.assign(y=frame["y"].map({0: "0.0", 1: "1.0"}))
    predictions = _check(text, DataSection(label="y", score="p", prediction="pred", positive_label="1.0"))
    np.testing.assert_array_equal(predictions.y_true, frame["y"])
    np.testing.assert_array_equal(predictions.y_pred, frame["pred"])
