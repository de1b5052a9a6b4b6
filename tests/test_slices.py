"""Slices: which rows form which group, the notes the reader gets, and each bad slice's error."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reportgen
from reportgen.config import SliceSpec
from reportgen.errors import ConfigError, InputError
from reportgen.io import ColumnCodes
from reportgen.slices import OTHER, _bin_codes, build_slices, shown_groups


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [0, 1, 1, 0, 1, 0, 1, 0],
            "p": [0.1, 0.8, 0.4, 0.3, 0.9, 0.6, 0.7, 0.2],
            "sex": ["f", "m", None, "f", "m", "f", "f", None],
            "race": ["a", "b", "a", "a", "c", "b", "a", "a"],
            "age": [18.0, 25.0, 37.0, 45.0, 65.0, np.nan, 30.0, 52.0],
            "income": [10, 20, 30, 40, 50, 60, 70, 80],
            "zip": ["z1", "z2", "z3", "z3", "z4", "z5", "z3", "z2"],
            "my col": [1, 2, 3, 4, 5, 6, 7, 8],
        }
    )


def _build(frame: pd.DataFrame, *specs: dict):
    return build_slices(frame, [SliceSpec(**spec) for spec in specs], source="preds.csv")


def _groups(family) -> dict[str, list[int]]:
    """Group label -> row numbers, from the family's codes."""
    return {label: np.flatnonzero(family.codes == code).tolist() for code, label in enumerate(family.labels)}


# Values -------------------------------------------------------------------------------------------


def test_value_slice_sorted_groups_with_missing_last(frame):
    (family,) = _build(frame, {"column": "sex"})
    assert family.name == "sex" and family.kind == "values"
    assert _groups(family) == {"f": [0, 3, 5, 6], "m": [1, 4], "(missing)": [2, 7]}
    assert family.notes == []


def test_missing_values_become_a_missing_group_in_the_tables(frame):
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "sex"}], resamples=100)
    counts = evaluation.metrics.query("slice == 'sex' and metric == 'count'").set_index("group")["value"]
    assert counts.to_dict() == {"f": 4, "m": 2, "(missing)": 2}
    confusion = evaluation.confusion.query("slice == 'sex'").set_index("group")
    # rows 2 and 7: y = 1, 0; predicted (p >= 0.5): 0, 0
    assert confusion.loc["(missing)", ["tn", "fp", "fn", "tp"]].tolist() == [1, 0, 1, 0]


def test_whole_number_floats_are_labelled_as_integers():
    frame = pd.DataFrame({"grade": [1.0, 2.0, 2.0, np.nan, 2.5]})
    (family,) = _build(frame, {"column": "grade"})
    assert family.labels == ["1", "2", "2.5", "(missing)"]


def test_missing_slice_column_lists_the_columns(frame):
    with pytest.raises(InputError, match=r'^preds\.csv: no column "gender" \(\[\[slices\]\] #2\); columns are: y, p, sex, race'):
        _build(frame, {"column": "sex"}, {"column": "gender"})


def test_missing_intersection_column(frame):
    with pytest.raises(InputError, match=r'no column "nope" \(\[\[slices\]\] #1\); columns are:'):
        _build(frame, {"columns": ["sex", "nope"]})


# Too many groups ----------------------------------------------------------------------------------


def test_more_than_max_groups_keeps_the_largest_and_pools_the_rest(frame):
    (family,) = _build(frame, {"column": "zip", "max_groups": 3})
    # counts: z1 1, z2 2, z3 3, z4 1, z5 1 -> keep z2 and z3, pool 3 values (3 rows)
    assert _groups(family) == {"z2": [1, 7], "z3": [2, 3, 6], "(other)": [0, 4, 5]}
    assert len(family.notes) == 1
    note = family.notes[0]
    assert "5 distinct values" in note and "2 largest groups" in note
    assert "3 values (3 rows)" in note and '"(other)"' in note


def test_capped_slice_in_the_tables(frame):
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "zip", "max_groups": 3}],
                                    resamples=100)
    counts = evaluation.metrics.query("slice == 'zip' and metric == 'count'").set_index("group")["value"]
    assert counts.to_dict() == {"z2": 2, "z3": 3, "(other)": 3}


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(1, 9), min_size=2, max_size=40), max_groups=st.integers(2, 50),
       max_shown=st.integers(2, 30))
