"""Monitoring: the deployed model's data against the reference it was validated on, and its performance over time.

`run` picks the inputs: the predictions (current rows, and those whose label has not arrived), the reference
(`[monitoring] reference`), the time column cut into windows, and the measured engine. Drift is tested per column
(`reportgen.analysis.data_drift`); with a time column, each column's drift per window, and performance over time
(`reportgen.analysis.over_time`). Findings say which columns drifted (and from which window), whether the model's
outputs or the labels moved, and where performance fell below the reference, with when the change began.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding, Outcome, TestFamily
from reportgen.analysis.checks import declared_columns
from reportgen.analysis.data_drift import (
    ColumnDrift,
    Compared,
    WindowDrift,
    adjusted,
    category_distribution,
    column_drift,
    drift_by_window,
    drift_of_columns,
    number_distribution,
    untested_reason,
    windows_drift,
)
from reportgen.analysis.error_sources import sql_model_outputs
from reportgen.analysis.over_time import (
    ChangePoint,
    Levels,
    MetricSeries,
    RowWindows,
    below_reference,
    error_changes,
    error_stream,
    estimate_notes,
    estimates_by_window,
    levels_of,
    metric_changes,
    performance_by_window,
    reference_levels,
)
from reportgen.config import Config
from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection, Over
from reportgen.engines.drift_counts import (
    ReferenceInput,
    Side,
    SideCounts,
    attach_reference,
    category_counts,
    column_kind,
    number_counts,
    window_counts,
)
from reportgen.engines.error_counts import is_whole
from reportgen.engines.families import overall
from reportgen.engines.scan import Scanned, statistics, task_engine
from reportgen.engines.time_counts import SqlWindows, TimeWindows, rows_by_window, time_ordered_errors, time_windows
from reportgen.errors import InputError, counted, quoted_list, shown
from reportgen.formatting import figure, num, pct
from reportgen.io import Predictions, Unlabelled
from reportgen.metrics.drift import NumberDrift, window_drift
from reportgen.metrics.drift import WindowDrift as WindowTests
from reportgen.metrics.measure import Measured
from reportgen.reference import Reference
from reportgen.windows import TooManyWindows, default_window, parse_times, parse_window, window_codes

SECTION = "monitoring"


@dataclass(frozen=True)
class Monitoring:
    """What monitoring found (see the module docstring).

    Attributes
    ----------
    reference : str or None
        The reference's source; None without one (performance over time only).
    reference_rows, current_rows : int
    reference_labels : bool
        Whether the reference has labels (its performance, the band the trends are read against).
    time, window : str or None
        The time column and the window alias used (given, or chosen from the time span).
    windows : list of str
        Window labels in time order.
    unlabelled : list of int
        Per window, the current rows without a label yet (estimated, not measured); empty without windows.
    missing_times : int
        Current rows without a time (in no window).
    columns : list of ColumnDrift
        Every tested or skipped column, in the data's order: inputs first, then the model's outputs and label.
    skipped : dict
        Column → why it was not tested (identifiers, dates, columns of too many categories).
    by_window : WindowDrift or None
    performance : list of MetricSeries
        Overall headline metrics first, then each slice's key metric per group; `below_reference` lists the
        windows significantly worse than the reference (one-sided z-tests from the two intervals,
        Benjamini–Hochberg across the key metrics' windows).
    changes : list of ChangePoint
        The change detectors' alarms.
    performance_tests : int
        Windows tested against the reference.
    notes : list of str
        What could not be done, and why.
    """

    reference: str | None
    reference_rows: int
    current_rows: int
    reference_labels: bool
    time: str | None
    window: str | None
    windows: list[str]
    unlabelled: list[int]
    missing_times: int
    columns: list[ColumnDrift]
    skipped: dict[str, str]
    by_window: WindowDrift | None
    performance: list[MetricSeries]
    changes: list[ChangePoint]
    performance_tests: int
    notes: list[str]

    @property
    def inputs(self) -> list[ColumnDrift]:
        """The tested input columns (not the model's outputs or label)."""
        return [c for c in self.columns if c.role == "feature" and c.drifted is not None]

    @property
    def drift_share(self) -> float | None:
        """The share of tested input columns that drifted; None without any."""
        return sum(bool(c.drifted) for c in self.inputs) / len(self.inputs) if self.inputs else None


def run(context: Context) -> Outcome:
    """Monitoring, where `[monitoring]` names a reference or a time column; None otherwise."""
    config = context.config
    if not config.monitoring.enabled:
        return Outcome(None)
    if context.scanned is not None:
        return monitor_where(context.scanned, context.reference_input, context.measured, config,
                             source=context.predictions.source)
    return monitor(context.predictions, context.reference, context.measured, config, context.results["checks"],
                   context.unlabelled)


def monitor_where(scanned: Scanned, reference: ReferenceInput | None, measured: Measured, config: Config, *,
                  source: str) -> Outcome:
    """Drift from the reference and performance over time, counted by the SQL engine that holds the current rows
    (`reportgen.engines.drift_counts`, `reportgen.engines.time_counts`); see `Monitoring`. The label-free estimates
    are not made: they draw a label for every row."""
    connection, settings, fdr = scanned.connection, config.monitoring, config.findings.fdr
    current = Side(scanned.current, connection.column_types())
    rows = _rows(connection, current.relation)
    windows = None if settings.time is None else time_windows(Over(connection, current.relation), settings.time,
                                                              settings.window, settings.max_windows, source)
    notes: list[str] = []
    if scanned.unlabelled is not None:
        notes.append(f"{counted(_rows(connection, scanned.unlabelled), 'current row')} without a label yet: compared "
                     f"with the reference; measured only once labelled (the {connection.dialect.name} engine does not "
                     "estimate their metrics).")
    columns, skipped, roles, kinds = _columns_where(scanned, current, measured.task, config)
    side, reference_rows, reference_outputs, drifts, found = None, 0, None, [], {}
    if reference is not None:
        side, reference_rows, reference_outputs = attach_reference(connection, reference, current, config,
                                                                   current_source=source)
        compared = [c for c in columns if c in side.types]
        for column in columns:
            if column not in compared:  # the label, where the reference has none
                skipped[column] = "not in the reference"
        found = {column: _counted_where(connection, side, current, column, roles.get(column, "feature"),
                                        kinds.get(column), settings.psi_bins) for column in compared}
        drifts = adjusted([column_drift(_compared_where(column, counts), settings) for column, counts in found.items()],
                          fdr)
        if reference_outputs is None:
            notes.append(f'The reference has no labels ("{config.data.label}"): the model\'s performance is followed '
                         "over time without a reference level to compare with.")
    by_window, performance, changes, tested, waiting = None, [], [], 0, []
    if windows is not None:
        tested_columns = [d.column for d in drifts if d.drifted is not None]
        if drifts:
            by_window = windows_drift(tested_columns, [_window_drift(connection, current, c, found[c], windows)
                                                       for c in tested_columns], windows.labels, settings=settings,
                                      fdr=fdr)
        levels = {} if reference_outputs is None else _levels_where(connection, side, reference_outputs, measured.task,
                                                                    config)
        statistics = SqlWindows(connection, scanned.outputs, scanned.coded, windows, measured.task, measured.engine)
        performance, tested = below_reference(
            performance_by_window(statistics, levels, measured, config, windows.labels, {}), measured, config)
        changes = metric_changes(performance, measured, config)
        if measured.task != "regression":
            changes += error_changes(*time_ordered_errors(connection, scanned.outputs, settings.time, windows),
                                     windows.labels)
        waiting = ([0] * len(windows.labels) if scanned.unlabelled is None else
                   rows_by_window(connection, scanned.unlabelled, windows).tolist())
        if scanned.has_probabilities:
            notes.append("The metrics are not estimated from the model's probabilities alone with the "
                         f"{connection.dialect.name} engine: the estimates draw a label for every row (set [report] "
                         'engine = "numpy" for them).')
    else:
        notes.append("No time column ([monitoring] time): drift is measured over all current rows at once, and "
                     "performance is not followed over time.")
    result = Monitoring(
        reference=None if reference is None else reference.source, reference_rows=reference_rows, current_rows=rows,
        unlabelled=waiting, reference_labels=reference_outputs is not None, time=settings.time,
        window=None if windows is None else windows.alias, windows=[] if windows is None else windows.labels,
        missing_times=0 if windows is None else windows.missing, columns=drifts, skipped=skipped,
        by_window=by_window, performance=performance, changes=changes, performance_tests=tested, notes=notes,
    )
    return Outcome(result, _findings(result, fdr) + _performance_findings(result, measured), _families(result, fdr))


def _rows(connection: Connection, relation: str) -> int:
    return int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation}")["n"].iloc[0])


def _columns_where(scanned: Scanned, current: Side, task: str, config: Config
                   ) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, str]]:
    """The columns to test (`chosen_columns`), profiled by the engine over the labelled rows (as the numpy engine
    profiles the predictions)."""
    connection, names = scanned.connection, list(current.types)
    declared = declared_columns(config, pd.DataFrame(columns=names))
    undeclared = [c for c in names if c not in declared and c != config.monitoring.time]
    profiled = scanned.profiles(undeclared)
    outputs = sql_model_outputs(connection, task, scanned.outputs, undeclared,
                                {c: present + int(missing > 0) for c, (present, missing) in profiled.items()})

    def profile(column: str) -> tuple[str, int]:
        sql_type = current.types[column]
        kind = "whole numbers" if is_whole(sql_type) else column_kind(sql_type)
        return ("other" if kind in ("text", "true/false") else kind), profiled[column][0]

    return chosen_columns(names, _rows(connection, connection.relation), profile, task, config, outputs)


