"""The error tree: a planted weakness is found, every node's rows and error match a pandas filter, bad input, the chart."""

from __future__ import annotations

import doctest
import html
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.analysis import error_tree as error_tree_module
from reportgen.analysis.error_tree import TreeNode, error_tree
from reportgen.charts import error_tree_chart
from reportgen.charts import spec as chart_spec
from reportgen.render import vega

ROWS = 4000


def chart_svg(chart: object) -> tuple[dict, str]:
    """A chart's Vega-Lite spec in the card's theme and its SVG, rendered as the card renders it."""
    spec = chart_spec(chart)
    return spec, vega.to_svgs([spec])[0]


COLUMNS = ["noise", "age", "device"]
NUMBER = re.compile(r"^(\w+) (≤|>) (\S+)( or missing)?$")
VALUE = re.compile(r'^(\w+) (=|≠) "(.*)"$')
MISSING = re.compile(r"^(\w+) is (not )?missing$")
OTHER = re.compile(r"^(\w+) (=|≠) \(other\)$")


def metadata(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "noise": rng.choice(["car", "street", "quiet"], ROWS),
        "age": rng.integers(18, 80, ROWS),
        "device": rng.choice(["a", "b"], ROWS),
    })


def planted(frame: pd.DataFrame, seed: int = 1) -> np.ndarray:
    """0/1 errors: an error rate of 0.4 where noise is "car", 0.05 elsewhere."""
    rate = np.where(frame["noise"] == "car", 0.4, 0.05)
    return (np.random.default_rng(seed).random(len(frame)) < rate).astype(np.float64)


def rows_where(frame: pd.DataFrame, condition: str) -> np.ndarray:
    """The rows a condition in words selects, read from the frame alone (not from the tree)."""
    if match := NUMBER.match(condition):
        column, op, threshold, or_missing = match.groups()
        values = frame[column].astype("float64")
        rows = (values <= float(threshold)) if op == "≤" else (values > float(threshold))
        return (rows | values.isna()).to_numpy() if or_missing else rows.fillna(False).to_numpy(dtype=bool)
    if match := VALUE.match(condition):
        column, op, value = match.groups()
        equal = frame[column].astype("string").eq(value).fillna(False).to_numpy(dtype=bool)
        return equal if op == "=" else ~equal
    if match := OTHER.match(condition):  # present, and not among the `TOP_VALUES` most frequent values
        column, op = match.groups()
        counts = frame[column].value_counts()
        kept = sorted(counts.index, key=lambda value: (-counts[value], str(value)))[: error_tree_module.TOP_VALUES]
        other = (frame[column].notna() & ~frame[column].isin(kept)).to_numpy()
        return other if op == "=" else ~other
    match = MISSING.match(condition)
    assert match, condition
    column, negated = match.groups()
    missing = frame[column].isna().to_numpy()
    return ~missing if negated else missing


def check_nodes(nodes: list[TreeNode], frame: pd.DataFrame, errors: np.ndarray) -> None:
    """Every node's n, share and error equal those of the rows its path of conditions selects."""
    masks: dict[int, np.ndarray] = {}
    for node in nodes:
        if node.parent is None:
            assert (node.id, node.depth, node.condition) == (0, 0, "all rows")
            masks[node.id] = np.ones(len(frame), dtype=bool)
        else:
            assert node.depth == nodes[node.parent].depth + 1
            masks[node.id] = masks[node.parent] & rows_where(frame, node.condition)
        mask = masks[node.id]
        assert node.n == mask.sum(), node
        assert node.share == pytest.approx(mask.mean(), rel=1e-12)
        assert node.error == pytest.approx(errors[mask].mean(), rel=1e-12), node


def children(nodes: list[TreeNode], parent: int) -> list[TreeNode]:
    return [node for node in nodes if node.parent == parent]


