"""Change detectors against river 0.26.1, the oracle: every alarm of river's detector fed the same stream with the same
parameters, and `start` against river's own state at the alarm. Then planted changes found within a stated delay,
stationary controls (the defaults' false alarms stated, not hidden), `start`/`before`/`after` on clean steps, and the
edges.

Numbers quoted in docstrings were measured on the seeds the tests use (the report has them over more seeds).
"""

from __future__ import annotations

import doctest
import math
import statistics
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.metrics import detectors
from reportgen.metrics.detectors import Detection, adwin, ddm, eddm, page_hinkley

# river needs scipy >= 1.14 and numpy >= 2.2: the oldest-versions CI (.ci/run --oldest) runs without it
drift = pytest.importorskip("river.drift", reason="river, the detectors' oracle, is not installed")

# Parameters for a short per-window metric series standardized as z-scores, (value - reference) / standard error.
PH_Z = dict(min_instances=5, delta=0.5, threshold=8.0, alpha=1.0)
ADWIN_Z = dict(delta=0.05, clock=1, min_window_length=3, grace_period=5)
# Parameters for a per-row error stream that rarely alarm without a change.
DDM_QUIET = dict(warm_start=500, drift_threshold=4.0)
EDDM_QUIET = dict(warm_start=300, beta=0.7)


def test_docstring_examples():
    assert doctest.testmod(detectors).failed == 0


# ---------------------------------------------------------------------------------------------------------- oracle


def feed(detector, stream: list, watch) -> tuple[list[int], list, list]:
    """River's alarms over `stream`, `watch(detector, x)` after every update with x, and its value at each alarm."""
    alarms, trace = [], []
    for i, x in enumerate(stream):
        detector.update(x)
        trace.append(watch(detector, x))
        if detector.drift_detected:
            alarms.append(i)
    return alarms, trace, [trace[i] for i in alarms]


def resets(found: list[Detection]) -> list[int]:
    """The position each detection's detector started from: 0, then the position after the previous alarm."""
    return [0] + [d.index + 1 for d in found[:-1]]


def check_means(found: list[Detection], stream: np.ndarray, name: str) -> None:
    for d, reset in zip(found, resets(found)):
        assert d.detector == name
        assert reset < d.start <= d.index
        assert d.before == np.mean(stream[reset : d.start])
        assert d.after == np.mean(stream[d.start : d.index + 1])


def last_at(trace: list, value: float, lo: int, hi: int) -> int:
    """The last position in [lo, hi] where `trace` equals `value`."""
    return max(j for j in range(lo, hi + 1) if trace[j] == value)