def _counted_where(connection: Connection, reference: Side, current: Side, column: str, role: str,
                   kind: str | None, bins: int) -> tuple[str, str, SideCounts]:
    """A column's role, kind and counts on both sides (`reportgen.engines.drift_counts`)."""
    numbers = all(column_kind(side.types[column]) == "numbers" for side in (reference, current))
    kind = kind or ("number" if numbers else "category")
    label = role == "label"
    if kind == "number":
        return role, kind, number_counts(connection, reference, current, column, label=label, bins=bins)
    return role, kind, category_counts(connection, reference, current, column, label=label, numbers=numbers)


def _window_drift(connection: Connection, current: Side, column: str, counted: tuple[str, str, SideCounts],
                  windows: TimeWindows) -> WindowTests:
    """A tested column's drift in each time window, on the bins of its whole-sample test."""
    role, kind, found = counted
    if kind == "number":
        assert isinstance(found.found, NumberDrift), "a tested number column has its PSI bins"
        reference = found.found.reference_counts
        counts = window_counts(connection, current, column, windows.coded, label=role == "label",
                               edges=found.found.edges)
    else:
        assert found.per_category is not None, "a tested category column has its counts"
        reference = found.per_category[0]
        numbers = column_kind(current.types[column]) == "numbers"
        counts = window_counts(connection, current, column, windows.coded, label=role == "label",
                               categories=found.categories, numbers=numbers)
    return window_drift(reference, counts)


