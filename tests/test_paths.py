"""Issue 12: every path a config names stays inside the project root, and never in `.git/`; `--root` widens it.

Each attack is built as a pull request would make it: a config and files inside the project, pointing out of
it with `..`, an absolute path or a symlink. The build must stop with exit 2 and one line naming the config,
the key and the value, and write nothing anywhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reportgen.cli import main
from reportgen.errors import ConfigError
from reportgen.evaluation import evaluate_config
from reportgen.paths import project_of, project_root

DATA = "y,p,sex\n1,0.9,f\n0,0.2,m\n1,0.7,f\n0,0.4,m\n"
SECRET = "y,p,sex\n1,0.9,TOPSECRET\n0,0.2,m\n1,0.7,TOPSECRET\n0,0.4,m\n"  # a file outside, shaped to be read


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A git project with predictions, and a folder outside it holding a readable secret."""
    project, outside = tmp_path / "project", tmp_path / "outside"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n")
    (project / "predictions.csv").write_text(DATA)
    outside.mkdir()
    (outside / "secret.csv").write_text(SECRET)
    return project, outside


def _config(folder: Path, data_path: str = "predictions.csv", extra: str = "", output_dir: str = "out",
            report: str = "") -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[report]\noutput_dir = {json.dumps(output_dir)}\n{report}\n'
        f'[data]\npath = {json.dumps(data_path)}\nlabel = "y"\n'
        f'score = "p"\n[[slices]]\ncolumn = "sex"\n{extra}'
    )
    return config


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def _refused(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    """Build with the CLI; return its one error line after checking exit 2 and no output."""
    assert main(["build", str(config), "--format", "json,md", "-q", *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("reportgen: error: ")
    assert "TOPSECRET" not in captured.err
    return lines[0]


# ------------------------------------------------------------------------------------------- the root


def test_root_is_the_git_work_tree_else_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "models" / "credit").mkdir(parents=True)
    assert project_root(tmp_path / "repo" / "models" / "credit" / "config.toml") == (tmp_path / "repo").resolve()
    (tmp_path / "plain").mkdir()
    assert project_root(tmp_path / "plain" / "config.toml") == (tmp_path / "plain").resolve()


def test_a_worktree_or_submodule_git_file_marks_the_root(tmp_path: Path) -> None:
    (tmp_path / "wt" / "sub").mkdir(parents=True)
    (tmp_path / "wt" / ".git").write_text("gitdir: /elsewhere/.git/worktrees/wt\n")
    assert project_root(tmp_path / "wt" / "sub" / "config.toml") == (tmp_path / "wt").resolve()


def test_a_symlinked_config_does_not_move_the_root(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text(SECRET)
    real = _config(tmp_path / "outside", "secret.csv")
    (tmp_path / "project" / "config.toml").symlink_to(real)
    with pytest.raises(ConfigError, match=r'\[data\] path: "secret.csv" is outside the project root'):
        evaluate_config(tmp_path / "project" / "config.toml")


def test_paths_inside_the_work_tree_but_outside_the_config_folder_are_allowed(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    (project / "models").mkdir()
    config = _config(project / "models", "../predictions.csv")
    assert evaluate_config(config).predictions.frame.shape[0] == 4


# ------------------------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("how", ["dotdot", "absolute"])
def test_issue_12_data_path_outside_the_root_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str], how: str
) -> None:
    project, outside = layout
    value = "../outside/secret.csv" if how == "dotdot" else str(outside / "secret.csv")
    config = _config(project, value)
    with pytest.raises(ConfigError, match=r"config\.toml: \[data\] path: .*secret\.csv\" is outside the project root"):
        evaluate_config(config)
    line = _refused(config, capsys)
    assert "[data] path" in line and "--root DIR" in line
    assert _files(outside) == {"secret.csv"} and not (project / "out").exists()


def test_issue_12_symlinked_data_file_pointing_outside_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, outside = layout
    (project / "data.csv").symlink_to(outside / "secret.csv")
    config = _config(project, "data.csv")
    with pytest.raises(ConfigError, match=r'\[data\] path: "data.csv" is outside the project root .*leads to'):
        evaluate_config(config)
    assert '[data] path: "data.csv" is outside the project root' in _refused(config, capsys)
    assert not (project / "out").exists()


def test_symlinked_folder_on_the_way_to_the_data_is_refused(layout: tuple[Path, Path]) -> None:
    project, outside = layout
    (project / "data").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match=r'\[data\] path: "data/secret.csv" is outside the project root'):
        evaluate_config(_config(project, "data/secret.csv"))


def test_symlink_inside_the_project_is_followed(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    (project / "latest.csv").symlink_to(project / "predictions.csv")
    assert evaluate_config(_config(project, "latest.csv")).predictions.frame.shape[0] == 4


@pytest.mark.parametrize("value", [".git/config", "./.git/../.git/config", "sub/../.git/config", ".GIT/config"])
def test_issue_12_paths_into_git_are_refused(layout: tuple[Path, Path], value: str) -> None:
    project, _ = layout
    with pytest.raises(ConfigError, match=r"\[data\] path: .* is inside a \.git folder, which a config may never read"):
        evaluate_config(_config(project, value))


def test_symlink_into_git_is_refused(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    (project / "notes.csv").symlink_to(project / ".git" / "config")
    with pytest.raises(ConfigError, match=r'\[data\] path: "notes.csv" is inside a \.git folder'):
        evaluate_config(_config(project, "notes.csv"))


def test_issue_12_baseline_and_history_outside_are_refused(layout: tuple[Path, Path]) -> None:
    project, outside = layout
    (outside / "history.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n")
    history = _config(project, extra='[training]\nhistory = "../outside/history.csv"\n')
    with pytest.raises(ConfigError, match=r'\[training\] history: "../outside/history.csv" is outside the project'):
        evaluate_config(history)
    baseline = _config(project, extra=f'[baseline]\npath = {json.dumps(str(outside / "secret.csv"))}\nscore = "p"\n')
    with pytest.raises(ConfigError, match=r"\[baseline\] path: .*secret.csv\" is outside the project root"):
        evaluate_config(baseline)
    two = _config(project, extra='[[baseline]]\nname = "a"\npath = "predictions.csv"\nscore = "p"\n'
                                 '[[baseline]]\nname = "b"\npath = "../outside/secret.csv"\nscore = "p"\n')
    with pytest.raises(ConfigError, match=r"\[baseline\] #2 path: "):
        evaluate_config(two)


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])  # an SQL engine reads the reference itself
@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink", "folder", "git"])
def test_monitoring_reference_outside_or_in_git_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str], how: str, engine: str
) -> None:
    project, outside = layout
    (project / "ref.csv").symlink_to(outside / "secret.csv")
    (project / "refs").mkdir()
    (project / "refs" / "part-0.csv").symlink_to(outside / "secret.csv")  # a folder of files, one of them outside
    value = {"dotdot": "../outside/secret.csv", "absolute": str(outside / "secret.csv"), "symlink": "ref.csv",
             "folder": "refs", "git": ".git/config"}[how]
    config = _config(project, extra=f"[monitoring]\nreference = {json.dumps(value)}\n",
                     report=f'engine = "{engine}"')
    why = "is inside a \\.git folder" if how == "git" else "is outside the project root"
    with pytest.raises(ConfigError, match=rf"config\.toml: \[monitoring\] reference: .* {why}"):
        evaluate_config(config)
    assert "[monitoring] reference" in _refused(config, capsys)
    assert _files(outside) == {"secret.csv"} and not (project / "out").exists()


