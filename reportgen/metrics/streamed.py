"""Rank statistics from a stream of rows in ascending score order: what an engine that sorts out of core (DuckDB)
hands over chunk by chunk, so no more than a chunk of rows is ever in memory.

`ScoreStream` keeps, per slice family, the positives and negatives seen so far in each group, and adds up the
rank sums of `reportgen.metrics.statistics.score_stats` chunk by chunk (`rank_sums_of_chunk`); over the whole
set it also keeps the curve vertices a chart draws and the best thresholds (`reportgen.metrics.curves`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reportgen.metrics import curves
from reportgen.metrics.statistics import rank_sums_of_chunk

RANK_SUMS = ("auc_sum", "v10_sq", "ap_sum", "v01_sq")


@dataclass(frozen=True)
class StreamedCurves:
    """The whole set's curve data from a stream: ROC and precision-recall curves, and the best thresholds."""

    roc: curves.Curve | None
    precision_recall: curves.Curve | None
    thresholds: curves.ThresholdChoice


class ScoreStream:
    """Accumulates rank sums per family, and the whole set's curve vertices, over chunks in ascending score order.

    Parameters
    ----------
    totals : list of (ndarray, ndarray)
        Per family, the positives and negatives of each group over the whole stream.
    n_scores : int or None
        Distinct scores over the whole stream (the curves are thinned to vertices chosen from it); None for rank
        sums alone, without curves.
    """

    def __init__(self, totals: list[tuple[np.ndarray, np.ndarray]], n_scores: int | None) -> None:
        self._totals = [(pos.astype(np.float64), neg.astype(np.float64)) for pos, neg in totals]
        self._earlier = [(np.zeros(len(pos)), np.zeros(len(pos))) for pos, _ in totals]
        self._sums = [{name: np.zeros(len(pos)) for name in RANK_SUMS} for pos, _ in totals]
        overall_pos, overall_neg = (float(t.sum()) for t in self._totals[0])
        self._positives, self._negatives = overall_pos, overall_neg
        self._curves = n_scores is not None
        self._n_scores = n_scores or 0
        self._keep = curves.thinned(self._n_scores + 1)  # vertex i: the rows scored at or above the i-th highest score
        self._tps, self._fps = np.zeros(len(self._keep)), np.zeros(len(self._keep))
        self._runs_seen, self._pos_below, self._neg_below = 0, 0.0, 0.0
        self._best = {"f1": (-np.inf, None), "youden": (-np.inf, None)}
        self._held: tuple[np.ndarray, np.ndarray, list[np.ndarray]] | None = None

    def add(self, scores: np.ndarray, y_true: np.ndarray, codes: list[np.ndarray]) -> None:
        """Take the next chunk: scores ascending (continuing the stream), labels (1 positive) and each family's
        group codes. The chunk's last run of tied scores is held back until the next chunk or `finish`."""
        if self._held is not None:
            held_scores, held_y, held_codes = self._held
            scores = np.concatenate([held_scores, scores])
            y_true = np.concatenate([held_y, y_true])
            codes = [np.concatenate([a, b]) for a, b in zip(held_codes, codes, strict=True)]
        if not len(scores):
            self._held = None
            return
        cut = int(np.searchsorted(scores, scores[-1], side="left"))
        self._held = scores[cut:], y_true[cut:], [c[cut:] for c in codes]
        if cut:
            self._take(scores[:cut], y_true[:cut], [c[:cut] for c in codes])

    def _take(self, scores: np.ndarray, y_true: np.ndarray, codes: list[np.ndarray]) -> None:
        for family, family_codes in enumerate(codes):
            pos, neg = self._totals[family]
            chunk_pos, chunk_neg, sums = rank_sums_of_chunk(family_codes, y_true, scores, len(pos),
                                                            (pos, neg), self._earlier[family])
            earlier_pos, earlier_neg = self._earlier[family]
            self._earlier[family] = (earlier_pos + chunk_pos, earlier_neg + chunk_neg)
            for name, value in zip(RANK_SUMS, sums, strict=True):
                self._sums[family][name] += value
        if self._curves:
            self._vertices(scores, y_true)

    def _vertices(self, scores: np.ndarray, y_true: np.ndarray) -> None:
        """The whole set's runs of tied scores in this chunk: their vertices and threshold criteria."""
        first = np.flatnonzero(np.r_[True, scores[1:] != scores[:-1]])
        run_pos = np.add.reduceat(y_true.astype(np.float64), first)
        run_neg = np.diff(np.r_[first, len(scores)]) - run_pos
        pos_below = self._pos_below + np.cumsum(run_pos) - run_pos
        neg_below = self._neg_below + np.cumsum(run_neg) - run_neg
        tps, fps = self._positives - pos_below, self._negatives - neg_below
        local = self._n_scores - self._keep - self._runs_seen  # vertex i is the run D - i in ascending order
        wanted = (local >= 0) & (local < len(first))
        self._tps[wanted], self._fps[wanted] = tps[local[wanted]], fps[local[wanted]]
        if self._positives and self._negatives:
            for name, value in (("f1", 2 * tps / (tps + fps + self._positives)),
                                ("youden", tps / self._positives - fps / self._negatives)):
                best = len(value) - 1 - int(np.argmax(value[::-1]))  # of equal values, the highest score
                if value[best] >= self._best[name][0]:
                    self._best[name] = (float(value[best]), float(scores[first[best]]))
        self._runs_seen += len(first)
        self._pos_below += float(run_pos.sum())
        self._neg_below += float(run_neg.sum())

    def finish(self) -> tuple[list[dict[str, np.ndarray]], StreamedCurves]:
        """Each family's rank sums (`ScoreStats`' auc_sum, v10_sq, ap_sum, v01_sq) and the whole set's curves."""
        if self._held is not None:
            held = self._held
            self._held = None
            self._take(*held)
        roc = precision_recall = None
        thresholds = curves.ThresholdChoice(None, None, None, None)
        if self._positives and self._curves:
            precision_recall = curves.precision_recall_points(self._keep, self._tps, self._fps, self._positives)
        if self._positives and self._negatives and self._curves:
            roc = curves.roc_points(self._tps, self._fps, self._positives, self._negatives)
            (f1, f1_at), (youden, youden_at) = self._best["f1"], self._best["youden"]
            thresholds = curves.ThresholdChoice(f1_at, f1, youden_at, youden)
        return self._sums, StreamedCurves(roc, precision_recall, thresholds)
