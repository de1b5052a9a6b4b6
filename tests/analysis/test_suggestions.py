"""What to try: each builder's numbers against a direct computation (scipy's Wilson interval, rates recomputed
with numpy, pandas' means and shares, the two models' predictions row by row), and no boilerplate shared by two
findings of one card."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

import reportgen
from reportgen.analysis.suggestions import (
    COSTS,
    MIN_STANDARDIZED_DIFFERENCE,
    _rates,
    candidate_columns,
    distinguishing_columns,
    more_rows_to_shrink,
    threshold_matching,
)
from reportgen.formatting import about
from tests.helpers import synthetic_predictions

NUMBER = r"[\d,.−]+"


def wilson_width(k: int, n: int) -> float:
    interval = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return interval.high - interval.low


def plain(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


@pytest.mark.parametrize("n", [50, 200, 1000, 5000])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_the_rows_to_halve_an_interval_halve_scipys_wilson_interval(n: int, p: float) -> None:
    more = more_rows_to_shrink(n)
    ratio = wilson_width(round(p * (n + more)), round(n + more)) / wilson_width(round(p * n), n)
    assert ratio == pytest.approx(0.5, abs=0.03)


def rates_at(scores: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, float]:
    """The four rates recomputed directly, predicting positive at score ≥ threshold."""
    predicted = scores >= threshold
    positives, negatives = y == 1, y == 0
    return {"selection_rate": predicted.mean(),
            "tpr": predicted[positives].mean() if positives.any() else np.nan,
            "fpr": predicted[negatives].mean() if negatives.any() else np.nan,
            "precision": y[predicted].mean() if predicted.any() else np.nan}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=60),
       st.sampled_from(sorted(COSTS)), st.floats(0, 1))
def test_the_matching_threshold_is_the_closest_on_the_data(rows: list[tuple[int, bool]], rate: str, target: float
                                                           ) -> None:
    scores = np.array([s / 20 for s, _ in rows])  # many ties
    y = np.array([int(label) for _, label in rows])
    match = threshold_matching(scores, y, rate, target)
    candidates = [np.inf, *np.unique(scores)]
    distances = [abs(rates_at(scores, y, t)[rate] - target) for t in candidates]
    if np.all(np.isnan(distances)):
        assert match is None
        return
    assert match is not None
    recomputed = rates_at(scores, y, match.threshold)
    for name in COSTS:
        assert recomputed[name] == pytest.approx(match.rates[name], nan_ok=True)
    assert abs(recomputed[rate] - target) == pytest.approx(np.nanmin(distances))



@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans(), st.booleans()), min_size=1, max_size=60),
       st.sampled_from(sorted(COSTS)), st.floats(0, 1), st.randoms(use_true_random=False))
def test_a_given_order_of_some_rows_matches_as_those_rows_alone(rows, rate: str, target: float, rng) -> None:
    """`order` (a group's rows, highest score first, ties in any order) gives the match of that group's rows."""
    scores = np.array([s / 20 for s, _, _ in rows])
    y = np.array([int(label) for _, label, _ in rows])
    group = np.array([in_group for _, _, in_group in rows])
    shuffled = np.array(rng.sample(range(len(rows)), len(rows)), dtype=np.intp)  # ties end up in any order
    order = shuffled[np.argsort(-scores[shuffled], kind="stable")]
    assume(group.any())
    given = threshold_matching(scores, y, rate, target, order=order[group[order]])
    alone = threshold_matching(scores[group], y[group], rate, target)
    assert (given is None) == (alone is None)
    if given is not None and alone is not None:
        assert given.threshold == alone.threshold
        np.testing.assert_array_equal(list(given.rates.values()), list(alone.rates.values()))

def test_a_groups_rates_from_its_counts_are_sklearns() -> None:
    from sklearn.metrics import precision_score, recall_score
    rng = np.random.default_rng(1)
    y, pred = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    tp, fp = np.count_nonzero((y == 1) & (pred == 1)), np.count_nonzero((y == 0) & (pred == 1))
    found = _rates(np.array([tp]), np.array([fp]), int(np.count_nonzero(y == 1)), int(np.count_nonzero(y == 0)))[0]
    assert found["tpr"] == pytest.approx(recall_score(y, pred))
    assert found["fpr"] == pytest.approx(1 - recall_score(y, pred, pos_label=0))
    assert found["precision"] == pytest.approx(precision_score(y, pred))
    assert found["selection_rate"] == pytest.approx(pred.mean())


def test_distinguishing_columns_are_the_standardized_difference_and_the_total_variation() -> None:
    rng = np.random.default_rng(0)
    n = 2000
    mask = rng.random(n) < 0.3
    frame = pd.DataFrame({
        "hours": rng.normal(40, 8, n) - 6 * mask,
        "flat": rng.normal(0, 1, n),
        "colour": np.where(mask & (rng.random(n) < 0.7), "red", rng.choice(["red", "blue", "green"], n)),
    })
    frame.loc[rng.random(n) < 0.1, "hours"] = np.nan  # left out of the means and variances, as pandas does
    frame["row"], frame["p"] = np.arange(n), rng.random(n)  # an identifier, and a model column: never candidates
    columns = candidate_columns(frame, {"p"}, max_values=50)
    assert [c.name for c in columns] == ["hours", "flat", "colour"]
    found = {c.column: c for c in distinguishing_columns(columns, mask)}
    inside, outside = frame["hours"][mask], frame["hours"][~mask]
    smd = (inside.mean() - outside.mean()) / np.sqrt((inside.var() + outside.var()) / 2)
    assert found["hours"].size == pytest.approx(smd)
    shares = pd.concat([frame["colour"][mask].value_counts(normalize=True),
                        frame["colour"][~mask].value_counts(normalize=True)], axis=1).fillna(0)
    assert found["colour"].size == pytest.approx((shares.iloc[:, 0] - shares.iloc[:, 1]).abs().sum() / 2)
    assert '"red"' in found["colour"].text
    flat = frame["flat"]
    assert ("flat" in found) == (abs((flat[mask].mean() - flat[~mask].mean()) / flat.std()) >= MIN_STANDARDIZED_DIFFERENCE)


def gap_data(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """Group "b" gets lower scores for the same labels: its selection rate and TPR trail group "a"'s."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b"], n, p=[0.6, 0.4])
    y = rng.integers(0, 2, n)
    score = np.clip(0.4 * y + 0.6 * rng.random(n) - 0.15 * (group == "b"), 0, 1).round(3)
    return pd.DataFrame({"y": y, "p": score, "g": group, "row": np.arange(n), "hours": rng.normal(40, 5, n)})


def test_the_fairness_threshold_closes_the_gap_on_the_data() -> None:
    df = gap_data()
    ev = reportgen.evaluate(df, label="y", score="p", sensitive=["g"], resamples=200)
    (gap,) = [f for f in ev.findings if f.id == "fairness_gap"]
    pattern = re.compile(rf'A threshold of ({NUMBER}) on the score for g = "(\w)" .*? would move its ([a-z ]+) from '
                         rf'({NUMBER}) to ({NUMBER}), against ({NUMBER}) for the reference "(\w)"; on this data it would '
                         rf"also move its ([a-z ]+) from ({NUMBER}) to ({NUMBER})")
    matched = [pattern.search(s) for s in gap.suggestions]
    assert any(matched)
    names = {"selection rate": "selection_rate", "true positive rate": "tpr", "false positive rate": "fpr",
             "precision": "precision"}
    for m in filter(None, matched):
        threshold, moved, rate, before, after, target, reference, cost, cost_before, cost_after = m.groups()
        rows, ref = df[df["g"] == moved], df[df["g"] == reference]
        now = rates_at(rows["p"].to_numpy(), rows["y"].to_numpy(), 0.5)
        then = rates_at(rows["p"].to_numpy(), rows["y"].to_numpy(), plain(threshold))
        goal = rates_at(ref["p"].to_numpy(), ref["y"].to_numpy(), 0.5)[names[rate]]
        assert (moved, reference) == ("b", "a")
        assert plain(before) == pytest.approx(now[names[rate]], abs=5e-4)
        assert plain(after) == pytest.approx(then[names[rate]], abs=5e-4)
        assert plain(target) == pytest.approx(goal, abs=5e-4)
        assert plain(cost_after) == pytest.approx(then[names[cost]], abs=5e-4)
        assert plain(cost_before) == pytest.approx(now[names[cost]], abs=5e-4)
        every = [abs(rates_at(rows["p"].to_numpy(), rows["y"].to_numpy(), t)[names[rate]] - goal)
                 for t in np.unique(rows["p"])]
        assert abs(then[names[rate]] - goal) == pytest.approx(min(every))


def test_a_weak_slice_says_how_many_rows_would_halve_its_interval_and_what_sets_it_apart() -> None:
    df = gap_data()
    df["hours"] += 8 * (df["g"] == "b")
    ev = reportgen.evaluate(df, label="y", score="p", prediction=None, slices=[{"column": "g"}], resamples=200)
    weak = [f for f in ev.findings if f.id == "weak_slice" and f.evidence]
    assert weak
    for finding in weak:
        e = finding.evidence[0]
        halving = next(s for s in finding.suggestions if "would halve" in s)
        found = re.search(rf"About ({NUMBER}) more labelled (.+?) of .*?\(({NUMBER}) now", halving)
        more, unit, now = plain(found.group(1)), found.group(2), plain(found.group(3))
        rows = df[df["g"] == e.group]
        denominator = len(rows) if e.metric == "accuracy" else int((rows["y"] == (e.metric == "recall")).sum())
        assert (now, unit) == (denominator, e.support_unit) == (e.support, e.support_unit)  # the metric's own rows
        k = round(e.value * denominator)
        ratio = wilson_width(round(k * (now + more) / now), round(now + more)) / wilson_width(k, denominator)
        assert ratio == pytest.approx(0.5, abs=0.05)
        apart = next(s for s in finding.suggestions if s.startswith("Columns that set"))
        assert '"hours"' in apart
        assert not any(f'"{c}" (' in apart for c in ("y", "p", "g", "row"))  # never the model's columns, an id or its own


def test_a_regression_counts_the_rows_the_baseline_got_right_and_the_model_wrong() -> None:
    rng = np.random.default_rng(0)
    n = 3000
    group = rng.choice(["a", "b"], n)
    y = rng.integers(0, 2, n)
    old = np.round(np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1), 3)
    new = old.copy()
    new[(group == "b") & (y == 1) & (old >= 0.5) & (rng.random(n) < 0.4)] = 0.1
    ev = reportgen.evaluate(pd.DataFrame({"y": y, "p": new, "g": group}), label="y", score="p",
                            slices=[{"column": "g"}], resamples=200,
                            baseline={"name": "v1", "data": pd.DataFrame({"y": y, "q": old}), "score": "q"})
    (finding,) = [f for f in ev.findings if f.id == "regression"]  # not merged into the weak slice on "b"
    text = finding.suggestions[0]
    ours, theirs = (new >= 0.5) == y, (old >= 0.5) == y
    counted = re.findall(rf'({NUMBER}) of (the positive labels of g = "b"|g = "b"|all rows) \(({NUMBER}) the other way\)', text)
    assert counted
    for worse, where, other in counted:
        rows = (group == "b") if "g =" in where else np.ones(n, dtype=bool)
        rows = rows & (y == 1) if "positive" in where else rows
        assert plain(worse) == np.count_nonzero(rows & theirs & ~ours)
        assert plain(other) == np.count_nonzero(rows & ours & ~theirs)


