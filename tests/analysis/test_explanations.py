"""What drives the predictions: permutation importance equals scikit-learn's on the same rows and seed, overall and
per sensitive group; a planted dominant feature ranks first and a random one does not matter; a model that does not
reproduce the predictions is said so; the card's section; the SQL engines say they did not run it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import make_column_transformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.tree import DecisionTreeClassifier

import reportgen
from reportgen.cli import main
from reportgen.document.explanations import explanations_section
from reportgen.errors import InputError
from tests.helpers import section_text

FEATURES = ["strong", "weak", "noise"]


def planted(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Features where "strong" decides the label, "weak" nudges it and "noise" is random; a sensitive column."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.normal(size=n) for name in FEATURES})
    frame["sex"] = rng.choice(["f", "m"], n)
    frame["y"] = (2 * frame["strong"] + 0.4 * frame["weak"] + rng.normal(size=n) > 0).astype(int)
    frame["target"] = 3 * frame["strong"] + frame["weak"] + rng.normal(size=n)
    frame["kind"] = np.select([frame["strong"] > 0.5, frame["strong"] < -0.5], ["high", "low"], "mid")
    return frame


def test_binary_importance_is_scikit_learns_overall_and_per_group() -> None:
    data = planted()
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    found = reportgen.evaluate(data, label="y", score="p", sensitive=["sex"], resamples=100,
                               model={"fitted": model, "features": FEATURES}, explanations={"repeats": 4},
                               error_analysis={"enabled": False}).results["explanations"]
    assert (found.metric, found.rows, found.total_rows, found.reproduced) == ("roc_auc", 2000, 2000, 1.0)
    oracle = permutation_importance(model, data[FEATURES], data["y"], scoring="roc_auc", n_repeats=4,
                                    random_state=found.seed)
    by_feature = {i.feature: i for i in found.overall}
    for k, feature in enumerate(FEATURES):
        assert by_feature[feature].value == pytest.approx(oracle.importances_mean[k], rel=1e-12, abs=1e-15)
        sd = np.std(oracle.importances[k], ddof=1)
        half = 3.182446305284263 * sd / 2  # t(0.975, 3) × sd / √4
        assert by_feature[feature].ci_high - by_feature[feature].value == pytest.approx(half, rel=1e-9, abs=1e-15)
    assert [i.feature for i in found.overall][0] == "strong"
    noise = by_feature["noise"]
    assert abs(noise.value) < 0.01 and noise.ci_low <= 0.0 or noise.value < 0.002
    for group in found.groups:  # the same shuffles among all rows, the ROC AUC of the group's rows
        rows = (data["sex"] == group.group).to_numpy()

        def group_auc(estimator: object, X: pd.DataFrame, y: pd.Series, rows: np.ndarray = rows) -> float:
            return roc_auc_score(y[rows], estimator.predict_proba(X[rows])[:, 1])

        theirs = permutation_importance(model, data[FEATURES], data["y"], scoring=group_auc, n_repeats=4,
                                        random_state=found.seed)
        mine = {i.feature: i.value for i in group.importances}
        assert [mine[f] for f in FEATURES] == pytest.approx(list(theirs.importances_mean), rel=1e-12, abs=1e-15)
        assert group.n == rows.sum()
    assert [(g.column, g.group) for g in found.groups] == [("sex", "f"), ("sex", "m")]


def test_regression_and_multiclass_importance_is_scikit_learns() -> None:
    data = planted(800, seed=1)
    forest = RandomForestRegressor(n_estimators=20, random_state=0).fit(data[FEATURES], data["target"])
    data["predicted"] = forest.predict(data[FEATURES])
    found = reportgen.evaluate(data, label="target", prediction="predicted", resamples=100,
                               model={"fitted": forest, "features": FEATURES}, explanations={"repeats": 3},
                               error_analysis={"enabled": False}).results["explanations"]
    oracle = permutation_importance(forest, data[FEATURES], data["target"], scoring="neg_mean_absolute_error",
                                    n_repeats=3, random_state=found.seed)
    assert found.metric == "mae" and found.reproduced == 1.0
    assert [i.value for i in sorted(found.overall, key=lambda i: FEATURES.index(i.feature))] == pytest.approx(
        list(oracle.importances_mean), rel=1e-12)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data[FEATURES], data["kind"])
    data["kind_predicted"] = tree.predict(data[FEATURES])
    found = reportgen.evaluate(data, label="kind", prediction="kind_predicted", task="multiclass", resamples=100,
                               model={"fitted": tree, "features": FEATURES}, explanations={"repeats": 3},
                               error_analysis={"enabled": False}).results["explanations"]
    oracle = permutation_importance(tree, data[FEATURES], data["kind"], scoring="accuracy", n_repeats=3,
                                    random_state=found.seed)
    assert found.metric == "accuracy" and found.reproduced == 1.0 and found.overall[0].feature == "strong"
    assert [i.value for i in sorted(found.overall, key=lambda i: FEATURES.index(i.feature))] == pytest.approx(
        list(oracle.importances_mean), rel=1e-12, abs=1e-15)


def test_a_sample_of_rows_is_seeded_and_stated() -> None:
    data = planted(3000)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    options = {"label": "y", "score": "p", "resamples": 100, "model": {"fitted": model, "features": FEATURES},
               "explanations": {"max_rows": 500, "repeats": 2}, "error_analysis": {"enabled": False}}
    first, second = (reportgen.evaluate(data, **options).results["explanations"] for _ in range(2))
    assert first.rows == 500 and first.overall == second.overall
    assert "on a seeded sample of 500 of the 3,000 rows" in explanations_section(
        first).paragraphs[1]


def test_a_model_that_does_not_give_the_predictions_is_a_finding() -> None:
    data = planted()
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    other = LogisticRegression().fit(data[["strong", "weak", "noise"]].iloc[:200], data["y"].iloc[:200])
    found = reportgen.evaluate(data, label="y", score="p", resamples=100, model={"fitted": other, "features": FEATURES},
                               explanations={"repeats": 2}, error_analysis={"enabled": False})
    assert found.results["explanations"].reproduced < 0.5
    assert [f.id for f in found.findings if f.section == "explanations"] == ["model_mismatch"]


def test_features_the_data_lacks_or_the_model_was_not_fitted_on_are_refused() -> None:
    data = planted(300)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    for features, words in ((["strong", "weak", "income"], 'data frame: no column "income" (model["features"])'),
                            (["weak", "strong", "noise"], "fitted model: the model was fitted on the columns")):
        with pytest.raises(InputError) as raised:
            reportgen.evaluate(data, label="y", score="p", resamples=100, model={"fitted": model, "features": features})
        assert str(raised.value).startswith(words) and "\n" not in str(raised.value)


def _project(tmp_path: Path, data: pd.DataFrame, model: object, engine: str = "numpy") -> Path:
    data.to_csv(tmp_path / "predictions.csv", index=False)
    skops.io.dump(model, tmp_path / "model.skops")
    config = tmp_path / "config.toml"
    config.write_text(f'[report]\noutput_dir = "out"\nengine = "{engine}"\nresamples = 100\n'
                      '[model]\nartifact = "model.skops"\nfeatures = ["strong", "weak", "noise"]\n'
                      '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'
                      '[fairness]\nsensitive = ["sex"]\n[explanations]\nrepeats = 3\n')
    return config


def test_the_card_shows_what_drives_the_predictions(tmp_path: Path) -> None:
    data = planted(600)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    assert main(["build", str(_project(tmp_path, data, model)), "-q"]) == 0
    section = section_text((tmp_path / "out" / "report.html").read_text(), "explanations")
    assert "What drives the predictions" in section and "loaded with skops' secure loader" in section
    assert section.index(">strong<") < section.index(">weak<") < section.index(">noise<")
    assert "sex = f (n = " in section and "Importance (drop in ROC AUC)" in section
    assert 'id="chart-explanations-importance"' in section  # the chart, drawn from the section's table
    assert 'id="chart-explanations-dependence-0"' in section and ">Partial dependence (" not in section  # drawn only
    sections = json.loads((tmp_path / "out" / "report.json").read_text())["sections"]
    assert [s["analysis"] for s in sections] == ["explanations", "surrogate", "proxies"]  # features, a sensitive column


def test_an_sql_engine_says_it_did_not_explain(tmp_path: Path) -> None:
    data = planted(300)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    assert main(["build", str(_project(tmp_path, data, model, engine="duckdb")), "-q", "--format", "json"]) == 0
    found = json.loads((tmp_path / "out" / "report.json").read_text())
    assert found["sections"] == []
    notes = found["run"]["engine"]["notes"]
    assert any(note.startswith("not run: explanations") for note in notes)
    assert any(note.startswith("not run: proxies") for note in notes)


def test_an_artifact_outside_the_project_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = planted(300)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    project = tmp_path / "project"
    project.mkdir()
    config = _project(project, data, model)
    config.write_text(config.read_text().replace('artifact = "model.skops"', 'artifact = "../outside.skops"'))
    skops.io.dump(model, tmp_path / "outside.skops")
    assert main(["build", str(config), "-q"]) == 2
    assert "[model] artifact" in capsys.readouterr().err and not (project / "out").exists()


def test_a_model_that_cannot_predict_on_the_features_is_a_one_line_error() -> None:
    data = planted(300)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    data["weak"] = data["weak"].map(lambda v: f"w{v:.3f}")  # text where the model was fitted on numbers
    with pytest.raises(InputError) as raised:
        reportgen.evaluate(data, label="y", score="p", resamples=100, model={"fitted": model, "features": FEATURES})
    assert str(raised.value).startswith('fitted model: the model could not predict on model["features"] (')  # the
    # error's type depends on the versions (ValueError, or TypeError with the oldest lock's numpy)
    assert "\n" not in str(raised.value)


def test_a_group_of_one_class_is_left_out_and_said_so() -> None:
    data = planted(1200)
    data["region"] = np.where(np.arange(1200) < 100, "tiny", "main")
    data.loc[data["region"] == "tiny", "y"] = 0  # no positive: no ROC AUC in that group
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    found = reportgen.evaluate(data, label="y", score="p", sensitive=["region"], resamples=100,
                               model={"fitted": model, "features": FEATURES}, explanations={"repeats": 2},
                               error_analysis={"enabled": False}).results["explanations"]
    assert [g.group for g in found.groups] == ["main"]
    assert '"region": 1 group left out (tiny: one class only, no ROC AUC).' in found.notes


def test_partial_dependence_and_ice_are_scikit_learns() -> None:
    data = planted(600)
    data["colour"] = np.where(data["strong"] > 0, "red", np.where(data["weak"] > 0, "green", "blue"))
    data.loc[data.index % 25 == 0, "colour"] = np.nan  # missing: a value of its own to the model, not on the grid
    features = ["strong", "colour", "noise"]
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
                          LogisticRegression()).fit(data[features], data["y"])
    data["p"] = model.predict_proba(data[features])[:, 1]
    found = reportgen.evaluate(data, label="y", score="p", sensitive=["sex"], resamples=100,
                               model={"fitted": model, "features": features},
                               explanations={"repeats": 2, "dependence_features": 3, "grid": 7},
                               error_analysis={"enabled": False}).results["explanations"]
    assert found.output == "probability of 1"
    assert [(d.feature, d.group) for d in found.dependence] == [
        (f, g) for f in [i.feature for i in found.overall] for g in ("overall", "f", "m")]
    assert {d.feature for d in found.dependence} == set(features)
    overall_grid: dict[str, list[float]] = {}
    for d in found.dependence:
        rows = data if d.group == "overall" else data[data["sex"] == d.group]
        categorical = d.feature == "colour"
        if categorical:
            grid = {"custom_values": {"colour": ["blue", "green", "red"]}, "categorical_features": ["colour"]}
        elif d.group == "overall":
            grid = {"grid_resolution": 7}
        else:  # a group's curves lie on the overall grid, to be drawn on one axis
            grid = {"custom_values": {d.feature: overall_grid[d.feature]}}
        theirs = partial_dependence(model, rows[features], [d.feature], kind="both", method="brute", **grid)
        if d.group == "overall":
            overall_grid[d.feature] = d.grid
        assert d.grid == (["blue", "green", "red"] if categorical else
                          pytest.approx(list(theirs["grid_values"][0]), rel=1e-12))
        assert d.average == pytest.approx(list(theirs["average"][0]), rel=1e-12)
        bands = np.quantile(theirs["individual"][0], [0.1, 0.5, 0.9], axis=0)
        assert np.allclose(d.ice, bands, rtol=1e-12, atol=0)


def test_an_integer_feature_is_followed_as_numbers() -> None:
    """scikit-learn refuses partial dependence on integer columns (its grid lies between the integers): the column
    is read as floats, which the model takes as it took the integers."""
    data = planted(500)
    data["strong"] = np.round(4 * data["strong"]).astype(np.int64)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    found = reportgen.evaluate(data, label="y", score="p", resamples=100, model={"fitted": model, "features": FEATURES},
                               explanations={"repeats": 2, "dependence_features": 1},
                               error_analysis={"enabled": False}).results["explanations"]
    theirs = partial_dependence(model, data[FEATURES].astype({"strong": np.float64}), ["strong"], grid_resolution=20,
                                method="brute")
    assert found.dependence[0].feature == "strong" and found.reproduced == 1.0
    assert found.dependence[0].grid == pytest.approx(list(theirs["grid_values"][0]), rel=1e-12)
    assert found.dependence[0].average == pytest.approx(list(theirs["average"][0]), rel=1e-12)


def test_a_feature_mostly_of_one_value_is_followed_from_its_least_to_its_greatest() -> None:
    """Capital gains are 0 on over 95% of rows: scikit-learn cannot lay a grid between the 5th and 95th percentiles,
    so it lies between the least and the greatest value."""
    data = planted(1000)
    rng = np.random.default_rng(3)
    data["strong"] = np.where(rng.random(1000) < 0.96, 0.0, rng.uniform(1, 50, 1000))
    data["y"] = ((data["strong"] > 10) | (rng.random(1000) < 0.2)).astype(int)
    model = LogisticRegression().fit(data[FEATURES], data["y"])
    data["p"] = model.predict_proba(data[FEATURES])[:, 1]
    found = reportgen.evaluate(data, label="y", score="p", resamples=100, model={"fitted": model, "features": FEATURES},
                               explanations={"repeats": 2, "dependence_features": 1},
                               error_analysis={"enabled": False}).results["explanations"]
    with pytest.raises(ValueError, match="percentiles are too close"):
        partial_dependence(model, data[FEATURES], ["strong"], grid_resolution=20, method="brute")
    theirs = partial_dependence(model, data[FEATURES], ["strong"], percentiles=(0, 1), grid_resolution=20,
                                method="brute")
    strong = found.dependence[0]
    assert strong.feature == "strong" and strong.grid[0] == 0.0 and strong.grid[-1] == data["strong"].max()
    assert strong.grid == pytest.approx(list(theirs["grid_values"][0]), rel=1e-12)
    assert strong.average == pytest.approx(list(theirs["average"][0]), rel=1e-12)


def test_partial_dependence_follows_the_positive_class_and_the_regression_value() -> None:

    data = planted(500)
    data["outcome"] = np.where(data["y"] == 1, "bad", "good")  # the positive label "bad" is the model's first class
    model = LogisticRegression().fit(data[FEATURES], data["outcome"])
    data["p_bad"] = model.predict_proba(data[FEATURES])[:, 0]
    found = reportgen.evaluate(data, label="outcome", score="p_bad", positive_label="bad", resamples=100,
                               model={"fitted": model, "features": FEATURES}, explanations={"repeats": 2},
                               error_analysis={"enabled": False}).results["explanations"]
    theirs = partial_dependence(model, data[FEATURES], ["strong"], grid_resolution=20, method="brute")
    assert found.reproduced == 1.0 and found.output == "probability of bad"
    strong = next(d for d in found.dependence if d.feature == "strong")
    assert strong.average == pytest.approx(list(1 - theirs["average"][0]), rel=1e-12)  # of "bad", not of "good"
    forest = RandomForestRegressor(n_estimators=10, random_state=0).fit(data[FEATURES], data["target"])
    data["predicted"] = forest.predict(data[FEATURES])
    found = reportgen.evaluate(data, label="target", prediction="predicted", resamples=100,
                               model={"fitted": forest, "features": FEATURES}, explanations={"repeats": 2},
                               error_analysis={"enabled": False}).results["explanations"]
    theirs = partial_dependence(forest, data[FEATURES], [found.overall[0].feature], grid_resolution=20,
                                method="brute")
    assert found.output == "predicted value"
    assert found.dependence[0].average == pytest.approx(list(theirs["average"][0]), rel=1e-12)


def test_a_multiclass_model_has_no_partial_dependence_and_says_so() -> None:
    data = planted(400)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(data[FEATURES], data["kind"])
    data["kind_predicted"] = tree.predict(data[FEATURES])
    found = reportgen.evaluate(data, label="kind", prediction="kind_predicted", task="multiclass", resamples=100,
                               model={"fitted": tree, "features": FEATURES}, explanations={"repeats": 2},
                               error_analysis={"enabled": False}).results["explanations"]
    assert found.dependence == [] and any(note.startswith("No partial dependence") for note in found.notes)


def _leaning_data(n: int, seed: int, lean: float) -> pd.DataFrame:
    """`planted` data where the label follows "weak" `lean` times as much for group f as for group m."""
    data = planted(n, seed)
    rng = np.random.default_rng(seed + 100)
    female = (data["sex"] == "f").to_numpy()
    data["y"] = (data["strong"] + np.where(female, lean, 1.0) * data["weak"] + rng.normal(size=n) > 0).astype(int)
    data["female"] = female.astype(np.float64)
    return data


class Leaning(ClassifierMixin, BaseEstimator):
    """A model that leans on "weak" three times as much for women, and never reads "noise"."""

    def fit(self, X: pd.DataFrame, y: pd.Series) -> Leaning:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        logit = 2 * X["strong"] + np.where(X["female"] == 1, 3.0, 1.0) * X["weak"]
        p = 1 / (1 + np.exp(-logit.to_numpy()))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _rises(model: object, X: pd.DataFrame, y: np.ndarray, repeats: int, seed: int) -> list[np.ndarray]:
    """Each feature's per-row rise in the squared error of the probability, from scikit-learn's own shuffles (among
    all rows): a scorer that records every row's loss on each call permutation_importance makes (first the
    unshuffled rows, then each feature's `repeats` shuffles)."""
    calls = []

    def scorer(estimator: object, rows: pd.DataFrame, labels: np.ndarray) -> float:
        calls.append((np.asarray(labels) - estimator.predict_proba(rows)[:, 1]) ** 2)
        return -float(np.mean(calls[-1]))

    permutation_importance(model, X, y, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1)
    return [np.mean(calls[1 + j * repeats:1 + (j + 1) * repeats], axis=0) - calls[0] for j in range(X.shape[1])]


