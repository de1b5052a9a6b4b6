"""Data drift: has each column's distribution moved from the reference, and by how much.

Numbers are tested with Kolmogorov–Smirnov and measured by the Wasserstein distance in reference standard
deviations; categories are tested with chi-square and measured by the Jensen–Shannon distance; both also get
the PSI. A column drifts where its test is significant under the card's one multiplicity policy
(Benjamini–Hochberg across the columns at `[findings] fdr`) and its shift is at least the configured size:
significance alone would flag trivial shifts in large samples, size alone would flag noise in small ones.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from reportgen.config import MonitoringSection
from reportgen.metrics.drift import WindowDrift as WindowTests
from reportgen.metrics.drift import (
    bin_counts,
    category_drift,
    number_bins,
    number_drift,
    sorted_quantiles,
    window_bin_counts,
    window_drift,
)
from reportgen.metrics.significance import benjamini_hochberg
from reportgen.slices import MISSING, group_label

ROLES = ("feature", "score", "prediction", "label")  # what a column is to the model
DISTRIBUTION_BINS = 20  # number columns are drawn as this many equal-width bins
DRAWN_CATEGORIES = 12  # category columns are drawn as their most common categories, the rest as "(other)"


@dataclass(frozen=True)
class DriftTest:
    """One statistic of a column's drift.

    `test` is "ks", "wasserstein" (in reference standard deviations), "psi", "chi2" or "jensen_shannon";
    `p_value` and `q_value` (Benjamini–Hochberg across the columns) are set for the tests that have one;
    `threshold` is the size from which the column counts as drifted, for the statistic that measures it.
    """

    test: str
    statistic: float | None
    p_value: float | None = None
    q_value: float | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class Distribution:
    """Reference and current shares per bin or category, for the card's chart.

    Numbers: `edges` of equal-width bins from the lower of the two samples' 0.5% quantiles to the higher of their
    99.5% ones (the tails counted in the end bins), `labels` None. Categories: `labels`, the most common categories then the rest as
    "(other)", `edges` None.
    """

    labels: list[str] | None
    edges: list[float] | None
    reference: list[float]
    current: list[float]


@dataclass(frozen=True)
class ColumnDrift:
    """One column's drift from the reference.

    Attributes
    ----------
    column : str
    role : str
        One of `ROLES`.
    kind : str
        "number" or "category".
    n_reference, n_current : int
        Values compared (numbers: finite values; categories: every row, missing values as a category).
    missing_reference, missing_current : float
        Shares of rows without a value (numbers: missing or infinite).
    tests : list of DriftTest
        Numbers: ks, wasserstein, psi; categories: chi2, jensen_shannon, psi; empty where not tested.
    drifted : bool or None
        Significant and at least the threshold; None where the column was not tested.
    note : str or None
        Why the column was not tested, or what its numbers cannot say.
    distribution : Distribution or None
        Chart data.
    """

    column: str
    role: str
    kind: str
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    tests: list[DriftTest]
    drifted: bool | None
    note: str | None
    distribution: Distribution | None

    @property
    def effect(self) -> DriftTest | None:
        """The test that measures the size of the shift (Wasserstein or Jensen–Shannon)."""
        return next((t for t in self.tests if t.threshold is not None), None)

    @property
    def significance(self) -> DriftTest | None:
        """The test whose p-value decides significance (Kolmogorov–Smirnov or chi-square)."""
        return next((t for t in self.tests if t.p_value is not None), None)


@dataclass(frozen=True)
class WindowDrift:
    """Drift by time window: each column's PSI per window, and whether the window drifted in it.

    `psi`, `q_value` and `drifted` are column × window (None: the window has no values); a cell drifts where
    its chi-square test against the reference is significant (Benjamini–Hochberg across every cell) and its
    PSI is at least `[monitoring] min_psi`.
    """

    columns: list[str]
    windows: list[str]
    psi: list[list[float | None]]
    q_value: list[list[float | None]]
    drifted: list[list[bool]]
    tests: int

    def first_drifted(self, column: str) -> str | None:
        """The first window the column drifted in; None where it never did (or was not tested)."""
        if column not in self.columns:
            return None
        row = self.drifted[self.columns.index(column)]
        return self.windows[row.index(True)] if any(row) else None


@dataclass(frozen=True)
class _Prepared:
    """A column as the tests take it: finite numbers, sorted, or category codes over both sides."""

    column: str
    role: str
    kind: str
    reference: np.ndarray
    current: np.ndarray
    categories: list[str]
    missing_reference: float
    missing_current: float


def drift_of_columns(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str],
    *,
    settings: MonitoringSection,
    fdr: float,
    roles: dict[str, str] | None = None,
    kinds: dict[str, str] | None = None,
) -> list[ColumnDrift]:
    """Test each column's drift from `reference` to `current`, on every core; q-values across the columns.

    Parameters
    ----------
    reference, current : DataFrame
        The two samples; both hold `columns`.
    columns : sequence of str
        The columns to test, in the order returned.
    settings : MonitoringSection
        The thresholds (`min_wasserstein`, `min_jensen_shannon`) and `psi_bins`.
    fdr : float
        The false discovery rate of the Benjamini–Hochberg adjustment.
    roles : dict, optional
        Column → one of `ROLES` (default "feature").
    kinds : dict, optional
        Column → "number" or "category", where the dtype does not tell (a class label written as 0/1).

    Examples
    --------
    >>> reference = pd.DataFrame({"x": np.arange(500.0), "c": ["a", "b"] * 250})
    >>> current = pd.DataFrame({"x": np.arange(500.0) + 200, "c": ["a", "b"] * 250})
    >>> found = drift_of_columns(reference, current, ["x", "c"], settings=MonitoringSection(), fdr=0.05)
    >>> [(d.column, d.kind, d.drifted) for d in found]
    [('x', 'number', True), ('c', 'category', False)]
    """
    roles, kinds = roles or {}, kinds or {}

    def one(column: str) -> ColumnDrift:  # in a worker: its values are let go as soon as they are measured
        prepared = _prepare(reference[column], current[column], column, roles.get(column, "feature"),
                            kinds.get(column))
        return column_drift(_compared(prepared, settings.psi_bins), settings)

    with ThreadPoolExecutor(max_workers=min(len(columns), os.cpu_count() or 1, 8) or 1) as pool:
        measured = list(pool.map(one, columns))
    return adjusted(measured, fdr)


def adjusted(measured: list[ColumnDrift], fdr: float) -> list[ColumnDrift]:
    """The columns' drifts with their q-values (Benjamini–Hochberg across the tested columns): drifted where the
    shift is large enough and significant."""
    p_values = np.array([np.nan if d.significance is None else d.significance.p_value for d in measured],
                        dtype=np.float64)
    tested = ~np.isnan(p_values)
    q_values = np.full(len(p_values), np.nan)
    q_values[tested] = benjamini_hochberg(p_values[tested])
    return [_with_q(d, q, fdr) for d, q in zip(measured, q_values, strict=True)]


def drift_by_window(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    drifts: Sequence[ColumnDrift],
    codes: np.ndarray,
    windows: list[str],
    *,
    settings: MonitoringSection,
    fdr: float,
) -> WindowDrift:
    """Each tested column's PSI and chi-square test per time window of the current rows (`codes`: each row's
    window, -1 without one), on the bins of its whole-sample test; q-values across every cell."""
    tested = [d for d in drifts if d.drifted is not None]
    n_windows = len(windows)

    def one(drift: ColumnDrift) -> object:
        reference_bins, current_bins, n_bins = _bins(reference[drift.column], current[drift.column], drift.kind,
                                                     settings.psi_bins)
        if drift.role == "label":  # rows without a label yet are in no bin
            reference_bins = np.where(reference[drift.column].isna().to_numpy(), -1, reference_bins)
            current_bins = np.where(current[drift.column].isna().to_numpy(), -1, current_bins)
        counts = np.bincount(reference_bins[reference_bins >= 0], minlength=n_bins)
        return window_drift(counts, window_bin_counts(codes, current_bins, n_windows, n_bins))

    with ThreadPoolExecutor(max_workers=min(len(tested), os.cpu_count() or 1, 8) or 1) as pool:
        cells = list(pool.map(one, tested))
    return windows_drift([d.column for d in tested], cells, windows, settings=settings, fdr=fdr)


def windows_drift(columns: Sequence[str], cells: Sequence[WindowTests], windows: list[str], *,
                  settings: MonitoringSection, fdr: float) -> WindowDrift:
    """Drift by window from each tested column's tests per window (`reportgen.metrics.drift.window_drift`, whatever
    engine counted them); q-values across every cell."""
    n_windows = len(windows)
    p = np.array([cell.p_value for cell in cells]).reshape(len(columns), n_windows)
    q = np.full(p.shape, np.nan)
    q[~np.isnan(p)] = benjamini_hochberg(p[~np.isnan(p)])
    psi = np.array([cell.psi for cell in cells]).reshape(len(columns), n_windows)
    drifted = (q <= fdr) & (psi >= settings.min_psi)
    return WindowDrift(
        columns=list(columns),
        windows=list(windows),
        psi=[[_plain(v) for v in row] for row in psi],
        q_value=[[_plain(v) for v in row] for row in q],
        drifted=drifted.tolist(),
        tests=int((~np.isnan(p)).sum()),
    )


def _prepare(reference: pd.Series, current: pd.Series, column: str, role: str, kind: str | None) -> _Prepared:
    """The column's values as the tests take them, on both sides."""
    if role == "label":  # rows whose label has not arrived yet say nothing of the labels' distribution
        reference, current = reference.dropna(), current.dropna()
    kind = kind or ("number" if _is_number(reference) and _is_number(current) else "category")
    if kind == "number":
        ref, cur = np.sort(_finite(reference)), np.sort(_finite(current))
        return _Prepared(column, role, kind, ref, cur, [], 1 - len(ref) / len(reference), 1 - len(cur) / len(current))
    codes, categories = pd.factorize(pd.concat([_text(reference), _text(current)], ignore_index=True),
                                     use_na_sentinel=False, sort=True)
    labels = [MISSING if pd.isna(c) else group_label(c) for c in categories]
    return _Prepared(column, role, kind, codes[: len(reference)], codes[len(reference):], labels,
                     float(reference.isna().mean()), float(current.isna().mean()))


