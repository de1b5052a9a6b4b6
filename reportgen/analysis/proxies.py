"""Proxies of the sensitive columns: which of the model's features predict a sensitive attribute, so that leaving
the attribute out of the inputs does not keep its influence out of the predictions.

For each sensitive column (`[fairness] sensitive`) and each feature (`[model] features`) other than it, on the rows
where both are present:

- a **number** feature: how well its value alone tells the groups apart, as the best one-group-against-the-rest
  ROC AUC (taken the right way round: at least 0.5), tested by Kruskal–Wallis across the groups;
- a **category** feature: Cramér's V of the feature × group table, tested by the chi-square test of independence.

A feature is a proxy where its test is significant under the card's policy (Benjamini–Hochberg across every
feature × sensitive column tested, at `[findings] fdr`) and its association at least `[explanations]
min_proxy_auc` or `min_proxy_v`: significance alone, on many rows, would flag associations too weak to matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats.contingency import association

from reportgen.analysis.base import Context, Evidence, Finding, Outcome, TestFamily
from reportgen.config import Config
from reportgen.errors import InputError, quoted_list, shown
from reportgen.formatting import num, p_clause
from reportgen.metrics.significance import benjamini_hochberg

SECTION = "proxies"
MAX_CATEGORIES = 100  # a category feature of more values is not tested (its table would be mostly empty cells)


@dataclass(frozen=True)
class Association:
    """How well one feature predicts one sensitive column.

    `measure` is "auc" (a number feature: the best one-group-against-the-rest ROC AUC, at least 0.5) or
    "cramers_v" (a category feature); `test` "kruskal" or "chi2"; `n` the rows with both present; `proxy` whether
    it is significant (q at most the false discovery rate) and at least the threshold. `note` says why a pair was
    not tested (then the numbers are None).
    """

    sensitive: str
    feature: str
    measure: str | None
    value: float | None
    test: str | None
    p_value: float | None
    q_value: float | None
    n: int
    proxy: bool
    note: str | None = None


@dataclass(frozen=True)
class Proxies:
    """Every feature × sensitive column pair, strongest association first, and the thresholds used."""

    associations: list[Association]
    min_auc: float
    min_v: float
    fdr: float

    @property
    def found(self) -> list[Association]:
        """The proxies."""
        return [a for a in self.associations if a.proxy]


def run(context: Context) -> Outcome:
    """The proxies of the sensitive columns among `[model] features`; None without features or sensitive columns."""
    config = context.config
    features, sensitive = config.model.features, config.fairness.sensitive
    if not features or not sensitive or not config.explanations.enabled:
        return Outcome(None)
    frame = context.predictions.frame
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise InputError(f"{context.predictions.source}: no column {quoted_list(missing)} ([model] features); "
                         f"columns are: {quoted_list(frame.columns, limit=12)}")
    found = find_proxies(frame, features, sensitive, config)
    families = [TestFamily(
        name="proxies",
        description="Each feature against each sensitive column: Kruskal–Wallis (numbers) or chi-square "
                    "(categories), one test per pair.",
        tests=sum(a.p_value is not None for a in found.associations),
        discoveries=sum(a.q_value is not None and a.q_value <= found.fdr for a in found.associations))]
    return Outcome(found, _findings(found), families if families[0].tests else [])


def find_proxies(frame: pd.DataFrame, features: list[str], sensitive: list[str], config: Config) -> Proxies:
    """Test every feature against every sensitive column (see the module docstring)."""
    settings = config.explanations
    pairs = [_associate(frame[f], frame[s], f, s) for s in sensitive for f in features if f != s]
    p = np.array([np.nan if a.p_value is None else a.p_value for a in pairs])
    q = np.full(len(p), np.nan)
    if (~np.isnan(p)).any():
        q[~np.isnan(p)] = benjamini_hochberg(p[~np.isnan(p)])
    fdr = config.findings.fdr
    found = []
    for a, q_value in zip(pairs, q, strict=True):
        if np.isnan(q_value):
            found.append(a)
            continue
        large = a.value >= (settings.min_proxy_auc if a.measure == "auc" else settings.min_proxy_v)
        found.append(Association(a.sensitive, a.feature, a.measure, a.value, a.test, a.p_value, float(q_value), a.n,
                                 bool(q_value <= fdr and large)))
    found.sort(key=lambda a: (not a.proxy, -(a.value if a.value is not None else -1.0)))
    return Proxies(found, settings.min_proxy_auc, settings.min_proxy_v, fdr)


def _associate(feature: pd.Series, groups: pd.Series, name: str, sensitive: str) -> Association:
    """One feature's association with one sensitive column, on the rows where both are present."""
    present = (feature.notna() & groups.notna()).to_numpy()
    values, codes = feature[present], pd.factorize(groups[present].astype(str), sort=True)[0]
    n, k = int(present.sum()), int(codes.max(initial=-1)) + 1

    def untested(why: str) -> Association:
        return Association(sensitive, name, None, None, None, None, None, n, False, why)

    if k < 2:
        return untested("the sensitive column has one group where the feature is present")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        if np.all(numbers == numbers[0]):
            return untested("one value")
        ranks = stats.rankdata(numbers)
        sizes = np.bincount(codes, minlength=k)
        sums = np.bincount(codes, weights=ranks, minlength=k)
        auc = (sums - sizes * (sizes + 1) / 2) / (sizes * (n - sizes))  # each group against the rest
        p_value = float(stats.kruskal(*[numbers[codes == g] for g in range(k)]).pvalue)
        return Association(sensitive, name, "auc", float(np.max(np.maximum(auc, 1 - auc))), "kruskal", p_value,
                           None, n, False)
    categories, category = np.unique(values.astype(str).to_numpy(), return_inverse=True)
    if len(categories) > MAX_CATEGORIES:
        return untested(f"{len(categories):,} values, more than {MAX_CATEGORIES}")
    if len(categories) < 2:
        return untested("one value")
    table = np.zeros((len(categories), k), dtype=np.int64)
    np.add.at(table, (category, codes), 1)
    p_value = float(stats.chi2_contingency(table, correction=False).pvalue)
    return Association(sensitive, name, "cramers_v", float(association(table, method="cramer")), "chi2", p_value,
                       None, n, False)


def _findings(found: Proxies) -> list[Finding]:
    proxies = found.found
    if not proxies:
        return []
    by_column: dict[str, list[Association]] = {}
    for a in proxies:
        by_column.setdefault(a.sensitive, []).append(a)
    parts = [f'"{shown(column)}": ' + ", ".join(f'"{shown(a.feature)}" ({_measured(a)})' for a in found_here)
             for column, found_here in by_column.items()]
    return [Finding(
        id="proxy", severity="medium",
        title=f"{len(proxies)} feature{'s' if len(proxies) > 1 else ''} of the model predict"
              f"{'' if len(proxies) > 1 else 's'} a sensitive column: {quoted_list([a.feature for a in proxies])}.",
        detail="; ".join(parts) + ". Leaving a sensitive column out of the model's inputs does not keep it out of "
               "the predictions while other inputs carry it: the model can learn the attribute back from them.",
        section=SECTION, subject=None,
        evidence=[Evidence(slice=a.sensitive, group=a.feature, metric=str(a.measure), value=a.value, ci_low=None,
                           ci_high=None, n=a.n, p_value=a.p_value, q_value=a.q_value) for a in proxies],
    )]


def _measured(a: Association) -> str:
    what = "ROC AUC" if a.measure == "auc" else "Cramér's V"
    return f"{what} {num(a.value)}, q {p_clause(a.q_value)}"