def test_shown_groups_are_the_largest_and_other_holds_every_other_row(sizes, max_groups, max_shown):
    values = np.repeat([f"v{i:02d}" for i in range(len(sizes))], sizes)
    (family,) = _build(pd.DataFrame({"v": values}), {"column": "v", "max_groups": max_groups})
    shown = shown_groups(family, max_shown)
    if family.n_groups <= max_shown:
        assert shown is None
        return
    counts = pd.Series(values).value_counts().sort_index().sort_values(ascending=False, kind="stable")
    pooled = family.pooled > 0
    listed = family.labels[:-1] if pooled else family.labels
    expected = [v for v in counts.index if v in listed][:max_shown]
    assert [family.labels[i] for i in shown.groups] == expected
    assert shown.other.labels == [OTHER] and shown.other.name == family.name
    assert (shown.other.codes == 0).tolist() == (~pd.Series(values).isin(expected)).tolist()
    assert shown.merged == len(sizes) - len(expected)


def test_max_groups_exactly_reached_is_not_capped(frame):
    (family,) = _build(frame, {"column": "zip", "max_groups": 5})
    assert family.labels == ["z1", "z2", "z3", "z4", "z5"] and family.notes == []


# Intersections ------------------------------------------------------------------------------------


def test_intersection_has_only_observed_combinations(frame):
    (family,) = _build(frame, {"columns": ["sex", "race"]})
    assert family.name == "sex × race" and family.kind == "intersection"
    assert _groups(family) == {
        "f & a": [0, 3, 6],
        "f & b": [5],
        "m & b": [1],
        "m & c": [4],
        "(missing) & a": [2, 7],
    }


# Queries ------------------------------------------------------------------------------------------


def test_where_selects_rows(frame):
    (family,) = _build(frame, {"name": "rich", "where": "income > 45 and sex == 'f'"})
    assert family.name == "rich" and family.kind == "query"
    assert family.labels == ["income > 45 and sex == 'f'"]
    assert family.codes.tolist() == [-1, -1, -1, -1, -1, 0, 0, -1]


def test_where_with_backquoted_column_and_in(frame):
    (family,) = _build(frame, {"where": "`my col` >= 7 or race in ['c']"})
    assert np.flatnonzero(family.codes == 0).tolist() == [4, 6, 7]


