"""Where an error analysis reads its counts: the rows in memory (`RowErrors`), or an SQL engine where the data lies
(`SqlErrors`). Both give the same counts; the search, its tests and the card are shared (`error_analysis`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd

from reportgen.analysis.checks import looks_like_output
from reportgen.analysis.discovery import (
    Cells,
    ColumnProfile,
    Measure,
    cells_of,
    count_cells,
)
from reportgen.analysis.error_tree import MAX_FIT_ROWS, TreeNode, describe, error_tree, grow, paths, tree_columns
from reportgen.config import SliceSpec
from reportgen.engines import error_counts
from reportgen.engines.aggregates import Outputs
from reportgen.engines.connection import Connection
from reportgen.engines.families import Coded, families
from reportgen.expression_sql import kind_of_sql_type
from reportgen.io import Predictions
from reportgen.slices import SliceFamily, build_slices


class ErrorSource(Protocol):
    """What `reportgen.analysis.error_analysis.analyse_errors` reads of the rows searched.

    Attributes
    ----------
    measure : Measure
        The per-row error measure (its `values` empty where the rows are not in memory).
    source : str
        The predictions, naming them in messages.
    names : list of str
        The input's columns, in order.
    totals : tuple
        The measure's sum, sum of squares and rows searched.
    """

    measure: Measure
    source: str
    names: list[str]
    totals: tuple[float, float, int]

    def profile(self, column: str) -> ColumnProfile:
        """A column's profile over the rows searched (`discovery.candidate_specs`)."""
        ...

    def families(self, specs: list[SliceSpec]) -> list[SliceFamily]:
        """The candidate columns' slice families over the rows searched."""
        ...

    def cells(self, families: list[SliceFamily], combos: Sequence[tuple[int, ...]], min_support: int) -> list[Cells]:
        """Per combination of `families` (indices), its cells of `min_support` rows or more."""
        ...

    def configured(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and error sum per group of the `index`-th configured slice family, over the rows searched."""
        ...

    def tree(self, columns: list[str], *, max_depth: int, min_leaf: int) -> tuple[list[TreeNode], int]:
        """The error tree grown on the first of `columns` that fit (`tree_columns`), and how many did."""
        ...

    def examples(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily], display: list[str],
                 limit: int) -> pd.DataFrame:
        """The `display` columns of a slice's most confident wrong predictions (`error_analysis._examples`)."""
        ...

    def members(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily]) -> np.ndarray | None:
        """The indices of a slice's rows in the predictions; None where the rows are not in memory."""
        ...


@dataclass(frozen=True)
class RowErrors:
    """The rows searched in memory: the checked predictions (binary "fnr" and "fpr": the rows of one label) and the
    configured slice families over them."""

    predictions: Predictions
    measure: Measure
    configured_families: list[SliceFamily]

    @classmethod
    def of(cls, predictions: Predictions, measure: Measure, configured: list[SliceFamily]) -> RowErrors:
        """The rows `measure` is defined on (all, or `measure.rows`)."""
        if measure.rows is not None:
            rows = measure.rows
            scores = None if predictions.scores is None else predictions.scores[rows]
            predictions = dataclasses.replace(
                predictions, frame=predictions.frame.iloc[rows].reset_index(drop=True), y_true=predictions.y_true[rows],
                y_pred=predictions.y_pred[rows], scores=scores)
            configured = [dataclasses.replace(family, codes=family.codes[rows]) for family in configured]
        return cls(predictions, measure, configured)

    @cached_property
    def confidence(self) -> np.ndarray:
        """How sure the model was of each row's prediction (`_confidence`)."""
        return _confidence(self.predictions, self.measure)

    @property
    def source(self) -> str:
        return self.predictions.source

    @property
    def names(self) -> list[str]:
        return list(self.predictions.frame.columns)

    @property
    def totals(self) -> tuple[float, float, int]:
        values = self.measure.values
        return float(values.sum()), float(np.square(values).sum()), len(values)

    def profile(self, column: str) -> ColumnProfile:
        return ColumnProfile.of(self.predictions.codes, column)

    def families(self, specs: list[SliceSpec]) -> list[SliceFamily]:
        return build_slices(self.predictions.frame, specs, source=self.source, codes=self.predictions.codes)

    def cells(self, families: list[SliceFamily], combos: Sequence[tuple[int, ...]], min_support: int) -> list[Cells]:
        values = self.measure.values
        squared = None if self.measure.binary else np.square(values)  # 0/1 values are their own squares
        return [count_cells(combo, families, values, squared, min_support) for combo in combos]

    def configured(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        family, values = self.configured_families[index], self.measure.values
        kept = family.codes >= 0
        codes, values = (family.codes, values) if kept.all() else (family.codes[kept], values[kept])
        return (np.bincount(codes, minlength=family.n_groups),
                np.bincount(codes, weights=values, minlength=family.n_groups))

    def tree(self, columns: list[str], *, max_depth: int, min_leaf: int) -> tuple[list[TreeNode], int]:
        frame, codes = self.predictions.frame, self.predictions.codes
        kept = tree_columns(frame, columns, codes=codes)
        return error_tree(frame, kept, self.measure.values, max_depth=max_depth, min_leaf=min_leaf,
                          classification=self.measure.binary, codes=codes), len(kept)

    def examples(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily], display: list[str],
                 limit: int) -> pd.DataFrame:
        members = self.members(conditions, families)
        rows = members[self.measure.values[members] > 0]
        order = np.argsort(-self.confidence[rows], kind="stable")[:limit]
        return self.predictions.frame.iloc[rows[order]][display]

    def members(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily]) -> np.ndarray:
        by_column = {family.columns[0]: family for family in families}
        mask = np.ones(len(families[0].codes), dtype=bool)
        for column, label in conditions:
            family = by_column[column]
            mask &= family.codes == family.labels.index(label)
        return np.flatnonzero(mask)


