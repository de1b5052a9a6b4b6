"""The cost of the input checks (issue 12): `io.read_table` against the bare pandas readers it replaced.

    python benchmarks/bench_read.py [--rows 1000000]

Writes one predictions table (id, label, score and three metadata columns) as CSV, CSV with empty cells
in its last column (which makes the reader count every line's fields), JSONL and Parquet in a temporary
folder, then reports the best of three CPU times of each reader.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from reportgen.io import read_table

BARE = {  # what read_table called before the checks
    ".csv": lambda p: pd.read_csv(p),
    ".parquet": lambda p: pd.read_parquet(p),
    ".jsonl": lambda p: pd.read_json(p, lines=True, precise_float=True),
}


def _cpu(call, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.rows
    frame = pd.DataFrame({
        "id": np.arange(n), "y": rng.integers(0, 2, n), "p": rng.random(n), "sex": rng.choice(["f", "m"], n),
        "age": rng.integers(18, 90, n).astype(float), "region": rng.choice(["north", "south", "east", "west"], n),
    })
    with tempfile.TemporaryDirectory() as folder:
        files = {"csv": Path(folder) / "p.csv", "csv, empty last cells": Path(folder) / "gaps.csv",
                 "jsonl": Path(folder) / "p.jsonl", "parquet": Path(folder) / "p.parquet"}
        frame.to_csv(files["csv"], index=False)
        frame.assign(note=np.where(np.arange(n) % 10 == 0, None, "x")).to_csv(files["csv, empty last cells"], index=False)
        frame.to_json(files["jsonl"], orient="records", lines=True)
        frame.to_parquet(files["parquet"], index=False)
        print(f"{n:,} rows; best of 3 CPU seconds\n")
        print("| file | pandas alone | read_table | overhead |\n|---|---:|---:|---:|")
        for label, path in files.items():
            repeats = 2 if label == "jsonl" else 3
            bare = _cpu(lambda: BARE[path.suffix](path), repeats)
            checked = _cpu(lambda: read_table(path, path.name), repeats)
            print(f"| {label} ({path.stat().st_size / 2**20:.0f} MB) | {bare:.2f} | {checked:.2f} | "
                  f"{(checked / bare - 1) * 100:+.0f}% |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
