"""Performance over time: every headline metric per time window against the reference's level, the windows
significantly worse than it, change detectors' alarms dated by where the change began, and estimates of the
metrics from a classifier's probabilities alone.

Pure functions of the measured engine, the window codes and the reference's checked predictions; the monitoring
analysis (`reportgen.analysis.monitoring`) calls them and turns what they find into findings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import pandas as pd

from reportgen.config import Config
from reportgen.formatting import num
from reportgen.io import Predictions
from reportgen.metrics import detectors, estimation, tasks
from reportgen.metrics.intervals import z_value
from reportgen.metrics.measure import Measured
from reportgen.metrics.metric import Metric
from reportgen.metrics.significance import benjamini_hochberg
from reportgen.metrics.table import metric_frame
from reportgen.metrics.tasks import Statistics
from reportgen.reference import Reference
from reportgen.vocabulary import HEADLINE_METRICS, OVERALL, SLICE_METRICS

Levels = dict[str, tuple[float | None, float | None, float | None]]  # metric → the reference's value, low, high

MONITORING_STREAM = 7  # seeds the windows' bootstrap apart from the slice families' streams
MAX_SLICE_GROUPS = 12  # a configured slice's key metric is followed per window for families of at most this many
CHANGE_MIN_WINDOWS = 6  # Page-Hinkley and ADWIN watch a metric's series of at least this many windows with a value
# The detectors' settings, chosen on simulations (tests/metrics/test_detectors.py): over 60 windows of z-scores,
# Page-Hinkley finds a step of 10 standard errors at the change or one window later and ADWIN three windows later,
# with false alarms on 0.4% and 0.03% of stationary series; on a per-row error stream (error rate 0.1 → 0.3 at row
# 5,000 of 20,000) DDM finds the step after a median of 390 rows and alarms on 1% of stationary streams, EDDM after
# ~1,100 rows and on 8%.
PAGE_HINKLEY_Z = {"min_instances": 5, "delta": 0.5, "threshold": 8.0, "alpha": 1.0}
ADWIN_Z = {"delta": 0.05, "clock": 1, "min_window_length": 3, "grace_period": 5}
DDM_QUIET = {"warm_start": 500, "drift_threshold": 4.0}
EDDM_QUIET = {"warm_start": 300, "beta": 0.7}


@dataclass(frozen=True)
class WindowValue:
    """A metric in one time window: its value and interval (None where undefined, with the reason), and, for a
    classifier's probabilities, its estimate from the probabilities alone with the interval the realised value
    should fall in if they are calibrated (`reportgen.metrics.estimation`; None where not estimated)."""

    window: str
    n: int
    value: float | None
    ci_low: float | None
    ci_high: float | None
    undefined_reason: str | None = None
    estimate: float | None = None
    estimate_low: float | None = None
    estimate_high: float | None = None


@dataclass(frozen=True)
class MetricSeries:
    """A metric across the time windows, for the whole data (slice "overall") or one group of a slice, with the
    reference's value and interval (None without reference labels), and whether a window fell below it."""

    metric: str
    slice: str
    group: str
    values: list[WindowValue]
    reference: float | None
    reference_low: float | None
    reference_high: float | None
    below_reference: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChangePoint:
    """A change detector's alarm, in time windows.

    Page-Hinkley and ADWIN watch a metric's series of windows (as z-scores: each window's difference from the
    reference's level over its standard error); DDM and EDDM watch the per-row error stream in time order
    ("error_rate"). `window` is where the detector fired; `start` where the change most likely began, the best
    single step in the stream from the previous alarm to this one (`detectors.step_start`); `before` and `after`
    the metric's mean level on either side of it (DDM, EDDM: error rates); `worse` whether the change is for the
    worse.
    """

    detector: str
    metric: str
    window: str
    start: str
    before: float
    after: float
    worse: bool


