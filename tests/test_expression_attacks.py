"""`where` as an attacker writes it (issue 12): nothing in a condition ever runs.

Each payload goes the way a config from a pull request goes: validated with the config (the grammar), then
evaluated on the data (`build_slices`). It must end as a one-line `ConfigError`, or, for the harmless
ones, as a slice; quickly; with no process started, no code compiled and no sentinel file written.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.config import Config, validate
from reportgen.errors import ConfigError
from reportgen.slices import build_slices

ROOT = Path(__file__).resolve().parents[1]
SENTINEL = "PWNED"  # each payload tries to create this file in the test's folder

_TOUCH = f"touch {SENTINEL}"
PAYLOADS = [
    # the issue's payload: a backtick inside quotes hid the attribute chain from the old regex
    f"p > 0.5 or '`' == p.__class__.__init__.__globals__.get('sys').modules.get('os').popen('{_TOUCH}').read() == '`'",
    f"__import__('os').system('{_TOUCH}')",
    f"p > 0.5 or __import__('os').system('{_TOUCH}') == 0",
    # quotes inside backticks, backticks inside quotes
    f"`it's` == 1 or __import__('os').system('{_TOUCH}') == 0",
    f"\"`\" == `p` or p.__class__.__init__.__globals__['os'].system('{_TOUCH}') == 0",
    f"`p` > 0.5 or '`' == __import__('os').system('{_TOUCH}') == '`'",
    f"`__import__('os').system('{_TOUCH}')` == 1",
    f"'`' + `p` + '`' == __import__('os').system('{_TOUCH}')",
    # escapes: a quote that does not close the string, a backslash that does
    f"'\\'' == p.__class__.__init__.__globals__.get('os').system('{_TOUCH}')",
    f"'\\x27 or __import__(\"os\").system(\"{_TOUCH}\") or \\x27' == p",
    f"'\\\\' == p or __import__('os').system('{_TOUCH}')",
    f"p > 0.5 \\\n or __import__('os').system('{_TOUCH}')",
    # unicode: look-alike letters that Python would fold into ASCII names, invisible and control characters
    f"ｐ.__class__.__init__.__globals__.get('os').system('{_TOUCH}') == 0",
    f"p.__ｃlass__ == 1 or ＿＿import＿＿('os').system('{_TOUCH}') == 0",
    f"p > 0.5 or __іmport__('os').system('{_TOUCH}') == 0",  # Cyrillic і
    f"p\u200b.__class__ == 1 or __import__('os').system('{_TOUCH}') == 0",
    f"p > 0.5 \u202e or __import__('os').system('{_TOUCH}') == 0",
    f"p > 0.5\x00 or __import__('os').system('{_TOUCH}') == 0",
    f"p ＞ 0.5 or __import__('os').system('{_TOUCH}') == 0",
    # dunder chains, getattr, builtins
    "p.__class__.__mro__[1].__subclasses__() == 1",
    "().__class__.__base__.__subclasses__()[0] == 1",
    "(1).__class__ == 1",
    "1 .__class__ == 1",
    "True.__class__.__base__ == 1",
    "getattr(p, '__class__') == 1",
    f"__builtins__['eval']('__import__(\"os\").system(\"{_TOUCH}\")') == 0",
    f"p > 0.5 and exec('import os; os.system(\"{_TOUCH}\")')",
    # pandas' own extensions: @ locals, methods on columns, assignment, several lines
    "@__builtins__ == 1",
    f"@os.system('{_TOUCH}') == 0",
    f"p.pipe(lambda s: __import__('os').system('{_TOUCH}')) == 0",
    f"p.eval('__import__(\"os\").system(\"{_TOUCH}\")') == 0",
    f"p = __import__('os').system('{_TOUCH}')",
    f"p > 0.5\n__import__('os').system('{_TOUCH}')",
    f"p > 0.5; __import__('os').system('{_TOUCH}')",
    f"p > 0.5 # '; __import__('os').system('{_TOUCH}')",
    # Python syntax: lambda, f-strings, walrus, subscripts, comprehensions, conditional, starred, literals
    f"(lambda: __import__('os').system('{_TOUCH}'))() == 0",
    f"f\"{{__import__('os').system('{_TOUCH}')}}\" == 'x'",
    f"(x := __import__('os').system('{_TOUCH}')) == 0",
    "p[0] > 0.5",
    f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0]('{_TOUCH}', shell=True)",
    "(c for c in p) == 1",
    f"p if __import__('os').system('{_TOUCH}') else p",
    "{p: 1} == 1",
    "[*p] == 1",
    "... == p",
    "b'x' == p",
    "r'x' == p",
    "p in p.__class__",
    f"p in [__import__('os').system('{_TOUCH}')]",
    "yield p",
    "await p",
    "p @ p > 1",
    "'' '' == p",
    # resources: deep nesting, huge numbers, repetition, length
    "(" * 100_000 + "p > 0.5" + ")" * 100_000,
    "(" * 1_000 + "p > 0.5" + ")" * 1_000,
    "not " * 10_000 + "p > 0.5",
    "-" * 10_000 + "p > 0.5",
    "~" * 10_000 + "(p > 0.5)",
    "p > 9**9**9",
    "p > 10**10**10**10",
    "p > " + "9" * 5_000,
    "'a' * 10**10 == 'a'",
    "'a' * 99999999999 == p",
    "p > 0.5 or " * 2_000 + "p > 0.5",
    "`" + "x" * 1_990 + "` > 1",
    "p == '" + "x" * 1_990 + "'",
    # harmless: these are valid conditions
    "p > 0.5",
    "p > 1e400",
    "`p` >= 0.5 and sex in ['f', \"m\"]",
    "sex == '__import__(\"os\").system(\"touch PWNED\")'",
]


def test_the_corpus_is_large() -> None:
    assert len(PAYLOADS) >= 40
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every attempt to evaluate pandas text or to start a process, instead of doing it.

    (Python's own eval/exec/compile are not replaced: pytest needs them; `test_the_condition_code_calls_no_evaluator`
    shows the condition code never calls them.)
    """
    calls: list[str] = []

    def refuse(name: str):
        def refused(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called")
        return refused

    for owner, name in [(os, "system"), (os, "popen"), (subprocess, "Popen"), (pd, "eval"), (pd.DataFrame, "eval"),
                        (pd.DataFrame, "query")]:
        monkeypatch.setattr(owner, name, refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    return calls


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"y": [1, 0, 1, 0], "p": [0.9, 0.2, 0.6, 0.4], "sex": ["f", "m", None, "f"]})


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_nothing_in_a_condition_runs(payload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     no_execution: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    raw = {"data": {"label": "y", "score": "p"}, "slices": [{"where": payload}]}
    started = time.perf_counter()
    try:
        config = validate(Config, raw, source="config.toml")
        (family,) = build_slices(_frame(), config.slices, source="data.csv")
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "\r" not in message
        assert len(message) < 700
        assert "[[slices]] #1 where" in message
    else:
        assert family.kind == "query" and family.codes.shape == (4,)
    assert time.perf_counter() - started < 2
    assert no_execution == []
    assert not (tmp_path / SENTINEL).exists()


def _build_with_where(folder: Path, where: str) -> subprocess.CompletedProcess[str]:
    """`reportgen build` of a two-row project with one `where` slice, in a subprocess."""
    (folder / "predictions.csv").write_text("y,p,sex\n1,0.9,f\n0,0.2,m\n")
    (folder / "config.toml").write_text(
        f'[report]\noutput_dir = "out"\n[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'
        f'[[slices]]\nwhere = "{where}"\n'
    )
    return subprocess.run([sys.executable, "-m", "reportgen.cli", "build", "config.toml"], cwd=folder,
                          capture_output=True, text=True, check=False, timeout=120)


def test_issue_12_the_audit_payload_through_the_command_line(tmp_path: Path) -> None:
    where = PAYLOADS[0].replace("'", "\\u0027")  # a TOML basic string holding the payload
    result = _build_with_where(tmp_path, where)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "reportgen: error: config.toml: [[slices]] #1 where \"p > 0.5 or '`' == p.__class__")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / SENTINEL).exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["(" * 100_000 + "p > 0.5" + ")" * 100_000, "(" * 999 + "p > 0.5" + ")" * 999,
                                   "not " * 400 + "p > 0.5"], ids=["100k parentheses", "999 parentheses", "400 nots"])