def test_group_differences_are_welch_tests_of_scikit_learns_shuffles() -> None:
    """A model that leans on "weak" three times as much for group f: the difference is found, significant and in
    that direction; every difference, interval and p-value is scipy's Welch test on the per-row rises scikit-learn's
    own shuffles give; q is Benjamini–Hochberg's (scipy) across them."""
    from scipy import stats

    features = [*FEATURES, "female"]
    data = _leaning_data(1600, 0, lean=3.0)
    model = Leaning().fit(data[features], data["y"])
    data["p"] = model.predict_proba(data[features])[:, 1]
    evaluation = reportgen.evaluate(data, label="y", score="p", sensitive=["sex"], resamples=100,
                                    model={"fitted": model, "features": features}, explanations={"repeats": 4},
                                    error_analysis={"enabled": False})
    found = evaluation.results["explanations"]
    reference = evaluation.results["fairness"].references["sex"]
    assert found.loss == "squared_error" and {d.reference for d in found.differences} == {reference}
    other = "f" if reference == "m" else "m"
    rows = {g: (data["sex"] == g).to_numpy() for g in ("f", "m")}
    every = _rises(model, data[features], data["y"].to_numpy(), 4, found.seed)
    rises = {g: [rise[rows[g]] for rise in every] for g in ("f", "m")}
    by_feature = {d.feature: d for d in found.differences}
    assert set(by_feature) == set(features)
    for j, feature in enumerate(features):
        d = by_feature[feature]
        if feature == "noise":  # never read: no row's loss rises, nothing to test
            assert not rises[other][j].any() and not rises[reference][j].any() and d.p_value is None
            continue
        welch = stats.ttest_ind(rises[other][j], rises[reference][j], equal_var=False)
        assert (d.group, d.n, d.n_reference) == (other, rows[other].sum(), rows[reference].sum())
        assert d.difference == pytest.approx(rises[other][j].mean() - rises[reference][j].mean(), rel=1e-9, abs=1e-15)
        assert d.p_value == pytest.approx(welch.pvalue, rel=1e-9)
        assert (d.ci_low, d.ci_high) == pytest.approx(tuple(welch.confidence_interval(0.95)), rel=1e-9, abs=1e-15)
    tested = [d for d in found.differences if d.p_value is not None]
    q = stats.false_discovery_control([d.p_value for d in tested])
    assert [d.q_value for d in tested] == pytest.approx(list(q), rel=1e-12)
    weak = by_feature["weak"]
    assert weak.significant and (weak.difference > 0) == (weak.group == "f")  # leans more on "weak" for f
    assert by_feature["noise"].p_value is None and by_feature["noise"].difference == 0.0  # unused: no rise at all
    gaps = [f for f in evaluation.findings if f.id == "importance_gap"]
    assert len(gaps) == 1 and '"weak"' in gaps[0].title
    families = {family.name: family for family in evaluation.test_families}
    assert (families["importance differences"].tests, families["importance differences"].discoveries) == (
        len(tested), sum(d.significant for d in tested))


def test_groups_the_model_treats_alike_raise_no_difference() -> None:
    """Sex is random and the model does not take it: whatever the importances, no group difference is real; across
    six seeds at most one shows a significant one."""
    flagged = 0
    for seed in range(6):
        data = _leaning_data(1500, seed, lean=1.0)
        model = LogisticRegression().fit(data[FEATURES], data["y"])
        data["p"] = model.predict_proba(data[FEATURES])[:, 1]
        evaluation = reportgen.evaluate(data, label="y", score="p", sensitive=["sex"], resamples=100,
                                        model={"fitted": model, "features": FEATURES}, explanations={"repeats": 5},
                                        error_analysis={"enabled": False})
        assert len(evaluation.results["explanations"].differences) == len(FEATURES)
        flagged += any(f.id == "importance_gap" for f in evaluation.findings)
    assert flagged <= 1