def _confidence(predictions: Predictions, measure: Measure) -> np.ndarray:
    """How sure the model was of a wrong prediction: the predicted class's probability; else the error size."""
    scores = predictions.scores
    if not measure.binary or scores is None:
        return measure.values
    if predictions.task == "binary":
        return np.where(predictions.y_pred == 1, scores, 1 - scores)
    return np.take_along_axis(scores, predictions.y_pred[:, None], axis=1)[:, 0]


class SqlErrors:
    """The rows searched where an SQL engine holds them (`reportgen.engines.error_counts`).

    Parameters
    ----------
    relation : ErrorRelation
        The rows searched, with each row's error.
    measure : Measure
        The measure (its `values` empty).
    configured : list of Coded
        The configured slice families, as the engine measured them.
    source : str
        The predictions, naming them in messages.
    profiles : callable, optional
        Columns → each one's distinct present values and missing values over the rows searched; by default counted
        here (an engine's shared count, `Scanned.profiles`, where every row is searched).
    """

    def __init__(self, relation: error_counts.ErrorRelation, measure: Measure, configured: list[Coded],
                 source: str, profiles: Callable[[Sequence[str]], dict[str, tuple[int, int]]] | None = None) -> None:
        self.relation, self.measure, self.source = relation, measure, source
        self._configured = configured
        self._count = profiles or (lambda columns: error_counts.profiles(relation.connection, columns))
        self.names = relation.names
        self.totals = (relation.total, relation.squares, relation.rows)
        self._profiles: dict[str, ColumnProfile] = {}
        self._coded: dict[str, Coded] = {}

    def model_outputs(self, task: str, outputs: Outputs, columns: list[str]) -> dict[str, str]:
        """The `columns` that look like model outputs, each with why (`sql_model_outputs`)."""
        self._profile_all(columns)
        return sql_model_outputs(self.relation.connection, task, outputs, columns,
                                 {c: p.distinct for c, p in self._profiles.items()})

    def _profile_all(self, columns: Sequence[str]) -> None:
        wanted = [c for c in columns if c not in self._profiles]
        types = self.relation.connection.column_types()
        for column, (present, missing) in self._count(wanted).items():
            numeric = kind_of_sql_type(types[column]) == "number"
            self._profiles[column] = ColumnProfile(present + int(missing > 0), numeric,
                                                   numeric and error_counts.is_floating(types[column]))

    def profile(self, column: str) -> ColumnProfile:
        if column not in self._profiles:  # the next columns are likely wanted next: profiled in one scan
            after = self.names[self.names.index(column):]
            self._profile_all([column, *[c for c in after if c not in self._profiles and c != column]]
                              [:error_counts.PROFILED_PER_QUERY])
        return self._profiles[column]

    def families(self, specs: list[SliceSpec]) -> list[SliceFamily]:
        coded = families(self.relation.connection, specs, self.source)
        self._coded = {c.family.columns[0]: c for c in coded}
        return [c.family for c in coded]

    def cells(self, families: list[SliceFamily], combos: Sequence[tuple[int, ...]], min_support: int) -> list[Cells]:
        coded = [self._coded[family.columns[0]] for family in families]
        counted = error_counts.slice_cells(self.relation, coded, combos, min_support, self.measure.binary)
        return [cells_of([families[i] for i in combo], *found)
                for combo, found in zip(combos, counted, strict=True)]

    def configured(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self._configured_sums[index]

    @cached_property
    def _configured_sums(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every configured family's rows and error sums per group, counted at once."""
        return error_counts.group_sums(self.relation, self._configured)

    def tree(self, columns: list[str], *, max_depth: int, min_leaf: int) -> tuple[list[TreeNode], int]:
        frame, errors = error_counts.tree_rows(self.relation, columns, MAX_FIT_ROWS)
        kept = tree_columns(frame, columns)
        classification = self.measure.binary
        if len(frame) == self.relation.rows:  # every row: grown and counted as the numpy engine does
            return error_tree(frame, kept, errors, max_depth=max_depth, min_leaf=min_leaf,
                              classification=classification), len(kept)
        grown = grow(frame, kept, errors, max_depth=max_depth, min_leaf=min_leaf, classification=classification)
        n, total, missing = error_counts.node_sums(self.relation, *paths(grown))
        return describe(grown, n, total, missing, n_rows=self.relation.rows), len(kept)

    def examples(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily], display: list[str],
                 limit: int) -> pd.DataFrame:
        groups = [(self._coded[column], self._coded[column].family.labels.index(label)) for column, label in conditions]
        return error_counts.examples(self.relation, groups, display, limit)

    def members(self, conditions: tuple[tuple[str, str], ...], families: list[SliceFamily]) -> None:
        return None


def sql_model_outputs(over: Connection, task: str, outputs: Outputs, columns: list[str],
                      distinct: dict[str, int]) -> dict[str, str]:
    """The `columns` that look like model outputs, each with why, as the sanity checks find them: a copy of one
    (`reportgen.engines.error_counts.output_copies`), else named like one. `distinct` counts each column's values,
    a missing value counting as one."""
    copies = error_counts.output_copies(over, task, outputs, columns, distinct)
    return {c: copies.get(c) or "named like one" for c in columns if c in copies or looks_like_output(c)}
