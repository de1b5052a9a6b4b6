"""The command line end to end: the bundled example, exit codes, one-line errors, no partial output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import reportgen
from reportgen.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "adult-income" / "config.toml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reportgen.cli", *args], capture_output=True, text=True, check=False)


def test_build_example_writes_html_and_json(tmp_path: Path) -> None:
    result = run("build", str(EXAMPLE), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "report.html"), str(tmp_path / "report.json")]
    document = json.loads((tmp_path / "report.json").read_text())
    assert document["evaluation_data"]["rows"] == 14653
    assert [s["name"] for s in document["slices"]][:2] == ["sex", "race"]
    html = (tmp_path / "report.html").read_text()
    assert "<script" not in html  # the default report needs no JavaScript
    assert html.count('<figure class="chart"') == html.count("<svg") >= 10
    assert "done" in result.stderr  # progress goes to stderr


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"reportgen {reportgen.__version__}"


def _config(tmp_path: Path, body: str, data: str | None = "y,p,sex\n1,0.9,f\n0,0.2,m\n") -> Path:
    if data is not None:
        (tmp_path / "predictions.csv").write_text(data)
    config = tmp_path / "config.toml"
    config.write_text(body)
    return config


GOOD = '[report]\noutput_dir = "out"\n[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'


@pytest.mark.parametrize(
    ("body", "data", "message"),
    [
        (GOOD.replace("label", "lable"), None, 'config.toml: [data] lable: unknown key; did you mean "label"?'),
        (GOOD, "y,p,sex\n1,0.9,f\n0,1.7,m\n", 'predictions.csv: column "p": 1 value (row 2) outside [0, 1]; scores must be probabilities'),
        (GOOD.replace("predictions.csv", "missing.csv"), None, "missing.csv: no such predictions file"),
        (GOOD + '[[slices]]\nwhere = "nope > 1"\n', None, '[[slices]] #1 where "nope > 1"'),
        ("[data\n", None, "not valid TOML"),
    ],
)
def test_user_errors_exit_2_with_one_line(tmp_path: Path, body: str, data: str | None, message: str) -> None:
    config = _config(tmp_path, body, data if data is not None else "y,p,sex\n1,0.9,f\n0,0.2,m\n")
    result = run("build", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("reportgen: error: ")
    assert message in lines[-1]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: no such config file" in capsys.readouterr().err


def test_unwritable_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, GOOD)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["build", str(config), "--out", str(blocker / "sub"), "-q"]) == 2
    assert "cannot write the output folder" in capsys.readouterr().err


def test_failed_rebuild_keeps_previous_output(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD)
    assert main(["build", str(config), "-q"]) == 0
    before = (tmp_path / "out" / "report.json").read_bytes()
    (tmp_path / "predictions.csv").write_text("y,p,sex\n1,nan,f\n")
    assert main(["build", str(config), "-q"]) == 2
    assert (tmp_path / "out" / "report.json").read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json"]
