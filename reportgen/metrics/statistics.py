"""Per-group sufficient statistics, each computed in one vectorized pass over the rows.

Every metric is a pure function of these statistics, so another engine (DuckDB, Spark) only has
to produce the same small arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

EPS = np.finfo(np.float64).eps


@dataclass(frozen=True)
class Confusion:
    """Confusion counts per group; arrays of one shape (groups, or resamples × groups)."""

    tp: np.ndarray
    fp: np.ndarray
    tn: np.ndarray
    fn: np.ndarray

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.tp + self.fp + self.tn + self.fn

    def cells(self) -> np.ndarray:
        """Counts as an array of shape (..., 4) in the order tn, fp, fn, tp."""
        return np.stack([self.tn, self.fp, self.fn, self.tp], axis=-1)

    @classmethod
    def from_cells(cls, cells: np.ndarray) -> Confusion:
        """Inverse of `cells`."""
        return cls(tn=cells[..., 0], fp=cells[..., 1], fn=cells[..., 2], tp=cells[..., 3])


@dataclass(frozen=True)
class ScoreStats:
    """Score-based statistics per group.

    Attributes
    ----------
    n_pos, n_neg : ndarray of int64
        Positives and negatives per group.
    auc_sum : ndarray of float64
        Sum over positives of (negatives scored lower + half the negatives tied): AUC · n_pos · n_neg.
    v10_sq, v01_sq : ndarray of float64
        Sums of squared DeLong placement values of positives and of negatives.
    ap_sum : ndarray of float64
        Sum over score thresholds of new positives × precision: AP · n_pos.
    log_loss_sum, log_loss_sq, brier_sum, brier_sq : ndarray of float64
        Sums and sums of squares of the per-row log loss and squared error.
    """

    n_pos: np.ndarray
    n_neg: np.ndarray
    auc_sum: np.ndarray
    v10_sq: np.ndarray
    v01_sq: np.ndarray
    ap_sum: np.ndarray
    log_loss_sum: np.ndarray
    log_loss_sq: np.ndarray
    brier_sum: np.ndarray
    brier_sq: np.ndarray

    @property
    def n(self) -> np.ndarray:
        """Rows per group."""
        return self.n_pos + self.n_neg


@dataclass(frozen=True)
class Rows:
    """Per-row arrays shared by every slice family, prepared once.

    Attributes
    ----------
    y_true, y_pred : ndarray of int8
        1 for the positive class.
    scores : ndarray of float64
        Probability of the positive class.
    order : ndarray of intp
        Row indices sorted by ascending score.
    log_loss, squared_error : ndarray of float64
        Per-row log loss (probabilities clipped to [eps, 1 - eps], as scikit-learn) and (score - label)².

    Derived arrays (score ranks, squares of the losses) are computed on first use and kept.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    log_loss: np.ndarray
    squared_error: np.ndarray

    @classmethod
    def prepare(cls, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray) -> Rows:
        """Sort once by score and compute the per-row losses and ranks.

        Everything derived is computed here, before any slice family uses it, so families can be
        evaluated on several threads without computing a cached value twice.
        """
        p_true_class = np.where(y_true == 1, scores, 1.0 - scores)
        rows = cls(
            y_true=y_true.astype(np.int8, copy=False),
            y_pred=y_pred.astype(np.int8, copy=False),
            scores=scores,
            order=np.argsort(scores),  # ties in any order: every statistic sums over tie blocks
            log_loss=-np.log(np.clip(p_true_class, EPS, 1 - EPS)),
            squared_error=(scores - y_true) ** 2,
        )
        for derived in ("ranking", "score_runs", "cell", "loss_squares"):
            getattr(rows, derived)
        return rows

    @cached_property
    def ranking(self) -> Ranking:
        """The rows' scores as dense ranks (see `Ranking`)."""
        return Ranking.of(self)

    @cached_property
    def score_runs(self) -> tuple[np.ndarray, np.ndarray]:
        """Positives and negatives of each run of tied scores, in ascending score order (float64)."""
        ranking = self.ranking
        if len(ranking.sorted_ranks) == 0:
            return np.zeros(0), np.zeros(0)
        if ranking.n_scores == len(ranking.sorted_ranks):  # every score distinct: each row is a run
            run_pos = ranking.sorted_y_true.astype(np.float64)
            return run_pos, 1.0 - run_pos
        first = np.flatnonzero(np.diff(ranking.sorted_ranks, prepend=-1))
        run_rows = np.diff(first, append=len(ranking.sorted_ranks))
        run_pos = np.add.reduceat(ranking.sorted_y_true, first, dtype=np.int64).astype(np.float64)
        return run_pos, run_rows - run_pos

    @cached_property
    def cell(self) -> np.ndarray:
        """Confusion cell per row: 0 tn, 1 fp, 2 fn, 3 tp (int8)."""
        return self.y_true * np.int8(2) + self.y_pred

    @cached_property
    def loss_squares(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-row squares of `log_loss` and of `squared_error`."""
        return self.log_loss**2, self.squared_error**2


@dataclass(frozen=True)
class Ranking:
    """Dense ranks of the scores: equal scores share a rank, ranks ascend with the score.

    Attributes
    ----------
    ranks : ndarray of intp
        Rank of each row's score, in [0, n_scores).
    n_scores : int
        Number of distinct scores.
    sorted_ranks, sorted_y_true : ndarray
        Ranks and labels of the rows taken in `Rows.order`.
    """

    ranks: np.ndarray
    n_scores: int
    sorted_ranks: np.ndarray
    sorted_y_true: np.ndarray

    @classmethod
    def of(cls, rows: Rows) -> Ranking:
        """Rank the scores of `rows`, using its score order."""
        n_rows = len(rows.order)
        ascending = rows.scores[rows.order]
        new_score = np.empty(n_rows, dtype=bool)
        new_score[:1] = True
        np.not_equal(ascending[1:], ascending[:-1], out=new_score[1:])
        sorted_ranks = np.cumsum(new_score)
        sorted_ranks -= 1
        ranks = np.empty(n_rows, dtype=sorted_ranks.dtype)
        ranks[rows.order] = sorted_ranks
        n_scores = int(sorted_ranks[-1]) + 1 if n_rows else 0
        return cls(ranks, n_scores, sorted_ranks, rows.y_true[rows.order])


def confusion(codes: np.ndarray, rows: Rows, n_groups: int) -> Confusion:
    """Confusion counts per group from one `bincount`.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); rows with a negative code are in no group.
    rows : Rows
        The shared per-row arrays.
    n_groups : int
        Number of groups.
    """
    keep = codes >= 0
    key = np.multiply(codes, 4, dtype=np.int64)
    key += rows.cell
    cells = np.bincount(key[keep] if not keep.all() else key, minlength=4 * n_groups)
    return Confusion.from_cells(cells.reshape(n_groups, 4).astype(np.int64))


def score_stats(codes: np.ndarray, rows: Rows, n_groups: int, *, losses: bool = True) -> ScoreStats:
    """Rank-based and loss statistics per group, from the runs of tied scores within each group.

    A run is the rows of one group sharing one score; runs are taken in order of group, then
    ascending score. Each positive counts the negatives of earlier runs of its group plus half of
    those in its own run (Mann-Whitney U, exact with ties). The runs come from one `bincount` over
    (group, score rank) cells when there are few of them, otherwise from a stable sort of the
    score-sorted rows (`rows.order`) by group code, which keeps scores ascending within each group.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); negative codes are left out.
    rows : Rows
        The shared per-row arrays.
    n_groups : int
        Number of groups.
    losses : bool
        Whether to sum the per-row log loss and squared error; without them (one class against
        the rest, in a multiclass task) those fields are NaN.
    """
    keep = codes >= 0
    all_kept = bool(keep.all())
    ranking = rows.ranking
    if n_groups * ranking.n_scores <= max(len(codes) // 4, _SMALL_TABLE) and not (n_groups == 1 and all_kept):
        run_group, run_pos, run_neg = _runs_by_counting(codes, keep, all_kept, rows, n_groups)
    else:
        run_group, run_pos, run_neg = _runs_by_sorting(codes, all_kept, rows, n_groups)

    if len(run_group) == 0:
        zeros = np.zeros(n_groups)
        return ScoreStats(zeros.astype(np.int64), zeros.astype(np.int64), *([zeros] * 8))

    n_pos = np.bincount(run_group, weights=run_pos, minlength=n_groups)
    n_neg = np.bincount(run_group, weights=run_neg, minlength=n_groups)
    first_run = np.searchsorted(run_group, np.arange(n_groups))
    pos_below = _within_group_exclusive_cumsum(run_pos, run_group, first_run)
    neg_below = _within_group_exclusive_cumsum(run_neg, run_group, first_run)

    def per_group(group: np.ndarray, weights: np.ndarray) -> np.ndarray:  # NaN (0/0 of an empty class) counts 0
        np.copyto(weights, 0.0, where=np.isnan(weights))
        return np.bincount(group, weights=weights, minlength=n_groups)

    # DeLong placements: a positive's share of negatives below it, a negative's share of positives above; and the
    # precision at each positive. Each sum is weighted by the run's positives (AUC, v10, AP) or negatives (v01), so
    # it runs over the runs holding some (the others would add exact zeros), operation for operation as
    #   neg_lower = neg_below + 0.5 * run_neg;  pos_higher = (group_pos - pos_below - run_pos) + 0.5 * run_pos
    #   v10 = neg_lower / group_neg;  v01 = pos_higher / group_pos
    #   precision_at = tp_at / (tp_at + fp_at), tp_at = group_pos - pos_below, fp_at = group_neg - neg_below
    runs = np.flatnonzero(run_pos)
    group, positives = run_group[runs], run_pos[runs]
    below = neg_below[runs]
    neg_lower = np.multiply(run_neg[runs], 0.5)
    neg_lower += below
    group_neg = n_neg[group]
    fp_at = np.subtract(group_neg, below, out=below)
    tp_at = np.subtract(n_pos[group], pos_below[runs])
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = np.divide(neg_lower, group_neg, out=group_neg)
        fp_at += tp_at
        precision_at = np.divide(tp_at, fp_at, out=tp_at)
    auc_sum = per_group(group, np.multiply(positives, neg_lower, out=neg_lower))
    v10_sq = per_group(group, np.multiply(positives, np.square(v10, out=v10), out=v10))
    ap_sum = per_group(group, np.multiply(positives, precision_at, out=precision_at))

    runs = np.flatnonzero(run_neg)
    group, positives = run_group[runs], run_pos[runs]
    group_pos = n_pos[group]
    pos_higher = np.subtract(group_pos, pos_below[runs])
    pos_higher -= positives
    pos_higher += np.multiply(positives, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        v01 = np.divide(pos_higher, group_pos, out=group_pos)
    v01_sq = per_group(group, np.multiply(run_neg[runs], np.square(v01, out=v01), out=v01))

    if losses:
        log_loss_sq, squared_sq = rows.loss_squares
        per_row = [rows.log_loss, log_loss_sq, rows.squared_error, squared_sq]
        if not all_kept:
            codes, per_row = codes[keep], [loss[keep] for loss in per_row]
        sums = [np.bincount(codes, weights=loss, minlength=n_groups) for loss in per_row]
    else:
        sums = [np.full(n_groups, np.nan)] * 4
    return ScoreStats(
        n_pos=n_pos.astype(np.int64),
        n_neg=n_neg.astype(np.int64),
        auc_sum=auc_sum,
        v10_sq=v10_sq,
        v01_sq=v01_sq,
        ap_sum=ap_sum,
        log_loss_sum=sums[0],
        log_loss_sq=sums[1],
        brier_sum=sums[2],
        brier_sq=sums[3],
    )


# Below this many (group, score) cells, counting them beats sorting whatever the row count.
_SMALL_TABLE = 1 << 16


def _runs_by_counting(
    codes: np.ndarray, keep: np.ndarray, all_kept: bool, rows: Rows, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group, positives and negatives of each non-empty (group, score) cell, in cell order."""
    ranking = rows.ranking
    cell = np.multiply(codes, ranking.n_scores, dtype=np.int64)
    cell += ranking.ranks
    y_true = rows.y_true
    if not all_kept:
        cell, y_true = cell[keep], y_true[keep]
    size = n_groups * ranking.n_scores
    rows_in = np.bincount(cell, minlength=size)
    positives = np.bincount(cell, weights=y_true, minlength=size)
    used = np.flatnonzero(rows_in)
    run_pos = positives[used]
    return used // ranking.n_scores, run_pos, rows_in[used] - run_pos


