"""The wheel ships every package and every template: pyproject's lists are written out, so check them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_is_listed() -> None:
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "reportgen").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert found | {"reportgen.templates"} == set(SETUPTOOLS["packages"])


def test_every_template_and_schema_file_is_shipped() -> None:
    for package, folder, suffixes in (("reportgen.templates", ROOT / "templates", {".j2", ".css"}),
                                      ("reportgen", ROOT / "reportgen", {".json"})):
        patterns = SETUPTOOLS["package-data"][package]
        files = [p for p in folder.rglob("*") if p.suffix in suffixes and "__pycache__" not in p.parts]
        assert files
        for path in files:
            relative = path.relative_to(folder)
            assert any(relative.match(pattern) and len(relative.parts) == len(Path(pattern).parts)
                       for pattern in patterns), f"{relative} is not in package-data of {package}"