def test_issue_12_a_deeply_nested_where_exits_2_with_one_line(tmp_path: Path, where: str) -> None:
    result = _build_with_where(tmp_path, where)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith('reportgen: error: config.toml: [[slices]] #1 where "((((') or "not not" in line
    assert "characters long" in line or "nested more than 50 levels deep" in line
    assert len(line) < 400 and not (tmp_path / "out").exists()


_FORBIDDEN_NAMES = {"eval", "exec", "compile", "__import__", "getattr", "literal_eval"}  # called as name(...)
_FORBIDDEN_METHODS = {"eval", "exec", "query", "system", "popen", "literal_eval", "__import__"}  # as x.name(...)
_FORBIDDEN_IMPORTS = {"ast", "builtins", "importlib", "subprocess", "os", "numexpr", "pickle"}


@pytest.mark.parametrize("module", ["reportgen/expression.py", "reportgen/slices.py"])
def test_the_condition_code_calls_no_evaluator(module: str) -> None:
    tree = ast.parse((ROOT / module).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in _FORBIDDEN_METHODS, f"{module}:{node.lineno} calls .{node.func.attr}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in _FORBIDDEN_NAMES, f"{module}:{node.lineno} calls {node.func.id}"
        if isinstance(node, ast.Import):
            assert not {a.name.split(".")[0] for a in node.names} & _FORBIDDEN_IMPORTS, f"{module}:{node.lineno}"
        if isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] not in _FORBIDDEN_IMPORTS, f"{module}:{node.lineno}"


def test_a_long_payload_is_not_echoed_whole() -> None:
    payload = "p > 0.5 or " * 150 + "p.__class__ == 1"
    with pytest.raises(ConfigError) as caught:
        validate(Config, {"data": {"label": "y", "score": "p"}, "slices": [{"where": payload}]}, source="config.toml")
    assert f'where "{payload[:79]}…":' in str(caught.value)
    assert len(str(caught.value)) < 400


def test_a_harmless_payload_selects_rows() -> None:
    config = validate(Config, {"data": {"label": "y", "score": "p"}, "slices": [{"where": PAYLOADS[-1]}]},
                      source="config.toml")
    (family,) = build_slices(_frame(), config.slices, source="data.csv")
    assert np.flatnonzero(family.codes == 0).tolist() == []
