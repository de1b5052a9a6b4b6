"""`Values`: one metric value per group, with the reason where it is undefined."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMPTY = "no rows in this group"


@dataclass(frozen=True)
class Values:
    """Metric values per group.

    Attributes
    ----------
    value : ndarray of float64
        NaN where the metric is undefined.
    reason : ndarray of object
        Why the value is undefined (a str), or None where it is defined.
    """

    value: np.ndarray
    reason: np.ndarray


def divide(numerator: np.ndarray, denominator: np.ndarray, *, undefined: str) -> Values:
    """Divide per group; where the denominator is 0 the value is undefined with `undefined` as reason.

    This is the one place the policy for undefined metrics lives: never 0, never a warning.
    """
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    defined = denominator > 0
    value = np.divide(numerator, denominator, out=np.full(np.broadcast(numerator, denominator).shape, np.nan),
                      where=defined)
    return Values(value=value, reason=np.where(defined, None, undefined).astype(object))



def empty_is_no_rows(values: Values, n: np.ndarray) -> Values:
    """Give an empty group (n = 0) the reason "no rows in this group", replacing any other reason."""
    empty = np.asarray(n) == 0
    reason = np.where(empty, EMPTY, values.reason).astype(object)
    return Values(value=np.where(empty, np.nan, values.value), reason=reason)
