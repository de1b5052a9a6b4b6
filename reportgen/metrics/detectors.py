"""Change detectors for a deployed model: every alarm over a whole stream, and where the change began.

Page-Hinkley and ADWIN watch a series of finite real values (a metric per window: tens to thousands of values);
DDM and EDDM watch a per-row error stream (1 where the model was wrong: up to tens of millions of rows).

Each function gives the alarms of river 0.26.1's detector of the same name (`drift.PageHinkley`, `drift.ADWIN`,
`drift.binary.DDM`, `drift.binary.EDDM`) fed the same stream with the same parameters (river's names and
defaults), the detector starting afresh after each alarm as river's does: a detection's `index` is a position
at which river's `drift_detected` is True after the update with that value. Page-Hinkley and ADWIN replay
river's arithmetic value by value (a Python loop: meant for series of up to a few thousand values). DDM and
EDDM compute each stretch between alarms at once from integer counts (error counts; sums of distances between
errors and of their squares), where river updates running means row by row: the two round differently, so they
can disagree only where a comparison is a tie to within a few units in the last place.

Parameters that only drive river's warnings (DDM's `warning_threshold`, EDDM's `alpha`) are left out: they
change no alarm.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

# DDM and EDDM scan a stretch between alarms in pieces that double in length, so that finding an alarm costs
# time in proportion to the stretch before it, and memory stays bounded on streams of any length.
_FIRST_CHUNK = 1 << 9
_MAX_CHUNK = 1 << 20


@dataclass(frozen=True)
class Detection:
    """One alarm of a change detector.

    Attributes
    ----------
    detector : str
        "page_hinkley", "adwin", "ddm" or "eddm".
    index : int
        Position in the stream (0-based) of the value after which the detector fired.
    start : int
        The detector's estimate of the first position of the changed regime; the previous reset < start <= index.
    before : float
        Mean of the stream over [previous reset, start): the previous reset is 0, or the position after the
        previous detection.
    after : float
        Mean of the stream over [start, index].
    """

    detector: str
    index: int
    start: int
    before: float
    after: float


def page_hinkley(
    values: np.ndarray,
    *,
    min_instances: int = 30,
    delta: float = 0.005,
    threshold: float = 50.0,
    alpha: float = 1 - 0.0001,
    mode: Literal["up", "down", "both"] = "both",
) -> list[Detection]:
    """Page-Hinkley test for a change in the mean (river's `drift.PageHinkley`), every alarm.

    Two fading cumulative sums of the deviations from the running mean, one less and one plus `delta`, are
    compared with their own extremes since the last reset: the detector fires when the first rises above its
    minimum (an increase) or the second falls below its maximum (a decrease) by more than `threshold`.

    Parameters
    ----------
    values : ndarray of float
        The series; finite values.
    min_instances : int
        The detector may fire from the `min_instances`-th value after a reset on.
    delta : float
        Magnitude of change tolerated, >= 0.
    threshold : float
        Alarm level (lambda), >= 0.
    alpha : float
        Fading factor of the cumulative sums, in (0, 1].
    mode : {"up", "down", "both"}
        Watch for an increase, a decrease, or both.

    Returns
    -------
    list of Detection
        Every alarm, in order. `start` is the position after the last one at which the alarm's cumulative
        sum was at its extreme (in mode "both", the side that moved further).

    Examples
    --------
    >>> [(d.index, d.start) for d in page_hinkley(np.repeat([0.0, 1.0], 50), min_instances=5, threshold=5.0)]
    [(55, 50)]
    """
    stream = np.asarray(values, dtype=np.float64)
    detections = []
    reset = n = 0
    for i, value in enumerate(stream.tolist()):
        if n == 0:
            mean, up, down, low, high = 0.0, 0.0, 0.0, math.inf, -1.0
        n += 1
        mean += 1.0 / n * (value - mean)
        up = alpha * up + (value - mean) - delta
        down = alpha * down + (value - mean) + delta
        if up <= low:
            low, low_at = up, i
        if down >= high:
            high, high_at = down, i
        if n >= min_instances:
            rise = up - low if mode != "down" else -math.inf
            fall = high - down if mode != "up" else -math.inf
            if max(rise, fall) > threshold:
                start = (low_at if rise >= fall else high_at) + 1
                detections.append(_detection("page_hinkley", stream, reset, start, i))
                reset, n = i + 1, 0
    return detections


def adwin(
    values: np.ndarray,
    *,
    delta: float = 0.002,
    clock: int = 32,
    max_buckets: int = 5,
    min_window_length: int = 5,
    grace_period: int = 10,
) -> list[Detection]:
    """ADWIN, adaptive windowing (river's `drift.ADWIN`), every alarm.

    The window since the last reset is kept in exponential buckets; every `clock` values, once it holds more
    than `grace_period`, each split into an older and a newer part (both at least `min_window_length` long) is
    tested, and while one differs in mean by more than ADWIN's bound the oldest bucket is dropped.

    Parameters
    ----------
    values : ndarray of float
        The series; finite values. ADWIN's bound assumes values in [0, 1].
    delta : float
        Confidence of the bound, in (0, 1).
    clock : int
        Test every `clock` values (1: every value).
    max_buckets : int
        Buckets of each size kept before two are merged, >= 2 (with 1, river's own window can fail).
    min_window_length : int
        Shortest part of a split that is tested, >= 1.
    grace_period : int
        No test until the window holds more than this many values.

    Returns
    -------
    list of Detection
        Every alarm, in order. `start` is the first position of the window kept after the cut; that window can
        still hold much of the old regime, so `start` is where ADWIN's window begins, not a change point.

    Examples
    --------
    >>> [(d.index, d.start) for d in adwin(np.repeat([0.0, 1.0], 50), clock=1)]
    [(71, 8)]
    """
    stream = np.asarray(values, dtype=np.float64)
    detections = []
    reset = 0
    window = _Window(delta, clock, max_buckets, min_window_length, grace_period)
    for i, value in enumerate(stream.tolist()):
        if window.update(value):
            start = i + 1 - int(window.width)
            detections.append(_detection("adwin", stream, reset, start, i))
            reset = i + 1
            window = _Window(delta, clock, max_buckets, min_window_length, grace_period)
    return detections


def ddm(errors: np.ndarray, *, warm_start: int = 30, drift_threshold: float = 3.0) -> list[Detection]:
    """DDM, the drift detection method (river's `drift.binary.DDM`), every alarm.

    With p the error rate since the last reset and s = sqrt(p (1 - p) / n) after n rows, the detector records p
    and s where p + s is at its minimum and fires when p + s > p_min + `drift_threshold` * s_min, from the
    row after the `warm_start`-th on.

    Parameters
    ----------
    errors : ndarray of bool or int
        1 (True) where the model was wrong on that row, else 0.
    warm_start : int
        Rows after a reset before the detector may fire.
    drift_threshold : float
        Alarm level, in standard deviations, >= 1.

    Returns
    -------
    list of Detection
        Every alarm, in order. `start` is the row after the last one at which p + s was at its minimum.

    Examples
    --------
    >>> [(d.index, d.start, d.before, d.after) for d in ddm(np.repeat([0, 1], 50))]
    [(50, 50, 0.0, 1.0)]
    """
    stream = np.asarray(errors)
    return _every_alarm("ddm", stream, lambda reset: _ddm_alarm(stream, reset, warm_start, drift_threshold))


def eddm(errors: np.ndarray, *, warm_start: int = 30, beta: float = 0.9) -> list[Detection]:
    """EDDM, the early drift detection method (river's `drift.binary.EDDM`), every alarm.

    At each error, p' and s' are the mean and standard deviation (ddof 1) of the distances in rows between
    consecutive errors since the last reset (the first counted from the reset). Past row `warm_start`, the
    detector records the maximum of p' + 2 s' and, once more than `warm_start` errors have been seen, fires when
    (p' + 2 s') / max < `beta`.

    Parameters
    ----------
    errors : ndarray of bool or int
        1 (True) where the model was wrong on that row, else 0.
    warm_start : int
        Rows, then errors, after a reset before the detector may fire.
    beta : float
        Alarm level, in (0, 1]: smaller is more conservative.

    Returns
    -------
    list of Detection
        Every alarm, in order. `start` is the row after the last error at which p' + 2 s' was at its maximum;
        p' + 2 s' first rises when errors become more frequent, so `start` tends to fall after the change.

    Examples
    --------
    >>> stream = np.zeros(400, dtype=bool)
    >>> stream[9:200:10] = stream[200::2] = True
    >>> [(d.index, d.start) for d in eddm(stream, warm_start=10)]
    [(248, 213)]
    """
    stream = np.asarray(errors)
    wrong_at = np.flatnonzero(stream)
    return _every_alarm("eddm", stream, lambda reset: _eddm_alarm(wrong_at, reset, warm_start, beta))


def _every_alarm(detector: str, stream: np.ndarray,
                 next_alarm: Callable[[int], tuple[int, int] | None]) -> list[Detection]:
    """Every alarm of a detector that starts afresh after each: `next_alarm(reset)` gives the first (index, start)
    from row `reset` on, or None."""
    detections, reset = [], 0
    while (found := next_alarm(reset)) is not None:
        index, start = found
        detections.append(_detection(detector, stream, reset, start, index))
        reset = index + 1
    return detections


def _detection(detector: str, stream: np.ndarray, reset: int, start: int, index: int) -> Detection:
    """The alarm at `index`, with the stream's mean either side of `start` since the detector's last reset."""
    return Detection(
        detector=detector,
        index=index,
        start=start,
        before=float(np.mean(stream[reset:start])),
        after=float(np.mean(stream[start : index + 1])),
    )


def _chunks(lo: int, end: int) -> Iterator[tuple[int, int]]:
    """Consecutive stretches [lo, hi) covering [lo, end), doubling in length up to `_MAX_CHUNK`."""
    size = _FIRST_CHUNK
    while lo < end:
        hi = min(lo + size, end)
        yield lo, hi
        lo, size = hi, min(2 * size, _MAX_CHUNK)


def _ddm_alarm(stream: np.ndarray, reset: int, warm_start: int, drift_threshold: float) -> tuple[int, int] | None:
    """DDM's first alarm after a reset at row `reset`, as (index, start), or None."""
    seen = wrong = 0  # rows since the reset, and errors among them
    lowest, p_min, s_min, lowest_at = math.inf, 0.0, 0.0, -1  # river's ps_min, p_min, s_min, and its row
    for lo, hi in _chunks(reset, len(stream)):
        n = np.arange(seen + 1, seen + hi - lo + 1, dtype=np.float64)
        k = wrong + np.cumsum(stream[lo:hi], dtype=np.int64)
        skip = max(warm_start - seen, 0)  # rows of this piece still in the warm start
        seen, wrong = seen + hi - lo, int(k[-1])
        if skip >= hi - lo:
            continue
        n, k = n[skip:], k[skip:]
        p = k / n
        s = np.sqrt(p * (1 - p) / n)
        ps = p + s
        running = np.minimum.accumulate(np.concatenate(([lowest], ps)))[1:]
        at = np.maximum.accumulate(np.where(ps == running, np.arange(len(ps)), -1))  # latest minimum so far
        fired = np.flatnonzero(
            ps > np.where(at >= 0, p[at], p_min) + drift_threshold * np.where(at >= 0, s[at], s_min)
        )
        if fired.size:
            j = fired[0]
            return int(lo + skip + j), int(lo + skip + at[j] if at[j] >= 0 else lowest_at) + 1
        lowest = running[-1]
        if at[-1] >= 0:
            p_min, s_min, lowest_at = p[at[-1]], s[at[-1]], int(lo + skip + at[-1])
    return None


def _eddm_alarm(wrong_at: np.ndarray, reset: int, warm_start: int, beta: float) -> tuple[int, int] | None:
    """EDDM's first alarm after a reset at row `reset`, as (index, start), or None; `wrong_at`: rows of errors."""
    count = total = squares = 0  # errors since the reset, sum of distances between them, sum of their squares
    last = reset - 1  # row of the previous error: the first distance counts from the reset
    highest, highest_at = -1.0, -1  # river's p2s_prime_max, and the row of its last occurrence
    for lo, hi in _chunks(int(np.searchsorted(wrong_at, reset)), len(wrong_at)):
        rows = wrong_at[lo:hi]
        distance = np.diff(rows, prepend=last)
        m = np.arange(count + 1, count + hi - lo + 1)
        sums, sums_of_squares = total + np.cumsum(distance), squares + np.cumsum(distance * distance)
        s1, s2 = sums.astype(np.float64), sums_of_squares.astype(np.float64)  # exact below 2**53
        mean = s1 / m
        variance = np.maximum(s2 - s1 * s1 / m, 0.0) / np.maximum(m - 1, 1)
        p2s = mean + 2 * np.sqrt(variance)
        eligible = rows - reset >= warm_start  # past the warm start, in rows
        running = np.maximum.accumulate(np.concatenate(([highest], np.where(eligible, p2s, -np.inf))))
        previous = running[:-1]
        at = np.maximum.accumulate(np.where(eligible & (p2s == running[1:]), np.arange(hi - lo), -1))
        fired = np.flatnonzero(eligible & (p2s <= previous) & (m > warm_start) & (p2s / previous < beta))
        if fired.size:
            j = fired[0]
            return int(rows[j]), (int(rows[at[j]]) if at[j] >= 0 else highest_at) + 1
        count, total, squares, last = int(m[-1]), int(sums[-1]), int(sums_of_squares[-1]), int(rows[-1])
        highest = running[-1]
        if at[-1] >= 0:
            highest_at = int(rows[at[-1]])
    return None


class _Window:
    """River's `AdaptiveWindowing` (ADWIN's exponential-histogram window), operation for operation."""

    def __init__(self, delta: float, clock: int, max_buckets: int, min_window_length: int, grace_period: int):
        self.delta, self.clock, self.max_buckets = delta, clock, max_buckets
        self.min_window_length, self.grace_period = float(min_window_length), float(grace_period)
        self.width = self.total = self.variance = 0.0
        self.tick = 0
        # totals[level][k], variances[level][k]: the k-th oldest bucket of 2**level values; higher levels are older
        self.totals: list[list[float]] = [[]]
        self.variances: list[list[float]] = [[]]

    def update(self, value: float) -> bool:
        """Add a value; True where a change was detected and the window cut."""
        self._insert(value)
        self.tick += 1
        if self.tick % self.clock != 0 or self.width <= self.grace_period:
            return False
        changed = False
        while self._cut():
            changed = True
        return changed

    def _insert(self, value: float) -> None:
        self.totals[0].append(value)
        self.variances[0].append(0.0)
        self.width += 1.0
        if self.width > 1.0:
            gap = value - self.total / (self.width - 1.0)
            self.variance += (self.width - 1.0) * gap * gap / self.width
        self.total += value
        level = 0
        while len(self.totals[level]) == self.max_buckets + 1:
            size = float(1 << level)
            (t0, t1), (v0, v1) = self.totals[level][:2], self.variances[level][:2]
            mu1, mu2 = t0 / size, t1 / size
            if level + 1 == len(self.totals):
                self.totals.append([])
                self.variances.append([])
            self.totals[level + 1].append(t0 + t1)
            self.variances[level + 1].append(v0 + v1 + size * 0.5 * (mu1 - mu2) * (mu1 - mu2))
            del self.totals[level][:2], self.variances[level][:2]
            level += 1

    def _cut(self) -> bool:
        """Test the splits from the oldest on; at the first that differs, drop the oldest bucket and say so."""
        n0, n1, u0, u1 = 0.0, self.width, 0.0, self.total
        for level in reversed(range(len(self.totals))):
            size = float(1 << level)
            for total in self.totals[level]:
                n0, n1, u0, u1 = n0 + size, n1 - size, u0 + total, u1 - total
                if n1 >= self.min_window_length and n0 >= self.min_window_length and self._differ(n0, n1, u0, u1):
                    self._drop_oldest()
                    return True
        return False

    def _differ(self, n0: float, n1: float, u0: float, u1: float) -> bool:
        delta_prime = math.log(2.0 * math.log(self.width) / self.delta)
        m_recip = 1.0 / (n0 - self.min_window_length + 1.0) + 1.0 / (n1 - self.min_window_length + 1.0)
        radicand = 2.0 * m_recip * (self.variance / self.width) * delta_prime
        # river's square root of a negative rounding residue is NaN, and NaN is no cut
        return radicand >= 0 and abs(u0 / n0 - u1 / n1) > math.sqrt(radicand) + 2.0 / 3.0 * delta_prime * m_recip

    def _drop_oldest(self) -> None:
        last = len(self.totals) - 1
        size = float(1 << last)
        total, variance = self.totals[last].pop(0), self.variances[last].pop(0)
        self.width -= size
        self.total -= total
        gap = total / size - self.total / self.width
        self.variance -= variance + size * self.width * gap * gap / (size + self.width)
        if not self.totals[last]:
            self.totals.pop()
            self.variances.pop()


def step_start(stream: np.ndarray, reset: int, index: int) -> int:
    """Where a single step change in ``stream[reset:index + 1]`` most likely began: the split k maximising the
    two-sample CUSUM statistic sqrt(m (n − m) / n) · |mean before − mean after| (m = k − reset values before,
    n in all; the first on ties); reset < k <= index, and `reset` + 1 where there are fewer than two values.

    The detectors' own `start` is where their statistic turned, which for ADWIN, DDM and EDDM can lie long before
    or after the change; this estimate reads the whole stretch up to the alarm.

    Examples
    --------
    >>> step_start(np.array([0.0, 0, 0, 0, 1, 1]), 0, 5)
    4
    """
    values = np.asarray(stream[reset:index + 1])
    n = len(values)
    if n < 2:
        return reset + 1
    total = float(np.sum(values, dtype=np.float64))
    best, best_at, carried = -math.inf, 0, 0.0
    for lo, hi in _pieces(n - 1):  # in pieces: memory stays bounded on a stream of any length
        before = np.arange(lo + 1, hi + 1, dtype=np.float64)
        sums = carried + np.cumsum(values[lo:hi], dtype=np.float64)
        carried = float(sums[-1])
        gap = sums / before - (total - sums) / (n - before)
        statistic = np.sqrt(before * (n - before) / n) * np.abs(gap)
        at = int(np.argmax(statistic))
        if statistic[at] > best:
            best, best_at = float(statistic[at]), lo + at
    return reset + 1 + best_at


def _pieces(n: int) -> Iterator[tuple[int, int]]:
    """Consecutive stretches [lo, hi) of at most `_MAX_CHUNK` covering [0, n)."""
    for lo in range(0, n, _MAX_CHUNK):
        yield lo, min(lo + _MAX_CHUNK, n)