class WindowStatistics(Protocol):
    """The sufficient statistics of the labelled rows by time window, whatever engine counts them."""

    def by_window(self) -> Statistics:
        """Per window (group k: window k)."""

    def by_groups(self, indices: Sequence[int]) -> list[Statistics]:
        """Per group and window of each of `Measured.families[indices]`: group g, window w is cell g × windows + w."""


@dataclass(frozen=True)
class RowWindows:
    """`WindowStatistics` of the rows in memory: each row's window `codes` (-1: no time)."""

    measured: Measured
    codes: np.ndarray
    n_windows: int

    def by_window(self) -> Statistics:
        return self.measured.engine.group_stats(self.codes, self.n_windows)

    def by_groups(self, indices: Sequence[int]) -> list[Statistics]:
        found = []
        for index in indices:
            family = self.measured.families[index]
            inside = (family.codes >= 0) & (self.codes >= 0)
            cells = np.where(inside, family.codes.astype(np.int64) * self.n_windows + self.codes, -1)
            found.append(self.measured.engine.group_stats(cells, family.n_groups * self.n_windows))
        return found


def performance_by_window(statistics: WindowStatistics, levels: Levels, measured: Measured, config: Config,
                          windows: list[str], estimates: dict[str, estimation.Estimate]) -> list[MetricSeries]:
    """The headline metrics per window (with their `estimates`, against the reference's `levels`), then each
    slice's key metric per group and window (slices of at most `MAX_SLICE_GROUPS` groups, not windows)."""
    task, settings = measured.task, config.report
    names = [m for m in HEADLINE_METRICS[task] if m in measured.registry]
    rng = np.random.default_rng([settings.seed, MONITORING_STREAM])
    table = metric_frame("time", windows, statistics.by_window(), [measured.registry[m] for m in names],
                         level=settings.confidence_level, resamples=settings.resamples, rng=rng)
    series = [_series(table, metric, OVERALL, OVERALL, windows, levels.get(metric), config, estimates.get(metric))
              for metric in names]
    key = next((m for m in SLICE_METRICS[task] if m in measured.registry), None)
    followed = [] if key is None else [index for index, family in enumerate(measured.families) if index > 0
                                       and family.kind != "windows" and family.n_groups <= MAX_SLICE_GROUPS]
    for index, found in zip(followed, statistics.by_groups(followed), strict=True):
        family = measured.families[index]
        labels = [f"{group} · {w}" for group in family.labels for w in range(len(windows))]
        table = metric_frame(family.name, labels, found, [measured.registry[key]],
                             level=settings.confidence_level, resamples=settings.resamples,
                             rng=np.random.default_rng([settings.seed, MONITORING_STREAM, index]))
        for g, group in enumerate(family.labels):
            rows = table.iloc[g * len(windows):(g + 1) * len(windows)]
            series.append(_series(rows, key, family.name, group, windows, levels.get(key), config))
    return series


def estimate_notes(levels: Levels, config: Config) -> list[str]:
    """What the label-free estimates assume, and whether the reference's calibration (its "ece" among `levels`)
    bears it out."""
    assumes = ("Estimates from the probabilities alone (beside each realised value) assume the probabilities are "
               "calibrated and that the labels' relation to the inputs has not changed (no concept drift)")
    ece = levels.get("ece", (None,))[0]
    if ece is None:
        return [f"{assumes}; without reference labels their calibration could not be checked."]
    limit = config.findings.max_ece
    if ece > limit:
        return [f"{assumes}; the reference's expected calibration error is {num(ece)}, above [findings] max_ece = "
                f"{num(limit)}: the estimates may be off."]
    return [f"{assumes}; the reference's expected calibration error is {num(ece)} (at most [findings] max_ece = "
            f"{num(limit)})."]


