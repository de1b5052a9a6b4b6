"""What drives the predictions: permutation importance of the model `[model] artifact` names, overall and per
group of every sensitive column, the tests of the groups' differences, and partial dependence.

Each feature's importance is scikit-learn's `permutation_importance` on the metric of the task (ROC AUC for a
binary classifier with probabilities, else accuracy; MAE for regression: the drop in the metric, or the rise in
the error, when the feature's values are shuffled), seeded, over a seeded sample of at most `[explanations]
max_rows` rows, `repeats` shuffles a feature; its interval is a t-interval over the shuffles (how much the
shuffling moves it, not how much another sample of rows would). Per sensitive group, the same shuffles (among all
the sampled rows) measured on the group's rows.

Whether the model leans on a feature more for one group than for another is tested on a loss that adds up over
rows: each row's rise in it when the feature is shuffled, averaged over the shuffles, compared between a group
and its column's reference group by Welch's t-test. The shuffles draw from one pool of rows for every group, so
that the test compares how the groups' rows respond to the same values (shuffling within each group would add the
difference between the groups' own values, which the per-row variances do not see: a test that cries wolf).

The model is first checked against the predictions: where it does not reproduce them, what it explains is another
model, and a finding says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from reportgen.analysis.base import Context, Evidence, Finding, Outcome
from reportgen.analysis.group_differences import (
    GroupDifference,
    family,
    group_differences,
    leaning,
    reference_groups,
)
from reportgen.config import Config
from reportgen.errors import InputError, quoted_list, shown
from reportgen.formatting import num
from reportgen.io import Predictions, class_text
from reportgen.model_artifact import LoadedModel
from reportgen.slices import MISSING, group_label

SECTION = "explanations"
FAMILY = "importance differences"
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
    """The importances on one group's rows of the sample, for a sensitive column (features in the overall order):
    the features shuffled among all the sampled rows, the metric measured on the group's."""

    column: str
    group: str
    n: int
    importances: list[Importance]


@dataclass(frozen=True)
class Dependence:
    """How the model's output follows one feature, on one group's rows ("overall": every sampled row): at each value
    of the feature's one grid (laid on every sampled row), the partial dependence (the mean output with the feature
    set to that value on every row) and the ICE curves' quantiles across the rows (`ICE_QUANTILES`: each row's own
    curve, summarized as a band)."""

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
    loss : str
        The per-row loss the group differences are measured on (`LOSSES`).
    differences : list of GroupDifference
        Every feature, every group against its column's reference group, smallest q first; q by Benjamini–Hochberg
        across them all (the test family "importance differences").
    fdr : float
        The false discovery rate a difference is significant at (`[findings] fdr`).
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
    loss: str
    differences: list[GroupDifference]
    fdr: float
    output: str
    dependence: list[Dependence]
    notes: list[str]


def run(context: Context) -> Outcome:
    """Explanations of the model `[model] artifact` names; None without one."""
    if context.model is None or not context.config.explanations.enabled:
        return Outcome(None)
    found = explain(context.model, context.predictions, context.config, reference_groups(context))
    rise = f"rise in the {LOSSES[found.loss][0]} per row when the feature is shuffled"
    findings = _mismatch(found) + leaning(found.differences, "importance_gap", SECTION, rise,
                                          "Read the partial dependence, and the fairness section for the outcome.")
    return Outcome(found, findings, family(FAMILY, rise, found.differences))


