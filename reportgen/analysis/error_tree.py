"""The error tree: a shallow decision tree that predicts a model's errors from metadata columns.

An alternate view of where a model fails: each node is a group of rows described by the splits
that lead to it, with its size and its mean error. scikit-learn grows the tree; the counts and
errors of the nodes are computed here from the rows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from reportgen.slices import group_label

TOP_VALUES = 50  # a categorical column keeps its most frequent values; the rest are pooled as "(other)"
MAX_FEATURES = 400  # the tree's input columns (one per number, up to TOP_VALUES + 2 per category): rows × this floats
MAX_FIT_ROWS = 200_000
LARGEST = 1e30  # numbers beyond ±LARGEST (infinities included) are split as ±LARGEST  # more rows than this: the tree is grown on a seeded sample of this many
ROOT = "all rows"


@dataclass(frozen=True)
class TreeNode:
    """One node of the error tree (JSON-ready: plain types only).

    Attributes
    ----------
    id : int
        0 for the root; ids follow depth-first pre-order (a node, its left subtree, its right subtree).
    parent : int or None
        The parent's id; None for the root.
    depth : int
        0 for the root.
    condition : str
        The split at the parent that leads here, in words: 'age ≤ 37.5', 'age > 37.5 or missing',
        'sex = "Female"', 'sex ≠ "Female"', 'race is missing', 'race = (other)'; "all rows" for the root.
    n : int
        Rows reaching the node.
    share : float
        `n` over all rows.
    error : float
        Mean of the per-row error over the node's rows (the error rate for 0/1 errors).
    leaf : bool
        True where the tree does not split further.
    """

    id: int
    parent: int | None
    depth: int
    condition: str
    n: int
    share: float
    error: float
    leaf: bool


@dataclass(frozen=True)
class _Feature:
    """One column of the tree's input: a numeric column, or one indicator of a categorical column."""

    column: str
    kind: str  # "number", "value" (equals `value`), "missing" or "other" (none of the kept values)
    value: object = None


def error_tree(
    frame: pd.DataFrame,
    columns: list[str],
    errors: np.ndarray,
    *,
    max_depth: int = 3,
    min_leaf: int = 30,
    classification: bool = True,
    seed: int = 0,
) -> list[TreeNode]:
    """Fit a shallow decision tree to the per-row errors and describe its nodes.

    Numeric (non-bool) columns are used as they are, missing values included (a split sends them
    to one side, and its condition says which). Other columns (text, category, bool) are one-hot
    encoded: their `TOP_VALUES` most frequent values, "(missing)" and "(other)" for the rest.

    Parameters
    ----------
    frame : DataFrame
        The evaluation rows; `columns` must be in it, numeric ones finite or missing.
    columns : list of str
        The metadata columns the tree may split on.
    errors : ndarray
        One float64 per row of `frame`: 0 or 1 (1 = wrong) for classification, a nonnegative
        error such as the absolute residual for regression.
    max_depth : int
        Depth of the tree, 1 to 4.
    min_leaf : int
        Fewest rows in a leaf.
    classification : bool
        True: a classification tree (entropy) on the 0/1 errors; False: a regression tree
        (squared error) on the error values.
    seed : int
        Random state of the tree (it breaks ties between equally good splits) and of the sample it
        is grown on when there are more than `MAX_FIT_ROWS` rows.

    Returns
    -------
    list of TreeNode
        The nodes in pre-order, root first; only the root when no split lowers the impurity (for
        example when every error is equal).

    Raises
    ------
    ValueError
        If `columns` is empty.

    Examples
    --------
    >>> frame = pd.DataFrame({"noise": ["car", "street", "quiet", "street"] * 25})
    >>> errors = (frame["noise"] == "car").to_numpy(dtype=np.float64)
    >>> [(node.condition, node.n, node.error) for node in error_tree(frame, ["noise"], errors, min_leaf=10)]
    [('all rows', 100, 0.25), ('noise ≠ "car"', 75, 0.0), ('noise = "car"', 25, 1.0)]
    """
    if not columns:
        raise ValueError("error tree: no columns to split on")
    features, x = _encode(frame, columns)
    params = {"max_depth": max_depth, "min_samples_leaf": min_leaf, "random_state": seed}
    fit = slice(None)
    if len(x) > MAX_FIT_ROWS:  # the splits from a seeded sample; the nodes' counts and errors from every row
        fit = np.sort(np.random.default_rng(seed).choice(len(x), MAX_FIT_ROWS, replace=False))
    if classification:
        model = DecisionTreeClassifier(criterion="entropy", **params).fit(x[fit], errors[fit].astype(np.int64))
    else:
        model = DecisionTreeRegressor(**params).fit(x[fit], errors[fit])
    tree = model.tree_
    paths = model.decision_path(x).T.tocsr()  # nodes × rows: which rows reach each node
    n = np.asarray(paths.sum(axis=1)).ravel()
    error = paths @ errors / n
    missing = paths @ np.isnan(x).astype(np.float64)  # nodes × features: rows with a missing value
    nodes: list[TreeNode] = []

    def visit(node: int, parent: int | None, depth: int, condition: str) -> None:
        left, right = tree.children_left[node], tree.children_right[node]
        nodes.append(TreeNode(
            id=len(nodes), parent=parent, depth=depth, condition=condition, n=int(n[node]),
            share=float(n[node] / len(frame)), error=float(error[node]), leaf=bool(left == right),
        ))
        if left == right:
            return
        index = tree.feature[node]
        to_left, to_right = _conditions(
            features[index], float(tree.threshold[node]),
            missing_left=bool(tree.missing_go_to_left[node]) if missing[node, index] else None,
        )
        own = len(nodes) - 1
        visit(left, own, depth + 1, to_left)
        visit(right, own, depth + 1, to_right)

    visit(0, None, 0, ROOT)
    return nodes


