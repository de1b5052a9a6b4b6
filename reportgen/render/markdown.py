"""The pull-request summary (`summary.md`): the card's key results as GitHub-flavoured markdown.

It is meant for a pull-request comment or `$GITHUB_STEP_SUMMARY`, so it is short, it never exceeds a
size limit (GitHub's comment limit by default), and no text from the user's data or config can turn
into markup. The content lives in `templates/summary.md.j2`, one macro per block; this module
renders the blocks in priority order and keeps them while they fit.

Safety: the Jinja environment markdown-escapes every `{{ }}` output (its `finalize` hook) unless the
value is `Md`, markup this module built itself (percent-encoded links, a hexadecimal code span, text
escaped for an HTML context). Escaping (`escape`, `escape_html`) makes user text inert twice over:

- markdown: control characters become spaces, bidirectional overrides are dropped, markdown
  punctuation is backslash-escaped and `&`, `<`, `>` become entities, so no markup, HTML, link,
  image or table break comes out;
- GitHub: what GitHub turns into a link or a notification *after* rendering is broken by an
  invisible word joiner (U+2060): `@name`, `@org/team` and emails (after "@"), `#123` and
  `owner/repo#1` (after "#"), `GH-123` and other `PREFIX-123` references (after the "-"), commit
  SHAs (every run of 7 or more hexadecimal characters is split into runs of at most 6), bare
  URLs and `www.` (after the scheme's ":" and after "www"), and `:emoji:` shortcodes. A backslash
  (`\\#1`) or an entity (`&#35;1`) is not enough: GitHub finds references in the rendered text,
  where both have become "#1" again. The reader sees the same characters; a copy holds the joiners.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import jinja2

from reportgen.document.schema import (
    ComparisonResult,
    FairnessGap,
    FairnessResult,
    GroupResult,
    MetricChange,
    Report,
    SliceResult,
)
from reportgen.formatting import count, num, pct, pvalue, signed
from reportgen.labels import ELLIPSIS, shorten
from reportgen.render import templates
from reportgen.vocabulary import OVERALL, RATE_LABELS, SLICE_METRICS, headline_metrics

GITHUB_COMMENT_LIMIT = 65_536  # characters in an issue or pull-request comment
PUBLISHED = ("report.html", "report.pdf", "report.json")  # the files a summary may link to
CELL = 80  # characters of user text in a table cell, a heading or a list
SENTENCE = 400  # characters of a generated sentence (a gate's outcome, a finding's detail)
MAX_FINDINGS = 5
MAX_ROWS = 20  # rows of the gates and fairness tables
MAX_GROUPS = 25  # rows of a slice table
MAX_LISTED = 5  # sensitive columns named in a sentence
MAX_REGRESSIONS = 10  # flagged regressions listed per baseline


class Md(str):
    """Markdown built by this module (not user text): the environment's `finalize` leaves it as is.

    Operations on it (`+`, `join`, formatting) return a plain `str`, which is escaped again.
    """

    __slots__ = ()


# -------------------------------------------------------------------------------------------- escaping

# Line breaks, tabs and other control characters become spaces (they could end a table row or
# start a heading); bidirectional overrides are dropped (they could make text read backwards).
_CONTROLS = {code: " " for code in [*range(0x20), 0x7F, 0x85, 0x2028, 0x2029]}
_BIDI = {code: None for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C]}
_PLAIN = str.maketrans({**_CONTROLS, **_BIDI})
# Markdown punctuation that can start emphasis, code, links, images, tables, headings, strikethrough
# or math is backslash-escaped; &, < and > become entities (no entity, HTML tag or autolink).
_MARKDOWN = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: "\\" + c for c in "\\`*_[]|~#!$"}
)
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
# GitHub turns "@name" and "@org/team" into mentions, "#1", "owner/repo#1" and "GH-1" into issue
# references, a 7-40 digit hexadecimal word into a commit link, "http://…", "www.…" and "a@b.c"
# into links and ":name:" into an emoji. An invisible word joiner (U+2060) after "@", after "#",
# after the "-" of "GH-1" (a word of letters, "-", a digit: custom autolink prefixes too), after
# "www", after a ":" followed by a word character or "/", and after every 6th character of a run of
# 7 or more hexadecimal characters breaks each pattern without changing what the reader sees.
_JOIN = "\u2060"
_DEFUSE = re.compile(r"[@#]|\b[a-z]+-(?=\d)|(?<=www)(?=\.)|:(?=[\w/+-])", re.IGNORECASE)
_HEX_RUN = re.compile(r"[0-9a-f]{7,}", re.IGNORECASE)
_HEX_CHUNK = 6  # a run of hexadecimal characters longer than this could name a commit


def cap(text: object, width: int = CELL) -> str:
    """User text on one line, at most `width` characters.

    A longer text loses its middle (replaced by an ellipsis), so names that differ only at the
    end (e.g. "… store 0412") stay apart.

    Examples
    --------
    >>> cap("a very\\nlong name", 10)
    'a very…ame'
    """
    return shorten(str(text).translate(_PLAIN).strip(), width)


def sentence(text: object, width: int = SENTENCE) -> str:
    """Generated text (which may quote user text) on one line, at most `width` characters, cut at the end."""
    plain = str(text).translate(_PLAIN).strip()
    return plain if len(plain) <= width else plain[: width - 1].rstrip() + ELLIPSIS


def interval(value: Any) -> str:
    """A value's confidence interval, "0.812–0.845", kept on one line (word joiners around the dash)."""
    return f"{num(value.ci_low)}{_JOIN}–{_JOIN}{num(value.ci_high)}"