def test_issue_12_where_is_computed_without_pandas_eval(frame, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pandas evaluated the condition")

    for owner, name in [(pd, "eval"), (pd.DataFrame, "eval"), (pd.DataFrame, "query")]:
        monkeypatch.setattr(owner, name, refuse)
    (family,) = _build(frame, {"where": "income > 45 and sex == 'f' or `my col` in [1]"})
    assert np.flatnonzero(family.codes == 0).tolist() == [0, 5, 6]


def test_where_syntax_error_names_the_character(frame):
    with pytest.raises(ConfigError, match=r'^\[\[slices\]\] #1 where "income >> 3": not a valid condition: unexpected ">" '
                                          r"at character 9"):
        _build(frame, {"where": "income >> 3"})


def test_where_on_missing_values_is_false(frame):
    (family,) = _build(frame, {"where": "age >= 45"})
    assert np.flatnonzero(family.codes == 0).tolist() == [3, 4, 7]


def test_where_matching_nothing_gets_a_note(frame):
    (family,) = _build(frame, {"where": "income > 1000"})
    assert (family.codes == -1).all()
    assert family.notes == ['No row matches "income > 1000".']


def test_where_unknown_column(frame):
    with pytest.raises(ConfigError, match=r"^\[\[slices\]\] #1 where \"salary > 3\": .*salary.*; columns are: y, p, sex"):
        _build(frame, {"where": "salary > 3"})


def test_where_unknown_column_through_evaluate(frame):
    with pytest.raises(ConfigError, match=r'^slices\[0\]\["where"\] "salary > 3": .*columns are: y, p, sex, '):
        reportgen.evaluate(frame, label="y", score="p", slices=[{"where": "salary > 3"}], resamples=100)


@pytest.mark.parametrize("where", ["income >", "income > > 3", "@x > 1"])
def test_where_that_is_not_a_condition(frame, where):
    with pytest.raises(ConfigError, match=re.escape(f'[[slices]] #1 where "{where}": not a valid condition')):
        _build(frame, {"where": where})


@pytest.mark.parametrize("where", ["income + 1", "income"])
def test_where_that_is_not_boolean(frame, where):
    with pytest.raises(ConfigError, match=re.escape(f'where "{where}": must be a condition, true or false for each row')):
        _build(frame, {"where": where})


@pytest.mark.parametrize(
    "where",
    [
        "__import__('os').system('x')",
        "income.__class__",
        "income.__class__ == 1",
        "income[0] > 1",
        "(lambda: 1)() == 1",
        "[x for x in income] == 1",
        "sex.str.len() > 1",
        "abs(income) > 1",
    ],
)
def test_where_with_calls_attributes_or_indexing_is_rejected_before_evaluation(frame, where, monkeypatch):
    evaluated = []
    original = pd.DataFrame.eval
    monkeypatch.setattr(pd.DataFrame, "eval", lambda self, *a, **k: evaluated.append(a) or original(self, *a, **k))
    with pytest.raises(ConfigError, match=r'^evaluate\(\): slices\[0\]\["where"\] ".*": only comparisons, arithmetic, '
                                          r'and/or/not and "in" .*\(no function calls, attributes or indexing\)'):
        reportgen.evaluate(frame, label="y", score="p", slices=[{"where": where}], resamples=100)
    assert evaluated == []


# Bins and quantiles -------------------------------------------------------------------------------


def test_bins_half_open_with_the_last_closed(frame):
    (family,) = _build(frame, {"column": "age", "bins": [18, 30, 45, 65]})
    assert family.kind == "bins"
    assert _groups(family) == {
        "[18, 30)": [0, 1],  # 18 is in the first bin
        "[30, 45)": [2, 6],  # 30 at an inner edge goes up
        "[45, 65]": [3, 4, 7],  # 65 at the last edge is in the last bin
        "(missing)": [5],
    }


def test_infinite_bin_edges(frame):
    (family,) = _build(frame, {"column": "age", "bins": [-np.inf, 40, np.inf]})
    assert family.labels == ["[-∞, 40)", "[40, ∞]", "(missing)"]
    assert _groups(family)["[-∞, 40)"] == [0, 1, 2, 6]


def test_bins_that_do_not_cover_the_data(frame):
    with pytest.raises(
        InputError,
        match=r'^preds\.csv: column "age" \(\[\[slices\]\] #1 bins\): 2 values outside \[20, 60\] '
              r"\(data min 18, max 65\); widen the bins",
    ):
        _build(frame, {"column": "age", "bins": [20, 40, 60]})


def test_bins_on_a_column_that_is_not_numeric(frame):
    with pytest.raises(
        InputError, match=r'column "race" \(\[\[slices\]\] #1 bins\): 8 non-numeric values, e\.g\. "a"; '
                          r'use a plain "column" slice'
    ):
        _build(frame, {"column": "race", "bins": [0, 1]})


def test_issue_12_bins_error_cuts_the_cell_it_shows(frame):
    frame = frame.assign(age=frame["age"].astype(object))
    frame.loc[0, "age"] = "x" * 5000 + "\n" + "y"
    with pytest.raises(InputError, match=r': 1 non-numeric value, e\.g\. "x{79}…"; use a plain "column" slice') as caught:
        _build(frame, {"column": "age", "bins": [0, 100]})
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


@given(
    edges=st.lists(st.floats(allow_nan=False), min_size=1, max_size=40).map(sorted),
    x=st.lists(st.floats(allow_nan=False), max_size=60),
    picks=st.lists(st.integers(0, 39), max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_bin_codes_equal_a_binary_search(edges, x, picks):
    """Counting the edges at or below a value (few edges) or searching for it (many) puts every number, edges and
    infinities included, in the bin numpy's `searchsorted` gives."""
    edges = np.array(edges)
    x = np.array(x + [edges[i % len(edges)] for i in picks])  # values on the edges too
    n_bins = max(len(edges) - 1, 1)
    expected = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, n_bins - 1)
    codes = _bin_codes(x, edges, n_bins)
    assert codes.dtype == np.int32 and codes.tolist() == expected.tolist()


def test_empty_bin_is_kept_as_a_group(frame):
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "age", "bins": [0, 10, 100]}],
                                    resamples=100)
    counts = evaluation.metrics.query("slice == 'age' and metric == 'count'").set_index("group")["value"]
    assert counts.to_dict() == {"[0, 10)": 0, "[10, 100]": 7, "(missing)": 1}


