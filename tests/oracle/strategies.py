"""Hypothesis strategies and slice definitions shared by the oracle and property tests.

Each slice family used here comes with an independent way to say which rows belong to which
group (`members`), so the oracle compares against scikit-learn on rows chosen by the test, not
by reportgen.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
from hypothesis import strategies as st

# Few distinct scores, so that ties are frequent; a single drawn value makes every score tied.
SCORE_VALUES = (0.0, 0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 1.0)
GROUP_VALUES = ("a", "b", "c", "d", "e")
H_VALUES = ("x", "y", None)
X_VALUES = (0.0, 0.2, 0.5, 0.7, 1.0, 1.5, np.nan)

SLICES = [
    {"column": "g"},
    {"column": "h"},
    {"columns": ["g", "h"]},
    {"column": "x", "bins": [0, 0.5, 1, 2]},
    {"name": "high", "where": "x >= 0.5"},
]
BIN_GROUPS = {
    "[0, 0.5)": lambda x: (x >= 0) & (x < 0.5),
    "[0.5, 1)": lambda x: (x >= 0.5) & (x < 1),
    "[1, 2]": lambda x: (x >= 1) & (x <= 2),
    "(missing)": np.isnan,
}


@st.composite
def prediction_frames(draw: st.DrawFn, max_rows: int = 300) -> pd.DataFrame:
    """A predictions frame: y (0/1), p (few distinct scores), pred, and slice columns g, h, x.

    Groups of `g` are drawn as mixed, all-negative or all-positive, so single-class groups are
    common; sizes start at one row.
    """
    n = draw(st.integers(1, max_rows))
    n_groups = draw(st.integers(1, len(GROUP_VALUES)))
    g = draw(hnp.arrays(np.int64, n, elements=st.integers(0, n_groups - 1)))
    modes = np.array(
        draw(st.lists(st.sampled_from(["mixed", "mixed", "negative", "positive"]),
                      min_size=n_groups, max_size=n_groups))
    )
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    y = np.where(modes[g] == "negative", 0, np.where(modes[g] == "positive", 1, y))
    support = draw(st.lists(st.sampled_from(SCORE_VALUES), min_size=1, max_size=5, unique=True))
    p = draw(hnp.arrays(np.float64, n, elements=st.sampled_from(support)))
    if draw(st.booleans()):
        pred = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
    else:
        threshold = draw(st.sampled_from([0.0, 0.3, 0.5, 0.9, 1.0]))
        pred = (p >= threshold).astype(np.int64)
    h = draw(hnp.arrays(object, n, elements=st.sampled_from(H_VALUES)))
    x = draw(hnp.arrays(np.float64, n, elements=st.sampled_from(X_VALUES)))
    return pd.DataFrame(
        {"y": y, "p": p, "pred": pred, "g": np.array(GROUP_VALUES)[g], "h": h, "x": x}
    )


def members(frame: pd.DataFrame, slice_name: str, group: str) -> np.ndarray:
    """Rows of `group` in slice `slice_name`, decided from the raw columns (independently of reportgen)."""
    h = frame["h"].fillna("(missing)").astype(str)
    if slice_name == "overall":
        assert group == "overall"
        return np.ones(len(frame), dtype=bool)
    if slice_name == "g":
        return (frame["g"] == group).to_numpy()
    if slice_name == "h":
        return (h == group).to_numpy()
    if slice_name == "g × h":
        return ((frame["g"] + " & " + h) == group).to_numpy()
    if slice_name == "x":
        return np.asarray(BIN_GROUPS[group](frame["x"].to_numpy()), dtype=bool)
    if slice_name == "high":
        assert group == "x >= 0.5"
        return (frame["x"] >= 0.5).to_numpy()
    raise AssertionError(f"unknown slice {slice_name}")


def expected_groups(frame: pd.DataFrame, slice_name: str) -> set[str]:
    """The group labels each slice family should have on `frame`."""
    h = frame["h"].fillna("(missing)").astype(str)
    return {
        "overall": {"overall"},
        "g": set(frame["g"]),
        "h": set(h),
        "g × h": set(frame["g"] + " & " + h),
        "x": {"[0, 0.5)", "[0.5, 1)", "[1, 2]"} | ({"(missing)"} if frame["x"].isna().any() else set()),
        "high": {"x >= 0.5"},
    }[slice_name]
