"""Write a large, seeded binary-classification predictions dataset as Parquet files, plus a reportgen config.

Usage::

    python benchmarks/make_scale_data.py [--rows 100000000] [--out /tmp/reportgen-scale] [--seed 0]
    reportgen build /tmp/reportgen-scale/config.toml

The out directory gets ``data/part-00000.parquet``, ``data/part-00001.parquet``, … (`--rows-per-file` rows each,
row groups of `--chunk-rows`) and ``config.toml``, which names the folder ``data``. Rows are made and written one chunk at a time, so memory stays
in the low hundreds of MB whatever `--rows`. Chunk ``k`` draws from ``numpy.random.default_rng((seed, k))``
and fixed per-seed effects, so the same seed and chunk size give the same rows.

Columns: ``id`` (int64), ``label`` (int8 0/1), ``score`` (float64 in (0, 1)), ``sex`` (2 values), ``race``
(5, skewed), ``region`` (50, Zipf-like), ``age`` (int16, 18-90), ``income`` (float64, lognormal, ~1% null)
and ``signup`` (timestamp[us], over 2023-2024). The score is ``sigmoid(logit)`` of a model's logit; the label
is drawn from a miscalibrated version of it (overconfident, shifted and flatter for some races, regions and
young people), so the overall ROC AUC is about 0.79 and groups differ.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEXES = ["female", "male"]
RACES = ["white", "black", "hispanic", "asian", "other"]
RACE_P = [0.61, 0.13, 0.17, 0.06, 0.03]
RACE_SHIFT = np.array([0.0, 0.25, 0.1, -0.15, 0.35])  # the label's log-odds the score misses
RACE_SLOPE = np.array([1.0, 0.85, 0.95, 1.0, 0.6])  # < 1: the score ranks this group worse
N_REGIONS = 50
REGIONS = [f"region_{i:02d}" for i in range(N_REGIONS)]
SIGNUP_START = np.datetime64("2023-01-01T00:00:00", "us")
SIGNUP_SPAN_US = 730 * 86_400 * 1_000_000
SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("label", pa.int8()),
        ("score", pa.float64()),
        ("sex", pa.string()),
        ("race", pa.string()),
        ("region", pa.string()),
        ("age", pa.int16()),
        ("income", pa.float64()),
        ("signup", pa.timestamp("us")),
    ]
)
CONFIG = """\
[report]
title = "Scale test: {rows:,} synthetic binary predictions (seed {seed})"
output_dir = "out"
engine = "duckdb"

[model]
name = "scale-synthetic"
version = "1.0.0"
task = "binary"

[data]
path = "data"
label = "label"
score = "score"

[[slices]]
column = "sex"

[[slices]]
column = "race"

[[slices]]
column = "region"

[[slices]]
column = "age"
quantiles = 5

[[slices]]
columns = ["sex", "race"]

