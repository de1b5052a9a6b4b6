"""Training history analysis: which series are the losses, the best epoch, and findings about the curves.

Pure functions over a `History` (from `reportgen.history`). Epoch numbers are the history's own
(as logged: 0-based for Lightning, Keras and their MLflow autologging). Every rule reads finite
values only: an epoch whose loss is NaN, infinite or not logged is skipped, not treated as 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reportgen.analysis.base import Context, Evidence, Finding, Outcome
from reportgen.errors import plain_list
from reportgen.formatting import figure
from reportgen.history import History

SECTION = "training"
SLICE = "training"
LOSS = "loss"
RISE = 0.02  # overfitting: validation loss this share above its minimum counts as risen
PATIENCE_SHARE = 0.1  # ... for the last max(2, this share of its epochs) epochs
FLAT = 0.05  # underfitting: a loss that never fell this share below its first value is flat
TAIL_SHARE = 0.2  # not converged: in the last max(2, this share of its epochs) epochs ...
TAIL_GAIN = 0.05  # ... the best training loss still fell by this share of its whole decrease
MIN_EPOCHS = 3  # fewer finite loss values than this: too short a history to judge a trend
MIN_EPOCHS_CONVERGENCE = 5

# Where a series name says "validation" or "training": a prefix ("val_loss", "train/loss") or a
# suffix ("loss/val", "Loss/train"). A name with neither is a training series ("loss", as Keras).
VAL_PREFIXES = ("val_", "val/", "val-", "valid_", "valid/", "validation_", "validation/", "eval_", "eval/")
TRAIN_PREFIXES = ("train_", "train/", "train-", "training_", "training/")
VAL_SUFFIXES = ("/val", "/valid", "/validation", "_val", "_valid", "_validation")
TRAIN_SUFFIXES = ("/train", "/training", "_train", "_training")
# Lightning's `on_step` and `on_epoch` logging adds these; the per-epoch one is preferred.
VARIANTS = (("_epoch", 0), ("", 1), ("_step", 2))


@dataclass(frozen=True)
class SeriesPair:
    """A metric's training and validation series, by name in `History.series` (None where absent).

    `metric` is the name without the train/validation marks, lower-case: "loss", "accuracy", "acc".
    """

    metric: str
    train: str | None
    val: str | None


@dataclass(frozen=True)
class TrainingSummary:
    """What the learning curves show; epochs as in the history.

    Attributes
    ----------
    train_loss, val_loss : str or None
        Names of the training and validation loss series.
    metrics : list of SeriesPair
        The other metrics with a validation series or a series marked as training.
    last_epoch : int
        The history's last epoch.
    best_epoch : int or None
        Epoch of the lowest finite validation loss (the first, on ties); None without one.
    best_val_loss : float or None
        That loss.
    overfitting_epoch : int or None
        Epoch from which validation loss stayed risen above its minimum while training loss fell
        (see `overfitting_epoch`); None when it did not.
    underfitting : bool
        Every loss stayed flat from its first epoch (see `is_underfitting`).
    not_converged : bool
        Training loss was still falling when training stopped (see `is_still_improving`).
    nan_epochs : list of int
        Epochs at which the training or validation loss was logged as NaN or ±inf.
    """

    train_loss: str | None
    val_loss: str | None
    metrics: list[SeriesPair]
    last_epoch: int
    best_epoch: int | None
    best_val_loss: float | None
    overfitting_epoch: int | None
    underfitting: bool
    not_converged: bool
    nan_epochs: list[int]


# ---------------------------------------------------------------------------------------------- pairs


def _parse(name: str) -> tuple[str, str, bool, int] | None:
    """(role, metric, role written explicitly, variant rank) of a series name; None when no metric is left."""
    core, variant = name.lower(), 1
    for suffix, rank in VARIANTS:
        if suffix and core.endswith(suffix) and len(core) > len(suffix):
            core, variant = core[: -len(suffix)], rank
            break
    for role, prefixes, suffixes in (("val", VAL_PREFIXES, VAL_SUFFIXES), ("train", TRAIN_PREFIXES, TRAIN_SUFFIXES)):
        for prefix in prefixes:
            if core.startswith(prefix):
                return (role, core[len(prefix):], True, variant) if len(core) > len(prefix) else None
        for suffix in suffixes:
            if core.endswith(suffix):
                return (role, core[: -len(suffix)], True, variant) if len(core) > len(suffix) else None
    return "train", core, False, variant


def find_pairs(names: list[str]) -> list[SeriesPair]:
    """Pair training and validation series by metric; the loss first, then in the order of `names`.

    Names are matched case-insensitively by the marks common loggers write: "val_", "val/",
    "validation_", "valid_", "eval_" (and "/val", "_val" at the end) for validation; "train_",
    "train/", "training_" (and "/train") for training; a name with neither is a training series,
    as Keras writes "loss" and "accuracy". Where several names fit, Lightning's per-epoch "_epoch"
    variant beats the plain name, which beats the per-step "_step" one, and an explicit "train"
    beats an unmarked name. A metric is returned when it is the loss, has a validation series, or
    has a series marked as training (so "lr" alone is not a metric).

    Examples
    --------
    >>> find_pairs(["epoch_time", "loss", "accuracy", "val_loss", "val_accuracy"])
    [SeriesPair(metric='loss', train='loss', val='val_loss'), SeriesPair(metric='accuracy', train='accuracy', val='val_accuracy')]
    >>> find_pairs(["train_loss_step", "train_loss_epoch", "val_loss", "val_acc", "lr-Adam"])
    [SeriesPair(metric='loss', train='train_loss_epoch', val='val_loss'), SeriesPair(metric='acc', train=None, val='val_acc')]
    """
    best: dict[tuple[str, str], tuple[tuple[int, int], str]] = {}
    explicit: set[str] = set()
    order: list[str] = []
    for name in names:
        parsed = _parse(name)
        if parsed is None:
            continue
        role, metric, marked, variant = parsed
        rank = (0 if marked else 1, variant)
        if (role, metric) not in best or rank < best[role, metric][0]:
            best[role, metric] = (rank, name)
        if marked or role == "val":
            explicit.add(metric)
        if metric not in order:
            order.append(metric)
    pairs = []
    for metric in sorted(order, key=lambda m: (m != LOSS, order.index(m))):
        if metric == LOSS or metric in explicit:
            train, val = best.get(("train", metric)), best.get(("val", metric))
            pairs.append(SeriesPair(metric, train[1] if train else None, val[1] if val else None))
    return pairs


def loss_pair(history: History) -> SeriesPair | None:
    """The training and validation loss of a history; None when it has neither."""
    return next((p for p in find_pairs(list(history.series)) if p.metric == LOSS), None)


# ---------------------------------------------------------------------------------------------- rules


def _finite(history: History, name: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Epochs and values of a series where it is finite (empty arrays for None)."""
    if name is None:
        return np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    values = history.series[name]
    keep = np.isfinite(values)
    return history.epochs[keep], values[keep]


