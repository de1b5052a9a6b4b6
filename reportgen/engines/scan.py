"""Measure predictions where they lie: an SQL engine's statistics, turned into the evaluation's `Measured`.

The inputs are checked as `reportgen.io.check_predictions` checks them, from counts and distinct values the
engine returns; slice families are formed as `reportgen.slices` forms them; every statistic is the one the
numpy engine computes (`reportgen.engines.aggregates`); metrics, intervals and chart data then come from the
shared code (`reportgen.metrics.measure.tabulate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from reportgen.config import Config, DataSection
from reportgen.engines import aggregates, error_counts, families, multiclass_sql, paired_sql
from reportgen.engines.connection import Connection, Over, is_infinite
from reportgen.engines.paired_sql import BaselineInput
from reportgen.engines.run import EngineRun, Stages
from reportgen.errors import InputError, plain_list, shown
from reportgen.expression_sql import kind_of_sql_type
from reportgen.io import MAX_MAGNITUDE, Predictions, binary_values, checked_task, probability_columns
from reportgen.metrics import binary, calibration, multiclass, regression, tasks
from reportgen.metrics.measure import Curves, Measured, Spread, reliability_diagrams, tabulate
from reportgen.metrics.paired import MeasuredBaseline, shared_metrics
from reportgen.metrics.tasks import Statistics
from reportgen.slices import ShownGroups, shown_groups

MAX_LISTED = 1000  # distinct labels or predictions fetched to check a binary task's values


@dataclass(frozen=True)
class Scanned:
    """The relation an SQL engine measured, still open, for the analyses that query it (the error analysis).

    Attributes
    ----------
    connection : Connection
        The engine over the predictions.
    outputs : Outputs
        The model's outputs as SQL over it.
    coded : list of Coded
        Every slice family measured with its SQL code: the whole set first, then the configured ones, in
        `Measured.families`' order.
    has_probabilities : bool
        Whether the outputs hold class probabilities (a binary task's score; a multiclass task's probability
        columns).
    current : str
        The relation of every current row: `connection.relation` holds those with a label, `unlabelled` (a relation;
        None when every row has one) those without, with `[monitoring]` (`labelled`).
    """

    connection: Connection
    outputs: aggregates.Outputs
    coded: list[families.Coded]
    has_probabilities: bool
    current: str
    unlabelled: str | None = None
    _profiled: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    def profiles(self, columns: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Per column of the predictions: its distinct present values and its missing values
        (`reportgen.engines.error_counts.profiles`), each column counted once for every analysis that asks."""
        wanted = [c for c in dict.fromkeys(columns) if c not in self._profiled]
        if wanted:
            self._profiled.update(error_counts.profiles(self.connection, wanted))
        return {c: self._profiled[c] for c in columns}

    def view(self, purpose: str) -> str:
        """The name of a view of the connection's for `purpose` (one word), unique to this input."""
        return f"{self.connection.relation}_{purpose}"


