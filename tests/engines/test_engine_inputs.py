"""The SQL engines from a config: a folder of files, the automatic choice, the card's run record, and bad or hostile
input — one line naming the file, column or setting, exit 2, nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.cli import main
from reportgen.engines.source import AUTO_BYTES, choose_engine
from tests.engines.conftest import SQL_ENGINES
from tests.engines.test_equivalence import frame


def _project(tmp_path: Path, data: pd.DataFrame, *, parts: int = 3, report: str = 'engine = "duckdb"',
             data_keys: str = 'label = "y"\nscore = "p"', slices: str = '[[slices]]\ncolumn = "sex"\n') -> Path:
    """A project with the rows split over `parts` Parquet files in data/, and a config naming the folder."""
    (tmp_path / "data").mkdir(exist_ok=True)
    for index, part in enumerate(np.array_split(np.arange(len(data)), parts)):
        data.iloc[part].to_parquet(tmp_path / "data" / f"part-{index}.parquet")
    config = tmp_path / "config.toml"
    config.write_text(f'[report]\noutput_dir = "out"\n{report}\n[data]\npath = "data"\n{data_keys}\n{slices}')
    return config


def _refused(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["build", str(config), "--format", "json", "-q"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("reportgen: error: "), captured.err
    assert not (config.parent / "out").exists()
    return lines[0]


def test_a_folder_of_parquet_files_gives_the_numbers_of_the_file_read_in_memory(tmp_path: Path) -> None:
    data = frame(1500, seed=4)
    config = _project(tmp_path, data, slices='[[slices]]\ncolumn = "sex"\n[[slices]]\ncolumn = "age"\nquantiles = 4\n'
                                             '[fairness]\nsensitive = ["sex"]\n')
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    data.to_parquet(tmp_path / "all.parquet")
    numpy_config = tmp_path / "numpy.toml"
    numpy_config.write_text(config.read_text().replace('engine = "duckdb"', 'engine = "numpy"')
                            .replace('path = "data"', 'path = "all.parquet"').replace('"out"', '"out-numpy"'))
    assert main(["build", str(numpy_config), "--format", "json", "-q"]) == 0
    sql, memory = (json.loads((tmp_path / out / "report.json").read_text()) for out in ("out", "out-numpy"))
    assert sql["run"]["engine"]["name"] == "duckdb" and memory["run"]["engine"]["name"] == "numpy"
    assert sql["run"]["engine"]["rows_scanned"] == memory["run"]["engine"]["rows_scanned"] == 1500
    assert any("not run: checks" in note for note in sql["run"]["engine"]["notes"])
    assert all(stage["seconds"] is None for stage in sql["run"]["engine"]["stages"])  # timings only when asked
    for key in ("slices", "fairness", "overall"):
        assert _close(sql[key], memory[key]), key


def _close(left: object, right: object) -> bool:
    """Equal, floats to 1e-9 relative."""
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_close(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_close(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and isinstance(right, float):
        return left == pytest.approx(right, rel=1e-9, abs=1e-12)
    return left == right


def test_timings_are_recorded_when_asked(tmp_path: Path) -> None:
    config = _project(tmp_path, frame(300), report='engine = "duckdb"\ntimings = true')
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    stages = json.loads((tmp_path / "out" / "report.json").read_text())["run"]["engine"]["stages"]
    assert [s["name"] for s in stages][:2] == ["checking the columns", "forming the slices"]
    assert all(s["seconds"] >= 0 for s in stages)


def test_auto_takes_duckdb_for_a_folder_or_a_large_file_and_says_so(tmp_path: Path) -> None:
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    small.write_bytes(b"x" * 10)
    with large.open("wb") as handle:
        handle.truncate(AUTO_BYTES + 1)  # sparse: no disk used
    assert choose_engine("auto", [small], folder=False)[0] == "numpy"
    engine, why = choose_engine("auto", [large], folder=False)
    assert engine == "duckdb" and "above 268 MB" in why
    assert choose_engine("auto", [small, small], folder=True)[0] == "duckdb"
    assert choose_engine("numpy", [large], folder=False)[0] == "numpy"


@pytest.mark.parametrize(("keys", "slices", "expected"), [
    ('label = "truth"\nscore = "p"', "", 'no column "truth" ([data] label)'),
    ('label = "target"\nscore = "p"', "", 'labels must be binary, found more than 1,000 values'),
    ('label = "y"\nscore = "p"', '[[slices]]\ncolumn = "regoin"\n', 'no column "regoin" ([[slices]] #1)'),
    ('label = "y"\nscore = "p"', '[[slices]]\nname = "w"\nwhere = "incme > 3"\n', 'no column "incme"'),
    ('label = "y"\nscore = "age"', "", 'column "age": 1,500 values outside [0, 1]'),
    ('label = "y"\nscore = "p"', '[[slices]]\ncolumn = "sex"\nbins = [0, 1]\n', 'holds VARCHAR values, not numbers'),
])
def test_bad_columns_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: str, slices: str,
                                         expected: str) -> None:
    line = _refused(_project(tmp_path, frame(1500), data_keys=keys, slices=slices), capsys)
    assert expected in line


def test_missing_labels_and_non_finite_scores_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = frame(600)
    data.loc[[3, 9], "y"] = np.nan
    assert 'column "y": 2 missing values' in _refused(_project(tmp_path, data), capsys)
    data = frame(600)
    data.loc[5, "p"] = np.inf
    (tmp_path / "scores").mkdir()
    line = _refused(_project(tmp_path / "scores", data), capsys)
    assert "1 missing, NaN or infinite value among the scores" in line


def test_a_memory_limit_too_small_names_the_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _project(tmp_path, frame(200_000, tied=False), report='engine = "duckdb"\nmemory_limit = "1MB"')
    line = _refused(config, capsys)
    assert "[report] memory_limit = 1MB" in line and "raise memory_limit" in line


def test_folder_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _project(tmp_path, frame(300))
    (tmp_path / "data" / "extra.csv").write_text("y,p\n1,0.5\n")
    assert "files of several formats" in _refused(config, capsys)
    for path in (tmp_path / "data").iterdir():
        path.unlink()
    assert "the folder holds no" in _refused(config, capsys)
    (tmp_path / "data").rmdir()
    assert "no such predictions file or folder" in _refused(config, capsys)


def test_a_symlink_in_the_folder_leading_out_of_the_project_is_refused(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / ".git").mkdir(parents=True)
    outside.mkdir()
    frame(100).to_parquet(outside / "secret.parquet")
    config = _project(project, frame(300))
    os.symlink(outside / "secret.parquet", project / "data" / "zz.parquet")
    line = _refused(config, capsys)
    assert "outside the project root" in line and "symlink" in line


def test_hostile_column_names_and_values_are_quoted_not_run(tmp_path: Path) -> None:
    hostile = 'x"; DROP TABLE reportgen_input; --'
    data = frame(400).rename(columns={"sex": hostile})
    data[hostile] = np.where(np.arange(400) % 2, "a'); DROP TABLE t; --", "<script>alert(1)</script>")
    condition = f"`{hostile}` == '<script>alert(1)</script>'"
    slices = f'[[slices]]\ncolumn = {json.dumps(hostile)}\n[[slices]]\nname = "q"\nwhere = {json.dumps(condition)}\n'
    config = _project(tmp_path, data, slices=slices)
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    groups = {s["name"]: [g["group"] for g in s["groups"]] for s in report["slices"]}
    assert sorted(groups[hostile]) == sorted(["a'); DROP TABLE t; --", "<script>alert(1)</script>"])
    assert report["slices"][-1]["groups"][0]["n"] == 200  # the condition matched the rows holding that text


def test_spark_settings_need_the_spark_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[report]\nengine = "duckdb"\n[data]\nspark_table = "sales.orders"\nlabel = "y"\nscore = "p"\n')
    assert "spark_table" in _refused(config, capsys)
    config.write_text('[report]\nengine = "numpy"\nmemory_limit = "2GB"\n[data]\npath = "x.csv"\nlabel = "y"\n'
                      'score = "p"\n')
    assert "memory_limit: applies to the duckdb engine" in _refused(config, capsys)
    config.write_text('[report]\nengine = "duckdb"\nmemory_limit = "lots"\n[data]\npath = "x.csv"\nlabel = "y"\n'
                      'score = "p"\n')
    assert "[report] memory_limit" in _refused(config, capsys)


def test_the_card_says_up_front_which_analyses_did_not_run(tmp_path: Path) -> None:
    config = _project(tmp_path, frame(400))
    assert main(["build", str(config), "--format", "html", "-q"]) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    glance = html[html.index('<section id="glance">'):html.index("</section>", html.index('<section id="glance">'))]
    assert "Computed by the duckdb engine where the data lies" in glance
    assert "did not run (checks)" in glance  # the error analysis runs where the data lies
    assert '<section id="error-analysis"' in html


def test_a_gate_on_estimates_names_the_engine_that_does_not_make_them(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    frame(300, seed=9).to_parquet(tmp_path / "reference.parquet")
    slices = ('[monitoring]\nreference = "reference.parquet"\ntime = "scored_at"\n[[gates]]\nmetric = "accuracy"\n'
              'windows = "every"\nmin = 0.5\nestimated = true\n')
    line = _refused(_project(tmp_path, frame(300), slices=slices), capsys)
    assert "estimated: the duckdb engine does not estimate metrics from the probabilities alone" in line
    assert 'set [report] engine = "numpy"' in line


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_a_gate_on_performance_over_time_is_checked(tmp_path: Path, engine: str, spark_session) -> None:
    data = frame(2000, seed=3)
    late = data["scored_at"] > data["scored_at"].quantile(0.6)
    data.loc[late, "p"] = 1 - data.loc[late, "p"]  # the model turns wrong: the later windows fall below the reference
    frame(1500, seed=9).to_parquet(tmp_path / "reference.parquet")
    slices = ('[monitoring]\nreference = "reference.parquet"\ntime = "scored_at"\nwindow = "W"\n[[gates]]\n'
              'metric = "accuracy"\nwindows = "every"\nbelow_reference = true\n')
    config = _project(tmp_path, data, slices=slices, report=f'engine = "{engine}"')
    assert main(["build", str(config), "--format", "json", "-q", "--fail-on-gate"]) == 1
    data.to_parquet(tmp_path / "all.parquet")
    numpy_config = tmp_path / "numpy.toml"
    numpy_config.write_text(config.read_text().replace(f'engine = "{engine}"', 'engine = "numpy"')
                            .replace('path = "data"', 'path = "all.parquet"').replace('"out"', '"out-numpy"'))
    assert main(["build", str(numpy_config), "--format", "json", "-q", "--fail-on-gate"]) == 1
    sql, memory = (json.loads((tmp_path / out / "report.json").read_text())["gates"][0] for out in ("out", "out-numpy"))
    failed = [check["subject"] for check in sql["checks"] if check["passed"] is False]
    assert len(failed) >= 3 and failed == [check["subject"] for check in memory["checks"] if check["passed"] is False]
    assert sql["detail"] == memory["detail"]


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_a_gate_on_drift_from_the_reference_is_checked(tmp_path: Path, engine: str, spark_session) -> None:
    reference = frame(300, seed=9)
    reference["age"] = reference["age"] + 30  # drifted: the gate fails
    (tmp_path / "reference").mkdir()
    for index, part in enumerate(np.array_split(np.arange(300), 2)):  # a folder of Parquet files
        reference.iloc[part].to_parquet(tmp_path / "reference" / f"part-{index}.parquet")
    slices = '[monitoring]\nreference = "reference"\n[[gates]]\ndrift_share = 0.1\n'
    config = _project(tmp_path, frame(300), slices=slices, report=f'engine = "{engine}"')
    assert main(["build", str(config), "--format", "json", "-q", "--fail-on-gate"]) == 1
    found = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [c["column"] for c in found["monitoring"]["columns"] if c["drifted"]] == ["age"]
    assert not any(note.startswith("not run: monitoring") for note in found["run"]["engine"]["notes"])


def test_a_gate_on_the_comparison_with_a_baseline_is_checked(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """The engine compares with the baseline where the data lies: a gate on a regression holds it to account."""
    data = frame(2000, seed=8).assign(row_id=lambda d: np.arange(len(d)))
    data.assign(p=np.clip(0.1 + 0.8 * data["y"], 0, 1))[["row_id", "p"]].to_parquet(tmp_path / "baseline.parquet")
    slices = ('[[baseline]]\npath = "baseline.parquet"\nname = "v1"\nscore = "p"\nid = "row_id"\n[[gates]]\n'
              'metric = "roc_auc"\nmax_regression = 0.01\n')
    config = _project(tmp_path, data, slices=slices)
    assert main(["build", str(config), "--format", "json", "-q", "--fail-on-gate"]) == 1  # far worse: the gate fails
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (comparison,) = report["comparisons"]
    assert comparison["baseline"] == "v1" and comparison["join"] == 'on column "row_id"'
    assert not any("not run: comparison" in note for note in report["run"]["engine"]["notes"])


def test_the_same_files_give_the_same_bytes(tmp_path: Path) -> None:
    """One DuckDB thread (the default) adds every sum in the files' order: two builds are byte-identical."""
    config = _project(tmp_path, frame(60_000, seed=5), parts=4,
                      slices='[[slices]]\ncolumn = "region"\n[[slices]]\ncolumn = "age"\nquantiles = 5\n')
    outputs = []
    for out in ("first", "second"):
        assert main(["build", str(config), "--out", str(tmp_path / out), "--format", "json,md,html", "-q"]) == 0
        outputs.append({name: (tmp_path / out / name).read_bytes() for name in ("report.json", "summary.md",
                                                                                  "report.html")})
    assert outputs[0] == outputs[1]