def overfitting_epoch(epochs: np.ndarray, train: np.ndarray, val_epochs: np.ndarray, val: np.ndarray) -> int | None:
    """Epoch from which the validation loss rose while the training loss fell; None if it did not.

    The rule: after its minimum, the validation loss stayed more than `RISE` (2%) of the
    minimum's size above it for the last k of its epochs, k = max(2, ceil(10% of its epochs)),
    through its last epoch; and the training loss at its last epoch is lower than at the
    validation minimum's epoch (the first finite one from there). The epoch returned is the
    first of that final run of risen values. A noisy plateau, or a rise that came back down,
    is not overfitting.

    Parameters
    ----------
    epochs, train : ndarray
        Epochs and training losses, finite only, epochs increasing.
    val_epochs, val : ndarray
        The same for the validation loss.

    Examples
    --------
    >>> e = np.arange(10)
    >>> val = np.array([1.0, 0.7, 0.5, 0.4, 0.38, 0.385, 0.42, 0.45, 0.5, 0.55])
    >>> overfitting_epoch(e, 1.0 / (e + 1), e, val)
    6
    """
    n = len(val)
    if n < MIN_EPOCHS or len(train) < 2:
        return None
    lowest = int(np.argmin(val))
    risen = val > val[lowest] + RISE * abs(val[lowest])
    start = n
    while start - 1 > lowest and risen[start - 1]:
        start -= 1
    if n - start < max(2, math.ceil(PATIENCE_SHARE * n)):
        return None
    span = (epochs >= val_epochs[lowest]) & (epochs <= val_epochs[-1])
    if span.sum() < 2 or not train[span][-1] < train[span][0]:
        return None
    return int(val_epochs[start])


def _flat(values: np.ndarray) -> bool:
    """Whether a loss never fell `FLAT` (5%) of its first value's size below it."""
    return bool(values[0] - values.min() <= FLAT * abs(values[0]))