def measure_sql(
    connection: Connection, config: Config, *, source: str, fingerprint: str, engine: str, version: str,
    notes: list[str], progress: Callable[[str], None] = lambda message: None, baselines: Sequence[BaselineInput] = (),
) -> tuple[Predictions, Measured, EngineRun, list[MeasuredBaseline], Scanned]:
    """Check the predictions and measure every metric of every group with an SQL engine; and each baseline's
    statistics with the paired ones the comparison reads.

    Returns
    -------
    predictions : Predictions
        The checked input's description: its columns (no rows), task, source, fingerprint and classes;
        its per-row arrays are empty.
    measured : Measured
        As `reportgen.metrics.measure.measure` gives for the same rows.
    run : EngineRun
        The engine, its version, the rows scanned and each stage's time.
    measured_baselines : list of MeasuredBaseline
        Each baseline, in `baselines`' order (`reportgen.engines.paired_sql`).
    scanned : Scanned
        What the analyses that query the predictions need, while `connection` is open.

    Raises
    ------
    InputError, ConfigError
        As `check_predictions` and `build_slices` on the same input.
    """
    stages = Stages(engine, progress)
    current, unlabelled = connection.relation, None
    with stages.stage("checking the columns"):
        types = connection.column_types()
        if config.monitoring.enabled:
            connection, unlabelled = labelled(connection, types, config.data.label, source)
        rows, task, outputs, predictions = checked_outputs(connection, config, types, source, fingerprint)
        if unlabelled is not None:
            _check_unlabelled(Over(connection, unlabelled), config.data, outputs, types, source)
    progress(f"{engine}: {rows:,} rows")
    with stages.stage("forming the slices"):
        coded = [families.overall(), *families.families(connection, config.all_slices, source)]
    with stages.stage("counting the groups"):
        capped = _shown(coded, aggregates.group_counts(connection, outputs, coded), config.report.max_groups_shown)
        others = [families.other_family(coded[index], s.groups) for index, s in capped.items()]
    settings = config.report
    engine_task = task_engine(task, connection, outputs, settings.calibration_bins)
    with stages.stage(f"statistics of {len(coded) + len(others)} slice families"):
        if task == "binary":
            computed, chart = aggregates.binary_statistics(connection, outputs, coded + others, engine_task.calibration)
        else:
            computed = statistics(task, connection, outputs, coded + others, engine_task)
            chart = {}  # a multiclass task's only chart is its reliability diagram, added below
    stats = {c.family.name: s for c, s in zip(coded, computed, strict=False)}
    with stages.stage("chart data"):
        found_curves = Curves(**(chart if task != "regression" else aggregates.regression_curves(connection, outputs)))
    family_list = [c.family for c in coded]
    reliability = reliability_diagrams(engine_task, family_list, stats, settings.confidence_level)
    if reliability:
        found_curves = replace(found_curves, reliability=reliability[coded[0].family.name][0])
    measured_others = {coded[index].family.name: (s, of_other)
                       for (index, s), of_other in zip(capped.items(), computed[len(coded):], strict=True)}
    output_spread = _spread(task, connection, outputs, stats[coded[0].family.name].task)
    with stages.stage("metrics and intervals"):
        measured = tabulate(task, predictions.classes, family_list, stats, measured_others, engine_task,
                            found_curves, reliability, output_spread, settings)
    found_baselines = []
    for baseline in baselines:
        with stages.stage(f"the baseline {shown(baseline.spec.name)}"):
            found_baselines.append(_measure_baseline(connection, config, baseline, task, outputs, coded,
                                                     [stats[c.family.name] for c in coded], engine_task, source))
    has_probabilities = task == "binary" or (isinstance(outputs, multiclass_sql.ClassOutputs)
                                             and outputs.probabilities is not None)
    return (predictions, measured, EngineRun(engine, version, rows, stages.done, notes), found_baselines,
            Scanned(connection, outputs, coded, has_probabilities, current, unlabelled))


def labelled(connection: Connection, types: dict[str, str], label: str, source: str) -> tuple[Connection, str | None]:
    """The rows with a label (the connection itself, or a view of it), and apart those without one (a view; None
    when every row has a label), as `reportgen.io.split_unlabelled` splits them.

    Raises
    ------
    InputError
        If no row has a label.
    """
    if label not in types:
        return connection, None  # checked_outputs says what is missing
    relation = connection.relation
    missing = families.missing_sql(connection.dialect.quote(label), types[label])
    found = connection.frame(f"SELECT COUNT(*) AS n, SUM(CASE WHEN {missing} THEN 1 ELSE 0 END) AS missing "
                             f"FROM {relation}").iloc[0]
    if not int(found["missing"] or 0):
        return connection, None
    if int(found["missing"]) == int(found["n"]):
        raise InputError(f'{source}: column "{shown(label)}" ([data] label): no row has a label; the card measures '
                         "the labelled rows and estimates the rest, so at least some must have arrived")
    connection.view(f"{relation}_labelled", f"SELECT * FROM {relation} WHERE NOT {missing}")
    connection.view(f"{relation}_unlabelled", f"SELECT * FROM {relation} WHERE {missing}")
    return Over(connection, f"{relation}_labelled"), f"{relation}_unlabelled"


def _check_unlabelled(connection: Connection, data: DataSection, outputs: aggregates.Outputs, types: dict[str, str],
                      source: str) -> None:
    """Check the model's probabilities on rows without a label as `reportgen.io.check_unlabelled` does (the labelled
    rows' `outputs` checked before)."""
    if isinstance(outputs, multiclass_sql.ClassOutputs):
        columns = probability_columns(pd.DataFrame(columns=list(types)), data, source)
        if outputs.probabilities is not None and columns is not None:
            multiclass_sql.checked_probabilities(connection, [columns[c] for c in outputs.classes], types,
                                                 data.normalize, source)
    elif outputs.score is not None:
        assert data.score is not None, "a binary task's score is its column"
        _checked_score(connection, data.score, source)


