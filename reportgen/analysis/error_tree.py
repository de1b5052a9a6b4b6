"""The error tree: a shallow decision tree that predicts a model's errors from metadata columns.

An alternate view of where a model fails: each node is a group of rows described by the splits
that lead to it, with its size and its mean error. scikit-learn grows the tree; the counts and
errors of the nodes are computed here from the rows themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from reportgen.engines.error_counts import Split
from reportgen.io import ColumnCodes
from reportgen.slices import group_label, observed_codes

TOP_VALUES = 50  # a categorical column keeps its most frequent values; the rest are pooled as "(other)"
MAX_FEATURES = 400  # the tree's input columns (one per number, up to TOP_VALUES + 2 per category): rows × this floats
MAX_FIT_ROWS = 200_000  # more rows than this: the tree is grown on a seeded sample of this many
LARGEST = 1e30  # numbers beyond ±LARGEST (infinities included) are split as ±LARGEST
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
    code: int | None = None  # an indicator's code among its column's codes (`_encode`); None for a number


def error_tree(
    frame: pd.DataFrame,
    columns: list[str],
    errors: np.ndarray,
    *,
    max_depth: int = 3,
    min_leaf: int = 30,
    classification: bool = True,
    seed: int = 0,
    codes: ColumnCodes | None = None,
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
    codes : ColumnCodes, optional
        The frame's columns as codes, shared with the evaluation's other analyses (`Predictions.codes`); by
        default factorized here.

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
    grown = grow(frame, columns, errors, max_depth=max_depth, min_leaf=min_leaf, classification=classification,
                 seed=seed, codes=codes)
    return describe(grown, *_node_sums(grown.tree, grown.features, grown.inputs, errors), n_rows=len(frame))


@dataclass(frozen=True)
class Grown:
    """A tree grown on the errors: its input features, scikit-learn's fitted `tree_`, and each column's values over
    the rows it was given (`_encode`)."""

    features: list[_Feature]
    tree: Any
    inputs: dict[str, np.ndarray]


def grow(
    frame: pd.DataFrame, columns: list[str], errors: np.ndarray, *, max_depth: int = 3, min_leaf: int = 30,
    classification: bool = True, seed: int = 0, codes: ColumnCodes | None = None,
) -> Grown:
    """Fit the error tree's splits (`error_tree`), on a seeded sample of `MAX_FIT_ROWS` rows when there are more.

    Raises
    ------
    ValueError
        If `columns` is empty.
    """
    if not columns:
        raise ValueError("error tree: no columns to split on")
    features, inputs = _encode(codes if codes is not None else ColumnCodes(frame), columns)
    params = {"max_depth": max_depth, "min_samples_leaf": min_leaf, "random_state": seed}
    fit = np.arange(len(frame))
    if len(fit) > MAX_FIT_ROWS:  # the splits from a seeded sample; the nodes' counts and errors from every row
        fit = np.sort(np.random.default_rng(seed).choice(len(fit), MAX_FIT_ROWS, replace=False))
    x = _matrix(features, inputs, fit)
    if classification:
        model = DecisionTreeClassifier(criterion="entropy", **params).fit(x, errors[fit].astype(np.int64))
    else:
        model = DecisionTreeRegressor(**params).fit(x, errors[fit])
    return Grown(features, model.tree_, inputs)


def describe(grown: Grown, n: np.ndarray, total: np.ndarray, missing: np.ndarray, *, n_rows: int) -> list[TreeNode]:
    """The nodes of a grown tree in pre-order, root first, from each node's rows `n`, error sum `total` and whether
    any of its rows misses its split's value (`missing`), all indexed by scikit-learn's node ids."""
    tree, features = grown.tree, grown.features
    error = total / n
    nodes: list[TreeNode] = []

    def visit(node: int, parent: int | None, depth: int, condition: str) -> None:
        left, right = tree.children_left[node], tree.children_right[node]
        nodes.append(TreeNode(
            id=len(nodes), parent=parent, depth=depth, condition=condition, n=int(n[node]),
            share=float(n[node] / n_rows), error=float(error[node]), leaf=bool(left == right),
        ))
        if left == right:
            return
        to_left, to_right = _conditions(
            features[tree.feature[node]], float(tree.threshold[node]),
            missing_left=bool(tree.missing_go_to_left[node]) if missing[node] else None,
        )
        own = len(nodes) - 1
        visit(left, own, depth + 1, to_left)
        visit(right, own, depth + 1, to_right)

    visit(0, None, 0, ROOT)
    return nodes


def paths(grown: Grown) -> tuple[list[list[tuple[Split, bool]]], list[Split | None]]:
    """For an engine that counts the nodes' rows where the data lies: each node's path from the root (its splits,
    each with whether it goes left), and each node's own split (None for a leaf), by scikit-learn's node ids."""
    tree, features = grown.tree, grown.features
    kept = {column: tuple(f.value for f in features if f.column == column and f.kind == "value")
            for column in {f.column for f in features}}
    splits: list[Split | None] = [None] * tree.node_count
    found: list[list[tuple[Split, bool]]] = [[] for _ in range(tree.node_count)]
    for node in range(tree.node_count):  # a child's id is larger than its parent's: parents are done first
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:
            continue
        feature = features[tree.feature[node]]
        split = Split(feature.column, feature.kind,
                      float(tree.threshold[node]) if feature.kind == "number" else feature.value,
                      kept[feature.column] if feature.kind == "other" else (), bool(tree.missing_go_to_left[node]))
        splits[node] = split
        found[left] = [*found[node], (split, True)]
        found[right] = [*found[node], (split, False)]
    return found, splits


def _encode(codes: ColumnCodes, columns: list[str]) -> tuple[list[_Feature], dict[str, np.ndarray]]:
    """The tree's input features, and each column's values over all rows that `_matrix` reads them from.

    A numeric column's values are its numbers as float32 (as the tree uses them; NaN where missing);
    a category's are codes: `_Feature.code` of the feature each row has.
    """
    features: list[_Feature] = []
    inputs: dict[str, np.ndarray] = {}
    for column in columns:
        series = codes.frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            features.append(_Feature(column, "number"))
            numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
            # infinities and huge numbers stay on their side of every split, at ±LARGEST (whose sums over
            # the rows still fit in float32, as scikit-learn checks them)
            with np.errstate(over="ignore"):  # beyond float32: ±inf, clipped to ±LARGEST as if clipped first
                as_float32 = numbers.astype(np.float32)
            inputs[column] = np.clip(as_float32, -LARGEST, LARGEST, out=as_float32)
            continue
        found = codes(column)
        present, uniques = found.present_codes, found.present_values  # -1 where missing
        counts = np.bincount(present[present >= 0], minlength=len(uniques))
        ranked = sorted(((-count, str(value), position, value) for position, (value, count)
                         in enumerate(zip(pd.Index(uniques), counts, strict=True)) if count > 0),
                        key=lambda item: item[:3])
        kept = ranked[:TOP_VALUES]
        features += [_Feature(column, "value", value, code) for code, (_, _, _, value) in enumerate(kept)]
        lookup = np.full(len(uniques) + 1, len(kept) + 1)  # not kept: "other"; the last entry, for -1: "missing"
        lookup[[position for _, _, position, _ in kept]] = np.arange(len(kept))
        lookup[-1] = len(kept)
        if found.missing is not None:
            features.append(_Feature(column, "missing", code=len(kept)))
        if len(ranked) > len(kept):
            features.append(_Feature(column, "other", code=len(kept) + 1))
        inputs[column] = lookup[present]
    return features, inputs


def _matrix(features: list[_Feature], inputs: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """The tree's input matrix on the given rows: one float32 column per feature (a number, or a 0/1 indicator),
    stored column by column."""
    x = np.empty((len(rows), len(features)), dtype=np.float32, order="F")
    values = {column: inputs[column][rows] for column in {feature.column for feature in features}}
    for index, feature in enumerate(features):
        x[:, index] = values[feature.column] if feature.code is None else values[feature.column] == feature.code
    return x


def _node_sums(tree: Any, features: list[_Feature], inputs: dict[str, np.ndarray], errors: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per node of the fitted tree: rows reaching it, the sum of their errors, and whether any misses its split's value.

    Rows in the same cell (`_cells`) take the same path, so one row of each cell walks down the tree (as
    scikit-learn's `apply` does, a missing value going where the split sends missing values); the rows and error
    sums of each cell are counted once, and each depth's per node from its cells. `tree` is the fitted model's
    `tree_`.
    """
    splits = tree.children_left != tree.children_right  # a leaf's children are both -1
    cell, first = _cells(tree, features, inputs, splits, len(errors))
    split_features = np.unique(tree.feature[splits])
    column_of = np.zeros(tree.node_count, dtype=np.intp)  # a split node's feature, as a column of `x`
    column_of[splits] = np.searchsorted(split_features, tree.feature[splits])
    x = _matrix([features[index] for index in split_features], inputs, first)
    past = tree.node_count  # the node of a cell whose leaf is above the depth: a bin of its own, dropped
    cell_rows = np.bincount(cell, minlength=len(first))
    cell_errors = np.bincount(cell, weights=errors, minlength=len(first))
    n = np.zeros(past + 1, dtype=np.int64)
    total = np.zeros(past + 1)
    missing = np.zeros(past + 1, dtype=bool)
    node = np.zeros(len(first), dtype=np.intp)  # each cell's node at the depth
    while (node < past).any():
        n += np.bincount(node, weights=cell_rows, minlength=past + 1).astype(np.int64)
        total += np.bincount(node, weights=cell_errors, minlength=past + 1)
        walking = np.flatnonzero(node < past)
        walking = walking[splits[node[walking]]]
        at = node[walking]
        values = x[walking, column_of[at]]
        absent = np.isnan(values)
        missing[at[absent]] = True
        left = np.where(absent, tree.missing_go_to_left[at].astype(bool), values <= tree.threshold[at])
        node_next = np.full(len(first), past, dtype=np.intp)
        node_next[walking] = np.where(left, tree.children_left[at], tree.children_right[at])
        node = node_next
    return n[:past], total[:past], missing[:past]