def reference_levels(reference: Reference | None, config: Config, task: str) -> Levels:
    """The reference rows' headline metrics and expected calibration error, each with its interval; empty without
    reference labels."""
    if reference is None or reference.predictions is None:
        return {}
    ref = reference.predictions
    engine = tasks.prepare(ref.task, ref.y_true, ref.y_pred, ref.scores, n_classes=len(ref.classes), top_k=ref.top_k,
                           calibration_bins=config.report.calibration_bins)
    return levels_of(engine.metrics, engine.group_stats(np.zeros(len(ref.y_true), dtype=np.int32), 1), config, task)


def levels_of(metrics: Sequence[Metric], overall: Statistics, config: Config, task: str) -> Levels:
    """The reference's headline metrics and expected calibration error, each with its interval, from its
    statistics as one group (`overall`) and its task's `metrics`, whatever engine counted them."""
    registry = {m.name: m for m in metrics}
    wanted = [registry[m] for m in (*HEADLINE_METRICS[task], "ece") if m in registry]
    table = metric_frame(OVERALL, [OVERALL], overall, wanted, level=config.report.confidence_level,
                         resamples=config.report.resamples,
                         rng=np.random.default_rng([config.report.seed, MONITORING_STREAM, 0, 1]))
    return {row.metric: (_plain(row.value), _plain(row.ci_low), _plain(row.ci_high)) for row in table.itertuples()}


def estimates_by_window(task: str, scores: np.ndarray | None, config: Config, codes: np.ndarray,
               n_windows: int) -> dict[str, estimation.Estimate]:
    """A classifier's metrics per window estimated from its probabilities alone (every row of the window, with a
    label or not); none without probabilities."""
    if scores is None or task == "regression":
        return {}
    settings = config.report
    common = {"level": settings.confidence_level, "resamples": settings.resamples, "seed": settings.seed}
    if task == "binary":
        found = estimation.estimate_binary(codes, n_windows, scores, threshold=config.data.threshold, **common)
    else:
        found = estimation.estimate_multiclass(codes, n_windows, scores, **common)
    return {e.metric: e for e in found}


def _series(rows: pd.DataFrame, metric: str, slice_name: str, group: str, windows: list[str],
            level: tuple[float | None, float | None, float | None] | None, config: Config,
            estimate: estimation.Estimate | None = None) -> MetricSeries:
    rows = rows[rows["metric"] == metric]
    values = [WindowValue(window, int(row.n), _plain(row.value), _plain(row.ci_low), _plain(row.ci_high),
                          None if pd.isna(row.undefined_reason) else str(row.undefined_reason),
                          *((None, None, None) if estimate is None else (
                              _plain(estimate.values.value[i]), _plain(estimate.ci_low[i]),
                              _plain(estimate.ci_high[i]))))
              for i, (window, row) in enumerate(zip(windows, rows.itertuples(), strict=True))]
    reference, low, high = level or (None, None, None)
    return MetricSeries(metric, slice_name, group, values, reference, low, high)


def _key(series: MetricSeries, task: str) -> bool:
    """Whether a series is one of the overall key metrics, tested against the reference and watched for change."""
    return series.slice == OVERALL and series.metric in SLICE_METRICS[task]


def _standard_error(low: float | None, high: float | None, z: float) -> float | None:
    """A value's standard error read from its interval (half its width over z); None without an interval."""
    return None if low is None or high is None else (high - low) / (2 * z)


def below_reference(series: list[MetricSeries], measured: Measured, config: Config) -> tuple[list[MetricSeries], int]:
    """Mark the windows of the key metrics significantly worse than the reference: a one-sided z-test of the
    difference, its standard error from the two intervals, on windows of at least `min_support` rows; q-values
    by Benjamini–Hochberg across every window of every key metric tested."""
    z = z_value(config.report.confidence_level)
    tests: list[tuple[int, int, float]] = []  # (series, window, p)
    for i, s in enumerate(series):
        better = measured.registry[s.metric].higher_is_better
        reference_se = _standard_error(s.reference_low, s.reference_high, z)
        if not _key(s, measured.task) or better is None or s.reference is None or reference_se is None:
            continue
        for j, v in enumerate(s.values):
            se = _standard_error(v.ci_low, v.ci_high, z)
            if v.value is None or se is None or v.n < config.report.min_support or se + reference_se == 0:
                continue
            statistic = (v.value - s.reference) / math.hypot(se, reference_se) * (1 if better else -1)
            tests.append((i, j, 0.5 * math.erfc(-statistic / math.sqrt(2))))  # P(Z <= statistic): worse is low
    if not tests:
        return series, 0
    q = benjamini_hochberg(np.array([p for _, _, p in tests]))
    below: dict[int, list[str]] = {}
    for (i, j, _), q_value in zip(tests, q, strict=True):
        if q_value <= config.findings.fdr:
            below.setdefault(i, []).append(series[i].values[j].window)
    return [replace(s, below_reference=below.get(i, [])) for i, s in enumerate(series)], len(tests)