def _measure_baseline(
    connection: Connection, config: Config, baseline: BaselineInput, task: str, outputs: aggregates.Outputs,
    coded: list[families.Coded], stats: list[Statistics], engine_task: tasks.Engine, source: str,
) -> MeasuredBaseline:
    """A baseline's statistics of every family and the paired ones, over its rows joined to the candidate's."""
    spec = baseline.spec
    joined = paired_sql.join_baseline(connection, baseline, config.data, task, source)
    over = joined.connection
    try:
        _, _, theirs, _ = checked_outputs(over, config.model_copy(update={"data": joined.section}), over.column_types(),
                                   spec.path, baseline.fingerprint)
        if task == "multiclass":
            assert isinstance(outputs, multiclass_sql.ClassOutputs) and isinstance(theirs, multiclass_sql.ClassOutputs)
            theirs = multiclass_sql.on_classes(theirs, outputs.classes, outputs, spec.path)
    except InputError as exc:
        raise InputError(joined.in_baseline_terms(str(exc))) from None
    their_task = task_engine(task, over, theirs, config.report.calibration_bins)
    their_stats = statistics(task, over, theirs, coded, their_task)
    metrics = shared_metrics(engine_task.metrics, their_task.metrics)
    pairs = paired_sql.paired_statistics(over, task, outputs, theirs, coded, stats, their_stats, metrics)
    names = [c.family.name for c in coded]
    return MeasuredBaseline(
        name=spec.name, source=spec.path, fingerprint=baseline.fingerprint, join=f'on column "{shown(spec.id)}"',
        unmatched=joined.unmatched, metrics=their_task.metrics, statistics=dict(zip(names, their_stats, strict=True)),
        paired=dict(zip(names, pairs, strict=True)))


def _shown(coded: list[families.Coded], counts: list[np.ndarray], max_shown: int) -> dict[int, ShownGroups]:
    """By family index, the groups the card shows of each family of more than `max_shown` groups."""
    shown = {}
    for index, (c, n) in enumerate(zip(coded, counts, strict=True)):
        found = shown_groups(c.family, max_shown, counts=n)
        if found is not None:
            shown[index] = found
    return shown


def _spread(task: str, connection: Connection, outputs: aggregates.Outputs, overall: object) -> Spread:
    """How much the model's output varies, from the whole set's statistics (`overall`) and a scan."""
    if task == "multiclass":
        assert isinstance(outputs, multiclass_sql.ClassOutputs)
        return multiclass_sql.spread(connection, outputs, overall.confusion)
    predicted = None
    if task == "binary":
        c = overall.confusion
        predicted = np.array([int(c.tn[0] + c.fn[0]), int(c.tp[0] + c.fp[0])], dtype=np.int64)
    return aggregates.spread(connection, outputs, task, predicted)


def statistics(task: str, connection: Connection, outputs: aggregates.Outputs, coded: Sequence[families.Coded],
               engine: tasks.Engine) -> list[Statistics]:
    """Each family's statistics of the model's `outputs` (no chart data), on the calibration bins of `engine`."""
    if task == "binary":
        return aggregates.binary_statistics(connection, outputs, list(coded), engine.calibration, chart=False)[0]
    if task == "multiclass":
        assert isinstance(outputs, multiclass_sql.ClassOutputs)
        return multiclass_sql.multiclass_statistics(connection, outputs, list(coded), engine.calibration)
    return aggregates.regression_statistics(connection, outputs, list(coded))


def task_engine(task: str, connection: Connection, outputs: aggregates.Outputs, n_bins: int) -> tasks.Engine:
    """The task's metrics, and the calibration bins' edges (of these outputs' scores), without per-row arrays."""
    if task == "binary":
        bins = aggregates.calibration_rows(connection, outputs, n_bins)
        return tasks.Engine(task, None, bins, binary.METRICS + calibration.METRICS, ())
    if task == "multiclass":
        assert isinstance(outputs, multiclass_sql.ClassOutputs)
        has_probabilities = outputs.probabilities is not None
        metrics = multiclass.registry(len(outputs.classes), outputs.top_k, has_probabilities)
        bins = aggregates.calibration_rows(connection, outputs, n_bins) if has_probabilities else None
        return tasks.Engine(task, None, bins, metrics + (calibration.METRICS if has_probabilities else ()),
                            multiclass.class_metrics(has_probabilities))
    return tasks.Engine(task, None, None, regression.METRICS, ())


