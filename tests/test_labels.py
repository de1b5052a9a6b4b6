"""Labels from the data: the one rule that cuts them (document and display lengths) and keeps them apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reportgen.labels import (
    DISPLAY_LABEL_CHARS,
    ELLIPSIS,
    MAX_LABEL_CHARS,
    cap_label,
    display_label,
    display_labels,
    distinct,
    shorten,
)


def test_a_short_text_is_kept_and_a_long_one_loses_its_middle():
    assert shorten("abc", 3) == "abc"
    cut = shorten("a" * 50 + "store 0412", 20)
    assert len(cut) == 20 and ELLIPSIS in cut and cut.endswith("0412")


@given(st.text(max_size=300), st.integers(min_value=2, max_value=120))
def test_shorten_never_exceeds_its_width(text, width):
    cut = shorten(text, width)
    assert len(cut) <= width
    assert cut == text or (cut.startswith(text[: (width - 1) * 2 // 3]) and ELLIPSIS in cut)


def test_the_two_lengths():
    assert len(cap_label("x" * 10_000_000)) == MAX_LABEL_CHARS
    assert len(display_label("x" * 5_000)) == DISPLAY_LABEL_CHARS
    assert display_label(None) == "–"


def test_labels_that_print_alike_or_are_cut_alike_stay_apart():
    assert distinct(["1", "1", "2", "1"]) == ["1", "1 #2", "2", "1 #3"]
    long_a, long_b = "p" * 500 + "A" + "q" * 500, "p" * 500 + "B" + "q" * 500
    labels = distinct([long_a, long_b])
    assert labels[0] == long_a and labels[1] != long_b
    assert len({display_label(label) for label in labels}) == 2


@given(st.lists(st.sampled_from(["x" * 70, "x" * 71, "y", "y", "x" * 70 + " #2"]), max_size=12))
def test_distinct_labels_are_distinct_in_full_and_for_display(labels):
    result = distinct(labels)
    assert len(set(result)) == len(result)
    assert len({display_label(label) for label in result}) == len(result)
    shown = display_labels(labels)
    assert len(set(shown)) == len(shown) and all(len(label) <= DISPLAY_LABEL_CHARS for label in shown)
