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
        Row indices sorted by ascending score.
    log_loss, squared_error : ndarray of float64
        Per-row log loss (probabilities clipped to [eps, 1 - eps], as scikit-learn) and (score - label)².
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    log_loss: np.ndarray
    squared_error: np.ndarray

    @classmethod
    def prepare(cls, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray) -> Rows:
        """Sort once by score and compute the per-row losses."""
        p_true_class = np.where(y_true == 1, scores, 1.0 - scores)
        return cls(
            y_true=y_true.astype(np.int8, copy=False),
            y_pred=y_pred.astype(np.int8, copy=False),
            scores=scores,
            order=np.argsort(scores, kind="stable"),
            log_loss=-np.log(np.clip(p_true_class, EPS, 1 - EPS)),
            squared_error=(scores - y_true) ** 2,
        )


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
    """Rank-based and loss statistics per group after one stable sort by group.

    Rows arrive sorted by score (`rows.order`); a stable sort by group code keeps scores ascending
    within each group. Runs of equal (group, score) are the tie blocks: each positive counts the
    negatives below its block plus half of those in it (Mann-Whitney U, exact with ties).

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); negative codes are left out.
    rows : Rows
        The shared per-row arrays.
    n_groups : int
        Number of groups.
    """
    order = rows.order
    if (codes < 0).any():
        order = order[codes[order] >= 0]
    narrow = codes.astype(np.int16 if n_groups < 2**15 else np.int32, copy=False)
    order = order[np.argsort(narrow[order], kind="stable")]
    group = codes[order].astype(np.int64)
    score = rows.scores[order]
    positive = rows.y_true[order].astype(bool)

    if len(order) == 0:
        zeros = np.zeros(n_groups)
        return ScoreStats(zeros.astype(np.int64), zeros.astype(np.int64), *([zeros] * 8))

    starts = np.empty(len(order), dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    starts[1:] |= score[1:] != score[:-1]
    run = np.cumsum(starts) - 1
    n_runs = int(run[-1]) + 1
    run_group = group[starts]
    run_pos = np.bincount(run[positive], minlength=n_runs).astype(np.float64)
    run_neg = np.bincount(run, minlength=n_runs) - run_pos

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

    keep = codes >= 0
    loss_codes = codes[keep] if not keep.all() else codes
    log_loss = rows.log_loss[keep] if not keep.all() else rows.log_loss
    squared = rows.squared_error[keep] if not keep.all() else rows.squared_error
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


def _within_group_exclusive_cumsum(
    values: np.ndarray, run_group: np.ndarray, first_run: np.ndarray
) -> np.ndarray:
    """Sum of `values` over the earlier runs of the same group (runs sorted by group)."""
    exclusive = np.cumsum(values) - values
    group_offset = exclusive[np.minimum(first_run, len(values) - 1)]
    return exclusive - group_offset[run_group]