def test_quantiles(frame):
    (family,) = _build(frame, {"column": "income", "quantiles": 4})
    assert family.kind == "quantiles" and family.notes == []
    assert [len(rows) for rows in _groups(family).values()] == [2, 2, 2, 2]


def test_quantiles_with_tied_edges_get_a_note():
    frame = pd.DataFrame({"score": [1, 1, 1, 1, 1, 1, 2, 3]})
    (family,) = _build(frame, {"column": "score", "quantiles": 4})
    assert len(family.labels) < 4
    assert family.notes == [f"4 quantile bins were asked for; tied values leave {len(family.labels)} distinct bins."]
    assert sum(len(rows) for rows in _groups(family).values()) == 8


def test_quantiles_of_a_constant_column():
    (family,) = _build(pd.DataFrame({"v": [5, 5, 5]}), {"column": "v", "quantiles": 3})
    assert family.labels == ["[5, 5]"]
    assert family.codes.tolist() == [0, 0, 0]
    assert "leave 1 distinct bins" in family.notes[0]


def test_quantiles_without_numbers():
    with pytest.raises(InputError, match=r'column "v" \(\[\[slices\]\] #1\): no numbers to form quantiles from'):
        _build(pd.DataFrame({"v": [np.nan, np.nan]}), {"column": "v", "quantiles": 2})


def test_quantiles_of_a_column_with_infinities_take_data_values_as_edges():
    x = np.r_[np.arange(12, dtype=float), [np.inf] * 6, [-np.inf] * 2]
    (family,) = _build(pd.DataFrame({"x": x}), {"column": "x", "quantiles": 4})
    assert family.labels == ["[-∞, 2)", "[2, 7)", "[7, ∞]"]  # the 5th, 10th and 15th of the 20 sorted values
    assert np.bincount(family.codes).tolist() == [4, 5, 11]


def test_issue_12_a_megabyte_cell_becomes_a_label_of_at_most_max_label_chars():
    from reportgen.labels import MAX_LABEL_CHARS

    frame = pd.DataFrame({"tag": ["a", "x" * 1_000_000 + "end", "a", "y" * 100_000]})
    (family,) = build_slices(frame, [SliceSpec(column="tag")], source="data.csv")
    assert max(len(label) for label in family.labels) == MAX_LABEL_CHARS
    assert family.labels[0] == "a" and family.labels[1].endswith("end")
    assert family.codes.tolist() == [0, 1, 0, 2]


def test_issue_12_long_values_cut_alike_stay_distinct_groups_in_full_and_for_display():
    from reportgen.labels import display_label

    same_ends = ["p" * 2_000 + middle + "q" * 2_000 for middle in ("A", "B", "C")]
    frame = pd.DataFrame({"tag": same_ends * 2, "other": ["u", "v"] * 3})
    families = build_slices(frame, [SliceSpec(column="tag"), SliceSpec(columns=["tag", "other"])], source="data.csv")
    for family in families:
        assert len(set(family.labels)) == family.n_groups
        assert len({display_label(label) for label in family.labels}) == family.n_groups
    assert families[0].n_groups == 3 and np.bincount(families[0].codes).tolist() == [2, 2, 2]


def test_issue_12_an_intersection_label_is_capped_too():
    from reportgen.labels import MAX_LABEL_CHARS

    frame = pd.DataFrame({"a": ["x" * 5_000, "y"], "b": ["z" * 5_000, "w"]})
    (family,) = build_slices(frame, [SliceSpec(columns=["a", "b"])], source="data.csv")
    assert all(len(label) <= MAX_LABEL_CHARS for label in family.labels)
    assert "y & w" in family.labels


@given(values=st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=1, max_size=40),
       dtype=st.sampled_from(["object", "str", "float64", "Int64", "category"]))
