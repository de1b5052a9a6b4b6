"""Benchmark the SQL engines at scale: 100M rows of Parquet out of core under a memory limit, and the numbers of the
duckdb engine against the numpy engine's on a 10M-row file.

Usage::

    python benchmarks/bench_scale.py [--rows 100000000] [--compare-rows 10000000] [--data /tmp/reportgen-scale]
        [--memory-limit 1.5GB] [--skip-large] [--baseline] [--monitoring] [--out benchmarks/scale.md]

Datasets come from ``benchmarks/make_scale_data.py`` (binary predictions; slices on sex, race, 50 regions, age
quintiles, sex × race and a ``where`` condition), written under ``--data`` unless already there. Each build is
``reportgen build config.toml --format json`` in its own process, whose wall time and peak resident memory
(``wait4``'s ``ru_maxrss``, the process and no other) are recorded:

1. ``--compare-rows`` rows in one Parquet file, once with ``engine = "numpy"`` and once with ``engine = "duckdb"``:
   every slice's groups, metrics and intervals, the fairness gaps, the chart data and the error analysis (but its
   tree, grown on a sample each engine draws its own way) of the two report.json files must agree — counts exactly,
   every other number to 1e-9 relative (the engines add floating-point numbers in
   different orders);
2. ``--rows`` rows in 5M-row files with ``engine = "duckdb"`` and ``memory_limit = --memory-limit``.

With ``--baseline`` every build also compares with a previous model's scores (``baseline.parquet`` next to the
data: the same ids in the reverse order, the score with noise on its log-odds), joined on ``id``; the paired
comparison is then compared between the engines too. With ``--monitoring`` every build also follows the model over
time (``[monitoring] time = "signup"``: monthly windows, performance by window and slice × window, the change
detectors over the rows' errors in time order); the monitoring result is then compared between the engines too,
but for its notes on the label-free estimates, which the SQL engines do not make.

The duckdb builds use every core (``threads``) and record their stages' times (``timings = true``).

Prints a markdown section; ``--out`` appends it, with the command line, machine and versions, to a file. Exits 1
when the two engines' numbers differ.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_scale_data import write_dataset  # noqa: E402

COMPARED = ("slices", "fairness", "charts", "overall", "evaluation_data", "comparisons")
BASELINE = '\n[baseline]\nname = "previous"\npath = "baseline.parquet"\nscore = "score_old"\nid = "id"\n'
MONITORING = '\n[monitoring]\ntime = "signup"\n'


def build(config: Path, out: Path) -> tuple[float, float]:
    """Run ``reportgen build`` on `config` into `out`: wall seconds and peak resident memory (GiB) of that process."""
    command = [shutil.which("reportgen") or "reportgen", "build", str(config), "--out", str(out), "--format", "json",
               "--quiet"]
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return seconds, usage.ru_maxrss / 2**20  # kB on Linux


def dataset(root: Path, rows: int, rows_per_file: int) -> Path:
    """The config of a dataset of `rows` rows under `root`, written first if missing."""
    folder = root / f"rows-{rows}-per-{rows_per_file}"
    if not (folder / "config.toml").exists():
        print(f"writing {rows:,} rows to {folder}", file=sys.stderr)
        write_dataset(rows, folder, seed=0, rows_per_file=rows_per_file, chunk_rows=1_000_000)
    return folder / "config.toml"


def baseline_file(folder: Path) -> None:
    """A previous model's scores for every id of the dataset in `folder` (``baseline.parquet``: id, score_old, in
    the reverse order), written first if missing: the score with seeded noise on its log-odds."""
    path = folder / "baseline.parquet"
    if path.exists():
        return
    table = pq.read_table(folder / "data", columns=["id", "score"])
    score = table["score"].to_numpy()
    noise = np.random.default_rng(1).normal(0.0, 0.6, len(score))
    old = 1 / (1 + np.exp(-(np.log(score / (1 - score)) * 0.9 + noise)))
    pq.write_table(pa.table({"id": table["id"].to_numpy()[::-1], "score_old": old[::-1]}), path)


def with_settings(config: Path, name: str, *, engine: str, path: str, memory_limit: str | None = None,
                  baseline: bool = False, monitoring: bool = False) -> Path:
    """A copy of `config` next to it with another engine, data path and memory limit, and (`baseline`) a
    [baseline] joined on the id, (`monitoring`) [monitoring] over the signup times."""
    text = config.read_text(encoding="utf-8").replace('engine = "duckdb"', f'engine = "{engine}"')
    if baseline:
        text += BASELINE
    if monitoring:
        text += MONITORING
    text = text.replace('path = "data"', f'path = "{path}"')
    if memory_limit is not None:
        text = text.replace(f'engine = "{engine}"', f'engine = "{engine}"\nmemory_limit = "{memory_limit}"')
    if engine == "duckdb":
        text = text.replace(f'engine = "{engine}"', f'engine = "{engine}"\nthreads = {os.cpu_count() or 1}\ntimings = true')
    copy = config.with_name(name)
    copy.write_text(text, encoding="utf-8")
    return copy


def without_estimates(monitoring: dict) -> dict:
    """report.json's monitoring without its label-free estimates and notes (made by the numpy engine only)."""
    estimates = ("estimate", "estimate_low", "estimate_high")
    performance = [{**series, "values": [{k: v for k, v in value.items() if k not in estimates}
                                         for value in series["values"]]} for series in monitoring["performance"]]
    return {**{k: v for k, v in monitoring.items() if k != "notes"}, "performance": performance}


