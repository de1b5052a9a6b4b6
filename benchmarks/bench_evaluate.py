"""Time `reportgen.evaluate()` with its defaults, the call a notebook user makes, on bench_engine's synthetic data.

    python benchmarks/bench_evaluate.py [--rows 1000000] [--repeats 3] [--decimals 3] [--profile 25]

Defaults means every analysis the library runs unless told otherwise: metrics with bootstrap intervals per
group, fairness gaps, calibration, the sanity checks, error analysis (tree and slice discovery), findings and
their suggestions. Prints the best wall-clock and CPU time of `--repeats` runs (the data is built once, outside
the timing), and with `--profile N` the N functions with the most cumulative time of one more run.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import SENSITIVE, SLICES, synthetic_predictions  # noqa: E402

import reportgen  # noqa: E402


def run(frame: object) -> reportgen.Evaluation:
    """The evaluation of bench_engine's slices and sensitive columns, everything else at its default."""
    return reportgen.evaluate(frame, label="label", score="score", prediction="prediction", slices=SLICES,
                              sensitive=SENSITIVE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--decimals", type=int, default=3, help="round scores to this many decimals; -1: full precision")
    parser.add_argument("--profile", type=int, default=0, help="print the N slowest functions of one more run")
    args = parser.parse_args(argv)
    frame = synthetic_predictions(args.rows, decimals=None if args.decimals < 0 else args.decimals)
    run(frame.head(1000))  # imports and first-call set-up, as a notebook has them after its first evaluate
    walls, cpus = [], []
    for _ in range(args.repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        evaluation = run(frame)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    load = os.getloadavg()[0]
    print(f"evaluate() at {args.rows:,} rows ({'full precision' if args.decimals < 0 else f'{args.decimals} decimals'}),"
          f" best of {args.repeats}: wall {min(walls):.2f} s, CPU {min(cpus):.2f} s"
          f" (every wall: {', '.join(f'{w:.2f}' for w in walls)}; load {load:.1f}; {len(evaluation.findings)} findings)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(run, frame)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
