"""The project root: the folder every path a config names must lie in.

Configs and data arrive in pull requests, so a path in a config is untrusted. The rule, stated once:

- The **project root** is the git work tree holding the config file: the nearest folder, from the
  config's own folder upwards, that has a ``.git`` folder or file (a worktree or a submodule has a
  ``.git`` file); without one, the config's folder. The config's folder is the one the caller named
  (its symlinks resolved); a config file that is itself a symlink does not move the root.
- Every path a config names (``[data] path``, each ``[baseline] path``, ``[training] history``,
  ``[report] output_dir``, ``[site] dir``) starts from the config's folder, is resolved with every
  symlink followed, and must then lie inside the root, and never inside a ``.git`` folder (which
  holds the CI job's token). Absolute paths and ``..`` are allowed only when they land inside.
- A folder that is read (an MLflow run) is checked entry by entry: no symlink in it may lead out.
- The caller, never the config, can widen the root: ``reportgen build --root DIR``, or
  ``evaluate_config(path, root=DIR)``; a path may then lie in the project root or in DIR.

Paths typed by the caller (the config file itself, ``build --out``, ``site`` arguments) are trusted
and not confined.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import ConfigError, shown

SHOWN_PATH = 160  # characters of a path quoted in an error: paths run longer than other values

GIT = ".git"


@dataclass(frozen=True)
class Project:
    """Where a config's relative paths start and the folders they must stay in.

    Attributes
    ----------
    source : str
        The config file as named, for messages.
    base : Path
        The folder relative paths start from (the config file's folder, resolved).
    roots : tuple of Path
        The project root, then any folder the caller trusts (`--root`); all resolved.
    """

    source: str
    base: Path
    roots: tuple[Path, ...]

    def confine(self, key: str, value: str, *, tree: bool = False) -> Path:
        """The resolved path of a config value; with `tree`, a folder's symlinks are checked too.

        Raises
        ------
        ConfigError
            If the path (after symlinks) lies outside every root or inside a ``.git`` folder.

        Examples
        --------
        >>> import tempfile
        >>> project = project_of(Path(tempfile.mkdtemp()) / "config.toml")
        >>> project.confine("[data] path", "data.csv") == project.base / "data.csv"
        True
        >>> project.confine("[data] path", "../secret.csv")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        reportgen.errors.ConfigError: ...config.toml: [data] path: "../secret.csv" is outside the project root ...
        """
        path = Path(os.path.realpath(self.base / value))
        self._check(key, value, path, via=None)
        if tree and path.is_dir():
            for entry in _links(path):
                self._check(key, value, Path(os.path.realpath(entry)), via=entry)
        return path

    def _check(self, key: str, value: str, path: Path, *, via: Path | None) -> None:
        where = f'{self.source}: {key}: "{shown(value, SHOWN_PATH)}"'
        through = "" if via is None else f' through the symlink "{shown(str(via), SHOWN_PATH)}"'
        inside = next((root for root in self.roots if path.is_relative_to(root)), None)
        if inside is None:
            raise ConfigError(
                f'{where} is outside the project root "{shown(str(self.roots[0]), SHOWN_PATH)}"{through} '
                f'(it leads to "{shown(str(path), SHOWN_PATH)}"); keep the file inside the project, '
                "or let the caller widen the root with --root DIR"
            )
        if any(part.lower() == GIT for part in path.relative_to(inside).parts):
            raise ConfigError(
                f"{where} is inside a {GIT} folder{through}, which a config may never read or write; "
                "name a file of the project"
            )


def project_root(config_path: str | Path) -> Path:
    """The git work tree holding the config file, else its folder (resolved).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()).resolve()
    >>> (folder / ".git").mkdir(); (folder / "models").mkdir()
    >>> project_root(folder / "models" / "config.toml") == folder
    True
    """
    folder = Path(os.path.realpath(Path(config_path).absolute().parent))
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / GIT):
            return candidate
    return folder


def project_of(config_path: str | Path, *, root: str | Path | Iterable[str | Path] | None = None) -> Project:
    """The `Project` of a config file, its root widened by the caller's `root` folder(s) if given.

    Raises
    ------
    ConfigError
        If a `root` folder does not exist.
    """
    extra = [] if root is None else [root] if isinstance(root, (str, Path)) else list(root)
    roots = [project_root(config_path)]
    for folder in extra:
        if not Path(folder).is_dir():
            raise ConfigError(f'--root "{shown(str(folder), SHOWN_PATH)}": no such folder; give an existing folder to widen the root')
        roots.append(Path(os.path.realpath(folder)))
    return Project(source=str(config_path), base=Path(os.path.realpath(config_path)).parent, roots=tuple(roots))


def _links(folder: Path) -> list[Path]:
    """Every symlink under `folder` (symlinked folders are listed, not entered)."""
    found = []
    for parent, folders, files in os.walk(folder):
        found += [Path(parent, name) for name in [*folders, *files] if os.path.islink(os.path.join(parent, name))]
    return found

