"""Writing output files: one file atomically, or a build's files as one set.

One file (`write_atomic`): a temp file in the target folder, then `os.replace`, so readers see the
old file or the whole new one.

A set (`write_set`, what `reportgen build` writes):

1. Orphans of a killed build are removed from the folder: temp folders ``.reportgen-tmp-*`` and
   temp files ``.<name>.*.tmp`` of the set's file names.
2. Every file, and the set file `SET_FILE` (the sha256 of each file), is written into a new temp
   folder inside the output folder (same file system). A full disk or any other failure here
   removes the temp folder and leaves the previous set untouched.
3. The set file, then each file, is renamed into place; files the previous set file listed that
   this set lacks are removed. A crash during these renames (microseconds) leaves files that do not
   match the set file: `check_set` finds it, and `reportgen check` and `reportgen site` refuse such a
   mixed set until the next build.

A folder without a set file (written by an older reportgen, or copied by hand) is read as it is.
Every failure is an `InputError` naming the path.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from reportgen.errors import InputError

SET_FILE = "reportgen-set.json"
SET_FORMAT = 1
TEMP_PREFIX = ".reportgen-tmp-"
MAX_SET_FILE = 64 * 1024  # bytes: a set file lists a few names and digests


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` so that readers see the old file or the whole new one, never a part.

    Raises
    ------
    InputError
        If the folder cannot be created or the file cannot be written (full disk, a folder where
        the file goes, no permission); the old file is then left as it was.
    """
    _make_folder(path.parent)
    _refuse_folder(path)
    try:
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        os.close(handle)
        _write_file(Path(temp), data)
        os.replace(temp, path)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise _write_error(path, exc) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def write_set(folder: Path, files: Mapping[str, bytes], *, names: Collection[str]) -> list[Path]:
    """Write a build's files into `folder` as one set, with the set file; returns the files' paths.

    Parameters
    ----------
    folder : Path
        The output folder; created if missing.
    files : mapping
        File name → bytes, each name among `names`.
    names : collection of str
        Every file name a set can hold: the orphans of these are cleaned, and only these are removed
        when the previous set had them and this one does not.

    Raises
    ------
    InputError
        If the folder cannot be created or written, or a folder stands where a file goes. Before
        the renames, nothing the previous build wrote is changed.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "out"
    >>> [p.name for p in write_set(out, {"a.txt": b"new"}, names=["a.txt"])]
    ['a.txt']
    >>> sorted(p.name for p in out.iterdir()), check_set(out) == {"a.txt"}
    (['a.txt', 'reportgen-set.json'], True)
    """
    _make_folder(folder)
    clean_orphans(folder, names)
    previous = _previous_names(folder)
    contents = {SET_FILE: _set_file(files)} | dict(files)  # the set file first: a crash between renames is a detectable mix
    write_files(folder, contents, remove=[name for name in previous - set(files) if name in names],
                kept="the previous files are left as they were")
    return [folder / name for name in files]


def write_files(folder: Path, files: Mapping[str, bytes], *, remove: Collection[str] = (), kept: str = "") -> None:
    """Write several files under `folder` at once: all into one temp folder, then each renamed into place.

    Parameters
    ----------
    folder : Path
        An existing folder.
    files : mapping
        Path relative to `folder` ("index.html", "reports/a/1/report.html") → bytes, in the order
        they are renamed into place; missing folders are created at that point.
    remove : collection of str
        Paths relative to `folder` deleted after the renames.
    kept : str
        What an error before the renames adds ("the previous files are left as they were").

    Raises
    ------
    InputError
        If a folder stands where a file goes (checked first), or a file cannot be written: before
        the renames, `folder` is then as it was, and the temp folder is removed; a failure during
        the renames leaves a part of the files renamed.
    """
    for name in files:
        _refuse_folder(folder / name)
    try:
        temp = Path(tempfile.mkdtemp(dir=folder, prefix=TEMP_PREFIX))
    except OSError as exc:
        raise _write_error(folder, exc) from None
    try:
        for name, data in files.items():
            try:
                (temp / name).parent.mkdir(parents=True, exist_ok=True)
                _write_file(temp / name, data)
            except OSError as exc:
                raise _write_error(folder / name, exc, kept=kept) from None
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    try:
        for name in files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp / name, folder / name)
        for name in remove:
            (folder / name).unlink(missing_ok=True)
        shutil.rmtree(temp)
        _sync_folder(folder)
    except OSError as exc:
        raise _write_error(folder, exc, kept="a part of the files may be new; write them again") from None