def _levels_where(connection: Connection, reference: Side, outputs: Outputs, task: str, config: Config) -> Levels:
    """The reference's headline metrics and calibration error (`levels_of`), from its statistics counted by the
    engine."""
    over = Over(connection, reference.relation)
    engine = task_engine(task, over, outputs, config.report.calibration_bins)
    return levels_of(engine.metrics, statistics(task, over, outputs, [overall()], engine)[0], config, task)


def _compared_where(column: str, counted: tuple[str, str, SideCounts]) -> Compared:
    """A column's comparison from the engine's counts."""
    role, kind, found = counted
    why = untested_reason(kind, found.n_reference, found.n_current, constant=found.constant,
                          categories=len(found.categories))
    distribution = None
    if found.found is not None and kind == "number":
        distribution = number_distribution(found.quantile, found.extremes, found.bins, found.n_reference,
                                           found.n_current)
    elif found.found is not None:
        distribution = category_distribution(found.categories, *found.per_category)
    return Compared(column, role, kind, found.n_reference, found.n_current, found.missing_reference,
                    found.missing_current, why, found.found, distribution)


def monitor(predictions: Predictions, reference: Reference | None, measured: Measured, config: Config,
            checks: object, unlabelled: Unlabelled | None = None) -> Outcome:
    """Drift from the reference and performance over time; see `Monitoring`. Rows without a label yet
    (`unlabelled`) are compared with the reference and their metrics estimated, never measured."""
    settings, fdr = config.monitoring, config.findings.fdr
    notes: list[str] = []
    current = predictions.frame if unlabelled is None else pd.concat([predictions.frame, unlabelled.frame],
                                                                      ignore_index=True)
    n_labelled = len(predictions.frame)
    if unlabelled is not None:
        notes.append(f"{counted(len(unlabelled.frame), 'current row')} without a label yet: compared with the "
                     "reference and, with probabilities, their metrics estimated; measured only once labelled.")
    columns, skipped, roles, kinds = _columns(predictions, config, getattr(checks, "model_outputs", {}))
    drifts: list[ColumnDrift] = []
    if reference is not None:
        compared = [c for c in columns if c in reference.frame.columns]
        for column in columns:
            if column not in compared:  # the label, where the reference has none
                skipped[column] = "not in the reference"
        drifts = drift_of_columns(reference.frame, current, compared, settings=settings, fdr=fdr, roles=roles,
                                  kinds=kinds)
        if reference.predictions is None:
            notes.append(f'The reference has no labels ("{config.data.label}"): the model\'s performance is followed '
                         "over time without a reference level to compare with.")
    every_code, times, windows, window, missing_times = _windows(current, predictions.source, config)
    by_window, performance, changes, tested, waiting = None, [], [], 0, []
    if every_code is not None:
        codes = every_code[:n_labelled]
        if drifts:
            by_window = drift_by_window(reference.frame, current, drifts, every_code, windows, settings=settings,
                                        fdr=fdr)
        scores = predictions.scores if unlabelled is None or predictions.scores is None else np.concatenate(
            [predictions.scores, unlabelled.scores])
        estimates = estimates_by_window(predictions.task, scores, config, every_code, len(windows))
        levels = reference_levels(reference, config, predictions.task)
        performance = performance_by_window(RowWindows(measured, codes, len(windows)), levels, measured, config,
                                            windows, estimates)
        waiting = np.bincount(every_code[n_labelled:][every_code[n_labelled:] >= 0], minlength=len(windows)).tolist()
        if estimates:
            notes += estimate_notes(levels, config)
        performance, tested = below_reference(performance, measured, config)
        changes = metric_changes(performance, measured, config)
        if predictions.task != "regression":
            changes += error_changes(*error_stream(predictions, codes, times[:n_labelled]), windows)
    elif settings.time is None:
        notes.append("No time column ([monitoring] time): drift is measured over all current rows at once, and "
                     "performance is not followed over time.")
    result = Monitoring(
        reference=None if reference is None else reference.source,
        reference_rows=0 if reference is None else len(reference.frame),
        current_rows=len(current),
        unlabelled=waiting,
        reference_labels=reference is not None and reference.predictions is not None,
        time=settings.time, window=window, windows=windows, missing_times=missing_times,
        columns=drifts, skipped=skipped, by_window=by_window, performance=performance, changes=changes,
        performance_tests=tested, notes=notes,
    )
    return Outcome(result, _findings(result, fdr) + _performance_findings(result, measured),
                   _families(result, fdr))