@dataclass(frozen=True)
class Compared:
    """A column's two sides as the drift tests read them, whatever the engine that counted them.

    `n_reference` and `n_current` count the values compared (numbers: finite values; categories: every row, missing
    values as a category); `untested` says why there is no test (then `found` and `distribution` are None); `found`
    is a `NumberDrift` or a `CategoryDrift`.
    """

    column: str
    role: str
    kind: str
    n_reference: int
    n_current: int
    missing_reference: float
    missing_current: float
    untested: str | None
    found: object | None
    distribution: Distribution | None


def _compared(prepared: _Prepared, bins: int) -> Compared:
    """A column's drift statistics and chart data from its values in memory."""
    reference, current = prepared.reference, prepared.current
    constant = prepared.kind == "number" and len(reference) > 0 and len(current) > 0 and (
        reference.min() == reference.max() == current.min() == current.max())
    why = untested_reason(prepared.kind, len(reference), len(current), constant=constant,
                          categories=len(prepared.categories))
    found, distribution = None, None
    if why is None and prepared.kind == "number":
        found, distribution = number_drift(reference, current, bins), _number_distribution(reference, current)
    elif why is None:
        k = len(prepared.categories)
        reference_counts, current_counts = np.bincount(reference, minlength=k), np.bincount(current, minlength=k)
        found = category_drift(reference_counts, current_counts)
        distribution = category_distribution(prepared.categories, reference_counts, current_counts)
    return Compared(prepared.column, prepared.role, prepared.kind, len(reference), len(current),
                    prepared.missing_reference, prepared.missing_current, why, found, distribution)