def metric_changes(series: list[MetricSeries], measured: Measured, config: Config) -> list[ChangePoint]:
    """Page-Hinkley and ADWIN over each key metric's windows with a value, as z-scores against the reference's
    level (without one: the first window's), each over its standard error."""
    found = []
    z = z_value(config.report.confidence_level)
    for s in series:
        better = measured.registry[s.metric].higher_is_better
        defined = [v for v in s.values if v.value is not None and v.ci_low is not None and v.ci_high > v.ci_low]
        if not _key(s, measured.task) or better is None or len(defined) < CHANGE_MIN_WINDOWS:
            continue
        level = s.reference if s.reference is not None else defined[0].value
        values = np.array([v.value for v in defined])
        scores = np.array([(v.value - level) / _standard_error(v.ci_low, v.ci_high, z) for v in defined])
        for alarms in (detectors.page_hinkley(scores, **PAGE_HINKLEY_Z), detectors.adwin(scores, **ADWIN_Z)):
            for alarm, (reset, start, before, after) in zip(alarms, _steps(values, alarms), strict=True):
                found.append(ChangePoint(alarm.detector, s.metric, defined[alarm.index].window,
                                         defined[start].window, before, after, worse=(after < before) == better))
    return found


def error_stream(predictions: Predictions, codes: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A classifier's per-row errors in time order (rows without a time left out; rows of one time in the file's
    order), and the rows per window: the stream `error_changes` reads."""
    timed = np.flatnonzero(codes >= 0)
    order = timed[np.argsort(times[timed], kind="stable")]
    errors = (predictions.y_pred[order] != predictions.y_true[order]).astype(np.int8)
    return errors, np.bincount(codes[timed], minlength=int(codes.max(initial=-1)) + 1)


def error_changes(errors: np.ndarray, sizes: np.ndarray, windows: list[str]) -> list[ChangePoint]:
    """DDM and EDDM over a classifier's per-row errors in time order; `sizes` are the rows of each window, in
    order (the windows follow time, so the stream's first sizes[0] rows are window 0's, and so on)."""
    ends = np.cumsum(sizes)

    def window(position: int) -> str:
        return windows[int(np.searchsorted(ends, position, side="right"))]

    found = []
    for alarms in (detectors.ddm(errors, **DDM_QUIET), detectors.eddm(errors, **EDDM_QUIET)):
        for alarm, (_, start, before, after) in zip(alarms, _steps(errors, alarms), strict=True):
            found.append(ChangePoint(alarm.detector, "error_rate", window(alarm.index), window(start), before, after,
                                     worse=after > before))
    return found


def _steps(stream: np.ndarray, alarms: list[detectors.Detection]) -> list[tuple[int, int, float, float]]:
    """For each alarm of one detector: the stretch's first position (after the previous alarm), where the change
    most likely began (`detectors.step_start`), and the stream's mean before and after that point."""
    steps, reset = [], 0
    for alarm in alarms:
        start = detectors.step_start(stream, reset, alarm.index)
        steps.append((reset, start, float(stream[reset:start].mean()), float(stream[start:alarm.index + 1].mean())))
        reset = alarm.index + 1
    return steps




def _plain(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
