"""Time windows: each timestamp's window from a pandas offset alias, windows in time order with readable labels.

A fixed span ("1D", "7D", "12h", "30min") cuts time into equal windows from midnight of the first day
(pandas' ``origin="start_day"``), each labelled by its start ("2024-05-06", or "2024-05-06 12:00" within
a day). A calendar period ("W" or "W-MON" … weeks, "MS"/"ME" months, "QS"/"QE" quarters, "YS"/"YE"
years, anchors allowed) is a period of that calendar, labelled "2024-W18" (weeks Monday to Sunday, ISO),
"2024-05", "2024-Q2", "2024" (other anchors: the start date). Every window from the first to the last
timestamp's is a group, empty ones included (a gap in time is a window without rows, never a zero).
Time-zone-aware timestamps are windowed on their local wall-clock time.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.errors import InputError, counted, shown

FIXED_SPANS = ("Day", "Hour", "Minute", "Second")
CALENDAR = ("Week", "MonthBegin", "MonthEnd", "QuarterBegin", "QuarterEnd", "YearBegin", "YearEnd")
EXAMPLES = '"1D", "7D", "12h", "W", "MS", "QS" or "YS"'
_DAY_US = 86_400_000_000
_MINUTE_US = 60_000_000
_MONTHS = [name.upper() for name in calendar.month_abbr[1:]]
_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass(frozen=True)
class Window:
    """A parsed window: its alias, and either a fixed span in microseconds or a pandas period frequency.

    Attributes
    ----------
    alias : str
        As written in the config, e.g. "7D" or "MS".
    span_us : int or None
        A fixed span's length in microseconds; None for a calendar period.
    period : str or None
        A calendar period's pandas period frequency ("W-SUN", "M", "Q-DEC", "Y-DEC", ...); None for a span.
    """

    alias: str
    span_us: int | None = None
    period: str | None = None


def parse_window(alias: str) -> Window:
    """The window an offset alias names.

    Raises
    ------
    ValueError
        If the alias is not a pandas offset, or names one that is not a fixed span or a single calendar period
        (business days, "2MS", ...).

    Examples
    --------
    >>> parse_window("7D").span_us, parse_window("QS").period
    (604800000000, 'Q-DEC')
    """
    from pandas.tseries.frequencies import to_offset

    try:
        offset = to_offset(alias)
    except (ValueError, TypeError):
        raise ValueError(f'"{alias}" is not a pandas offset alias; use e.g. {EXAMPLES}') from None
    kind = type(offset).__name__
    if kind in FIXED_SPANS and offset.n >= 1:  # pandas 3.0 takes no Day offset as a Timedelta: counted in days here
        span = offset.n * _DAY_US if kind == "Day" else int(pd.Timedelta(offset) // pd.Timedelta(microseconds=1))
        return Window(alias, span_us=span)
    if kind in CALENDAR and offset.n == 1:
        if kind == "Week":
            if offset.weekday is None:
                raise ValueError(f'"{alias}" is a week without a weekday; use "W" (Monday to Sunday) or "W-MON" …')
            return Window(alias, period=f"W-{_WEEKDAYS[offset.weekday]}")
        if kind in ("MonthBegin", "MonthEnd"):
            return Window(alias, period="M")
        # a quarter or year starting in month m ends in month m - 1; one ending in month m ends there
        month = offset.startingMonth if kind.startswith("Quarter") else offset.month
        last = (month - 2) % 12 if kind.endswith("Begin") else month - 1
        return Window(alias, period=f"{kind[0]}-{_MONTHS[last]}")
    raise ValueError(f'"{alias}" is not a window reportgen can cut time into; use a fixed span or one calendar '
                     f"period, e.g. {EXAMPLES}")


class TooManyWindows(ValueError):
    """More windows than allowed: their count and the first and last window's labels (no other label is made)."""

    def __init__(self, count: int, first: str, last: str) -> None:
        super().__init__(f"{count:,} windows from {first} to {last}")
        self.count, self.first, self.last = count, first, last


def window_codes(times: pd.Series, window: Window, max_windows: int) -> tuple[np.ndarray, list[str]]:
    """Each timestamp's window (int32 code into the labels; -1 where the time is missing) and the labels of every
    window from the first timestamp's to the last's, in time order. `times` is a datetime64 column.

    Raises
    ------
    TooManyWindows
        If there are more than `max_windows` windows; counted before any is labelled, so a window of a second over
        a century of timestamps costs one pass over the rows.

    Examples
    --------
    >>> times = pd.Series(pd.to_datetime(["2024-05-06", "2024-07-30", None]))
    >>> codes, labels = window_codes(times, parse_window("MS"), 100)
    >>> codes.tolist(), labels
    ([0, 2, -1], ['2024-05', '2024-06', '2024-07'])
    """
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_localize(None)  # local wall-clock time
    present = times.notna().to_numpy()
    codes = np.full(len(times), -1, dtype=np.int32)
    if not present.any():
        return codes, []
    if window.span_us is not None:
        us = times.to_numpy(dtype="datetime64[us]").astype(np.int64)[present]
        origin = us.min() // _DAY_US * _DAY_US
        index = (us - origin) // window.span_us
        first = int(index.min())  # the first timestamp's window: those before it, from midnight on, hold nothing
        index -= first
        fmt = "%Y-%m-%d" if window.span_us % _DAY_US == 0 else (
            "%Y-%m-%d %H:%M" if window.span_us % _MINUTE_US == 0 else "%Y-%m-%d %H:%M:%S")

        def label(k: int) -> str:
            return pd.Timestamp(origin + (first + k) * window.span_us, unit="us").strftime(fmt)
    else:
        ordinals = times[present].dt.to_period(window.period).array.asi8
        first = int(ordinals.min())
        index = ordinals - first

        def label(k: int) -> str:
            return _period_label(pd.Period(ordinal=first + k, freq=window.period), window.period)

    count = int(index.max()) + 1
    if count > max_windows:
        raise TooManyWindows(count, label(0), label(count - 1))
    codes[present] = index
    return codes, [label(k) for k in range(count)]


