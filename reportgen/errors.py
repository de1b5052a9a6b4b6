"""Errors for user mistakes: one line each, naming where, what and what to do.

A message echoes user values (cells, keys, column names) through `shown`, `quoted_list` or
`plain_list`, which cut each value to `MAX_SHOWN` characters and make it one line, so that a
message stays short whatever the input holds.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

# The most characters of one user value an error message shows; longer values end in "…".
MAX_SHOWN = 80
# Words longer than this get no "did you mean" (difflib's cost grows with the product of the lengths).
_MAX_SUGGESTED = 100


class ReportgenError(Exception):
    """Base class of every error caused by the user's config or data."""


class ConfigError(ReportgenError):
    """The configuration is invalid."""


class InputError(ReportgenError):
    """The predictions file or data frame is invalid."""


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    r"""A user value as one line of at most `limit` characters: control characters escaped, the rest cut
    with "…".

    Examples
    --------
    >>> shown("9" * 100)[-3:], len(shown("9" * 100))
    ('99…', 80)
    >>> print(shown("two\nlines"))
    two\nlines
    """
    text = str(value)[: 4 * limit]  # escape only what may be shown: a cell can hold megabytes
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit and len(str(value)) <= 4 * limit else text[: limit - 1] + "…"


def quoted_list(values: Iterable[object], limit: int = 5) -> str:
    """Join values as quoted strings (each cut by `shown`), capped at `limit` with "… and N more"."""
    items = list(values)
    text = ", ".join(f'"{shown(v)}"' for v in items[:limit])
    if len(items) > limit:
        text += f" … and {len(items) - limit} more"
    return text


def plain_list(values: Iterable[object], limit: int = 5) -> str:
    """Join values as written (each cut by `shown`), capped at `limit` with "… and N more"."""
    items = list(values)
    text = ", ".join(shown(v) for v in items[:limit])
    if len(items) > limit:
        text += f" … and {len(items) - limit} more"
    return text


def counted(n: int, noun: str) -> str:
    """ "1 row", "3 rows": a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def counted_rows(mask: Sequence[bool], noun: str) -> str:
    """ "3 values (rows 17, 94, 203)": how many rows `mask` selects, and the first five 1-based row numbers.

    Examples
    --------
    >>> counted_rows([False, True, True], "missing value")
    '2 missing values (rows 2, 3)'
    """
    import numpy as np  # only when a message is written: the CLI starts without numpy

    selected = np.flatnonzero(np.asarray(mask))
    more = " …" if len(selected) > 5 else ""
    rows = (selected[:5] + 1).tolist()
    return f"{counted(len(selected), noun)} ({'row' if len(selected) == 1 else 'rows'} {plain_list(rows)}{more})"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """Return '; did you mean "x"?' for the closest choice, or '' when none is close."""
    if len(word) > _MAX_SUGGESTED:
        return ""
    close = difflib.get_close_matches(word, [c for c in choices if len(c) <= _MAX_SUGGESTED], n=1, cutoff=0.6)
    return f'; did you mean "{shown(close[0])}"?' if close else ""