def checked_outputs(
    connection: Connection, config: Config, types: dict[str, str], source: str, fingerprint: str
) -> tuple[int, str, aggregates.Outputs, Predictions]:
    """The row count, the task, the outputs as SQL and the predictions' description of the connection's relation,
    after the checks `check_predictions` makes (the predictions', a baseline's, the monitoring reference's)."""
    data = config.data
    for key in ("label", "score", "prediction"):
        column = getattr(data, key)
        if column is not None and column not in types:
            raise InputError(f'{source}: no column "{shown(column)}" ([data] {key}); columns are: '
                             f"{plain_list(list(types), limit=12)}")
    relation, quote = connection.relation, connection.dialect.quote
    label = quote(data.label)
    rows = int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation}")["n"].iloc[0])
    if rows == 0:
        raise InputError(f"{source}: no rows; the predictions are empty")
    missing = int(connection.frame(f"SELECT COUNT(*) AS n FROM {relation} WHERE "
                                   f"{families.missing_sql(label, types[data.label])}")["n"].iloc[0])
    if missing:
        raise InputError(f'{source}: column "{shown(data.label)}": {missing:,} missing values; fill or drop them')
    task = checked_task(_label_sample(connection, data.label, types[data.label]), data, config.model.task, source)
    description = Predictions(frame=pd.DataFrame(columns=list(types)), task=task, y_true=np.zeros(0, dtype=np.int8),
                              y_pred=np.zeros(0, dtype=np.int8), scores=None, source=source, fingerprint=fingerprint)
    if task == "regression":
        assert data.prediction is not None, "DataSection.check_task requires a prediction column for regression"
        for column, what in ((data.label, "targets"), (data.prediction, "predicted values")):
            _finite(connection, column, types[column], what, source)
        outputs = aggregates.Outputs(f"CAST({label} AS DOUBLE)", f"CAST({quote(data.prediction)} AS DOUBLE)", None,
                                     [], [])
        return rows, task, outputs, description
    if task == "multiclass":
        found = multiclass_sql.class_outputs(connection, data, types, source)
        no_rows = np.zeros(0, dtype=np.intp)
        return rows, task, found, replace(description, y_true=no_rows, y_pred=no_rows, classes=found.classes,
                                          top_k=found.top_k)
    assert data.score is not None, "DataSection.check_task requires a score column for binary tasks"
    score = quote(data.score)
    if kind_of_sql_type(types[data.score]) != "number":
        raise InputError(f'{source}: column "{shown(data.score)}" holds {shown(types[data.score])} values; scores must '
                         "be probabilities")
    _checked_score(connection, data.score, source)
    predicted = None
    if data.prediction is not None:
        found = connection.frame(f"SELECT {quote(data.prediction)} AS v, COUNT(*) AS n FROM {relation} GROUP BY 1 "
                                 f"LIMIT {MAX_LISTED + 1}")
        missing = int(found.loc[found["v"].isna(), "n"].sum())
        if missing:
            raise InputError(f'{source}: column "{shown(data.prediction)}": {missing:,} missing values; fill or drop '
                             "them")
        predicted = pd.Series(found["v"].tolist(), dtype=object)
    labels = connection.frame(f"SELECT {label} AS v FROM {relation} GROUP BY 1 LIMIT {MAX_LISTED + 1}")
    if len(labels) > MAX_LISTED:  # not listed: the numpy engine's message would list them all
        raise InputError(f'{source}: column "{shown(data.label)}": labels must be binary, found more than '
                         f'{MAX_LISTED:,} values; for a numeric target set [model] task = "regression"')
    distinct = pd.Series(labels["v"].tolist(), dtype=object)
    positive, label_positives, prediction_positives = binary_values(distinct, predicted, data, source)
    y_true, y_true_params = _one_of(label, label_positives)
    if data.prediction is None:
        y_pred, y_pred_params = f"CASE WHEN CAST({score} AS DOUBLE) >= ? THEN 1 ELSE 0 END", [float(data.threshold)]
    else:
        y_pred, y_pred_params = _one_of(quote(data.prediction), prediction_positives)
    outputs = aggregates.Outputs(y_true, y_pred, f"CAST({score} AS DOUBLE)", y_true_params, y_pred_params)
    return rows, task, outputs, replace(description, positive_label=positive)


