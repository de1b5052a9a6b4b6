"""Benchmark reportgen's start-up: how long a fresh process takes for the commands that should feel instant.

Usage::

    python benchmarks/bench_startup.py [--repeats 15] [--out benchmarks/startup.md]

Times, each in a new process (wall clock, median and best of `repeats`): `reportgen --version`, `reportgen build
--help`, `python -c "import reportgen"` and, for comparison, the first call that needs the pipeline
(`python -c "import reportgen; reportgen.evaluate"`, which imports numpy, pandas, scipy and the analyses) and a
bare `python -c pass`. Budgets (issue 15): the two commands under 0.3 s, the import under 1 s. Prints a markdown
table and writes it, with the machine's description and load, to `--out`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = {"reportgen --version": 0.3, "reportgen build --help": 0.3, "import reportgen": 1.0}


def commands() -> dict[str, list[str]]:
    """What is timed: a name and its argument vector."""
    cli = shutil.which("reportgen")
    entry = [cli] if cli else [sys.executable, "-c", "import sys; from reportgen.cli import main; sys.exit(main())"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "reportgen --version": [*entry, "--version"],
        "reportgen build --help": [*entry, "build", "--help"],
        "import reportgen": [sys.executable, "-c", "import reportgen"],
        "import reportgen; reportgen.evaluate": [sys.executable, "-c", "import reportgen; reportgen.evaluate"],
    }


def timed(argv: list[str], repeats: int) -> list[float]:
    """Wall-clock seconds of `repeats` runs of `argv`, each in a new process (one warm-up run first)."""
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "startup.md")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    for name, argv in commands().items():
        times = timed(argv, args.repeats)
        budget = BUDGETS.get(name)
        verdict = "" if budget is None else ("within" if statistics.median(times) < budget else "OVER")
        rows.append(f"| `{name}` | {statistics.median(times):.3f} | {min(times):.3f} | "
                    f"{'' if budget is None else f'{budget:g}'} | {verdict} |")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    text = "\n".join([
        "# reportgen start-up benchmark",
        "",
        f"`python benchmarks/bench_startup.py --repeats {args.repeats}`",
        "",
        f"- {platform.platform()}, Python {platform.python_version()}, `nproc` = {os.cpu_count()}",
        f"- reportgen at commit {commit.strip() or 'unknown'}; run on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- load average at the start {' '.join(f'{x:.2f}' for x in load_before)}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (above 0: other processes share the cores)",
        "",
        "| command (a new process each run) | median (s) | best (s) | budget (s) | |",
        "|---|---:|---:|---:|---|",
        *rows,
        "",
    ])
    print(text)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
