"""One effect, one finding: findings on the same rows merge (pure, on hand-made findings), and end to end a
configured band, its quartile slice and the error-analysis slice equal to it become one finding."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import jaccard_score

import reportgen
from reportgen.analysis.base import Context, Evidence, Finding
from reportgen.analysis.merge import finding_rows, jaccard, merge_findings, same_rows
from reportgen.document.build import build_report

N = 1000


def finding(rule: str, severity: str, slice_name: str, group: str, value: float = 0.3) -> Finding:
    return Finding(id=rule, severity=severity, title=f"{rule} {group}.", detail=f"Detail of {group}.",
                   section="slices", subject=slice_name,
                   evidence=[Evidence(slice_name, group, "recall", value, value - 0.1, value + 0.1, 100)])


def mask(start: int, stop: int) -> np.ndarray:
    rows = np.zeros(N, dtype=bool)
    rows[start:stop] = True
    return rows


def merged(findings: list[Finding], masks: dict[str, np.ndarray | None]) -> list[Finding]:
    return merge_findings(findings, lambda f: masks[f.evidence[0].group] if f.evidence else None)


def test_a_configured_group_and_the_equal_discovered_slice_are_one_finding() -> None:
    band = finding("weak_slice", "high", "size_band", "small")
    discovered = finding("error_slice", "high", "discovered", "size = small", value=0.4)
    (one,) = merged([band, discovered], {"small": mask(0, 250), "size = small": mask(0, 250)})
    assert one.id == "weak_slice" and one.title == band.title  # equal severity: the earlier one is the primary
    assert [(e.slice, e.group, e.rule) for e in one.evidence] == [
        ("size_band", "small", "weak_slice"), ("discovered", "size = small", "error_slice")]
    assert one.detail.startswith(band.detail)
    assert 'the discovered slice "size = small", recall 0.400 (0.300–0.500), overlap 1.00.' in one.detail


@pytest.mark.parametrize(("quartile_rows", "one_effect"), [
    (mask(0, 240), True),  # nearly equal: Jaccard 0.96
    (mask(0, 200), True),  # nested, filling 80% of the band (the breast-cancer quartile in its size band: 83%)
    (mask(0, 180), False),  # nested, but 72% of the band: an effect of its own
    (mask(0, 600), False),  # the band is 42% of it
    (mask(30, 280), False),  # overlapping, 88% of it inside the band: not nested
])
def test_a_quartile_merges_with_the_band_it_nearly_equals_or_mostly_fills(
    quartile_rows: np.ndarray, one_effect: bool,
) -> None:
    band = finding("weak_slice", "medium", "size_band", "small")
    quartile = finding("weak_slice", "medium", "size", "[0, 25)", value=0.6)  # outside the band's interval
    assert same_rows(mask(0, 250), quartile_rows) == same_rows(quartile_rows, mask(0, 250)) == one_effect
    found = merged([band, quartile], {"small": mask(0, 250), "[0, 25)": quartile_rows})
    assert found == [band, quartile] if not one_effect else len(found) == 1


def test_a_nested_slice_the_container_explains_merges_into_it_and_a_worse_one_does_not() -> None:
    """The penguins' case: island "Dream" has low accuracy, and so do its two sexes, each half of it and each
    within its interval: one finding, titled by the island. A nested slice worse than the island's interval is an
    effect of its own."""
    female = finding("weak_slice", "high", "island × sex", "Dream & female", value=0.25)
    island = finding("weak_slice", "high", "island", "Dream", value=0.3)  # interval 0.2–0.4
    male = finding("weak_slice", "medium", "island × sex", "Dream & male", value=0.35)
    masks = {"Dream & female": mask(0, 125), "Dream": mask(0, 250), "Dream & male": mask(125, 250)}
    (one,) = merged([female, island, male], masks)
    assert one.title == island.title and [e.group for e in one.evidence] == ["Dream", "Dream & female", "Dream & male"]
    worse = finding("weak_slice", "high", "island × sex", "Dream & female", value=0.1)
    assert merged([worse, island], masks) == [worse, island]
    # a discovered slice was tested against the island itself: never explained by it
    discovered = finding("error_slice", "high", "discovered", "Dream & female", value=0.3)
    assert merged([island, discovered], masks) == [island, discovered]


def test_same_rows_holds_for_every_jaccard_overlap_of_at_least_0_9() -> None:
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(2000):
        a = rng.random(N) < rng.uniform(0.01, 1)
        b = a ^ (rng.random(N) < rng.uniform(0, 0.1))  # a with a few rows flipped
        if jaccard(a, b) >= 0.9:
            checked += 1
            assert same_rows(a, b)
    assert checked > 500


def test_disjoint_and_rowless_findings_pass_unchanged_in_order() -> None:
    first, second = finding("weak_slice", "high", "sex", "female"), finding("weak_slice", "high", "sex", "male")
    gap = Finding(id="fairness_gap", severity="high", title="A gap.", detail="d", section="fairness", subject="sex",
                  evidence=[])
    found = [gap, first, second]
    assert merged(found, {"female": mask(0, 500), "male": mask(500, 1000)}) == found


def test_the_most_severe_is_the_primary_wherever_it_was_raised() -> None:
    early = finding("weak_slice", "medium", "age", "young")
    late = finding("error_slice", "high", "discovered", "age = young")
    (one,) = merged([early, late], {"young": mask(0, 300), "age = young": mask(0, 300)})
    assert one.id == "error_slice" and [e.rule for e in one.evidence] == ["error_slice", "weak_slice"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 900), st.integers(1, 300), st.sampled_from(["high", "medium", "low"])),
                min_size=1, max_size=8))
def test_merging_keeps_every_number_and_leaves_no_two_primaries_on_the_same_rows(
    slices: list[tuple[int, int, str]],
) -> None:
    found = [finding("weak_slice", severity, "s", f"g{i}") for i, (_, _, severity) in enumerate(slices)]
    masks = {f"g{i}": mask(start, start + size) for i, (start, size, _) in enumerate(slices)}
    out = merged(found, masks)
    assert sum(len(f.evidence) for f in out) == len(found)
    groups = [masks[f.evidence[0].group] for f in out]
    assert not any(same_rows(a, b) for i, a in enumerate(groups) for b in groups[i + 1:])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=50), st.lists(st.booleans(), min_size=1, max_size=50))
def test_jaccard_is_scikit_learns(first: list[bool], second: list[bool]) -> None:
    size = min(len(first), len(second))
    a, b = np.array(first[:size]), np.array(second[:size])
    assert jaccard(a, b) == pytest.approx(jaccard_score(a, b, zero_division=0.0))


def band_data(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A size measurement whose lowest quartile ("small", also a `size_band` column) the model gets wrong often."""
    rng = np.random.default_rng(seed)
    size = rng.permutation(np.arange(n)) / n * 100  # distinct values: quartiles cut exactly at 25, 50, 75
    small = size < 25
    y = rng.integers(0, 2, n)
    right = rng.random(n) < np.where(small, 0.55, 0.9)
    score = np.round(np.where(right == (y == 1), 0.5 + 0.5 * rng.random(n), 0.5 * rng.random(n)), 3)
    return pd.DataFrame({"y": y, "p": np.clip(score, 0, 0.999), "size": size,
                         "size_band": np.where(small, "small", "large"), "colour": rng.choice(["red", "blue"], n)})