def _checked_score(connection: Connection, column: str, source: str) -> None:
    """A binary task's scores: none missing, NaN or infinite, all in [0, 1]."""
    score = connection.dialect.quote(column)
    number = f"CAST({score} AS DOUBLE)"
    bad = connection.frame(
        f"SELECT SUM(CASE WHEN {score} IS NULL OR isnan({number}) OR {is_infinite(number)} THEN 1 ELSE 0 END) "
        f"AS not_finite, SUM(CASE WHEN {score} < 0 OR {score} > 1 THEN 1 ELSE 0 END) AS outside "
        f"FROM {connection.relation}").iloc[0]
    not_finite, outside = int(bad["not_finite"] or 0), int(bad["outside"] or 0)
    if not_finite:
        raise InputError(f'{source}: column "{shown(column)}": {not_finite:,} missing, NaN or infinite '
                         f"value{'s' if not_finite > 1 else ''} among the scores")
    if outside:
        raise InputError(f'{source}: column "{shown(column)}": {outside:,} value{"s" if outside > 1 else ""} outside '
                         "[0, 1]; scores must be probabilities of the positive class")


def _label_sample(connection: Connection, column: str, sql_type: str) -> pd.Series:
    """Label values that decide the task as `infer_task` infers it: a number that is not whole, if there is one;
    else a few distinct labels."""
    quoted = connection.dialect.quote(column)
    if kind_of_sql_type(sql_type) == "number":
        number = f"CAST({quoted} AS DOUBLE)"
        found = connection.frame(f"SELECT {number} AS v FROM {connection.relation} WHERE {is_infinite(number)} OR "
                                 f"{number} <> FLOOR({number}) LIMIT 1")
        if len(found):
            return pd.Series(found["v"].tolist(), dtype=np.float64)
    found = connection.frame(f"SELECT {quoted} AS v FROM {connection.relation} GROUP BY 1 LIMIT 3")
    return pd.Series(found["v"].tolist(), dtype=bool if kind_of_sql_type(sql_type) == "bool" else object)


def _one_of(column: str, values: list[object]) -> tuple[str, list[object]]:
    """SQL giving 1 where the column holds one of `values`, else 0."""
    if not values:
        return "0", []
    listed = ", ".join("?" for _ in values)
    return f"CASE WHEN {column} IN ({listed}) THEN 1 ELSE 0 END", [families.plain(v) for v in values]


def _finite(connection: Connection, column: str, sql_type: str, what: str, source: str) -> None:
    """Regression targets and predictions: numbers, present, finite and below `MAX_MAGNITUDE`."""
    if kind_of_sql_type(sql_type) != "number":
        raise InputError(f'{source}: column "{shown(column)}" holds {shown(sql_type)} values; regression {what} must '
                         'be numbers (for class labels set [model] task = "multiclass")')
    quoted = connection.dialect.quote(column)
    number = f"CAST({quoted} AS DOUBLE)"
    bad = connection.frame(
        f"SELECT SUM(CASE WHEN {quoted} IS NULL OR isnan({number}) THEN 1 ELSE 0 END) AS missing, "
        f"SUM(CASE WHEN {is_infinite(number)} THEN 1 ELSE 0 END) AS infinite, "
        f"SUM(CASE WHEN ABS({number}) > ? AND NOT {is_infinite(number)} THEN 1 ELSE 0 END) AS huge FROM {connection.relation}",
        [MAX_MAGNITUDE])
    for name, message in (("missing", "missing values; fill or drop them"), ("infinite", "infinite values"),
                          ("huge", f"values beyond ±{MAX_MAGNITUDE:.0e}, whose squares overflow; rescale the column "
                                   "(e.g. to thousands)")):
        count = int(bad[name].iloc[0] or 0)
        if count:
            raise InputError(f'{source}: column "{shown(column)}": {count:,} {message}')
