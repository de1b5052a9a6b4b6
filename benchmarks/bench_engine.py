"""Benchmark reportgen's metric engine against Fairlearn's MetricFrame on synthetic predictions.

Usage::

    python benchmarks/bench_engine.py [--rows 1000000 10000000] [--mf-sample N] [--repeats 3]

For each row count it times, on the same seeded data:

- ``check_predictions``: column checks and the frame's fingerprint;
- reportgen's metrics without intervals: `build_slices`, `Rows.prepare` once, then `group_stats`
  and `metric_frame(..., level=None)` per slice family (what `evaluate_predictions` does, minus
  intervals, fairness gaps and curves);
- reportgen's whole engine with intervals: `evaluate_predictions(predictions, config)`;
- Fairlearn's `MetricFrame` with scikit-learn / Fairlearn metric functions, once per slice family,
  on every row, or on a uniform random sample with the time extrapolated linearly;

then compares every (family, group, metric) value both computed on the same rows. Prints a
markdown table and writes it, with the machine's description, to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import fairlearn
import numpy as np
import pandas as pd
import sklearn
import sklearn.metrics as skm
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
)

import reportgen
from reportgen.config import Config, validate
from reportgen.evaluation import evaluate_predictions
from reportgen.io import Predictions, check_predictions
from reportgen.metrics.binary import METRICS, group_stats
from reportgen.metrics.statistics import Rows
from reportgen.metrics.table import metric_frame
from reportgen.slices import SliceFamily, build_slices

RESULTS = Path(__file__).with_name("results.md")

SEXES = ["female", "male"]
RACES = ["white", "black", "hispanic", "asian", "other"]
AGE_EDGES = [18, 25, 35, 45, 55, 65, float("inf")]
AGE_BANDS = ["[18, 25)", "[25, 35)", "[35, 45)", "[45, 55)", "[55, 65)", "[65, ∞]"]  # reportgen's labels
SLICES = [
    {"column": "sex"},
    {"column": "race"},
    {"column": "age", "bins": AGE_EDGES},
    {"column": "region"},
    {"columns": ["sex", "race"]},
]
SENSITIVE = ["sex", "race"]
PILOT_ROWS = 100_000
FULL_MF_LIMIT_S = 300.0  # run MetricFrame on every row when the pilot predicts less than this
MF_SAMPLE_DEFAULT = 1_000_000
TOLERANCE = 1e-9


# ---------------------------------------------------------------------------------------------
# Data


def synthetic_predictions(
    n_rows: int, *, seed: int = 0, n_regions: int = 20, decimals: int | None = 3
) -> pd.DataFrame:
    """Seeded binary-classification predictions with five slice families' columns.

    Columns: ``label`` (0/1), ``score`` (a probability rounded to `decimals`, so scores tie; None
    keeps full precision), ``prediction`` (score ≥ 0.5), ``sex`` (2 values), ``race`` (5,
    unbalanced), ``age`` (18-90, binned into 6 groups by the config) and ``region`` (`n_regions`
    values, unbalanced). Text columns have pandas' default string dtype, as read from a CSV or
    Parquet file.
    """
    rng = np.random.default_rng(seed)
    sex = rng.choice(len(SEXES), n_rows, p=[0.52, 0.48])
    race = rng.choice(len(RACES), n_rows, p=[0.60, 0.15, 0.12, 0.08, 0.05])
    region_weights = 1.0 / np.arange(1, n_regions + 1)
    region = rng.choice(n_regions, n_rows, p=region_weights / region_weights.sum())
    age = rng.integers(18, 91, n_rows)
    # the label's log-odds depend on the groups, so metrics differ between groups
    log_odds = rng.normal(-0.6, 1.4, n_rows) + 0.25 * sex - 0.15 * race + 0.01 * (age - 50) + 0.02 * region
    label = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-log_odds))).astype(np.int64)
    noise = rng.normal(0.0, 0.9 + 0.1 * race, n_rows)  # the model is worse for some groups
    score = 1.0 / (1.0 + np.exp(-(log_odds + noise)))
    if decimals is not None:
        score = np.round(score, decimals)

    def text(codes: np.ndarray, values: list[str]) -> pd.Series:
        return pd.Series(pd.Categorical.from_codes(codes, values)).astype("str")

    return pd.DataFrame(
        {
            "label": label,
            "score": score,
            "prediction": (score >= 0.5).astype(np.int64),
            "sex": text(sex, SEXES),
            "race": text(race, RACES),
            "age": age,
            "region": text(region, [f"region_{i:02d}" for i in range(n_regions)]),
        }
    )


def benchmark_config(resamples: int) -> Config:
    """The validated config: five slice families, two sensitive columns, default intervals."""
    raw = {
        "report": {"title": "benchmark", "confidence_level": 0.95, "resamples": resamples, "seed": 0},
        "data": {"label": "label", "score": "score", "prediction": "prediction"},
        "slices": SLICES,
        "fairness": {"sensitive": SENSITIVE},
    }
    return validate(Config, raw, source="bench_engine.py")


# ---------------------------------------------------------------------------------------------
# reportgen


@dataclass
class EngineRun:
    """Timings (seconds) of reportgen's metrics without intervals, and the tidy table."""

    slices: float
    prepare: float
    stats: float
    tables: float
    table: pd.DataFrame
    families: list[SliceFamily]

    @property
    def total(self) -> float:
        return self.slices + self.prepare + self.stats + self.tables


