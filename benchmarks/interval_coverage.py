"""Coverage of every confidence-interval method reportgen reports, by simulation.

Usage::

    python benchmarks/interval_coverage.py [--reps 2000] [--resamples 400] [--sizes 20 50 200 2000] [--only TEXT]
        [--out FILE]

For each interval method, group size n and data-generating setting (one in the middle of the metric's range,
one near its boundary), it draws `reps` independent groups of n rows, computes each group's interval with
reportgen's own code (`metric_frame` on the registry entries, `compare_family` for baselines, the fairness
functions of `reportgen.metrics.intervals`), and counts how often the interval holds the true value: the
metric of the population (from the cell probabilities where the data are counts, else from one sample of
`TRUTH_ROWS` rows). Every replication is one group of one slice family, so each cell is a single vectorized
call. Wilson's coverage is exact (a sum over the binomial distribution of the count), not simulated.

Prints a markdown table (coverage of nominal 95% intervals, in %); ``--out`` writes it, with the command line,
machine and commit, to a file. A cell outside 92.5–97.5% is marked with `*`.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as scipy_stats

from reportgen.metrics import binary, intervals, multiclass, regression, tasks
from reportgen.metrics.multiclass import ClassConfusion, MulticlassStats
from reportgen.metrics.paired import compare_family
from reportgen.metrics.paired_rows import Pair
from reportgen.metrics.statistics import Confusion
from reportgen.metrics.table import metric_frame

LEVEL = 0.95
SIZES = (20, 50, 200, 2000)
TRUTH_ROWS = 2_000_000
BAND = (92.5, 97.5)


@dataclass(frozen=True)
class Cell:
    """Intervals of `reps` simulated groups and the true value they should hold."""

    low: np.ndarray
    high: np.ndarray
    value: np.ndarray
    truth: float

    def coverage(self) -> tuple[float, float, float]:
        """Coverage (%) among groups where the metric is defined, and shares of collapsed and undefined ones (%)."""
        defined = np.isfinite(self.value) & np.isfinite(self.low)
        covered = (self.low[defined] <= self.truth + 1e-12) & (self.truth - 1e-12 <= self.high[defined])
        collapsed = self.high[defined] - self.low[defined] <= 1e-12
        return 100 * covered.mean(), 100 * collapsed.mean(), 100 * (1 - defined.mean())


# Binary tasks: y ~ Bernoulli(1/2), latent x ~ N(δ·y, 1), score P(y = 1 | x) (calibrated), predicted 1 above 1/2.


def _delta(auc: float) -> float:
    """Binormal separation giving this ROC AUC: AUC = Φ(δ / √2)."""
    return float(np.sqrt(2) * scipy_stats.norm.ppf(auc))


def _binary_rows(rows: int, auc: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    delta = _delta(auc)
    y = rng.integers(0, 2, rows).astype(np.int8)
    x = rng.normal(delta * y, 1.0)
    scores = 1 / (1 + np.exp(-(delta * x - delta**2 / 2)))
    return y, (scores > 0.5).astype(np.int8), scores


def _registry_cells(
    stats: object, truth_stats: object, metrics: list, reps: int, resamples: int, rng: np.random.Generator
) -> Iterator[tuple[str, Cell]]:
    """One `metric_frame` call for all the metrics, as a report makes it (bootstrap replicates shared)."""
    table = metric_frame("s", [str(i) for i in range(reps)], stats, metrics, level=LEVEL, resamples=resamples, rng=rng)
    truth = metric_frame("t", ["t"], truth_stats, metrics, level=None).set_index("metric")["value"]
    for metric in metrics:
        rows = table[table["metric"] == metric.name]
        yield metric.name, Cell(rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float),
                                rows["value"].to_numpy(float), float(truth[metric.name]))


def binary_scores(names: tuple[str, ...], auc: float) -> Callable[[int, int, int, np.random.Generator], Iterator]:
    """Score-based binary metrics (ROC AUC, log loss, Brier score) at a true AUC."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        engine = tasks.prepare("binary", *_binary_rows(n * reps, auc, rng))
        stats = engine.group_stats(np.repeat(np.arange(reps), n), reps)
        big = tasks.prepare("binary", *_binary_rows(TRUTH_ROWS, auc, np.random.default_rng(99)))
        truth_stats = big.group_stats(np.zeros(TRUTH_ROWS, dtype=np.int64), 1)
        yield from _registry_cells(stats.task, truth_stats.task, [binary.BY_NAME[name] for name in names], reps,
                                   resamples, rng)

    return run


