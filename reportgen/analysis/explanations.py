"""What drives the predictions: permutation importance of the model `[model] artifact` names, overall and per
group of every sensitive column.

Each feature's importance is scikit-learn's `permutation_importance` on the metric of the task (ROC AUC for a
binary classifier with probabilities, else accuracy; MAE for regression: the drop in the metric, or the rise in
the error, when the feature's values are shuffled), seeded, over a seeded sample of at most `[explanations]
max_rows` rows, `repeats` shuffles a feature; its interval is a t-interval over the shuffles (how much the
shuffling moves it, not how much another sample of rows would). Per sensitive group, the same on the group's rows
of the sample. The model is first checked against the predictions: where it does not reproduce them, what it
explains is another model, and a finding says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from reportgen.analysis.base import Context, Evidence, Finding, Outcome
from reportgen.config import Config
from reportgen.errors import InputError, quoted_list, shown
from reportgen.formatting import num
from reportgen.io import Predictions, class_text
from reportgen.model_artifact import LoadedModel
from reportgen.slices import MISSING, group_label

SECTION = "explanations"
EXPLAIN_STREAM = 2_000_003  # seeds the sample of rows and the shuffles apart from every other random draw
REPRODUCED = 1e-3  # a model reproduces a probability or value this close to the file's (absolute, or relative for
# large values): files often round them (the adult example's to 4 decimals)
METRICS = {  # the metric of the task → what a feature's importance measures, in the card's words
    "roc_auc": "the drop in ROC AUC",
    "accuracy": "the drop in accuracy",
    "mae": "the rise in mean absolute error",
}


@dataclass(frozen=True)
class Importance:
    """One feature's permutation importance: the mean over the shuffles and its t-interval over them."""

    feature: str
    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class GroupImportances:
    """The importances on one group's rows of the sample, for a sensitive column (features in the overall order)."""

    column: str
    group: str
    n: int
    importances: list[Importance]


@dataclass(frozen=True)
class Dependence:
    """How the model's output follows one feature, on one group's rows ("overall": every sampled row): at each grid
    value, the partial dependence (the mean output with the feature set to that value on every row) and the ICE
    curves' quantiles across the rows (`ICE_QUANTILES`: each row's own curve, summarized as a band)."""

    feature: str
    column: str
    group: str
    grid: list[float | str]
    average: list[float]
    ice: list[list[float]]


@dataclass(frozen=True)
class Explanations:
    """What `explain` found.

    Attributes
    ----------
    artifact, loader : str
        The model's file and how it was loaded ("skops", or "pickle" with `[model] allow_pickle`).
    trusted : list of str
        Types beyond skops' own that the file needed and `[model] trusted` allowed.
    metric : str
        "roc_auc", "accuracy" or "mae" (`METRICS`).
    rows, total_rows : int
        The sample's rows and the predictions' rows.
    repeats, seed : int
        Shuffles of each feature, and the `random_state` scikit-learn shuffled them with.
    reproduced : float
        The share of the sample's rows whose prediction the model reproduces (a probability within `REPRODUCED`, a
        value within `REPRODUCED` absolute or relative, or the same class).
    overall : list of Importance
        Every feature, most important first.
    groups : list of GroupImportances
        Per sensitive column, each group of at least `[report] min_support` sampled rows.
    output : str
        What the partial dependence follows: "probability of <positive label>" or "predicted value"; "" without.
    dependence : list of Dependence
        The `[explanations] dependence_features` most important features, overall and per group of every sensitive
        column (binary classifiers with probabilities and regressions).
    notes : list of str
        What the numbers rest on, and what was left out.
    """

    artifact: str
    loader: str
    trusted: list[str]
    metric: str
    rows: int
    total_rows: int
    repeats: int
    seed: int
    reproduced: float
    overall: list[Importance]
    groups: list[GroupImportances]
    output: str
    dependence: list[Dependence]
    notes: list[str]


def run(context: Context) -> Outcome:
    """Explanations of the model `[model] artifact` names; None without one."""
    if context.model is None or not context.config.explanations.enabled:
        return Outcome(None)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # the features run in parallel threads: one thread each inside the model
        found = explain(context.model, context.predictions, context.config)
    return Outcome(found, _findings(found))


