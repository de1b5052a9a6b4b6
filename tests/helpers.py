"""Shared test helpers: a small synthetic predictions frame, Welch's ANOVA from rows, HTML start tags, GFM tables,
and pages in Chromium."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from markdown_it import MarkdownIt


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


def welch_anova_by_rows(groups: list[np.ndarray]) -> float:
    """Welch's ANOVA p-value written out from the rows (Welch 1951): the oracle of the one computed from moments."""
    from scipy.stats import f as f_dist

    k = len(groups)
    n = np.array([len(g) for g in groups], dtype=float)
    w = n / np.array([g.var(ddof=1) for g in groups])
    means = np.array([g.mean() for g in groups])
    centre = (w * means).sum() / w.sum()
    lam = 3 * ((1 - w / w.sum()) ** 2 / (n - 1)).sum() / (k**2 - 1)
    statistic = (w * (means - centre) ** 2).sum() / (k - 1) / (1 + 2 * (k - 2) * lam / 3)
    return float(f_dist.sf(statistic, k - 1, 1 / lam))


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


# What GitHub links or notifies in the rendered text of a comment (a superset of its patterns: any
# match is a failure). Word joiners are not word characters, so they break each pattern.
GITHUB_REFERENCES = re.compile(
    r"@[a-z0-9]"  # @name, @org/team, user@sha, emails
    r"|#[a-z0-9]"  # #123, owner/repo#123 (and any #word)
    r"|\b[a-z]+-\d"  # GH-123 and custom autolink prefixes such as JIRA-123
    r"|(?<![0-9a-z])[0-9a-f]{7,}"  # a commit SHA (7 to 40 hexadecimal digits)
    r"|[a-z][a-z0-9+.-]*:/|\b(?:mailto|xmpp):\w|www\."  # URLs, www. autolinks
    r"|:[a-z0-9_+-]+:",  # :emoji:
    re.IGNORECASE,
)


def section_text(html: str, section: str) -> str:
    """The unescaped markup of the card's `<section id="...">` of that id."""
    from html import unescape

    start = html.index(f'<section id="{section}">')
    return unescape(html[start:html.index("</section>", start)])


def gfm() -> MarkdownIt:
    """A GitHub-flavoured markdown parser (CommonMark with tables and strikethrough)."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def table_cells(line: str) -> list[str]:
    """A GFM table line split on unescaped pipes (outer pipes dropped)."""
    cells, current, escaped = [], "", False
    for char in line.strip()[1:-1]:
        if char == "|" and not escaped:
            cells.append(current)
            current = ""
        else:
            current += char
        escaped = char == "\\" and not escaped
    return [*cells, current]


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """Each table of a markdown source as rows of cells (header, delimiter, body)."""
    tables: list[list[list[str]]] = []
    previous = ""
    for line in markdown.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(table_cells(line))
        previous = line
    return tables


def assert_valid_tables(markdown: str) -> None:
    """Every table line has the header's cell count, and markdown-it renders each source table as one table."""
    tables = markdown_tables(markdown)
    for rows in tables:
        assert re.fullmatch(r"(:?-+:?)+", "".join(rows[1])), rows[1]
        assert {len(row) for row in rows} == {len(rows[0])}, rows
    tokens = gfm().parse(markdown)
    assert sum(t.type == "table_open" for t in tokens) == len(tables)
    body_rows = sum(t.type == "tr_open" for t in tokens)
    assert body_rows == sum(len(rows) - 1 for rows in tables)  # every line but the delimiter is a row


# Debian's Chromium, driven by Playwright (`browser` fixture in conftest.py); never downloaded.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def open_page(browser: Any, path: Path, *, width: int = 1280, bypass_csp: bool = False) -> tuple[Any, list[str], list[str]]:
    """The page at `path` with every other request blocked, the requests that tried to leave the file,
    and console errors, page errors and dialogs (each dialog dismissed). `bypass_csp` ignores the page's
    Content-Security-Policy (to test the escaping alone)."""
    page = browser.new_page(viewport={"width": width, "height": 900}, bypass_csp=bypass_csp)
    requests: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url == path.as_uri():
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    def dialog(d: Any) -> None:
        errors.append(f"dialog: {d.message}")  # an alert() from injected markup
        d.dismiss()

    page.route("**/*", route)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", dialog)
    page.goto(path.as_uri(), wait_until="load")
    return page, requests, errors
