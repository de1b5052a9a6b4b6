"""Sanity checks on the inputs: what makes the card's numbers meaningless or misleading, said as findings.

`sanity_checks` looks at the predictions before any metric is read:

- leakage: the model's output separates the labels (almost) perfectly, or a metadata column does;
- copies of the model's output: a metadata column or a baseline's output identical to it, and
  undeclared columns that look like model outputs (the error analysis leaves them out);
- duplicated rows, which count the same evidence more than once;
- a label of nearly one class, about whose rare class the evaluation can say little.

A constant output is the `constant_predictions` rule of `reportgen.analysis.findings`. Every column
is ranked once (its ROC AUC for each class against the rest is a Mann–Whitney rank sum; a regression
target is compared by Spearman's rank correlation), so the checks cost a sort per column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reportgen.analysis.base import Context, Evidence, Finding, Outcome
from reportgen.baseline import Baseline
from reportgen.config import Config
from reportgen.formatting import count, num, pct
from reportgen.io import ColumnCodes, Predictions
from reportgen.labels import display_label
from reportgen.metrics.statistics import Rows
from reportgen.vocabulary import OVERALL

# The model's output, too good to be true, or the label itself:
OUTPUT_AUC = 0.999  # binary: ROC AUC of the score at or above this (or at or below 1 − this: inverted)
CONFIDENT = 0.99  # multiclass: every top-label prediction right, with a mean top-label probability at or above this
OUTPUT_R2 = 0.999  # regression: R² of the predictions at or above this
MIN_OUTPUT_ROWS = 30  # ... read where two classes have this many rows each (regression: rows): a good model may well
# be perfect on fewer (a score column that is the label, exactly 0 and 1, counts whatever the size)
# A metadata column that separates the label:
COLUMN_AUC = 0.99  # a numeric column's ROC AUC for a class against the rest at or above this, or at or below 1 − this
MIN_CLASS_ROWS = 10  # ... read only where the class and the rest each have this many rows with a value: a column
# unrelated to the label then reaches it with a probability of about 2e-5 (10 rows against 10; far less with more)
COLUMN_ACCURACY = 0.99  # a categorical column: predicting each value's most common class is right this often ...
ERROR_REDUCTION = 0.9  # ... and makes this share fewer errors than predicting the most common class everywhere
MIN_ROWS_PER_VALUE = 10  # a categorical column with fewer rows per distinct value is identifier-like: not checked
COLUMN_CORRELATION = 0.999  # regression: |Spearman's rank correlation| of a numeric column with the target ...
MIN_CORRELATION_ROWS = 10  # ... over at least this many rows with a value (by chance: at most 2 / 10! ≈ 6e-7)
MAX_LISTED = 5  # columns named in a finding's detail
# The rows and labels:
DUPLICATE_SHARE = 0.01  # exact duplicate rows above this share of the rows (low: distinct cases may agree on
MANY_DUPLICATES = 0.05  # every column of a file with few columns), above this share medium
ONE_CLASS_SHARE = 0.99  # one class holding this share of the labels or more

# Names of model outputs: a column whose name holds one of these words (split at "_", "-", spaces and
# camelCase), or is one of the names below, looks like a model output.
OUTPUT_WORDS = frozenset({
    "pred", "preds", "predicted", "prediction", "predictions", "yhat", "prob", "probs", "proba", "probas",
    "probability", "probabilities", "logit", "logits",
})
OUTPUT_NAMES = frozenset({"score", "scores", "y_score", "y_hat", "model_score", "model_output", "output", "outputs"})


@dataclass(frozen=True)
class OutputCheck:
    """How well the model's output separates the labels.

    Attributes
    ----------
    statistic : str
        "roc_auc" (binary: the score's), "accuracy" (multiclass: the top-label predictions') or "r2"
        (regression).
    value : float or None
        Its value; None where undefined (one class, a constant target).
    confidence : float or None
        Multiclass: the mean top-label probability, where there are probabilities.
    equals_label : str or None
        The declared output column that holds the label itself, if one does.
    leaks : bool
        Whether the output separates the labels too well to be true.
    """

    statistic: str
    value: float | None
    confidence: float | None
    equals_label: str | None
    leaks: bool


@dataclass(frozen=True)
class ColumnCheck:
    """One comparison of a metadata column with the label.

    Attributes
    ----------
    column : str
    statistic : str
        "roc_auc" (a numeric column against a class; the class furthest from 0.5 is kept),
        "majority_accuracy" (a column with `MIN_ROWS_PER_VALUE` rows per value or more: each value predicts
        its most common class) or "spearman" (regression: rank correlation with the target).
    value : float
        The statistic's value.
    class_label : str or None
        Multiclass: the class of a "roc_auc" against the rest (binary: None, the positive class).
    error_reduction : float or None
        "majority_accuracy": the share of the errors of predicting the most common class everywhere
        that the column's values remove.
    rows : int
        Rows with a value.
    separates : str or None
        "label" where the column separates the label (almost) perfectly (leakage), "class" where it separates
        one class of a multiclass label from the others (a strong feature may do that), else None.
    """

    column: str
    statistic: str
    value: float
    class_label: str | None
    error_reduction: float | None
    rows: int
    separates: str | None


@dataclass(frozen=True)
class Checks:
    """The result of `sanity_checks`: what was checked and what it found (JSON-ready).

    Attributes
    ----------
    rows : int
    duplicated_rows : int
        Rows identical on every column to an earlier row.
    class_counts : dict
        Classification: rows per class (binary: "positive" and "negative"); empty for regression.
    output : OutputCheck
    columns : list of ColumnCheck
        Every comparison of a metadata column with the label (a numeric column with few values is compared
        both ways: ranked, and value by value).
    skipped : dict
        Metadata column → why it was not compared (identifier-like, a single value, …).
    declared : dict
        Column → its role in the config: "label", "score", "prediction", "probability" or "join key".
    model_outputs : dict
        Undeclared column → why it looks like a model output ("named like one", "equal to the
        predicted class", …); not an error-analysis candidate (unless `[error_analysis] columns` names it).
    copies : list of str
        The model_outputs that are copies of the output without a model output's name: a feature the
        model copies, or a sign that `[data]` names the wrong column.
    identical_baselines : list of str
        Baselines whose output is the model's on every row.
    """

    rows: int
    duplicated_rows: int
    class_counts: dict[str, int]
    output: OutputCheck
    columns: list[ColumnCheck]
    skipped: dict[str, str]
    declared: dict[str, str]
    model_outputs: dict[str, str]
    copies: list[str]
    identical_baselines: list[str]

    @property
    def nearly_one_class(self) -> bool:
        """Whether one class holds `ONE_CLASS_SHARE` of the labels or more (the "nearly_one_class" finding)."""
        return bool(self.class_counts) and self.rows > 0 and max(self.class_counts.values()) / self.rows >= ONE_CLASS_SHARE


def declared_columns(config: Config, frame: pd.DataFrame) -> dict[str, str]:
    """The columns the config gives a role (the label, the model's output, join keys), each with its role."""
    data = config.data
    roles = {data.label: "label", data.score: "score", data.prediction: "prediction",
             **{column: "probability" for column in (data.scores or {}).values()},
             **{spec.id: "join key" for spec in config.baseline}}
    if data.score_prefix:
        roles |= {str(c): "probability" for c in frame.columns if str(c).startswith(data.score_prefix)}
    return {column: role for column, role in roles.items() if column is not None}


def looks_like_output(name: str) -> bool:
    """Whether a column's name is a model output's: "predicted", "y_pred", "prob_default", "yhat", "score", …

    Examples
    --------
    >>> [looks_like_output(n) for n in ("predicted", "prob_default", "predictedWage", "credit_score", "problem")]
    [True, True, True, False, False]
    """
    words = [w for w in re.split(r"[^0-9a-z]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()) if w]
    return "_".join(words) in OUTPUT_NAMES or not OUTPUT_WORDS.isdisjoint(words)


def sanity_checks(predictions: Predictions, declared: Mapping[str, str], baselines: Sequence[Baseline] = (), *,
                  score_rows: Rows | None = None) -> Checks:
    """Check the predictions for leakage, copies of the model's output, duplicated rows and a label of one class.

    Parameters
    ----------
    predictions : Predictions
        The checked predictions.
    declared : mapping
        Column → role of the columns the config names (`declared_columns`): they are not metadata.
    baselines : sequence of Baseline
        Other models' output on the same rows, compared with the model's.
    score_rows : Rows, optional
        Binary: the rows sorted and ranked by score (the engine's, from `measure`); made here when not given.

    Returns
    -------
    Checks
    """
    frame = predictions.frame
    if predictions.task == "binary" and score_rows is None:
        score_rows = Rows.prepare(predictions.y_true, predictions.y_pred, predictions.scores)
    target_ranks = _ranked(predictions.y_true)[0] if predictions.task == "regression" else None
    model_outputs, copies, columns, skipped = {}, [], [], {}
    unique_rows = False  # a column with a distinct value in every row: no two rows are the same
    for column in frame.columns:
        name = str(column)
        if name in declared:
            continue
        profile = _Profile.of(predictions.codes, column)
        unique_rows |= profile.n_values == len(frame)
        copy = _output_copy(predictions, profile)
        if copy is not None or looks_like_output(name):
            model_outputs[name] = copy or "named like one"
            if copy is not None and not looks_like_output(name):
                copies.append(name)
            continue
        checked = _column_checks(predictions, name, profile, target_ranks)
        if isinstance(checked, str):
            skipped[name] = checked
        else:
            columns += checked
    classes = _class_names(predictions)
    return Checks(
        rows=len(frame),
        duplicated_rows=0 if unique_rows else repeated_rows(predictions.codes, None if score_rows is None else tied(
            predictions.scores, score_rows.order, score_rows.ranking.sorted_ranks)),
        class_counts={} if predictions.task == "regression" else dict(zip(
            classes, np.bincount(predictions.y_true, minlength=len(classes)).tolist(), strict=True)),
        output=_output_check(predictions, declared, score_rows),
        columns=columns,
        skipped=skipped,
        declared=dict(declared),
        model_outputs=model_outputs,
        copies=copies,
        identical_baselines=[b.name for b in baselines if _same_output(predictions, b.predictions)],
    )


def run(context: Context) -> Outcome:
    """The sanity checks of an evaluation's inputs (the "checks" analysis): `Checks` and their findings."""
    predictions = context.predictions
    rows = context.measured.engine.rows if predictions.task == "binary" else None  # sorted once, by `measure`
    checks = sanity_checks(predictions, declared_columns(context.config, predictions.frame), context.baselines,
                           score_rows=rows)
    return Outcome(checks, check_findings(checks, predictions.task))


# ---------------------------------------------------------------------------------------------- checks


def repeated_rows(codes: ColumnCodes, candidates: np.ndarray | None = None) -> int:
    """Rows equal in every column to an earlier row, as ``frame.duplicated().sum()`` counts them (missing values
    equal), from the codes of the frame's columns: the rows less the distinct combinations of codes.

    `candidates` (optional) marks every row that can equal another (e.g. those whose score ties with another
    row's, `tied`); the others are left out, and when they are most rows, only the candidates are coded.
    """
    if candidates is not None and np.count_nonzero(candidates) < len(candidates) // 2:
        codes = ColumnCodes(codes.frame[candidates])
    frame = codes.frame
    key, size = np.zeros(len(frame), dtype=np.int64), 1
    for column in frame.columns:
        found = codes(column)
        if size > np.iinfo(np.int64).max // max(len(found.values), 1):  # renumber the combinations seen so far
            key, uniques = pd.factorize(key)
            size = len(uniques)
        key = key * len(found.values) + found.codes
        size *= len(found.values)
    return len(frame) - len(pd.unique(key))


def tied(values: np.ndarray, order: np.ndarray, ascending: np.ndarray | None = None) -> np.ndarray:
    """Which rows hold a value another row holds too (NaN counted as one value), from the rows in ascending
    order of `values` (``np.argsort(values)``): equal values are neighbours there. `ascending`, ``values[order]``
    or any array equal where it is (such as the values' dense ranks in that order), may be passed when known."""
    if ascending is None:
        ascending = values[order]
    same = ascending[1:] == ascending[:-1]
    marked = np.zeros(len(values), dtype=bool)
    marked[1:] |= same
    marked[:-1] |= same
    found = np.empty(len(values), dtype=bool)
    found[order] = marked
    missing = np.isnan(values)
    found |= missing & (np.count_nonzero(missing) > 1)
    return found


def _class_names(predictions: Predictions) -> list[str]:
    """Class names in code order; binary: "negative" and "positive"."""
    return ["negative", "positive"] if predictions.task == "binary" else list(predictions.classes)


@dataclass(frozen=True)
class _Profile:
    """One column, read once: its values as codes, and for a numeric column as numbers with their ranks.

    `codes` number the distinct values (a missing value counting as one) and `n_values` counts them;
    `numbers` are float64 with NaN for missing values, `ranks` the average ranks (1 to n) of the
    present ones in row order (one sort gives both the ranks and the codes).
    """

    values: pd.Series
    codes: np.ndarray
    n_values: int
    numbers: np.ndarray | None = None
    present: np.ndarray | None = None
    ranks: np.ndarray | None = None

    @classmethod
    def of(cls, codes: ColumnCodes, column: str) -> _Profile:
        """The profile of one column of the frame whose `codes` are given."""
        values = codes.frame[column]
        if not _is_number(values):
            found = codes(column)
            return cls(values, found.codes, len(found.values))
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(numbers)
        ranks, present_codes = _ranked(numbers[present], integers=pd.api.types.is_integer_dtype(values))
        n_values = int(present_codes.max(initial=-1)) + 1
        codes = present_codes if present.all() else np.full(len(numbers), n_values)  # missing: one more value
        codes[present] = present_codes
        return cls(values, codes, n_values + int(not present.all()), numbers, present, ranks)


def _ranked(values: np.ndarray, order: np.ndarray | None = None, *, integers: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1 to n; tied values share the mean of their ranks) and codes of the distinct values (0 for the
    smallest), both in row order: one sort (`order`, ``np.argsort(values)``, may be given), or, for `integers` (whole
    numbers as float64) spanning fewer values than rows, one count of each value."""
    if integers and len(values):
        low, high = values.min(), values.max()
        if high - low < len(values) and max(-low, high) < 2**53:
            offsets = (values - low).astype(np.intp)
            rows_of = np.bincount(offsets)
            present = rows_of > 0
            ends = np.cumsum(rows_of)[present]
            starts = ends - rows_of[present]
            codes = (np.cumsum(present) - 1)[offsets]
            return ((starts + ends + 1) / 2)[codes], codes
    if order is None:
        order = np.argsort(values)
    ascending = values[order]
    first = np.ones(len(values), dtype=bool)  # the first of a run of equal values
    np.not_equal(ascending[1:], ascending[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(values))
    ranks, codes = np.empty(len(values)), np.empty(len(values), dtype=np.intp)
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    codes[order] = np.cumsum(first) - 1
    return ranks, codes


def _class_aucs(ranks: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """ROC AUC of the ranked values for each class against the rest (Mann–Whitney U; ties count one half).

    `ranks` are average ranks (1 to n) of the values, `y` class codes in [0, n_classes); NaN where a
    class, or the rest, has no row.
    """
    n_pos = np.bincount(y, minlength=n_classes).astype(np.float64)
    rank_sums = np.bincount(y, weights=ranks, minlength=n_classes)
    n_neg = len(y) - n_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        return (rank_sums - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _output_check(predictions: Predictions, declared: Mapping[str, str], score_rows: Rows | None) -> OutputCheck:
    """The model's output against the labels: ROC AUC (binary, from `score_rows`), top-label accuracy (multiclass)
    or R²."""
    y_true, y_pred, scores = predictions.y_true, predictions.y_pred, predictions.scores
    if predictions.task == "regression":
        enough = len(y_true) >= MIN_OUTPUT_ROWS
    else:
        enough = np.sort(np.bincount(y_true, minlength=2))[-2] >= MIN_OUTPUT_ROWS
    equals_label = None
    for column, role in declared.items():
        if (role == "prediction" and enough and np.array_equal(y_pred, y_true)) or (
                role == "score" and len(np.unique(y_true)) > 1 and (  # probabilities of exactly 0 and 1
                    np.array_equal(scores, y_true) or np.array_equal(scores, 1 - y_true))):
            equals_label = column
    if predictions.task == "binary":
        assert score_rows is not None
        value = _roc_auc(score_rows)
        extreme = value is not None and (value >= OUTPUT_AUC or value <= 1 - OUTPUT_AUC)
        return OutputCheck("roc_auc", value, None, equals_label, equals_label is not None or (enough and extreme))
    if predictions.task == "multiclass":
        top = y_pred if scores is None else np.argmax(scores, axis=1)
        accuracy = float(np.mean(top == y_true))
        confidence = None if scores is None else float(np.mean(np.max(scores, axis=1)))
        extreme = accuracy == 1 and confidence is not None and confidence >= CONFIDENT
        return OutputCheck("accuracy", accuracy, confidence, equals_label, equals_label is not None or (enough and extreme))
    spread = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = None if spread == 0 else 1 - float(np.sum((y_true - y_pred) ** 2)) / spread
    extreme = r2 is not None and r2 >= OUTPUT_R2
    return OutputCheck("r2", r2, None, equals_label, equals_label is not None or (enough and extreme))


def _roc_auc(rows: Rows) -> float | None:
    """ROC AUC of the scores (Mann–Whitney: each positive counts the negatives scored lower and half those tied),
    from the runs of tied scores; None without both classes."""
    run_pos, run_neg = rows.score_runs
    positives, negatives = float(run_pos.sum()), float(run_neg.sum())
    if positives == 0 or negatives == 0:
        return None
    lower = np.cumsum(run_neg)
    lower -= 0.5 * run_neg  # the negatives of earlier runs and half the run's own
    return float(np.dot(run_pos, lower)) / (positives * negatives)


def _output_copy(predictions: Predictions, profile: _Profile) -> str | None:
    """How a column equals one of the model's outputs ("equal to the predicted class", …), or None."""
    if predictions.task != "regression":
        y_pred = predictions.y_pred
        n_predicted = int(np.count_nonzero(np.bincount(y_pred)))
        if n_predicted > 1 and profile.n_values == n_predicted and _same_partition(profile.codes, y_pred):
            return "equal to the predicted class"
    if profile.numbers is None:
        return None
    return next((what for what, output in _output_arrays(predictions) if np.array_equal(profile.numbers, output)),
                None)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays of non-negative codes group the rows the same way (each value of one goes with one
    value of the other)."""
    pairs = np.count_nonzero(np.bincount(a.astype(np.int64) * (int(b.max()) + 1) + b))
    return pairs == np.count_nonzero(np.bincount(a)) == np.count_nonzero(np.bincount(b))


def _output_arrays(predictions: Predictions) -> list[tuple[str, np.ndarray]]:
    """The model's numeric outputs, each with how a column equal to it is described."""
    if predictions.task == "regression":
        return [("equal to the prediction", predictions.y_pred)]
    if predictions.scores is None:
        return []
    if predictions.task == "binary":
        return [("equal to the score", predictions.scores)]
    return [(f'equal to the probability of "{display_label(c)}"', predictions.scores[:, i])
            for i, c in enumerate(predictions.classes)]


def _is_number(values: pd.Series) -> bool:
    """Real numbers (not booleans, not complex numbers)."""
    types = pd.api.types
    return types.is_numeric_dtype(values) and not types.is_bool_dtype(values) and not types.is_complex_dtype(values)


def _column_checks(
    predictions: Predictions, column: str, profile: _Profile, target_ranks: np.ndarray | None
) -> list[ColumnCheck] | str:
    """How well one metadata column separates the label, or why it was not compared (`target_ranks`: the
    regression target's).

    A numeric column is ranked against each class (regression: against the target); a column with at least
    `MIN_ROWS_PER_VALUE` rows per value, numeric or not, is also read value by value.
    """
    n_rows = len(profile.values)
    numeric = profile.numbers is not None
    if profile.n_values < 2:
        return "a single value"
    if numeric and pd.api.types.is_integer_dtype(profile.values) and profile.n_values == n_rows:
        return "identifier-like (every value distinct)"
    if target_ranks is not None:
        return _correlation_check(predictions, column, profile, target_ranks) if numeric else "not numeric"
    found: list[ColumnCheck] = []
    ranked = _auc_check(predictions, column, profile) if numeric else None
    if isinstance(ranked, ColumnCheck):
        found.append(ranked)
    if profile.n_values * MIN_ROWS_PER_VALUE <= n_rows:
        found.append(_categorical_check(predictions, column, profile.codes, profile.n_values))
    if found:
        return found
    return ranked or f"identifier-like ({count(profile.n_values)} distinct values in {count(n_rows)} rows)"


def _auc_check(predictions: Predictions, column: str, profile: _Profile) -> ColumnCheck | str:
    """A numeric column's ROC AUC for each class against the rest; the one furthest from 0.5 is kept."""
    y = predictions.y_true[profile.present]
    classes = _class_names(predictions)
    aucs = _class_aucs(profile.ranks, y, len(classes))
    n_pos = np.bincount(y, minlength=len(classes))
    readable = (n_pos >= MIN_CLASS_ROWS) & (len(y) - n_pos >= MIN_CLASS_ROWS)
    if predictions.task == "binary":
        readable[0] = False  # the negative class's AUC mirrors the positive's
    if not readable.any():
        return f"fewer than {MIN_CLASS_ROWS} rows with a value in each class"
    best = int(np.argmax(np.where(readable, np.abs(aucs - 0.5), -1.0)))
    auc = float(aucs[best])
    two_classes = np.count_nonzero(n_pos) == 2  # one class against the rest is then the whole label
    separates = None if 1 - COLUMN_AUC < auc < COLUMN_AUC else "label" if two_classes else "class"
    class_label = None if predictions.task == "binary" else classes[best]
    return ColumnCheck(column, "roc_auc", auc, class_label, None, len(y), separates)


def _correlation_check(
    predictions: Predictions, column: str, profile: _Profile, target_ranks: np.ndarray
) -> list[ColumnCheck] | str:
    """Regression: a numeric column's Spearman rank correlation with the target."""
    rows = len(profile.ranks)
    if rows < MIN_CORRELATION_ROWS:
        return f"fewer than {MIN_CORRELATION_ROWS} rows with a value"
    target = target_ranks if rows == len(target_ranks) else _ranked(predictions.y_true[profile.present])[0]
    if np.ptp(profile.ranks) == 0 or np.ptp(target) == 0:
        return "a single value where it has one"
    correlation = float(np.corrcoef(profile.ranks, target)[0, 1])
    return [ColumnCheck(column, "spearman", correlation, None, None, rows,
                       "label" if abs(correlation) >= COLUMN_CORRELATION else None)]


def _categorical_check(predictions: Predictions, column: str, codes: np.ndarray, n_values: int) -> ColumnCheck:
    """How often each value's most common class is the label, and the share of the errors of the most common
    class everywhere that this removes."""
    y, n_classes = predictions.y_true, len(_class_names(predictions))
    table = np.bincount(codes * n_classes + y, minlength=n_values * n_classes).reshape(n_values, n_classes)
    right = int(table.max(axis=1).sum())
    most_common = int(table.sum(axis=0).max())
    accuracy = right / len(y)
    if most_common == len(y):  # one class: nothing to separate
        return ColumnCheck(column, "majority_accuracy", accuracy, None, None, len(y), None)
    reduction = (right - most_common) / (len(y) - most_common)
    separates = accuracy >= COLUMN_ACCURACY and reduction >= ERROR_REDUCTION
    return ColumnCheck(column, "majority_accuracy", accuracy, None, reduction, len(y), "label" if separates else None)


def _same_output(candidate: Predictions, baseline: Predictions) -> bool:
    """Whether a baseline's output is the candidate's on every row (scores too, where both have them)."""
    if not np.array_equal(candidate.y_pred, baseline.y_pred):
        return False
    return candidate.scores is None or baseline.scores is None or np.array_equal(candidate.scores, baseline.scores)


# ---------------------------------------------------------------------------------------------- findings


def check_findings(checks: Checks, task: str) -> list[Finding]:
    """The findings of the sanity checks: leakage (high), copies of the output, duplicated rows, one class."""
    return [
        *_output_leakage(checks, task), *_column_leakage(checks, task), *_copied_output(checks),
        *_duplicated_rows(checks),
        *_nearly_one_class(checks, task),
    ]


LEAKAGE_SUGGESTIONS = [
    "Check that [data] names the model's output, not the label or a column computed from it.",
    "Look for model inputs recorded after the outcome or computed from the label, and for evaluation rows that "
    "were also training rows.",
]


def _output_leakage(checks: Checks, task: str) -> list[Finding]:
    output = checks.output
    if not output.leaks:
        return []
    if output.equals_label is not None:
        title = (f'The model\'s output ("{display_label(output.equals_label)}") equals the label on every row: '
                 "check for leakage.")
    elif task == "binary":
        inverted = output.value is not None and output.value < 0.5
        title = (f"The model's scores separate the labels perfectly{', inverted' if inverted else ''} "
                 f"(ROC AUC {num(output.value)}): check for leakage.")
    elif task == "multiclass":
        title = (f"Every prediction is right, with a mean top-label probability of {num(output.confidence)}: "
                 "check for leakage.")
    else:
        title = f"The predictions match the targets almost exactly (R² {num(output.value, 4)}): check for leakage."
    measured = {"roc_auc": "ROC AUC", "accuracy": "top-label accuracy", "r2": "R²"}[output.statistic]
    return [Finding(
        id="leakage", severity="high", title=title,
        detail=(f"The model's {measured} is {num(output.value, 4)} on {count(checks.rows)} rows. A real model rarely "
                "separates the labels this well: usually the label, or something computed from it, reached the "
                "model's inputs, or [data] names the wrong column. The rest of the card measures that, not the model."),
        section="overall", subject=None,
        evidence=[Evidence(OVERALL, OVERALL, output.statistic, output.value, None, None, checks.rows)],
        suggestions=LEAKAGE_SUGGESTIONS,
    )]


def _column_leakage(checks: Checks, task: str) -> list[Finding]:
    """High: columns that separate the label (leakage); low: columns that separate one class of a multiclass label
    from the others and nothing more (a strong feature, or leakage)."""
    label = _first_by_column(c for c in checks.columns if c.separates == "label")
    one_class = _first_by_column(c for c in checks.columns if c.separates == "class" and c.column not in label)
    found = []
    if label:
        found.append(Finding(
            id="leakage", severity="high",
            title=(f"{_columns(list(label), 'follow')} the target almost perfectly: check for leakage."
                   if task == "regression" else
                   f"{_columns(list(label), 'separate')} the label almost perfectly: check for leakage."),
            detail=("; ".join(_separation(c) for c in list(label.values())[:MAX_LISTED]) + ". A column this "
                    "informative is the label under another name, computed from it, or recorded after the outcome; "
                    "if it is one of the model's inputs, the model's numbers are optimistic."),
            section="overall", subject=None, evidence=[_column_evidence(c) for c in label.values()],
            suggestions=[
                "If the column is a model input, check when it is recorded: a value known only after the outcome "
                "cannot predict it in use.",
                "If it is the label (or a model's output) under another name, leave it out of the predictions file or "
                "declare it in [data].",
            ],
        ))
    if one_class:
        found.append(Finding(
            id="leakage", severity="low",
            title=f"{_columns(list(one_class), 'separate')} one class from the others almost perfectly.",
            detail=("; ".join(_separation(c) for c in list(one_class.values())[:MAX_LISTED]) + ". A strong feature "
                    "known before the outcome may do this (one species told apart by one measurement); so does a "
                    "column recorded after the outcome or computed from the label."),
            section="overall", subject=None, evidence=[_column_evidence(c) for c in one_class.values()],
            suggestions=["Check when the column is recorded, and that it is not computed from the label."],
        ))
    return found


def _first_by_column(found: Iterable[ColumnCheck]) -> dict[str, ColumnCheck]:
    """The first check of each column, by column."""
    first: dict[str, ColumnCheck] = {}
    for check in found:
        first.setdefault(check.column, check)
    return first


def _columns(names: list[str], verb: str) -> str:
    """The start of a sentence about columns: 'Column "x" separates', '3 columns ("x", "y", "z") separate'."""
    shown = ", ".join(f'"{display_label(c)}"' for c in names[:MAX_LISTED])
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return f"Column {shown} {verb}s" if len(names) == 1 else f"{len(names)} columns ({shown}{more}) {verb}"


def _column_evidence(check: ColumnCheck) -> Evidence:
    return Evidence(check.column, check.class_label or OVERALL, check.statistic, check.value, None, None, check.rows)


def _separation(check: ColumnCheck) -> str:
    """How a column separates the label, in words."""
    name = f'"{display_label(check.column)}"'
    if check.statistic == "roc_auc" and check.class_label is None:
        return f"{name}: ROC AUC {num(check.value)} against the label"
    if check.statistic == "roc_auc":
        return f'{name}: ROC AUC {num(check.value)} for "{display_label(check.class_label)}" against the rest'
    if check.statistic == "spearman":
        return f"{name}: rank correlation {num(check.value, 4)} with the target"
    return (f"{name}: its values' most common label is right for {pct(check.value)} of rows "
            f"(removing {pct(check.error_reduction)} of the errors of always predicting the most common class)")


def _copied_output(checks: Checks) -> list[Finding]:
    found = []
    if checks.copies and not checks.output.leaks:  # an output that leaks makes copies of the label copies of it
        names = ", ".join(f'"{display_label(c)}"' for c in checks.copies[:MAX_LISTED])
        whats = "; ".join(f'"{display_label(c)}" is {checks.model_outputs[c]}' for c in checks.copies[:MAX_LISTED])
        found.append(Finding(
            id="duplicate_output", severity="medium",
            title=f"The model's output is identical to column {names}.",
            detail=(f"{whats}, on every row. If that column is one of the model's inputs, the model copies it; if it is "
                    "the model's output, check that [data] names it. The error analysis leaves it out."),
            section="overall", subject=None, evidence=[],
            suggestions=["Check which column [data] names as the model's output, and what the copy is."],
        ))
    for name in checks.identical_baselines:
        found.append(Finding(
            id="duplicate_output", severity="medium",
            title=f'The baseline "{display_label(name)}" has the model\'s output on every row: the comparison can '
                  "find no difference.",
            detail=("Its predictions (and scores, where both have them) equal the model's row for row: the baseline "
                    "file is probably the model's own predictions."),
            section="comparison", subject=name, evidence=[],
            suggestions=["Check [baseline] path and its output columns."],
        ))
    return found


def _duplicated_rows(checks: Checks) -> list[Finding]:
    duplicated = checks.duplicated_rows
    if checks.rows == 0 or duplicated <= DUPLICATE_SHARE * checks.rows:
        return []
    share = duplicated / checks.rows
    return [Finding(
        id="duplicate_rows", severity="medium" if share > MANY_DUPLICATES else "low",
        title=f"{count(duplicated)} rows ({pct(share)}) repeat an earlier row exactly.",
        detail=("Identical on every column, they count the same evidence more than once: intervals are narrower and "
                "tests more confident than the data warrant."),
        section="overall", subject=None,
        evidence=[Evidence(OVERALL, OVERALL, "duplicated_rows", float(duplicated), None, None, checks.rows)],
        suggestions=[
            "If they are repeated records (a join or an export run twice), drop them and rebuild the report.",
            "If they are distinct cases that agree on every column, an id column tells them apart.",
        ],
    )]


def _nearly_one_class(checks: Checks, task: str) -> list[Finding]:
    if not checks.nearly_one_class:
        return []
    counts = checks.class_counts
    largest = max(counts, key=lambda c: counts[c])
    share = counts[largest] / checks.rows
    rare = sorted((c for c in counts if c != largest), key=lambda c: counts[c])
    rare_rows = sum(counts[c] for c in rare)
    if task == "binary" and rare_rows == 0:
        title = f"Every label is {largest}: the evaluation can say nothing about the {rare[0]} class."
    elif task == "binary":
        title = (f"Only {count(rare_rows)} of {count(checks.rows)} labels are {rare[0]} ({pct(1 - share)}): the "
                 f"evaluation can say little about the {rare[0]} class.")
    else:
        title = (f'Class "{display_label(largest)}" has {pct(share)} of the labels: the evaluation can say little '
                 f"about the other classes ({count(rare_rows)} rows).")
    listed = ", ".join(f'"{display_label(c)}" {count(counts[c])}' for c in rare[:MAX_LISTED])
    majority = largest if task == "binary" else f'"{display_label(largest)}"'
    instead = "balanced accuracy, average precision and MCC" if task == "binary" else "balanced accuracy and macro F1"
    return [Finding(
        id="nearly_one_class", severity="medium", title=title,
        detail=(f"Rows per rare class: {listed}. Every metric of a rare class (its recall, precision, error rates) "
                "rests on these rows: its intervals are wide, and the slices hold fewer still. Accuracy says little "
                f"too: always predicting {majority} would score {num(share)}; read {instead} instead (this finding "
                "stands for the class-imbalance one)."),
        section="overall", subject=None,
        evidence=[Evidence(OVERALL, c, "count", float(counts[c]), None, None, checks.rows) for c in rare[:MAX_LISTED]],
        suggestions=[
            "Collect more labelled rows of the rare class (for example by sampling on the label) before reading its "
            "metrics.",
            "Read the intervals of the rare class's metrics, not their point values.",
        ],
    )]