def is_underfitting(train: np.ndarray, val: np.ndarray) -> bool:
    """Whether every loss stayed flat: high, since it hardly moved from its untrained start.

    The rule: each loss with at least `MIN_EPOCHS` (3) finite values never fell more than
    `FLAT` (5%) of its first value below it (its best value, not its last, so a run that
    improved and then diverged does not count), and at least one loss was judged. A converging
    run lowers its loss far more than 5%. A model fine-tuned from a good start can look flat:
    the finding says so.

    Parameters
    ----------
    train, val : ndarray
        Finite training and validation losses, in epoch order; either may be empty.
    """
    judged = [values for values in (train, val) if len(values) >= MIN_EPOCHS]
    return bool(judged) and all(_flat(values) for values in judged)


def _tail_size(n: int) -> int:
    return max(2, math.ceil(TAIL_SHARE * n))


def is_still_improving(values: np.ndarray) -> bool:
    """Whether a loss was still falling substantially when training stopped.

    The rule: with n ≥ `MIN_EPOCHS_CONVERGENCE` (5) finite values and a decrease overall, the
    best (lowest) value in the last m = max(2, ceil(20% of n)) epochs is below the best before
    them by more than `TAIL_GAIN` (5%) of the whole decrease (first value − lowest value).
    Comparing best values keeps a noisy plateau from counting as progress.

    Parameters
    ----------
    values : ndarray
        Finite losses, in epoch order.

    Examples
    --------
    >>> bool(is_still_improving(np.linspace(1.0, 0.5, 20)))
    True
    >>> bool(is_still_improving(np.exp(-np.arange(20.0))))
    False
    """
    n = len(values)
    if n < MIN_EPOCHS_CONVERGENCE:
        return False
    total = values[0] - values.min()
    if not total > 0:
        return False
    m = _tail_size(n)
    return bool(values[: n - m].min() - values[n - m:].min() > TAIL_GAIN * total)


def summarize(history: History) -> TrainingSummary:
    """The learning curves' summary: losses, best epoch, overfitting, underfitting, convergence, gaps.

    `not_converged` is left False when the run overfits or underfits: those findings already
    say what to do. It reads the training loss, or the validation loss when there is none.

    Examples
    --------
    >>> e = np.arange(6)
    >>> loss, val = np.array([1.0, 0.6, 0.4, 0.3, 0.25, 0.2]), np.array([1.1, 0.7, 0.5, 0.45, 0.5, 0.6])
    >>> h = History(source="h.json", kind="keras", epochs=e, series={"loss": loss, "val_loss": val}, params={},
    ...             nonfinite={"loss": np.zeros(6, bool), "val_loss": np.zeros(6, bool)})
    >>> s = summarize(h)
    >>> s.best_epoch, s.overfitting_epoch, s.underfitting, s.not_converged
    (3, 4, False, False)
    """
    pairs = find_pairs(list(history.series))
    loss = next((p for p in pairs if p.metric == LOSS), SeriesPair(LOSS, None, None))
    train_epochs, train = _finite(history, loss.train)
    val_epochs, val = _finite(history, loss.val)
    best_epoch = best_val_loss = None
    if len(val):
        lowest = int(np.argmin(val))
        best_epoch, best_val_loss = int(val_epochs[lowest]), float(val[lowest])
    overfitting = overfitting_epoch(train_epochs, train, val_epochs, val)
    underfitting = is_underfitting(train, val)
    still_improving = is_still_improving(train if len(train) else val)  # as `_convergence_loss` chooses
    gaps = np.zeros(len(history.epochs), dtype=bool)
    for name in (loss.train, loss.val):
        if name is not None:
            gaps |= history.nonfinite[name]
    return TrainingSummary(
        train_loss=loss.train,
        val_loss=loss.val,
        metrics=[p for p in pairs if p.metric != LOSS],
        last_epoch=int(history.epochs[-1]),
        best_epoch=best_epoch,
        best_val_loss=best_val_loss,
        overfitting_epoch=overfitting,
        underfitting=underfitting,
        not_converged=still_improving and overfitting is None and not underfitting,
        nan_epochs=history.epochs[gaps].tolist(),
    )


def chart_series(history: History, names: list[str]) -> dict[str, list[float | None]]:
    """Series for `charts.learning_curves_chart`: per epoch a number, NaN where the value logged was NaN or
    ±inf (a gap in the line), or None where it was not logged (the line joins its neighbours).

    Examples
    --------
    >>> h = History(source="h.csv", kind="csv", epochs=np.arange(3), series={"val_loss": np.array([1.0, np.nan, np.nan])},
    ...             params={}, nonfinite={"val_loss": np.array([False, True, False])})
    >>> chart_series(h, ["val_loss"])
    {'val_loss': [1.0, nan, None]}
    """
    result: dict[str, list[float | None]] = {}
    for name in names:
        values, nonfinite = history.series[name], history.nonfinite[name]
        result[name] = [
            float(v) if np.isfinite(v) else (math.nan if bad else None)
            for v, bad in zip(values, nonfinite, strict=True)
        ]
    return result