# ---------------------------------------------------------------------------------------------- columns


def _columns(predictions: Predictions, config: Config, outputs: dict[str, str]
             ) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, str]]:
    """The columns to test of predictions in memory (`chosen_columns`)."""
    frame = predictions.frame

    def profile(column: str) -> tuple[str, int]:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            kind = "dates"
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            kind = "whole numbers" if pd.api.types.is_integer_dtype(values) else "numbers"
        else:
            kind = "other"
        return kind, len(predictions.codes(column).present_values)

    return chosen_columns([str(c) for c in frame.columns], len(frame), profile, predictions.task, config, outputs)


def chosen_columns(names: list[str], n_rows: int, profile: Callable[[str], tuple[str, int]], task: str,
                   config: Config, outputs: Mapping[str, str]
                   ) -> tuple[list[str], dict[str, str], dict[str, str], dict[str, str]]:
    """The columns to test (inputs, then the model's outputs and label), those skipped with why, and each tested
    column's role and, where the values do not tell, kind; whatever the engine: `profile` gives a column's kind
    ("dates", "whole numbers", "numbers" or "other") and its distinct present values."""
    settings = config.monitoring
    declared = declared_columns(config, pd.DataFrame(columns=names))
    roles = {column: {"label": "label", "score": "score", "probability": "score", "prediction": "prediction"}[role]
             for column, role in declared.items() if role != "join key" and column in names}
    classification = task != "regression"
    kinds = {column: "category" for column, role in roles.items() if classification and role in ("label", "prediction")}
    skipped: dict[str, str] = {}
    if settings.columns is not None:
        inputs = [c for c in settings.columns if c not in roles]
    else:
        inputs = []
        for column in names:
            why = _not_an_input(column, n_rows, profile, roles, outputs, settings.time, settings.max_categories)
            if why is None:
                inputs.append(column)
            elif why:
                skipped[column] = why
    ordered = sorted(roles, key=lambda c: ("score", "prediction", "label").index(roles[c]))
    return inputs + ordered, skipped, roles, kinds


