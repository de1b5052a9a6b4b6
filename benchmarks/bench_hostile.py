"""Build reports from hostile inputs (huge cells, many groups, thousands of columns): time, peak memory, sizes.

    python benchmarks/bench_hostile.py [--cases cell-100k cell-10m columns-5000 ...] [--formats html,json,md,pdf]
                                       [--timeout 300] [--max-rss-gb 6] [--python PYTHON]

Each case writes a small project (predictions.csv and config.toml) to a temporary folder and runs
`python -m reportgen.cli build` on it in a child process, which is killed past `--timeout` seconds or
`--max-rss-gb` of resident memory (the run is then reported as killed, with the time and memory it had
reached). `--python` runs another interpreter (e.g. one whose `PYTHONPATH` holds the code before a
change) to measure before and after. Prints a markdown table: wall time, CPU time (user + system, less
sensitive than wall time to other processes on the machine) and peak RSS of the child (from `wait4`),
its exit code and the size of each output.

Cases (a binary task, `rows` rows, one score column, slices on `tag`):
- `cell-100k`, `cell-10m`: one cell of 100 KB / 10 MB in a slice column (the other values short).
- `cells-1m-x20`: 20 distinct 1 MB cells in a slice column.
- `groups-10000`: 10,000 distinct 1 KB values in a slice column with `max_groups = 10000`.
- `columns-5000`: 5,000 metadata columns of three values each, all error-analysis candidates.
- `patient-id`: 20,000 rows with a `patient_id` column of about 5,000 values (four rows each on average),
  configured as a slice: an identifier-like slice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = {"html": "report.html", "pdf": "report.pdf", "json": "report.json", "md": "summary.md"}
CASES = ("cell-100k", "cell-10m", "cells-1m-x20", "groups-10000", "columns-5000", "patient-id")


def _frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    p = np.clip(0.35 * y + 0.65 * rng.random(rows), 0, 1).round(3)
    return pd.DataFrame({"y": y, "p": p, "tag": rng.choice(["a", "b", "c"], rows)})


def project(case: str, folder: Path) -> Path:
    """Write the case's predictions.csv and config.toml into `folder`; returns the config's path."""
    slices = '[[slices]]\ncolumn = "tag"\n'
    if case in ("cell-100k", "cell-10m"):
        frame = _frame(2_000)
        frame.loc[7, "tag"] = "x" * (100_000 if case == "cell-100k" else 10_000_000)
    elif case == "cells-1m-x20":
        frame = _frame(2_000)
        for i in range(20):
            frame.loc[i * 50, "tag"] = f"{i:02d}" + "y" * 1_000_000
    elif case == "groups-10000":
        frame = _frame(20_000)
        frame["tag"] = [f"{i:05d}" + "z" * 1_000 for i in range(10_000)] * 2
        slices = '[[slices]]\ncolumn = "tag"\nmax_groups = 10000\n'
    elif case == "columns-5000":
        frame = _frame(1_000)
        rng = np.random.default_rng(1)
        extra = pd.DataFrame(rng.choice(np.array(["u", "v", "w"]), size=(len(frame), 5_000)),
                             columns=[f"c{i:04d}" for i in range(5_000)])
        frame = pd.concat([frame, extra], axis=1)
    elif case == "patient-id":
        frame = _frame(20_000)
        frame["patient_id"] = [f"P{i:05d}" for i in np.random.default_rng(2).integers(0, 5_000, len(frame))]
        slices += '[[slices]]\ncolumn = "patient_id"\n'
    else:
        raise SystemExit(f"unknown case {case!r}; choose from {', '.join(CASES)}")
    frame.to_csv(folder / "predictions.csv", index=False)
    config = folder / "config.toml"
    config.write_text(
        f'[report]\ntitle = "hostile: {case}"\nresamples = 200\n\n'
        '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n\n' + slices, encoding="utf-8")
    return config


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(python: str, config: Path, formats: str, timeout: float, max_rss_kb: int) -> dict[str, object]:
    """Build the report in a child process under a watchdog; time, peak RSS, exit code, output sizes."""
    out = config.parent / "out"
    start = time.perf_counter()
    child = subprocess.Popen([python, "-m", "reportgen.cli", "build", str(config), "--out", str(out), "--format",
                              formats, "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             cwd=config.parent)  # not this checkout: `-m` would import the package beside it
    killed: list[str] = []
    done = threading.Event()  # set once wait4 has reaped the child (the watcher must not reap it)

    def watch() -> None:
        while not done.wait(0.1):
            if time.perf_counter() - start > timeout:
                killed.append(f"killed after {timeout:g} s")
            elif _rss_kb(child.pid) > max_rss_kb:
                killed.append(f"killed at {max_rss_kb / 2**20:.1f} GB")
            if killed:
                child.kill()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    watcher.join()
    stderr = child.stderr.read().decode(errors="replace").strip().splitlines() if child.stderr else []
    sizes = {name: (out / file).stat().st_size if (out / file).exists() else None for name, file in FORMATS.items()}
    return {"time": elapsed, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss * 1024, "code": child.returncode,
            "note": killed[0] if killed else (stderr[-1][:120] if child.returncode else ""), "sizes": sizes}


def _size(value: int | None) -> str:
    if value is None:
        return "–"
    return f"{value / 2**20:.2f} MB" if value >= 2**20 else f"{value / 2**10:.0f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--formats", default="html,json,md,pdf")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-rss-gb", type=float, default=6.0)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    print(f"`{' '.join(['python', 'benchmarks/bench_hostile.py', *sys.argv[1:]])}`\n")
    print(f"- nproc {os.cpu_count()}; load average at the start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    shown = [name for name in FORMATS if name in args.formats.split(",")]
    print("| case | wall time | CPU time | peak RSS | exit | " + " | ".join(FORMATS[name] for name in shown) + " | note |")
    print("|---|---:|---:|---:|---:|" + "---:|" * len(shown) + "---|", flush=True)
    for case in args.cases:
        folder = Path(tempfile.mkdtemp(prefix=f"hostile-{case}-"))
        try:
            result = run(args.python, project(case, folder), args.formats, args.timeout, int(args.max_rss_gb * 2**20))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        sizes = result["sizes"]
        print(f"| {case} | {result['time']:.1f} s | {result['cpu']:.1f} s | {result['rss'] / 2**30:.2f} GB | {result['code']} | "
              + " | ".join(_size(sizes[name]) for name in shown) + f" | {result['note']} |", flush=True)


if __name__ == "__main__":
    main()