# ---------------------------------------------------------------------------------------------- findings


def _change(before: float, after: float) -> str:
    """ "+28.6%": the relative change from `before` to `after`."""
    return f"{100 * (after - before) / abs(before):+.1f}%" if before else f"{after - before:+.4g}"


def _evidence(metric: str, epoch: int, value: float, compared_with: float | None = None) -> Evidence:
    return Evidence(slice=SLICE, group=f"epoch {epoch}", metric=metric, value=float(value), ci_low=None, ci_high=None,
                    n=None, compared_with=compared_with)


def run(context: Context) -> Outcome:
    """What the learning curves show (the "training" analysis): a `TrainingSummary`, None without a history."""
    if context.history is None:
        return Outcome(None)
    summary = summarize(context.history)
    return Outcome(summary, training_findings(summary, context.history))


def training_findings(summary: TrainingSummary, history: History) -> list[Finding]:
    """Findings about the learning curves: "overfitting", "underfitting", "not_converged", "training_gaps".

    Evidence rows use slice "training", group "epoch N" and the loss series' name as the metric;
    intervals and counts are None (a loss curve has none).

    Examples
    --------
    >>> e = np.arange(20)
    >>> h = History(source="h.json", kind="keras", epochs=e, series={"loss": 1.0 - 0.02 * e}, params={},
    ...             nonfinite={"loss": np.zeros(20, bool)})
    >>> [f.id for f in training_findings(summarize(h), h)]
    ['not_converged']
    """
    found = []
    if summary.overfitting_epoch is not None:
        found.append(_overfitting(summary, history))
    if summary.underfitting:
        found.append(_underfitting(summary, history))
    if summary.not_converged:
        found.append(_not_converged(summary, history))
    if summary.nan_epochs:
        found.append(_gaps(summary, history))
    return found


def _overfitting(summary: TrainingSummary, history: History) -> Finding:
    assert summary.val_loss is not None and summary.train_loss is not None
    assert summary.best_epoch is not None and summary.best_val_loss is not None
    val_epochs, val = _finite(history, summary.val_loss)
    train_epochs, train = _finite(history, summary.train_loss)
    span = (train_epochs >= summary.best_epoch) & (train_epochs <= val_epochs[-1])
    t_epochs, t_values = train_epochs[span], train[span]
    best, last, last_epoch = summary.best_val_loss, float(val[-1]), int(val_epochs[-1])
    return Finding(
        id="overfitting", severity="medium",
        title=f"Validation loss rose after epoch {summary.best_epoch} while training loss kept falling: "
              "the model started to overfit.",
        detail=(
            f'Validation loss ("{summary.val_loss}") was lowest, {figure(best)}, at epoch {summary.best_epoch}; from '
            f"epoch {summary.overfitting_epoch} on it stayed more than {RISE:.0%} above that, ending at {figure(last)} "
            f"at epoch {last_epoch} ({_change(best, last)}). Over the same epochs training loss "
            f'("{summary.train_loss}") fell from {figure(t_values[0])} to {figure(t_values[-1])} '
            f"({_change(float(t_values[0]), float(t_values[-1]))}). If the evaluated model is from the last epoch, "
            f"the one from epoch {summary.best_epoch} would likely generalize better."
        ),
        section=SECTION,
        subject=None,
        evidence=[
            _evidence(summary.val_loss, summary.best_epoch, best),
            _evidence(summary.val_loss, last_epoch, last, compared_with=best),
            _evidence(summary.train_loss, int(t_epochs[0]), t_values[0]),
            _evidence(summary.train_loss, int(t_epochs[-1]), t_values[-1], compared_with=float(t_values[0])),
        ],
        suggestions=[
            (f"Use early stopping on validation loss, or keep the checkpoint with the best validation loss "
             f"(here epoch {summary.best_epoch})."),
            "Add regularization: weight decay, dropout or data augmentation.",
            "Train on more data, or use a smaller model.",
        ],
    )


