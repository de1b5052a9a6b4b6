"""The training history in the card: read from the config, summarized, drawn, and turned into findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.cli import main
from reportgen.figures import learning_curves
from reportgen.render.json import read_json

ROOT = Path(__file__).resolve().parents[2]
HISTORY = ROOT / "tests" / "data" / "history"
MLFLOW_RUN = next(p for p in (HISTORY / "mlruns" / "0").iterdir() if p.is_dir())
CONFIG = ('[report]\noutput_dir = "out"\n[model]\nname = "m"\n[model.params]\nlearning_rate = 0.01\n'
          '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n[training]\nhistory = "{history}"\n')


def _predictions(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({"y": y, "p": np.clip(0.5 + (y - 0.5) * 0.4 + rng.normal(0, 0.2, n), 0, 1).round(3)})


def _overfitting_history(path: Path) -> Path:
    """Training loss falls throughout; validation loss is lowest at epoch 9, then rises."""
    epochs = np.arange(30)
    train = 1.0 * np.exp(-epochs / 8)
    val = 0.5 + 0.002 * (epochs - 9) ** 2
    pd.DataFrame({"epoch": epochs, "train_loss": train.round(5), "val_loss": val.round(5)}).to_csv(path, index=False)
    return path


def test_overfitting_is_found_drawn_and_stated(tmp_path: Path) -> None:
    ev = reportgen.evaluate(_predictions(), label="y", score="p", resamples=100,
                            history=_overfitting_history(tmp_path / "metrics.csv"))
    report = ev.to_report()
    training = report.training
    assert training is not None and training.kind == "csv"
    assert (training.train_loss, training.val_loss, training.best_epoch) == ("train_loss", "val_loss", 9)
    assert training.overfitting_epoch is not None and training.overfitting_epoch > 9
    overfitting = [f for f in ev.findings if f.id == "overfitting"]
    assert len(overfitting) == 1 and overfitting[0].section == "training"
    ev.to_html(tmp_path / "report.html")
    html = (tmp_path / "report.html").read_text()
    assert '<h3 id="training">Training history</h3>' in html and 'id="chart-training"' in html
    assert f"From epoch {training.overfitting_epoch} the validation loss rises" in html
    assert "is lowest at epoch 9: 0.5000." in html


def test_cli_reads_an_mlflow_run_and_records_its_params(tmp_path: Path) -> None:
    _predictions().to_csv(tmp_path / "predictions.csv", index=False)
    shutil.copytree(MLFLOW_RUN, tmp_path / "run")
    (tmp_path / "config.toml").write_text(CONFIG.format(history="run"))
    assert main(["build", str(tmp_path / "config.toml"), "--format", "json", "-q"]) == 0
    report = read_json(tmp_path / "out" / "report.json")
    assert report.training is not None and report.training.kind == "mlflow" and report.training.source == "run"
    params = {p.name: p.read_text().strip() for p in (MLFLOW_RUN / "params").iterdir()}
    # the config's [model.params] win over the run's params of the same name
    assert report.run.params == {**params, "learning_rate": 0.01}
    raw = json.loads((tmp_path / "out" / "report.json").read_text())
    assert raw["training"]["epochs"] == report.training.epochs


def test_nan_losses_are_gaps_in_the_document(tmp_path: Path) -> None:
    ev = reportgen.evaluate(_predictions(), label="y", score="p", resamples=100,
                            history=HISTORY / "lightning_nan_loss.csv")
    training = ev.to_report().training
    assert training is not None
    gapped = [s for s in training.series if s.nonfinite_epochs]
    assert gapped and all(s.values[training.epochs.index(e)] is None for s in gapped for e in s.nonfinite_epochs)
    assert any(f.id == "training_gaps" for f in ev.findings)


def test_a_missing_history_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _predictions().to_csv(tmp_path / "predictions.csv", index=False)
    (tmp_path / "config.toml").write_text(CONFIG.format(history="logs/metrics.csv"))
    assert main(["build", str(tmp_path / "config.toml"), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("reportgen: error: logs/metrics.csv") and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_long_histories_are_thinned_for_the_chart_only(tmp_path: Path) -> None:
    """20,000 logged epochs: all in the document; about 500 drawn, with the best epoch and every gap."""
    epochs = np.arange(20_000)
    val = 0.3 + 0.5 * np.exp(-epochs / 3000)
    val[7_777] -= 0.1  # the lowest validation loss
    train = np.exp(-epochs / 3000)
    train[[12_345, 12_346]] = np.nan
    pd.DataFrame({"epoch": epochs, "loss": train, "val_loss": val}).to_csv(tmp_path / "h.csv", index=False, na_rep="nan")
    report = reportgen.evaluate(_predictions(), label="y", score="p", resamples=100, history=tmp_path / "h.csv").to_report()
    training = report.training
    assert training is not None and len(training.epochs) == 20_000 and training.best_epoch == 7_777
    drawn, curves = learning_curves(training)
    assert len(drawn) <= 505 and {0, 7_777, 12_345, 12_346, 19_999} <= set(drawn)
    assert np.isnan(curves["loss"][drawn.index(12_345)]) and curves["loss"][drawn.index(7_777)] is not None
