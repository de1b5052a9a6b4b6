"""Quality gates: bounds on metrics and fairness gaps, checked against the model card's numbers.

Gates read the document (`Report`), not the evaluation, so `reportgen check` can apply a config's
gates to a `report.json` built earlier and get the same answer as the build did. A metric's value
that rests on fewer rows than `min_support` (`MetricValue.small`, e.g. a recall on 6 positives) is
not checked, as an undefined value is not: it says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from reportgen.config import GateSpec
from reportgen.document.schema import (
    ComparisonResult,
    GateCheck,
    GateResult,
    MetricInfo,
    MonitoringResult,
    Report,
)
from reportgen.errors import ConfigError, did_you_mean, quoted_list
from reportgen.formatting import counted_support, num, signed
from reportgen.vocabulary import OVERALL

MAX_LISTED = 5  # breaches named in a gate's detail


def apply_gates(report: Report, specs: Sequence[GateSpec], *, source: str) -> Report:
    """The report with `gates` set to the outcome of `specs`.

    Raises
    ------
    ConfigError
        If a gate names a metric, slice, group, gap or sensitive column the report does not have;
        `source` (the config file) starts the message.
    """
    return dataclasses.replace(report, gates=evaluate_gates(specs, report, source=source))


def evaluate_gates(specs: Sequence[GateSpec], report: Report, *, source: str) -> list[GateResult]:
    """Check every gate against the report; see `apply_gates`."""
    return [_evaluate(spec, report, f"{source}: [[gates]] #{index}") for index, spec in enumerate(specs, start=1)]


def failed(gates: Iterable[GateResult]) -> list[GateResult]:
    """The gates that did not pass (failed, or could not be checked at all)."""
    return [gate for gate in gates if gate.status != "pass"]


def _evaluate(spec: GateSpec, report: Report, where: str) -> GateResult:
    bounded = spec
    if spec.drift_share is not None or spec.drift is not None:
        title, checks = _drift_checks(spec, report, where)
        if spec.drift_share is not None:
            bounded = spec.model_copy(update={"max": spec.drift_share})
    elif spec.windows is not None:
        title, checks = _window_checks(spec, report, where)
    elif spec.max_regression is not None:
        title, checks, bounded = _regression_checks(spec, report, where)
    elif spec.metric is not None:
        title, checks = _metric_checks(spec, report, where)
    else:
        title, checks = _fairness_checks(spec, report, where)
    status = _status(checks)
    return GateResult(
        title=title,
        metric=spec.metric,
        fairness=spec.fairness,
        slice=spec.slice,
        group=None if spec.group is None else str(spec.group),
        sensitive=spec.sensitive,
        min=spec.min,
        max=spec.max,
        max_regression=spec.max_regression,
        baseline=spec.baseline,
        significant=spec.significant,
        drift_share=spec.drift_share,
        drift=spec.drift,
        windows=spec.windows,
        below_reference=spec.below_reference,
        estimated=spec.estimated,
        status=status,
        detail=_detail(bounded, checks, status),
        checks=checks,
    )


def _metric_info(spec: GateSpec, report: Report, where: str) -> MetricInfo:
    assert spec.metric is not None
    infos = {m.name: m for m in report.metrics.metrics}
    if spec.metric not in infos:
        raise ConfigError(
            f'{where} metric: unknown metric "{spec.metric}" for a {report.task} task; '
            f"metrics are: {quoted_list(infos, limit=len(infos))}{did_you_mean(spec.metric, list(infos))}"
        )
    return infos[spec.metric]


def _scope(spec: GateSpec) -> str:
    if spec.slice is None:
        return OVERALL
    return f"for {spec.slice} = {spec.group}" if spec.group is not None else f"in every group of {spec.slice}"


def _metric_checks(spec: GateSpec, report: Report, where: str) -> tuple[str, list[GateCheck]]:
    info = _metric_info(spec, report, where)
    if spec.significant and info.interval is None:
        raise ConfigError(
            f'{where} significant: {info.label} has no confidence interval, so a breach cannot be tested; '
            'remove "significant"'
        )
    groups = [report.overall] if spec.slice is None else _slice_groups(spec, report, where)
    scope = _scope(spec)
    checks = []
    for group in groups:
        value = next(m for m in group.metrics if m.name == spec.metric)
        reason = value.undefined_reason or (
            _too_few(value.support, info.support_unit, report.metrics.min_support) if value.small else None)
        checks.append(_check(spec, group.group, value.value, value.ci_low, value.ci_high, reason,
                             checkable=not value.small))
    return f"{info.label} {_bounds(spec)} {scope}", checks


def _monitoring(report: Report, where: str, key: str) -> MonitoringResult:
    if report.monitoring is None:
        raise ConfigError(f"{where} {key}: the report has no monitoring; add [monitoring]")
    return report.monitoring


def _drift_checks(spec: GateSpec, report: Report, where: str) -> tuple[str, list[GateCheck]]:
    """One check: the share of input columns that drifted against `drift_share`, or whether `drift`'s column
    drifted (its value is the column's shift)."""
    monitoring = _monitoring(report, where, "drift_share" if spec.drift_share is not None else "drift")
    if spec.drift_share is not None:
        share = monitoring.drift_share
        check = (GateCheck("input columns", None, None, None, None, None, None, "no input column was tested")
                 if share is None else
                 GateCheck("input columns", share, None, None, share > spec.drift_share, None,
                           share <= spec.drift_share, None))
        return f"At most {spec.drift_share:.0%} of the input columns drift from the reference", [check]
    columns = {c.column: c for c in monitoring.columns}
    if spec.drift not in columns:
        tested = list(columns)
        raise ConfigError(f'{where} drift: the report has no drift test of column "{spec.drift}"; columns are: '
                          f"{quoted_list(tested, limit=12) or 'none'}{did_you_mean(str(spec.drift), tested)}")
    column = columns[spec.drift]
    if column.drifted is None:
        check = GateCheck(column.column, None, None, None, None, None, None, column.note or "not tested")
    else:
        check = GateCheck(column.column, column.effect_value, None, None, column.drifted, column.drifted,
                          not column.drifted, None)
    return f'Column "{spec.drift}" does not drift from the reference', [check]


def _window_checks(spec: GateSpec, report: Report, where: str) -> tuple[str, list[GateCheck]]:
    """A check per time window of the overall metric ("every", or the latest with a value): against min/max (a
    window on too few rows is not checked), and with `below_reference`, failing where it is significantly worse
    than the reference. With `estimated`, the estimate from the probabilities (on every row of the window) and
    the interval the realised value should fall in; below the reference means that interval lies wholly beyond
    the reference's."""
    info = _metric_info(spec, report, where)
    monitoring = _monitoring(report, where, "windows")
    series = next((s for s in monitoring.performance if s.slice == OVERALL and s.metric == spec.metric), None)
    if series is None:
        raise ConfigError(f"{where} metric: {info.label} is not followed over time; the headline metrics are: "
                          f"{quoted_list([s.metric for s in monitoring.performance if s.slice == OVERALL])}")
    if spec.below_reference and series.metric not in {s.metric for s in monitoring.performance
                                                      if s.slice == OVERALL and s.reference is not None}:
        raise ConfigError(f"{where} below_reference: the reference has no {info.label} (it needs labels)")
    engine = report.run.engine
    if spec.estimated and engine is not None and engine.name != "numpy":
        raise ConfigError(f"{where} estimated: the {engine.name} engine does not estimate metrics from the "
                          "probabilities alone (the estimates draw a label for every row); set [report] engine = "
                          '"numpy" to check this gate')
    if spec.estimated and all(v.estimate is None for v in series.values):
        raise ConfigError(f"{where} estimated: {info.label} is not estimated; the estimates are of a classifier's "
                          "accuracy, F1 and ROC AUC (multiclass: macro), from its probabilities")
    # (window, rows, value, low, high, reason, below the reference); estimates rest on every row of the window
    windows = [(v.window, v.n + monitoring.unlabelled[i], v.estimate, v.estimate_low, v.estimate_high,
                None if v.estimate is not None else v.undefined_reason or "not estimated",
                v.estimate_high is not None and series.reference_low is not None
                and _worse(v.estimate_high, series.reference_low, info.higher_is_better))
               if spec.estimated else
               (v.window, v.n, v.value, v.ci_low, v.ci_high, v.undefined_reason, v.window in series.below_reference)
               for i, v in enumerate(series.values)]
    if spec.windows == "latest":
        windows = [w for w in windows if w[2] is not None][-1:] or windows[-1:]
    checks = []
    for window, n, value, low, high, undefined, below in windows:
        small = n < report.metrics.min_support
        reason = undefined or (_too_few(n, "rows", report.metrics.min_support) if small else None)
        if spec.min is None and spec.max is None:  # below_reference alone
            checks.append(GateCheck(window, value, low, high, below, below, not below, None)
                          if value is not None and not small else
                          GateCheck(window, value, low, high, None, None, None, reason or "undefined"))
            continue
        check = _check(spec, window, value, low, high, reason, checkable=not small)
        if spec.below_reference and check.passed and below:
            check = dataclasses.replace(check, breached=True, significant=True, passed=False)
        checks.append(check)
    scope = "in every time window" if spec.windows == "every" else "in the latest time window"
    bounds = _bounds(spec) if spec.min is not None or spec.max is not None else ""
    against = ("below the reference's interval" if spec.estimated else "significantly below the reference")
    against = f"not {against}" if spec.below_reference else ""
    what = f"{info.label}, estimated from the probabilities," if spec.estimated else info.label
    return f"{what} {' and '.join(p for p in (bounds, against) if p)} {scope}", checks


def _worse(value: float, level: float, higher_is_better: bool | None) -> bool:
    """Whether `value` lies on the worse side of `level`."""
    return value < level if higher_is_better is not False else value > level


def _regression_checks(spec: GateSpec, report: Report, where: str) -> tuple[str, list[GateCheck], GateSpec]:
    """Checks of a `max_regression` gate: each group's difference from the baseline against a bound.

    The bound is on the difference (candidate − baseline): at least −max_regression for a metric
    where higher is better, at most +max_regression where lower is better. Returns the title, the
    checks and the gate as an equivalent bound on the difference.
    """
    assert spec.max_regression is not None and spec.metric is not None
    info = _metric_info(spec, report, where)
    if info.higher_is_better is None:
        raise ConfigError(
            f"{where} max_regression: {info.label} has no better direction, so it cannot regress; "
            "bound it with min or max instead"
        )
    comparisons = [c for c in report.comparisons if spec.baseline in (None, c.baseline)]
    if not comparisons:
        raise ConfigError(f"{where} max_regression: the report compares with no baseline; add a [baseline]")
    bound = {"min": -spec.max_regression} if info.higher_is_better else {"max": spec.max_regression}
    bounded = spec.model_copy(update=bound)
    checks = []
    for comparison in comparisons:
        groups = [comparison.overall] if spec.slice is None else _slice_groups(spec, comparison, where)
        prefix = f"{comparison.baseline}: " if len(comparisons) > 1 else ""
        for group in groups:
            change = next((m for m in group.metrics if m.name == spec.metric), None)
            if change is None:
                raise ConfigError(f'{where} metric: the baseline "{comparison.baseline}" has no {info.label}')
            if spec.significant and change.method is None:
                raise ConfigError(
                    f"{where} significant: the change in {info.label} has no paired interval, so a breach "
                    'cannot be tested; remove "significant"'
                )
            reason = change.undefined_reason or (
                _too_few(change.support, info.support_unit, report.metrics.min_support) if change.small else None)
            checks.append(_check(bounded, prefix + group.group, change.difference, change.ci_low, change.ci_high,
                                 reason, checkable=not change.small))
    against = f'"{spec.baseline}"' if spec.baseline is not None else (
        f'"{comparisons[0].baseline}"' if len(comparisons) == 1 else "any baseline")
    direction = "drop" if info.higher_is_better else "rise"
    title = f"{info.label} may not {direction} by more than {spec.max_regression:g} against {against} {_scope(spec)}"
    return title, checks, bounded


def _slice_groups(spec: GateSpec, report: Report | ComparisonResult, where: str) -> list:
    slices = {s.name: s for s in report.slices}
    if spec.slice not in slices:
        raise ConfigError(
            f'{where} slice: the report has no slice "{spec.slice}"; '
            f"slices are: {quoted_list(slices, limit=len(slices)) or 'none'}"
        )
    groups = [*slices[spec.slice].groups, *slices[spec.slice].more_groups]  # judged on every group measured
    if spec.group is None:
        return groups
    wanted = str(spec.group)
    labels = [g.group for g in groups]
    if wanted not in labels:
        raise ConfigError(
            f'{where} group: slice "{spec.slice}" has no group "{wanted}"; '
            f"groups are: {quoted_list(labels, limit=20)}{did_you_mean(wanted, labels)}"
        )
    return [g for g in groups if g.group == wanted]


def _fairness_checks(spec: GateSpec, report: Report, where: str) -> tuple[str, list[GateCheck]]:
    assert spec.fairness is not None
    results = [f for f in report.fairness if spec.sensitive in (None, f.sensitive)]
    if not results:
        columns = [f.sensitive for f in report.fairness]
        raise ConfigError(
            f'{where} sensitive: the report has no fairness result for "{spec.sensitive}"; '
            f"sensitive columns are: {quoted_list(columns) or 'none'}"
        )
    names = list(dict.fromkeys(gap.name for f in results for gap in f.gaps))
    if spec.fairness not in names:
        raise ConfigError(
            f'{where} fairness: unknown gap "{spec.fairness}" for a {report.task} task; '
            f"gaps are: {quoted_list(names, limit=len(names))}{did_you_mean(spec.fairness, names)}"
        )
    checks = [
        _check(spec, f.sensitive if gap.class_label is None else f"{f.sensitive} · {gap.class_label}",
               gap.value, gap.ci_low, gap.ci_high, gap.undefined_reason)
        for f in results
        for gap in f.gaps
        if gap.name == spec.fairness
    ]
    label = spec.fairness.replace("_", " ").capitalize()
    scope = f"for {spec.sensitive}" if spec.sensitive is not None else "for every sensitive column"
    return f"{label} {_bounds(spec)} {scope}", checks


def _too_few(support: int, unit: str, min_support: int) -> str:
    """Why a value is not checked: "6 positives, fewer than the minimum support of 30"."""
    return f"{counted_support(support, unit)}, fewer than the minimum support of {min_support:,}"


def _check(
    spec: GateSpec, subject: str, value: float | None, low: float | None, high: float | None, reason: str | None,
    *, checkable: bool = True,
) -> GateCheck:
    """One value against the bounds; a breach is significant when the interval lies wholly beyond it.

    A value that is undefined, or not `checkable` (too few rows: `reason` says so), is not checked.
    """
    if value is None or not checkable:
        return GateCheck(subject, value, low, high, None, None, None, reason or "undefined")
    below = spec.min is not None and value < spec.min
    above = spec.max is not None and value > spec.max
    significant = (below and high is not None and high < spec.min) or (
        above and low is not None and low > spec.max  # type: ignore[operator]
    )
    breached = below or above
    passed = not (significant if spec.significant else breached)
    return GateCheck(subject, value, low, high, breached, bool(significant), passed, None)


def _status(checks: list[GateCheck]) -> str:
    if any(c.passed is False for c in checks):
        return "fail"
    return "pass" if any(c.passed for c in checks) else "undefined"


def _bounds(spec: GateSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"between {spec.min:g} and {spec.max:g}"
    return f"≥ {spec.min:g}" if spec.min is not None else f"≤ {spec.max:g}"


def _detail(spec: GateSpec, checks: list[GateCheck], status: str) -> str:
    """The outcome in one or two sentences: what breached (or the closest value), and what was not checked."""
    unchecked = [c for c in checks if c.passed is None]
    if status == "undefined":
        reasons = "; ".join(f"{c.subject}: {c.undefined_reason}" for c in unchecked[:MAX_LISTED])
        return f"Not checked: no value could be checked ({reasons})."
    checked = [c for c in checks if c.passed is not None]
    if status == "fail":
        failing = [c for c in checked if not c.passed]
        what = "significant breach" if spec.significant else "breach"
        text = f"{len(failing)} {what}{'es' if len(failing) > 1 else ''} of {len(checked)} checked: "
        text += "; ".join(_value(c, spec) for c in failing[:MAX_LISTED])
        if len(failing) > MAX_LISTED:
            text += f"; … and {len(failing) - MAX_LISTED} more"
    else:
        text = f"All {len(checked)} checked within bounds" if len(checked) > 1 else "Within bounds"
        if spec.min is not None or spec.max is not None:
            closest = min(checked, key=lambda c: _margin(spec, c.value))  # type: ignore[arg-type]
            text += f"; closest: {_value(closest, spec)}"
        breached = [c for c in checked if c.breached]
        if breached:
            text += f"; {len(breached)} beyond the bound but not significantly"
    if unchecked:
        reasons = "; ".join(f"{c.subject}: {c.undefined_reason}" for c in unchecked[:MAX_LISTED])
        more = f"; … and {len(unchecked) - MAX_LISTED} more" if len(unchecked) > MAX_LISTED else ""
        text += f". Not checked (undefined, or too few rows): {reasons}{more}"
    return text + "."


def _margin(spec: GateSpec, value: float) -> float:
    """Distance to the nearest bound (negative beyond it)."""
    margins = []
    if spec.min is not None:
        margins.append(value - spec.min)
    if spec.max is not None:
        margins.append(spec.max - value)
    return min(margins)


def _value(check: GateCheck, spec: GateSpec) -> str:
    """The subject, its value and interval; a change from the baseline (`max_regression`) with its sign."""
    assert check.value is not None
    if spec.max_regression is None:
        interval = "" if check.ci_low is None else f" ({num(check.ci_low)}–{num(check.ci_high)})"
        return f"{check.subject} {num(check.value)}{interval}"
    interval = "" if check.ci_low is None else f" ({signed(check.ci_low)} to {signed(check.ci_high)})"
    return f"{check.subject} {signed(check.value)}{interval}"