# Count metrics: each group's confusion cells from one multinomial with known cell probabilities.

BINARY_CELLS = {  # tn, fp, fn, tp
    "accuracy 0.70": np.array([0.35, 0.15, 0.15, 0.35]),
    "accuracy 0.97": np.array([0.485, 0.015, 0.015, 0.485]),
}


def _multiclass_cells(accuracy: float, k: int = 3) -> np.ndarray:
    cells = np.full((k, k), (1 - accuracy) / (k * (k - 1)))
    np.fill_diagonal(cells, accuracy / k)
    return cells.reshape(-1)


MULTICLASS_CELLS = {"accuracy 0.70": _multiclass_cells(0.70), "accuracy 0.97": _multiclass_cells(0.97)}


def _population(probabilities: np.ndarray) -> np.ndarray:
    """Cell counts proportional to the probabilities (metrics of counts are ratios: the population's value)."""
    return np.rint(probabilities * 1e12).astype(np.int64)[None, :]


def binary_counts(names: tuple[str, ...], setting: str) -> Callable:
    """Binary metrics of the confusion counts."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        probabilities = BINARY_CELLS[setting]
        drawn = Confusion.from_cells(rng.multinomial(n, probabilities, size=reps))
        population = Confusion.from_cells(_population(probabilities))
        stats = binary.BinaryStats(drawn, None)  # type: ignore[arg-type]
        truth = binary.BinaryStats(population, None)  # type: ignore[arg-type]
        yield from _registry_cells(stats, truth, [binary.BY_NAME[name] for name in names], reps, resamples, rng)

    return run


def multiclass_counts(names: tuple[str, ...], setting: str) -> Callable:
    """Multiclass metrics of the 3×3 confusion matrix, and the per-class F1 (class 0 against the rest)."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        probabilities = MULTICLASS_CELLS[setting]
        drawn = MulticlassStats(ClassConfusion.from_cells(rng.multinomial(n, probabilities, size=reps)), None)
        population = MulticlassStats(ClassConfusion.from_cells(_population(probabilities)), None)
        by_name = {m.name: m for m in multiclass.METRICS}
        yield from _registry_cells(drawn, population, [by_name[name] for name in names], reps, resamples, rng)
        class_f1 = next(m for m in multiclass.CLASS_METRICS if m.name == "f1")
        for _, cell in _registry_cells(drawn.one_vs_rest(0), population.one_vs_rest(0), [class_f1], reps, resamples,
                                       rng):
            yield "f1 (per class)", cell

    return run


def wilson_exact(p: float) -> Callable:
    """Wilson's interval of a proportion k/n: exact coverage, summed over k ~ Binomial(n, p)."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        k = np.arange(n + 1)
        weights = scipy_stats.binom.pmf(k, n, p)
        low, high = intervals.wilson(k, np.full(n + 1, n), LEVEL)
        covered = float(weights[(low <= p) & (p <= high)].sum())
        collapsed = float(weights[high - low <= 1e-12].sum())
        yield "proportions", ExactCell(covered, collapsed)

    return run


@dataclass(frozen=True)
class ExactCell:
    """A coverage computed exactly."""

    covered: float
    collapsed: float

    def coverage(self) -> tuple[float, float, float]:
        """As `Cell.coverage`."""
        return 100 * self.covered, 100 * self.collapsed, 0.0


# Regression: prediction = signal ~ N(0, 1), target = signal + error, error ~ N(0, σ²): R² = 1 / (1 + σ²).


def _regression_engine(rows: int, r2: float, rng: np.random.Generator) -> tasks.Engine:
    sigma = np.sqrt(1 / r2 - 1)
    signal = rng.normal(0, 1, rows)
    return tasks.prepare("regression", signal + rng.normal(0, sigma, rows), signal, None)


def regression_errors(names: tuple[str, ...], r2: float) -> Callable:
    """Regression metrics at a true R²."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        stats = _regression_engine(n * reps, r2, rng).group_stats(np.repeat(np.arange(reps), n), reps)
        truth = _regression_engine(TRUTH_ROWS, r2, np.random.default_rng(99)).group_stats(
            np.zeros(TRUTH_ROWS, dtype=np.int64), 1)
        yield from _registry_cells(stats.task, truth.task, [regression.BY_NAME[name] for name in names], reps,
                                   resamples, rng)

    return run


# Fairness gaps between two groups of n rows each.