def _defuse(text: str) -> str:
    """Word joiners where GitHub would find a mention, a reference, a commit, a link or an emoji."""
    text = _HEX_RUN.sub(lambda match: _split(match.group(0)), text)
    return _DEFUSE.sub(lambda match: match.group(0) + _JOIN, text)


def _split(run: str) -> str:
    """A run of hexadecimal characters with a word joiner after every `_HEX_CHUNK` of them."""
    return _JOIN.join(run[i:i + _HEX_CHUNK] for i in range(0, len(run), _HEX_CHUNK))


def escape(text: object) -> str:
    """Text made inert for inline markdown: no markup, link, mention, HTML or table break can come out.

    Examples
    --------
    >>> escape("[x](javascript:alert(1)) a|b <b>")
    '\\\\[x\\\\](javascript:\\u2060alert(1)) a\\\\|b &lt;b&gt;'
    """
    return _defuse(str(text).translate(_PLAIN)).translate(_MARKDOWN)


def escape_html(text: object, width: int = CELL) -> Md:
    """User text for an HTML context inside the markdown (a `<summary>`): capped, entity-escaped."""
    return Md(_defuse(cap(text, width)).translate(_HTML))


def _finalize(value: object) -> str:
    """Every `{{ }}` output: `Md` as is, None as an en dash, anything else capped and escaped."""
    if isinstance(value, Md):
        return value
    if value is None:
        return "–"
    return escape(sentence(value) if len(str(value)) > SENTENCE else value)


def fingerprint(value: str) -> Md:
    """A data fingerprint's first 12 hexadecimal digits as a code span ("sha256:" dropped)."""
    digits = "".join(c for c in value.rpartition(":")[2].lower() if c in "0123456789abcdef")[:12]
    return Md(f"`{digits}`") if digits else Md("–")


def _base_url(url: str) -> Md:
    """The published report folder as a link target: http(s) only, percent-encoded, no trailing slash."""
    url = url.strip().rstrip("/")
    if urlparse(url).scheme.lower() not in ("http", "https"):
        raise ValueError(f'base_url "{url}" is not an http(s) address')
    # keep the characters that structure a URL; encode spaces, parentheses, <, >, quotes, backslashes
    return Md(quote(url, safe=":/?#@!$&'*+,;=%~"))


# ----------------------------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class _Block:
    """One part of the summary: what it is called in the truncation note (`kind`), and its markdown."""

    kind: str
    text: str


@dataclass(frozen=True)
class _GateCounts:
    total: int
    failed: int
    unchecked: int


@dataclass(frozen=True)
class _SliceView:
    """A slice table as shown: the chosen groups and metrics, how many groups have a weak metric, which notes
    apply, and what the minimum support counts for the values greyed one by one (`small_units`)."""

    result: SliceResult
    groups: list[GroupResult]
    names: list[str]
    weak: int
    notes: list[str]
    small_units: list[str]


