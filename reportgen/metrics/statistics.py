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
    order : ndarray of int32 (int64 past 2**31 rows)
        Row indices sorted by ascending score (ties in any order: every statistic sums over tie blocks).
    log_loss, squared_error : ndarray of float64
        Per-row log loss (probabilities clipped to [eps, 1 - eps], as scikit-learn) and (score - label)².
    ranking : Ranking
        The scores' dense ranks, from `order`.

    Derived arrays (tie runs, confusion cells, squares of the losses) are computed on first use and kept.
    """

    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray
    order: np.ndarray
    log_loss: np.ndarray
    squared_error: np.ndarray
    ranking: Ranking

    @classmethod
    def prepare(cls, y_true: np.ndarray, y_pred: np.ndarray, scores: np.ndarray) -> Rows:
        """Sort once by score and compute the per-row losses and ranks.

        Everything derived is computed here, before any slice family uses it, so families can be
        evaluated on several threads without computing a cached value twice.
        """
        p_true_class = np.where(y_true == 1, scores, 1.0 - scores)
        y_true = y_true.astype(np.int8, copy=False)
        order, ascending = score_order(scores)
        rows = cls(
            y_true=y_true,
            y_pred=y_pred.astype(np.int8, copy=False),
            scores=scores,
            order=order,
            log_loss=-np.log(np.clip(p_true_class, EPS, 1 - EPS)),
            squared_error=(scores - y_true) ** 2,
            ranking=Ranking.of(order, ascending, y_true[order]),
        )
        for derived in ("score_runs", "cell", "loss_squares"):
            getattr(rows, derived)
        return rows

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
    ranks : ndarray of int32 (int64 past 2**31 rows)
        Rank of each row's score, in [0, n_scores).
    n_scores : int
        Number of distinct scores.
    sorted_ranks, sorted_y_true : ndarray
        Ranks and labels (int8, 1 for positive) of the rows in ascending score order.
    """

    ranks: np.ndarray
    n_scores: int
    sorted_ranks: np.ndarray
    sorted_y_true: np.ndarray

    @classmethod
    def of(cls, order: np.ndarray, ascending: np.ndarray, sorted_y_true: np.ndarray) -> Ranking:
        """Rank scores from the rows in ascending score order (`order`), their scores and labels in that order."""
        n_rows = len(order)
        index = index_type(n_rows)
        new_score = np.empty(n_rows, dtype=bool)
        new_score[:1] = True
        np.not_equal(ascending[1:], ascending[:-1], out=new_score[1:])
        sorted_ranks = np.cumsum(new_score, dtype=index)
        sorted_ranks -= 1
        ranks = np.empty(n_rows, dtype=index)
        ranks[order] = sorted_ranks
        n_scores = int(sorted_ranks[-1]) + 1 if n_rows else 0
        return cls(ranks, n_scores, sorted_ranks, sorted_y_true)


def index_type(n_rows: int) -> type[np.signedinteger]:
    """int32 for row positions and ranks where they fit (half the memory of intp), else int64."""
    return np.int32 if n_rows < np.iinfo(np.int32).max else np.int64