def test_planted_weakness_is_the_first_split() -> None:
    frame = metadata()
    errors = planted(frame)
    nodes = error_tree(frame, COLUMNS, errors)
    assert [node.condition for node in children(nodes, 0)] == ['noise ≠ "car"', 'noise = "car"']
    car = children(nodes, 0)[1]
    rows = frame["noise"] == "car"
    assert car.n == rows.sum()
    assert car.error == pd.Series(errors)[rows].mean()
    assert car.error == pytest.approx(0.4, abs=0.03)
    check_nodes(nodes, frame, errors)


def test_nodes_are_in_pre_order() -> None:
    nodes = error_tree(metadata(), COLUMNS, planted(metadata()), max_depth=4)
    assert [node.id for node in nodes] == list(range(len(nodes)))
    assert max(node.depth for node in nodes) == 4
    for node in nodes:
        below = children(nodes, node.id)
        assert node.leaf == (not below)
        if below:  # the left child follows its parent; the right one follows the left subtree
            left, right = below
            assert left.id == node.id + 1
            assert all(n.id < right.id for n in nodes if n.parent == left.id)
            assert left.n + right.n == node.n


def test_regression_splits_near_the_planted_boundary() -> None:
    frame = metadata()
    rng = np.random.default_rng(2)
    errors = np.abs(rng.normal(0, 1, ROWS)) * np.where(frame["age"] >= 60, 3.0, 1.0)
    nodes = error_tree(frame, COLUMNS, errors, classification=False)
    left, right = children(nodes, 0)
    assert (left.condition.split()[:2], right.condition.split()[:2]) == (["age", "≤"], ["age", ">"])
    assert float(left.condition.split()[2]) == pytest.approx(59.5, abs=2)
    assert right.error > 2 * left.error
    check_nodes(nodes, frame, errors)


def test_missing_values_in_a_number_and_a_category() -> None:
    frame = metadata()
    rng = np.random.default_rng(3)
    frame["age"] = frame["age"].astype("float64").mask(rng.random(ROWS) < 0.1)
    frame["noise"] = frame["noise"].mask(rng.random(ROWS) < 0.1)
    frame["device"] = frame["device"].astype("category")
    young = (frame["age"] < 30) | frame["age"].isna()
    errors = (rng.random(ROWS) < np.where(young, 0.5, 0.05)).astype(np.float64)
    nodes = error_tree(frame, COLUMNS, errors)
    assert [node.condition for node in children(nodes, 0)] == ["age ≤ 29.5 or missing", "age > 29.5"]
    check_nodes(nodes, frame, errors)
    noisy = (rng.random(ROWS) < np.where(frame["noise"].isna(), 0.5, 0.05)).astype(np.float64)
    nodes = error_tree(frame, COLUMNS, noisy)
    assert [node.condition for node in children(nodes, 0)] == ["noise is not missing", "noise is missing"]
    check_nodes(nodes, frame, noisy)


def test_rare_values_are_pooled() -> None:
    cities = [f"city {i:02d}" for i in range(error_tree_module.TOP_VALUES)]
    rare = [f"rare {i}" for i in range(10)]
    frame = pd.DataFrame({"city": np.repeat(cities, 60).tolist() + np.repeat(rare, 20).tolist()})
    errors = frame["city"].str.startswith("rare").to_numpy(dtype=np.float64)
    nodes = error_tree(frame, ["city"], errors, max_depth=1)
    assert [(node.condition, node.n, node.error) for node in nodes[1:]] == [
        ("city ≠ (other)", 3000, 0.0), ("city = (other)", 200, 1.0)
    ]


def test_no_errors_gives_the_root_alone() -> None:
    frame = metadata()
    assert error_tree(frame, COLUMNS, np.zeros(ROWS)) == [
        TreeNode(id=0, parent=None, depth=0, condition="all rows", n=ROWS, share=1.0, error=0.0, leaf=True)
    ]
    assert len(error_tree(frame, COLUMNS, np.full(ROWS, 2.5), classification=False)) == 1


def test_no_columns_is_an_error() -> None:
    with pytest.raises(ValueError, match="no columns"):
        error_tree(metadata(), [], planted(metadata()))


