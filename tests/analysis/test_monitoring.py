"""Monitoring: each column's drift against scipy on the frames, planted shifts found and noise left alone (over many
seeds), the columns chosen and skipped, performance per window against scikit-learn on each window's rows, and every
bad input as a one-line error or a stated note."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance
from sklearn.metrics import accuracy_score, roc_auc_score

import reportgen
from reportgen.analysis.data_drift import drift_of_columns
from reportgen.config import MonitoringSection
from reportgen.errors import ConfigError, InputError
from tests.helpers import html_tags, synthetic_predictions


def stream(n: int, seed: int, *, start: str = "2024-01-01", days: int = 180, shift: float = 0.0) -> pd.DataFrame:
    """Predictions with a time column over `days` days; `shift` moves "income" (in SDs) and the share of "region"."""
    frame = synthetic_predictions(n, seed)
    rng = np.random.default_rng(seed + 1)
    frame["income"] = rng.normal(50_000 + 10_000 * shift, 10_000, n).round()
    frame["region"] = rng.choice(["north", "south", "east"], n, p=[0.5 - 0.2 * min(shift, 1), 0.3, 0.2 + 0.2 * min(shift, 1)])
    frame["scored_at"] = (pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, days, n)), unit="D")).astype(str)
    return frame


def drift_of(reference: pd.DataFrame, current: pd.DataFrame, columns: list[str], **settings: object) -> dict:
    found = drift_of_columns(reference, current, columns, settings=MonitoringSection(**settings), fdr=0.05)
    return {d.column: d for d in found}


def test_each_statistic_equals_scipy_on_the_frames() -> None:
    reference, current = stream(800, 1), stream(700, 2, shift=0.5)
    reference.loc[::9, "income"] = np.nan
    current.loc[::4, "region"] = None
    found = drift_of(reference, current, ["income", "region", "age"])
    income = found["income"]
    ref, cur = reference["income"].dropna().to_numpy(), current["income"].dropna().to_numpy()
    tests = {t.test: t for t in income.tests}
    assert tests["ks"].statistic == pytest.approx(ks_2samp(ref, cur).statistic, abs=1e-12)
    assert tests["ks"].p_value == pytest.approx(ks_2samp(ref, cur).pvalue, rel=1e-9)
    assert tests["wasserstein"].statistic == pytest.approx(wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)
    assert income.n_reference == len(ref) and income.missing_reference == pytest.approx(1 - len(ref) / 800)
    region = found["region"]
    counts = pd.crosstab(pd.concat([reference["region"], current["region"]]).fillna("(missing)"),
                         np.repeat([0, 1], [800, 700]))
    tests = {t.test: t for t in region.tests}
    statistic, p_value, _, _ = chi2_contingency(counts.to_numpy().T, correction=False)
    assert tests["chi2"].statistic == pytest.approx(statistic, rel=1e-9)
    assert tests["chi2"].p_value == pytest.approx(p_value, rel=1e-9)
    assert tests["jensen_shannon"].statistic == pytest.approx(jensenshannon(counts[0], counts[1]), rel=1e-9)
    assert "(missing)" in region.distribution.labels
    # q-values: Benjamini–Hochberg across the three columns
    p = np.array([found[c].significance.p_value for c in ("income", "region", "age")])
    q = [found[c].significance.q_value for c in ("income", "region", "age")]
    assert q == pytest.approx(np.minimum(1, np.minimum.accumulate((np.sort(p) * 3 / np.arange(1, 4))[::-1])[::-1]
                                         [np.argsort(np.argsort(p))]))


def test_a_planted_shift_is_found_and_the_rest_stays_quiet() -> None:
    found = drift_of(stream(2000, 3), stream(2000, 4, shift=1.0), ["income", "region", "age", "race"])
    assert found["income"].drifted and found["region"].drifted
    assert not found["age"].drifted and not found["race"].drifted


def test_no_drift_control_stays_within_the_false_discovery_rate() -> None:
    # 200 seeds × 6 columns drawn alike on both sides: under the global null, Benjamini–Hochberg holds the chance of
    # any significant column at the FDR (5%); the size thresholds only lower it. Allow for the binomial spread.
    seeds_with_drift = 0
    significant = 0
    for seed in range(200):
        reference, current = stream(300, seed), stream(300, 1000 + seed)
        found = drift_of(reference, current, ["income", "region", "age", "race", "sex", "p"])
        seeds_with_drift += any(d.drifted for d in found.values())
        significant += any(d.significance.q_value <= 0.05 for d in found.values())
    assert significant <= 20  # 5% of 200 is 10; P(X > 20) < 0.1% for Binomial(200, 0.05)
    assert seeds_with_drift <= significant


def test_a_small_but_significant_shift_is_not_called_drift() -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=200_000)})
    current = pd.DataFrame({"x": rng.normal(0.03, size=200_000)})
    x = drift_of(reference, current, ["x"])["x"]
    assert x.significance.q_value < 1e-6 and not x.drifted  # 0.03 SD: significant, below the 0.1 SD threshold
    assert drift_of(reference, current, ["x"], min_wasserstein=0.02)["x"].drifted


def test_constant_and_empty_columns_are_not_tested_and_say_why() -> None:
    reference = pd.DataFrame({"same": [1.0] * 50, "gone": [1.0] * 50, "one": ["a"] * 50, "const_ref": [2.0] * 50})
    current = pd.DataFrame({"same": [1.0] * 40, "gone": [np.nan] * 40, "one": ["a"] * 40,
                            "const_ref": np.linspace(0, 4, 40)})
    found = drift_of(reference, current, ["same", "gone", "one", "const_ref"])
    assert found["same"].drifted is None and "one value in both" in found["same"].note
    assert found["gone"].drifted is None and found["gone"].note == "no values in the current rows"
    assert found["one"].drifted is None
    assert found["const_ref"].drifted is True and "constant in the reference" in found["const_ref"].note


def evaluate(current: pd.DataFrame, reference: pd.DataFrame | None, **monitoring: object) -> reportgen.Evaluation:
    table = {"data": reference, **monitoring} if reference is not None else monitoring
    return reportgen.evaluate(current, label="y", score="p", prediction="pred", slices=[{"column": "sex"}],
                              resamples=200, monitoring=table)


def test_columns_roles_and_skipped() -> None:
    reference, current = stream(600, 5), stream(600, 6)
    reference["row_id"], current["row_id"] = np.arange(600), np.arange(600, 1200)
    m = evaluate(current, reference, time="scored_at").monitoring
    roles = {c.column: c.role for c in m.columns}
    assert roles["p"] == "score" and roles["pred"] == "prediction" and roles["y"] == "label"
    assert [c.column for c in m.columns][-3:] == ["p", "pred", "y"]
    assert {c.kind for c in m.columns if c.column in ("pred", "y")} == {"category"}
    assert "identifier" in m.skipped["row_id"] and "time column" in m.skipped["scored_at"]
    assert {c.column for c in m.inputs} == {"sex", "race", "age", "income", "region"}


def test_performance_per_window_equals_scikit_learn_on_each_windows_rows() -> None:
    reference, current = stream(900, 7), stream(1500, 8, days=150)
    m = evaluate(current, reference, time="scored_at", window="MS").monitoring
    months = pd.to_datetime(current["scored_at"]).dt.strftime("%Y-%m")
    assert m.windows == sorted(months.unique())
    by_metric = {(s.metric, s.slice, s.group): s for s in m.performance}
    for index, window in enumerate(m.windows):
        rows = current[months == window]
        accuracy = by_metric["accuracy", "overall", "overall"].values[index]
        assert accuracy.n == len(rows)
        assert accuracy.value == pytest.approx(accuracy_score(rows["y"], rows["pred"]), abs=1e-12)
        auc = by_metric["roc_auc", "overall", "overall"].values[index]
        assert auc.value == pytest.approx(roc_auc_score(rows["y"], rows["p"]), abs=1e-12)
        assert auc.ci_low <= auc.value <= auc.ci_high
        female = by_metric["accuracy", "sex", "female"].values[index]
        part = rows[rows["sex"] == "female"]
        assert female.value == pytest.approx(accuracy_score(part["y"], part["pred"]), abs=1e-12)
    level = by_metric["accuracy", "overall", "overall"]
    assert level.reference == pytest.approx(accuracy_score(reference["y"], reference["pred"]), abs=1e-12)
    assert level.reference_low < level.reference < level.reference_high


def test_a_window_without_rows_is_a_gap_not_a_zero() -> None:
    current = stream(400, 9, days=90)
    current = current[~pd.to_datetime(current["scored_at"]).dt.month.eq(2)]  # no rows in February
    m = evaluate(current, stream(400, 10), time="scored_at", window="MS").monitoring
    february = m.windows.index("2024-02")
    for s in m.performance:
        value = s.values[february]
        assert value.n == 0 and value.value is None and value.undefined_reason == "no rows in this group"
    assert all(row[february] is None for row in m.by_window.psi)


def test_without_reference_performance_is_followed_and_the_card_says_so() -> None:
    m = evaluate(stream(500, 11), None, time="scored_at").monitoring
    assert m.reference is None and m.columns == [] and m.window == "W"  # 180 days: weekly by default
    assert all(s.reference is None for s in m.performance)


def test_a_reference_without_labels_is_compared_and_its_performance_skipped() -> None:
    reference = stream(500, 12).drop(columns="y")
    m = evaluate(stream(500, 13), reference, time="scored_at").monitoring
    assert not m.reference_labels and "no labels" in m.notes[0]
    assert m.skipped["y"] == "not in the reference"
    assert all(s.reference is None for s in m.performance)


def test_random_columns_raise_findings_at_most_at_the_false_discovery_rate() -> None:
    # 40 cards whose every column is drawn alike on both sides: a drift finding is a false discovery, which the
    # multiplicity policy allows in about 5% of cards (expected 2; P(more than 6) < 0.4% for Binomial(40, 0.05))
    cards_with_findings = 0
    for seed in range(40):
        reference, current = stream(400, 100 + seed), stream(400, 200 + seed)
        rng = np.random.default_rng(seed)
        reference["noise"], current["noise"] = rng.normal(size=400), rng.normal(size=400)
        ev = evaluate(current, reference, time="scored_at")
        cards_with_findings += any(f.section == "monitoring" for f in ev.findings)
    assert cards_with_findings <= 6


def test_a_planted_drift_is_a_finding_that_says_when_it_started() -> None:
    reference = stream(1500, 14)
    early, late = stream(1500, 15, start="2024-01-01", days=90), stream(1500, 16, start="2024-04-01", days=90, shift=1)
    ev = evaluate(pd.concat([early, late], ignore_index=True), reference, time="scored_at", window="MS")
    finding = next(f for f in ev.findings if f.id == "data_drift")
    assert finding.title == '1 of 5 input columns drifted from the reference: "income".'
    assert "first in window 2024-04" in finding.detail  # half the rows moved by 1 SD: 0.5 SD over all, from April
    assert [e.group for e in finding.evidence] == ["income"]
    by_window = ev.monitoring.by_window
    region = by_window.drifted[by_window.columns.index("region")]
    assert region[:3] == [False] * 3 and any(region[3:])  # region's shares moved from April, diluted over all months
    family = next(f for f in ev.test_families if f.name == "drift")
    assert family.tests == 8 and family.discoveries >= 2  # 5 inputs, the score, the prediction and the label


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.drop(columns=["age", "race"]), r'^reference data frame: no column "race", "age", which '
                                                r"the predictions have; add them to the reference, or list the columns "
                                                r"to compare in monitoring\[\"columns\"\]$"),
    (lambda r: r.assign(age=r["age"].astype(str)), r'"age" \(text here, numbers in data frame\)'),
])
def test_a_reference_that_does_not_fit_is_a_one_line_error(change, message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(stream(300, 17), change(stream(300, 18)))


def test_times_that_do_not_parse_are_a_one_line_error_with_count_and_example() -> None:
    current = stream(300, 19)
    current.loc[[3, 7], "scored_at"] = "yesterday"
    with pytest.raises(InputError, match=r'^data frame: column "scored_at" \(monitoring\["time"\]\): 2 values not ISO '
                                         r'dates or times, e\.g\. "yesterday"; write them as 2024-05-06'):
        reportgen.evaluate(current, label="y", score="p", resamples=200, monitoring={"time": "scored_at"})


@pytest.mark.parametrize(("table", "message"), [
    ({"window": "7D"}, r'"window" needs "time"'),
    ({"time": "scored_at", "window": "2MS"}, r'monitoring\["window"\]: "2MS" is not a window'),
    ({"time": "when"}, r'no column "when" \(monitoring\["time"\]\)'),
    ({"columns": []}, r'monitoring\["columns"\]: no columns'),
])
def test_bad_monitoring_keys_are_one_line_errors(table: dict, message: str) -> None:
    with pytest.raises((ConfigError, InputError), match=message):
        reportgen.evaluate(stream(200, 20), label="y", score="p", resamples=200, monitoring=table)


def degraded(n: int, seed: int, *, start: str, days: int, flip: float) -> pd.DataFrame:
    """A stream whose labels are flipped on a share `flip` of rows: the model's performance falls."""
    frame = stream(n, seed, start=start, days=days)
    rng = np.random.default_rng(seed + 7)
    frame["y"] = np.where(rng.random(n) < flip, 1 - frame["y"], frame["y"])
    return frame