def explain(model: LoadedModel, predictions: Predictions, config: Config) -> Explanations:
    """Permutation importance of `model`'s features, overall and per sensitive group (see the module docstring).

    Raises
    ------
    InputError
        If a feature is not a column of the predictions, or the model was fitted on other columns.
    """
    frame, settings = predictions.frame, config.explanations
    missing = [f for f in model.features if f not in frame.columns]
    if missing:
        raise InputError(f"{predictions.source}: no column {quoted_list(missing)} ([model] features); columns are: "
                         f"{quoted_list(frame.columns, limit=12)}")
    fitted = getattr(model.model, "feature_names_in_", None)
    if fitted is not None and [str(f) for f in fitted] != model.features:
        raise InputError(f"{model.source}: the model was fitted on the columns {quoted_list(list(fitted), limit=8)}; "
                         "list them in that order in [model] features")
    rng = np.random.default_rng([config.report.seed, EXPLAIN_STREAM])
    n = len(frame)
    rows = np.sort(rng.choice(n, size=min(settings.max_rows, n), replace=False))
    X = frame[model.features].iloc[rows].reset_index(drop=True)
    metric, scorer, y = _scoring(model, predictions, config.data.label, rows)
    with _predicting(model):
        reproduced = _reproduced(model, predictions, X, rows)
    if metric == "roc_auc" and len(np.unique(y)) < 2:
        raise InputError(f"{predictions.source}: the {len(rows):,} rows explained hold one class only; ROC AUC, the "
                         "metric the importances are measured on, needs both")
    seed = int(np.random.default_rng([config.report.seed, EXPLAIN_STREAM, 1]).integers(2**31 - 1))
    level = config.report.confidence_level
    with _predicting(model):
        overall = sorted(importances(model.model, X, y, scorer, settings.repeats, seed, level),
                         key=lambda i: -i.value)
    order = [i.feature for i in overall]
    groups, notes = [], []
    for column in config.fairness.sensitive:
        labels = _labels(frame[column].iloc[rows])
        left_out = []
        for group in sorted(labels.unique()):
            mine = np.flatnonzero((labels == group).to_numpy())
            if len(mine) < config.report.min_support:
                left_out.append(f"{group}: fewer than {config.report.min_support} sampled rows")
                continue
            if metric == "roc_auc" and len(np.unique(y[mine])) < 2:
                left_out.append(f"{group}: one class only, no ROC AUC")
                continue
            with _predicting(model):
                found = {i.feature: i for i in importances(model.model, X.iloc[mine], y[mine], scorer,
                                                            settings.repeats, seed, level)}
            groups.append(GroupImportances(column, group, len(mine), [found[f] for f in order]))
        if left_out:
            notes.append(f'"{shown(column)}": {len(left_out)} group{"s" if len(left_out) > 1 else ""} left out '
                         f"({'; '.join(shown(g) for g in left_out[:5])}{' …' if len(left_out) > 5 else ''}).")
    if rows.size < n:
        notes.insert(0, f"Permutation importance on a seeded sample of {len(rows):,} of the {n:,} rows "
                        "([explanations] max_rows).")
    output, dependence = "", []
    if predictions.task == "regression" or metric == "roc_auc":
        output = "predicted value" if predictions.task == "regression" else (
            f"probability of {shown(str(predictions.positive_label))}")
        by_group = [("overall", "overall", np.arange(len(rows)))] + [
            (g.column, g.group, np.flatnonzero((_labels(frame[g.column].iloc[rows]) == g.group).to_numpy()))
            for g in groups]
        with _predicting(model):
            dependence = [dependence_of(model, predictions, X.iloc[mine], feature, column, group, settings.grid)
                          for feature in order[:settings.dependence_features] for column, group, mine in by_group]
    elif settings.dependence_features:
        notes.append("No partial dependence: it follows a binary classifier's probability or a regression's value.")
    warning = model.warning
    return Explanations(model.source, model.loader, model.trusted, metric, len(rows), n, settings.repeats, seed,
                        reproduced, overall, groups, output, dependence, ([warning] if warning else []) + notes)


ICE_QUANTILES = (0.1, 0.5, 0.9)  # the ICE curves are summarized by these quantiles across the rows at each value


def dependence_of(model: LoadedModel, predictions: Predictions, X: pd.DataFrame, feature: str, column: str,
                  group: str, grid: int) -> Dependence:
    """scikit-learn's partial dependence and ICE curves of `feature` on the rows `X` (brute force, at most `grid`
    values between the 5th and 95th percentiles; a category feature at each of its values), the ICE curves as
    `ICE_QUANTILES` bands; a binary classifier's output is the positive class's probability."""
    from sklearn.inspection import partial_dependence

    categorical = not pd.api.types.is_numeric_dtype(X[feature]) or pd.api.types.is_bool_dtype(X[feature])
    found = partial_dependence(model.model, X, [feature], kind="both", grid_resolution=grid, method="brute",
                               categorical_features=[feature] if categorical else None)
    average, individual = found["average"][0], found["individual"][0]
    if predictions.task == "binary" and _positive_index(model, predictions) == 0:
        average, individual = 1 - average, 1 - individual  # scikit-learn follows the second class's probability
    values = found["grid_values"][0]
    grid_values = [str(v) for v in values] if categorical else [float(v) for v in values]
    bands = np.quantile(individual, ICE_QUANTILES, axis=0)
    return Dependence(feature, column, group, grid_values, [float(v) for v in average],
                      [[float(v) for v in band] for band in bands])


def _labels(values: pd.Series) -> pd.Series:
    """A sensitive column's values as its groups' labels."""
    return values.reset_index(drop=True).map(lambda v: MISSING if pd.isna(v) else group_label(v))


