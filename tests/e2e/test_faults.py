"""Issue 12: faults as an attacker or a bad day makes them; the previous report set survives, every failure is
exit 2 and one line, and terminal output carries no control characters.

A killed build is a real `reportgen build` process sent SIGKILL at a chosen point: the point is a hook patched
in by a small driver script (rendering a file, writing into the temp folder, between the renames), so the test
is deterministic. Tests run as root, so permissions cannot be taken away with chmod: EACCES comes from a
failing writer, as ENOSPC does.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from reportgen.cli import MAX_LINE, main
from reportgen.errors import ConfigError
from reportgen.render.files import SET_FILE, TEMP_PREFIX, check_set

DATA = "y,p,sex\n1,0.9,f\n0,0.2,m\n1,0.7,f\n0,0.4,m\n1,0.3,m\n0,0.6,f\n"
FORMATS = "json,md"

# Runs `reportgen build` with SIGKILL at one point; argv: the point, then the CLI's arguments.
DRIVER = """
import os, signal, sys
from pathlib import Path
from reportgen import cli
from reportgen.render import files, markdown

def die():
    os.kill(os.getpid(), signal.SIGKILL)

point = sys.argv[1]
if point == "rendering":
    markdown.to_markdown = lambda *args, **kwargs: die()
elif point == "writing":
    real_write, written = files._write_file, []
    def write(path, data):
        real_write(path, data)
        written.append(path)
        if len(written) == 2:
            die()
    files._write_file = write
elif point == "renaming":
    real_replace = os.replace
    def replace(source, target):
        real_replace(source, target)
        if Path(target).name == files.SET_FILE:
            die()
    files.os.replace = replace
sys.exit(cli.main(sys.argv[2:]))
"""


def _project(tmp_path: Path, output_dir: str = "out") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "predictions.csv").write_text(DATA)
    config = project / "config.toml"
    config.write_text(f'[report]\noutput_dir = {json.dumps(output_dir)}\nresamples = 100\n[data]\n'
                      'path = "predictions.csv"\nlabel = "y"\nscore = "p"\n')
    return config


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _reportgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reportgen.cli", *args], capture_output=True, text=True, check=False)


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("reportgen: error: "), err
    return lines[0]


@pytest.fixture
def previous(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A config with a built report set; the set's bytes."""
    config = _project(tmp_path)
    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 0
    (config.parent / "predictions.csv").write_text(DATA.replace("0.9", "0.8"))  # the next build differs
    return config, _contents(config.parent / "out")


# ------------------------------------------------------------------------------------------- killed builds