def test_monitoring_reference_inside_the_project_is_read(layout: tuple[Path, Path]) -> None:
    project, _ = layout
    (project / "reference.csv").write_text(DATA)
    monitoring = evaluate_config(_config(project, extra='[monitoring]\nreference = "reference.csv"\n')).monitoring
    assert monitoring is not None and monitoring.reference == "reference.csv" and monitoring.reference_rows == 4


def test_issue_12_mlflow_run_with_a_symlink_outside_is_refused(layout: tuple[Path, Path]) -> None:
    project, outside = layout
    run = project / "mlruns" / "0" / "abc"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (run / "meta.yaml").write_text("run_id: abc\n")
    (run / "metrics" / "loss").write_text("1 0.5 0\n2 0.4 1\n")
    config = _config(project, extra='[training]\nhistory = "mlruns/0/abc"\n')
    assert evaluate_config(config).history is not None  # a plain run is read
    (run / "params" / "token").symlink_to(project / ".git" / "config")
    with pytest.raises(ConfigError, match=r'\[training\] history: "mlruns/0/abc" is inside a \.git folder through '
                                          r'the symlink ".*params/token"'):
        evaluate_config(config)
    (run / "params" / "token").unlink()
    (run / "params" / "secret").symlink_to(outside / "secret.csv")
    with pytest.raises(ConfigError, match=r"is outside the project root .* through the symlink \".*params/secret\""):
        evaluate_config(config)
    (run / "params" / "secret").unlink()
    (run / "metrics" / "more").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ConfigError, match=r"through the symlink \".*metrics/more\""):
        evaluate_config(config)