def untested_reason(kind: str, n_reference: int, n_current: int, *, constant: bool, categories: int) -> str | None:
    """Why a column is not tested, or None: no values on a side; one value in both samples (`constant`, numbers;
    fewer than two `categories`)."""
    for side, n in (("reference", n_reference), ("current rows", n_current)):
        if n == 0:
            return f"no values in the {side}"
    if (constant if kind == "number" else categories < 2):
        return "one value in both samples: nothing to compare"
    return None


def column_drift(compared: Compared, settings: MonitoringSection) -> ColumnDrift:
    """The column's drift before its p-value is adjusted with the others': `drifted` says whether the shift is
    large enough (None: not tested), `adjusted` adds the significance."""
    common = dict(column=compared.column, role=compared.role, kind=compared.kind, n_reference=compared.n_reference,
                  n_current=compared.n_current, missing_reference=compared.missing_reference,
                  missing_current=compared.missing_current)
    found = compared.found
    if found is None:
        return ColumnDrift(**common, tests=[], drifted=None, note=compared.untested, distribution=None)
    note = None
    if compared.kind == "number":
        normed = found.wasserstein / found.spread if found.spread > 0 else None
        tests = [DriftTest("ks", found.ks, found.ks_p),
                 DriftTest("wasserstein", normed, threshold=settings.min_wasserstein),
                 DriftTest("psi", found.psi)]
        if normed is None:
            note = "constant in the reference: the Wasserstein distance has no spread to be measured in"
        large = normed is None or normed >= settings.min_wasserstein
    else:
        tests = [DriftTest("chi2", found.chi2, _plain(found.chi2_p)),
                 DriftTest("jensen_shannon", found.jensen_shannon, threshold=settings.min_jensen_shannon),
                 DriftTest("psi", found.psi)]
        if np.isnan(found.chi2_p):
            note = "too few values for a chi-square test"
        large = found.jensen_shannon >= settings.min_jensen_shannon
    return ColumnDrift(**common, tests=tests, drifted=bool(large), note=note, distribution=compared.distribution)