def clean_orphans(folder: Path, names: Collection[str]) -> list[Path]:
    """Remove what a killed write left in `folder`: temp folders and the temp files of `names`; returns them."""
    patterns = [(TEMP_PREFIX, "")] + [(f".{name}.", ".tmp") for name in [*names, SET_FILE]]
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not any(entry.name.startswith(start) and entry.name.endswith(end) for start, end in patterns):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:
            raise _write_error(entry, exc, kept="a killed build's temp file could not be removed") from None
        removed.append(entry)
    return removed


def check_set(folder: Path) -> set[str] | None:
    """The file names of the set in `folder`, checked against its set file; None without a set file.

    Raises
    ------
    InputError
        If the set file is unreadable or not one reportgen wrote, or a file it lists is missing or
        differs from what the build wrote (an interrupted build or a hand edit: a mixed set).
    """
    recorded = _read_set_file(folder)
    if recorded is None:
        return None
    for name, digest in recorded.items():
        path = folder / name
        try:
            if path.is_symlink():
                raise InputError(f"{path}: is a symbolic link, not the file the build wrote; build the report again")
            actual = _digest(path.read_bytes())
        except FileNotFoundError:
            raise InputError(
                f"{path}: missing, but {folder / SET_FILE} lists it (an interrupted build?); build the report again"
            ) from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read the file ({exc.strerror})") from None
        if actual != digest:
            raise InputError(
                f"{path}: differs from the file the last build wrote ({folder / SET_FILE}), so the folder "
                "holds a mixed set (an interrupted build or an edited file); build the report again"
            )
    return set(recorded)


def _previous_names(folder: Path) -> set[str]:
    """The names the folder's current set file lists; none when it has none or it is unreadable."""
    try:
        return set(_read_set_file(folder) or {})
    except InputError:
        return set()


def _read_set_file(folder: Path) -> dict[str, str] | None:
    path = folder / SET_FILE
    advice = "delete it and build the report again"
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the set file ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SET_FILE:
        raise InputError(f"{path}: not a set file reportgen wrote (a link, a folder or too large); {advice}")
    from reportgen.io import read_json_file  # pandas: only when a set is checked, not at start-up

    try:
        raw = read_json_file(path, source=str(path), what="set file", advice=advice, max_bytes=MAX_SET_FILE)
    except FileNotFoundError:
        raise InputError(f"{path}: not a readable set file (removed while read); {advice}") from None
    files = raw.get("files") if isinstance(raw, dict) and raw.get("format") == SET_FORMAT else None
    if not isinstance(files, dict) or not all(
        isinstance(name, str) and _plain_name(name) and isinstance(digest, str) for name, digest in files.items()
    ):
        raise InputError(f"{path}: not a set file this reportgen reads (format {SET_FORMAT}); {advice}")
    return files


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _set_file(files: Mapping[str, bytes]) -> bytes:
    record = {"format": SET_FORMAT, "files": {name: _digest(data) for name, data in files.items()}}
    return (json.dumps(record, indent=2) + "\n").encode("utf-8")


def _digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _write_file(path: Path, data: bytes) -> None:
    """Write a file's bytes with `os.write` and flush them to disk."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
        os.fsync(handle)
    finally:
        os.close(handle)
    os.chmod(path, 0o644)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the renames) to disk, where the system allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{folder}: is a file, not a folder; give a folder for the output") from None
    except OSError as exc:
        raise InputError(f"{folder}: cannot write the output folder ({exc.strerror})") from None


def _refuse_folder(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        raise InputError(f"{path}: is a folder where a file is to be written; move it away or choose another folder")


def _write_error(path: Path, exc: OSError, *, kept: str = "") -> InputError:
    """A one-line error for a failed write, naming the path and the system's reason."""
    reason = exc.strerror or exc.__class__.__name__
    advice = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some disk space",
              errno.EACCES: "check the folder's permissions", errno.EPERM: "check the folder's permissions",
              errno.EROFS: "write to another folder", errno.EISDIR: "move the folder away"}.get(exc.errno or 0)
    tail = "; ".join(part for part in (kept, advice) if part)
    return InputError(f"{path}: cannot write the file ({reason}){'; ' + tail if tail else ''}")