def _period_label(period: pd.Period, frequency: str) -> str:
    start = period.start_time
    if frequency == "W-SUN":
        return start.strftime("%G-W%V")  # Monday to Sunday: the ISO week
    if frequency == "M":
        return start.strftime("%Y-%m")
    if frequency == "Q-DEC":
        return f"{start.year}-Q{period.quarter}"
    if frequency == "Y-DEC":
        return str(start.year)
    return start.strftime("%Y-%m-%d" if frequency.startswith("W") else "%Y-%m")


def window_bounds(
    first: pd.Timestamp, last: pd.Timestamp, window: Window, max_windows: int
) -> tuple[list[pd.Timestamp], list[str]]:
    """The start and label of every window from the one holding `first` to the one holding `last` (naive times), as
    `window_codes` forms them: a time is in window k when it is at or after start k and before start k + 1.

    Engines that never hold the times (`reportgen.engines.families`) find each row's window by comparing it with
    the starts.

    Raises
    ------
    TooManyWindows
        If there are more than `max_windows` windows.

    Examples
    --------
    >>> starts, labels = window_bounds(pd.Timestamp("2024-05-06"), pd.Timestamp("2024-07-30"), parse_window("MS"), 100)
    >>> [str(start.date()) for start in starts], labels
    (['2024-05-01', '2024-06-01', '2024-07-01'], ['2024-05', '2024-06', '2024-07'])
    """
    ends = pd.Series([first, last]).astype("datetime64[us]")
    _, labels = window_codes(ends, window, max_windows)
    if window.span_us is not None:
        us = ends.to_numpy().astype(np.int64)
        origin = us[0] // _DAY_US * _DAY_US
        offset = (us[0] - origin) // window.span_us
        starts = [pd.Timestamp(origin + (offset + k) * window.span_us, unit="us") for k in range(len(labels))]
    else:
        ordinal = pd.Period(ends.iloc[0], freq=window.period).ordinal
        starts = [pd.Period(ordinal=ordinal + k, freq=window.period).start_time for k in range(len(labels))]
    return starts, labels


# The window chosen for a time span when none is given: the first whose span holds the data in at most ~60 windows.
DEFAULT_WINDOWS = (("1h", 2.5), ("1D", 60), ("W", 420), ("MS", 1826), ("QS", 5479))  # alias, longest span in days


def default_window(first: pd.Timestamp, last: pd.Timestamp) -> str:
    """The window alias for times from `first` to `last`: hours up to 2.5 days, days up to 60, weeks up to 420,
    months up to 5 years, quarters up to 15, years beyond.

    Examples
    --------
    >>> default_window(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-09-30"))
    'W'
    """
    days = (last - first) / pd.Timedelta(days=1)
    return next((alias for alias, longest in DEFAULT_WINDOWS if days <= longest), "YS")


def parse_times(values: pd.Series, where: str) -> pd.Series:
    """The column as datetimes: as it is, or its text read as ISO 8601 dates and times (offsets that differ
    from row to row: all on UTC); missing values stay missing.

    Raises
    ------
    InputError
        If the column holds numbers, or text that is not an ISO date or time (`where` starts the message).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InputError(f"{where}: holds numbers, not dates or times; write them as ISO dates (2024-05-06) or "
                         "times (2024-05-06 13:30)")
    text = values.astype("string")
    try:
        times = pd.to_datetime(text, errors="coerce", format="ISO8601")
    except (ValueError, TypeError, OverflowError):  # offsets that differ from row to row: all on UTC
        times = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
    unread = times.isna() & text.notna()
    if unread.any():
        example = str(text[unread].iloc[0])
        if _iso(example):  # pandas holds nanosecond times from 1677 to 2262 only
            raise InputError(f'{where}: {counted(int(unread.sum()), "time")} such as "{shown(example)}" out of the '
                             "range pandas holds beside times given to the nanosecond (1677 to 2262); write the "
                             "times to the microsecond")
        raise InputError(f'{where}: {counted(int(unread.sum()), "value")} not ISO dates or times, e.g. '
                         f'"{shown(example)}"; write them as 2024-05-06 or 2024-05-06 13:30')
    return times


def _iso(text: str) -> bool:
    """Whether Python reads the text as an ISO 8601 date or time."""
    try:
        dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return False
    return True