def test_a_planted_performance_drop_is_found_and_dated() -> None:
    # weekly windows from 2024-01-01 (2024-W01); from 2024-05-01 (in 2024-W18) a quarter of the labels flip
    current = pd.concat([degraded(2000, 2, start="2024-01-01", days=120, flip=0.0),
                         degraded(2000, 3, start="2024-05-01", days=120, flip=0.25)], ignore_index=True)
    ev = evaluate(current, stream(2000, 1), time="scored_at", window="W")
    m = ev.monitoring
    finding = next(f for f in ev.findings if f.id == "performance_drop")
    assert finding.title.startswith("Performance fell significantly below the reference from window 2024-W18")
    accuracy = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall")
    assert accuracy.below_reference and all(m.windows.index(w) >= m.windows.index("2024-W18")
                                            for w in accuracy.below_reference)
    worse = {(c.detector, c.metric): c for c in m.changes if c.worse}
    # each key metric's series (a drop of about 2 standard errors a week): Page-Hinkley alarms 6 windows on, ADWIN,
    # which waits for its bound, 12; both date the start from the stretch up to their alarm
    for detector, delay in (("page_hinkley", 8), ("adwin", 15)):
        change = worse[detector, "accuracy"]
        assert change.start == "2024-W18" and change.after < change.before
        assert 0 <= m.windows.index(change.window) - m.windows.index("2024-W18") <= delay
    assert abs(m.windows.index(worse["ddm", "error_rate"].start) - m.windows.index("2024-W18")) <= 1
    assert worse["ddm", "error_rate"].after > worse["ddm", "error_rate"].before
    family = next(f for f in ev.test_families if f.name == "performance by window")
    assert family.tests == m.performance_tests and family.discoveries >= len(accuracy.below_reference)
    assert "Page-Hinkley on Accuracy" in finding.detail
    summary = ev.to_markdown()  # the pull-request summary says it too
    assert (f"Accuracy significantly below the reference in {len(accuracy.below_reference)} "
            f"(from {accuracy.below_reference[0]})") in summary
    assert "0 of 5 input columns drifted" in summary