def _with_q(drift: ColumnDrift, q: float, fdr: float) -> ColumnDrift:
    """The column with its q-value, drifted where the shift is large enough and significant."""
    if drift.drifted is None:
        return drift
    tests = [replace(t, q_value=_plain(q)) if t.p_value is not None else t for t in drift.tests]
    return replace(drift, tests=tests, drifted=drift.drifted and bool(q <= fdr))


def _bins(reference: pd.Series, current: pd.Series, kind: str, psi_bins: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's bin on both sides (numbers: the PSI bins; categories: the categories); -1 where missing."""
    if kind == "number":
        ref, cur = _numbers(reference), _numbers(current)
        finite = ref[np.isfinite(ref)]
        edges = np.unique(np.quantile(finite, np.arange(1, psi_bins) / psi_bins))
        return (number_bins(np.where(np.isfinite(ref), ref, np.nan), edges),
                number_bins(np.where(np.isfinite(cur), cur, np.nan), edges), len(edges) + 1)
    codes, categories = pd.factorize(pd.concat([_text(reference), _text(current)], ignore_index=True),
                                     use_na_sentinel=False)
    return codes[: len(reference)], codes[len(reference):], len(categories)


def _number_distribution(reference: np.ndarray, current: np.ndarray) -> Distribution:
    """Shares per equal-width bin of two sorted samples (`number_distribution`)."""
    return number_distribution(
        lambda q: (sorted_quantiles(reference, [q])[0], sorted_quantiles(current, [q])[0]),
        (min(reference[0], current[0]), max(reference[-1], current[-1])),
        lambda inner: (bin_counts(reference, inner), bin_counts(current, inner)), len(reference), len(current))


def number_distribution(
    quantile: Callable[[float], tuple[float, float]], extremes: tuple[float, float],
    counts: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], n_reference: int, n_current: int,
) -> Distribution:
    """Shares per equal-width bin of two samples of numbers, between the lower of their 0.5% quantiles and the higher
    of their 99.5% ones (the tails counted in the end bins), whatever the engine: `quantile` gives both samples'
    quantile at a fraction, `extremes` the lowest and highest value of both, `counts` each sample's values per bin
    of inner edges (`bin_counts`)."""
    low_reference, low_current = quantile(0.005)
    high_reference, high_current = quantile(0.995)
    low, high = min(low_reference, low_current), max(high_reference, high_current)
    if low == high:
        low, high = extremes
    if low == high:
        return Distribution(None, [float(low), float(low)], [1.0], [1.0])
    edges = np.linspace(low, high, DISTRIBUTION_BINS + 1)
    reference_counts, current_counts = counts(edges[1:-1])
    return Distribution(None, [float(e) for e in edges], (reference_counts / n_reference).round(6).tolist(),
                        (current_counts / n_current).round(6).tolist())


def category_distribution(categories: list[str], reference_counts: np.ndarray, current_counts: np.ndarray
                          ) -> Distribution:
    """Shares of the most common categories on both sides, the rest as "(other)"."""
    reference = reference_counts / reference_counts.sum()
    current = current_counts / current_counts.sum()
    order = np.argsort(-(reference + current), kind="stable")
    shown, rest = order[:DRAWN_CATEGORIES], order[DRAWN_CATEGORIES:]
    labels = [categories[i] for i in shown]
    ref, cur = reference[shown].tolist(), current[shown].tolist()
    if len(rest):
        labels.append("(other)")
        ref.append(float(reference[rest].sum()))
        cur.append(float(current[rest].sum()))
    return Distribution(labels, None, [round(v, 6) for v in ref], [round(v, 6) for v in cur])


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _numbers(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _finite(values: pd.Series) -> np.ndarray:
    numbers = _numbers(values)
    return numbers[np.isfinite(numbers)]


def _text(values: pd.Series) -> pd.Series:
    """Category values as the two sides compare them: numbers as numbers (a label 1 read as 1.0 where some labels
    are missing is still 1), anything else as text (True and "True" are one value)."""
    if _is_number(values):
        return values.astype(np.float64)
    return values.astype("string")


def _plain(value: float) -> float | None:
    return None if value is None or np.isnan(value) else float(value)
