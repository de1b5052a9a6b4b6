"""Error-message helpers: user values are cut to a bounded length and made one line (issue 12)."""

from __future__ import annotations

import time

import pytest

from reportgen.errors import MAX_SHOWN, did_you_mean, plain_list, quoted_list, shown


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("age", "age"),
        (3.5, "3.5"),
        ("x" * MAX_SHOWN, "x" * MAX_SHOWN),
        ("x" * (MAX_SHOWN + 1), "x" * (MAX_SHOWN - 1) + "…"),
        ("a\nb\rc\td\x1b[31m", "a\\nb\\rc\\td\\x1b[31m"),
        ("line\u2028break", "line\\u2028break"),
        ("é ü 日本", "é ü 日本"),
    ],
)
def test_shown(value, expected):
    assert shown(value) == expected


def test_issue_12_a_5000_digit_cell_is_cut():
    text = shown(int("9" * 4000))
    assert len(text) == MAX_SHOWN and text.endswith("…")


def test_shown_is_cheap_on_huge_values():
    start = time.perf_counter()
    assert len(shown("\n" * 10**7)) == MAX_SHOWN
    assert time.perf_counter() - start < 0.5


def test_issue_12_lists_cut_each_item_and_count_the_rest():
    values = ["a" * 500, "b\nc", *map(str, range(10))]
    assert quoted_list(values) == f'"{"a" * 79}…", "b\\nc", "0", "1", "2" … and 7 more'
    assert plain_list(values, limit=2) == f"{'a' * 79}…, b\\nc … and 10 more"
    assert plain_list(iter(["x", "y"])) == "x, y"


def test_did_you_mean_skips_long_words_quickly():
    start = time.perf_counter()
    assert did_you_mean("q" * 500_000, ["q" * 499_999]) == ""
    assert time.perf_counter() - start < 0.5
    assert did_you_mean("lable", ["label", "score"]) == '; did you mean "label"?'