def reportgen_metrics(predictions: Predictions, config: Config) -> EngineRun:
    """Every registry metric for every group of every family, without intervals, timed by phase."""
    frame = predictions.frame
    start = time.perf_counter()
    overall = SliceFamily("overall", "overall", [], ["overall"], np.zeros(len(frame), dtype=np.int32))
    families = [overall] + build_slices(frame, list(config.slices), source=predictions.source)
    sliced = time.perf_counter()
    rows = Rows.prepare(predictions.y_true, predictions.y_pred, predictions.scores)
    prepared = time.perf_counter()
    stats_s = tables_s = 0.0
    tables = []
    for family in families:
        a = time.perf_counter()
        stats = group_stats(family.codes, rows, family.n_groups)
        b = time.perf_counter()
        tables.append(metric_frame(family.name, family.labels, stats, METRICS, level=None))
        stats_s += b - a
        tables_s += time.perf_counter() - b
    a = time.perf_counter()
    table = pd.concat(tables, ignore_index=True)
    tables_s += time.perf_counter() - a
    return EngineRun(sliced - start, prepared - sliced, stats_s, tables_s, table, families)


def timed(function, *args, **kwargs):  # noqa: ANN001, ANN201
    """(seconds, result) of one call."""
    gc.collect()
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


# ---------------------------------------------------------------------------------------------
# Fairlearn MetricFrame with scikit-learn metrics (the oracle the tests use)


def _mf_metrics() -> tuple[dict, dict]:
    """MetricFrame metric functions: on predicted labels, and on scores."""

    def prevalence(y_true, y_pred):  # noqa: ANN001, ANN202
        return np.mean(y_true)

    def roc_auc(y_true, y_score):  # noqa: ANN001, ANN202
        try:
            return skm.roc_auc_score(y_true, y_score)
        except ValueError:  # one class
            return np.nan

    def log_loss(y_true, y_score):  # noqa: ANN001, ANN202
        return skm.log_loss(y_true, y_score, labels=[0, 1])

    def brier(y_true, y_score):  # noqa: ANN001, ANN202
        return skm.brier_score_loss(y_true, y_score, labels=[0, 1])

    on_labels = {
        "count": count,
        "prevalence": prevalence,
        "accuracy": skm.accuracy_score,
        "balanced_accuracy": skm.balanced_accuracy_score,
        "precision": partial(skm.precision_score, zero_division=np.nan),
        "recall": partial(skm.recall_score, zero_division=np.nan),
        "specificity": true_negative_rate,
        "fpr": false_positive_rate,
        "fnr": false_negative_rate,
        "f1": partial(skm.f1_score, zero_division=np.nan),
        "mcc": skm.matthews_corrcoef,
        "selection_rate": selection_rate,
    }
    on_scores = {
        "roc_auc": roc_auc,
        "average_precision": skm.average_precision_score,
        "log_loss": log_loss,
        "brier": brier,
    }
    return on_labels, on_scores


