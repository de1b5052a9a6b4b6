"""Benchmark reportgen's data-drift statistics against Evidently's data-drift preset, on the same data.

Usage::

    python benchmarks/bench_drift.py [--rows 1000000] [--columns 100] [--repeats 3]
        [--evidently-python /work/venvs/evidently/bin/python] [--evidently-by-kind] [--out FILE]

It generates a seeded reference table and a seeded current table of ``--rows`` rows each and ``--columns``
columns, 70% numbers (float64 from a dozen distributions, some integer-valued or rounded so that values tie,
one with a spread under Evidently's 0.001 floor, a few shifted in the current rows) and 30% categories (text,
2 to 50 levels, unbalanced, a few with shifted shares and one with a level the reference never saw), without
missing values. Both tables are written once to Parquet in a temporary folder; then, one after the other, each
side runs in its own process, reads the two files (not timed) and times its drift computation on the frames
in memory:

- reportgen (this interpreter): ``drift_of_columns(reference, current, columns,
  settings=MonitoringSection(), fdr=0.05)`` on every column (best of ``--repeats``), then on the number
  columns alone and the category columns alone;
- Evidently (``--evidently-python``, an environment with ``evidently==0.7.23`` and ``pandas<3``, as
  Evidently does not import under pandas 3): ``Report([DataDriftPreset()]).run(current, reference)``, the
  two frames wrapped in ``Dataset.from_pandas`` with a ``DataDefinition`` naming the number and category
  columns (inside the timing); optionally (``--evidently-by-kind``) also on each kind alone.

Each process records its peak resident memory (``getrusage``) and writes its per-column statistics to JSON.
With more than 1,000 reference rows Evidently's preset measures numbers with more than 5 distinct values by
the normed Wasserstein distance (``wasserstein_distance(ref, cur) / max(std(ref), 0.001)``) and categories
by the Jensen–Shannon distance over value shares (natural log); both are compared with reportgen's
``wasserstein`` (in reference standard deviations) and ``jensen_shannon`` statistics, to ``1e-9`` relative
(the Jensen–Shannon distance also to ``1e-12`` absolute: near 0 it is the square root of a difference of rounded
terms, which float64 cannot give to 1e-9 relative).
Where the reference's standard deviation is under 0.001, Evidently divides by 0.001 instead: both sides are
then compared as the raw distance. Prints a markdown section; ``--out`` appends it, with the command line,
machine and versions, to a file. Exits 1 when a statistic differs or a column is measured differently.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

EVIDENTLY_PYTHON = "/work/venvs/evidently/bin/python"
TOLERANCE = 1e-9  # relative
# The Jensen–Shannon distance is the square root of a divergence summed from terms of order 1, so float64
# rounding of about 1e-16 in the divergence becomes about 1e-16 / (2 · distance) in the distance: near 0 no two
# implementations (nor either and the exact value) agree to 1e-9 relative. There, agreement within this is equal.
JENSEN_SHANNON_ABSOLUTE = 1e-12
EVIDENTLY_NORM_FLOOR = 0.001  # Evidently divides the Wasserstein distance by max(std(reference), this)
NUMBER_SHARE = 0.7
NUMBER_TEST = "Wasserstein distance (normed)"  # Evidently's display names of the tests it picks
CATEGORY_TEST = "Jensen-Shannon distance"


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Data


def _bimodal(rng: np.random.Generator, n: int, drift: bool) -> np.ndarray:
    high = rng.random(n) < (0.45 if drift else 0.3)
    return np.where(high, rng.normal(8.0, 1.0, n), rng.normal(0.0, 2.0, n))


# name → values(rng, n, drift): the current rows of a drifting column are drawn with `drift=True`
NUMBER_KINDS = {
    "normal": lambda rng, n, d: rng.normal(50.0 + (2.5 if d else 0.0), 10.0, n),
    "lognormal": lambda rng, n, d: rng.lognormal(0.15 if d else 0.0, 1.0, n),
    "exponential": lambda rng, n, d: rng.exponential(2.4 if d else 2.0, n),
    "uniform": lambda rng, n, d: rng.uniform(-1.0, 1.2 if d else 1.0, n),
    "student_t3": lambda rng, n, d: rng.standard_t(3, n) * (1.3 if d else 1.0),
    "bimodal": _bimodal,
    "poisson": lambda rng, n, d: rng.poisson(13.0 if d else 12.0, n).astype(np.float64),  # integers: ties
    "rounded_1dp": lambda rng, n, d: np.round(rng.normal(0.2 if d else 0.0, 1.0, n), 1),  # ~70 distinct values
    "age": lambda rng, n, d: rng.integers(20 if d else 18, 91, n).astype(np.float64),
    "gamma": lambda rng, n, d: rng.gamma(2.0, 3.5 if d else 3.0, n),
    "beta": lambda rng, n, d: rng.beta(2.0, 4.0 if d else 5.0, n),
    "pareto": lambda rng, n, d: rng.pareto(2.5 if d else 3.0, n),
    "tiny_spread": lambda rng, n, d: rng.normal(0.0, 1e-4, n),  # std under Evidently's 0.001 floor
}
CYCLED_NUMBER_KINDS = [kind for kind in NUMBER_KINDS if kind != "tiny_spread"]
CATEGORY_LEVELS = [2, 3, 5, 8, 12, 20, 30, 50, 4, 7, 15, 40]
NUMBER_DRIFT_EVERY = 7  # every 7th number column is shifted in the current rows
CATEGORY_DRIFT_EVERY = 5  # every 5th category column
NEW_LEVEL_COLUMN = 3  # this category column gets a level in the current rows the reference never had


def column_plan(n_columns: int) -> list[dict]:
    """The columns: name, kind ("number"/"category"), distribution or levels, and whether it drifts."""
    n_numbers = round(n_columns * NUMBER_SHARE)
    plan = []
    for i in range(n_numbers):
        if i == 12 % max(n_numbers, 1) and n_numbers > 1:
            kind = "tiny_spread"
        else:
            kind = CYCLED_NUMBER_KINDS[i % len(CYCLED_NUMBER_KINDS)]
        drift = i % NUMBER_DRIFT_EVERY == 3 and kind != "tiny_spread"
        plan.append({"name": f"n{i:02d}_{kind}", "kind": "number", "distribution": kind, "drift": drift})
    for j in range(n_columns - n_numbers):
        levels = CATEGORY_LEVELS[j % len(CATEGORY_LEVELS)]
        drift = j % CATEGORY_DRIFT_EVERY == 1
        new_level = j == NEW_LEVEL_COLUMN
        plan.append({"name": f"c{j:02d}_{levels}_levels", "kind": "category", "levels": levels, "drift": drift,
                     "new_level": new_level})
    return plan


def _category_codes(rng: np.random.Generator, n: int, spec: dict, current: bool) -> tuple[np.ndarray, list[str]]:
    levels = spec["levels"]
    weights = 1.0 / np.arange(1, levels + 1) ** (0.6 + 0.1 * (levels % 5))  # unbalanced, Zipf-like
    labels = [f"value_{k:02d}" for k in range(levels)]
    if current and spec["drift"]:
        weights = 0.75 * weights / weights.sum() + 0.25 * weights[::-1] / weights.sum()  # shares move
    if spec["new_level"]:
        labels.append("value_new")
        weights = np.append(weights / weights.sum(), 0.01 if current else 0.0)
    return rng.choice(len(labels), n, p=weights / weights.sum()), labels


def write_tables(folder: Path, n_rows: int, n_columns: int, seed: int) -> dict:
    """Generate the reference and current tables, write them to Parquet; the plan and reference spreads."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plan = column_plan(n_columns)
    spreads = {}
    for side, current in (("reference", False), ("current", True)):
        arrays = []
        for index, spec in enumerate(plan):
            rng = np.random.default_rng([seed, index, int(current)])
            if spec["kind"] == "number":
                values = NUMBER_KINDS[spec["distribution"]](rng, n_rows, current and spec["drift"])
                if not current:
                    spreads[spec["name"]] = float(np.std(values))
                arrays.append(pa.array(values, type=pa.float64()))
            else:
                codes, labels = _category_codes(rng, n_rows, spec, current)
                arrays.append(pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                                             pa.array(labels)).cast(pa.string()))
        pq.write_table(pa.table(arrays, names=[spec["name"] for spec in plan]), folder / f"{side}.parquet")
        del arrays
        gc.collect()
    return {"plan": plan, "spreads": spreads, "rows": n_rows, "seed": seed}