@settings(max_examples=100, deadline=None)
def test_value_codes_from_shared_codes_are_the_sorted_factorization(values, dtype):
    column = pd.Series(values, dtype="Int64").astype(dtype) if dtype in ("float64", "Int64") else pd.Series(
        [None if v is None else f"v{v}" for v in values], dtype=dtype)
    frame = pd.DataFrame({"g": column, "h": column})
    codes = ColumnCodes(frame)
    (family, pair) = build_slices(frame, [SliceSpec(column="g"), SliceSpec(columns=["g", "h"])], source="d.csv",
                                  codes=codes)
    expected, uniques = pd.factorize(column, sort=True)  # the oracle: sorted values, missing last
    expected = np.where(expected < 0, len(uniques), expected)
    np.testing.assert_array_equal(family.codes, expected)
    assert family.labels == [reportgen.slices.group_label(v) for v in uniques] + ["(missing)"] * int(column.isna().any())
    alone = build_slices(frame, [SliceSpec(column="g")], source="d.csv")[0]  # factorized here: the same
    assert alone.labels == family.labels and np.array_equal(alone.codes, family.codes)
    np.testing.assert_array_equal(pair.codes, family.codes)


# Time windows --------------------------------------------------------------------------------------


def _times(*values: str | None) -> pd.DataFrame:
    return pd.DataFrame({"t": pd.to_datetime(list(values), format="ISO8601")})


def test_monthly_windows_in_time_order_with_empty_months_and_missing_last():
    frame = _times("2024-05-31 23:59", "2024-03-01", None, "2024-05-01")
    (family,) = _build(frame, {"column": "t", "window": "MS"})
    assert family.kind == "windows"
    assert _groups(family) == {"2024-03": [1], "2024-04": [], "2024-05": [0, 3], "(missing)": [2]}


@pytest.mark.parametrize(("window", "labels"), [
    ("W", ["2024-W18", "2024-W19", "2024-W20"]),  # Monday 2024-04-29 to Sunday 2024-05-05 is ISO week 18
    ("7D", ["2024-05-01", "2024-05-08"]),  # from midnight of the first day
    ("12h", ["2024-05-01 00:00", "2024-05-01 12:00"] + [f"2024-05-{d:02d} {h}" for d in range(2, 14)
                                                         for h in ("00:00", "12:00")][:-1]),
    ("QS", ["2024-Q2"]),
    ("YE", ["2024"]),
    ("QS-FEB", ["2024-05"]),
])
def test_window_labels(window, labels):
    (family,) = _build(_times("2024-05-01 09:00", "2024-05-13 10:00"), {"column": "t", "window": window})
    assert family.labels == labels


def test_windows_of_text_and_of_local_times():
    frame = pd.DataFrame({"t": ["2024-05-06T23:30:00+02:00", "2024-05-07T00:30:00+02:00", None]})
    (family,) = _build(frame, {"column": "t", "window": "1D"})
    assert _groups(family) == {"2024-05-06": [0], "2024-05-07": [1], "(missing)": [2]}  # local days
    aware = pd.DataFrame({"t": pd.to_datetime(["2024-05-06 23:30", "2024-05-07 00:30"]).tz_localize("Europe/Paris")})
    (family,) = _build(aware, {"column": "t", "window": "1D"})
    assert family.labels == ["2024-05-06", "2024-05-07"]


@pytest.mark.parametrize(("values", "message"), [
    (["2024-05-06", "last tuesday", "soon"], r'column "t" \(\[\[slices\]\] #1 window "MS"\): 2 values not ISO dates '
                                             r'or times, e\.g\. "last tuesday"; write them as 2024-05-06'),
    ([1714953600, 1715040000], r'column "t" \(\[\[slices\]\] #1 window "MS"\): holds numbers, not dates or times'),
])
def test_window_of_a_column_that_is_not_times(values, message):
    with pytest.raises(InputError, match=r"^preds\.csv: " + message):
        _build(pd.DataFrame({"t": values}), {"column": "t", "window": "MS"})


def test_more_windows_than_max_groups_is_an_error_naming_a_longer_window():
    frame = _times("2024-01-01", "2024-12-31")
    with pytest.raises(InputError, match=r'window "1D"\): 366 windows from 2024-01-01 to 2024-12-31, more than '
                                         r"max_groups = 100; use a longer window or raise max_groups$"):
        _build(frame, {"column": "t", "window": "1D", "max_groups": 100})