def _sensitive_features(frame: pd.DataFrame) -> dict[str, pd.Series | pd.DataFrame]:
    """MetricFrame's sensitive features for each reportgen family name (age banded as configured)."""
    band = np.searchsorted(np.asarray(AGE_EDGES), frame["age"].to_numpy(), side="right") - 1
    age_band = pd.Series(np.asarray(AGE_BANDS, dtype=object)[np.clip(band, 0, len(AGE_BANDS) - 1)],
                         index=frame.index, name="age")
    return {
        "sex": frame["sex"],
        "race": frame["race"],
        "age": age_band,
        "region": frame["region"],
        "sex × race": frame[["sex", "race"]],
    }


def metricframe_all(frame: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.DataFrame]]:
    """For each family: (overall values, by-group values) from two MetricFrames (labels, scores)."""
    on_labels, on_scores = _mf_metrics()
    y_true = frame["label"].to_numpy()
    y_pred = frame["prediction"].to_numpy()
    y_score = frame["score"].to_numpy()
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, features in _sensitive_features(frame).items():
            by_labels = MetricFrame(metrics=on_labels, y_true=y_true, y_pred=y_pred, sensitive_features=features)
            by_scores = MetricFrame(metrics=on_scores, y_true=y_true, y_pred=y_score, sensitive_features=features)
            results[name] = (
                pd.concat([by_labels.overall, by_scores.overall]),
                pd.concat([by_labels.by_group, by_scores.by_group], axis=1),
            )
    return results


# ---------------------------------------------------------------------------------------------
# Agreement


@dataclass
class Agreement:
    """How reportgen's values compare with MetricFrame's on the same rows."""

    rows: int
    compared: int = 0
    max_diff: float = 0.0
    worst: str = ""
    both_undefined: int = 0
    skipped: Counter = field(default_factory=Counter)  # reportgen undefined, sklearn a number
    only_reportgen: Counter = field(default_factory=Counter)  # reportgen a number, sklearn NaN: a bug
    missing: list[str] = field(default_factory=list)  # groups or metrics absent on one side: a bug

    @property
    def ok(self) -> bool:
        return self.max_diff <= TOLERANCE and not self.only_reportgen and not self.missing


def _group_label(index_value: object) -> str:
    if isinstance(index_value, tuple):  # an intersection
        return " & ".join(str(part) for part in index_value)
    return str(index_value)


def compare(table: pd.DataFrame, oracle: dict[str, tuple[pd.Series, pd.DataFrame]], n_rows: int) -> Agreement:
    """Compare every (family, group, metric) value that both engines computed."""
    result = Agreement(rows=n_rows)
    values = table.set_index(["slice", "group", "metric"])["value"]
    metric_names = [metric.name for metric in METRICS]
    expected: list[tuple[str, str, pd.Series]] = []
    first = next(iter(oracle.values()))
    expected.append(("overall", "overall", first[0]))
    for family, (_, by_group) in oracle.items():
        for index_value, row in by_group.iterrows():
            expected.append((family, _group_label(index_value), row))
    seen = {(family, group) for family, group, _ in expected}
    result.missing += [f"{s} / {g} (MetricFrame has no such group)" for s, g in
                       table[["slice", "group"]].drop_duplicates().itertuples(index=False) if (s, g) not in seen]
    for family, group, row in expected:
        for metric in metric_names:
            if (family, group, metric) not in values.index or metric not in row.index:
                result.missing.append(f"{family} / {group} / {metric}")
                continue
            ours, theirs = float(values[(family, group, metric)]), float(row[metric])
            if np.isnan(ours) and np.isnan(theirs):
                result.both_undefined += 1
            elif np.isnan(ours):
                result.skipped[metric] += 1
            elif np.isnan(theirs):
                result.only_reportgen[metric] += 1
            else:
                result.compared += 1
                diff = abs(ours - theirs)
                if diff > result.max_diff:
                    result.max_diff, result.worst = diff, f"{family} / {group} / {metric}"
    return result


# ---------------------------------------------------------------------------------------------
# One row count