@functools.cache
def _environment() -> jinja2.Environment:
    env = templates.environment(autoescape=False, finalize=_finalize)  # markdown: `finalize` escapes
    env.filters.update(num=num, signed=signed, pct=pct, pvalue=pvalue, count=count, cap=cap, sentence=sentence,
                       interval=interval, html=escape_html, fingerprint=fingerprint)
    env.globals.update(rate_labels=RATE_LABELS)
    return env


def _macros(report: Report, files: Sequence[str]) -> Any:
    labels = {m.name: m.label for m in [*report.metrics.metrics, *report.metrics.class_metrics]}
    template = _environment().get_template("summary.md.j2")
    return template.make_module({"metric_labels": labels, "report": report, "files": list(files),
                                 "links": functools.partial(_links, files=files)})


def _links(base: Md, *, files: Sequence[str]) -> Md:
    """Links to the published files: "**[Full report](…/report.html)** · [PDF](…) · [JSON](…)"."""
    labels = {"report.html": "**[Full report]({})**", "report.pdf": "[PDF]({})", "report.json": "[JSON]({})"}
    return Md(" · ".join(label.format(f"{base}/{name}") for name, label in labels.items() if name in files))


def _slice_view(result: SliceResult, task: str, units: dict[str, str]) -> _SliceView:
    """Choose the rows of a slice table: groups with a weak metric first, then in order, `MAX_GROUPS` at most."""
    groups = result.groups
    weak = [i for i, g in enumerate(groups) if g.weak_metrics]
    chosen = set(weak[:MAX_GROUPS])
    for i in range(len(groups)):
        if len(chosen) >= MAX_GROUPS:
            break
        chosen.add(i)
    shown = [g for i, g in enumerate(groups) if i in chosen]
    wanted = set(SLICE_METRICS[task]) | {name for g in groups for name in g.weak_metrics}
    names = [m.name for m in groups[0].metrics if m.name in wanted]
    small_units = list(dict.fromkeys(
        units[m.name] for g in shown if not g.small for m in g.metrics if m.name in names and m.small
    ))
    notes = {
        "hidden": len(shown) < len(groups),
        "other": result.distinct > len(groups),  # "(other)" holds the groups not shown (or pooled)
        "weak": any(name in names for g in shown for name in g.weak_metrics),
        "small": any(g.small for g in shown),
        "small_metric": bool(small_units),
        "undefined": any(m.value is None for g in shown for m in g.metrics if m.name in names),
    }
    return _SliceView(result, shown, names, len(weak), [note for note, applies in notes.items() if applies],
                      small_units)


@dataclass(frozen=True)
class _Regression:
    """A flagged regression as listed: where (slice "overall" for the whole data) and the change."""

    slice: str
    group: str
    change: MetricChange


def _regressions(comparison: ComparisonResult) -> list[_Regression]:
    """Every flagged regression of a comparison, the largest difference first (then in page order); a mirror
    metric is left out, as it is not counted (the metric it mirrors is listed)."""
    found = [_Regression(OVERALL, "–", m) for m in comparison.overall.metrics
             if m.flag == "regression" and m.mirror_of is None]
    found += [_Regression(s.name, g.group, m) for s in comparison.slices for g in s.groups for m in g.metrics
              if m.flag == "regression" and m.mirror_of is None]
    return sorted(found, key=lambda r: -abs(r.change.difference or 0.0))


def _flags(fairness: Sequence[FairnessResult]) -> list[tuple[FairnessResult, FairnessGap]]:
    return [(result, gap) for result in fairness for gap in result.gaps if gap.breached]


