"""What produced a card: fingerprints of its inputs, the code's git state and the software versions.

Everything here is read, not timed: the record holds no clock time, so the same inputs, code and
environment give the same record (and the same bytes).
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from pydantic import BaseModel

PACKAGES = ("reportgen", "numpy", "pandas", "pyarrow", "jinja2", "pydantic", "altair", "vl-convert-python",
            "weasyprint")
GIT_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class GitState:
    """The commit checked out in a working tree, and whether files differ from it."""

    commit: str
    dirty: bool


def config_fingerprint(config: BaseModel) -> str:
    """SHA-256 of the validated configuration as canonical JSON (comments and key order do not count).

    Examples
    --------
    >>> from reportgen.config import Config
    >>> a = Config.model_validate({"data": {"label": "y", "score": "p"}})
    >>> b = Config.model_validate({"data": {"score": "p", "label": "y"}})
    >>> config_fingerprint(a) == config_fingerprint(b)
    True
    """
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def git_state(folder: Path) -> GitState | None:
    """The git state of the working tree holding `folder`; None outside a repository or without git."""
    try:
        commit = _git(folder, "rev-parse", "--verify", "HEAD")
        changes = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return GitState(commit=commit.strip(), dirty=bool(changes.strip()))


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
                          timeout=GIT_TIMEOUT).stdout


def versions() -> dict[str, str]:
    """Python's version and those of reportgen and its main dependencies that are installed."""
    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found
