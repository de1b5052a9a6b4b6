"""How the card writes numbers and data text: one formatter for the renderers and the findings' sentences."""

from __future__ import annotations

import math

from reportgen.labels import DISPLAY_LABEL_CHARS, shorten


def num(value: float | None, digits: int = 3) -> str:
    """A number with `digits` decimals, or an en dash when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}".replace("-", "−")


def figure(value: float | None, digits: int = 4) -> str:
    """A number with `digits` significant digits (for values in a target's or a loss's units), or an en dash.

    Examples
    --------
    >>> figure(-1234.5678), figure(0.000123456), figure(None)
    ('−1235', '0.0001235', '–')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}g}".replace("-", "−")


def signed(value: float | None, digits: int = 3) -> str:
    """A difference with its sign."""
    return "–" if value is None else f"{value:+.{digits}f}".replace("-", "−")


def pvalue(value: float | None) -> str:
    """A p-value or q-value: three significant digits, "< 0.001" below that, an en dash when absent.

    Examples
    --------
    >>> pvalue(0.04213), pvalue(7e-23), pvalue(None)
    ('0.0421', '< 0.001', '–')
    """
    if value is None or math.isnan(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3g}"


def p_clause(value: float | None) -> str:
    """What follows "p" or "q" in a sentence: "= 0.0421" or "< 0.001".

    Examples
    --------
    >>> "q " + p_clause(0.0123), "q " + p_clause(1e-9)
    ('q = 0.0123', 'q < 0.001')
    """
    shown = pvalue(value)
    return shown if shown.startswith("<") else f"= {shown}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage."""
    return "–" if value is None else f"{100 * value:.{digits}f}%"


def count(value: int | None) -> str:
    """An integer with thousands separators."""
    return "–" if value is None else f"{value:,}"


SINGULAR = {"rows": "row", "positives": "positive", "negatives": "negative"}  # the plural nouns of support units


def support_unit(value: int, unit: str) -> str:
    """A support's unit (a plural phrase, `Metric.supports`) in the number of `value`: its noun singular for one.

    Examples
    --------
    >>> support_unit(1, "rows of the smaller class"), support_unit(1, "predicted positives"), support_unit(2, "rows")
    ('row of the smaller class', 'predicted positive', 'rows')
    """
    if value != 1:
        return unit
    words = unit.split(" ")
    plural = next((i for i, word in enumerate(words) if word in SINGULAR), None)
    return unit if plural is None else " ".join([*words[:plural], SINGULAR[words[plural]], *words[plural + 1:]])


def counted_support(value: int, unit: str) -> str:
    """A support and its unit: "1 negative", "1,200 negatives" (`support_unit`)."""
    return f"{count(value)} {support_unit(value, unit)}"


def about(value: float) -> str:
    """An estimated count, rounded to two significant digits, with thousands separators.

    Examples
    --------
    >>> about(573), about(14_653.2), about(7)
    ('570', '15,000', '7')
    """
    return f"{int(round(value, min(2 - len(str(int(abs(value)))), 0))):,}"


def short(text: object, width: int | None = None) -> str:
    """Text from the data as tables show it: at most `width` characters (default `DISPLAY_LABEL_CHARS`),
    its middle cut (`reportgen.labels.shorten`).

    Examples
    --------
    >>> short("x" * 100, 10)
    'xxxxxx…xxx'
    """
    return shorten(str(text), width or DISPLAY_LABEL_CHARS)
