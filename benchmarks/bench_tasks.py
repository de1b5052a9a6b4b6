"""Benchmark reportgen's multiclass and regression engines against Fairlearn's MetricFrame.

Usage::

    python benchmarks/bench_tasks.py [--task multiclass regression] [--rows 1000000 10000000]
        [--mf-sample N] [--mf-max-rows 1000000] [--repeats 2] [--out FILE]

For each task and row count it times, on the same seeded synthetic data with four slice families
(``a``: 2 groups, ``b``: 5, ``c``: 20 unbalanced, ``a × b``: 10) plus the overall group:

- reportgen's whole engine with intervals: `build_slices`, `tasks.prepare` once, then per family
  `Engine.group_stats` and `metric_frame(..., level=0.95, resamples=1000)` (what
  `evaluate_predictions` does for the metrics table, on one thread, minus fairness gaps, charts
  and findings); multiclass also times the per-class one-vs-rest tables apart;
- Fairlearn's `MetricFrame` with scikit-learn metric functions, once per family (two frames for
  multiclass: predicted labels, and the probability matrix), on every row, or on a uniform random
  sample with the time extrapolated linearly (``--mf-sample``); not run above ``--mf-max-rows``;

then compares every (family, group, metric) value both computed on the same rows (reportgen again,
without intervals, on the sampled rows when MetricFrame ran on a sample). Prints a markdown table;
``--out`` appends it, with the command line and machine, to a file.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn.metrics as skm
from fairlearn.metrics import MetricFrame, count

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import _group_label, _log, _seconds, machine

from reportgen.config import SliceSpec
from reportgen.metrics import tasks
from reportgen.metrics.table import metric_frame
from reportgen.slices import SliceFamily, build_slices

N_CLASSES = 10
TOP_K = (3,)
LEVEL = 0.95
A_VALUES = ["a0", "a1"]
B_VALUES = [f"b{i}" for i in range(5)]
C_VALUES = [f"c{i:02d}" for i in range(20)]
SLICES = [{"column": "a"}, {"column": "b"}, {"column": "c"}, {"columns": ["a", "b"]}]
TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# Data


def _groups(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = rng.choice(2, n, p=[0.55, 0.45])
    b = rng.choice(5, n, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    weights = 1.0 / np.arange(1, 21)
    c = rng.choice(20, n, p=weights / weights.sum())
    return a, b, c


def _text(codes: np.ndarray, values: list[str]) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, values)).astype("str")


def synthetic(task: str, n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
    """(frame of slice columns, y_true, y_pred, probabilities or None), seeded.

    Multiclass: 10 classes; labels drawn from a softmax of class logits that depend on the groups;
    the model's probabilities are a softmax of those logits plus noise that grows with ``b``;
    the prediction is the most probable class. Regression: a positive target (lognormal-ish, so
    MAPE is defined) and a prediction whose error depends on the groups.
    """
    rng = np.random.default_rng([seed, n])
    a, b, c = _groups(rng, n)
    frame = pd.DataFrame({"a": _text(a, A_VALUES), "b": _text(b, B_VALUES), "c": _text(c, C_VALUES)})
    if task == "multiclass":
        logits = rng.normal(0.0, 1.2, (n, N_CLASSES))
        logits[:, 0] += 0.4 * a
        logits[:, 1] += 0.2 * b
        logits[:, 2] += 0.03 * c
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        u = rng.random(n)
        y_true = np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), N_CLASSES - 1)
        del p
        logits += rng.normal(0.0, 1.0, (n, N_CLASSES)) * (0.6 + 0.15 * b)[:, None]
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        del logits
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        y_pred = probabilities.argmax(axis=1)
        return frame, y_true.astype(np.int64), y_pred.astype(np.int64), probabilities
    x = rng.normal(0.0, 1.0, n)
    y_true = np.exp(3.0 + 0.5 * x + 0.1 * a - 0.05 * b + 0.01 * c)
    y_pred = y_true * np.exp(rng.normal(0.02 * b, 0.2 + 0.05 * b, n)) + rng.normal(0.0, 2.0, n)
    return frame, y_true, y_pred, None


def slice_specs() -> list[SliceSpec]:
    return [SliceSpec.model_validate(raw) for raw in SLICES]


# ---------------------------------------------------------------------------------------------
# reportgen


@dataclass
class EngineRun:
    slices: float
    prepare: float
    stats: float
    tables: float
    class_tables: float
    table: pd.DataFrame
    families: list[SliceFamily]

    @property
    def total(self) -> float:
        return self.slices + self.prepare + self.stats + self.tables


def reportgen_engine(task: str, frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray,
                     probabilities: np.ndarray | None, *, level: float | None, resamples: int,
                     class_tables: bool = False) -> EngineRun:
    """The metrics table of every family, timed by phase (one thread)."""
    gc.collect()
    start = time.perf_counter()
    overall = SliceFamily("overall", "overall", [], ["overall"], np.zeros(len(frame), dtype=np.int32))
    families = [overall] + build_slices(frame, slice_specs(), source="synthetic")
    sliced = time.perf_counter()
    engine = tasks.prepare(task, y_true, y_pred, probabilities, n_classes=N_CLASSES, top_k=TOP_K)
    prepared = time.perf_counter()
    stats_s = tables_s = class_s = 0.0
    tables = []
    for index, family in enumerate(families):
        a = time.perf_counter()
        stats = engine.group_stats(family.codes, family.n_groups)
        b = time.perf_counter()
        tables.append(metric_frame(family.name, family.labels, stats, engine.metrics, level=level,
                                   resamples=resamples, rng=np.random.default_rng([0, index])))
        c = time.perf_counter()
        stats_s += b - a
        tables_s += c - b
        if class_tables and engine.class_metrics:
            for k in range(N_CLASSES):
                metric_frame(family.name, family.labels, stats.task.one_vs_rest(k), engine.class_metrics,
                             level=level, resamples=resamples, rng=np.random.default_rng([0, index, k + 1]))
            class_s += time.perf_counter() - c
    a = time.perf_counter()
    table = pd.concat(tables, ignore_index=True)
    tables_s += time.perf_counter() - a
    return EngineRun(sliced - start, prepared - sliced, stats_s, tables_s, class_s, table, families)


# ---------------------------------------------------------------------------------------------
# Fairlearn MetricFrame with scikit-learn metrics

LABELS = list(range(N_CLASSES))


def _roc_auc(average: str):
    def compute(y_true, y_score):
        try:
            return skm.roc_auc_score(y_true, y_score, multi_class="ovr", average=average, labels=LABELS)
        except ValueError:  # a class missing from the group
            return np.nan
    return compute


def mf_metrics(task: str) -> tuple[dict, dict]:
    """(metrics on predicted labels or values, metrics on the probability matrix), reportgen names."""
    if task == "regression":
        return {
            "count": count,
            "mae": skm.mean_absolute_error,
            "mse": skm.mean_squared_error,
            "rmse": skm.root_mean_squared_error,
            "r2": skm.r2_score,
            "mape": skm.mean_absolute_percentage_error,
            "median_absolute_error": skm.median_absolute_error,
            "max_error": skm.max_error,
            "explained_variance": skm.explained_variance_score,
        }, {}
    on_labels = {
        "count": count,
        "accuracy": skm.accuracy_score,
        "balanced_accuracy": skm.balanced_accuracy_score,
        "cohen_kappa": skm.cohen_kappa_score,
        "mcc": skm.matthews_corrcoef,
    }
    for average in ("macro", "micro", "weighted"):
        on_labels[f"{average}_precision"] = partial(skm.precision_score, average=average)
        on_labels[f"{average}_recall"] = partial(skm.recall_score, average=average)
        on_labels[f"{average}_f1"] = partial(skm.f1_score, average=average)
    on_scores = {
        "roc_auc_macro": _roc_auc("macro"),
        "roc_auc_weighted": _roc_auc("weighted"),
        "log_loss": partial(skm.log_loss, labels=LABELS),
        **{f"top_{k}_accuracy": partial(skm.top_k_accuracy_score, k=k, labels=LABELS) for k in TOP_K},
    }
    return on_labels, on_scores


def _features(frame: pd.DataFrame) -> dict[str, pd.Series | pd.DataFrame]:
    return {"a": frame["a"], "b": frame["b"], "c": frame["c"], "a × b": frame[["a", "b"]]}


def metricframe_all(task: str, frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray,
                    probabilities: np.ndarray | None) -> dict[str, tuple[pd.Series, pd.DataFrame]]:
    """Per family: (overall values, by-group values), from one or two MetricFrames."""
    on_labels, on_scores = mf_metrics(task)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, features in _features(frame).items():
            by_labels = MetricFrame(metrics=on_labels, y_true=y_true, y_pred=y_pred, sensitive_features=features)
            overall, by_group = [by_labels.overall], [by_labels.by_group]
            if on_scores:
                by_scores = MetricFrame(metrics=on_scores, y_true=y_true, y_pred=probabilities,
                                        sensitive_features=features)
                overall.append(by_scores.overall)
                by_group.append(by_scores.by_group)
            results[name] = (pd.concat(overall), pd.concat(by_group, axis=1))
    return results


# ---------------------------------------------------------------------------------------------
# Agreement


@dataclass
class Agreement:
    compared: int = 0
    max_diff: float = 0.0
    worst: str = ""
    by_metric: dict = field(default_factory=dict)  # metric -> max |diff|
    both_undefined: int = 0
    only_sklearn: dict = field(default_factory=dict)
    only_reportgen: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.max_diff <= TOLERANCE and not self.only_reportgen and not self.missing


def compare(table: pd.DataFrame, oracle: dict[str, tuple[pd.Series, pd.DataFrame]]) -> Agreement:
    result = Agreement()
    values = table.set_index(["slice", "group", "metric"])["value"]
    first = next(iter(oracle.values()))
    expected = [("overall", "overall", first[0])]
    for family, (_, by_group) in oracle.items():
        expected += [(family, _group_label(i), row) for i, row in by_group.iterrows()]
    for family, group, row in expected:
        for metric in row.index:
            key = (family, group, metric)
            if key not in values.index:
                result.missing.append(" / ".join(key))
                continue
            ours, theirs = float(values[key]), float(row[metric])
            if np.isnan(ours) and np.isnan(theirs):
                result.both_undefined += 1
            elif np.isnan(ours):
                result.only_sklearn[metric] = result.only_sklearn.get(metric, 0) + 1
            elif np.isnan(theirs):
                result.only_reportgen[metric] = result.only_reportgen.get(metric, 0) + 1
            else:
                result.compared += 1
                diff = abs(ours - theirs)
                result.by_metric[metric] = max(result.by_metric.get(metric, 0.0), diff)
                if diff > result.max_diff:
                    result.max_diff, result.worst = diff, " / ".join(key)
    return result


# ---------------------------------------------------------------------------------------------
# One (task, row count)


@dataclass
class Measurement:
    task: str
    rows: int
    groups: int
    runs: list[EngineRun]
    mf_rows: int = 0
    mf_measured: float = float("nan")
    agreement: Agreement | None = None
    peak_rss_gib: float = float("nan")
    note: str = ""

    @property
    def best(self) -> EngineRun:
        return min(self.runs, key=lambda run: run.total)

    @property
    def mf_seconds(self) -> float:
        return self.mf_measured * self.rows / self.mf_rows if self.mf_rows else float("nan")


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def measure(task: str, n: int, *, repeats: int, resamples: int, mf_sample: int | None, mf_max_rows: int,
            seed: int) -> Measurement:
    _log(f"{task}, {n:,} rows: generating data")
    frame, y_true, y_pred, probabilities = synthetic(task, n, seed)
    runs = []
    for attempt in range(repeats):
        runs.append(reportgen_engine(task, frame, y_true, y_pred, probabilities, level=LEVEL,
                                     resamples=resamples, class_tables=True))
        r = runs[-1]
        _log(f"{task}, {n:,} rows: run {attempt + 1}/{repeats}: whole engine {r.total:.2f} s (slices {r.slices:.2f}, "
             f"prepare {r.prepare:.2f}, group_stats {r.stats:.2f}, tables {r.tables:.2f}; "
             f"per-class tables {r.class_tables:.2f})")
    m = Measurement(task, n, sum(f.n_groups for f in runs[0].families), runs)
    if n > mf_max_rows:
        m.note = f"MetricFrame not run at {n:,} rows (over --mf-max-rows {mf_max_rows:,})"
        m.peak_rss_gib = _peak_rss_gib()
        return m
    mf_rows = n if mf_sample is None else min(mf_sample, n)
    if mf_rows < n:
        pick = np.sort(np.random.default_rng([seed, mf_rows]).choice(n, size=mf_rows, replace=False))
        s_frame = frame.iloc[pick].reset_index(drop=True)
        s_true, s_pred = y_true[pick], y_pred[pick]
        s_prob = None if probabilities is None else probabilities[pick]
    else:
        s_frame, s_true, s_pred, s_prob = frame, y_true, y_pred, probabilities
    _log(f"{task}, {n:,} rows: MetricFrame on {mf_rows:,} rows")
    gc.collect()
    start = time.perf_counter()
    oracle = metricframe_all(task, s_frame, s_true, s_pred, s_prob)
    m.mf_rows, m.mf_measured = mf_rows, time.perf_counter() - start
    _log(f"{task}, {n:,} rows: MetricFrame took {m.mf_measured:.1f} s")
    table = (m.best.table if mf_rows == n else
             reportgen_engine(task, s_frame, s_true, s_pred, s_prob, level=None, resamples=resamples).table)
    m.agreement = compare(table, oracle)
    m.peak_rss_gib = _peak_rss_gib()
    return m


# ---------------------------------------------------------------------------------------------
# Report


def markdown(results: list[Measurement], resamples: int) -> list[str]:
    lines = [
        "| task | rows | groups | reportgen whole engine, with CIs (s) | MetricFrame (s) | speed-up | max \\|diff\\| "
        "| slices / prepare / group_stats / tables (s) | multiclass per-class tables (s) | every run (s) "
        "| peak RSS (GiB) |",
        "|---|---:|---:|---:|---|---:|---|---|---:|---|---:|",
    ]
    for m in results:
        e = m.best
        if m.agreement is None:
            mf, speedup, diff = "not run", "", ""
        else:
            mf = _seconds(m.mf_seconds)
            if m.mf_rows < m.rows:
                mf += f" (extrapolated: {_seconds(m.mf_measured)} s on a {m.mf_rows:,}-row sample × {m.rows / m.mf_rows:g})"
            speedup = f"{m.mf_seconds / e.total:,.0f}×"
            diff = f"{m.agreement.max_diff:.1e}" + (" (on the sample)" if m.mf_rows < m.rows else "")
            if not m.agreement.ok:
                diff += " **FAIL**"
        phases = f"{e.slices:.2f} / {e.prepare:.2f} / {e.stats:.2f} / {e.tables:.2f}"
        per_class = f"{e.class_tables:.2f}" if m.task == "multiclass" else ""
        runs = ", ".join(f"{r.total:.2f}" for r in m.runs)
        lines.append(f"| {m.task} | {m.rows:,} | {m.groups} | {e.total:.2f} | {mf} | {speedup} | {diff} | {phases} "
                     f"| {per_class} | {runs} | {m.peak_rss_gib:.1f} |")
    lines.append("")
    for m in results:
        if m.note:
            lines.append(f"- {m.task}, {m.rows:,} rows: {m.note}.")
        a = m.agreement
        if a is None:
            continue
        worst = ", ".join(f"{k} {v:.1e}" for k, v in sorted(a.by_metric.items(), key=lambda kv: -kv[1]))
        lines.append(f"- {m.task}, {m.rows:,} rows: {a.compared:,} values compared on {m.mf_rows:,} rows; "
                     f"largest difference {a.max_diff:.1e} at {a.worst}; per metric: {worst}.")
        if a.only_sklearn or a.only_reportgen or a.missing or a.both_undefined:
            lines.append(f"  Undefined in reportgen only: {a.only_sklearn or 'none'}; in scikit-learn only: "
                         f"{a.only_reportgen or 'none'}; both: {a.both_undefined}; missing: {a.missing[:5] or 'none'}.")
    lines += [
        "",
        f"Times are the best of {len(results[0].runs)} runs (wall clock, one thread for reportgen). Slice families: "
        "overall; a, 2 groups; b, 5 (unbalanced); c, 20 (Zipf-like); a × b, 10. reportgen's whole engine is "
        "`build_slices` + `tasks.prepare` once + per family `Engine.group_stats` and `metric_frame` with "
        f"intervals (level {LEVEL}, {resamples} bootstrap replicates; calibration metrics included for multiclass); "
        "the speed-up divides MetricFrame's time (no intervals) by it. The multiclass per-class one-vs-rest tables "
        "(support, precision, recall, F1, ROC AUC with intervals, 10 classes × every group) are timed apart and are "
        "not in the whole-engine column; neither are fairness gaps, charts or findings.",
        "",
        "MetricFrame, once per family (its `overall` is reportgen's overall group). Multiclass (10 classes, "
        "probabilities from a softmax, full precision): a frame on predicted labels with fairlearn `count` and "
        "scikit-learn `accuracy_score`, `balanced_accuracy_score`, `cohen_kappa_score`, `matthews_corrcoef`, "
        "`precision_score` / `recall_score` / `f1_score` with `average` macro, micro and weighted (default "
        "`zero_division`), and a frame on the 10-column probability matrix with `roc_auc_score(multi_class=\"ovr\")` "
        "macro and weighted, `log_loss` and `top_k_accuracy_score(k=3)`. Regression (positive, lognormal-like "
        "target): `count`, `mean_absolute_error`, `mean_squared_error`, `root_mean_squared_error`, `r2_score`, "
        "`mean_absolute_percentage_error`, `median_absolute_error`, `max_error`, `explained_variance_score`. Where "
        "MetricFrame ran on a sample its time is extrapolated linearly in the rows, and values are compared with "
        "reportgen run again (without intervals) on the same sampled rows. Peak RSS is the process's high-water mark "
        "after that (task, rows) run, so it includes the data and earlier runs in the same process.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", nargs="+", default=["multiclass", "regression"], choices=["multiclass", "regression"])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--mf-sample", type=int, default=None,
                        help="run MetricFrame on this many sampled rows and extrapolate (default: every row)")
    parser.add_argument("--mf-max-rows", type=int, default=1_000_000,
                        help="do not run MetricFrame above this row count (default 1000000: at 10M it takes hours)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="append the markdown section to this file")
    args = parser.parse_args(argv)

    results = [measure(task, n, repeats=args.repeats, resamples=args.resamples, mf_sample=args.mf_sample,
                       mf_max_rows=args.mf_max_rows, seed=args.seed)
               for task in args.task for n in args.rows]
    body = markdown(results, args.resamples)
    print("\n".join(body))
    if args.out is not None:
        command = "`python benchmarks/bench_tasks.py " + " ".join(sys.argv[1:] if argv is None else argv) + "`"
        with args.out.open("a", encoding="utf-8") as out:
            out.write("\n".join(["", command, "", *machine(), "", *body, ""]))
        print(f"\nappended to {args.out}", file=sys.stderr)
    failed = [m for m in results if m.agreement is not None and not m.agreement.ok]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
