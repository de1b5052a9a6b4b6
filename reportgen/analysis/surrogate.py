"""The model's predictions as readable rules: a shallow decision tree grown on `[model] features` to the predictions
the card evaluates (a binary classifier's predicted class, a regression's predicted value), each leaf a rule — the
conditions that lead to it, its rows and what the model predicts there — and its fidelity: how much of the model's
behaviour the rules reproduce. No model file is needed: the tree follows the predictions in the data.

The tree is the error analysis's (`reportgen.analysis.error_tree`): numbers split as they are (missing values sent
to one side, and the condition says which), categories one-hot on their most frequent values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.analysis.base import Context, Outcome
from reportgen.analysis.error_tree import MAX_FEATURES, TreeNode, error_tree, tree_columns
from reportgen.config import Config
from reportgen.errors import InputError, quoted_list
from reportgen.io import Predictions

MIN_LEAF_SHARE = 0.01  # a rule covers at least this share of the rows (and `[report] min_support` rows)


@dataclass(frozen=True)
class Rule:
    """One leaf of the surrogate tree: its conditions (joined by "and"), rows and share of all rows, and the mean
    of the followed output there (a binary classifier: the share predicted positive; a regression: the mean
    predicted value)."""

    conditions: list[str]
    n: int
    share: float
    mean: float


@dataclass(frozen=True)
class Surrogate:
    """What `rules` found: the followed output ("positive" or "value"), the rules (most rows first), the tree's
    depth, and its fidelity on the rows it was grown on — for a classifier the share of rows whose predicted class
    is their rule's majority, for a regression the R² of the rules' means against the predicted values; `baseline`
    the same for one rule over all rows (the most common prediction; 0 for R²); `notes` say which features were
    left out."""

    output: str
    positive_label: str | None
    depth: int
    rules: list[Rule]
    fidelity: float
    baseline: float
    rows: int
    notes: list[str]


def run(context: Context) -> Outcome:
    """The surrogate rules of the predictions on `[model] features`; None without features or for a multiclass
    model."""
    config = context.config
    if not config.model.features or not config.explanations.enabled or config.explanations.rules_depth == 0:
        return Outcome(None)
    if context.predictions.task == "multiclass":
        return Outcome(None)
    return Outcome(rules(context.predictions, config.model.features, config))


def rules(predictions: Predictions, features: list[str], config: Config) -> Surrogate:
    """Grow the surrogate tree (see the module docstring).

    Raises
    ------
    InputError
        If a feature is not a column of the predictions.
    """
    frame = predictions.frame
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise InputError(f"{predictions.source}: no column {quoted_list(missing)} ([model] features); columns are: "
                         f"{quoted_list(frame.columns, limit=12)}")
    kept = tree_columns(frame, features, codes=predictions.codes)
    notes = [] if len(kept) == len(features) else [
        f"The rules split on the first {len(kept)} features; with their categories, {len(features) - len(kept)} more "
        f"would pass {MAX_FEATURES} input columns: {quoted_list(features[len(kept):], limit=8)}."]
    binary = predictions.task == "binary"
    target = (predictions.y_pred == 1).astype(np.float64) if binary else predictions.y_pred.astype(np.float64)
    n = len(target)
    min_leaf = max(config.report.min_support, int(np.ceil(MIN_LEAF_SHARE * n)))
    nodes = error_tree(frame, kept, target, max_depth=config.explanations.rules_depth, min_leaf=min_leaf,
                       classification=binary, seed=config.report.seed, codes=predictions.codes)
    leaves = [node for node in nodes if node.leaf]
    found = sorted((Rule(_path(nodes, leaf), leaf.n, leaf.share, leaf.error) for leaf in leaves),
                   key=lambda rule: -rule.n)
    baseline = max(float(target.mean()), 1 - float(target.mean())) if binary else 0.0
    if binary:
        fidelity = sum(leaf.n * max(leaf.error, 1 - leaf.error) for leaf in leaves) / n
    else:
        spread = float(np.sum((target - target.mean()) ** 2))
        within = float(np.sum(target ** 2)) - sum(leaf.n * leaf.error ** 2 for leaf in leaves)
        fidelity = 1.0 - within / spread if spread > 0 else 1.0
    return Surrogate("positive" if binary else "value", str(predictions.positive_label) if binary else None,
                     config.explanations.rules_depth, found, float(fidelity), baseline, n, notes)


def _path(nodes: list[TreeNode], leaf: TreeNode) -> list[str]:
    """The conditions from the root to `leaf`."""
    found, node = [], leaf
    while node.parent is not None:
        found.append(node.condition)
        node = nodes[node.parent]
    return found[::-1] or ["all rows"]