@dataclass
class Measurement:
    """Everything reported for one row count."""

    rows: int
    groups: int
    families: int
    check: float
    engine: EngineRun
    whole: float
    engine_runs: list[float]
    whole_runs: list[float]
    mf_rows: int
    mf_measured: float
    mf_pilot: str
    agreement: Agreement

    @property
    def mf_seconds(self) -> float:
        return self.mf_measured * self.rows / self.mf_rows

    @property
    def speedup(self) -> float:
        return self.mf_seconds / self.engine.total

    @property
    def sampled(self) -> bool:
        return self.mf_rows < self.rows


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _sample(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """A uniform random sample of n rows (in their original order), with a fresh index."""
    if n >= len(frame):
        return frame
    rows = np.sort(np.random.default_rng([seed, n]).choice(len(frame), size=n, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def measure(n_rows: int, *, seed: int, repeats: int, mf_sample: int | None, resamples: int,
            n_regions: int, decimals: int | None, skip_mf: bool = False) -> Measurement:
    """Generate the data, time every engine, and compare values."""
    _log(f"{n_rows:,} rows: generating data")
    frame = synthetic_predictions(n_rows, seed=seed, n_regions=n_regions, decimals=decimals)
    config = benchmark_config(resamples)

    checks, engines, wholes = [], [], []
    predictions = None
    for attempt in range(repeats):
        seconds, predictions = timed(check_predictions, frame, config.data, source="synthetic data")
        checks.append(seconds)
        engines.append(reportgen_metrics(predictions, config))
        seconds, evaluation = timed(evaluate_predictions, predictions, config)
        wholes.append(seconds)
        _log(f"{n_rows:,} rows: run {attempt + 1}/{repeats}: check_predictions {checks[-1]:.2f} s, "
             f"metrics without intervals {engines[-1].total:.2f} s, whole engine {wholes[-1]:.2f} s")
        if attempt == 0:  # both paths must give the same values
            merged = evaluation.metrics[["slice", "group", "metric", "value"]].merge(
                engines[-1].table[["slice", "group", "metric", "value"]], on=["slice", "group", "metric"])
            assert len(merged) == len(engines[-1].table) and np.array_equal(
                merged["value_x"].to_numpy(), merged["value_y"].to_numpy(), equal_nan=True)
        del evaluation
    engine = min(engines, key=lambda run: run.total)
    families = engine.families
    for family in families:
        if family.name == "age" and family.labels != AGE_BANDS:
            raise AssertionError(f"reportgen's age bands {family.labels} differ from {AGE_BANDS}")
    assert predictions is not None

    if skip_mf:
        agreement = Agreement(rows=0)
        return Measurement(n_rows, sum(f.n_groups for f in families), len(families), min(checks), engine,
                           min(wholes), [run.total for run in engines], wholes, n_rows, float("nan"), "", agreement)

    pilot_note = ""
    if mf_sample is not None:
        mf_rows = min(mf_sample, n_rows)
    else:
        pilot = min(n_rows, PILOT_ROWS)
        _log(f"{n_rows:,} rows: MetricFrame pilot on {pilot:,} rows")
        pilot_seconds, _ = timed(metricframe_all, _sample(frame, pilot, seed))
        estimate = pilot_seconds * n_rows / pilot
        pilot_note = f"pilot {pilot_seconds:.1f} s on {pilot:,} rows predicts {estimate:.0f} s on all rows"
        if n_rows <= MF_SAMPLE_DEFAULT and estimate <= FULL_MF_LIMIT_S:
            mf_rows = n_rows
        elif pilot_seconds * MF_SAMPLE_DEFAULT / pilot <= FULL_MF_LIMIT_S:
            mf_rows = min(n_rows, MF_SAMPLE_DEFAULT)
        else:
            mf_rows = pilot
    mf_frame = _sample(frame, mf_rows, seed)
    _log(f"{n_rows:,} rows: MetricFrame on {mf_rows:,} rows")
    mf_seconds, oracle = timed(metricframe_all, mf_frame)
    _log(f"{n_rows:,} rows: MetricFrame took {mf_seconds:.1f} s")

    if mf_rows == n_rows:
        table = engine.table
    else:  # compare on the rows MetricFrame saw: reportgen again, on the sample
        sample_predictions = check_predictions(mf_frame, config.data, source="sample")
        table = reportgen_metrics(sample_predictions, config).table
    agreement = compare(table, oracle, mf_rows)
    return Measurement(
        rows=n_rows,
        groups=sum(f.n_groups for f in families),
        families=len(families),
        check=min(checks),
        engine=engine,
        whole=min(wholes),
        engine_runs=[run.total for run in engines],
        whole_runs=wholes,
        mf_rows=mf_rows,
        mf_measured=mf_seconds,
        mf_pilot=pilot_note,
        agreement=agreement,
    )


# ---------------------------------------------------------------------------------------------
# Report


def machine() -> list[str]:
    """The machine and library versions, as markdown list items."""
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
    try:
        here = Path(__file__).resolve().parent.parent  # the repository: `git status reportgen` is relative to it
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=here, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "reportgen"], capture_output=True, text=True,
                               cwd=here, check=True).stdout.strip()
        commit += " with uncommitted changes in reportgen/" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return [
        f"- CPU: {cpu}; `nproc` = {len(os.sched_getaffinity(0))}; memory {memory}",
        f"- {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"scikit-learn {sklearn.__version__}, fairlearn {fairlearn.__version__}",
        f"- reportgen {getattr(reportgen, '__version__', '?')} at commit {commit}",
        f"- Run on {time.strftime('%Y-%m-%d %H:%M')}; load average at the start {LOAD_AT_START}, at the end "
        f"{_load_average()} (other processes share the cores: above 0 means the times are inflated)",
    ]


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


LOAD_AT_START = _load_average()


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def markdown_table(results: list[Measurement]) -> list[str]:
    """The summary table."""
    lines = [
        "| rows | groups | check_predictions (s) | reportgen metrics, no CIs (s) | "
        "reportgen whole engine, with CIs (s) | MetricFrame (s) | speed-up | max \\|diff\\| |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        if np.isnan(m.mf_measured):
            mf, speedup, diff = "not run", "", ""
        else:
            mf = _seconds(m.mf_seconds)
            if m.sampled:
                mf += f" (extrapolated: {_seconds(m.mf_measured)} s on a {m.mf_rows:,}-row sample × {m.rows / m.mf_rows:g})"
            speedup = f"{m.speedup:,.0f}×"
            diff = f"{m.agreement.max_diff:.1e}"
            if m.sampled:
                diff += " (on the sample)"
            if not m.agreement.ok:
                diff += " **FAIL**"
        lines.append(
            f"| {m.rows:,} | {m.groups} | {m.check:.2f} | {m.engine.total:.2f} | {m.whole:.2f} | {mf} | "
            f"{speedup} | {diff} |"
        )
    return lines


def details(results: list[Measurement], repeats: int, resamples: int) -> list[str]:
    """Notes under the table."""
    lines = [
        "",
        f"Times are the best of {repeats} runs (wall clock). Groups: {results[0].families} slice families "
        "(overall; sex, 2; race, 5; age in 6 bins; region; sex × race, 10), counted with \"overall\". "
        "The speed-up is MetricFrame's time over reportgen's metrics without intervals (neither computes "
        f"intervals there). The whole engine adds Wilson, DeLong, normal and {resamples}-replicate bootstrap "
        "intervals, fairness gaps with Newcombe/Katz intervals, and chart curves. `check_predictions` "
        "(column checks and the frame's sha256 fingerprint) is timed apart and is in neither.",
        "",
        "MetricFrame runs 16 metrics, the same as reportgen's registry: fairlearn `count`, `selection_rate`, "
        "`true_negative_rate` (specificity), `false_positive_rate`, `false_negative_rate`; scikit-learn "
        "`accuracy_score`, `balanced_accuracy_score`, `precision_score`, `recall_score`, `f1_score` "
        "(`zero_division=nan`), `matthews_corrcoef`, `roc_auc_score`, `average_precision_score`, `log_loss`, "
        "`brier_score_loss`, and the mean label (prevalence); two MetricFrames per family (predicted "
        "labels, scores), whose `overall` is reportgen's overall group.",
        "",
        "| rows | slices (s) | Rows.prepare (s) | group_stats (s) | metric tables (s) | every run: no CIs / whole engine (s) "
        "| MetricFrame ÷ whole engine | MetricFrame rows | values compared | reportgen undefined, sklearn a number (skipped) |",
        "|---:|---:|---:|---:|---:|---|---:|---|---:|---|",
    ]
    for m in results:
        e, a = m.engine, m.agreement
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(a.skipped.items())) or "none"
        how = "all" if not m.sampled else f"{m.mf_rows:,} sampled (time × {m.rows / m.mf_rows:g})"
        if np.isnan(m.mf_measured):
            how, compared, ratio = "not run", "", ""
        else:
            compared, ratio = f"{a.compared:,}", f"{m.mf_seconds / m.whole:,.0f}×"
        runs = ", ".join(f"{x:.2f}" for x in m.engine_runs) + " / " + ", ".join(f"{x:.2f}" for x in m.whole_runs)
        lines.append(f"| {m.rows:,} | {e.slices:.2f} | {e.prepare:.2f} | {e.stats:.2f} | {e.tables:.2f} | {runs} | "
                     f"{ratio} | {how} | {compared} | {skipped} |")
    for m in results:
        a = m.agreement
        if m.mf_pilot:
            lines.append(f"\n{m.rows:,} rows: MetricFrame {m.mf_pilot}.")
        if a.worst:
            lines.append(f"{m.rows:,} rows: largest difference {a.max_diff:.1e} at {a.worst}.")
        if a.only_reportgen or a.missing:
            lines.append(f"{m.rows:,} rows: **disagreement**: defined only in reportgen {dict(a.only_reportgen)}; "
                         f"missing {a.missing[:5]}")
    sampled = [m for m in results if m.sampled and not np.isnan(m.mf_measured)]
    if sampled:
        lines.append(
            "\nWhere MetricFrame ran on a sample, its time is extrapolated linearly in the row count, and the "
            "values are compared with reportgen run again on the same sampled rows. MetricFrame's time is close "
            "to linear here: it is dominated by per-row Python work (it builds a DataFrame of Python scalars and "
            "`np.stack`s each group's column for every metric call), plus O(n log n) sorts inside scikit-learn."
        )
    lines += ["", "Targets:"]
    for m in results:
        if m.rows == 1_000_000 and not np.isnan(m.mf_measured):
            verdict = "met" if m.speedup >= 200 and m.agreement.ok else "MISSED"
            lines.append(f"- ≥ 200× faster than MetricFrame at 1M rows with equal values: {m.speedup:,.0f}×, "
                         f"max |diff| {m.agreement.max_diff:.1e}: {verdict}")
        if m.rows == 10_000_000:
            verdict = "met" if m.whole < 10 else "MISSED"
            lines.append(f"- whole engine with intervals under 10 s at 10M rows: {m.whole:.2f} s: {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000],
                        help="row counts to benchmark (default: 1000000 10000000)")
    parser.add_argument("--mf-sample", type=int, default=None,
                        help="run MetricFrame on this many sampled rows and extrapolate (default: all rows "
                        f"up to {MF_SAMPLE_DEFAULT:,} when a {PILOT_ROWS:,}-row pilot predicts under "
                        f"{FULL_MF_LIMIT_S:.0f} s, else a {MF_SAMPLE_DEFAULT:,}-row sample)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of reportgen per row count; best is kept")
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap replicates ([report] resamples)")
    parser.add_argument("--regions", type=int, default=20, help="distinct values of the region column")
    parser.add_argument("--decimals", type=int, default=3,
                        help="round scores to this many decimals, so they tie (negative: keep full precision)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-metricframe", action="store_true", help="time reportgen only")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"markdown output (default {RESULTS})")
    args = parser.parse_args(argv)

    results = [
        measure(n, seed=args.seed, repeats=args.repeats, mf_sample=args.mf_sample, resamples=args.resamples,
                n_regions=args.regions, decimals=None if args.decimals < 0 else args.decimals,
                skip_mf=args.no_metricframe)
        for n in args.rows
    ]
    body = markdown_table(results) + details(results, args.repeats, args.resamples)
    print("\n".join(body))
    text = "\n".join(
        ["# reportgen engine benchmark", "", "`python benchmarks/bench_engine.py "
         + " ".join(sys.argv[1:] if argv is None else argv) + "`", "", *machine(), "", *body, ""]
    )
    args.out.write_text(text, encoding="utf-8")
    print(f"\nwritten to {args.out}", file=sys.stderr)
    failed = [m for m in results if not np.isnan(m.mf_measured) and not m.agreement.ok]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