# ---------------------------------------------------------------------------------------------
# The two sides (each runs in its own process)


def _rss_kb() -> int:
    """The resident memory now (VmRSS), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(function, *args, **kwargs):
    """(wall seconds, CPU seconds of this process, result) of one call."""
    gc.collect()
    cpu, start = _cpu_seconds(), time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, _cpu_seconds() - cpu, result


def _read(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict, float]:
    meta = json.loads((folder / "plan.json").read_text())
    start = time.perf_counter()
    reference = pd.read_parquet(folder / "reference.parquet")
    current = pd.read_parquet(folder / "current.parquet")
    return reference, current, meta, time.perf_counter() - start


def side_reportgen(folder: Path, repeats: int) -> dict:
    """Time reportgen's `drift_of_columns` on every column, then on each kind alone."""
    import scipy

    import reportgen
    from reportgen.config import MonitoringSection

    try:  # where the issue put it; the function first landed in data_drift.py
        from reportgen.analysis.monitoring import drift_of_columns
        where = "reportgen.analysis.monitoring"
    except ImportError:
        from reportgen.analysis.data_drift import drift_of_columns
        where = "reportgen.analysis.data_drift"

    reference, current, meta, read_s = _read(folder)
    rss_loaded = _rss_kb()
    plan = meta["plan"]
    subsets = {
        "all": [spec["name"] for spec in plan],
        "number": [spec["name"] for spec in plan if spec["kind"] == "number"],
        "category": [spec["name"] for spec in plan if spec["kind"] == "category"],
    }
    settings = MonitoringSection()
    runs: dict[str, list[list[float]]] = {}
    stats = {}
    for subset, columns in subsets.items():
        if not columns:
            continue
        runs[subset] = []
        for attempt in range(repeats):
            wall, cpu, drifts = _timed(drift_of_columns, reference, current, columns, settings=settings, fdr=0.05)
            runs[subset].append([wall, cpu])
            _log(f"reportgen, {subset} ({len(columns)} columns), run {attempt + 1}/{repeats}: {wall:.2f} s "
                 f"(CPU {cpu:.2f} s)")
            if subset == "all" and attempt == 0:
                stats = {
                    d.column: {
                        "kind": d.kind,
                        "drifted": d.drifted,
                        "tests": {t.test: {"statistic": t.statistic, "p_value": t.p_value, "q_value": t.q_value}
                                  for t in d.tests},
                    }
                    for d in drifts
                }
            del drifts
    return {
        "side": "reportgen",
        "function": f"{where}.drift_of_columns",
        "versions": {"python": platform.python_version(), "reportgen": getattr(reportgen, "__version__", "?"),
                     "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__},
        "read_seconds": read_s,
        "rss_after_read_kb": rss_loaded,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "runs": runs,
        "stats": stats,
    }


def side_evidently(folder: Path, repeats: int, by_kind: bool) -> dict:
    """Time Evidently's DataDriftPreset on every column (and, with `by_kind`, on each kind alone)."""
    import scipy
    from evidently import DataDefinition, Dataset, Report
    from evidently import __version__ as evidently_version
    from evidently.presets import DataDriftPreset

    reference, current, meta, read_s = _read(folder)
    rss_loaded = _rss_kb()
    plan = meta["plan"]
    numbers = [spec["name"] for spec in plan if spec["kind"] == "number"]
    categories = [spec["name"] for spec in plan if spec["kind"] == "category"]
    subsets = {"all": (numbers, categories)}
    if by_kind:
        subsets.update({"number": (numbers, []), "category": ([], categories)})

    def preset(numbers: list[str], categories: list[str]):
        definition = DataDefinition(numerical_columns=numbers, categorical_columns=categories)
        columns = numbers + categories
        return Report([DataDriftPreset()]).run(
            Dataset.from_pandas(current[columns], data_definition=definition),
            Dataset.from_pandas(reference[columns], data_definition=definition),
        )

    runs: dict[str, list[list[float]]] = {}
    stats = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for subset, (nums, cats) in subsets.items():
            if not nums and not cats:
                continue
            runs[subset] = []
            for attempt in range(repeats if subset == "all" else 1):
                wall, cpu, snapshot = _timed(preset, nums, cats)
                runs[subset].append([wall, cpu])
                _log(f"Evidently, {subset} ({len(nums) + len(cats)} columns), run {attempt + 1}: {wall:.1f} s "
                     f"(CPU {cpu:.1f} s)")
                if subset == "all" and attempt == 0:
                    for result in snapshot.dict()["metrics"]:
                        config = result.get("config", {})
                        if config.get("type", "").endswith("ValueDrift"):
                            stats[config["column"]] = {"test": config.get("method"),
                                                       "threshold": config.get("threshold"),
                                                       "statistic": float(result["value"])}
                del snapshot
    return {
        "side": "evidently",
        "versions": {"python": platform.python_version(), "evidently": evidently_version,
                     "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__},
        "read_seconds": read_s,
        "rss_after_read_kb": rss_loaded,
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "runs": runs,
        "stats": stats,
    }


def _child(python: str, side: str, folder: Path, extra: list[str]) -> dict:
    out = folder / f"{side}.json"
    command = [python, str(Path(__file__).resolve()), "--side", side, "--data", str(folder), "--result", str(out),
               *extra]
    _log(f"running {side}: {' '.join(command)}")
    environment = dict(os.environ)
    if side == "reportgen":  # the project's package, wherever the script is run from
        root = str(Path(__file__).resolve().parent.parent)
        environment["PYTHONPATH"] = root + os.pathsep + environment.get("PYTHONPATH", "")
    subprocess.run(command, check=True, env=environment)
    return json.loads(out.read_text())


# ---------------------------------------------------------------------------------------------
# Comparison


def compare(meta: dict, ours: dict, theirs: dict) -> dict:
    """Per column: reportgen's normed Wasserstein or Jensen–Shannon distance against Evidently's statistic."""
    rows, problems = [], []
    for spec in meta["plan"]:
        name, kind = spec["name"], spec["kind"]
        r, e = ours["stats"].get(name), theirs["stats"].get(name)
        if r is None or e is None:
            problems.append(f"{name}: missing in {'reportgen' if r is None else 'Evidently'}")
            continue
        expected_test = NUMBER_TEST if kind == "number" else CATEGORY_TEST
        if r["kind"] != kind:
            problems.append(f"{name}: reportgen treats it as a {r['kind']}, generated as a {kind}")
        if e["test"] != expected_test:
            problems.append(f"{name}: Evidently used {e['test']!r}, expected {expected_test!r}")
            continue
        how = "normed"
        if kind == "number":
            statistic = r["tests"].get("wasserstein", {}).get("statistic")
            spread = meta["spreads"][name]
            theirs_value = e["statistic"]
            if statistic is not None and spread < EVIDENTLY_NORM_FLOOR:  # compare the raw distances
                statistic, theirs_value, how = statistic * spread, theirs_value * EVIDENTLY_NORM_FLOOR, "raw"
        else:
            statistic = r["tests"].get("jensen_shannon", {}).get("statistic")
            theirs_value = e["statistic"]
        if statistic is None:
            problems.append(f"{name}: reportgen has no statistic")
            continue
        diff = abs(statistic - theirs_value)
        scale = max(abs(statistic), abs(theirs_value))
        relative = diff / scale if scale > 0 else 0.0
        rows.append({"column": name, "kind": kind, "how": how, "reportgen": statistic, "evidently": theirs_value,
                     "diff": diff, "relative": relative, "drift": spec["drift"],
                     "drifted_reportgen": r.get("drifted"),
                     "drifted_evidently": e["statistic"] >= (e.get("threshold") or 0.1)})
    worst = max(rows, key=lambda row: row["relative"], default=None)
    strict = [row for row in rows if row["relative"] > TOLERANCE]
    failed = [row for row in strict if row["kind"] == "number" or row["diff"] > JENSEN_SHANNON_ABSOLUTE]
    return {"rows": rows, "problems": problems, "worst": worst, "failed": failed, "strict": strict,
            "ok": not problems and not failed and len(rows) == len(meta["plan"])}


# ---------------------------------------------------------------------------------------------
# Report


def commit() -> str:
    """The repository's commit, and whether reportgen/ has uncommitted changes (read-only git commands)."""
    try:
        here = Path(__file__).resolve().parent.parent  # the repository: `git status reportgen` is relative to it
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=here, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "reportgen"], capture_output=True, text=True,
                               cwd=here, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in reportgen/" if dirty else "")


def machine(ours: dict, theirs: dict) -> list[str]:
    """The machine and versions, as markdown list items."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kb / 2**20:.1f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    o, t = ours["versions"], theirs["versions"]
    commit = ours["commit"]
    return [
        f"- CPU: {cpu}; `nproc` = {len(os.sched_getaffinity(0))}; memory {memory}",
        f"- {platform.platform()}",
        (f"- reportgen {o['reportgen']} at commit {commit} (`{ours['function']}`): Python {o['python']}, "
        f"numpy {o['numpy']}, pandas {o['pandas']}, scipy {o['scipy']}"),
        (f"- Evidently {t['evidently']} in its own environment: Python {t['python']}, numpy {t['numpy']}, "
        f"pandas {t['pandas']}, scipy {t['scipy']}"),
        (f"- Run on {time.strftime('%Y-%m-%d %H:%M')}; load average at the start {LOAD_AT_START}, at the end "
        f"{_load_average()} (other processes share the cores: above 0 means the times are inflated)"),
    ]


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


LOAD_AT_START = _load_average()


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def _runs(count: int) -> str:
    return "one run" if count == 1 else f"the best of {count} runs"


def _gib(kb: int) -> str:
    return f"{kb / 2**20:.2f} GiB"


def markdown(meta: dict, ours: dict, theirs: dict, agreement: dict, repeats: int) -> list[str]:
    plan = meta["plan"]
    n_numbers = sum(spec["kind"] == "number" for spec in plan)
    n_categories = len(plan) - n_numbers
    best = {subset: min(run[0] for run in runs) for subset, runs in ours["runs"].items()}
    theirs_s = {subset: min(run[0] for run in runs) for subset, runs in theirs["runs"].items()}
    ratio = theirs_s["all"] / best["all"]
    cpu_ratio = min(c for _, c in theirs["runs"]["all"]) / min(c for _, c in ours["runs"]["all"])
    worst = agreement["worst"]
    equal = "equal" if agreement["ok"] else "**DIFFER**"
    diff = f"{worst['relative']:.1e} ({equal})" if worst else "none compared"
    lines = [
        ("| rows (each side) | columns | reportgen `drift_of_columns` | Evidently `DataDriftPreset` | speed-up "
        "| CPU time ratio | reportgen peak RSS | Evidently peak RSS | max relative difference |"),
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        (f"| {meta['rows']:,} | {len(plan)} ({n_numbers} numbers, {n_categories} categories) | "
        f"{_seconds(best['all'])} s | {_seconds(theirs_s['all'])} s | {ratio:,.0f}× | {cpu_ratio:,.0f}× | "
        f"{_gib(ours['peak_rss_kb'])} | {_gib(theirs['peak_rss_kb'])} | {diff} |"),
        "",
        "| columns | reportgen: every run, wall (CPU) | Evidently: wall (CPU) | speed-up |",
        "|---|---|---|---:|",
    ]
    for subset in ("all", "number", "category"):
        if subset not in ours["runs"]:
            continue
        runs = ", ".join(f"{w:.2f} s ({c:.2f})" for w, c in ours["runs"][subset])
        if subset in theirs["runs"]:
            evidently = ", ".join(f"{w:.1f} s ({c:.1f})" for w, c in theirs["runs"][subset])
            speedup = f"{min(w for w, _ in theirs['runs'][subset]) / best[subset]:,.0f}×"
        else:
            evidently, speedup = "not run", ""
        count = {"all": len(plan), "number": n_numbers, "category": n_categories}[subset]
        lines.append(f"| {subset} ({count}) | {runs} | {evidently} | {speedup} |")
    rows = agreement["rows"]
    numbers = [row for row in rows if row["kind"] == "number"]
    categories = [row for row in rows if row["kind"] == "category"]
    raw = [row["column"] for row in rows if row["how"] == "raw"]

    def largest(selected: list[dict]) -> str:
        if not selected:
            return "none"
        top = max(selected, key=lambda row: row["relative"])
        return (f"{top['relative']:.1e} relative ({top['diff']:.1e} absolute) at `{top['column']}` "
                f"({top['reportgen']:.6g})")

    agree_r = sum(row["drifted_reportgen"] == row["drifted_evidently"] for row in rows)
    lines += [
        "",
        (f"Times are wall clock on frames already in memory (reading the two Parquet files is not timed: "
        f"reportgen {ours['read_seconds']:.1f} s, Evidently {theirs['read_seconds']:.1f} s); reportgen's is "
        f"{_runs(repeats)}, Evidently's {_runs(len(theirs['runs']['all']))}. "
        "CPU is the process's user + system time over the same call (more than the wall time: both cores worked); "
        "the CPU time ratio is Evidently's least CPU time over reportgen's, less sensitive than wall time to "
        "other processes on the machine. "
        "Evidently's time includes wrapping the frames in `Dataset.from_pandas` and everything "
        "`Report.run` does for the preset (its per-column `ValueDrift` metrics, `DriftedColumnsCount` and the "
        "widgets); reportgen's includes the chart data `drift_of_columns` returns. Peak RSS is each process's "
        f"`ru_maxrss`, including the two frames it read (RSS after reading: reportgen "
        f"{_gib(ours['rss_after_read_kb'])}, Evidently {_gib(theirs['rss_after_read_kb'])})."),
        "",
        (f"Statistics compared on {len(rows)} of {len(plan)} columns: numbers, reportgen's `wasserstein` (in "
        f"reference standard deviations) against Evidently's \"{NUMBER_TEST}\", largest difference "
        f"{largest(numbers)}; categories, reportgen's `jensen_shannon` against Evidently's \"{CATEGORY_TEST}\", "
        f"largest {largest(categories)}. Tolerance {TOLERANCE:g} relative; for the Jensen–Shannon distance also "
        f"{JENSEN_SHANNON_ABSOLUTE:g} absolute (near 0 it is the square root of a difference of rounded terms). "
        f"Within {TOLERANCE:g} relative: {len(rows) - len(agreement['strict'])} of {len(rows)} columns"
        + ("" if not agreement["strict"] else "; the rest, within the absolute tolerance: " + ", ".join(
            f"`{row['column']}` ({row['relative']:.1e} relative, {row['diff']:.1e} absolute, at "
            f"{row['reportgen']:.3g})" for row in agreement["strict"] if row not in agreement["failed"]))
        + "."),
    ]
    if raw:
        lines.append(f"Reference spread under Evidently's {EVIDENTLY_NORM_FLOOR} floor, compared as the raw "
                     f"Wasserstein distance (reportgen's statistic × std, Evidently's × {EVIDENTLY_NORM_FLOOR}): "
                     + ", ".join(f"`{c}`" for c in raw) + ".")
    lines.append(f"Drift decisions (reportgen: significant under BH at 0.05 and at least 0.1; Evidently: statistic "
                 f"≥ 0.1) agree on {agree_r} of {len(rows)} columns; "
                 f"{sum(spec['drift'] for spec in plan)} columns were generated with a shift.")
    disagree = [row["column"] for row in rows if row["drifted_reportgen"] != row["drifted_evidently"]]
    if disagree:
        lines.append("Decisions differ on: " + ", ".join(f"`{c}`" for c in disagree) + ".")
    for problem in agreement["problems"]:
        lines.append(f"- **problem**: {problem}")
    for row in agreement["failed"]:
        lines.append(f"- **differs**: `{row['column']}` reportgen {row['reportgen']!r}, Evidently "
                     f"{row['evidently']!r} ({row['relative']:.1e} relative)")
    verdict = "met" if ratio >= 20 and agreement["ok"] else "MISSED"
    lines += ["", ("Target: ≥ 20× faster than Evidently's data-drift preset with equal statistics: "
              f"{ratio:,.0f}×, statistics {'equal' if agreement['ok'] else 'NOT equal'}: {verdict}")]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of each table (default 1000000)")
    parser.add_argument("--columns", type=int, default=100, help="columns, 70%% numbers (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of reportgen per column set; best is kept")
    parser.add_argument("--evidently-repeats", type=int, default=1, help="runs of Evidently on every column")
    parser.add_argument("--evidently-python", default=EVIDENTLY_PYTHON,
                        help=f"a Python with evidently==0.7.23 and pandas<3 (default {EVIDENTLY_PYTHON})")
    parser.add_argument("--evidently-by-kind", action="store_true",
                        help="also time Evidently on the number columns alone and the category columns alone")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, default=None, help="write the data and JSON here and keep them")
    parser.add_argument("--out", type=Path, default=None, help="append the markdown section to this file")
    parser.add_argument("--side", choices=["reportgen", "evidently"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.side is not None:  # a child process: one side, on the data written by the parent
        if args.side == "reportgen":
            result = side_reportgen(args.data, args.repeats)
        else:
            result = side_evidently(args.data, args.evidently_repeats, args.evidently_by_kind)
        args.result.write_text(json.dumps(result))
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench_drift_")) if args.keep is None else args.keep
    folder.mkdir(parents=True, exist_ok=True)
    try:
        _log(f"writing {args.rows:,} × {args.columns} reference and current tables to {folder}")
        start = time.perf_counter()
        meta = write_tables(folder, args.rows, args.columns, args.seed)
        (folder / "plan.json").write_text(json.dumps(meta))
        _log(f"written in {time.perf_counter() - start:.1f} s")
        measured_commit = commit()  # as the reportgen process imports it
        ours = _child(sys.executable, "reportgen", folder, ["--repeats", str(args.repeats)])
        ours["commit"] = measured_commit
        extra = ["--evidently-repeats", str(args.evidently_repeats)]
        theirs = _child(args.evidently_python, "evidently", folder,
                        extra + (["--evidently-by-kind"] if args.evidently_by_kind else []))
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    agreement = compare(meta, ours, theirs)
    body = markdown(meta, ours, theirs, agreement, args.repeats)
    print("\n".join(body))
    if args.out is not None:
        command = "`python benchmarks/bench_drift.py " + " ".join(sys.argv[1:] if argv is None else argv) + "`"
        new = not args.out.exists()
        with args.out.open("a", encoding="utf-8") as out:
            if new:
                out.write("# Data drift: reportgen against Evidently's data-drift preset\n")
            out.write("\n".join(["", command, "", *machine(ours, theirs), "", *body, ""]))
        print(f"\nappended to {args.out}", file=sys.stderr)
    return 0 if agreement["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