def explain(model: LoadedModel, predictions: Predictions, config: Config,
            references: dict[str, str] | None = None) -> Explanations:
    """Permutation importance of `model`'s features, overall and per sensitive group, and the tests of the groups'
    differences (see the module docstring); each column's reference group from `references` (the fairness
    analysis's), else its largest group in the sample.

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
    scoring, y = _scoring(model, predictions, config.data.label, rows)
    with _predicting(model):
        reproduced = _reproduced(model, predictions, X, rows)
    if scoring.metric == "roc_auc" and len(np.unique(y)) < 2:
        raise InputError(f"{predictions.source}: the {len(rows):,} rows explained hold one class only; ROC AUC, the "
                         "metric the importances are measured on, needs both")
    seed = int(np.random.default_rng([config.report.seed, EXPLAIN_STREAM, 1]).integers(2**31 - 1))
    parts, notes = [("overall", "overall", np.arange(len(rows)))], []
    for column in config.fairness.sensitive:
        labels = _labels(frame[column].iloc[rows])
        left_out = []
        for group in sorted(labels.unique()):
            mine = np.flatnonzero((labels == group).to_numpy())
            if len(mine) < config.report.min_support:
                left_out.append(f"{group}: fewer than {config.report.min_support} sampled rows")
            elif scoring.metric == "roc_auc" and len(np.unique(y[mine])) < 2:
                left_out.append(f"{group}: one class only, no ROC AUC")
            else:
                parts.append((column, group, mine))
        if left_out:
            notes.append(f'"{shown(column)}": {len(left_out)} group{"s" if len(left_out) > 1 else ""} left out '
                         f"({'; '.join(shown(g) for g in left_out[:5])}{' …' if len(left_out) > 5 else ''}).")
    with _predicting(model):
        found, rises = importances(X, y, scoring, [mine for *_, mine in parts], settings.repeats, seed,
                                   config.report.confidence_level)
    overall = sorted(found[0], key=lambda i: -i.value)
    order = [i.feature for i in overall]
    groups = [GroupImportances(column, group, len(mine), sorted(part, key=lambda i: order.index(i.feature)))
              for (column, group, mine), part in zip(parts[1:], found[1:], strict=True)]
    differences, untested = group_differences(list(X.columns), [(column, group, rises[:, mine])
                                                                for column, group, mine in parts[1:]],
                                              references or {}, config)
    notes += untested
    output, dependence = "", []
    if predictions.task == "regression" or scoring.metric == "roc_auc":
        output = "predicted value" if predictions.task == "regression" else (
            f"probability of {shown(str(predictions.positive_label))}")
        with _predicting(model):
            dependence = [curve for feature in order[:settings.dependence_features]
                          for curve in dependence_of(scoring, X, feature, parts, settings.grid)]
    elif settings.dependence_features:
        notes.append("No partial dependence: it follows a binary classifier's probability or a regression's value.")
    return Explanations(model.source, model.loader, model.trusted, scoring.metric, len(rows), n, settings.repeats, seed,
                        reproduced, overall, groups, scoring.loss, differences, config.findings.fdr, output, dependence,
                        model.warnings + notes)


PERCENTILES = (0.05, 0.95)  # the grid of a number lies between these quantiles of the rows (scikit-learn's);
# where they coincide, between the least and the greatest value
ICE_QUANTILES = (0.1, 0.5, 0.9)  # the ICE curves are summarized by these quantiles across the rows at each value


def dependence_of(scoring: Scoring, X: pd.DataFrame, feature: str, groups: list[tuple[str, str, np.ndarray]],
                  grid: int) -> list[Dependence]:
    """The ICE curves of `feature` on the rows `X` — each row's output (`Scoring.respond`: a binary classifier's
    positive-class probability, a regression's value) with the feature set to each value of its grid (`grid_of`),
    every copy predicted in one call — then for each (column, group, rows of `X`) of `groups` the partial dependence
    (the mean of the group's curves) and the `ICE_QUANTILES` bands, on the one grid: scikit-learn's brute-force
    `partial_dependence` on that grid."""
    values = grid_of(X[feature], grid)
    copies = X.iloc[np.tile(np.arange(len(X)), len(values))].reset_index(drop=True)
    copies[feature] = np.repeat(values, len(X))  # a number as floats: an integer feature's grid lies between them
    individual = _respond(scoring, copies).reshape(len(values), len(X)).T
    shown_values = [str(v) for v in values] if values.dtype == object else [float(v) for v in values]
    return [Dependence(feature, column, group, shown_values, [float(v) for v in individual[mine].mean(axis=0)],
                       [[float(v) for v in band] for band in np.quantile(individual[mine], ICE_QUANTILES, axis=0)])
            for column, group, mine in groups]


def grid_of(values: pd.Series, size: int) -> np.ndarray:
    """The values a feature's partial dependence is computed at, as scikit-learn lays them: a category feature
    (text, booleans) at each value the rows hold (objects, sorted), a number at each of its values when fewer than
    `size`, else at `size` evenly spaced between its `PERCENTILES` (scikit-learn's quantiles) — between its least
    and greatest where those coincide (capital gains, 0 on over 95% of rows), which scikit-learn refuses. A
    missing value is never on the grid."""
    from scipy.stats.mstats import mquantiles

    present = values.dropna()
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.array(sorted(present.unique(), key=lambda v: (str(type(v)), v)), dtype=object)
    numbers = present.to_numpy(dtype=np.float64)
    uniques = np.unique(numbers)
    if uniques.size < size:
        return uniques
    low, high = mquantiles(numbers, prob=PERCENTILES)
    if np.allclose(low, high):
        low, high = numbers.min(), numbers.max()
    return np.linspace(low, high, num=size, endpoint=True)


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


@dataclass(frozen=True)
class Scoring:
    """The metric of the task: the model's output on rows, and the score of that output (higher is better)."""

    metric: str
    respond: Callable[[pd.DataFrame], np.ndarray]
    score: Callable[[np.ndarray, np.ndarray], float]
    loss: str  # the per-row loss group differences are tested on (`LOSSES`), which adds up where `score` may not


LOSSES = {  # a per-row loss → (its words in the card, the loss of each row's output)
    "squared_error": ("squared error of the probability", lambda y, output: (y - output) ** 2),
    "misclassification": ("misclassification", lambda y, output: (y != output).astype(np.float64)),
    "absolute_error": ("absolute error", lambda y, output: np.abs(y - output)),
}


BATCH_ROWS = 200_000  # the shuffled copies of a feature are predicted at once, this many rows at a time


def importances(X: pd.DataFrame, y: np.ndarray, scoring: Scoring, parts: list[np.ndarray], repeats: int, seed: int,
                level: float) -> tuple[list[list[Importance]], np.ndarray]:
    """Permutation importance of every column of `X` (in its order), its values shuffled among all the rows of `X`,
    measured on each part of the rows, each with the t-interval of its `repeats` shuffles at `level`; and each
    row's rise in the per-row loss (`Scoring.loss`) when a column is shuffled, averaged over the shuffles
    (columns × rows).

    The shuffles are scikit-learn's `permutation_importance(model, X, y, n_repeats=repeats, random_state=seed)`'s,
    replayed (`shuffles`): on a part, the numbers are that function's with a scorer that reads the part's rows only
    (on all rows, its own numbers). A feature's shuffled copies are predicted in one call, which spares the model's
    per-call cost (a pipeline's, most of all).
    """
    output = _respond(scoring, X)
    order = shuffles(len(X), repeats, seed)
    loss = LOSSES[scoring.loss][1]
    scores = np.empty((len(parts), X.shape[1], repeats))
    rises = np.zeros((X.shape[1], len(X)))
    unshuffled = loss(y, output)
    for j, column in enumerate(X.columns):
        copies = X.iloc[np.tile(np.arange(len(X)), repeats)].reset_index(drop=True)
        copies[column] = X[column].iloc[order.ravel()].reset_index(drop=True)
        permuted = _respond(scoring, copies).reshape(repeats, len(X)) if len(X) else np.empty((repeats, 0))
        varies = X[column].nunique(dropna=False) > 1  # else shuffling changes no row: exactly no rise
        for r in range(repeats):
            for k, part in enumerate(parts):
                scores[k, j, r] = scoring.score(y[part], permuted[r, part])
            if varies:
                rises[j] += (loss(y, permuted[r]) - unshuffled) / repeats
    t = stats.t.ppf((1 + level) / 2, repeats - 1)
    found = []
    for k, part in enumerate(parts):
        drops = scoring.score(y[part], output[part]) - scores[k]
        means, half = drops.mean(axis=1), t * drops.std(axis=1, ddof=1) / np.sqrt(repeats)
        found.append([Importance(str(column), float(m), float(m - h), float(m + h))
                      for column, m, h in zip(X.columns, means, half, strict=True)])
    return found, rises


def shuffles(size: int, repeats: int, seed: int) -> np.ndarray:
    """The row orders scikit-learn's `permutation_importance(random_state=seed)` gives a column in each of its
    `repeats` shuffles (`repeats` × `size`): each repeat shuffles the previous repeat's column again."""
    state = np.random.RandomState(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))
    index, order, found = np.arange(size), np.arange(size), []
    for _ in range(repeats):
        state.shuffle(index)
        order = order[index]
        found.append(order)
    return np.array(found, dtype=np.int64).reshape(repeats, size)


def _respond(scoring: Scoring, X: pd.DataFrame) -> np.ndarray:
    """The model's output on the rows of `X`, `BATCH_ROWS` at a time."""
    if len(X) <= BATCH_ROWS:
        return scoring.respond(X)
    return np.concatenate([scoring.respond(X.iloc[start:start + BATCH_ROWS])
                           for start in range(0, len(X), BATCH_ROWS)])


def _scoring(model: LoadedModel, predictions: Predictions, label: str, rows: np.ndarray) -> tuple[Scoring, np.ndarray]:
    """The metric of the task and the labels it reads, on the sampled `rows`."""
    from sklearn.metrics import accuracy_score, mean_absolute_error

    estimator = model.model
    if predictions.task == "regression":
        return Scoring("mae", lambda X: np.asarray(estimator.predict(X), dtype=np.float64),
                       lambda y, output: -mean_absolute_error(y, output), "absolute_error"), predictions.y_true[rows]
    if predictions.task == "binary" and callable(getattr(estimator, "predict_proba", None)):
        positive = _positive_index(model, predictions)
        return (Scoring("roc_auc", lambda X: estimator.predict_proba(X)[:, positive], rank_auc,
                        "squared_error"), predictions.y_true[rows].astype(np.int64))
    labels = class_text(predictions.frame[label].iloc[rows].reset_index(drop=True))
    return Scoring("accuracy", lambda X: class_text(pd.Series(estimator.predict(X))), accuracy_score,
                   "misclassification"), labels


def rank_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC of the 0/1 labels `y` from `scores` by the rank sum (Mann–Whitney, ties at their mean rank):
    scikit-learn's `roc_auc_score` without its per-call checks, which the shuffles would pay hundreds of times."""
    positives = y == 1
    n_positive = int(np.count_nonzero(positives))
    n_negative = len(y) - n_positive
    ranks = stats.rankdata(scores)
    return float((ranks[positives].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative))


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


def _mismatch(found: Explanations) -> list[Finding]:
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