def _blocks(report: Report, macros: Any, base: Md | None) -> list[_Block]:
    """Every block of the summary, in priority order (which is also reading order)."""
    gates = report.gates
    counts = _GateCounts(
        len(gates), sum(g.status == "fail" for g in gates), sum(g.status not in ("pass", "fail") for g in gates)
    )
    headline = headline_metrics(report.task, [m.name for m in report.overall.metrics])
    blocks = [_Block("the header", macros.header(counts, base))]
    for index, comparison in enumerate(report.comparisons, start=1):  # the reviewer's first question
        regressions = _regressions(comparison)
        blocks.append(_Block("baseline comparison", macros.comparison(
            comparison, index, [m for m in comparison.overall.metrics if m.name in headline],
            regressions[:MAX_REGRESSIONS], len(regressions) - MAX_REGRESSIONS, base,
        )))
    blocks.append(
        _Block("the headline metrics", macros.headline([m for m in report.overall.metrics if m.name in headline]))
    )
    if gates:
        blocks.append(_Block("the quality gates", macros.gates(gates[:MAX_ROWS], len(gates) - MAX_ROWS)))
    findings = report.findings
    blocks.append(_Block("the findings", macros.findings(findings[:MAX_FINDINGS], len(findings) - MAX_FINDINGS, base)))
    if report.monitoring is not None:
        labels = {m.name: m.label for m in report.metrics.metrics}
        blocks.append(_Block("monitoring", macros.monitoring(report.monitoring, labels)))
    if report.fairness:
        flags = _flags(report.fairness)
        blocks.append(_Block("the fairness flags", macros.fairness(
            flags[:MAX_ROWS], len(flags), len(flags) - MAX_ROWS, sum(len(f.gaps) for f in report.fairness),
            [f.sensitive for f in report.fairness[:MAX_LISTED]], len(report.fairness) - MAX_LISTED,
        )))
    tables = [result for result in report.slices if result.groups]
    units = {m.name: m.support_unit for m in report.metrics.metrics}
    for index, result in enumerate(tables):
        blocks.append(_Block("slice table", macros.slice(_slice_view(result, report.task, units), index == 0)))
    return [_Block(b.kind, b.text.strip("\n")) for b in blocks]


def _size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units, so never less than `len`)."""
    return len(text.encode("utf-16-le")) // 2


def _left_out(blocks: Sequence[_Block]) -> str:
    """What the truncation note says was left out, e.g. "the fairness flags and 12 slice tables"."""
    kinds = Counter(b.kind for b in blocks)
    parts = [kind if n == 1 and kind.startswith("the ") else f"{n:,} {kind}{'s' if n > 1 else ''}"
             for kind, n in kinds.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _fit(blocks: Sequence[_Block], footer: str, note: Callable[[Sequence[_Block]], str], limit: int) -> str:
    """The longest prefix of `blocks` that fits in `limit` with the footer (and, if cut, the note)."""
    texts = [b.text for b in blocks]
    whole = "\n\n".join([*texts, footer]) + "\n"
    if _size(whole) <= limit:
        return whole
    ends = [0]
    for text in texts:
        ends.append(ends[-1] + _size(text) + 2)  # the block and the blank line after it
    for kept in range(len(blocks) - 1, 0, -1):  # the header is always kept
        tail = note(blocks[kept:]).strip("\n")
        if ends[kept] + _size(tail) + 2 + _size(footer) + 1 <= limit:
            return "\n\n".join([*texts[:kept], tail, footer]) + "\n"
    raise ValueError(f"limit {limit:,} is too small for the summary's header and footer")


def to_markdown(
    report: Report, *, base_url: str | None = None, files: Sequence[str] = PUBLISHED,
    limit: int = GITHUB_COMMENT_LIMIT,
) -> str:
    """Render the pull-request summary.

    Parameters
    ----------
    report : Report
        The document.
    base_url : str, optional
        The http(s) address of the published report folder; the summary then links to the
        `files` there.
    files : sequence of str
        The files published at `base_url`, among "report.html", "report.pdf" and "report.json".
    limit : int
        Most characters of the result (UTF-16 code units, as GitHub counts). Blocks are kept in
        priority order (header, one per baseline comparison, headline metrics, quality gates,
        findings, fairness flags, one per slice table) while they fit; the rest are replaced by a
        note pointing to the full report.

    Returns
    -------
    str
        GitHub-flavoured markdown, ending with a newline.

    Raises
    ------
    ValueError
        If `base_url` is not http(s), or `limit` leaves no room for the header and footer.

    Examples
    --------
    >>> import pandas as pd, reportgen
    >>> df = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.4, 0.6]})
    >>> text = to_markdown(reportgen.evaluate(df, label="y", score="p", resamples=200).to_report())
    >>> text.splitlines()[0]
    '## Model card — model'
    """
    base = None if base_url is None else _base_url(base_url)
    macros = _macros(report, files)
    blocks = _blocks(report, macros, base)
    footer = macros.footer().strip("\n")
    return _fit(blocks, footer, lambda dropped: macros.truncated(_left_out(dropped), limit, base), limit)
