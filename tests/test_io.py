"""Reading predictions: formats, and one test per bad input (class and message)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportgen
from reportgen.config import DataSection
from reportgen.errors import InputError
from reportgen.io import ValueCodes, check_predictions, load_predictions, read_table

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
    ("name", "content", "message"),
    [
        ("bad.parquet", b"not a parquet file", r"bad\.parquet: cannot read as parquet: \S"),
        ("bad.jsonl", b"{not json\n", r"bad\.jsonl: line 1: not JSON \(Expecting property name .* at column 2\)"),
        ("bad.csv", b"\xff\xfe\x00y,p\n\x00", r"bad\.csv: not UTF-8 text \(byte 0xff on line 1\); save the file as UTF-8"),
    ],
)
def test_unreadable_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
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


# Malformed and hostile files (issue 12) -----------------------------------------------------------


def _write(tmp_path, name: str, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _one_line_error(path, match: str) -> str:
    with pytest.raises(InputError, match=match) as caught:
        load_predictions(path, DATA, source=path.name)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    return message


@pytest.mark.parametrize("header", ["y,p,p", "y,p,sex,p", "p,y,p,p"])
def test_issue_12_duplicate_csv_columns(tmp_path, header):
    rows = "\n".join(",".join(["1", "0.5", "1", "0.5"][: header.count(",") + 1]) for _ in range(3))
    path = _write(tmp_path, "preds.csv", f"{header}\n{rows}\n")
    _one_line_error(path, r'^preds\.csv: the header repeats column "p"; give each column its own name')


def test_unnamed_csv_columns_are_not_duplicates(tmp_path):
    path = _write(tmp_path, "preds.csv", ",y,p,\n0,1,0.5,\n1,0,0.25,\n")  # an index written by to_csv, a trailing comma
    assert list(read_table(path, "preds.csv").columns) == ["Unnamed: 0", "y", "p", "Unnamed: 3"]


@pytest.mark.parametrize(
    ("content", "line", "fields"),
    [
        ("y,p\n0,0.1,5\n1,0.5,6\n", 2, 3),  # pandas took the first field as an index: labels became 0.1, 0.5
        ("y,p\n0,0.1\n1,0.5,7\n", 3, 3),
        ("y,p,sex\n0,0.1,f\n1,0.5\n", 3, 2),  # pandas filled "sex" with NaN
        ('y,p,sex\n0,0.1,"a\nb"\n\n1\n', 5, 1),  # a quoted line break and a blank line are not lines of their own
    ],
)
def test_issue_12_ragged_csv_lines(tmp_path, content, line, fields):
    path = _write(tmp_path, "preds.csv", content)
    _one_line_error(path, rf"^preds\.csv: line {line} has {fields} fields?, the header has \d; every line needs one value")


def test_empty_last_cells_are_not_ragged(tmp_path):
    path = _write(tmp_path, "preds.csv", 'y,p,sex\n0,0.1,\n1,0.5,""\n0,0.2,"a,b"\n')
    assert read_table(path, "preds.csv")["sex"].isna().sum() == 2


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("y,p,sex\n0,0.1,f\n1,0.5,\xe9\n".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 on line 3\); save the file as UTF-8"),
        ("y,p\n0,0.5\n".encode("utf-16"), r"not UTF-8 text \(byte 0xff on line 1\)"),
        (bytes(range(1, 256)) * 40, r"not UTF-8 text \(byte 0x80 on line 2\)"),
        (bytes(range(256)) * 40, r"not UTF-8 text \(byte 0x80 on line 2\)"),
        (b"y,p\x00\n0,0.5\n", r"holds a NUL byte in its first line; not a CSV text file"),
    ],
    ids=["latin-1", "utf-16", "binary", "binary-with-nul", "nul-in-header"],
)
def test_issue_12_not_a_utf8_text_csv(tmp_path, content, match):
    _one_line_error(_write(tmp_path, "preds.csv", content), rf"^preds\.csv: {match}")


def test_issue_12_duplicate_jsonl_keys(tmp_path):
    path = _write(tmp_path, "preds.jsonl", '{"y": 0, "p": 0.1}\n{"y": 1, "p": 0.9, "p": 0.2}\n')
    _one_line_error(path, r'^preds\.jsonl: line 2: key "p" appears twice in one object; give each key once$')


def test_a_colon_in_a_jsonl_value_is_not_a_duplicate(tmp_path):
    path = _write(tmp_path, "preds.jsonl", '{"y": 0, "p": 0.1, "t": "12:30:00"}\r\n\n {"y": 1, "p": 0.9, "t": "a:b:c"}\n')
    assert read_table(path, "preds.jsonl")["t"].tolist() == ["12:30:00", "a:b:c"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ('{"y": 0, "p": 0.1, "meta": {"a": 1}}\n', r'column "meta" \(row 1\) holds nested values'),
        ('{"y": 0, "p": 0.1}\n{"y": 1, "p": 0.2, "tags": [1, 2]}\n', r'column "tags" \(row 2\) holds nested values'),
        ('{"y": 0, "p": 0.1, "a": [], "b": {}}\n', r'columns "a" \(row 1\), "b" \(row 1\) hold nested values'),
        ('{"y": 0, "p": ' + "[" * 100_000 + "]" * 100_000 + "}\n", r"line 1: nested too deeply to read"),
        ('{"y": 0, "p": 1' + "0" * 5000 + "}\n", r"line 1: a number of more than 4,300 digits"),
        ('[0, 0.5]\n', r"line 1: a JSON array, not an object"),
        ('{"y": 0, "p": 0.1}{"y": 1}\n', r"line 1: not JSON \(Extra data at column 19\)"),
        ('{"y": 0, "p": 0.1,\n"q": 1}\n', r"line 1: not JSON \(Expecting property name"),
    ],
)
def test_issue_12_nested_or_malformed_jsonl(tmp_path, content, match):
    _one_line_error(_write(tmp_path, "preds.jsonl", content), rf"^preds\.jsonl: {match}")


def test_jsonl_values_are_read_as_written(tmp_path):
    path = _write(tmp_path, "preds.jsonl", '{"y": 1, "p": 0.3, "created_at": 1700000000, "code": "1.5"}\n')
    frame = read_table(path, "preds.jsonl")
    assert frame["p"].tolist() == [0.3]
    assert frame["created_at"].tolist() == [1700000000]  # pandas' read_json made it a date
    assert frame["code"].tolist() == ["1.5"]  # ... and this a number


def test_issue_12_nested_parquet_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "y": [0, 1], "p": [0.1, 0.9], "l": [[1], [2, 3]], "s": [{"a": 1}, {"a": 2}],
        "m": pa.array([[("k", 1)], [("k", 2)]], type=pa.map_(pa.string(), pa.int64())),
    })
    pq.write_table(table, tmp_path / "preds.parquet")
    message = _one_line_error(tmp_path / "preds.parquet", r'^preds\.parquet: columns "l" \(list<.*\), "s" \(struct<.*\), "m" \(map<')
    assert message.endswith("flatten them into plain columns (e.g. pandas.json_normalize) or drop them")


def test_issue_12_duplicate_parquet_columns(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table([[0, 1], [0.1, 0.9], [0.2, 0.8]], names=["y", "p", "p"]), tmp_path / "preds.parquet")
    _one_line_error(tmp_path / "preds.parquet", r'^preds\.parquet: repeats column "p"; give each column its own name$')


def test_issue_12_duplicate_columns_in_a_data_frame():
    frame = pd.DataFrame([[0, 0.1, 0.2], [1, 0.9, 0.8]], columns=["y", "p", "p"])
    with pytest.raises(InputError, match=r'^preds\.csv: repeats column "p"; give each column its own name$'):
        _check(frame)


def test_issue_12_long_cells_are_cut_in_messages(tmp_path):
    path = _write(tmp_path, "preds.csv", "y,p\n0,0.5\n" + "9" * 5000 + ",0.5\n2,0.5\n")
    message = _one_line_error(path, r'^preds\.csv: column "y": labels must be binary, found 3 values')
    assert "9" * 79 + "…" in message and "9" * 81 not in message


def test_issue_12_label_with_a_line_break_stays_one_line(tmp_path):
    # found by the loader fuzz: cells are echoed in messages, and a cell may hold a line break
    path = _write(tmp_path, "preds.csv", 'y,p\n0,0.5\n"a\nb",0.5\n1,0.5\n')
    _one_line_error(path, r'labels must be binary, found 3 values: "0", "1", "a\\nb"')


def test_a_cell_over_the_csv_module_limit_still_reads(tmp_path):
    path = _write(tmp_path, "preds.csv", "y,p,text\n0,0.5," + "t" * 200_000 + "\n1,0.5,\n")
    assert read_table(path, "preds.csv")["text"].str.len().tolist()[0] == 200_000


# ---------------------------------------------------------------------------------------------- shared column codes

_DTYPES = ("object", "str", "category", "Int64", "float64", "string[pyarrow]")


def _column(values: list, dtype: str) -> pd.Series:
    """`values` (small whole numbers, None for missing) as a column of `dtype`."""
    if dtype in ("Int64", "float64"):
        return pd.Series(pd.array(values, dtype="Int64")).astype(dtype)
    mixed = [None if v is None else (v if v % 3 else str(v)) for v in values]  # object: numbers and text
    return pd.Series(mixed if dtype == "object" else [None if v is None else f"v{v}" for v in values], dtype=dtype)


@given(values=st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=1, max_size=40),
       dtype=st.sampled_from(_DTYPES))
@settings(max_examples=150, deadline=None)
def test_value_codes_are_pandas_factorize_with_and_without_missing(values, dtype):
    column = _column(values, dtype)
    found = ValueCodes.of(column)
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    np.testing.assert_array_equal(found.codes, codes)
    assert found.values.equals(pd.Index(uniques))
    codes, uniques = pd.factorize(column)
    np.testing.assert_array_equal(found.present_codes, codes)
    assert found.present_values.equals(pd.Index(uniques)) and found.present_values.dtype == pd.Index(uniques).dtype
    assert (found.missing is None) == (not column.isna().any())


def test_none_and_nan_in_an_object_column_are_one_missing_value():
    found = ValueCodes.of(pd.Series(["a", None, np.nan, "b"], dtype=object))
    assert found.codes.tolist() == [0, 1, 1, 2] and found.missing == 1
    assert found.present_codes.tolist() == [0, -1, -1, 1]


def test_predictions_factorize_each_column_once(monkeypatch):
    frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.8, 0.6, 0.4], "g": ["a", "b", "a", "b"]})
    predictions = check_predictions(frame, DataSection(label="y", score="p"), source="data frame")
    calls = []
    monkeypatch.setattr(ValueCodes, "of", classmethod(lambda cls, column: calls.append(column.name) or None))
    predictions.codes("g"), predictions.codes("g")
    assert calls == ["g"] and predictions.codes is predictions.codes
    restricted = dataclasses.replace(predictions, frame=frame.iloc[:2])
    assert restricted.codes is not predictions.codes and restricted.codes.frame is restricted.frame