@pytest.mark.parametrize("point", ["rendering", "writing"])
def test_issue_12_killed_build_leaves_the_previous_set_and_the_next_build_cleans_up(
    previous: tuple[Path, dict[str, bytes]], point: str
) -> None:
    config, before = previous
    out = config.parent / "out"
    killed = subprocess.run([sys.executable, "-c", DRIVER, point, "build", str(config), "--format", FORMATS, "-q"],
                            capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = _contents(out)
    assert {name: data for name, data in left.items() if not name.startswith(TEMP_PREFIX)} == before
    if point == "writing":
        assert any(name.startswith(TEMP_PREFIX) for name in left)  # killed with a half-written temp folder
    assert check_set(out) == {"report.json", "summary.md"}
    assert _reportgen("check", str(out / "report.json")).returncode == 0

    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 0
    after = _contents(out)
    assert sorted(after) == ["report.json", SET_FILE, "summary.md"]  # orphans gone
    assert after["report.json"] != before["report.json"]


def test_issue_12_build_killed_between_renames_is_a_mixed_set_that_check_refuses(
    previous: tuple[Path, dict[str, bytes]], tmp_path: Path
) -> None:
    config, before = previous
    out = config.parent / "out"
    killed = subprocess.run([sys.executable, "-c", DRIVER, "renaming", "build", str(config), "--format", FORMATS,
                             "-q"], capture_output=True, text=True, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _contents(out)[SET_FILE] != before[SET_FILE]  # the new set file is in, the files are old
    result = _reportgen("check", str(out / "report.json"))
    assert result.returncode == 2
    assert "mixed set" in _one_line(result.stderr)
    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 0
    assert check_set(out) == {"report.json", "summary.md"}
    assert not [p for p in out.iterdir() if p.name.startswith(TEMP_PREFIX)]


# ------------------------------------------------------------------------------------------- failing disk


@pytest.mark.parametrize(("code", "advice"), [(errno.ENOSPC, "free some disk space"),
                                              (errno.EACCES, "check the folder's permissions")])
def test_issue_12_failing_disk_exits_2_with_one_line_and_keeps_the_previous_set(
    previous: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    code: int, advice: str,
) -> None:
    config, before = previous
    real, calls = os.write, [0]

    def write(handle: int, data: bytes) -> int:
        calls[0] += 1
        if calls[0] > 1:  # the first file is written, the second hits the full disk
            raise OSError(code, os.strerror(code))
        return real(handle, data)

    monkeypatch.setattr(os, "write", write)
    capsys.readouterr()
    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 2
    monkeypatch.undo()
    line = _one_line(capsys.readouterr().err)
    assert f"cannot write the file ({os.strerror(code)}); the previous files are left as they were; {advice}" in line
    assert _contents(config.parent / "out") == before


def test_issue_12_report_json_being_a_folder_exits_2_with_one_line(
    previous: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, before = previous
    out = config.parent / "out"
    (out / "report.json").unlink()
    (out / "report.json").mkdir()
    capsys.readouterr()
    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "out/report.json: is a folder where a file is to be written; move it away" in line
    assert (out / "summary.md").read_bytes() == before["summary.md"]


def test_issue_12_output_folder_being_a_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _project(tmp_path)
    (config.parent / "out").write_text("a file")
    assert main(["build", str(config), "--format", FORMATS, "-q"]) == 2
    assert "out: is a file, not a folder" in _one_line(capsys.readouterr().err)


# ------------------------------------------------------------------------------------------- last resort


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RecursionError("maximum recursion depth exceeded"), "config.toml: the input is nested too deeply to read"),
        (MemoryError(), "config.toml: ran out of memory"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/p.csv"), "/data/p.csv: Permission denied (EACCES)"),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory", "a/b"), "a/b: Not a directory (ENOTDIR)"),
        (OSError(errno.ENOSPC, "No space left on device"), "config.toml: No space left on device (ENOSPC)"),
    ],
)
def test_issue_12_system_errors_escaping_the_library_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: BaseException,
    expected: str,
) -> None:
    config = _project(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr("reportgen.evaluation.evaluate_config", fail)
    assert main(["build", str(config), "-q"]) == 2
    assert expected in _one_line(capsys.readouterr().err)


def test_issue_12_deep_report_json_given_to_check_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "report.json").write_text("[" * 100_000 + "]" * 100_000)
    result = _reportgen("check", str(tmp_path / "report.json"))
    assert result.returncode == 2
    assert "report.json" in _one_line(result.stderr)


# ------------------------------------------------------------------------------------------- terminal output


