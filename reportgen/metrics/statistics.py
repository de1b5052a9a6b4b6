"""Per-group sufficient statistics, each computed in one vectorized pass over the rows.

Every metric is a pure function of these statistics, so another engine (DuckDB, Spark) only has
to produce the same small arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        Row indices sorted by ascending score (stable: tied rows keep their row order).
    log_loss, squared_error : ndarray of float64
        Per-row log loss (probabilities clipped to [eps, 1 - eps], as scikit-learn) and (score - label)².
    ranks : ndarray of intp
        Dense rank of each row's score among the distinct scores: equal scores, equal rank.
    n_scores : int
        Number of distinct scores (ranks are in [0, n_scores)).
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    log_loss: np.ndarray
    squared_error: np.ndarray
    ranks: np.ndarray
    n_scores: int

    @classmethod
    def prepare(cls, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray) -> Rows:
        """Sort once by score, rank the scores, and compute the per-row losses."""
        p_true_class = np.where(y_true == 1, scores, 1.0 - scores)
        order = np.argsort(scores, kind="stable")
        ranks, n_scores = _dense_ranks(scores, order)
        return cls(
            y_true=y_true.astype(np.int8, copy=False),
            y_pred=y_pred.astype(np.int8, copy=False),
            scores=scores,
            order=order,
            log_loss=-np.log(np.clip(p_true_class, EPS, 1 - EPS)),
            squared_error=(scores - y_true) ** 2,
            ranks=ranks,
            n_scores=n_scores,
        )


def _dense_ranks(scores: np.ndarray, order: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each score among the distinct scores, given the rows in ascending score order."""
    ranks = np.empty(len(scores), dtype=np.intp)
    if len(scores) == 0:
        return ranks, 0
    ascending = scores[order]
    new_score = np.empty(len(scores), dtype=bool)
    new_score[0] = True
    np.not_equal(ascending[1:], ascending[:-1], out=new_score[1:])
    sorted_ranks = np.cumsum(new_score) - 1
    ranks[order] = sorted_ranks
    return ranks, int(sorted_ranks[-1]) + 1


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
    key = codes.astype(np.int64) * 4 + rows.y_true * 2 + rows.y_pred
    cells = np.bincount(key[keep] if not keep.all() else key, minlength=4 * n_groups)
    return Confusion.from_cells(cells.reshape(n_groups, 4).astype(np.int64))


def score_stats(codes: np.ndarray, rows: Rows, n_groups: int) -> ScoreStats:
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
    """
    keep = codes >= 0
    all_kept = bool(keep.all())
    if n_groups * rows.n_scores <= max(2 * len(codes), _SMALL_TABLE):
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

    # DeLong placements: a positive's share of negatives below it, a negative's share of positives above.
    neg_lower = neg_below + 0.5 * run_neg
    pos_higher = (n_pos[run_group] - pos_below - run_pos) + 0.5 * run_pos
    with np.errstate(divide="ignore", invalid="ignore"):
        v10 = neg_lower / n_neg[run_group]
        v01 = pos_higher / n_pos[run_group]
        tp_at = n_pos[run_group] - pos_below
        fp_at = n_neg[run_group] - neg_below
        precision_at = tp_at / (tp_at + fp_at)

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.bincount(run_group, weights=np.nan_to_num(weights), minlength=n_groups)

    loss_codes = codes if all_kept else codes[keep]
    log_loss = rows.log_loss if all_kept else rows.log_loss[keep]
    squared = rows.squared_error if all_kept else rows.squared_error[keep]
    return ScoreStats(
        n_pos=n_pos.astype(np.int64),
        n_neg=n_neg.astype(np.int64),
        auc_sum=per_group(run_pos * neg_lower),
        v10_sq=per_group(run_pos * v10**2),
        v01_sq=per_group(run_neg * v01**2),
        ap_sum=per_group(run_pos * precision_at),
        log_loss_sum=np.bincount(loss_codes, weights=log_loss, minlength=n_groups),
        log_loss_sq=np.bincount(loss_codes, weights=log_loss**2, minlength=n_groups),
        brier_sum=np.bincount(loss_codes, weights=squared, minlength=n_groups),
        brier_sq=np.bincount(loss_codes, weights=squared**2, minlength=n_groups),
    )


# Below this many (group, score) cells, counting them beats sorting whatever the row count.
_SMALL_TABLE = 1 << 16


def _runs_by_counting(
    codes: np.ndarray, keep: np.ndarray, all_kept: bool, rows: Rows, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group, positives and negatives of each non-empty (group, score) cell, in cell order."""
    cell = codes.astype(np.int64) * rows.n_scores + rows.ranks
    y_true = rows.y_true
    if not all_kept:
        cell, y_true = cell[keep], y_true[keep]
    size = n_groups * rows.n_scores
    rows_in = np.bincount(cell, minlength=size)
    positives = np.bincount(cell, weights=y_true, minlength=size)
    used = np.flatnonzero(rows_in)
    run_pos = positives[used]
    return used // rows.n_scores, run_pos, rows_in[used] - run_pos


def _runs_by_sorting(
    codes: np.ndarray, all_kept: bool, rows: Rows, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As `_runs_by_counting`, after a stable sort of the score-sorted rows by group."""
    order = rows.order
    if not all_kept:
        order = order[codes[order] >= 0]
    if len(order) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    narrow = codes.astype(np.int16 if n_groups < 2**15 else np.int32, copy=False)
    order = order[np.argsort(narrow[order], kind="stable")]
    group = codes[order].astype(np.int64)
    rank = rows.ranks[order]
    positive = rows.y_true[order].astype(bool)

    starts = np.empty(len(order), dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    starts[1:] |= rank[1:] != rank[:-1]
    run = np.cumsum(starts) - 1
    n_runs = int(run[-1]) + 1
    run_pos = np.bincount(run[positive], minlength=n_runs).astype(np.float64)
    run_neg = np.bincount(run, minlength=n_runs) - run_pos
    return group[starts], run_pos, run_neg


def _within_group_exclusive_cumsum(
    values: np.ndarray, run_group: np.ndarray, first_run: np.ndarray
) -> np.ndarray:
    """Sum of `values` over the earlier runs of the same group (runs sorted by group)."""
    exclusive = np.cumsum(values) - values
    group_offset = exclusive[np.minimum(first_run, len(values) - 1)]
    return exclusive - group_offset[run_group]
