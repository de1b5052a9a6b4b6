"""Shared test data: a small synthetic predictions frame with demographic columns."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_predictions(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Labels, scores and predictions with `sex`, `race`, `age` and `income` columns."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male"], n)
    race = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    age = rng.integers(18, 80, n)
    income = rng.lognormal(11, 0.5, n).round()
    y = rng.random(n) < np.where(sex == "male", 0.4, 0.25)
    score = np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1).round(3)
    return pd.DataFrame({"y": y.astype(int), "p": score, "pred": (score >= 0.5).astype(int), "sex": sex,
                         "race": race, "age": age, "income": income})