@pytest.mark.skipif("spark" not in SQL_ENGINES, reason="PySpark is not installed")
def test_a_spark_catalog_table_is_read_by_name(tmp_path: Path, spark_session_started) -> None:
    data = frame(500, seed=6)
    spark_session_started.createDataFrame(data[["y", "p", "region"]]).createOrReplaceTempView("scored_orders")
    config = tmp_path / "config.toml"
    config.write_text('[report]\noutput_dir = "out"\nengine = "spark"\n[data]\nspark_table = "scored_orders"\n'
                      'label = "y"\nscore = "p"\n[[slices]]\ncolumn = "region"\n')
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["run"]["engine"]["name"] == "spark" and report["run"]["engine"]["rows_scanned"] == 500
    assert report["evaluation_data"]["source"] == 'table "scored_orders"'
    assert report["run"]["data_fingerprint"] == "not computed (a catalog table)"
    expected = reportgen.evaluate(data, label="y", score="p", slices=[{"column": "region"}], resamples=1000)
    overall = {m["name"]: m["value"] for m in report["overall"]["metrics"]}
    assert overall["roc_auc"] == pytest.approx(expected.measured.overall("roc_auc"), rel=1e-12)


def _with_baseline(tmp_path: Path, baseline: pd.DataFrame, keys: str, data: pd.DataFrame | None = None,
                   parts: int = 1, engine: str = "duckdb") -> Path:
    """A duckdb project whose [baseline] is `baseline`, split over `parts` Parquet files in a folder when > 1."""
    data = frame(400, seed=10).assign(row_id=lambda d: np.arange(len(d))) if data is None else data
    if parts > 1:
        (tmp_path / "old").mkdir()
        for index, part in enumerate(np.array_split(np.arange(len(baseline)), parts)):
            baseline.iloc[part].to_parquet(tmp_path / "old" / f"part-{index}.parquet")
        path = "old"
    else:
        baseline.to_parquet(tmp_path / "old.parquet")
        path = "old.parquet"
    return _project(tmp_path, data, slices=f'[[slices]]\ncolumn = "sex"\n[[baseline]]\npath = "{path}"\n{keys}\n',
                    report=f'engine = "{engine}"')