def test_small_groups_say_how_many_rows_reach_min_support() -> None:
    df = synthetic_predictions(400)
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "race"}], min_support=50, resamples=100)
    (small,) = [f for f in ev.findings if f.id == "small_slices"]
    counts = df["race"].value_counts()
    named = re.findall(rf'({NUMBER}) more rows for race = "(\w)" \(({NUMBER}) now\)', small.suggestions[0])
    assert named
    for lacking, group, now in named:
        assert plain(now) == counts[group] and plain(lacking) == 50 - counts[group]


def test_a_large_group_with_few_positives_says_how_many_positives_reach_min_support() -> None:
    rng = np.random.default_rng(1)
    n = 1000
    g = np.where(np.arange(n) < 300, "few", "many")
    y = (np.arange(n) % 50 == 0).astype(int)  # 2% positives everywhere: "few" has 6, "many" 14
    df = pd.DataFrame({"y": y, "p": np.where(y == 1, 0.6 + 0.4 * rng.random(n), 0.7 * rng.random(n)), "g": g})
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "g"}], resamples=100)
    (small,) = [f for f in ev.findings if f.id == "small_slices"]
    positives = int(df.loc[df["g"] == "few", "y"].sum())
    assert f'{30 - positives} more positives for g = "few" ({positives} now)' in small.suggestions[0]
    assert f"{positives} positives (Recall (TPR)" in small.detail
    assert small.suggestions[0].count('g = "few"') == 1  # its smallest support only


