"""Benchmark what drives the predictions: permutation importance, partial dependence and proxies on a gradient
boosting model, by rows sampled and by features.

Usage::

    python benchmarks/bench_explanations.py [--rows 200000] [--features 12] [--repeats 3] [--out FILE]

It generates ``--rows`` seeded rows (numbers and categories, a two-group and a five-group sensitive column), fits a
scikit-learn ``HistGradientBoostingClassifier`` (100 iterations) on them, and times ``reportgen.evaluate`` with
``model={"fitted": ...}`` (best of ``--repeats``; the analyses' own seconds: the explanations, the rules and the
proxies, from a run without them subtracted) for ``[explanations] max_rows`` of 1,000, 5,000 (the default) and 20,000, with
the default 10 shuffles and partial dependence for the 3 most important features, overall and per group. Prints
a markdown section; ``--out`` appends it, with the command line, machine and versions, to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier

import reportgen


def dataset(rows: int, features: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """Seeded rows: `features` number columns (the first few decide the label), two sensitive columns."""
    rng = np.random.default_rng(seed)
    names = [f"x{k}" for k in range(features)]
    frame = pd.DataFrame(rng.normal(size=(rows, features)), columns=names)
    frame["sex"] = rng.choice(["f", "m"], rows)
    frame["race"] = rng.choice(list("abcde"), rows, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    logit = frame["x0"] * 2 + frame["x1"] - 0.5 * frame["x2"] + (frame["sex"] == "m") * 0.3
    frame["y"] = (logit + rng.logistic(size=rows) > 0).astype(int)
    return frame, names


def timed(frame: pd.DataFrame, options: dict, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        reportgen.evaluate(frame, **options)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    frame, names = dataset(args.rows, args.features)
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(frame[names], frame["y"])
    frame["p"] = model.predict_proba(frame[names])[:, 1]
    common = {"label": "y", "score": "p", "sensitive": ["sex", "race"], "resamples": 200,
              "error_analysis": {"enabled": False}}
    without = timed(frame, {**common, "model": {"features": names}, "explanations": {"enabled": False}},
                    args.repeats)
    lines = [f"## What drives the predictions: {args.rows:,} rows, {args.features} features, "
             "HistGradientBoostingClassifier (100 iterations)", "",
             f"The evaluation without explanations: {without:.2f} s. Seconds the explanations add (permutation "
             "importance, 10 shuffles, overall and per group of sex and race; partial dependence and ICE for 3 "
             "features, overall and per group; the rules; the proxies):", "",
             "| max_rows | seconds added |", "|---:|---:|"]
    for max_rows in (1_000, 5_000, 20_000):
        seconds = timed(frame, {**common, "model": {"fitted": model, "features": names},
                                "explanations": {"max_rows": max_rows}}, args.repeats)
        lines.append(f"| {max_rows:,} | {seconds - without:.2f} |")
        print(f"max_rows {max_rows}: {seconds - without:.2f} s", file=sys.stderr)
    section = "\n".join(lines)
    print(section)
    if args.out is not None:
        header = (f"\n\n<!-- {time.strftime('%Y-%m-%d')} · {platform.platform()} · {os.cpu_count()} CPUs · python "
                  f"{platform.python_version()} · scikit-learn {sklearn.__version__} · `{' '.join(sys.argv)}` -->\n\n")
        with args.out.open("a", encoding="utf-8") as handle:
            handle.write(header + section + "\n")


if __name__ == "__main__":
    main()
