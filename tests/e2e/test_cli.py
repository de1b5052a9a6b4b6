"""The command line end to end: the bundled example, exit codes, one-line errors, no partial output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "adult-income" / "config.toml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reportgen.cli", *args], capture_output=True, text=True, check=False)


def test_build_example_writes_every_format(tmp_path: Path) -> None:
    result = run("build", str(EXAMPLE), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr  # a gate of the example fails, but only --fail-on-gate exits 1
    assert result.stdout.split() == [str(tmp_path / name) for name in ("report.html", "report.pdf", "report.json",
                                                                       "summary.md")]
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
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "report.json", "report.pdf",
                                                                      "reportgen-set.json", "summary.md"]


def _gated(tmp_path: Path, gates: str) -> Path:
    """A 400-row binary config whose recall is about 0.8 and whose ROC AUC is about 0.9, with `gates`."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, 0.3, 400), 0, 1)
    frame = pd.DataFrame({"y": y, "p": p.round(4), "sex": rng.choice(["f", "m"], 400)})
    return _config(tmp_path, GOOD + '[[slices]]\ncolumn = "sex"\n' + gates, frame.to_csv(index=False))


PASSING = '[[gates]]\nmetric = "roc_auc"\nmin = 0.6\n'
FAILING = PASSING + '[[gates]]\nmetric = "recall"\nslice = "sex"\nmin = 0.99\n'


@pytest.mark.parametrize(("gates", "fail_on_gate", "code"),
                         [(PASSING, True, 0), (FAILING, True, 1), (FAILING, False, 0)])
def test_fail_on_gate_exits_1_after_writing_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      gates: str, fail_on_gate: bool, code: int) -> None:
    config = _gated(tmp_path, gates)
    args = ["build", str(config), "--format", "json,md"] + (["--fail-on-gate"] if fail_on_gate else [])
    assert main(args) == code
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json", "reportgen-set.json", "summary.md"]
    err = capsys.readouterr().err
    assert "PASS  ROC AUC ≥ 0.6 overall" in err
    if code == 1:
        assert "FAIL  Recall (TPR) ≥ 0.99 in every group of sex: 2 breaches of 2 checked" in err
        assert "1 of 2 quality gates did not pass" in err


def test_check_reads_the_gates_of_a_built_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gated(tmp_path, FAILING)
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    report = tmp_path / "out" / "report.json"
    assert main(["check", str(report)]) == 1
    assert "FAIL  Recall (TPR)" in capsys.readouterr().err
    # the same numbers under the gates of another config
    passing = tmp_path / "passing.toml"
    passing.write_text(GOOD + '[[slices]]\ncolumn = "sex"\n' + PASSING)
    assert main(["check", str(report), "--config", str(passing)]) == 0
    no_gates = tmp_path / "none.toml"
    no_gates.write_text(GOOD)
    assert main(["check", str(report), "--config", str(no_gates)]) == 0
    assert "no quality gates to check" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "report.json: no such report file"),
        ("{", "report.json: not a readable report.json (not JSON: Expecting property name"),
        ('{"schema_version": "1.0.0"}', "report.json: report schema 1.0.0 cannot be read by this reportgen"),
        ('{"schema_version": "9.1.0"}', "report.json: report schema 9.1.0 cannot be read by this reportgen"),
        ('{"schema_version": "2.999.0", "title": 3}', "report.json: not a valid report:"),
        ('{"schema_version": "2.0.0", "title": "t"}',
         "report.json: not a valid report: generator: Field required; it was written with schema 2.0.0, older than"),
    ],
)
def test_check_input_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
                                   message: str) -> None:
    report = tmp_path / "report.json"
    if content is not None:
        report.write_text(content)
    assert main(["check", str(report)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("reportgen: error: ") and message in err and "\n" not in err


def test_check_with_a_config_naming_an_unknown_group_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gated(tmp_path, PASSING)
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    other = tmp_path / "other.toml"
    other.write_text(GOOD + '[[slices]]\ncolumn = "sex"\n[[gates]]\nmetric = "recall"\nslice = "sex"\n'
                            'group = "x"\nmin = 0.5\n')
    assert main(["check", str(tmp_path / "out" / "report.json"), "--config", str(other)]) == 2
    assert 'other.toml: [[gates]] #1 group: slice "sex" has no group "x"; groups are: "f", "m"' in capsys.readouterr().err


def test_gate_error_in_build_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gated(tmp_path, '[[gates]]\nmetric = "auc"\nmin = 0.5\n')
    assert main(["build", str(config), "-q"]) == 2
    assert 'config.toml: [[gates]] #1 metric: unknown metric "auc" for a binary task' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_format_selects_outputs_and_rejects_unknown_ones(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD)
    assert main(["build", str(config), "--format", "html", "-q"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html", "reportgen-set.json"]
    assert "Also as" not in (tmp_path / "out" / "report.html").read_text()  # nothing built beside it to link
    result = run("build", str(config), "--format", "html,docx")
    assert result.returncode == 2
    assert '"docx" is not a format; choose from html, pdf, json, md' in result.stderr


def test_html_links_the_pdf_and_json_built_beside_it(tmp_path: Path) -> None:
    config = _config(tmp_path, GOOD)
    assert main(["build", str(config), "--format", "html,json", "-q"]) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert '<a href="report.json">report.json</a>' in html and "report.pdf" not in html


def test_user_text_cannot_send_terminal_escapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, GOOD.replace('label = "y"', 'label = "y\\u001b[2J"'))
    assert main(["build", str(config), "-q"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and 'no column "y\\x1b[2J"' in err  # escaped by errors.shown


def test_the_command_collects_garbage_rarely_and_ends_with_mains_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """`reportgen` (the console script) sets the collector's thresholds before it runs anything, and exits with
    `main`'s code without Python's teardown; the library (`main`, `evaluate`) leaves the thresholds alone."""
    import gc

    from reportgen import cli

    seen = {}

    def fake_main() -> int:
        seen["thresholds"] = gc.get_threshold()
        return 3

    def fake_exit(code: int) -> None:
        raise SystemExit(code)

    before = gc.get_threshold()
    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(cli.atexit, "_run_exitfuncs", lambda: None)  # this test process's own handlers stay
    try:
        with pytest.raises(SystemExit) as ended:
            cli.run()
    finally:
        gc.set_threshold(*before)
    assert ended.value.code == 3
    assert seen["thresholds"] == cli.GC_THRESHOLDS != before
