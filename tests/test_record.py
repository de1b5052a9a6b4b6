"""The run record: fingerprints of the inputs, the git state of the code, hyperparameters and versions."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import reportgen
from reportgen.cli import main
from reportgen.config import Config, validate
from reportgen.record import config_fingerprint, git_state, versions
from reportgen.render.json import read_json

CONFIG = ('[report]\noutput_dir = "out"\n[model]\nname = "m"\n[model.params]\nlearning_rate = 0.1\ndepth = 3\n'
          'balanced = true\nsolver = "lbfgs"\n[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n')
DATA = "y,p\n" + "".join(f"{i % 2},{(i % 10) / 10}\n" for i in range(40))


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout


def _repository(folder: Path) -> Path:
    _git(folder, "init", "--quiet")
    _git(folder, "config", "user.email", "ci@example.com")
    _git(folder, "config", "user.name", "ci")
    (folder / "config.toml").write_text(CONFIG)
    (folder / "predictions.csv").write_text(DATA)
    _git(folder, "add", "config.toml", "predictions.csv")
    _git(folder, "commit", "--quiet", "-m", "model")
    return folder / "config.toml"


def test_config_fingerprint_ignores_key_order_but_not_values() -> None:
    def fingerprint(data: dict) -> str:
        return config_fingerprint(validate(Config, {"data": data}, source="c"))

    a = fingerprint({"label": "y", "score": "p", "threshold": 0.5})
    assert a == fingerprint({"threshold": 0.5, "score": "p", "label": "y"})
    assert a != fingerprint({"label": "y", "score": "p", "threshold": 0.6})
    assert a.startswith("sha256:") and len(a) == len("sha256:") + 64


def test_git_state_of_a_working_tree(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None  # not a repository
    _repository(tmp_path)
    state = git_state(tmp_path)
    assert state is not None
    assert state.commit == _git(tmp_path, "rev-parse", "HEAD").strip() and not state.dirty
    (tmp_path / "config.toml").write_text(CONFIG + "# edited\n")
    assert git_state(tmp_path).dirty  # type: ignore[union-attr]
    (tmp_path / "notes.txt").write_text("untracked files do not count")
    _git(tmp_path, "checkout", "--quiet", "config.toml")
    assert not git_state(tmp_path).dirty  # type: ignore[union-attr]


def test_versions_name_python_and_the_stack() -> None:
    found = versions()
    assert found["python"] == platform.python_version()
    assert found["reportgen"] == metadata.version("reportgen") == reportgen.__version__
    assert found["numpy"] == metadata.version("numpy")


def test_build_records_the_commit_params_and_fingerprints(tmp_path: Path) -> None:
    config = _repository(tmp_path)
    assert main(["build", str(config), "--format", "json,html", "-q"]) == 0
    report = read_json(tmp_path / "out" / "report.json")
    run = report.run
    assert run.git_commit == _git(tmp_path, "rev-parse", "HEAD").strip() and run.git_dirty is False
    assert run.params == {"learning_rate": 0.1, "depth": 3, "balanced": True, "solver": "lbfgs"}
    assert run.data_fingerprint == report.evaluation_data.fingerprint
    raw = json.loads((tmp_path / "out" / "report.json").read_text())
    assert raw["run"]["params"]["depth"] == 3 and raw["run"]["params"]["balanced"] is True
    html = (tmp_path / "out" / "report.html").read_text()
    assert f'git commit <code class="hash commit">{run.git_commit}</code></dd>' in html
    assert '<th scope="row">learning_rate</th><td class="num">0.1</td>' in html
    assert '<th scope="row">balanced</th><td class="num">true</td>' in html  # as written in TOML
    assert '<th scope="row">solver</th><td class="num">"lbfgs"</td>' in html


def test_outside_git_the_commit_is_not_recorded(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "predictions.csv").write_text(DATA)
    assert main(["build", str(tmp_path / "config.toml"), "--format", "json,html", "-q"]) == 0
    report = read_json(tmp_path / "out" / "report.json")
    assert report.run.git_commit is None and report.run.git_dirty is None
    assert "not recorded: the config is not in a git working tree" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.parametrize("params", [{"nested": {"a": 1}}, {"values": [1, 2]}])
def test_params_are_scalars(params: dict) -> None:
    with pytest.raises(reportgen.errors.ConfigError, match=r"\[model\] params\."):
        validate(Config, {"data": {"label": "y", "score": "p"}, "model": {"params": params}}, source="c.toml")


def test_hyperparameters_are_escaped(tmp_path: Path) -> None:
    df = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.4, 0.6]})
    ev = reportgen.evaluate(df, label="y", score="p", resamples=200,
                            model={"params": {"<b>name</b>": "</td><script>alert(1)</script>"}})
    html = ev.to_html(tmp_path / "report.html").read_text()
    assert "<script>" not in html and "<b>name" not in html
    assert "&lt;b&gt;name&lt;/b&gt;" in html and "\\u003c/td\\u003e\\u003cscript\\u003e" in html
