"""Precomputed attributions: the mean |attribution| and its interval equal numpy's and scipy's, overall and per
group; rows are matched on an id (a subset, in another order, with rows of no prediction) or by row order; the
group differences are scipy's Welch tests, a planted one is found and random groups raise none; the beeswarm
summary's counts are numpy's histogram and its colours the rows' mean percentile; bad files are one-line errors;
the card shows the section and its charts; the SQL engines say they did not read them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import reportgen
from reportgen.analysis.attributions import SWARM_BINS
from reportgen.cli import main
from reportgen.errors import InputError
from reportgen.metrics.intervals import skewed_mean_interval
from tests.helpers import section_text

FEATURES = ["strong", "weak", "noise"]


def planted(n: int = 1200, seed: int = 0, lean: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions of a linear scorer and its exact attributions (for a linear model with independent features,
    the SHAP values in log-odds: coefficient × (value − its mean)); "weak" counts `lean` times as much for group f."""
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({name: rng.normal(size=n) for name in FEATURES})
    data["sex"] = rng.choice(["f", "m"], n)
    data["row_id"] = np.arange(1000, 1000 + n)
    weight = np.where(data["sex"] == "f", lean, 1.0)
    contributions = pd.DataFrame({"strong": 2.0 * (data["strong"] - data["strong"].mean()),
                                  "weak": 0.5 * weight * (data["weak"] - data["weak"].mean()),
                                  "noise": 0.0 * data["noise"]})
    logit = contributions.sum(axis=1)
    data["p"] = 1 / (1 + np.exp(-logit))
    data["y"] = (rng.random(n) < data["p"]).astype(int)
    contributions["row_id"] = data["row_id"]
    return data, contributions


def _evaluate(data: pd.DataFrame, path: Path, **explanations: object) -> reportgen.Evaluation:
    return reportgen.evaluate(data, label="y", score="p", sensitive=["sex"], resamples=100,
                              explanations={"path": str(path), **explanations}, error_analysis={"enabled": False})


def test_mean_attributions_are_numpys_overall_and_per_group(tmp_path: Path) -> None:
    data, shap = planted()
    shap.to_parquet(tmp_path / "shap.parquet")
    found = _evaluate(data, tmp_path / "shap.parquet", id="row_id").results["attributions"]
    assert (found.rows, found.total_rows, found.unmatched, found.join) == (1200, 1200, 0, 'on column "row_id"')
    assert [m.feature for m in found.overall] == ["strong", "weak", "noise"]
    for m in found.overall:  # Hall's interval (tests/metrics/test_intervals.py): around the mean, longer above it
        sizes = np.abs(shap[m.feature].to_numpy())
        assert m.value == pytest.approx(sizes.mean(), rel=1e-12, abs=1e-15)
        low, high = skewed_mean_interval(np.array([sizes.sum()]), np.array([(sizes ** 2).sum()]),
                                         np.array([(sizes ** 3).sum()]), np.array([len(sizes)]), 0.95)
        assert (m.ci_low, m.ci_high) == pytest.approx((low[0], high[0]), rel=1e-12, abs=1e-15)
        assert m.ci_low <= m.value <= m.ci_high and (m.feature == "noise" or m.ci_high - m.value > m.value - m.ci_low)
    for group in found.groups:
        rows = (data["sex"] == group.group).to_numpy()
        assert group.n == rows.sum()
        assert [m.value for m in group.means] == pytest.approx(
            [np.abs(shap.loc[rows, m.feature]).mean() for m in found.overall], rel=1e-12, abs=1e-15)


def test_the_intervals_keep_their_coverage_in_small_groups(tmp_path: Path) -> None:
    """200 groups of 40 rows; |attributions| half-normal, |Laplace| and a skewed mixture (most rows near 0, a few
    large): the share of the groups' intervals that hold the population's mean |attribution| (600 intervals, a
    standard error of about 0.009)."""
    rng = np.random.default_rng(7)
    n = 8000
    shap = pd.DataFrame({"strong": rng.normal(size=n), "weak": rng.laplace(size=n),
                         "noise": np.where(rng.random(n) < 0.9, 0.1, 3.0) * rng.normal(size=n)})
    truths = {"strong": np.sqrt(2 / np.pi), "weak": 1.0, "noise": (0.9 * 0.1 + 0.1 * 3.0) * np.sqrt(2 / np.pi)}
    data = pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "region": np.repeat(np.arange(200), 40)})
    shap.to_parquet(tmp_path / "shap.parquet")
    found = reportgen.evaluate(data, label="y", score="p", sensitive=["region"], resamples=100,
                               explanations={"path": str(tmp_path / "shap.parquet")},  # every column a feature
                               error_analysis={"enabled": False}).results["attributions"]
    assert len(found.groups) == 200
    for feature, truth in truths.items():
        held = [m.ci_low <= truth <= m.ci_high for g in found.groups for m in g.means if m.feature == feature]
        assert 0.92 <= np.mean(held) <= 0.98, (feature, np.mean(held))


