"""Training history analysis: loss pairs, the rules on synthetic curves, properties, and the learning-curves chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.analysis.training import (
    SeriesPair,
    chart_series,
    find_pairs,
    loss_pair,
    summarize,
    training_findings,
)
from reportgen.charts import learning_curves_chart
from reportgen.charts import spec as chart_spec
from reportgen.history import History, read_history

DATA = Path(__file__).parent.parent / "data" / "history"


def history(epochs: np.ndarray | None = None, **series: np.ndarray) -> History:
    """A history of the given series; NaN values count as logged NaN (gaps)."""
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}
    n = len(next(iter(arrays.values())))
    return History(
        source="history.csv", kind="csv",
        epochs=np.arange(n, dtype=np.int64) if epochs is None else np.asarray(epochs, dtype=np.int64),
        series=arrays, params={}, nonfinite={name: np.isnan(values) for name, values in arrays.items()},
    )


def ids(h: History) -> list[str]:
    return [f.id for f in training_findings(summarize(h), h)]


E = np.arange(50)
FALLING = 0.2 + 0.8 * np.exp(-E / 8)  # a loss that converges within 50 epochs


# Pairs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("names", "train", "val"), [
    (["loss", "accuracy", "val_loss", "val_accuracy"], "loss", "val_loss"),  # Keras
    (["train_loss", "val_loss"], "train_loss", "val_loss"),
    (["train_loss_step", "train_loss_epoch", "val_loss"], "train_loss_epoch", "val_loss"),  # Lightning
    (["train_loss_step", "val_loss_step", "val_loss_epoch"], "train_loss_step", "val_loss_epoch"),
    (["training_loss", "validation_loss"], "training_loss", "validation_loss"),
    (["train/loss", "val/loss", "train/acc"], "train/loss", "val/loss"),  # MLflow, W&B
    (["Loss/train", "Loss/val"], "Loss/train", "Loss/val"),  # TensorBoard tutorials
    (["loss", "eval_loss", "learning_rate"], "loss", "eval_loss"),  # Hugging Face Trainer
    (["loss", "train_loss", "val_loss"], "train_loss", "val_loss"),  # an explicit "train" wins
    (["val_loss"], None, "val_loss"),
    (["loss"], "loss", None),
])
def test_loss_pairs(names, train, val):
    h = history(**{name: [1.0, 0.5] for name in names})
    assert loss_pair(h) == SeriesPair("loss", train, val)


def test_no_loss():
    assert loss_pair(history(accuracy=[0.5, 0.7], lr=[0.1, 0.1])) is None


def test_metric_pairs_follow_the_same_rules():
    names = ["epoch_time", "train_acc_epoch", "train_acc_step", "loss", "val_acc", "val/f1", "lr", "test_loss"]
    assert find_pairs(names) == [
        SeriesPair("loss", "loss", None),
        SeriesPair("acc", "train_acc_epoch", "val_acc"),
        SeriesPair("f1", None, "val/f1"),
    ]


# Rules --------------------------------------------------------------------------------------------


def test_overfitting_on_a_u_shaped_validation_curve():
    val = 0.3 + 0.0004 * (E - 20.0) ** 2  # lowest at epoch 20; 2% above it (0.306) from epoch 24 on
    h = history(train_loss=FALLING, val_loss=val)
    summary = summarize(h)
    assert (summary.best_epoch, summary.best_val_loss) == (20, 0.3)
    assert summary.overfitting_epoch == 24
    assert not summary.underfitting and not summary.not_converged  # training longer would not help
    (finding,) = training_findings(summary, h)
    assert (finding.id, finding.severity, finding.section) == ("overfitting", "medium", "training")
    assert "after epoch 20" in finding.title
    assert 'lowest, 0.3, at epoch 20; from epoch 24 on it stayed more than 2% above that, ending at 0.6364 at epoch 49 (+112.1%)' \
        in finding.detail
    assert [(e.slice, e.group, e.metric) for e in finding.evidence] == [
        ("training", "epoch 20", "val_loss"), ("training", "epoch 49", "val_loss"),
        ("training", "epoch 20", "train_loss"), ("training", "epoch 49", "train_loss"),
    ]
    assert finding.evidence[1].compared_with == 0.3 and finding.evidence[0].ci_low is None
    assert any("early stopping" in s for s in finding.suggestions) and 2 <= len(finding.suggestions) <= 3


def test_no_overfitting_on_a_falling_validation_curve():
    h = history(train_loss=FALLING, val_loss=FALLING + 0.1)
    assert summarize(h).overfitting_epoch is None
    assert summarize(h).best_epoch == 49
    assert ids(h) == []


def test_no_overfitting_on_a_noisy_plateau_or_a_rise_that_came_back():
    rng = np.random.default_rng(0)
    plateau = np.maximum(FALLING, 0.25) * (1 + rng.uniform(-0.008, 0.008, 50))  # ±0.8%: noise, not a rise
    bump = FALLING + 0.1 * np.exp(-((E - 30.0) ** 2) / 20)  # rose around epoch 30, then fell again
    for val in (plateau, bump):
        assert summarize(history(train_loss=FALLING, val_loss=val)).overfitting_epoch is None


def test_no_overfitting_when_training_loss_rises_too():
    rising = np.r_[FALLING[:20], FALLING[19] + 0.02 * np.arange(1, 31)]  # both rise: divergence, not overfitting
    assert summarize(history(train_loss=rising, val_loss=rising + 0.1)).overfitting_epoch is None


def test_underfitting_on_flat_high_curves():
    rng = np.random.default_rng(1)
    h = history(loss=2.30 + rng.uniform(-0.02, 0.02, 30), val_loss=2.31 + rng.uniform(-0.02, 0.02, 30))
    summary = summarize(h)
    assert summary.underfitting and not summary.not_converged and summary.overfitting_epoch is None
    (finding,) = training_findings(summary, h)
    assert (finding.id, finding.severity) == ("underfitting", "medium")
    assert "within 5% of where it started" in finding.detail and '"loss"' in finding.detail and '"val_loss"' in finding.detail


def test_no_underfitting_on_a_converging_run():
    for h in (history(loss=FALLING, val_loss=FALLING + 0.05), history(loss=FALLING[:4])):
        assert not summarize(h).underfitting


def test_not_converged_on_a_still_falling_curve():
    h = history(loss=np.linspace(1.0, 0.4, 30), val_loss=np.linspace(1.1, 0.55, 30))
    summary = summarize(h)
    assert summary.not_converged and not summary.underfitting
    (finding,) = training_findings(summary, h)
    assert (finding.id, finding.severity) == ("not_converged", "medium")
    assert finding.detail.startswith(
        'Training loss ("loss") fell from 1 at epoch 0 to 0.4 at epoch 29; in the last 6 epochs (from epoch 24 to 29) '
        "it still fell from 0.5241 (the lowest before them) to 0.4, 21% of the whole decrease.")
    assert finding.detail.endswith("Validation loss was also lowest at its last epoch.")
    assert any("more epochs" in s for s in finding.suggestions)


def test_not_converged_reads_the_validation_loss_without_a_training_loss():
    for h in (history(val_loss=np.linspace(1.0, 0.4, 30)),
              history(loss=np.full(30, np.nan), val_loss=np.linspace(1.0, 0.4, 30))):
        (finding,) = [f for f in training_findings(summarize(h), h) if f.id == "not_converged"]
        assert finding.detail.startswith('Validation loss ("val_loss") fell from 1 at epoch 0')


def test_converged_curves_are_not_reported():
    rng = np.random.default_rng(2)
    noisy = FALLING * (1 + rng.uniform(-0.01, 0.01, 50))
    assert not summarize(history(loss=FALLING)).not_converged
    assert not summarize(history(loss=noisy)).not_converged


def test_nan_losses_are_kept_and_reported_as_gaps():
    train = FALLING.copy()
    train[[10, 11]] = np.nan
    val = FALLING + 0.1
    val[11] = np.nan
    h = history(train_loss=train, val_loss=val)
    summary = summarize(h)
    assert summary.nan_epochs == [10, 11]
    assert summary.best_epoch == 49 and summary.overfitting_epoch is None
    (finding,) = training_findings(summary, h)
    assert (finding.id, finding.severity, finding.section) == ("training_gaps", "low", "training")
    assert finding.title == "The loss was NaN or infinite at 2 epochs; they are gaps in the learning curves."
    assert finding.detail == 'NaN or infinite: "train_loss" at epochs 10, 11; "val_loss" at epoch 11.'
    assert [(e.group, e.metric, e.value) for e in finding.evidence] == [
        ("epoch 10", "train_loss", None), ("epoch 11", "train_loss", None), ("epoch 11", "val_loss", None)]


def test_a_nan_at_the_end_says_training_may_have_diverged():
    train = FALLING.copy()
    train[-3:] = np.nan
    (finding,) = training_findings(summarize(history(loss=train)), history(loss=train))
    assert finding.detail.endswith("The last epoch is one of them: training may have diverged.")


def test_validation_every_few_epochs_is_not_a_gap():
    h = read_history(DATA / "keras_csvlogger.csv", source="log.csv")  # "NA" where validation did not run
    assert summarize(h).nan_epochs == []
    assert "training_gaps" not in ids(h)


def test_real_shaped_histories():
    lightning = summarize(read_history(DATA / "lightning_nan_loss.csv", source="metrics.csv"))
    assert (lightning.train_loss, lightning.val_loss, lightning.nan_epochs) == ("train_loss_epoch", "val_loss", [2])
    assert lightning.metrics == [SeriesPair("acc", None, "val_acc")]
    mlflow = summarize(read_history(DATA / "mlruns" / "0" / "4f1c2b7e9a0d4c38b5e6f7a8d9c0b1e2", source="run"))
    assert (mlflow.train_loss, mlflow.val_loss, mlflow.best_epoch, mlflow.last_epoch) == ("loss", "val_loss", 7, 9)
    assert mlflow.metrics == [SeriesPair("acc", "train/acc", None)]


# Properties ---------------------------------------------------------------------------------------

values = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=64), st.just(math.nan))


@st.composite
def losses(draw: st.DrawFn) -> tuple[list[float], list[float] | None]:
    n = draw(st.integers(1, 40))
    train = draw(st.lists(values, min_size=n, max_size=n))
    val = draw(st.one_of(st.none(), st.lists(values, min_size=n, max_size=n)))
    return train, val


@settings(max_examples=300, deadline=None)
@given(losses(), st.integers(-5, 5))
def test_summarize_never_fails_and_best_epoch_is_the_argmin(drawn, first_epoch):
    train, val = drawn
    series = {"loss": train} if val is None else {"loss": train, "val_loss": val}
    h = history(np.arange(first_epoch, first_epoch + len(train)), **series)
    with np.errstate(over="ignore", invalid="ignore"):
        summary = summarize(h)
        findings = training_findings(summary, h)
    assert summary.last_epoch == first_epoch + len(train) - 1
    finite = [(v, e) for e, v in zip(h.epochs.tolist(), val or [], strict=False) if math.isfinite(v)]
    if finite:
        lowest = min(v for v, _ in finite)
        assert summary.best_val_loss == lowest
        assert summary.best_epoch == next(e for v, e in finite if v == lowest)
    else:
        assert summary.best_epoch is None and summary.best_val_loss is None
    if summary.overfitting_epoch is not None:
        assert summary.best_epoch is not None and summary.overfitting_epoch > summary.best_epoch
    assert not (summary.not_converged and (summary.underfitting or summary.overfitting_epoch is not None))
    assert all(f.section == "training" and f.severity in ("medium", "low") for f in findings)


# Chart --------------------------------------------------------------------------------------------


def test_learning_curves_chart_stays_small_for_500_epochs():
    rng = np.random.default_rng(3)
    e = np.arange(500)
    series = {
        "train_loss": (0.2 + np.exp(-e / 50) + rng.normal(0, 0.01, 500)).tolist(),
        "val_loss": (0.3 + np.exp(-e / 40) + (e / 800) ** 2).tolist(),
        "train_acc": (1 - 0.5 * np.exp(-e / 50)).tolist(),
        "val_acc": (0.95 - 0.5 * np.exp(-e / 40)).tolist(),
    }
    spec = json.dumps(chart_spec(learning_curves_chart(e.tolist(), series, best_epoch=137)))
    assert len(spec.encode()) < 50_000


def test_learning_curves_chart_panels_gaps_and_best_epoch():
    h = history(loss=[1.0, 0.7, math.nan, 0.5], val_loss=[1.1, 0.8, 0.75, 0.9], accuracy=[0.5, 0.6, 0.7, 0.72])
    h.nonfinite["val_loss"][2] = False  # not logged at epoch 2 (validation skipped), unlike the NaN training loss
    h.series["val_loss"][2] = math.nan
    series = chart_series(h, ["loss", "val_loss", "accuracy"])
    assert series["loss"][2] != series["loss"][2] and series["val_loss"][2] is None
    spec = learning_curves_chart(h.epochs.tolist(), series, best_epoch=1).to_dict()
    (rows,) = spec["datasets"].values() if len(spec["datasets"]) == 1 else [
        v for v in spec["datasets"].values() if v and "epoch" in v[0] and len(v) == 4]
    assert rows[2] == {"epoch": 2, "s0": None, "s2": 0.7}  # NaN: a null (gap); not logged: no key (joined)
    panels = spec["hconcat"]
    assert [p["title"] for p in panels] == ["Loss", "Other metrics"]
    lines, rule = panels[0]["layer"]
    assert lines["encoding"]["x"]["title"] == "Epoch" and lines["encoding"]["y"]["title"] == "Loss"
    assert lines["transform"][0] == {"fold": ["s0", "s1"], "as": ["key", "value"]}
    assert lines["mark"]["invalid"] == "break-paths-filter-domains"
    assert rule["mark"]["type"] == "rule"
    without_best = learning_curves_chart(h.epochs.tolist(), {"loss": series["loss"]}, best_epoch=None).to_dict()
    assert len(without_best["hconcat"]) == 1 and len(without_best["hconcat"][0]["layer"]) == 1


def test_learning_curves_chart_renders():
    vl_convert = pytest.importorskip("vl_convert")
    h = read_history(DATA / "lightning_nan_loss.csv", source="metrics.csv")
    names = ["train_loss_epoch", "val_loss", "val_acc"]
    svg = vl_convert.vegalite_to_svg(chart_spec(learning_curves_chart(
        h.epochs.tolist(), chart_series(h, names), summarize(h).best_epoch)))
    assert svg.startswith("<svg") and "train_loss_epoch" in svg and "Epoch" in svg