def _old(rows: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame({"row_id": np.arange(rows)[::-1], "p_old": rng.random(rows)})


@pytest.mark.parametrize(("baseline", "keys", "expected"), [
    (_old(), 'score = "p_old"', '[baseline] "baseline": the duckdb engine joins a baseline\'s rows to the predictions '
                                'on an id column'),
    (_old(), 'score = "p_gone"\nid = "row_id"', 'no column "p_gone" ([baseline] score)'),
    (_old(), 'score = "p_old"\nid = "key"', '[baseline] id "key": no column "key" in data'),
    (_old(399), 'score = "p_old"\nid = "row_id"', "1 of the 400 predictions has no baseline row (e.g. id 399)"),
    (pd.concat([_old(), _old().iloc[:3]]), 'score = "p_old"\nid = "row_id"', "3 duplicate ids in old.parquet (e.g. "
                                                                                "397, 398, 399)"),
    (_old().assign(p_old=lambda d: d["p_old"] + 1), 'score = "p_old"\nid = "row_id"',
     'column "p_old": 400 values outside [0, 1]'),
    (_old().assign(y=1), 'score = "p_old"\nid = "row_id"', 'column "y" differs from the predictions for'),
    (_old(), 'prediction = "p_old"\nid = "row_id"', "a binary model's baseline needs \"score\""),
], ids=["no id", "missing column", "missing id column", "uncovered rows", "duplicate ids", "scores out of range",
        "labels differ", "no score"])
def test_bad_baselines_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], baseline: pd.DataFrame,
                                           keys: str, expected: str) -> None:
    line = _refused(_with_baseline(tmp_path, baseline, keys), capsys)
    assert expected in line, line
    assert "reportgen_" not in line  # the engine's own names never reach a message