def test_a_stationary_stream_raises_no_performance_finding() -> None:
    alarms_for_the_worse = 0
    for seed in range(15):
        ev = evaluate(stream(3000, 300 + seed), stream(2000, 400 + seed), time="scored_at", window="W")
        assert not [f for f in ev.findings if f.id == "performance_drop"]
        alarms_for_the_worse += sum(c.worse for c in ev.monitoring.changes)
    # 15 streams × (3 key metrics × 2 detectors + 2 row detectors): the detectors' settings keep alarms rare
    assert alarms_for_the_worse <= 3


def test_monitoring_gates_read_the_card() -> None:
    current = pd.concat([degraded(2000, 2, start="2024-01-01", days=120, flip=0.0),
                         degraded(2000, 3, start="2024-05-01", days=120, flip=0.25, ).assign(
                             income=lambda f: f["income"] + 10_000)], ignore_index=True)
    gates = [{"drift_share": 0.1}, {"drift": "income"}, {"drift": "race"},
             {"metric": "accuracy", "windows": "every", "min": 0.55},
             {"metric": "accuracy", "windows": "latest", "below_reference": True},
             {"metric": "roc_auc", "windows": "every", "below_reference": True}]
    ev = reportgen.evaluate(current, label="y", score="p", prediction="pred", resamples=200, gates=gates,
                            monitoring={"data": stream(2000, 1), "time": "scored_at", "window": "W"})
    share, income, race, every, latest, auc = ev.gates
    m = ev.monitoring
    assert (share.status, share.checks[0].value) == ("fail", m.drift_share) and m.drift_share == 0.2  # 1 of 5
    assert income.status == "fail" and income.checks[0].breached and race.status == "pass"
    values = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall").values
    assert [c.subject for c in every.checks] == m.windows
    assert every.status == ("fail" if min(v.value for v in values) < 0.55 else "pass")
    accuracy_below = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall").below_reference
    assert [c.subject for c in latest.checks] == [m.windows[-1]]
    assert latest.status == ("fail" if m.windows[-1] in accuracy_below else "pass")
    below = next(s for s in m.performance if s.metric == "roc_auc" and s.slice == "overall").below_reference
    assert [c.subject for c in auc.checks if c.passed is False] == below and auc.status == "fail"