def score_order(scores: np.ndarray, positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows by ascending score (ties in any order) and the scores in that order; scores in [0, 1].

    The same order as `np.argsort`, several times faster: the bits of a non-negative float64
    ascend with its value, so one `np.sort` of integer keys (the score's leading bits, then the
    row index in the low bits) orders the rows. Scores that agree in their leading bits but not
    in the rest (relatively closer than 1e-9 at 10M rows, 1e-15 at 1,000) then sit in index
    order; those runs are re-sorted by the full score. `positions`, ``arange(rows)`` as uint32,
    may be passed in to be shared between calls.

    Examples
    --------
    >>> order, ascending = score_order(np.array([0.5, 0.25, 1.0, 0.25]))
    >>> ascending.tolist()
    [0.25, 0.25, 0.5, 1.0]
    """
    n_rows = len(scores)
    index_bits = max((n_rows - 1).bit_length(), 2)
    if index_bits > 32:
        order = np.argsort(scores)
        return order, scores[order]
    # A float64 in [0, 1] has its top two bits clear: keep its next 64 - index_bits bits (+ 0.0 makes -0.0 zero).
    shift = np.uint64(index_bits - 2)
    key = np.add(scores, 0.0, dtype=np.float64).view(np.uint64)
    key >>= shift
    key <<= np.uint64(index_bits)
    key |= np.arange(n_rows, dtype=np.uint32) if positions is None else positions
    key.sort()
    key &= np.uint64((1 << index_bits) - 1)
    order = key.astype(index_type(n_rows))
    del key
    ascending = scores[order]
    descents = np.flatnonzero(ascending[1:] < ascending[:-1])
    if len(descents):  # re-sort each run of equal leading bits that holds a descent, by the full score
        prefix = np.add(ascending, 0.0).view(np.uint64) >> shift
        run = np.empty(n_rows, dtype=bool)
        run[0] = True
        np.not_equal(prefix[1:], prefix[:-1], out=run[1:])
        del prefix
        run = np.cumsum(run, dtype=index_type(n_rows))
        unsorted = np.zeros(int(run[-1]) + 1, dtype=bool)
        unsorted[run[descents]] = True
        positions = np.flatnonzero(unsorted[run])
        resorted = positions[np.lexsort((ascending[positions], run[positions]))]
        order[positions] = order[resorted]
        ascending[positions] = ascending[resorted]
    return order, ascending


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
    (group, score rank) cells when there are few of them; otherwise from the score-sorted rows
    (`rows.order`) stably sorted by group code, which keeps scores ascending within each group.
    Where no two rows of a group share a score, each run is one row and the counts below each
    row follow from its position in that order, without sums over the runs.

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
    if not keep.any():
        zeros = np.zeros(n_groups)
        return ScoreStats(zeros.astype(np.int64), zeros.astype(np.int64), *([zeros] * 8))
    all_kept = bool(keep.all())
    ranking = rows.ranking
    if n_groups * ranking.n_scores <= max(len(codes) // 4, _SMALL_TABLE) and not (n_groups == 1 and all_kept):
        n_pos, n_neg, sums = _rank_sums_of_runs(*_runs_by_counting(codes, keep, all_kept, rows, n_groups), n_groups)
    elif _runs_of_one_row(codes, rows, n_groups):
        n_pos, n_neg, sums = _rank_sums_of_rows(codes, all_kept, rows, n_groups)
    else:
        n_pos, n_neg, sums = _rank_sums_of_runs(*_runs_by_sorting(codes, all_kept, rows, n_groups), n_groups)
    auc_sum, v10_sq, ap_sum, v01_sq = sums

    if losses:
        log_loss_sq, squared_sq = rows.loss_squares
        per_row = [rows.log_loss, log_loss_sq, rows.squared_error, squared_sq]
        if not all_kept:
            codes, per_row = codes[keep], [loss[keep] for loss in per_row]
        codes = codes.astype(np.intp, copy=False)  # bincount would convert the codes on each call
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


def _rank_sums_of_rows(
    codes: np.ndarray, all_kept: bool, rows: Rows, n_groups: int
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Positives and negatives per group, and `_rank_sums_of_runs`'s sums, when every run is one row: from the positives alone.

    In the rows sorted by group, then score, the i-th positive of its group, at position p, has
    i positives and ``neg_below = p - i`` negatives of its group before it (those of earlier
    groups taken off). The negatives' DeLong placements need no pass over the negatives: the
    ``neg_below[i] - neg_below[i - 1]`` negatives between positives i - 1 and i all have
    ``group_pos - i`` positives above them (those above every positive have none, and add 0).
    In a one-vs-rest class of a multiclass task the positives are a small share of the rows.
    """
    labels, group_ends = _labels_by_group(codes, all_kept, rows, n_groups)
    positive = np.flatnonzero(labels.view(bool))  # labels are 0 or 1: as booleans, found faster
    del labels
    pos_ends = np.searchsorted(positive, group_ends)
    n_pos = np.diff(pos_ends, prepend=0)
    n_neg = np.diff(group_ends, prepend=0) - n_pos
    pos_starts = pos_ends - n_pos
    group = np.repeat(np.arange(n_groups), n_pos)
    pos_below = np.arange(len(positive), dtype=np.float64)
    neg_below = np.subtract(positive, pos_below)
    neg_below -= (group_ends - n_pos - n_neg - pos_starts)[group]  # negatives of earlier groups
    pos_below -= pos_starts[group]
    group_pos = n_pos.astype(np.float64)[group]
    group_neg = n_neg.astype(np.float64)[group]

    def per_group(weights: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=n_groups)

    pos_above = np.subtract(group_pos, pos_below, out=pos_below)  # this positive and those above it
    neg_between = np.diff(neg_below, prepend=0.0)
    first = pos_starts[n_pos > 0]
    neg_between[first] = neg_below[first]
    v01_sq = per_group(np.multiply(neg_between, np.square(pos_above / group_pos), out=neg_between))
    auc_sum = per_group(neg_below)
    fp_at = np.subtract(group_neg, neg_below)
    fp_at += pos_above
    ap_sum = per_group(np.divide(pos_above, fp_at, out=fp_at))
    with np.errstate(divide="ignore", invalid="ignore"):  # a group of positives only: 0/0, counted as 0
        v10 = np.divide(neg_below, group_neg, out=neg_below)
    np.copyto(v10, 0.0, where=group_neg == 0)
    v10_sq = per_group(np.square(v10, out=v10))
    return n_pos, n_neg, (auc_sum, v10_sq, ap_sum, v01_sq)


def _rank_sums_of_runs(
    run_group: np.ndarray, run_pos: np.ndarray, run_neg: np.ndarray, n_groups: int,
    totals: tuple[np.ndarray, np.ndarray] | None = None, earlier: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per group: positives, negatives, and the AUC sum, the squared DeLong placements of positives, the AP sum,
    those of negatives; from the runs (group, positives, negatives), sorted by group, then score.

    The runs may be one chunk of a longer ascending stream (`rank_sums_of_chunk`): then `totals` are each
    group's positives and negatives in the whole stream and `earlier` those in the chunks before; the
    positives and negatives returned are still the chunk's own.

    Each sum is weighted by the run's positives (AUC, v10, AP) or negatives (v01), so it runs over
    the runs holding some (the others would add exact zeros), operation for operation as
      neg_lower = neg_below + 0.5 * run_neg;  pos_higher = (group_pos - pos_below - run_pos) + 0.5 * run_pos
      v10 = neg_lower / group_neg;  v01 = pos_higher / group_pos
      precision_at = tp_at / (tp_at + fp_at), tp_at = group_pos - pos_below, fp_at = group_neg - neg_below
    """
    chunk_pos = np.bincount(run_group, weights=run_pos, minlength=n_groups)
    chunk_neg = np.bincount(run_group, weights=run_neg, minlength=n_groups)
    n_pos, n_neg = (chunk_pos, chunk_neg) if totals is None else (totals[0].astype(np.float64),
                                                                  totals[1].astype(np.float64))
    first_run = np.searchsorted(run_group, np.arange(n_groups))
    pos_below = _within_group_exclusive_cumsum(run_pos, run_group, first_run)
    neg_below = _within_group_exclusive_cumsum(run_neg, run_group, first_run)
    if earlier is not None:
        pos_below += earlier[0][run_group]
        neg_below += earlier[1][run_group]

    def per_group(group: np.ndarray, weights: np.ndarray) -> np.ndarray:  # NaN (0/0 of an empty class) counts 0
        np.copyto(weights, 0.0, where=np.isnan(weights))
        return np.bincount(group, weights=weights, minlength=n_groups)

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
    return chunk_pos, chunk_neg, (auc_sum, v10_sq, ap_sum, v01_sq)


def rank_sums_of_chunk(
    codes: np.ndarray, y_true: np.ndarray, scores: np.ndarray, n_groups: int,
    totals: tuple[np.ndarray, np.ndarray], earlier: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """`_rank_sums_of_runs` of one chunk of a stream of rows in ascending score order (an engine's sorted scan).

    Every run of tied scores must lie in one chunk. `totals`: positives and negatives per group in the whole
    stream; `earlier`: in the chunks before this one. Summing the returned sums over the chunks gives
    `score_stats`'s, up to the order of floating-point additions.

    Parameters
    ----------
    codes : ndarray of int
        Group code per row in [0, n_groups); negative codes are left out.
    y_true : ndarray of int
        1 for a positive row, else 0.
    scores : ndarray of float64
        Ascending.
    n_groups : int
        Number of groups.
    totals, earlier : tuple of ndarray
        (positives, negatives) per group.

    Returns
    -------
    tuple
        The chunk's positives and negatives per group, and its (AUC, v10², AP, v01²) sums per group.
    """
    keep = np.flatnonzero(codes >= 0)
    if not len(keep):
        zeros = np.zeros(n_groups)
        return zeros, zeros.copy(), (zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy())
    group = np.asarray(codes)[keep]
    position = keep[np.argsort(group, kind="stable")]  # by group, ascending score within each group
    group = np.asarray(codes)[position].astype(np.int64)
    ranked = scores[position]
    starts = np.ones(len(position), dtype=bool)
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    starts[1:] |= ranked[1:] != ranked[:-1]
    first = np.flatnonzero(starts)
    run_rows = np.diff(first, append=len(position))
    run_pos = np.add.reduceat(np.asarray(y_true, dtype=np.int64)[position], first).astype(np.float64)
    return _rank_sums_of_runs(group[first], run_pos, run_rows - run_pos, n_groups, totals=totals, earlier=earlier)


# Below this many (group, score) cells, counting them beats sorting whatever the row count.
_SMALL_TABLE = 1 << 16
# `_runs_of_one_row` looks for ties within groups only among few tied rows: up to `_SMALL_TABLE` or one in `_FEW_TIES`.
_FEW_TIES = 16


def _runs_of_one_row(codes: np.ndarray, rows: Rows, n_groups: int) -> bool:
    """Whether no two rows of one group share a score (False also when too many scores tie to check cheaply)."""
    sorted_ranks = rows.ranking.sorted_ranks
    n_tied = len(sorted_ranks) - rows.ranking.n_scores
    if n_tied == 0:
        return True
    if n_tied > max(len(sorted_ranks) // _FEW_TIES, _SMALL_TABLE):
        return False
    repeats = np.flatnonzero(sorted_ranks[1:] == sorted_ranks[:-1])
    tied = np.union1d(repeats, repeats + 1)  # positions in score order of the rows sharing their score
    group = codes[rows.order[tied]]
    kept = group >= 0
    cell = sorted_ranks[tied][kept].astype(np.int64) * n_groups + group[kept]
    return len(np.unique(cell)) == len(cell)


def _labels_by_group(codes: np.ndarray, all_kept: bool, rows: Rows, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels of the kept rows sorted by group, then score, and where each group's rows end in that order."""
    ranking = rows.ranking
    if n_groups == 1 and all_kept:  # one group: the score order is already the group order
        return ranking.sorted_y_true, np.array([len(codes)])
    position, group = _group_order(codes, all_kept, rows, n_groups)
    return ranking.sorted_y_true[position], np.searchsorted(group, np.arange(1, n_groups + 1, dtype=group.dtype))


def _group_order(codes: np.ndarray, all_kept: bool, rows: Rows, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions in score order of the kept rows, stably sorted by group code; and their codes in that order.

    numpy's stable sort of 8- and 16-bit integers is a radix (counting) sort: O(rows), one pass
    over the rows per byte, so the codes are narrowed to the fewest bytes that hold them.
    """
    narrow = codes.astype(np.int8 if n_groups < 2**7 else np.int16 if n_groups < 2**15 else np.int32, copy=False)
    sorted_codes = narrow[rows.order]
    position = np.argsort(sorted_codes, kind="stable")  # rows in no group (code -1) come first
    if not all_kept:
        position = position[np.count_nonzero(sorted_codes < 0):]
    return position, sorted_codes[position]


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
    """As `_runs_by_counting`, after a stable sort of the score-sorted rows by group (`_group_order`)."""
    ranking = rows.ranking
    if n_groups == 1 and all_kept:  # one group: the score order is already the run order
        run_pos, run_neg = rows.score_runs
        return np.zeros(len(run_pos), dtype=np.int64), run_pos, run_neg
    position, group = _group_order(codes, all_kept, rows, n_groups)
    rank = ranking.sorted_ranks[position]
    starts = np.empty(len(position), dtype=bool)
    starts[0] = True
    np.not_equal(group[1:], group[:-1], out=starts[1:])
    starts[1:] |= rank[1:] != rank[:-1]
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