def two_proportions(p1: float, p2: float) -> Callable:
    """Newcombe's interval of p1 − p2 and Katz's of p1 / p2: exact coverage, summed over both binomial counts."""

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, ExactCell]]:
        counts = [np.flatnonzero(scipy_stats.binom.pmf(np.arange(n + 1), n, p) > 1e-12) for p in (p1, p2)]
        k1, k2 = (a.ravel() for a in np.meshgrid(*counts, indexing="ij"))
        weights = scipy_stats.binom.pmf(k1, n, p1) * scipy_stats.binom.pmf(k2, n, p2)
        size = np.full(len(k1), n)
        for name, (low, high), truth in (
            ("difference (Newcombe)", intervals.newcombe(k1, size, k2, size, LEVEL), p1 - p2),
            ("ratio (Katz)", intervals.katz_ratio(k1, size, k2, size, LEVEL), p1 / p2),
        ):
            covered = (low <= truth + 1e-12) & (truth - 1e-12 <= high)
            yield name, ExactCell(float(weights[covered].sum()), float(weights[high - low <= 1e-12].sum()))

    return run


def two_means(skewed: bool) -> Callable:
    """Welch's interval of the difference of two groups' mean absolute errors (normal or lognormal errors)."""

    def draw(rng: np.random.Generator, scale: float, shape: tuple[int, ...]) -> np.ndarray:
        return scale * (rng.lognormal(0, 1, shape) if skewed else np.abs(rng.normal(0, 1, shape)))

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        first, second = draw(rng, 1.0, (reps, n)), draw(rng, 1.2, (reps, n))
        sums = [(x.sum(axis=1), np.square(x).sum(axis=1), np.full(reps, n)) for x in (first, second)]
        mean = np.exp(0.5) if skewed else np.sqrt(2 / np.pi)
        yield "MAE difference (Welch)", Cell(*intervals.mean_difference(sums[0], sums[1], LEVEL),
                                             first.mean(axis=1) - second.mean(axis=1), mean * (1.0 - 1.2))

    return run


# Comparison with a baseline: two models' scores from correlated latents on the same rows.


def _paired_rows(rows: int, aucs: tuple[float, float], rng: np.random.Generator) -> tuple[tasks.Engine, tasks.Engine]:
    y = rng.integers(0, 2, rows).astype(np.int8)
    shared = rng.normal(0, 1, rows)
    engines = []
    for auc in aucs:
        delta = _delta(auc)
        x = delta * y + np.sqrt(0.5) * shared + np.sqrt(0.5) * rng.normal(0, 1, rows)
        scores = 1 / (1 + np.exp(-(delta * x - delta**2 / 2)))
        engines.append(tasks.prepare("binary", y, (scores > 0.5).astype(np.int8), scores))
    return engines[0], engines[1]


def paired(names: tuple[str, ...], aucs: tuple[float, float]) -> Callable:
    """Paired intervals of candidate − baseline (paired Bayesian bootstrap, MOVER for the AUC, paired t)."""

    def table(engines: tuple[tasks.Engine, tasks.Engine], codes: np.ndarray, groups: int, resamples: int,
              rng: np.random.Generator):
        first, second = engines[0].group_stats(codes, groups), engines[1].group_stats(codes, groups)
        return compare_family("s", [str(i) for i in range(groups)], Pair.prepare(*engines).statistics(codes, first, second),
                              first, second, level=LEVEL, resamples=resamples, rng=rng)

    def run(n: int, reps: int, resamples: int, rng: np.random.Generator) -> Iterator[tuple[str, Cell]]:
        found = table(_paired_rows(n * reps, aucs, rng), np.repeat(np.arange(reps), n), reps, resamples, rng)
        truth = table(_paired_rows(TRUTH_ROWS, aucs, np.random.default_rng(99)), np.zeros(TRUTH_ROWS, dtype=np.int64),
                      1, 10, np.random.default_rng(0))
        for name in names:
            rows = found[found["metric"] == name]
            method = rows["method"].iloc[0]
            yield f"{name} difference ({method})", Cell(
                rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), rows["difference"].to_numpy(float),
                float(truth.loc[truth["metric"] == name, "difference"].iloc[0]))

    return run