@pytest.mark.parametrize(("gate", "monitoring", "message"), [
    ({"drift": "age"}, {}, r'^evaluate\(\): gates\[0\]\["drift"\]: needs monitoring\["reference"\]$'),
    ({"metric": "accuracy", "windows": "every", "min": 0.5}, {"data": None},
     r'gates\[0\]\["windows"\]: needs monitoring\["time"\]$'),
    ({"drift": "age", "min": 0.5}, {}, r'"drift" is a gate of its own: give it without "min"'),
    ({"metric": "accuracy", "below_reference": True, "min": 0.5}, {}, r'"below_reference" goes with "windows"'),
    ({"drift": "agee"}, {"data": "same"}, r'gates\[0\]\["drift"\]: the report has no drift test of column "agee"; .*did you mean "age"\?$'),
])
def test_monitoring_gates_that_do_not_fit_are_one_line_errors(gate: dict, monitoring: dict, message: str) -> None:
    current = stream(300, 21)
    table = {key: current if value == "same" else value for key, value in monitoring.items() if value is not None}
    with pytest.raises(ConfigError, match=message):
        ev = reportgen.evaluate(current, label="y", score="p", resamples=200, gates=[gate], monitoring=table)
        ev.to_report()


def test_rows_without_labels_are_compared_and_estimated_not_measured() -> None:
    current = stream(1500, 22, days=150)
    late = pd.to_datetime(current["scored_at"]) >= "2024-05-01"
    current["y"] = current["y"].astype("float64").where(~late)  # the labels of May have not arrived
    ev = evaluate(current, stream(1500, 23), time="scored_at", window="MS")
    m = ev.monitoring
    assert ev.predictions.frame.shape[0] == (~late).sum() and m.current_rows == len(current)
    may = m.windows.index("2024-05")
    assert m.unlabelled[may] == late.sum() and sum(m.unlabelled) == late.sum()
    accuracy = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall")
    assert accuracy.values[may].n == 0 and accuracy.values[may].value is None
    expected = np.where(current.loc[late, "p"] >= 0.5, current.loc[late, "p"], 1 - current.loc[late, "p"]).mean()
    assert accuracy.values[may].estimate == pytest.approx(expected, rel=1e-9)  # every row of the window
    income = next(c for c in m.columns if c.column == "income")
    assert income.n_current == len(current)  # drift over every current row
    label = next(c for c in m.columns if c.column == "y")
    assert label.n_current == (~late).sum() and not label.drifted  # the missing labels are not a category
    assert "without a label yet" in m.notes[0]