@pytest.mark.parametrize(("spec", "message"), [
    ({"column": "t", "window": "B"}, r'"B" is not a window reportgen can cut time into'),
    ({"column": "t", "window": "2MS"}, r'"2MS" is not a window'),
    ({"column": "t", "window": "fortnight"}, r'"fortnight" is not a pandas offset alias'),
    ({"column": "t", "window": "MS", "quantiles": 4}, r'"window" goes with "column" alone'),
    ({"columns": ["t", "g"], "window": "MS"}, r'"window" goes with "column" alone'),
])
def test_bad_windows_in_the_config(spec, message):
    with pytest.raises(ValueError, match=message):
        SliceSpec(**spec)


def test_the_card_shows_the_latest_windows_in_time_order():
    frame = _times(*[f"2024-{m:02d}-15" for m in range(1, 13)])
    (family,) = _build(frame, {"column": "t", "window": "MS"})
    shown = shown_groups(family, 5)
    assert [family.labels[g] for g in shown.groups] == ["2024-08", "2024-09", "2024-10", "2024-11", "2024-12"]
    assert shown.other.codes.tolist() == [0] * 7 + [-1] * 5


@given(
    days=st.lists(st.integers(0, 400), min_size=1, max_size=40),
    minutes=st.lists(st.integers(0, 1439), min_size=40, max_size=40),
    window=st.sampled_from(["1D", "3D", "7D", "6h", "90min", "W", "MS", "ME", "QS", "QE", "YS"]),
)
@settings(max_examples=150, deadline=None)
def test_windows_count_the_rows_pandas_resample_counts(days, minutes, window):
    """Rows per window, empty windows included, equal pandas' `resample` (origin: midnight of the first day).
    Calendar windows hold their whole first and last day: the oracle resamples on the period's start, left-closed
    (pandas' own "W", "ME" and "QE" bins close on the right at midnight of the period's last day)."""
    times = pd.Timestamp("2023-11-20") + pd.to_timedelta(days, unit="D") + pd.to_timedelta(minutes[:len(days)],
                                                                                              unit="min")
    (family,) = _build(pd.DataFrame({"t": times}), {"column": "t", "window": window, "max_groups": 10_000})
    oracle = {"W": "W-MON", "ME": "MS", "QE": "QS"}.get(window, window)
    expected = pd.Series(1, index=times).resample(oracle, origin="start_day", closed="left", label="left").size()
    assert np.bincount(family.codes, minlength=family.n_groups).tolist() == expected.tolist()


def test_the_card_says_a_slice_is_time_windows():
    frame = pd.DataFrame({"y": [0, 1] * 30, "p": np.linspace(0.05, 0.95, 60),
                          "t": pd.date_range("2024-01-01", periods=60, freq="7D")})
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "t", "window": "QS"}],
                                    resamples=100)
    assert "(time windows of t, in time order)" in evaluation.to_html()
    groups = evaluation.metrics.query("slice == 't' and metric == 'count'")["group"].tolist()
    assert groups == ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "2025-Q1"]  # 60 weeks from 2024-01-01


def test_a_second_window_over_centuries_fails_at_once():
    """An attacker's config: one-second windows over 500 years (1.6e10 windows) is refused after one pass over the
    rows, without a label or an array per window."""
    frame = pd.DataFrame({"t": ["1600-01-01T00:00:00", "2100-01-01T00:00:00"] * 1000})
    seconds = int((pd.Timestamp("2100-01-01") - pd.Timestamp("1600-01-01")).total_seconds()) + 1
    with pytest.raises(InputError, match=rf'window "1s"\): {seconds:,} windows from 1600-01-01 00:00:00 to '
                                         r"2100-01-01 00:00:00, more than max_groups = 1000"):
        _build(frame, {"column": "t", "window": "1s"})


def test_windows_of_noise_raise_no_finding():
    """Random labels, scores and timestamps: monthly windows go through the weak-slice tests' one multiplicity
    policy, and noise is not called significantly worse."""
    rng = np.random.default_rng(7)
    n = 4000
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n),
                          "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, n), unit="h")})
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"column": "t", "window": "MS"}],
                                    resamples=100, error_analysis={"enabled": False})
    assert not [f for f in evaluation.findings if any(e.slice == "t" for e in f.evidence)]