def test_calibration_counts_the_held_out_rows_and_multiclass_names_temperature_scaling() -> None:
    rng = np.random.default_rng(0)
    n = 600
    probabilities = rng.dirichlet([1, 1, 1], n)
    df = pd.DataFrame({"y": rng.choice(["ant", "bee", "cat"], n),
                       **{f"p_{c}": probabilities[:, k] for k, c in enumerate(["ant", "bee", "cat"])}})
    ev = reportgen.evaluate(df, label="y", score_prefix="p_", resamples=100)
    (finding,) = [f for f in ev.findings if f.id == "poor_calibration"]
    assert "split these 600 in two, fit on 300" in finding.suggestions[0]
    assert "temperature scaling" in finding.suggestions[0]


def test_no_two_findings_of_a_card_share_a_suggestion() -> None:
    df = synthetic_predictions(3000).drop(columns="pred")
    df["p"] = np.clip(df["p"] - 0.2 * (df["race"] == "c") - 0.1 * (df["sex"] == "female"), 0, 1).round(3)
    ev = reportgen.evaluate(df, label="y", score="p", slices=[{"column": "race"}, {"column": "sex"},
                                                              {"column": "age", "quantiles": 4}],
                            sensitive=["race", "sex"], resamples=200, min_support=200)
    raised = [f.id for f in ev.findings if f.suggestions]
    assert raised.count("weak_slice") >= 2 and raised.count("fairness_gap") == 2
    for first, second in itertools.combinations(ev.findings, 2):
        assert not set(first.suggestions) & set(second.suggestions), (first.title, second.title)