def _not_an_input(column: str, n_rows: int, profile: Callable[[str], tuple[str, int]], roles: dict[str, str],
                  outputs: Mapping[str, str], time: str | None, max_categories: int) -> str | None:
    """Why a column is not tested as an input by default ("" for a column the model declares), or None."""
    if column in roles:
        return ""
    if column == time:
        return "the time column: followed through the windows"
    if column in outputs:
        return f"looks like a model output ({outputs[column]})"
    kind, distinct = profile(column)
    if kind == "dates":
        return "dates: name it in [monitoring] time to follow it"
    numeric = kind in ("numbers", "whole numbers")
    if distinct == n_rows and n_rows > 1 and (kind == "whole numbers" or not numeric):
        return "an identifier (every value distinct)"
    if not numeric and distinct > max_categories:
        return f"{distinct:,} distinct values, more than [monitoring] max_categories = {max_categories}"
    return None


# ---------------------------------------------------------------------------------------------- windows


def _windows(frame: pd.DataFrame, source: str, config: Config
             ) -> tuple[np.ndarray | None, np.ndarray | None, list[str], str | None, int]:
    """Each current row's window (-1 without a time) and its time (wall-clock microseconds, for the order of rows),
    the window labels, the alias used and the rows without a time."""
    settings = config.monitoring
    if settings.time is None:
        return None, None, [], None, 0
    if settings.time not in frame.columns:
        raise InputError(f'{source}: no column "{shown(settings.time)}" ([monitoring] time); columns '
                         f"are: {quoted_list(frame.columns, limit=12)}")
    where = f'{source}: column "{shown(settings.time)}" ([monitoring] time)'
    times = parse_times(frame[settings.time], where)
    if times.isna().all():
        raise InputError(f"{where}: no times (every value is missing)")
    alias = settings.window or default_window(times.min(), times.max())
    try:
        codes, labels = window_codes(times, parse_window(alias), settings.max_windows)
    except TooManyWindows as exc:
        raise InputError(f'{where}: window "{shown(alias)}" makes {exc}, more than [monitoring] max_windows = '
                         f"{settings.max_windows}; use a longer window") from None
    wall_clock = times.dt.tz_localize(None) if getattr(times.dt, "tz", None) is not None else times
    return codes, wall_clock.to_numpy(dtype="datetime64[us]").astype(np.int64), labels, alias, int((codes < 0).sum())


# ---------------------------------------------------------------------------------------------- findings


def _families(result: Monitoring, fdr: float) -> list[TestFamily]:
    families = []
    tested = [c for c in result.columns if c.significance is not None and c.significance.q_value is not None]
    if tested:
        families.append(TestFamily(
            name="drift",
            description="Each column's distribution against the reference's: Kolmogorov–Smirnov (numbers) or "
                        "chi-square (categories), one test per column.",
            tests=len(tested), discoveries=sum(c.significance.q_value <= fdr for c in tested)))
    if result.by_window is not None and result.by_window.tests:
        significant = sum(q is not None and q <= fdr for row in result.by_window.q_value for q in row)
        families.append(TestFamily(
            name="drift by window",
            description="Each column's distribution in each time window against the reference's: chi-square on "
                        "the PSI bins (numbers) or the categories, one test per column and window.",
            tests=result.by_window.tests, discoveries=significant))
    if result.performance_tests:
        families.append(TestFamily(
            name="performance by window",
            description="Each key metric in each time window against the reference's value: one-sided z-tests of "
                        "the difference (worse than the reference), standard errors from the two intervals.",
            tests=result.performance_tests, discoveries=sum(len(s.below_reference) for s in result.performance)))
    return families


