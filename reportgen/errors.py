"""Errors for user mistakes: one line each, naming where, what and what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence


class ReportgenError(Exception):
    """Base class of every error caused by the user's config or data."""


class ConfigError(ReportgenError):
    """The configuration is invalid."""


class InputError(ReportgenError):
    """The predictions file or data frame is invalid."""


def quoted_list(values: Iterable[object], limit: int = 5) -> str:
    """Join values as quoted strings, capped at `limit` with "… and N more"."""
    items = [f'"{v}"' for v in values]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit} more"
    return shown


def plain_list(values: Iterable[object], limit: int = 5) -> str:
    """Join values as written, capped at `limit` with "… and N more"."""
    items = [str(v) for v in values]
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" … and {len(items) - limit} more"
    return shown


def counted(n: int, noun: str) -> str:
    """ "1 row", "3 rows": a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """Return '; did you mean "x"?' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