[[slices]]
name = "young high income"
where = "income > 50000 and age < 40"
"""


def text(codes: np.ndarray, values: list[str]) -> pa.Array:
    """A string array from integer codes into `values` (decoded from a dictionary array, in C++).

    Parameters
    ----------
    codes : numpy.ndarray
        Indices into `values`.
    values : list of str
        The distinct values.

    Returns
    -------
    pyarrow.Array
        A plain ``string`` array.
    """
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(values)).dictionary_decode()


def make_chunk(start: int, n: int, seed: int, chunk: int, region_shift: np.ndarray) -> pa.Table:
    """Rows ``start`` to ``start + n - 1`` of the dataset.

    Parameters
    ----------
    start : int
        The first row's ``id``.
    n : int
        Rows in the chunk.
    seed : int
        The dataset's seed.
    chunk : int
        The chunk's number; with `seed`, it seeds the chunk's generator.
    region_shift : numpy.ndarray
        Per-region label log-odds the model misses (fixed per seed).

    Returns
    -------
    pyarrow.Table
        The chunk, with schema `SCHEMA`.
    """
    rng = np.random.default_rng((seed, chunk))
    zipf = 1.0 / np.arange(1, N_REGIONS + 1) ** 1.1
    sex = rng.choice(2, n, p=[0.51, 0.49])
    race = rng.choice(5, n, p=RACE_P)
    region = rng.choice(N_REGIONS, n, p=zipf / zipf.sum())
    age = np.rint(18 + 72 * rng.beta(1.6, 2.6, n)).astype(np.int16)
    log_income = rng.normal(10.75, 0.65, n) + 0.012 * (np.minimum(age, 60) - 40) - 0.08 * sex
    income = np.exp(log_income)
    # the model's logit, from a hidden feature and the inputs; the label's is a distorted version of it
    logit = -1.1 + 1.55 * rng.standard_normal(n) + 0.5 * (log_income - 10.75) + 0.015 * (age - 40)
    true_logit = (
        0.88 * RACE_SLOPE[race] * (logit + 1.1)
        - 1.0
        + RACE_SHIFT[race]
        + region_shift[region]
        - 0.15 * sex
        + rng.normal(0.0, 0.2 + 0.3 * (age < 25), n)
    )
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-true_logit))).astype(np.int8)
    signup = SIGNUP_START + rng.integers(0, SIGNUP_SPAN_US, n).astype("timedelta64[us]")
    columns = [
        pa.array(np.arange(start, start + n, dtype=np.int64)),
        pa.array(label),
        pa.array(1.0 / (1.0 + np.exp(-logit))),
        text(sex, SEXES),
        text(race, RACES),
        text(region, REGIONS),
        pa.array(age),
        pa.array(income, mask=rng.random(n) < 0.01),
        pa.array(signup),
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def write_dataset(rows: int, out: Path, seed: int, rows_per_file: int, chunk_rows: int) -> list[Path]:
    """Write the Parquet files and ``config.toml`` into `out`.

    Parameters
    ----------
    rows : int
        Total rows.
    out : pathlib.Path
        The folder (created; existing ``data/part-*.parquet`` files are removed first).
    seed : int
        The dataset's seed.
    rows_per_file : int
        Rows per file (rounded up to whole chunks).
    chunk_rows : int
        Rows per chunk, which is also the row-group size.

    Returns
    -------
    list of pathlib.Path
        The Parquet files written.
    """
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    for old in data.glob("part-*.parquet"):
        old.unlink()
    region_shift = np.random.default_rng((seed, 2**32)).normal(0.0, 0.25, N_REGIONS)
    chunks_per_file = max(1, -(-rows_per_file // chunk_rows))
    paths: list[Path] = []
    writer: pq.ParquetWriter | None = None
    for chunk, start in enumerate(range(0, rows, chunk_rows)):
        if chunk % chunks_per_file == 0:
            if writer is not None:
                writer.close()
            paths.append(data / f"part-{len(paths):05d}.parquet")
            writer = pq.ParquetWriter(paths[-1], SCHEMA, compression="zstd")
        n = min(chunk_rows, rows - start)
        writer.write_table(make_chunk(start, n, seed, chunk, region_shift), row_group_size=chunk_rows)
    if writer is not None:
        writer.close()
    (out / "config.toml").write_text(CONFIG.format(rows=rows, seed=seed), encoding="utf-8")
    return paths


def main() -> None:
    """Parse the arguments, write the dataset and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000, help="total rows (default 100,000,000)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/reportgen-scale"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--rows-per-file", type=int, default=5_000_000, help="rows per file (default 5,000,000)")
    parser.add_argument("--chunk-rows", type=int, default=1_000_000, help="rows per chunk and row group")
    args = parser.parse_args()
    if args.rows < 1 or args.chunk_rows < 1 or args.rows_per_file < 1:
        parser.error("--rows, --rows-per-file and --chunk-rows must be positive")
    began = time.perf_counter()
    paths = write_dataset(args.rows, args.out, args.seed, args.rows_per_file, args.chunk_rows)
    size = sum(p.stat().st_size for p in paths)
    print(
        f"{args.rows:,} rows in {len(paths)} files, {size / 1e6:,.1f} MB, {time.perf_counter() - began:.1f} s "
        f"-> {args.out}"
    )


if __name__ == "__main__":
    main()