def differences(expected: object, actual: object, where: str = "") -> list[str]:
    """Where two report.json values differ: integers and text exactly, floats beyond 1e-9 relative."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for key in expected for d in differences(expected[key], actual[key], f"{where}.{key}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items != {len(actual)}"]
        return [d for i, (a, b) in enumerate(zip(expected, actual, strict=True)) for d in differences(a, b, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, float | int):
        close = math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(expected) and math.isnan(actual))
        # chart data is rounded to 4 decimals: a value half-way between two roundings may round either way
        close = close or (".charts." in where and abs(expected - actual) <= 1.01e-4)
        return [] if close else [f"{where}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--compare-rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=Path("/tmp/reportgen-scale"))
    parser.add_argument("--memory-limit", default="1.5GB")
    parser.add_argument("--skip-large", action="store_true", help="only the comparison of the engines")
    parser.add_argument("--baseline", action="store_true",
                        help="compare with a previous model's scores (baseline.parquet, joined on id) in every build")
    parser.add_argument("--monitoring", action="store_true",
                        help="follow the model over time ([monitoring] time = \"signup\") in every build")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    compare = dataset(args.data, args.compare_rows, args.compare_rows)
    file = next((compare.parent / "data").glob("*.parquet")).relative_to(compare.parent)
    if args.baseline:
        baseline_file(compare.parent)
    runs = {}
    for engine in ("numpy", "duckdb"):
        config = with_settings(compare, f"config-{engine}.toml", engine=engine, path=str(file),
                               baseline=args.baseline, monitoring=args.monitoring)
        runs[engine] = build(config, compare.parent / f"out-{engine}")
        print(f"{engine}: {args.compare_rows:,} rows in {runs[engine][0]:.1f} s, peak {runs[engine][1]:.2f} GiB",
              file=sys.stderr)
    reports = {engine: json.loads((compare.parent / f"out-{engine}" / "report.json").read_text()) for engine in runs}
    found = [d for key in COMPARED for d in differences(reports["numpy"][key], reports["duckdb"][key], key)]
    # the error analysis but its tree, grown on 200,000 rows each engine draws its own way (docs/engines.md)
    errors = [{k: v for k, v in (reports[engine]["error_analysis"] or {}).items() if k != "tree"} for engine in runs]
    found += differences(*errors, "error_analysis")
    if args.monitoring:  # but the label-free estimates (and their notes), made by the numpy engine only
        found += differences(*(without_estimates(reports[engine]["monitoring"]) for engine in runs), "monitoring")
    groups = sum(len(s["groups"]) for s in reports["numpy"]["slices"])
    numbers = sum(len(g["metrics"]) for s in reports["numpy"]["slices"] for g in s["groups"])

    with_baseline = (" with a baseline" if args.baseline else "") + (" and monitoring over time" if args.monitoring
                                                                      else "")
    lines = [f"## {args.compare_rows:,} rows{with_baseline}: the numpy and duckdb engines", "",
             "| engine | wall (s) | peak RSS (GiB) |", "|---|---:|---:|"]
    lines += [f"| {engine} | {seconds:.1f} | {peak:.2f} |" for engine, (seconds, peak) in runs.items()]
    compared = (", the paired comparison" if args.baseline else "") + (", monitoring" if args.monitoring else "")
    lines += ["", f"{numbers:,} metric values of {groups} groups, the fairness gaps, the chart data, the error "
              f"analysis (but its tree){compared} compared: "
              + ("all equal (counts exactly, the rest to 1e-9 relative)." if not found else
                 f"{len(found)} differ, e.g. {found[:5]}")]
    if not args.skip_large:
        large = dataset(args.data, args.rows, 5_000_000)
        if args.baseline:
            baseline_file(large.parent)
        config = with_settings(large, "config-limited.toml", engine="duckdb", path="data",
                               memory_limit=args.memory_limit, baseline=args.baseline, monitoring=args.monitoring)
        seconds, peak = build(config, large.parent / "out")
        stages = json.loads((large.parent / "out" / "report.json").read_text())["run"]["engine"]
        size = sum(p.stat().st_size for p in (large.parent / "data").glob("*.parquet"))
        lines += ["", f"## {args.rows:,} rows{with_baseline}, duckdb engine, memory_limit = {args.memory_limit}", "",
                  f"{size / 1e9:.2f} GB of Parquet ({len(list((large.parent / 'data').glob('*.parquet')))} files): "
                  f"**{seconds:.0f} s** wall, **peak RSS {peak:.2f} GiB** (DuckDB spilled to disk past its limit); "
                  f"{stages['rows_scanned']:,} rows scanned."]
    section = "\n".join(lines)
    print(section)
    if args.out is not None:
        header = (f"\n\n<!-- {time.strftime('%Y-%m-%d')} · {platform.platform()} · {os.cpu_count()} CPUs · python "
                  f"{platform.python_version()} · `{' '.join(sys.argv)}` -->\n\n")
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write(header + section + "\n")
    if found:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
