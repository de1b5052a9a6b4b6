"""Shared test helpers: a small synthetic predictions frame with demographic columns, and HTML start tags."""

from __future__ import annotations

from html.parser import HTMLParser

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


class _StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def html_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag of an HTML text, with its attributes, in document order."""
    parser = _StartTags()
    parser.feed(html)
    return parser.tags
