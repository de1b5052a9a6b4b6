"""Proxies of the sensitive columns: the associations equal scikit-learn's ROC AUC and scipy's tests; a planted
proxy (number or category) is flagged, noise is not; untestable pairs say why; the card's section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats.contingency import association
from sklearn.metrics import roc_auc_score

import reportgen


def people(n: int, seed: int) -> pd.DataFrame:
    """A sensitive column "group" (four groups), a planted number proxy, a planted category proxy and noise."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    frame = pd.DataFrame({
        "group": group,
        "height": np.select([group == "a", group == "b"], [178.0, 165.0], 170.0) + rng.normal(0, 6, n),
        "role": np.where(group == "a", rng.choice(["x", "y"], n, p=[0.9, 0.1]), rng.choice(["y", "z"], n)),
        "noise": rng.normal(size=n),
        "city": rng.choice([f"c{k}" for k in range(12)], n),
        "y": rng.integers(0, 2, n),
        "p": rng.random(n),
    })
    frame.loc[frame.index[:50], "height"] = np.nan  # missing values: those rows are left out of that pair
    return frame


def proxies_of(frame: pd.DataFrame, features: list[str]) -> object:
    return reportgen.evaluate(frame, label="y", score="p", sensitive=["group"], resamples=100,
                              model={"features": features}, error_analysis={"enabled": False})


def test_the_associations_are_scikit_learns_and_scipys() -> None:
    frame = people(3000, 0)
    found = proxies_of(frame, ["height", "role", "noise", "city"]).results["proxies"]
    by_feature = {a.feature: a for a in found.associations}
    present = frame["height"].notna()
    height, group = frame.loc[present, "height"], frame.loc[present, "group"]
    aucs = [roc_auc_score(group == g, height) for g in "abcd"]
    assert by_feature["height"].value == pytest.approx(max(max(a, 1 - a) for a in aucs), rel=1e-12)
    assert by_feature["height"].p_value == pytest.approx(
        stats.kruskal(*[height[group == g] for g in "abcd"]).pvalue, rel=1e-9, abs=1e-300)
    assert by_feature["height"].n == 2950
    table = pd.crosstab(frame["role"], frame["group"]).to_numpy()
    assert by_feature["role"].value == pytest.approx(association(table, method="cramer"), rel=1e-12)
    assert by_feature["role"].p_value == pytest.approx(stats.chi2_contingency(table, correction=False).pvalue,
                                                       rel=1e-9, abs=1e-300)
    assert [a.feature for a in found.found] == ["height", "role"]  # planted: flagged; noise and city: not


def test_the_finding_says_why_dropping_the_column_is_not_enough() -> None:
    ev = proxies_of(people(2000, 1), ["height", "role", "noise"])
    found = [f for f in ev.findings if f.id == "proxy"]
    assert len(found) == 1 and '"height"' in found[0].title and '"role"' in found[0].title
    assert "does not keep it out of the predictions" in found[0].detail
    assert any(family.name == "proxies" and family.tests == 3 for family in ev.test_families)


def test_noise_is_no_proxy() -> None:
    """Features independent of the sensitive column: across seeds, at most one seed flags any (the family is held
    at a 5% false discovery rate, and a proxy also needs a large association)."""
    flagged = []
    for seed in range(6):
        frame = people(1500, seed + 10)
        rng = np.random.default_rng(seed)
        frame["group"] = rng.permutation(frame["group"].to_numpy())  # no feature knows the groups any more
        flagged.append(proxies_of(frame, ["height", "role", "noise", "city"]).results["proxies"].found)
    assert sum(bool(f) for f in flagged) <= 1, flagged


def test_pairs_that_cannot_be_tested_say_why() -> None:
    frame = people(400, 2).assign(constant=1.0, many=[f"v{k}" for k in range(400)])
    found = proxies_of(frame, ["constant", "many", "group"]).results["proxies"]
    notes = {a.feature: a.note for a in found.associations}
    assert notes == {"constant": "one value", "many": "400 values, more than 100"}  # the column itself is skipped
    assert not found.found


def test_the_card_lists_every_pair() -> None:
    ev = proxies_of(people(1000, 3), ["height", "noise"])
    html = ev.to_html()
    section = html[html.index('<section id="proxies">'):]
    section = section[:section.index("</section>")]
    assert "Proxies of the sensitive columns" in section and section.count("<tr>") == 3  # header and two pairs


def test_a_feature_the_data_lacks_is_a_one_line_error() -> None:
    with pytest.raises(reportgen.InputError) as raised:
        proxies_of(people(200, 4), ["height", "weight"])
    assert str(raised.value).startswith('data frame: no column "weight" (model["features"])')