@st.composite
def series(draw, max_size: int = 300) -> np.ndarray:
    """A real series: one to three steps in the mean, noise or none, sometimes rounded (ties), at some scale."""
    n = draw(st.integers(0, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    level = np.zeros(n)
    for at, shift in draw(st.lists(st.tuples(st.floats(0, 1), st.floats(-5, 5)), min_size=1, max_size=3)):
        level[int(at * n) :] += shift
    x = level + draw(st.sampled_from([0.0, 0.1, 1.0])) * rng.standard_normal(n)
    decimals = draw(st.sampled_from([None, None, 0, 1]))
    x = x if decimals is None else np.round(x, decimals)
    return x * draw(st.sampled_from([1.0, 1.0, 0.01, 1000.0]))


@st.composite
def error_streams(draw, max_size: int = 3000) -> np.ndarray:
    """A 0/1 stream: two to four stretches, each random (Bernoulli) or periodic at its own error rate."""
    n = draw(st.integers(0, max_size))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cuts = sorted(draw(st.lists(st.integers(0, n), min_size=1, max_size=3)))
    pieces = []
    for lo, hi in zip([0, *cuts], [*cuts, n]):
        rate = draw(st.sampled_from([0.0, 0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.0]))
        if draw(st.booleans()) or rate == 0:
            pieces.append(rng.random(hi - lo) < rate)
        else:
            pieces.append(np.arange(hi - lo) % round(1 / rate) == round(1 / rate) - 1)
    stream = np.concatenate([np.zeros(0, bool), *pieces])
    return stream if draw(st.booleans()) else stream.astype(np.int64)


# DDM and EDDM scan in pieces: small pieces put many piece boundaries inside every stream.
chunk_sizes = st.sampled_from([(detectors._FIRST_CHUNK, detectors._MAX_CHUNK), (1, 2), (3, 8), (50, 200)])


@settings(max_examples=150, deadline=None)
@given(
    series(),
    st.integers(1, 40),
    st.sampled_from([0.0, 0.005, 0.1, 0.5]),
    st.floats(0.1, 20) | st.just(50.0),
    st.sampled_from([1.0, 1 - 0.0001, 0.99, 0.9]),
    st.sampled_from(["up", "down", "both"]),
)
def test_page_hinkley_matches_river(stream, min_instances, delta, threshold, alpha, mode):
    params = dict(min_instances=min_instances, delta=delta, threshold=threshold, alpha=alpha, mode=mode)
    found = page_hinkley(stream, **params)

    def watch(ph, x):
        return ph._sum_increase, ph._sum_decrease, ph._min_increase, ph._max_decrease

    alarms, trace, at_alarm = feed(drift.PageHinkley(**params), stream.tolist(), watch)
    assert [d.index for d in found] == alarms
    check_means(found, stream, "page_hinkley")
    for d, reset, (up, down, low, high) in zip(found, resets(found), at_alarm):
        rise = up - low if mode != "down" else -math.inf
        fall = high - down if mode != "up" else -math.inf
        side, extreme = (0, low) if rise >= fall else (1, high)
        assert d.start == last_at([t[side] for t in trace], extreme, reset, d.index) + 1


@settings(max_examples=100, deadline=None)
@given(
    series(),
    st.floats(1e-4, 0.5),
    st.integers(1, 8) | st.just(32),
    st.integers(2, 6),
    st.integers(1, 10),
    st.integers(0, 30),
    st.booleans(),
)
def test_adwin_matches_river(stream, delta, clock, max_buckets, min_window_length, grace_period, bounded):
    if bounded and len(stream):  # ADWIN's bound is for values in [0, 1]
        stream = (stream - stream.min()) / (np.ptp(stream) or 1.0)
    params = dict(delta=delta, clock=clock, max_buckets=max_buckets, min_window_length=min_window_length,
                  grace_period=grace_period)
    found = adwin(stream, **params)
    alarms, _, widths = feed(drift.ADWIN(**params), stream.tolist(), lambda a, x: a.width)
    assert [d.index for d in found] == alarms
    check_means(found, stream, "adwin")
    assert [d.start for d in found] == [i + 1 - int(w) for i, w in zip(alarms, widths)]


@settings(max_examples=100, deadline=None)
@given(error_streams(), st.integers(0, 60), st.floats(1.0, 5), chunk_sizes)
def test_ddm_matches_river(stream, warm_start, drift_threshold, chunks):
    with mock.patch.object(detectors, "_FIRST_CHUNK", chunks[0]), mock.patch.object(detectors, "_MAX_CHUNK", chunks[1]):
        found = ddm(stream, warm_start=warm_start, drift_threshold=drift_threshold)

    def watch(d, x):  # river's p + s at this row (None in the warm start), and its recorded minimum
        n, p = d._p.n, d._p.get()
        return p + math.sqrt(p * (1 - p) / n) if n > warm_start else None, d._ps_min

    detector = drift.binary.DDM(warm_start=warm_start, drift_threshold=drift_threshold)
    alarms, trace, at_alarm = feed(detector, stream.tolist(), watch)
    assert [d.index for d in found] == alarms
    check_means(found, stream, "ddm")
    for d, reset, (_, lowest) in zip(found, resets(found), at_alarm):
        assert d.start == last_at([t[0] for t in trace], lowest, reset, d.index) + 1


@settings(max_examples=100, deadline=None)
@given(error_streams(), st.integers(0, 60), st.floats(0.5, 1.0), chunk_sizes)
def test_eddm_matches_river(stream, warm_start, beta, chunks):
    with mock.patch.object(detectors, "_FIRST_CHUNK", chunks[0]), mock.patch.object(detectors, "_MAX_CHUNK", chunks[1]):
        found = eddm(stream, warm_start=warm_start, beta=beta)

    def watch(e, x):  # river's p' + 2 s' at an error past the warm start (else None), and its recorded maximum
        p2s = e._error_distances.mean.get() + 2 * e._error_distances.get() ** 0.5
        return p2s if x == 1 and e._n > warm_start else None, e._p2s_prime_max

    detector = drift.binary.EDDM(warm_start=warm_start, alpha=1.0, beta=beta)  # alpha: warnings only
    alarms, trace, at_alarm = feed(detector, stream.tolist(), watch)
    assert [d.index for d in found] == alarms
    check_means(found, stream, "eddm")
    for d, reset, (_, highest) in zip(found, resets(found), at_alarm):
        assert d.start == last_at([t[0] for t in trace], highest, reset, d.index) + 1


# ------------------------------------------------------------------------------------- planted changes and controls


def error_step(seed: int, n: int = 20000, at: int = 5000, rates: tuple[float, float] = (0.1, 0.3)) -> np.ndarray:
    """Random errors at the first rate, then at the second from row `at`."""
    return np.random.default_rng(seed).random(n) < np.where(np.arange(n) < at, *rates)


def first_after(found: list[Detection], at: int) -> int | None:
    """Delay of the first alarm at or after position `at`, or None."""
    return min((d.index - at for d in found if d.index >= at), default=None)


def test_ddm_finds_error_rate_step():
    """0.1 → 0.3 at row 5000 of 20000, 50 seeds. Defaults: found in every seed, within 1324 rows (median 280), but
    42 false alarms before the change; quiet parameters: within 1152 rows (median 390), no false alarm."""
    for params, max_delay, max_early in ((dict(), 1400, 45), (DDM_QUIET, 1200, 0)):
        runs = [ddm(error_step(seed), **params) for seed in range(50)]
        delays = [first_after(found, 5000) for found in runs]
        assert None not in delays and max(delays) <= max_delay
        assert sum(d.index < 5000 for found in runs for d in found) <= max_early


def test_eddm_finds_error_rate_step():
    """0.1 → 0.3 at row 5000 of 20000, 50 seeds. Defaults alarm every few hundred rows whatever happens (526 alarms
    before the change); quiet parameters: found within 2616 rows (median 1115), 5 false alarms before it."""
    runs = [eddm(error_step(seed), **EDDM_QUIET) for seed in range(50)]
    delays = [first_after(found, 5000) for found in runs]
    assert None not in delays and max(delays) <= 2700
    assert sum(d.index < 5000 for found in runs for d in found) <= 5
    assert sum(d.index < 5000 for seed in range(50) for d in eddm(error_step(seed))) > 400


def test_error_detectors_stationary_control():
    """Error rate 0.1 throughout, 20000 rows, 50 seeds. DDM's defaults alarm 38 times (on about half the streams, most
    soon after the warm start), EDDM's 1405 times (about every 700 rows); the quiet parameters 0 and 5 times."""
    streams = [np.random.default_rng(100 + seed).random(20000) < 0.1 for seed in range(50)]
    assert 25 <= sum(len(ddm(s)) for s in streams) <= 50
    assert sum(len(ddm(s, **DDM_QUIET)) for s in streams) == 0
    assert sum(len(eddm(s)) for s in streams) > 1000
    assert sum(len(eddm(s, **EDDM_QUIET)) for s in streams) <= 5


def metric_step(seed: int) -> np.ndarray:
    """60 per-window values: mean 0.8 then 0.7 from window 30, noise sd 0.01."""
    values = 0.8 + 0.01 * np.random.default_rng(seed).standard_normal(60)
    values[30:] -= 0.1
    return values


def test_series_detectors_find_metric_step():
    """On z-scores against the reference (0.8, standard error 0.01) Page-Hinkley with PH_Z fires at the change or one
    window later, ADWIN with ADWIN_Z three windows later, in all 50 seeds and never before it. The defaults find
    nothing on the raw values, and on z-scores only Page-Hinkley does (4-5 windows late: it waits for 30 values)."""
    for seed in range(50):
        values = metric_step(seed)
        z = (values - 0.8) / 0.01
        assert [d.index for d in page_hinkley(z, **PH_Z)] in ([30], [31])
        assert [d.index for d in adwin(z, **ADWIN_Z)] == [33]
        assert page_hinkley(values) == adwin(values) == adwin(values, clock=1) == adwin(z) == []
        assert [d.index for d in page_hinkley(z)] in ([34], [35])


def test_series_detectors_stationary_control():
    """60 z-scores without change, 50 seeds: no alarm (over 4000 seeds: PH_Z alarms on 0.4% of the series, ADWIN_Z
    on 0.03%, the defaults on none)."""
    for seed in range(50):
        z = np.random.default_rng(100 + seed).standard_normal(60)
        assert page_hinkley(z, **PH_Z) == adwin(z, **ADWIN_Z) == page_hinkley(z) == adwin(z) == []


# ------------------------------------------------------------------------------------------------ clean steps, edges


def test_page_hinkley_clean_step():
    up = np.repeat([0.0, 1.0], 50)
    assert page_hinkley(up, min_instances=5, threshold=5.0) == [Detection("page_hinkley", 55, 50, 0.0, 1.0)]
    assert page_hinkley(1 - up, min_instances=5, threshold=5.0, mode="down") == [
        Detection("page_hinkley", 55, 50, 1.0, 0.0)
    ]
    assert page_hinkley(up, min_instances=5, threshold=5.0, mode="down") == []


def test_page_hinkley_flat_sum_starts_after_the_last_tie():
    """With delta = 0 the cumulative sum stays at 0 before the change: `start` is after the last of the tied minima."""
    found = page_hinkley(np.repeat([0.0, 1.0], 50), min_instances=5, delta=0.0, threshold=5.0)
    assert [(d.index, d.start) for d in found] == [(55, 50)]


def test_adwin_clean_step_keeps_part_of_the_old_window():
    """ADWIN cuts whole buckets, and only while a split still differs: the window it keeps (from `start`) can hold
    much of the old regime, so `start` is a poor change point and `after` mixes both regimes."""
    found = adwin(np.repeat([0.0, 1.0], [50, 200]), clock=1)
    assert found == [Detection("adwin", 71, 8, 0.0, 22 / 64)]


def test_ddm_clean_step():
    assert ddm(np.repeat([0, 1], 50)) == [Detection("ddm", 50, 50, 0.0, 1.0)]
    periodic = np.zeros(3000, dtype=bool)
    periodic[9:2000:10] = periodic[2000:] = True
    (found,) = ddm(periodic)
    assert 1990 <= found.start <= 2000 < found.index <= 2040  # 28 rows late: p + s must climb 3 s_min
    assert found.before == pytest.approx(0.1, abs=0.001) and found.after > 0.5


def test_eddm_clean_step_lags_the_change():
    """Errors every 10 rows, then every 2 from row 200: p' + 2 s' first rises (the spread of the distances grows),
    so its maximum, and `start`, come after the change: the row after the last error where it peaked."""
    stream = np.zeros(400, dtype=bool)
    stream[9:200:10] = stream[200::2] = True
    (found,) = eddm(stream, warm_start=10)
    rows = np.flatnonzero(stream[: found.index + 1])
    distances = np.diff(rows, prepend=-1).tolist()
    p2s = [statistics.mean(distances[: j + 1]) + 2 * (statistics.stdev(distances[: j + 1]) if j else 0.0)
           for j in range(len(rows))]
    peak = max(p2s[j] for j in range(len(rows)) if rows[j] >= 10)
    assert found.start == rows[max(j for j in range(len(rows)) if p2s[j] == pytest.approx(peak, rel=1e-12))] + 1
    assert (found.index, found.start) == (248, 213)
    assert found.before == np.mean(stream[:213]) and found.after == np.mean(stream[213:249])


@pytest.mark.parametrize("detect", [page_hinkley, adwin, ddm, eddm])
def test_empty_stream(detect):
    assert detect(np.zeros(0)) == []


def test_shorter_than_warm_up():
    rng = np.random.default_rng(0)
    assert page_hinkley(np.repeat([0.0, 1000.0], 14), min_instances=30, threshold=0.1) == []
    assert adwin(np.repeat([0.0, 1.0], 5), grace_period=10, clock=1) == []
    assert ddm(np.repeat([0, 1], [20, 10]), warm_start=30) == []
    assert eddm(rng.random(30) < 0.5, warm_start=30) == []


@pytest.mark.parametrize("n", [1, 29, 30, 31, 1000, 100_000])
def test_constant_error_streams(n):
    """All right or all wrong: no change, no alarm (ties everywhere: p + s is constant, so are the distances)."""
    for stream in (np.zeros(n, dtype=bool), np.ones(n, dtype=bool), np.ones(n, dtype=np.int64)):
        assert ddm(stream) == eddm(stream) == []
        assert ddm(stream, warm_start=0) == eddm(stream, warm_start=0, beta=1.0) == []


def test_constant_series():
    for value in (0.0, 0.1, -3.0, 1e6):
        stream = np.full(500, value)
        assert page_hinkley(stream, min_instances=1, threshold=0.0, delta=0.0) == []
        assert adwin(stream, clock=1, min_window_length=1, grace_period=0) == []


def test_errors_as_list_or_bool_or_int():
    stream = error_step(3)
    assert ddm(stream) == ddm(stream.astype(np.int8)) == ddm(stream.tolist())
    assert eddm(stream) == eddm(stream.astype(np.int8)) == eddm(stream.tolist())


def _best_step(values: np.ndarray) -> int:
    """The split k (1 ≤ k < n) maximising sqrt(k (n − k) / n) · |mean before − mean after|, the first on ties, from
    the whole stretch at once."""
    n = len(values)
    before = np.arange(1, n)
    sums = np.cumsum(values)[:-1]
    statistic = np.sqrt(before * (n - before) / n) * np.abs(sums / before - (values.sum() - sums) / (n - before))
    return 1 + int(np.argmax(statistic))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 1), min_size=2, max_size=60), st.integers(1, 9), st.integers(0, 5))
def test_step_start_read_in_pieces_is_the_best_split_of_the_whole_stretch(values: list[int], piece: int,
                                                                          reset: int) -> None:
    stream = np.array([0] * reset + values, dtype=np.int8)
    with mock.patch.object(detectors, "_MAX_CHUNK", piece):
        found = detectors.step_start(stream, reset, len(stream) - 1)
    assert found == reset + _best_step(np.array(values, dtype=np.float64))


def test_step_start_of_a_metric_series_is_the_planted_step() -> None:
    series = np.r_[np.random.default_rng(3).normal(0, 1, 40), np.random.default_rng(4).normal(6, 1, 25)]
    assert detectors.step_start(series, 0, len(series) - 1) == 40