def _performance_findings(result: Monitoring, measured: Measured) -> list[Finding]:
    """One finding where key metrics are significantly worse than the reference in some windows, saying where the
    change detectors place its start; an alarm for the worse without such windows is shown in the card but raises
    no finding (detectors' false alarms are not under the multiplicity policy)."""
    dropped = [s for s in result.performance if s.below_reference]
    if not dropped:
        return []
    first = min((s.below_reference[0] for s in dropped), key=result.windows.index)
    starts: dict[str, list[str]] = {}
    for c in result.changes:
        if c.worse:
            starts.setdefault(c.start, []).append(f"{_detector_name(c.detector)} on {_watched(c, measured)} "
                                                  f"(alarm in {c.window})")
    since = " ".join(f"{'; '.join(who)} place{'s' if len(who) == 1 else ''} the start of the change in window "
                     f"{start}." for start, who in sorted(starts.items(), key=lambda item: result.windows.index(item[0])))
    parts = []
    for s in dropped:
        values = {v.window: v for v in s.values}
        worst = min(s.below_reference, key=lambda w: values[w].value * (1 if measured.registry[s.metric].higher_is_better
                                                                          else -1))
        parts.append(f"{measured.registry[s.metric].label}: {num(s.reference)} in the reference, below it in "
                     f"{counted(len(s.below_reference), 'window')} (lowest {worst}: {num(values[worst].value)}, "
                     f"{num(values[worst].ci_low)}–{num(values[worst].ci_high)})")
    return [Finding(
        id="performance_drop", severity="high",
        title=f"Performance fell significantly below the reference from window {first}: "
              f"{', '.join(measured.registry[s.metric].label for s in dropped)}.",
        detail="; ".join(parts) + "." + (f" {since}" if since else ""),
        section=SECTION, subject=None,
        evidence=[Evidence(slice="time", group=w, metric=s.metric, value=v.value, ci_low=v.ci_low, ci_high=v.ci_high,
                           n=v.n, compared_with=s.reference)
                  for s in dropped for v in s.values for w in [v.window] if w in s.below_reference],
    )]


def _watched(change: ChangePoint, measured: Measured) -> str:
    return "the row errors" if change.metric == "error_rate" else measured.registry[change.metric].label


def _detector_name(detector: str) -> str:
    return {"page_hinkley": "Page-Hinkley", "adwin": "ADWIN", "ddm": "DDM", "eddm": "EDDM"}[detector]



def _findings(result: Monitoring, fdr: float) -> list[Finding]:
    found = []
    drifted = [c for c in result.inputs if c.drifted]
    if drifted:
        share = result.drift_share or 0.0
        found.append(Finding(
            id="data_drift", severity="high" if share >= 0.5 else "medium",
            title=f"{len(drifted)} of {len(result.inputs)} input columns drifted from the reference: "
                  f"{quoted_list([c.column for c in drifted])}.",
            detail=" ".join(_drift_sentence(c, result.by_window) for c in drifted),
            section=SECTION, subject=None, evidence=[_drift_evidence(c) for c in drifted]))
    for role, rule, what in (("score", "prediction_drift", "The model's scores"),
                             ("prediction", "prediction_drift", "The model's predictions"),
                             ("label", "label_drift", "The labels")):
        moved = [c for c in result.columns if c.role == role and c.drifted]
        if moved and not any(f.id == rule for f in found):
            found.append(Finding(
                id=rule, severity="medium",
                title=f"{what} are distributed differently from the reference's.",
                detail=" ".join(_drift_sentence(c, result.by_window) for c in moved),
                section=SECTION, subject=None, evidence=[_drift_evidence(c) for c in moved]))
    return found


def _drift_sentence(column: ColumnDrift, by_window: WindowDrift | None) -> str:
    effect, test = column.effect, column.significance
    size = f"{_effect_name(effect.test)} {num(effect.statistic)}" if effect and effect.statistic is not None else ""
    first = None if by_window is None else by_window.first_drifted(column.column)
    since = "" if first is None else f", first in window {first}"
    return (f'"{shown(column.column)}": {size} (q = {figure(test.q_value)}, {pct(column.missing_current)} missing '
            f"now, {pct(column.missing_reference)} in the reference{since}).")


def _drift_evidence(column: ColumnDrift) -> Evidence:
    effect, test = column.effect, column.significance
    return Evidence(slice="drift", group=column.column, metric=effect.test if effect else test.test,
                    value=effect.statistic if effect else test.statistic, ci_low=None, ci_high=None,
                    n=column.n_current, compared_with=effect.threshold if effect else None,
                    p_value=test.p_value, q_value=test.q_value)


def _effect_name(test: str) -> str:
    return {"wasserstein": "Wasserstein distance (reference SDs)", "jensen_shannon": "Jensen–Shannon distance"}[test]