def test_issue_12_root_widens_for_a_trusted_caller(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    (outside / "shared.csv").write_text(DATA)
    config = _config(project, "../outside/shared.csv")
    with pytest.raises(ConfigError, match="outside the project root"):
        evaluate_config(config)
    assert evaluate_config(config, root=outside).predictions.frame.shape[0] == 4
    assert main(["build", str(config), "--format", "json", "-q", "--root", str(outside)]) == 0
    assert (project / "out" / "report.json").is_file()
    # widening never opens .git
    (project / "leak.csv").symlink_to(project / ".git" / "config")
    with pytest.raises(ConfigError, match=r"inside a \.git folder"):
        evaluate_config(_config(project, "leak.csv"), root=project.parent)


def test_root_must_exist(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    line = _refused(_config(project), capsys, "--root", str(outside / "missing"))
    assert "--root" in line and "no such folder" in line


def test_project_resolves_inside_paths() -> None:
    project = project_of(Path("config.toml"))
    assert project.confine("[data] path", "x.csv") == Path.cwd().resolve() / "x.csv"


# ------------------------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("how", ["dotdot", "absolute"])
def test_issue_12_output_dir_outside_the_root_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str], how: str
) -> None:
    project, outside = layout
    value = "../outside/out" if how == "dotdot" else str(outside / "out")
    line = _refused(_config(project, output_dir=value), capsys)
    assert "config.toml: [report] output_dir: " in line and "outside the project root" in line and "--root" in line
    assert _files(outside) == {"secret.csv"}


def test_issue_12_symlinked_out_folder_pointing_outside_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, outside = layout
    (outside / "target").mkdir()
    (project / "out").symlink_to(outside / "target", target_is_directory=True)
    line = _refused(_config(project), capsys)
    assert '[report] output_dir: "out" is outside the project root' in line
    assert _files(outside) == {"secret.csv", "target"}
    (project / "out").unlink()
    (project / "out").symlink_to(outside / "not-yet", target_is_directory=True)  # dangling: would be created
    _refused(_config(project), capsys)
    assert _files(outside) == {"secret.csv", "target"}


def test_issue_12_output_dir_into_git_is_refused(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, _ = layout
    line = _refused(_config(project, output_dir=".git/hooks"), capsys)
    assert '[report] output_dir: ".git/hooks" is inside a .git folder' in line
    assert _files(project / ".git") == {"config"}


def test_issue_12_site_dir_outside_the_root_is_refused(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, outside = layout
    line = _refused(_config(project, extra='[site]\ndir = "../outside/site"\n'), capsys)
    assert '[site] dir: "../outside/site" is outside the project root' in line
    assert _files(outside) == {"secret.csv"}
    assert not (project / "out").exists()  # refused before anything is built


def test_out_typed_by_the_caller_is_trusted(layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    project, outside = layout
    config = _config(project, output_dir="../refused")
    assert main(["build", str(config), "--format", "json", "-q", "--out", str(outside / "out")]) == 0
    assert (outside / "out" / "report.json").is_file()


def test_a_symlinked_output_file_is_replaced_not_followed(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, outside = layout
    (project / "out").mkdir()
    (project / "out" / "report.json").symlink_to(outside / "secret.csv")
    assert main(["build", str(_config(project)), "--format", "json", "-q"]) == 0
    assert not (project / "out" / "report.json").is_symlink()
    assert (outside / "secret.csv").read_text() == SECRET


def test_output_inside_the_project_through_a_symlink_is_allowed(
    layout: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    project, _ = layout
    (project / "build").mkdir()
    (project / "out").symlink_to(project / "build", target_is_directory=True)
    assert main(["build", str(_config(project)), "--format", "json", "-q"]) == 0
    assert (project / "build" / "report.json").is_file()
    assert os.path.islink(project / "out")