CASES: list[tuple[str, str, Callable]] = [
    ("binary", "AUC 0.75", binary_scores(("roc_auc", "log_loss", "brier"), 0.75)),
    ("binary", "AUC 0.97", binary_scores(("roc_auc", "log_loss", "brier"), 0.97)),
    ("binary", "accuracy 0.70", binary_counts(("f1", "mcc", "balanced_accuracy"), "accuracy 0.70")),
    ("binary", "accuracy 0.97", binary_counts(("f1", "mcc", "balanced_accuracy"), "accuracy 0.97")),
    ("proportion (Wilson, exact)", "p 0.50", wilson_exact(0.5)),
    ("proportion (Wilson, exact)", "p 0.95", wilson_exact(0.95)),
    ("multiclass, 3 classes", "accuracy 0.70",
     multiclass_counts(("balanced_accuracy", "cohen_kappa", "mcc", "macro_f1", "weighted_f1"), "accuracy 0.70")),
    ("multiclass, 3 classes", "accuracy 0.97",
     multiclass_counts(("balanced_accuracy", "cohen_kappa", "mcc", "macro_f1", "weighted_f1"), "accuracy 0.97")),
    ("regression, normal errors", "R² 0.50", regression_errors(("mae", "rmse", "r2", "mean_residual"), 0.5)),
    ("regression, normal errors", "R² 0.95", regression_errors(("mae", "rmse", "r2", "mean_residual"), 0.95)),
    ("fairness, two groups of n (exact)", "0.50 vs 0.40", two_proportions(0.5, 0.4)),
    ("fairness, two groups of n (exact)", "0.95 vs 0.90", two_proportions(0.95, 0.9)),
    ("fairness, two groups of n", "normal errors", two_means(skewed=False)),
    ("fairness, two groups of n", "lognormal errors", two_means(skewed=True)),
    ("baseline comparison", "AUC 0.75 vs 0.70", paired(("accuracy", "f1", "roc_auc", "log_loss"), (0.75, 0.70))),
    ("baseline comparison", "AUC 0.99 vs 0.97", paired(("accuracy", "f1", "roc_auc", "log_loss"), (0.99, 0.97))),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=2000, help="simulated groups per cell")
    parser.add_argument("--resamples", type=int, default=400, help="bootstrap replicates ([report] resamples: 1000)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="run the cases whose task or true value contains this text")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results: dict[tuple[str, str, str], dict[int, tuple[float, float, float]]] = {}
    for index, (task, setting, run) in enumerate(CASES):
        if args.only and args.only not in f"{task} {setting}":
            continue
        for n in args.sizes:
            rng = np.random.default_rng([args.seed, index, n])
            for name, cell in run(n, args.reps, args.resamples, rng):
                results.setdefault((task, name, setting), {})[n] = cell.coverage()
        print(f"{task} · {setting}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
    lines = _table(results, args.sizes)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(_header(argv, args, time.perf_counter() - start) + text + "\n" + _footer(results))


def _table(results: dict, sizes: list[int]) -> list[str]:
    lines = ["| task | interval (metric) | true value | " + " | ".join(f"n = {n:,}" for n in sizes) + " |",
             "|---|---|---|" + "---:|" * len(sizes)]
    for (task, name, setting), by_size in results.items():
        cells = []
        for n in sizes:
            covered, collapsed, _ = by_size[n]
            mark = "" if BAND[0] <= covered <= BAND[1] else "*"
            cells.append(f"{covered:.1f}{mark}" + (f" ({collapsed:.0f}% collapsed)" if collapsed >= 0.5 else ""))
        lines.append(f"| {task} | {name} | {setting} | " + " | ".join(cells) + " |")
    return lines


def _header(argv: list[str] | None, args: argparse.Namespace, seconds: float) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    command = " ".join(["python benchmarks/interval_coverage.py", *(argv if argv is not None else sys.argv[1:])])
    return (f"# Coverage of reportgen's 95% intervals\n\n`{command}`\n\n"
            f"- {args.reps:,} simulated groups per cell, {args.resamples:,} bootstrap replicates; "
            f"{seconds:.0f} s on one core\n- Python {platform.python_version()}, numpy {np.__version__}; "
            f"reportgen at commit {commit}\n\n")


def _footer(results: dict) -> str:
    worst = min(((by_size[n][0], key, n) for key, by_size in results.items() for n in by_size), key=lambda t: t[0])
    return (f"\nLowest coverage: {worst[0]:.1f}% ({worst[1][1]}, {worst[1][2]}, n = {worst[2]:,}). "
            f"Cells marked * are outside {BAND[0]}–{BAND[1]}%.\n")


if __name__ == "__main__":
    main()