def test_rows_without_labels_are_an_error_without_monitoring() -> None:
    current = stream(300, 24).astype({"y": "float64"})
    current.loc[5, "y"] = np.nan
    with pytest.raises(InputError, match=r'column "y": 1 missing value \(row 6\); fill or drop them'):
        reportgen.evaluate(current, label="y", score="p", resamples=200)
    with pytest.raises(InputError, match=r"no row has a label"):
        evaluate(current.assign(y=np.nan), stream(300, 25), time="scored_at")


def test_hostile_names_and_values_stay_text_in_the_card() -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    reference, current = stream(400, 26), stream(400, 27, shift=1.0)
    for frame in (reference, current):
        frame[hostile] = frame["region"] + hostile
    ev = evaluate(current, reference, time="scored_at", window="MS")
    assert hostile in [c.column for c in ev.monitoring.columns]
    tags = html_tags(ev.to_html())
    assert not [name for name, _ in tags if name in ("script", "img", "iframe")]
    assert not [key for _, attributes in tags for key in attributes if key.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in ev.to_html()


def test_too_many_windows_is_an_error_before_any_is_labelled() -> None:
    current = stream(300, 28)
    current["scored_at"] = current["scored_at"].str[:10]  # dates
    current.loc[0, "scored_at"] = "1525-01-01"  # one second windows over 500 years
    with pytest.raises(InputError, match=r'window "1s" makes .* more than monitoring\["max_windows"\] ?= ?1000; '
                                         r"use a longer window$"):
        evaluate(current, None, time="scored_at", window="1s")


def test_a_date_pandas_cannot_hold_beside_nanosecond_times_is_named_as_such() -> None:
    current = stream(300, 32)  # times to the nanosecond
    current.loc[0, "scored_at"] = "1525-01-01"
    with pytest.raises(InputError, match=r'1 time such as "1525-01-01" out of the range pandas holds beside times '
                                         r"given to the nanosecond \(1677 to 2262\); write the times to the microsecond$"):
        evaluate(current, None, time="scored_at")


def test_a_listed_column_of_many_categories_is_tested_and_drawn_capped() -> None:
    rng = np.random.default_rng(29)
    reference = stream(3000, 30).assign(code=rng.integers(0, 2000, 3000).astype(str))
    current = stream(3000, 31).assign(code=rng.integers(0, 2000, 3000).astype(str))
    m = evaluate(current, reference, columns=["code", "age"]).monitoring
    code = next(c for c in m.columns if c.column == "code")
    assert code.drifted is False and code.significance.p_value is not None
    assert len(code.distribution.labels) == 13 and code.distribution.labels[-1] == "(other)"


def test_an_estimated_metric_gate_checks_the_windows_without_labels() -> None:
    current = stream(1500, 33, days=150)
    late = pd.to_datetime(current["scored_at"]) >= "2024-05-01"
    current["y"] = current["y"].astype("float64").where(~late)
    gates = [{"metric": "accuracy", "windows": "latest", "estimated": True, "min": 0.5},
             {"metric": "accuracy", "windows": "latest", "estimated": True, "min": 0.99},
             {"metric": "accuracy", "windows": "every", "estimated": True, "below_reference": True},
             {"metric": "accuracy", "windows": "latest", "min": 0.5}]
    ev = reportgen.evaluate(current, label="y", score="p", prediction="pred", resamples=200, gates=gates,
                            monitoring={"data": stream(1500, 34), "time": "scored_at", "window": "MS"})
    low, high, band, realised = ev.gates
    m = ev.monitoring
    may = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall").values[-1]
    assert [c.subject for c in low.checks] == ["2024-05"] and low.checks[0].value == may.estimate
    assert (low.status, high.status) == ("pass", "fail")
    assert [c.subject for c in band.checks] == m.windows
    accuracy = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall")
    assert [c.passed for c in band.checks] == [not (v.estimate_high < accuracy.reference_low) for v in accuracy.values]
    assert realised.checks[0].subject == "2024-04"  # the latest window with a realised value
    assert "estimated from the probabilities" in low.title


def test_an_estimated_gate_on_a_metric_without_estimates_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r'gates\[0\]\["estimated"\]: Balanced accuracy is not estimated'):
        reportgen.evaluate(stream(300, 35), label="y", score="p", resamples=200, monitoring={"time": "scored_at"},
                           gates=[{"metric": "balanced_accuracy", "windows": "every", "estimated": True, "min": 0.5}]
                           ).to_report()