def test_a_multiclass_baseline_with_another_class_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = frame(300, seed=12).assign(row_id=lambda d: np.arange(len(d)), label=lambda d: d["level"].map({1: "a", 2: "b",
                                                                                                         3: "c"}))
    config = _project(tmp_path, data, data_keys='label = "label"\nprediction = "label"',
                      slices='[[baseline]]\npath = "old.parquet"\nprediction = "old"\nid = "row_id"\n')
    data.assign(old=np.where(data["level"] == 1, "z", data["label"]))[["row_id", "old"]].to_parquet(
        tmp_path / "old.parquet")
    line = _refused(config, capsys)
    assert "old.parquet: the classes differ from the predictions' (\"z\" only in old.parquet)" in line, line


@pytest.mark.parametrize("engine", SQL_ENGINES)
def test_a_baseline_folder_with_hostile_names_is_joined_on_its_id(tmp_path: Path, engine: str, spark_session) -> None:
    """A folder of baseline files (read by the engine, not through pandas); its score column and the id named to break
    out of SQL: quoted, joined, measured as the numpy engine measures the same rows."""
    hostile = 'p"; DROP TABLE reportgen_input; --'
    data = frame(600, seed=13).assign(**{"id`x": lambda d: [f"r'{k}" for k in range(len(d))]})
    baseline = pd.DataFrame({"id`x": data["id`x"][::-1].to_numpy(), hostile: data["p"][::-1].to_numpy() ** 2})
    keys = f'score = "{hostile.replace(chr(34), chr(92) + chr(34))}"\nid = "id`x"\nname = "squared"'
    config = _with_baseline(tmp_path, baseline, keys, data=data, parts=3, engine=engine)
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    found = reportgen.evaluate(data, label="y", score="p", slices=[{"column": "sex"}], engine="numpy",
                               baseline={"data": baseline, "score": hostile, "id": "id`x", "name": "squared"})
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (comparison,) = report["comparisons"]
    overall = {m["name"]: m for m in comparison["overall"]["metrics"]}
    expected = found.comparisons[0].table
    expected = expected[expected["slice"] == "overall"].set_index("metric")
    for name, metric in overall.items():
        for key in ("difference", "p_value"):
            value = np.nan if metric[key] is None else metric[key]
            assert value == pytest.approx(expected.loc[name, key], rel=1e-9, abs=1e-300, nan_ok=True), name