def test_rows_are_matched_on_the_id_a_subset_in_another_order(tmp_path: Path) -> None:
    data, shap = planted()
    subset = shap.sample(frac=0.5, random_state=1)  # half the rows, shuffled
    stray = pd.DataFrame({"strong": [9.0], "weak": [9.0], "noise": [9.0], "row_id": [999_999]})  # no such prediction
    pd.concat([subset, stray]).to_csv(tmp_path / "shap.csv", index=False)
    evaluation = _evaluate(data, tmp_path / "shap.csv", id="row_id")
    found = evaluation.results["attributions"]
    assert (found.rows, found.total_rows, found.unmatched) == (600, 1200, 1)
    kept = data["row_id"].isin(subset["row_id"]).to_numpy()
    expected = np.abs(shap.loc[kept, "strong"]).mean()
    assert next(m for m in found.overall if m.feature == "strong").value == pytest.approx(expected, rel=1e-12)
    assert "600 of the 1,200 predictions have attributions" in found.notes[0]
    assert found.notes[1].startswith("1 row of ")


def test_without_an_id_the_rows_are_the_predictions_in_order(tmp_path: Path) -> None:
    data, shap = planted(300)
    shap.drop(columns="row_id").to_csv(tmp_path / "shap.csv", index=False)
    found = _evaluate(data, tmp_path / "shap.csv").results["attributions"]
    assert found.join == "by row order" and found.rows == 300
    shap.drop(columns="row_id").iloc[:299].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(InputError, match=r'short\.csv: 299 rows, the predictions 300; set explanations\["id"\]'):
        _evaluate(data, tmp_path / "short.csv")


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: s.drop(columns="weak"), 'no column "weak" (model["features"]: one attribution column per feature)'),
    (lambda s: s.assign(weak="x"), 'column "weak" holds'),
    (lambda s: s.assign(weak=np.where(np.arange(len(s)) == 3, np.nan, s["weak"])), 'column "weak" has 1 missing'),
    (lambda s: s.assign(row_id=7), 'duplicate id'),
    (lambda s: s.assign(row_id=s["row_id"] + 10**6), "no id matches a prediction's"),
])
def test_a_bad_attributions_file_is_a_one_line_error(tmp_path: Path, change, words: str) -> None:
    data, shap = planted(200)
    change(shap).to_csv(tmp_path / "shap.csv", index=False)
    with pytest.raises(InputError) as raised:
        reportgen.evaluate(data, label="y", score="p", resamples=100, model={"features": FEATURES},
                           explanations={"path": str(tmp_path / "shap.csv"), "id": "row_id"})
    assert words in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "shap.csv"))


def test_an_id_without_a_path_is_refused() -> None:
    data, _ = planted(100)
    with pytest.raises(Exception, match="id goes with path"):
        reportgen.evaluate(data, label="y", score="p", explanations={"id": "row_id"})


def test_group_differences_are_welch_tests_and_a_planted_one_is_found(tmp_path: Path) -> None:
    data, shap = planted(1500, lean=3.0)
    shap.to_parquet(tmp_path / "shap.parquet")
    evaluation = _evaluate(data, tmp_path / "shap.parquet", id="row_id")
    found = evaluation.results["attributions"]
    reference = evaluation.results["fairness"].references["sex"]
    other = "f" if reference == "m" else "m"
    mine, theirs = (data["sex"] == other).to_numpy(), (data["sex"] == reference).to_numpy()
    by_feature = {d.feature: d for d in found.differences}
    for feature in ("strong", "weak"):
        welch = stats.ttest_ind(np.abs(shap.loc[mine, feature]), np.abs(shap.loc[theirs, feature]), equal_var=False)
        d = by_feature[feature]
        assert (d.group, d.reference) == (other, reference)
        assert d.p_value == pytest.approx(welch.pvalue, rel=1e-9)
        assert (d.ci_low, d.ci_high) == pytest.approx(tuple(welch.confidence_interval(0.95)), rel=1e-9)
    assert by_feature["noise"].p_value is None  # every attribution 0: nothing to test
    tested = [d for d in found.differences if d.p_value is not None]
    assert [d.q_value for d in tested] == pytest.approx(list(stats.false_discovery_control(
        [d.p_value for d in tested])), rel=1e-12)
    assert by_feature["weak"].significant and (by_feature["weak"].difference > 0) == (other == "f")
    gaps = [f for f in evaluation.findings if f.id == "attribution_gap"]
    assert len(gaps) == 1 and '"weak"' in gaps[0].title
    assert "attribution differences" in {family.name for family in evaluation.test_families}