def test_issue_12_written_paths_carry_no_terminal_escapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _project(tmp_path, output_dir="out\x1b]0;pwned\x07\x1b[2J\u202e\nnext")
    assert main(["build", str(config), "--format", "json", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.endswith("report.json\n")
    assert not any(ord(c) < 32 and c != "\n" for c in out) and "\u202e" not in out
    assert "out?]0;pwned??[2J? next/report.json" in out


def test_issue_12_messages_are_one_capped_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _project(tmp_path)

    def fail(*args: object, **kwargs: object) -> None:
        raise ConfigError("config.toml: " + "x" * 50_000 + "\nsecond line\r\x1b[1A")

    monkeypatch.setattr("reportgen.evaluation.evaluate_config", fail)
    assert main(["build", str(config), "-q"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert len(line) < MAX_LINE + 100 and line.endswith("more characters)")


# ------------------------------------------------------------------------------------------- check and site


def test_issue_12_check_refuses_an_edited_set_and_a_stale_report(
    previous: tuple[Path, dict[str, bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = previous
    out = config.parent / "out"
    (out / "summary.md").write_text("edited\n")
    capsys.readouterr()
    assert main(["check", str(out / "report.json")]) == 2
    assert "summary.md: differs from the file the last build wrote" in _one_line(capsys.readouterr().err)
    assert main(["build", str(config), "--format", "md", "-q"]) == 0  # the new set has no report.json
    assert sorted(p.name for p in out.iterdir()) == [SET_FILE, "summary.md"]
    capsys.readouterr()
    assert main(["check", str(out / "report.json")]) == 2
    assert "report.json: not written by the last build in its folder" in _one_line(capsys.readouterr().err)


def _site_build(tmp_path: Path) -> Path:
    config = _project(tmp_path)
    assert main(["build", str(config), "--format", "html,json", "-q"]) == 0
    return config.parent / "out"


def test_issue_12_site_refuses_a_mixed_set_and_symlinked_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _site_build(tmp_path)
    site = tmp_path / "site"
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    (out / "report.html").write_text("<p>edited</p>")
    assert main(["site", str(site), str(out)]) == 2
    assert "mixed set" in _one_line(capsys.readouterr().err)
    (out / SET_FILE).unlink()  # a hand-made folder: no set file, so links are what is left to refuse
    (out / "report.html").unlink()
    (out / "report.html").symlink_to(secret)
    assert main(["site", str(site), str(out)]) == 2
    assert "report.html: is a symbolic link" in _one_line(capsys.readouterr().err)
    assert not site.exists()


def test_site_copies_only_the_files_of_the_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _site_build(tmp_path)
    (out / "summary.md").write_text("not from this build\n")
    assert main(["site", str(tmp_path / "site"), str(out)]) == 0
    copied = [p.name for p in (tmp_path / "site" / "reports").rglob("*") if p.is_file()]
    assert sorted(copied) == ["report.html", "report.json"]


def test_issue_12_site_never_writes_through_a_symlinked_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _site_build(tmp_path)
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    site.mkdir()
    (site / "reports").symlink_to(elsewhere, target_is_directory=True)
    assert main(["site", str(site), str(out)]) == 2
    assert "reports: is a symbolic link inside the site" in _one_line(capsys.readouterr().err)
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in site.iterdir()) == ["reports"]


def test_issue_12_site_on_a_full_disk_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _site_build(tmp_path)
    site = tmp_path / "site"
    assert main(["site", str(site), str(out)]) == 0
    before = _contents(site)
    (site / ".reportgen-tmp-killed").mkdir()  # a killed publish's temp folder
    manifest = json.loads((site / "reportgen-site.json").read_text())
    document = json.loads((out / "report.json").read_text())
    document["model"]["version"] = "2.0"
    (out / "report.json").write_text(json.dumps(document))
    (out / SET_FILE).unlink()

    def full(handle: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    capsys.readouterr()
    assert main(["site", str(site), str(out)]) == 2
    monkeypatch.undo()
    assert "No space left on device); the site is left as it was" in _one_line(capsys.readouterr().err)
    assert _contents(site) == before and json.loads((site / "reportgen-site.json").read_text()) == manifest
    assert main(["site", str(site), str(out)]) == 0
    assert len(json.loads((site / "reportgen-site.json").read_text())["reports"]) == 2
    assert not [p for p in site.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_issue_12_site_index_being_a_folder_is_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _site_build(tmp_path)
    site = tmp_path / "site"
    assert main(["site", str(site), str(out)]) == 0
    (site / "index.html").unlink()
    (site / "index.html").mkdir()
    before = _contents(site)
    document = json.loads((out / "report.json").read_text())
    document["model"]["version"] = "2.0"
    (out / "report.json").write_text(json.dumps(document))
    (out / SET_FILE).unlink()
    capsys.readouterr()
    assert main(["site", str(site), str(out)]) == 2
    assert "index.html: is a folder where a file is to be written" in _one_line(capsys.readouterr().err)
    assert _contents(site) == before and len(list((site / "reports").rglob("report.json"))) == 1