def _runs_by_sorting(
    codes: np.ndarray, all_kept: bool, rows: Rows, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `_runs_by_counting`, after a stable sort of the score-sorted rows by group."""
    ranking = rows.ranking
    if n_groups == 1 and all_kept:  # one group: the score order is already the run order
        run_pos, run_neg = rows.score_runs
        return np.zeros(len(run_pos), dtype=np.int64), run_pos, run_neg
    narrow = codes.astype(np.int16 if n_groups < 2**15 else np.int32, copy=False)
    sorted_codes = narrow[rows.order]
    if all_kept:
        position = np.argsort(sorted_codes, kind="stable")  # positions in score order, now by group
    else:
        kept = np.flatnonzero(sorted_codes >= 0)
        position = kept[np.argsort(sorted_codes[kept], kind="stable")]
    if len(position) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    group = sorted_codes[position]
    if ranking.n_scores < len(ranking.sorted_ranks):
        rank = ranking.sorted_ranks[position]
        starts = np.empty(len(position), dtype=bool)
        starts[0] = True
        np.not_equal(group[1:], group[:-1], out=starts[1:])
        starts[1:] |= rank[1:] != rank[:-1]
    if ranking.n_scores == len(ranking.sorted_ranks) or starts.all():  # no two rows of a group tie: a run a row
        run_pos = ranking.sorted_y_true[position].astype(np.float64)
        return group.astype(np.int64), run_pos, 1.0 - run_pos
    first = np.flatnonzero(starts)
    run_rows = np.diff(first, append=len(position))
    run_pos = np.add.reduceat(ranking.sorted_y_true[position], first, dtype=np.int64).astype(np.float64)
    return group[first].astype(np.int64), run_pos, run_rows - run_pos


def _within_group_exclusive_cumsum(values: np.ndarray, run_group: np.ndarray, first_run: np.ndarray) -> np.ndarray:
    """Sum of `values` over the earlier runs of the same group (runs sorted by group; `first_run` of each group)."""
    exclusive = np.cumsum(values)
    exclusive -= values
    group_offset = exclusive[np.minimum(first_run, len(values) - 1)]
    exclusive -= group_offset[run_group]
    return exclusive