def test_deterministic() -> None:
    frame = metadata()
    errors = planted(frame)
    assert error_tree(frame, COLUMNS, errors, max_depth=4) == error_tree(frame, COLUMNS, errors, max_depth=4)


def test_doctest() -> None:
    assert doctest.testmod(error_tree_module).failed == 0


def test_chart_renders_the_first_split() -> None:
    nodes = error_tree(metadata(), COLUMNS, planted(metadata()))
    chart = error_tree_chart(nodes, measure="error rate")
    spec, svg = chart_svg(chart)
    text = html.unescape(str(svg))
    for node in children(nodes, 0):
        assert node.condition in text
    assert "error rate" in text
    vega.clear_cache()
    assert chart_svg(chart)[1] == svg  # same bytes again: no gradient, whose SVG id counts renders
    assert len(spec["datasets"]) == 1 and len(next(iter(spec["datasets"].values()))) == len(nodes)


def test_chart_of_the_root_alone_renders() -> None:
    nodes = error_tree(metadata(), COLUMNS, np.zeros(ROWS))
    _, svg = chart_svg(error_tree_chart(nodes, measure="mean |residual|"))
    assert "all rows" in str(svg)


def test_infinite_and_huge_numbers_go_to_their_side_of_a_split():
    frame = pd.DataFrame({"x": np.r_[np.linspace(0, 1, 200), [np.inf] * 40, [1e300] * 40, [-np.inf] * 20]})
    errors = (frame["x"] > 0.5).to_numpy(dtype=np.float64)
    nodes = error_tree(frame, ["x"], errors, max_depth=1, min_leaf=10)
    assert [(node.condition, node.n, node.error) for node in nodes[1:]] == [("x ≤ 0.5", 120, 0.0), ("x > 0.5", 180, 1.0)]


def test_grown_on_a_sample_every_node_counts_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above `MAX_FIT_ROWS` the splits come from a sample; each node's n and error still come from all the rows."""
    monkeypatch.setattr(error_tree_module, "MAX_FIT_ROWS", 1000)
    frame = metadata(4)
    rng = np.random.default_rng(5)
    frame["age"] = frame["age"].astype("float64").mask(rng.random(ROWS) < 0.1)
    errors = (rng.random(ROWS) < np.where((frame["noise"] == "car") | frame["age"].isna(), 0.5, 0.05)).astype(float)
    nodes = error_tree(frame, COLUMNS, errors, max_depth=4)
    assert nodes[0].n == ROWS and len(nodes) > 3
    check_nodes(nodes, frame, errors)


@given(seed=st.integers(0, 2**32 - 1), depth=st.integers(1, 4), classification=st.booleans(),
       missing=st.sampled_from([0.0, 0.1, 0.5]), sampled=st.booleans())
@settings(max_examples=40, deadline=None)
def test_every_node_counts_its_rows_on_random_data(seed, depth, classification, missing, sampled) -> None:
    """Numbers with missing values and ties, categories with missing values and more values than `TOP_VALUES`
    (pooled), 0/1 or real errors, grown on every row or on a sample: each node's n and error are its rows'."""
    rng = np.random.default_rng(seed)
    n = 600
    hole = rng.random((3, n)) < missing
    frame = pd.DataFrame({
        "x": np.where(hole[0], np.nan, rng.integers(0, 12, n) / 4),
        "y": pd.Series(rng.normal(size=n)).mask(hole[1]),
        "city": pd.Series(rng.choice([f"c{i}" for i in range(error_tree_module.TOP_VALUES + 5)], n)).mask(hole[2]),
        "kind": rng.choice(["a", "b", "c"], n),
    })
    weak = (frame["kind"] == "a") | (frame["x"].fillna(9) > 2)
    errors = rng.random(n) * np.where(weak, 2.0, 0.5)
    errors = (errors > 0.6).astype(np.float64) if classification else errors
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(error_tree_module, "MAX_FIT_ROWS", 300 if sampled else n)
        nodes = error_tree(frame, ["x", "y", "city", "kind"], errors, max_depth=depth, min_leaf=10,
                           classification=classification)
    check_nodes(nodes, frame, errors)