def _encode(frame: pd.DataFrame, columns: list[str]) -> tuple[list[_Feature], np.ndarray]:
    """The tree's input matrix (float32, as the tree uses it; NaN where a number is missing) and its features."""
    features: list[_Feature] = []
    blocks: list[np.ndarray] = []
    for column in columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            features.append(_Feature(column, "number"))
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            # infinities and huge numbers stay on their side of every split, at ±LARGEST (whose sums over
            # the rows still fit in float32, as scikit-learn checks them)
            blocks.append(np.clip(numbers, -LARGEST, LARGEST).astype(np.float32)[:, None])
            continue
        counts = series.value_counts()
        ranked = sorted(((-count, str(value), value) for value, count in counts.items() if count > 0),
                        key=lambda item: item[:2])
        kept = [value for _, _, value in ranked[:TOP_VALUES]]
        codes = pd.Index(kept).get_indexer(series)  # -1: missing or not kept
        absent = series.isna().to_numpy()
        indicators = [codes[:, None] == np.arange(len(kept))]
        features += [_Feature(column, "value", value) for value in kept]
        for kind, rows in (("missing", absent), ("other", (codes == -1) & ~absent)):
            if rows.any():
                features.append(_Feature(column, kind))
                indicators.append(rows[:, None])
        blocks.append(np.hstack(indicators).astype(np.float32))
    return features, np.hstack(blocks)


def tree_columns(frame: pd.DataFrame, columns: list[str], max_features: int = MAX_FEATURES) -> list[str]:
    """The first of `columns` whose encoding (`_encode`) has at most `max_features` input columns in all.

    Bounds the tree's input matrix at rows × `max_features` floats whatever the number of candidates.
    """
    kept, total = [], 0
    for column in columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            size = 1
        else:
            size = min(int(series.nunique()), TOP_VALUES) + 2
        if total + size > max_features:
            break
        kept.append(column)
        total += size
    return kept


def _conditions(feature: _Feature, threshold: float, *, missing_left: bool | None) -> tuple[str, str]:
    """The conditions of a split's left and right branches, in words.

    `missing_left` says where the node's rows with a missing value went (None: it had none).
    Left is `value ≤ threshold`; an indicator is 0 or 1, so its left branch is "not".
    """
    column = feature.column
    if feature.kind == "value":
        value = group_label(feature.value)  # cut to the document's label length
        return f'{column} ≠ "{value}"', f'{column} = "{value}"'
    if feature.kind == "other":
        return f"{column} ≠ (other)", f"{column} = (other)"
    if feature.kind == "missing" or np.isinf(threshold):  # a numeric split of missing against the rest
        return f"{column} is not missing", f"{column} is missing"
    left, right = f"{column} ≤ {threshold:g}", f"{column} > {threshold:g}"
    if missing_left is None:
        return left, right
    return (f"{left} or missing", right) if missing_left else (left, f"{right} or missing")