def _cells(tree: Any, features: list[_Feature], inputs: dict[str, np.ndarray], splits: np.ndarray, n_rows: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Each row's cell, and one row of each cell: rows share a cell when they have the same code (a category) and
    the same place among the thresholds the tree splits them at, missing apart (a number), in every column the
    tree splits on."""
    split_at, thresholds_at = tree.feature[splits], tree.threshold[splits]
    key, size = np.zeros(n_rows, dtype=np.int64), 1
    for column in dict.fromkeys(features[index].column for index in split_at):
        values = inputs[column]
        if values.dtype.kind == "f":  # a number (`_encode`): its place among the thresholds it is split at
            own = np.array([features[index].column == column for index in split_at])
            thresholds = np.unique(thresholds_at[own])  # v ≤ threshold j exactly when v's place is ≤ j
            place = np.zeros(len(values), dtype=np.intp)  # thresholds below v, as `np.searchsorted(thresholds, v)`
            for threshold in thresholds:  # a handful (at most one per split): a comparison each beats a search
                place += values > threshold  # float64 threshold: compared in float64, as the search does
            place[np.isnan(values)] = len(thresholds) + 1
            places = len(thresholds) + 2
        else:  # a category's codes
            place, places = values, int(values.max(initial=0)) + 1
        if size > np.iinfo(np.int64).max // places:  # renumber the cells seen so far
            observed, key = observed_codes(key, size)
            size = len(observed)
        key = key * places + place
        size *= places
    observed, cell = observed_codes(key, size)
    first = np.empty(len(observed), dtype=np.intp)
    first[cell] = np.arange(len(cell))  # any row of the cell will do: they all take its path
    return cell, first


def tree_columns(
    frame: pd.DataFrame, columns: list[str], max_features: int = MAX_FEATURES, *, codes: ColumnCodes | None = None
) -> list[str]:
    """The first of `columns` whose encoding (`_encode`) has at most `max_features` input columns in all.

    Bounds the tree's input matrix at rows × `max_features` floats whatever the number of candidates. `codes`
    as in `error_tree`.
    """
    codes = codes if codes is not None else ColumnCodes(frame)
    kept, total = [], 0
    for column in columns:
        series = frame[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            size = 1
        else:
            size = min(len(codes(column).present_values), TOP_VALUES) + 2
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