def test_issue_14_a_band_its_quartile_and_the_discovered_slice_are_one_finding() -> None:
    ev = reportgen.evaluate(band_data(), label="y", score="p", resamples=200,
                            slices=[{"column": "size_band"}, {"column": "size", "quantiles": 4}],
                            error_analysis={"columns": ["size_band", "colour"]})
    about_small = [f for f in ev.findings if f.id in ("weak_slice", "error_slice")
                   and any(e.group in ("small", "size_band = small") or e.group.startswith("[0") for e in f.evidence)]
    (one,) = about_small
    views = {(e.slice, e.rule) for e in one.evidence}
    assert {"size_band", "size", "discovered"} <= {s for s, _ in views}
    assert {"weak_slice", "error_slice"} <= {r for _, r in views}
    assert "merged here:" in one.detail
    report = build_report(ev.config, ev.predictions, ev.measured, ev.results, ev.findings, ev.test_families)
    marked = {(s.name, g.group) for s in report.slices for g in s.groups if g.weak_metrics}
    lowest_quartile = next(f for f in ev.measured.families if f.name == "size").labels[0]
    assert {("size_band", "small"), ("size", lowest_quartile)} <= marked  # the ▼ marks survive the merge


def test_discovered_slices_rows_index_the_predictions_even_when_the_search_ran_on_one_label() -> None:
    df = band_data()
    ev = reportgen.evaluate(df, label="y", score="p", resamples=100,
                            error_analysis={"columns": ["size_band", "colour"], "metric": "fnr"})
    found = ev.results["error_analysis"]
    assert found.rows
    for text, conditions in zip(found.slices["slice"], found.slices["conditions"], strict=True):
        expected = np.ones(len(df), dtype=bool) & (df["y"] == 1).to_numpy()
        for column, value in conditions:
            expected &= (df[column].astype(str) == value).to_numpy()
        assert np.array_equal(found.rows[text], np.flatnonzero(expected))


def test_which_findings_take_part() -> None:
    ev = reportgen.evaluate(band_data(), label="y", score="p", resamples=100, slices=[{"column": "size_band"}],
                            error_analysis={"columns": ["size_band", "colour"]})
    rows_of = finding_rows(Context(config=ev.config, predictions=ev.predictions, measured=ev.measured,
                                   results=ev.results))
    small = (band_data()["size_band"] == "small").to_numpy()
    named = Evidence("size_band", "small", "accuracy", 0.6, 0.5, 0.7, 1000)
    assert np.array_equal(rows_of(finding("weak_slice", "high", "size_band", "small")), small)
    assert np.array_equal(rows_of(replace(finding("any_rule", "low", "size_band", "small"), evidence=[named])), small)
    assert rows_of(replace(finding("regression", "high", "size_band", "small"), evidence=[named])) is None
    assert rows_of(replace(finding("any_rule", "low", "size_band", "small"),
                           evidence=[named, replace(named, group="large")])) is None  # two groups
    assert rows_of(replace(finding("any_rule", "low", "overall", "overall"),
                           evidence=[replace(named, slice="overall", group="overall")])) is None
    discovered = replace(named, slice="discovered", group=ev.results["error_analysis"].slices["slice"].iloc[0])
    assert rows_of(replace(finding("error_slice", "high", "discovered", "x"), evidence=[discovered])) is not None
