"""Benchmark comparing a candidate with a baseline on the same rows, for each task.

Usage::

    python benchmarks/bench_compare.py [--rows 1000000] [--repeats 3] [--resamples 1000]

For each task it times, on seeded synthetic data (binary: `bench_engine`'s five slice families, 44
groups; multiclass (10 classes) and regression: `bench_tasks`' four families, 38 groups):

- the whole engine without a baseline: ``evaluate_predictions(predictions, config)``;
- the same with a baseline (a second model's predictions on the same rows), so the difference is
  what the comparison costs: the baseline's own statistics and metrics per family, the joint
  confusion cells and their paired bootstrap, DeLong's paired test, the per-row paired
  differences and Benjamini–Hochberg;

and prints a markdown table (best of `repeats`).
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np
import pandas as pd
from bench_engine import SLICES as BINARY_SLICES
from bench_engine import synthetic_predictions
from bench_tasks import N_CLASSES, SLICES, synthetic

from reportgen.baseline import Baseline
from reportgen.config import Config, DataSection, validate
from reportgen.evaluation import evaluate_predictions
from reportgen.io import Predictions, check_predictions


def _binary(n: int) -> tuple[Predictions, Predictions, Config]:
    frame = synthetic_predictions(n, seed=0)
    rng = np.random.default_rng(1)
    frame["old"] = np.round(np.clip(frame["score"] + rng.normal(0, 0.1, n), 0, 1), 3)
    raw = {"report": {"resamples": RESAMPLES}, "data": {"label": "label", "score": "score"}, "slices": BINARY_SLICES}
    config = validate(Config, raw, source="bench_compare.py")
    candidate = check_predictions(frame, config.data, source="synthetic")
    baseline = check_predictions(frame, config.data.model_copy(update={"score": "old"}), source="synthetic")
    return candidate, baseline, config


def _other(task: str, n: int) -> tuple[Predictions, Predictions, Config]:
    frame, y_true, y_pred, probabilities = synthetic(task, n)
    rng = np.random.default_rng(2)
    if task == "multiclass":
        classes = [f"c{k}" for k in range(N_CLASSES)]
        frame["y"] = np.asarray(classes, dtype=object)[y_true]
        names = {c: f"p_{c}" for c in classes}
        old = probabilities * rng.uniform(0.7, 1.3, probabilities.shape)
        old /= old.sum(axis=1, keepdims=True)
        frame = pd.concat([frame, pd.DataFrame(probabilities, columns=list(names.values())),
                           pd.DataFrame(old, columns=[f"q_{c}" for c in classes])], axis=1)
        data = {"label": "y", "scores": names}
        other = {"scores": {c: f"q_{c}" for c in classes}}
    else:
        frame["y"], frame["pred"], frame["old"] = y_true, y_pred, y_pred + rng.normal(0, 2.0, n)
        data, other = {"label": "y", "prediction": "pred"}, {"prediction": "old"}
    raw = {"report": {"resamples": RESAMPLES}, "model": {"task": task}, "data": data, "slices": SLICES}
    config = validate(Config, raw, source="bench_compare.py")
    candidate = check_predictions(frame, config.data, task=task, source="synthetic")
    baseline = check_predictions(frame, DataSection(label="y", **other), task=task, source="synthetic")
    return candidate, baseline, config


def _best(repeats: int, run) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


RESAMPLES = 1000


def main() -> None:
    global RESAMPLES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    RESAMPLES = args.resamples
    print("| task | rows | groups | whole engine | with a baseline | comparison's cost |")
    print("|---|---:|---:|---:|---:|---:|")
    for task in ("binary", "multiclass", "regression"):
        candidate, baseline, config = _binary(args.rows) if task == "binary" else _other(task, args.rows)
        paired = Baseline("old", "synthetic", baseline, "by row order", 0)
        alone = _best(args.repeats, lambda: evaluate_predictions(candidate, config))  # noqa: B023
        both = _best(args.repeats, lambda: evaluate_predictions(candidate, config, baselines=[paired]))  # noqa: B023
        groups = sum(f.n_groups for f in evaluate_predictions(candidate, config).families)
        print(f"| {task} | {args.rows:,} | {groups} | {alone:.2f} s | {both:.2f} s | {both - alone:+.2f} s |",
              flush=True)


if __name__ == "__main__":
    main()
