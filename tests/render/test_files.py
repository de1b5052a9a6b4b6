"""Writing outputs: one file atomically, a build's files as one set, failures as one-line `InputError`s.

Faults are made as an attacker or a full disk would make them: the low-level write fails (tests run as root,
so permissions cannot be taken away with chmod; a failing writer stands in for EACCES too), a folder stands
where a file goes, a killed writer leaves temp files behind.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from reportgen.errors import InputError
from reportgen.render import files
from reportgen.render.files import SET_FILE, check_set, clean_orphans, write_atomic, write_files, write_set

NAMES = ("report.html", "report.json", "summary.md")
OLD = {"report.html": b"<p>old</p>", "report.json": b'{"old": true}', "summary.md": b"old\n"}
NEW = {"report.html": b"<p>new</p>", "report.json": b'{"new": true}', "summary.md": b"new\n"}


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _failing_write(monkeypatch: pytest.MonkeyPatch, code: int, *, after: int = 0) -> None:
    """`os.write` fails with `code` after `after` successful calls."""
    real, calls = os.write, [0]

    def write(handle: int, data: bytes) -> int:
        calls[0] += 1
        if calls[0] > after:
            raise OSError(code, os.strerror(code))
        return real(handle, data)

    monkeypatch.setattr(os, "write", write)


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    write_set(out, OLD, names=NAMES)
    return out


def test_a_set_is_written_with_its_set_file(tmp_path: Path) -> None:
    out = tmp_path / "a" / "out"
    assert write_set(out, NEW, names=NAMES) == [out / name for name in NEW]
    assert _contents(out) == NEW | {SET_FILE: (out / SET_FILE).read_bytes()}
    record = json.loads((out / SET_FILE).read_text())
    assert record["format"] == 1 and set(record["files"]) == set(NEW)
    assert all(digest.startswith("sha256:") for digest in record["files"].values())
    assert check_set(out) == set(NEW)
    assert check_set(tmp_path) is None  # no set file: a folder is read as it is


def test_a_new_set_replaces_the_previous_one_and_its_stale_files(previous: Path) -> None:
    (previous / "notes.txt").write_text("mine")  # not a name a set holds: never touched
    write_set(previous, {"report.json": b"{}"}, names=NAMES)
    assert sorted(_contents(previous)) == ["notes.txt", "report.json", SET_FILE]
    assert check_set(previous) == {"report.json"}


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT, errno.EIO])
@pytest.mark.parametrize("after", [0, 1, 2])
def test_issue_12_failing_writer_leaves_the_previous_set_intact(
    previous: Path, monkeypatch: pytest.MonkeyPatch, code: int, after: int
) -> None:
    before = _contents(previous)
    _failing_write(monkeypatch, code, after=after)
    with pytest.raises(InputError, match=rf"out/[a-z.-]+: cannot write the file \({os.strerror(code)}\); "
                                         "the previous files are left as they were") as caught:
        write_set(previous, NEW, names=NAMES)
    assert "\n" not in str(caught.value)
    monkeypatch.undo()
    assert _contents(previous) == before  # no temp folder left either
    assert check_set(previous) == set(OLD)


def test_issue_12_enospc_names_what_to_do(previous: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_write(monkeypatch, errno.ENOSPC)
    with pytest.raises(InputError, match=r"No space left on device\); the previous files are left as they were; "
                                         "free some disk space$"):
        write_set(previous, NEW, names=NAMES)


def test_issue_12_a_folder_where_a_file_goes_is_refused_before_writing(previous: Path) -> None:
    (previous / "report.json").unlink()
    (previous / "report.json").mkdir()
    before = _contents(previous)
    with pytest.raises(InputError, match=r"out/report.json: is a folder where a file is to be written; move it away"):
        write_set(previous, NEW, names=NAMES)
    assert _contents(previous) == before and sorted(p.name for p in previous.iterdir()) == sorted(
        [*OLD, SET_FILE])
    with pytest.raises(InputError, match=r"report.json: is a folder where a file is to be written"):
        write_atomic(previous / "report.json", b"{}")


def test_an_output_folder_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(InputError, match=r"out: cannot write the output folder|out: is a file, not a folder"):
        write_set(tmp_path / "out", NEW, names=NAMES)


def test_issue_12_write_atomic_turns_os_errors_into_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "summary.md").write_bytes(b"old")
    _failing_write(monkeypatch, errno.ENOSPC)
    with pytest.raises(InputError, match=r"summary.md: cannot write the file \(No space left on device\)"):
        write_atomic(tmp_path / "summary.md", b"new")
    monkeypatch.undo()
    assert _contents(tmp_path) == {"summary.md": b"old"}  # no .summary.md.*.tmp left


def test_issue_12_orphans_of_a_killed_build_are_cleaned_on_the_next(previous: Path) -> None:
    (previous / ".report.html.abc123.tmp").write_bytes(b"half")
    (previous / f".{SET_FILE}.x.tmp").write_bytes(b"half")
    (previous / ".reportgen-tmp-k1ll3d").mkdir()
    (previous / ".reportgen-tmp-k1ll3d" / "report.html").write_bytes(b"half")
    (previous / ".hidden-but-mine.tmp").write_bytes(b"keep")
    write_set(previous, NEW, names=NAMES)
    assert sorted(_contents(previous)) == sorted([".hidden-but-mine.tmp", *NEW, SET_FILE])


def test_cleaning_a_symlinked_orphan_removes_only_the_link(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".reportgen-tmp-evil").symlink_to(elsewhere, target_is_directory=True)
    assert clean_orphans(out, NAMES) == [out / ".reportgen-tmp-evil"]
    assert (elsewhere / "keep").read_text() == "keep"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda out: (out / "report.html").write_bytes(b"<p>new</p>"), r"report.html: differs from the file the last "
                                                                       r"build wrote .* mixed set"),
        (lambda out: (out / "summary.md").unlink(), r"summary.md: missing, but .* lists it"),
        (lambda out: (out / SET_FILE).write_text("[" * 60_000), r"not a readable set file"),
        (lambda out: (out / SET_FILE).write_text('{"format": 1, "files": {"../x": "sha256:0"}}'), r"not a set file"),
        (lambda out: (out / SET_FILE).write_text('{"format": NaN}'), r"not a readable set file"),
        (lambda out: (out / SET_FILE).write_bytes(b" " * 70_000), r"too large"),
    ],
)
def test_issue_12_check_set_refuses_a_mixed_or_damaged_set(previous: Path, damage, message: str) -> None:
    damage(previous)
    with pytest.raises(InputError, match=message) as caught:
        check_set(previous)
    assert "\n" not in str(caught.value)


def test_a_damaged_set_file_does_not_stop_the_next_build(previous: Path) -> None:
    (previous / SET_FILE).write_text("not json")
    write_set(previous, NEW, names=NAMES)
    assert check_set(previous) == set(NEW)


def test_write_files_renames_in_order_and_creates_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    renamed = []
    real = os.replace
    monkeypatch.setattr(files.os, "replace", lambda a, b: (renamed.append(Path(b).name), real(a, b)))
    write_files(tmp_path, {"reports/a/1/report.html": b"x", "index.html": b"i"}, remove=["gone"])
    assert renamed == ["report.html", "index.html"]
    assert _contents(tmp_path) == {"index.html": b"i", "reports/a/1/report.html": b"x"}
