"""How long text from the data may be in the card: the one rule for cutting labels, and its two lengths.

Group labels (slice values, intersections, error-analysis conditions, example cells, classes) come
from untrusted data, where one cell may hold megabytes. They are cut twice:

- where they are made (`reportgen.slices`, the error analysis), to at most `MAX_LABEL_CHARS`
  characters: the document and report.json keep the value up to that length, and nothing after
  that step ever handles a longer string;
- where they are shown (HTML tables, charts, the PDF), to at most `DISPLAY_LABEL_CHARS`: the
  `short` filter of the HTML renderer and the chart builders call `display_label`; in HTML the
  document's value is the element's `title` tooltip.

A cut text loses its middle, replaced by an ellipsis, so values that differ only at the end
("… store 0412", a " #2" suffix) stay apart; `reportgen.slices` also makes a family's labels distinct
at display length, so two groups never share a row name or a chart mark.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_LABEL_CHARS = 1_000  # a label from the data in the document and report.json
DISPLAY_LABEL_CHARS = 60  # a label in an HTML table, a chart or the PDF
CHART_LABEL_CHARS = 28  # a group or class on a chart's axis or legend (Vega would cut a longer one at its end)
DISPLAY_SLICE_CHARS = 200  # a slice in words ("a = x & b = y", up to three conditions) in an HTML table
MAX_EXAMPLE_CHARS = 200  # a cell of an example row of the error analysis, in the document
ELLIPSIS = "…"


def shorten(text: str, width: int) -> str:
    """`text` if it has at most `width` characters, else its start and end around an ellipsis (`width` in all).

    Examples
    --------
    >>> shorten("Springfield store 0412", 12)
    'Springf…0412'
    >>> shorten("short", 12)
    'short'
    """
    if len(text) <= width:
        return text
    head = (width - 1) * 2 // 3
    return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head):]


def cap_label(text: str) -> str:
    """A label as the document keeps it: at most `MAX_LABEL_CHARS` characters."""
    return shorten(text, MAX_LABEL_CHARS)


def display_label(text: object) -> str:
    """A label as tables and charts show it: at most `DISPLAY_LABEL_CHARS` characters (None: an en dash)."""
    return "–" if text is None else shorten(str(text), DISPLAY_LABEL_CHARS)


def distinct(labels: Iterable[str], width: int = DISPLAY_LABEL_CHARS) -> list[str]:
    """Make labels unique, also once shortened for display: a repeat gets a " #2", " #3" suffix.

    Values that print alike (1 and "1"), or long values that share their start and end, are told
    apart by the suffix, which `shorten` keeps (it cuts the middle); `width` is the display length.

    Examples
    --------
    >>> distinct(["1", "1", "2"])
    ['1', '1 #2', '2']
    """
    taken: set[str] = set()
    shown: set[str] = set()
    result = []
    for label in labels:
        candidate, k = label, 1
        while candidate in taken or shorten(candidate, width) in shown:
            k += 1
            candidate = f"{label} #{k}"
        taken.add(candidate)
        shown.add(shorten(candidate, width))
        result.append(candidate)
    return result


def display_labels(labels: Iterable[object], width: int = DISPLAY_LABEL_CHARS) -> list[str]:
    """Labels shortened to `width` and kept distinct (a chart's categories: `CHART_LABEL_CHARS`)."""
    cut = [shorten(str(label), width) for label in labels]
    return [shorten(label, width) for label in distinct(cut, width)]