@given(st.floats(0, 1e7))
def test_estimated_counts_are_shown_to_two_significant_digits(value: float) -> None:
    shown = plain(about(value))
    assert shown == pytest.approx(value, rel=0.05, abs=0.5)
    assert len(str(int(shown)).rstrip("0")) <= 2


def whole_set_findings() -> dict[str, reportgen.Evaluation]:
    """Evaluations raising the findings about the whole set: imbalance and threshold, constant output, bias."""
    rng = np.random.default_rng(3)
    n = 1000
    y = (np.arange(n) < 100).astype(int)  # 10% positive
    scores = np.clip(0.3 * y + 0.45 * rng.random(n), 0, 1).round(3)  # a threshold of 0.5 misses many positives
    target = rng.normal(50, 10, n)
    return {
        "binary": reportgen.evaluate(pd.DataFrame({"y": y, "p": scores}), label="y", score="p", resamples=100),
        "constant": reportgen.evaluate(pd.DataFrame({"y": y, "p": (scores * 0.4).round(3)}), label="y", score="p",
                                       resamples=100),
        "regression": reportgen.evaluate(pd.DataFrame({"y": target, "pred": target - 3 + rng.normal(0, 2, n)}),
                                         label="y", prediction="pred", task="regression", resamples=100),
    }


def test_whole_set_suggestions_carry_numbers_computed_from_the_data() -> None:
    from sklearn.metrics import f1_score
    evaluations = whole_set_findings()
    binary = {f.id: f for f in evaluations["binary"].findings}
    y, scores = evaluations["binary"].predictions.y_true, evaluations["binary"].predictions.scores
    weights = re.search(rf"weights of about ({NUMBER}) : 1 .*?\(({NUMBER}) rows against ({NUMBER})\)",
                        binary["class_imbalance"].suggestions[1])
    assert [plain(g) for g in weights.groups()] == [9.0, 100, 900]  # 900 negatives over 100 positives
    (constant,) = [f for f in evaluations["constant"].findings if f.id == "constant_predictions"]
    low, median, high = (plain(x) for x in re.search(rf"percentiles are ({NUMBER}), ({NUMBER}) and ({NUMBER})",
                                                      constant.suggestions[0]).groups())
    quantiles = np.quantile(evaluations["constant"].predictions.scores, [0.01, 0.5, 0.99])
    assert [low, median, high] == pytest.approx(quantiles, rel=5e-4, abs=1e-9)
    best = plain(re.search(rf"F1 peaks at ({NUMBER}) \(F1 ({NUMBER})", binary["threshold_choice"].suggestions[0])[1])
    f1_at = {t: f1_score(y, scores >= t) for t in np.unique(scores)}
    assert f1_at[best] == pytest.approx(max(f1_at.values()))
    (bias,) = [f for f in evaluations["regression"].findings if f.id == "systematic_bias"]
    frame = evaluations["regression"].predictions
    shift = plain(re.search(rf"Adding ({NUMBER})", bias.suggestions[0])[1])
    assert shift == pytest.approx(np.mean(frame.y_true - frame.y_pred), rel=5e-4)


def test_an_error_slice_counts_its_errors() -> None:
    from tests.analysis.test_merge import band_data
    df = band_data()
    ev = reportgen.evaluate(df, label="y", score="p", resamples=100, error_analysis={"columns": ["colour", "size_band"]})
    wrong = (df["p"] >= 0.5).astype(int) != df["y"]
    for finding in (f for f in ev.findings if f.evidence and f.evidence[0].slice == "discovered"):
        rows = ev.results["error_analysis"].rows[finding.evidence[0].group]
        counted = next(s for s in finding.suggestions if s.startswith("Read the most confident"))
        assert plain(re.search(rf"of its ({NUMBER}) errors", counted)[1]) == wrong.to_numpy()[rows].sum()