@contextmanager
def _predicting(model: LoadedModel) -> Iterator[None]:
    """The model's own errors (features of another kind than it was fitted on, ...) as one-line InputErrors."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:  # whatever the user's model raises on these features
        text = str(exc).strip().splitlines()
        raise InputError(f"{model.source}: the model could not predict on [model] features "
                         f"({shown(type(exc).__name__ + (': ' + text[0] if text else ''), 200)})") from None


def importances(model: object, X: pd.DataFrame, y: np.ndarray, scorer: Callable[[object, pd.DataFrame, np.ndarray],
                float], repeats: int, seed: int, level: float) -> list[Importance]:
    """scikit-learn's permutation importance of every column of `X` (in its order), in parallel over the columns,
    each with the t-interval of its `repeats` shuffles at `level`."""
    from joblib import parallel_config
    from sklearn.inspection import permutation_importance

    with parallel_config(backend="threading"):
        found = permutation_importance(model, X, y, scoring=scorer, n_repeats=repeats, random_state=seed,
                                       n_jobs=min(X.shape[1], os.cpu_count() or 1))
    half = stats.t.ppf((1 + level) / 2, repeats - 1) * found.importances_std * np.sqrt(repeats / (repeats - 1)) / (
        np.sqrt(repeats))
    return [Importance(str(column), float(mean), float(mean - h), float(mean + h))
            for column, mean, h in zip(X.columns, found.importances_mean, half, strict=True)]


def _scoring(model: LoadedModel, predictions: Predictions, label: str, rows: np.ndarray
             ) -> tuple[str, Callable[[object, pd.DataFrame, np.ndarray], float], np.ndarray]:
    """The metric of the task, its scorer (higher is better) and the labels it reads, on the sampled `rows`."""
    from sklearn.metrics import accuracy_score, mean_absolute_error, roc_auc_score

    estimator = model.model
    if predictions.task == "regression":
        return "mae", lambda m, X, y: -mean_absolute_error(y, m.predict(X)), predictions.y_true[rows]
    if predictions.task == "binary" and callable(getattr(estimator, "predict_proba", None)):
        positive = _positive_index(model, predictions)
        return ("roc_auc", lambda m, X, y: roc_auc_score(y, m.predict_proba(X)[:, positive]),
                predictions.y_true[rows].astype(np.int64))
    labels = class_text(predictions.frame[label].iloc[rows].reset_index(drop=True))
    return "accuracy", lambda m, X, y: accuracy_score(y, class_text(pd.Series(m.predict(X)))), labels


def _positive_index(model: LoadedModel, predictions: Predictions) -> int:
    """Where the positive label is among the model's classes.

    Raises
    ------
    InputError
        If the model has no such class.
    """
    classes = list(class_text(pd.Series(getattr(model.model, "classes_", []))))
    positive = str(predictions.positive_label)
    if positive not in classes:
        raise InputError(f"{model.source}: the model's classes are {quoted_list(classes, limit=8)}; none is the "
                         f'positive label "{shown(positive)}" of the predictions')
    return classes.index(positive)


def _reproduced(model: LoadedModel, predictions: Predictions, X: pd.DataFrame, rows: np.ndarray) -> float:
    """The share of sampled rows whose prediction in the file the model gives again: a binary classifier's
    probability (or, without probabilities, its class), a regression's value, a multiclass classifier's class."""
    estimator = model.model
    if predictions.task == "binary" and callable(getattr(estimator, "predict_proba", None)):
        given = estimator.predict_proba(X)[:, _positive_index(model, predictions)]
        assert predictions.scores is not None, "a binary task has scores"
        return float(np.mean(np.isclose(given, predictions.scores[rows], rtol=0.0, atol=REPRODUCED)))
    if predictions.task == "regression":
        given = np.asarray(estimator.predict(X), dtype=np.float64)
        return float(np.mean(np.isclose(given, predictions.y_pred[rows], rtol=REPRODUCED, atol=REPRODUCED)))
    given = class_text(pd.Series(estimator.predict(X)))
    if predictions.task == "binary":
        return float(np.mean((given == str(predictions.positive_label)) == (predictions.y_pred[rows] == 1)))
    expected = np.asarray(predictions.classes, dtype=object)[predictions.y_pred[rows]]
    return float(np.mean(given == expected))


def _findings(found: Explanations) -> list[Finding]:
    if found.reproduced >= 1.0:
        return []
    share = 1 - found.reproduced
    return [Finding(
        id="model_mismatch", severity="high",
        title=f'The model "{shown(found.artifact)}" does not give the predictions evaluated on '
              f"{num(100 * share)}% of the sampled rows.",
        detail=f"On {found.rows:,} sampled rows the model's prediction differs from the file's on "
               f"{round(share * found.rows):,}: what this section explains is another model than the one the card "
               "measures (another version, or other inputs). Save the model that made the predictions.",
        section=SECTION, subject=None,
        evidence=[Evidence(slice="explanations", group="reproduced", metric="share", value=found.reproduced,
                           ci_low=None, ci_high=None, n=found.rows)],
    )]