def test_multiclass_and_regression_are_monitored_too() -> None:
    rng = np.random.default_rng(37)
    n = 900
    probabilities = rng.dirichlet([2, 2, 2], n)
    classes = np.array(["a", "b", "c"])
    frame = pd.DataFrame({"y": classes[[rng.choice(3, p=p) for p in probabilities]],
                          **{f"p_{c}": probabilities[:, i] for i, c in enumerate(classes)},
                          "size": rng.normal(size=n), "when": stream(n, 38)["scored_at"]})
    ev = reportgen.evaluate(frame.iloc[300:], label="y", score_prefix="p_", resamples=200,
                            monitoring={"data": frame.iloc[:300], "time": "when", "window": "MS"})
    m = ev.monitoring
    assert {c.column: c.role for c in m.columns} == {"size": "feature", "p_a": "score", "p_b": "score",
                                                     "p_c": "score", "y": "label"}
    accuracy = next(s for s in m.performance if s.metric == "accuracy" and s.slice == "overall")
    months = pd.to_datetime(frame["when"].iloc[300:]).dt.strftime("%Y-%m")
    for value, window in zip(accuracy.values, m.windows, strict=True):
        rows = frame.iloc[300:][(months == window).to_numpy()]
        predicted = classes[np.argmax(rows[[f"p_{c}" for c in classes]].to_numpy(), axis=1)]
        assert value.value == pytest.approx(accuracy_score(rows["y"], predicted), abs=1e-12)
        assert value.estimate == pytest.approx(rows[[f"p_{c}" for c in classes]].max(axis=1).mean(), rel=1e-9)
    wage = pd.DataFrame({"wage": rng.normal(100, 10, n), "predicted": rng.normal(100, 10, n),
                         "age": rng.integers(20, 60, n), "when": stream(n, 39)["scored_at"]})
    ev = reportgen.evaluate(wage.iloc[300:], label="wage", prediction="predicted", resamples=200,
                            monitoring={"data": wage.iloc[:300], "time": "when"})
    m = ev.monitoring
    assert [c.kind for c in m.columns if c.role in ("prediction", "label")] == ["number", "number"]
    assert all(v.estimate is None for s in m.performance for v in s.values)  # no probabilities: nothing estimated
    assert not [c for c in m.changes if c.metric == "error_rate"]  # DDM and EDDM watch a classifier's errors


def test_row_numbers_of_a_part_say_which_part_they_count() -> None:
    current = stream(300, 40).astype({"y": "float64"})
    current.loc[0, "y"] = np.nan
    current.loc[[5, 9], "p"] = 1.5
    with pytest.raises(InputError, match=r'column "p": 2 values? .*\(rows 5, 9\).*\(row numbers count the rows with a '
                                         r"label\)$"):
        evaluate(current, stream(300, 41), time="scored_at")