def test_random_groups_raise_no_attribution_difference(tmp_path: Path) -> None:
    flagged = 0
    for seed in range(6):
        data, shap = planted(1500, seed=seed)
        shap.to_parquet(tmp_path / f"shap{seed}.parquet")
        evaluation = _evaluate(data, tmp_path / f"shap{seed}.parquet", id="row_id")
        flagged += any(f.id == "attribution_gap" for f in evaluation.findings)
    assert flagged <= 1


def test_the_beeswarm_summary_is_a_histogram_coloured_by_percentile(tmp_path: Path) -> None:
    data, shap = planted(800)
    data.loc[5, "strong"] = np.nan  # a row without a value is counted, not coloured
    shap.to_parquet(tmp_path / "shap.parquet")
    found = _evaluate(data, tmp_path / "shap.parquet", id="row_id").results["attributions"]
    strong = next(w for w in found.swarm if w.feature == "strong")
    values = shap["strong"].to_numpy()
    counts, edges = np.histogram(values, bins=SWARM_BINS, range=(values.min(), values.max()))
    assert strong.counts == counts.tolist() and sum(strong.counts) == 800
    assert strong.centers == pytest.approx(list((edges[:-1] + edges[1:]) / 2), rel=1e-12)
    percentile = data["strong"].rank(method="average").sub(1).div(data["strong"].count() - 1)
    bins = np.clip(np.digitize(values, edges) - 1, 0, SWARM_BINS - 1)
    for k in range(SWARM_BINS):
        inside = percentile[(bins == k) & data["strong"].notna().to_numpy()]
        assert strong.levels[k] == (pytest.approx(inside.mean(), rel=1e-12) if len(inside) else None)


def _project(tmp_path: Path, data: pd.DataFrame, shap: pd.DataFrame, engine: str = "numpy") -> Path:
    data.to_csv(tmp_path / "predictions.csv", index=False)
    shap.to_csv(tmp_path / "shap.csv", index=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[report]\noutput_dir = "out"\nengine = "{engine}"\nresamples = 100\n'
                      '[model]\nfeatures = ["strong", "weak", "noise"]\n'
                      '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'
                      '[fairness]\nsensitive = ["sex"]\n[explanations]\npath = "shap.csv"\nid = "row_id"\n')
    return config


def test_the_card_shows_the_attributions(tmp_path: Path) -> None:
    data, shap = planted(600, lean=3.0)
    assert main(["build", str(_project(tmp_path, data, shap)), "-q"]) == 0
    section = section_text((tmp_path / "out" / "report.html").read_text(), "attributions")
    assert "What drives the predictions: attributions" in section and "Mean |attribution|" in section
    assert section.index(">strong<") < section.index(">weak<") < section.index(">noise<")
    assert 'id="chart-attributions-importance"' in section and 'id="chart-attributions-swarm"' in section
    assert "<td>&lt; 0.001</td>" in section.replace("< 0.001", "&lt; 0.001")  # p and q columns as p-values
    sections = json.loads((tmp_path / "out" / "report.json").read_text())["sections"]
    assert [s["analysis"] for s in sections] == ["attributions", "surrogate", "proxies"]


def test_the_charts_are_valid_vega_lite(tmp_path: Path) -> None:
    import altair

    from reportgen.charts import spec
    from reportgen.figures import card_charts

    data, shap = planted(400)
    shap.to_parquet(tmp_path / "shap.parquet")
    report = _evaluate(data, tmp_path / "shap.parquet", id="row_id").to_report()
    drawn = [figure for figure in card_charts(report) if figure.id.startswith("chart-attributions")]
    assert [figure.id for figure in drawn] == ["chart-attributions-importance", "chart-attributions-swarm"]
    for figure in drawn:
        altair.Root.validate(spec(figure.chart))


def test_an_sql_engine_says_it_did_not_read_them(tmp_path: Path) -> None:
    data, shap = planted(300)
    assert main(["build", str(_project(tmp_path, data, shap, engine="duckdb")), "-q", "--format", "json"]) == 0
    notes = json.loads((tmp_path / "out" / "report.json").read_text())["run"]["engine"]["notes"]
    assert any(note.startswith("not run: attributions") for note in notes)


def test_an_attributions_file_outside_the_project_is_refused(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    data, shap = planted(300)
    project = tmp_path / "project"
    project.mkdir()
    config = _project(project, data, shap)
    config.write_text(config.read_text().replace('path = "shap.csv"', 'path = "../outside.csv"'))
    shap.to_csv(tmp_path / "outside.csv", index=False)
    assert main(["build", str(config), "-q"]) == 2
    assert "[explanations] path" in capsys.readouterr().err and not (project / "out").exists()
