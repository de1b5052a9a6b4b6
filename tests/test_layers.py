"""The layers of issue 13: a module imports only from the layers below it, with no cycles.

Four rules, each a small function with a test on the package and a test that shows it can fail:
(a) the import-linter contract in pyproject.toml (``[tool.importlinter]``, also `lint-imports` by hand);
(b) no import cycle among reportgen's modules; (c) below the face, no module imports the package root;
(d) no module imports another module's private name. Imports inside functions count (grimp reads them).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
PACKAGE = "reportgen"


def lint(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[bool, str]:
    """Run import-linter's contracts in `config` (as `lint-imports` does, without a cache); (kept, its report)."""
    import importlinter.api  # noqa: F401  (configures import-linter's settings)
    from importlinter.application import use_cases

    capsys.readouterr()
    kept = use_cases.lint_imports(config_filename=str(config), cache_dir=None, no_logo=True)
    return kept, capsys.readouterr().out


def package_imports(package: str) -> dict[str, set[str]]:
    """Module → the modules of `package` it imports directly, lazy (in-function) imports included."""
    graph = grimp.build_graph(package, cache_dir=None)
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def import_cycles(imports: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The cycles of an import graph: its strongly connected components of more than one module, and modules
    that import themselves; each sorted, in sorted order (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in imports.get(module, ()):
                cycles.append(sorted(component))

    for module in sorted(imports):
        if module not in index:
            visit(module)
    return sorted(cycles)


def shortest_cycle(imports: Mapping[str, Iterable[str]], component: list[str]) -> list[str]:
    """A shortest chain of imports from the first module of a cycle `component` back to it (breadth first)."""
    start, members = component[0], set(component)
    paths = {start: [start]}
    queue = [start]
    for module in queue:
        for imported in sorted(imports.get(module, ())):
            if imported == start:
                return [*paths[module], start]
            if imported in members and imported not in paths:
                paths[imported] = [*paths[module], imported]
                queue.append(imported)
    raise ValueError(f"no cycle through {start}")


def face(config: Path) -> set[str]:
    """The modules of the top layer of the contract in `config` (the face), and the package root."""
    settings = tomllib.loads(config.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = [c for c in settings["contracts"] if c["id"] == "layers"]
    (container,) = contract["containers"]
    top = contract["layers"][0].replace("|", ":").split(":")
    return {container} | {f"{container}.{name.strip()}" for name in top}


def root_importers(imports: Mapping[str, Iterable[str]], root: str, allowed: set[str]) -> list[str]:
    """The modules outside `allowed` that import the package root `root` itself (not a module under it)."""
    return sorted(module for module, imported in imports.items() if root in imported and module not in allowed)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports(source: str, module: str, *, is_package: bool = False, root: str = PACKAGE) -> list[str]:
    """The private names of other modules of `root` that the code `source` of `module` imports, as
    "module:line imports other._name": ``from other import _name`` (relative imports too), an import of a
    private module, and ``other._name`` where ``other`` is a module it imported."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    modules: dict[str, str] = {}  # local name → the module of `root` it is bound to
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            imported = ".".join([*base, *([node.module] if node.module else [])])
            if imported.split(".")[0] != root or (imported == module and not is_package):
                continue  # (in a package, `from . import _name` may be a submodule)
            for alias in node.names:
                target = f"{imported}.{alias.name}"
                if any(_private(part) for part in target.split(".")):
                    found.append(f"{module}:{node.lineno} imports {target}")
                modules[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != root:
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{module}:{node.lineno} imports {alias.name}")
                if alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and _private(node.attr)):
            found.append(f"{module}:{node.lineno} imports {modules[node.value.id]}.{node.attr}")
    return found


@pytest.fixture(scope="module")
def imports() -> dict[str, set[str]]:
    return package_imports(PACKAGE)


def test_the_layers_contract_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    kept, report = lint(PYPROJECT, capsys)
    assert kept, f"import-linter: a module imports from a layer above it, or is in no layer:\n{report}"


def test_no_import_cycles(imports: dict[str, set[str]]) -> None:
    cycles = import_cycles(imports)
    assert not cycles, "import cycles among reportgen's modules:\n" + "\n".join(
        f"{len(c)} modules import each other ({', '.join(c)}), e.g. {' -> '.join(shortest_cycle(imports, c))}"
        for c in cycles)


def test_below_the_face_no_module_imports_the_package_root(imports: dict[str, set[str]]) -> None:
    allowed = face(PYPROJECT)
    assert allowed >= {"reportgen", "reportgen.cli", "reportgen.evaluation", "reportgen.site"}
    offenders = root_importers(imports, PACKAGE, allowed)
    assert not offenders, f"these modules import the package root `reportgen` (only the face may): {offenders}"


def test_no_module_imports_another_modules_private_name() -> None:
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        found += private_imports(path.read_text(encoding="utf-8"), module, is_package=is_package)
    assert not found, "private names imported across modules (make them public or move them):\n" + "\n".join(found)


# Each rule can fail.

@pytest.fixture
def toy_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package `layerstoy` breaking the rules: `low` imports `high` inside a function (a layer violation and,
    with `high` importing `low`, a cycle), `stray` is in no layer; returns its import-linter config."""
    package = tmp_path / "layerstoy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "high.py").write_text("from layerstoy import low\n")
    (package / "low.py").write_text("def late():\n    from layerstoy import high\n\n    return high\n")
    (package / "stray.py").write_text("")
    config = tmp_path / "pyproject.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "layerstoy"\n\n[[tool.importlinter.contracts]]\nid = "layers"\n'
        'name = "toy layers"\ntype = "layers"\ncontainers = ["layerstoy"]\nexhaustive = true\n'
        'layers = ["high", "low"]\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return config


def test_a_broken_contract_is_reported_with_its_modules(toy_package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept, report = lint(toy_package, capsys)
    assert not kept
    assert "layerstoy.low is not allowed to import layerstoy.high" in report
    assert "layerstoy.stray" in report


def test_a_lazy_import_makes_a_cycle(toy_package: Path) -> None:
    assert import_cycles(package_imports("layerstoy")) == [["layerstoy.high", "layerstoy.low"]]


def test_import_cycles_finds_every_cycle_and_only_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c", "x"}, "c": {"a"}, "d": {"d"}, "e": {"a"}, "x": set()}
    assert import_cycles(graph) == [["a", "b", "c"], ["d"]]
    assert shortest_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    assert shortest_cycle(graph, ["d"]) == ["d", "d"]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_root_importers_names_the_modules_below_the_face() -> None:
    graph = {"reportgen.io": {"reportgen"}, "reportgen.cli": {"reportgen"}, "reportgen.slices": {"reportgen.io"}}
    assert root_importers(graph, "reportgen", {"reportgen", "reportgen.cli"}) == ["reportgen.io"]


def test_face_is_read_from_the_contract(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text('[tool.importlinter]\n[[tool.importlinter.contracts]]\nid = "layers"\ncontainers = ["pkg"]\n'
                      'layers = ["cli | site", "core"]\n')
    assert face(config) == {"pkg", "pkg.cli", "pkg.site"}


@pytest.mark.parametrize(("source", "module", "expected"), [
    ("from reportgen.io import _parse, load\n", "reportgen.slices", ["reportgen.slices:1 imports reportgen.io._parse"]),
    ("from .base import _helper\n", "reportgen.analysis.fairness",
     ["reportgen.analysis.fairness:1 imports reportgen.analysis.base._helper"]),
    ("from . import _tools\n", "reportgen.render", ["reportgen.render:1 imports reportgen.render._tools"]),
    ("import reportgen._internal as internal\n", "reportgen.cli", ["reportgen.cli:1 imports reportgen._internal"]),
    ("from reportgen import charts\n\ndef f():\n    return charts._theme()\n", "reportgen.figures",
     ["reportgen.figures:4 imports reportgen.charts._theme"]),
    ("def f():\n    from reportgen.labels import _short\n", "reportgen.formatting",
     ["reportgen.formatting:2 imports reportgen.labels._short"]),
    ("from reportgen.version import __version__\nfrom pandas import _libs\nimport numpy as np\nnp._x\n",
     "reportgen.cli", []),
    ("from reportgen.io import _own\n", "reportgen.io", []),
])
def test_private_imports(source: str, module: str, expected: list[str]) -> None:
    assert private_imports(source, module, is_package=module == "reportgen.render") == expected