def _underfitting(summary: TrainingSummary, history: History) -> Finding:
    parts, evidence = [], []
    for what, name in (("Training", summary.train_loss), ("Validation", summary.val_loss)):
        epochs, values = _finite(history, name)
        if name is None or len(values) < MIN_EPOCHS:
            continue
        lowest = int(np.argmin(values))
        parts.append(
            f'{what} loss ("{name}") went from {figure(values[0])} at epoch {epochs[0]} to {figure(values[-1])} at epoch '
            f"{epochs[-1]}; its best, {figure(values[lowest])} at epoch {epochs[lowest]}, is "
            f"{_change(float(values[0]), float(values[lowest]))} from the start"
        )
        evidence += [_evidence(name, int(epochs[0]), values[0]),
                     _evidence(name, int(epochs[lowest]), values[lowest], compared_with=float(values[0]))]
    return Finding(
        id="underfitting", severity="medium",
        title="The loss barely fell during training: the model may be underfitting.",
        detail=(
            "; ".join(parts) + f". Every loss stayed within {FLAT:.0%} of where it started, so the model learned "
            "little from the data (unless it started from an already trained state, as in fine-tuning)."
        ),
        section=SECTION,
        subject=None,
        evidence=evidence,
        suggestions=[
            ("Check the learning rate (too low barely moves the loss) and that inputs and labels reach the model as "
             "intended."),
            "Use a larger model or more informative features, and reduce regularization.",
            "Train for longer, if the loss is still falling slowly.",
        ],
    )


def _convergence_loss(summary: TrainingSummary, history: History) -> str:
    """The loss `not_converged` reads: the training loss if it has a finite value, else the validation loss."""
    if summary.train_loss is not None and np.isfinite(history.series[summary.train_loss]).any():
        return summary.train_loss
    assert summary.val_loss is not None
    return summary.val_loss


def _not_converged(summary: TrainingSummary, history: History) -> Finding:
    name = _convergence_loss(summary, history)
    epochs, values = _finite(history, name)
    n, m = len(values), _tail_size(len(values))
    before, after = float(values[: n - m].min()), float(values[n - m:].min())
    total = float(values[0] - values.min())
    what = "Training" if name == summary.train_loss else "Validation"
    detail = (
        f'{what} loss ("{name}") fell from {figure(values[0])} at epoch {epochs[0]} to {figure(values.min())} at epoch '
        f"{epochs[int(np.argmin(values))]}; in the last "
        f"{m} epochs (from epoch {epochs[n - m]} to {epochs[-1]}) it still fell from {figure(before)} (the lowest before "
        f"them) to {figure(after)}, {(before - after) / total:.0%} of the whole decrease."
    )
    if summary.val_loss is not None and summary.best_epoch is not None and name != summary.val_loss:
        val_epochs, _ = _finite(history, summary.val_loss)
        detail += (
            " Validation loss was also lowest at its last epoch." if summary.best_epoch == int(val_epochs[-1])
            else f" Validation loss was lowest at epoch {summary.best_epoch}, of {int(val_epochs[-1])}."
        )
    return Finding(
        id="not_converged", severity="medium",
        title="The loss was still improving when training stopped.",
        detail=detail,
        section=SECTION,
        subject=None,
        evidence=[_evidence(name, int(epochs[0]), values[0]),
                  _evidence(name, int(epochs[-1]), values[-1], compared_with=before)],
        suggestions=[
            "Train for more epochs, with early stopping on validation loss to stop at the right time.",
            "Try a higher learning rate or a schedule (e.g. warm-up, then cosine decay) to converge in fewer epochs.",
        ],
    )


def _gaps(summary: TrainingSummary, history: History) -> Finding:
    parts, evidence = [], []
    for name in (summary.train_loss, summary.val_loss):
        if name is None:
            continue
        bad = history.epochs[history.nonfinite[name]]
        if len(bad):
            parts.append(f'"{name}" at {"epoch" if len(bad) == 1 else "epochs"} {plain_list(bad.tolist())}')
            evidence += [Evidence(slice=SLICE, group=f"epoch {e}", metric=name, value=None, ci_low=None, ci_high=None,
                                  n=None) for e in bad[:5].tolist()]
    n = len(summary.nan_epochs)
    diverged = summary.nan_epochs[-1] == summary.last_epoch
    return Finding(
        id="training_gaps", severity="low",
        title=f"The loss was NaN or infinite at {n} epoch{'s' if n > 1 else ''}; "
              f"{'they are gaps' if n > 1 else 'it is a gap'} in the learning curves.",
        detail=(
            "NaN or infinite: " + "; ".join(parts) + "."
            + (" The last epoch is one of them: training may have diverged." if diverged else "")
        ),
        section=SECTION,
        subject=None,
        evidence=evidence,
        suggestions=[
            "Look for exploding gradients: lower the learning rate, or clip gradients.",
            "Check the loss for a log of 0 or a division by 0, and the inputs for missing or infinite values.",
        ],
    )
