"""The predictions as rules: the surrogate tree's fidelity equals scikit-learn's tree's score on the same rows and
settings (classification and regression), planted rules are recovered whole, a multiclass model has none, and the
card shows the rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import reportgen
from reportgen.cli import main


def _data(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], n), "c": rng.normal(size=n),
                         "y": rng.integers(0, 2, n)})


def _evaluate(data: pd.DataFrame, **options: object) -> reportgen.Evaluation:
    return reportgen.evaluate(data, resamples=100, model={"features": ["a", "b", "c"]},
                              error_analysis={"enabled": False}, **options)


def test_planted_rules_are_recovered_whole() -> None:
    data = _data()
    data["pred"] = ((data["a"] > 0.5) & (data["b"] == "x")).astype(int)
    data["p"] = 0.2 + 0.6 * data["pred"]
    found = _evaluate(data, label="y", score="p").results["surrogate"]
    assert found.fidelity == 1.0 and found.baseline == pytest.approx(1 - data["pred"].mean())
    positive = [rule for rule in found.rules if rule.mean == 1.0]
    assert len(positive) == 1 and positive[0].n == data["pred"].sum()
    assert any(c.startswith("a > 0.5") for c in positive[0].conditions) and 'b = "x"' in positive[0].conditions
    assert sum(rule.n for rule in found.rules) == len(data)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_fidelity_is_scikit_learns_tree_score(depth: int) -> None:
    data = _data(seed=depth)
    data["p"] = 1 / (1 + np.exp(-(2 * data["a"] - data["c"] + np.sin(3 * data["c"]))))
    options = {"label": "y", "score": "p", "explanations": {"rules_depth": depth}}
    evaluation = reportgen.evaluate(data, resamples=100, model={"features": ["a", "c"]},
                                    error_analysis={"enabled": False}, **options)
    found = evaluation.results["surrogate"]
    predicted = (data["p"] >= 0.5).astype(int)
    tree = DecisionTreeClassifier(criterion="entropy", max_depth=depth, min_samples_leaf=30, random_state=0)
    X = data[["a", "c"]].to_numpy(dtype=np.float32)
    assert found.fidelity == pytest.approx(tree.fit(X, predicted).score(X, predicted), rel=1e-12)
    assert len(found.rules) == tree.get_n_leaves()
    regression = data.assign(value=2 * data["a"] + np.sin(3 * data["c"]), target=data["a"])
    found = reportgen.evaluate(regression, label="target", prediction="value", resamples=100,
                               model={"features": ["a", "c"]}, explanations={"rules_depth": depth},
                               error_analysis={"enabled": False}).results["surrogate"]
    tree = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=30, random_state=0)
    assert found.output == "value" and found.fidelity == pytest.approx(
        tree.fit(X, regression["value"]).score(X, regression["value"]), rel=1e-9)


def test_a_multiclass_model_and_depth_zero_have_none() -> None:
    data = _data()
    data["kind"] = np.where(data["a"] > 0.5, "high", np.where(data["a"] < -0.5, "low", "mid"))
    assert _evaluate(data, label="kind", prediction="kind", task="multiclass").results["surrogate"] is None
    data["p"] = 0.2 + 0.6 * (data["a"] > 0)
    assert _evaluate(data, label="y", score="p", explanations={"rules_depth": 0}).results["surrogate"] is None


def test_the_card_shows_the_rules(tmp_path: Path) -> None:
    data = _data(1000)
    data["p"] = 0.2 + 0.6 * ((data["a"] > 0.5) & (data["b"] == "x"))
    data.to_csv(tmp_path / "predictions.csv", index=False)
    (tmp_path / "config.toml").write_text('[report]\noutput_dir = "out"\nresamples = 100\n'
                                          '[model]\nfeatures = ["a", "b", "c"]\n'
                                          '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n')
    assert main(["build", str(tmp_path / "config.toml"), "-q", "--format", "html,json"]) == 0
    html = (tmp_path / "out" / "report.html").read_text()
    assert '<section id="surrogate">' in html and "The predictions as rules" in html
    section = next(s for s in json.loads((tmp_path / "out" / "report.json").read_text())["sections"]
                   if s["analysis"] == "surrogate")
    assert "on 100.0% of the rows" in section["paragraphs"][0]
    assert section["tables"][0]["columns"][:2] == ["If", "and"]
    rules = [row[:2] for row in section["tables"][0]["rows"]]
    assert any(first.startswith("a > 0.4") and second == 'b = "x"' for first, second in rules)
