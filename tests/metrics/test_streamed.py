"""Rank statistics from a stream of chunks in ascending score order (`reportgen.metrics.streamed`) against the
in-memory ones (`statistics.score_stats`, `curves`), which are tested against scikit-learn: any chunking, ties
split across chunks, rows in no group, groups of one class."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from reportgen.metrics import curves
from reportgen.metrics.statistics import Rows, score_stats
from reportgen.metrics.streamed import RANK_SUMS, ScoreStream


@given(st.integers(1, 400), st.integers(0, 2**32 - 1), st.sampled_from([1, 2, 3, 1000]), st.integers(1, 97),
       st.booleans())
def test_chunks_in_score_order_give_the_in_memory_statistics(n: int, seed: int, decimals: int, chunk: int,
                                                             with_curves: bool) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(n), decimals)  # few decimals: long runs of ties, split across chunks
    y = (rng.random(n) < scores).astype(np.int8)
    codes = [np.zeros(n, dtype=np.int64), rng.integers(-1, 4, n)]  # overall, and groups with rows in none
    rows = Rows.prepare(y, (scores >= 0.5).astype(np.int8), scores)
    expected = [score_stats(codes[0], rows, 1), score_stats(codes[1], rows, 4)]
    order = np.argsort(scores, kind="stable")
    stream = ScoreStream([(e.n_pos, e.n_neg) for e in expected], len(np.unique(scores)) if with_curves else None)
    for start in range(0, n, chunk):
        part = order[start:start + chunk]
        stream.add(scores[part], y[part], [c[part] for c in codes])
    sums, found = stream.finish()
    for family, stats in zip(sums, expected, strict=True):
        for name in RANK_SUMS:
            np.testing.assert_allclose(family[name], getattr(stats, name), rtol=1e-12, atol=1e-12, err_msg=name)
    if with_curves:
        assert found.roc == curves.roc_curve(rows)
        assert found.precision_recall == curves.precision_recall_curve(rows)
        assert found.thresholds == curves.best_thresholds(rows)
    else:
        assert found.roc is None and found.precision_recall is None and found.thresholds.f1 is None
