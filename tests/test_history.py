"""Reading training histories: real-shaped files of each kind, and one test per bad input (class and message)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from reportgen.errors import InputError
from reportgen.history import History, read_history

DATA = Path(__file__).parent / "data" / "history"
RUN_ID = "4f1c2b7e9a0d4c38b5e6f7a8d9c0b1e2"
RUN = DATA / "mlruns" / "0" / RUN_ID


def read(path: Path, source: str | None = None) -> History:
    return read_history(path, source=source or path.name)


def fails(path: Path, message: str, source: str | None = None) -> None:
    """Reading `path` raises an InputError with exactly `message`, on one line."""
    with pytest.raises(InputError) as caught:
        read(path, source)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def no_gaps(history: History) -> bool:
    return not any(mask.any() for mask in history.nonfinite.values())


# Formats ------------------------------------------------------------------------------------------


def test_lightning_csvlogger_keeps_the_last_value_of_each_column_per_epoch():
    # Lightning 2.x: sorted columns, one row per log call (steps 49 and 99 of each epoch, then the
    # validation row and the epoch-end row), empty cells where a row did not log the column.
    history = read(DATA / "lightning_metrics.csv", "logs/metrics.csv")
    assert history.kind == "csv" and history.source == "logs/metrics.csv" and history.params == {}
    assert history.epochs.dtype == np.int64 and history.epochs.tolist() == [0, 1, 2, 3, 4, 5]
    assert list(history.series) == ["train_loss_epoch", "train_loss_step", "val_acc", "val_loss"]  # no "step"
    assert history.series["train_loss_epoch"][:2].tolist() == [0.8100000023841858, 0.5825208425521851]
    assert history.series["train_loss_step"][0] == 0.7732974290847778  # step 99's, the epoch's last
    assert history.series["val_loss"][5] == 0.29745951294898987
    assert history.series["val_acc"][0] == 0.550000011920929
    assert all(values.dtype == np.float64 and np.isfinite(values).all() for values in history.series.values())
    assert no_gaps(history)


def test_keras_history_json_counts_epochs_from_0_as_keras_does():
    history = read(DATA / "keras_history.json")
    saved = json.loads((DATA / "keras_history.json").read_text())
    assert history.kind == "keras"
    assert history.epochs.tolist() == list(range(8))
    assert list(history.series) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for name, values in saved.items():
        assert history.series[name].tolist() == values
    assert no_gaps(history)


def test_keras_csvlogger_reads_na_as_not_logged():
    # Keras's CSVLogger with validation_freq=2 writes "NA" where validation did not run.
    history = read(DATA / "keras_csvlogger.csv")
    assert history.epochs.tolist() == list(range(6))
    val_loss = history.series["val_loss"]
    assert np.isnan(val_loss[[0, 2, 4]]).all() and np.isfinite(val_loss[[1, 3, 5]]).all()
    assert no_gaps(history)  # not logged is not a NaN loss


def test_mlflow_run_folder():
    history = read(RUN, f"mlruns/0/{RUN_ID}")
    assert history.kind == "mlflow"
    assert history.epochs.tolist() == list(range(10))
    assert sorted(history.series) == ["loss", "train/acc", "val_loss"]  # nested folders give "/" names
    assert history.series["loss"][0] == 1.0
    assert history.series["train/acc"][9] == pytest.approx(0.928, abs=1e-3)
    assert history.series["val_loss"][4] == 0.3311  # logged twice at step 4: the later timestamp wins
    assert history.params == {"batch_size": "64", "learning_rate": "0.001", "optimizer": "Adam"}
    assert no_gaps(history)


def test_mlflow_keeps_the_later_line_on_equal_timestamps_and_joins_steps(tmp_path):
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("run_id: run\n")
    (run / "metrics" / "loss").write_text("100 0.9 0\n200 0.5 1\n200 0.4 1\n300 0.3 2\n")
    (run / "metrics" / "val_loss").write_text("250 0.6 1\n\n350 0.5 3\n")
    history = read(run)
    assert history.epochs.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(history.series["loss"], [0.9, 0.4, 0.3, np.nan])
    np.testing.assert_array_equal(history.series["val_loss"], [np.nan, 0.6, np.nan, 0.5])
    assert history.params == {}
    assert no_gaps(history)


def test_nan_losses_are_kept_as_gaps():
    # Lightning writes "nan" for a NaN loss (here epoch 2 of a run that recovered).
    history = read(DATA / "lightning_nan_loss.csv")
    assert history.epochs.tolist() == list(range(6))
    for name in ("train_loss_epoch", "train_loss_step", "val_loss"):
        assert np.isnan(history.series[name][2])
        assert history.nonfinite[name].tolist() == [False, False, True, False, False, False]
    assert history.series["val_acc"][2] == 0.5 and not history.nonfinite["val_acc"].any()


def test_infinite_values_are_gaps_in_every_format(tmp_path):
    (tmp_path / "h.json").write_text('{"loss": [1.0, Infinity, 0.5], "val_loss": [1.1, NaN, null]}')
    (tmp_path / "h.csv").write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,inf,nan\n2,0.5,\n")
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("")
    (run / "metrics" / "loss").write_text("1 1.0 0\n2 inf 1\n3 0.5 2\n")
    (run / "metrics" / "val_loss").write_text("1 1.1 0\n2 nan 1\n")
    for path in (tmp_path / "h.json", tmp_path / "h.csv", run):
        history = read(path)
        np.testing.assert_array_equal(history.series["loss"], [1.0, np.nan, 0.5])
        np.testing.assert_array_equal(history.series["val_loss"], [1.1, np.nan, np.nan])
        assert history.nonfinite["loss"].tolist() == [False, True, False]
        assert history.nonfinite["val_loss"].tolist() == [False, True, False]  # null / empty: not logged


def test_a_finite_value_in_the_epoch_wins_over_a_nan(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,step,loss\n0,0,nan\n0,1,0.8\n1,2,0.6\n1,3,nan\n")
    history = read(tmp_path / "h.csv")
    assert history.series["loss"].tolist() == [0.8, 0.6]
    assert no_gaps(history)


@pytest.mark.parametrize("column", ["epoch", "Epoch", "epochs", "EPOCH"])
def test_epoch_column_names(tmp_path, column):
    (tmp_path / "h.csv").write_text(f"{column},loss\n1,0.9\n2,0.7\n")
    history = read(tmp_path / "h.csv")
    assert history.epochs.tolist() == [1, 2] and list(history.series) == ["loss"]


def test_rows_in_any_order_give_increasing_epochs(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss\n2,0.5\n0,0.9\n1,0.7\n")
    history = read(tmp_path / "h.csv")
    assert history.epochs.tolist() == [0, 1, 2]
    assert history.series["loss"].tolist() == [0.9, 0.7, 0.5]


def test_text_columns_are_not_metrics(tmp_path):
    (tmp_path / "h.csv").write_text(
        "epoch,time,phase,loss,global_step,empty\n"
        "0,2024-06-10 12:00:01,train,0.9,100,\n1,2024-06-10 12:00:09,train,0.7,200,\n"
    )
    assert list(read(tmp_path / "h.csv").series) == ["loss"]


def test_keras_numbers_saved_as_text_and_an_epoch_list(tmp_path):
    # json.dump(history.history, f, default=str) writes float32 values as strings
    (tmp_path / "h.json").write_text('{"epoch": [1, 2, 3], "loss": ["0.9", "0.7", "0.6"]}')
    history = read(tmp_path / "h.json")
    assert history.epochs.tolist() == [1, 2, 3]
    assert history.series["loss"].tolist() == [0.9, 0.7, 0.6]


# Bad input ----------------------------------------------------------------------------------------

ACCEPTED = "use a .csv file with an epoch column, a Keras History.history .json file, or an MLflow run folder"
KERAS_SHAPE = ('expected a Keras History.history: an object of metric name → list of per-epoch values, '
               'e.g. {"loss": [0.9, 0.6]}')


def test_missing_path(tmp_path):
    fails(tmp_path / "history.csv", f"history.csv: no such training history file or folder ({tmp_path / 'history.csv'}); "
          + ACCEPTED)


def test_unknown_format(tmp_path):
    (tmp_path / "history.txt").write_text("epoch loss\n0 0.9\n")
    fails(tmp_path / "history.txt", f'history.txt: unknown training history format ".txt"; {ACCEPTED}')


@pytest.mark.parametrize("name", ["h.csv", "h.json"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_text("")
    expected = ("the file is empty; expected a CSV with an epoch column and one column per metric"
                if name.endswith("csv") else f"the file is empty; {KERAS_SHAPE}")
    fails(tmp_path / name, f"{name}: {expected}")


def test_csv_with_a_header_only(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss\n")
    fails(tmp_path / "h.csv", "h.csv: no rows; the training history is empty")


def test_csv_without_an_epoch_column():
    # pd.DataFrame(history.history).to_csv("history.csv"): the epoch is an unnamed index column
    fails(DATA / "pandas_index.csv",
          "pandas_index.csv: no epoch column; columns are: Unnamed: 0, accuracy, loss, val_accuracy, val_loss; "
          'name the column of epoch numbers "epoch" (the unnamed first column looks like a pandas index: '
          'write it with index_label="epoch")')


def test_csv_without_an_epoch_column_lists_five_columns(tmp_path):
    (tmp_path / "h.csv").write_text("step,a,b,c,d,e,f,g\n0,1,2,3,4,5,6,7\n")
    fails(tmp_path / "h.csv", 'h.csv: no epoch column; columns are: step, a, b, c, d … and 3 more; '
          'name the column of epoch numbers "epoch"')


def test_csv_that_is_not_csv(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss\n0,0.9\n1,0.8,0.1,7\n")
    with pytest.raises(InputError, match=r"^h\.csv: line 3 has 4 fields, the header has 2; every line needs one value"):
        read(tmp_path / "h.csv")


def test_csv_epoch_that_is_not_a_whole_number(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss\n0,0.9\n,0.8\n1.5,0.7\n2,0.6\n")
    fails(tmp_path / "h.csv", 'h.csv: column "epoch": 2 values (rows 2, 3) not a whole-number epoch: "", "1.5"; '
          "every row needs its epoch number")


def test_csv_metric_mixing_numbers_and_text(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss\n0,0.9\n1,0.8?\n2,0.7\n")
    fails(tmp_path / "h.csv", 'h.csv: column "loss": 1 non-numeric value (row 2): "0.8?"; a metric column holds numbers, '
          "or is empty where not logged")


def test_csv_with_only_an_epoch_column(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,step\n0,10\n1,20\n")
    fails(tmp_path / "h.csv", "h.csv: no metrics; a training history needs per-epoch losses or metrics")


@pytest.mark.parametrize(("name", "text"), [
    ("h.csv", "epoch,loss,val_loss\n0,nan,\n1,inf,nan\n"),
    ("h.json", '{"loss": [NaN, Infinity], "val_loss": [null, NaN]}'),
])
def test_no_finite_value_at_all(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    fails(tmp_path / name, f'{name}: no finite value in any metric ("loss", "val_loss"); every value logged is NaN, '
          "infinite or missing")


def test_keras_json_that_is_not_json(tmp_path):
    (tmp_path / "h.json").write_text('{"loss": [0.9, 0.8,]}')
    with pytest.raises(InputError, match=r"^h\.json: not a readable Keras history \(not JSON: [^\n]*at line 1 column \d+\); expected"):
        read(tmp_path / "h.json")  # Python's wording varies by version; the position is always there


def test_keras_json_that_is_a_list(tmp_path):
    (tmp_path / "h.json").write_text('[{"epoch": 0, "loss": 0.9}]')
    fails(tmp_path / "h.json", f"h.json: found a JSON list; {KERAS_SHAPE}")


def test_keras_json_whose_values_are_not_lists(tmp_path):
    (tmp_path / "h.json").write_text('{"loss": 0.9, "val_loss": [0.8]}')
    fails(tmp_path / "h.json", f'h.json: "loss" is not a list; {KERAS_SHAPE}')


def test_keras_lists_of_different_lengths():
    # fit(..., validation_freq=2): Keras records validation metrics every other epoch only
    fails(DATA / "keras_validation_freq.json",
          'keras_validation_freq.json: the lists differ in length ("accuracy": 8, "loss": 8, "val_accuracy": 4, '
          '"val_loss": 4); every metric needs one value per epoch (with validation_freq > 1, log with '
          "keras.callbacks.CSVLogger instead)")


def test_keras_values_that_are_not_numbers(tmp_path):
    (tmp_path / "h.json").write_text('{"loss": [0.9, "n/a", true, 0.6]}')
    fails(tmp_path / "h.json", 'h.json: "loss": 2 values not a number (epochs 1, 2: "n/a", true); '
          "each list holds one number per epoch")


def test_keras_empty_lists(tmp_path):
    (tmp_path / "h.json").write_text('{"loss": [], "val_loss": []}')
    fails(tmp_path / "h.json", "h.json: the lists are empty; the training history has no epochs")


def test_mlflow_experiment_folder_instead_of_a_run():
    fails(DATA / "mlruns" / "0",
          f'mlruns/0: an MLflow experiment folder, not a run; pass one run folder, e.g. mlruns/0/{RUN_ID} '
          f'(runs here: "{RUN_ID}")', source="mlruns/0")


def test_mlflow_store_instead_of_a_run():
    fails(DATA / "mlruns", f"mlruns/: an MLflow store (mlruns/), not a run; pass one run folder, e.g. mlruns/0/{RUN_ID}",
          source="mlruns/")


def test_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "meta.yaml").write_text("")
    fails(tmp_path / "out", "out: a folder but not an MLflow run (no metrics/ folder); pass one run folder, "
          "e.g. mlruns/0/<run id>, or a .csv or Keras .json history file")


def test_a_lightning_log_folder_instead_of_its_metrics_csv():
    fails(DATA / "lightning_logs" / "version_0",
          'lightning_logs/version_0: a folder, not a history file or MLflow run; did you mean '
          '"lightning_logs/version_0/metrics.csv"?', source="lightning_logs/version_0")


def test_mlflow_metric_line_of_the_wrong_shape(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    (run / "metrics" / "val_loss").write_text("1718006401017 1.13 0\n1718006406017 0.75\n")
    fails(run, 'run: metrics/val_loss line 2: expected "<timestamp ms> <value> <step>", found "1718006406017 0.75"')


def test_mlflow_run_without_metric_values(tmp_path):
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "meta.yaml").write_text("")
    (run / "metrics" / "loss").write_text("")
    fails(run, "run: the MLflow run has no metric values (its metrics/ folder is empty)")


def test_error_messages_name_the_source_as_written():
    with pytest.raises(InputError, match=re.escape("configs/../mlruns/0: an MLflow experiment folder")):
        read_history(DATA / "mlruns" / "0", source="configs/../mlruns/0")


# Hostile files (issue 12) -------------------------------------------------------------------------


def test_issue_12_duplicate_history_csv_columns(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss,loss\n0,0.9,0.8\n1,0.7,0.6\n")
    fails(tmp_path / "h.csv", 'h.csv: the header repeats column "loss"; give each column its own name (pandas would '
          "silently rename the copy)")


def test_issue_12_duplicate_history_csv_columns_after_stripping(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss,loss \n0,0.9,0.8\n1,0.7,0.6\n")
    fails(tmp_path / "h.csv", 'h.csv: the header repeats column "loss"; give each column its own name')


def test_issue_12_short_history_csv_line(tmp_path):
    (tmp_path / "h.csv").write_text("epoch,loss,val_loss\n0,0.9,1.0\n1,0.7\n")
    fails(tmp_path / "h.csv", "h.csv: line 3 has 2 fields, the header has 3; every line needs one value per column "
          "(leave a value empty, not out)")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"loss": [0.9, 0.8], "loss": [1, 2]}', 'key "loss" appears twice in one object'),
        ('{"loss": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ],
    ids=["duplicate-key", "deep"],
)
def test_issue_12_hostile_keras_json(tmp_path, text, reason):
    (tmp_path / "h.json").write_text(text)
    with pytest.raises(InputError, match=rf"^h\.json: not a readable Keras history \({reason}\); expected a Keras"):
        read(tmp_path / "h.json")


def test_issue_12_long_history_values_are_cut(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps({"loss": [0.9, "x" * 5000]}))
    with pytest.raises(InputError) as caught:
        read(tmp_path / "h.json")
    assert "x" * 70 in str(caught.value) and len(str(caught.value)) < 400


def test_issue_12_mlflow_metric_line_is_shown_escaped_and_cut(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RUN, run)
    (run / "metrics" / "val_loss").write_text("1718006401017 1.13 0\n\x1b[2J" + "x" * 500 + "\n")
    fails(run, f'run: metrics/val_loss line 2: expected "<timestamp ms> <value> <step>", found "\\x1b[2J{"x" * 52}…"')
