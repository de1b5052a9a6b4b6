"""Collect built reports into a static site: one index page, each report's own files beside it.

Layout
------
::

    <site>/
      index.html                         rendered from the manifest: one self-contained page
      reportgen-site.json                the manifest: every report the site holds
      reports/<model>/<version>/         report.html, report.json, and report.pdf, summary.md if built

`<model>` and `<version>` are slugs (`slugify`): lowercase ASCII letters, digits, ".", "-" and "_",
never empty, never starting with "." or "_" (GitHub Pages' Jekyll would skip such a folder). Two
different names that map to the same slug are told apart by a short hash of the name; the first
one added keeps the plain slug, and the manifest records each report's folder, so a name keeps its
folder for the life of the site.

Manifest
--------
``reportgen-site.json`` holds ``format`` (`FORMAT`, bumped when a field's meaning changes), the
site ``title`` and ``reports``, sorted by model name, then version. Each entry is a `SiteEntry`:
model name, version, the card's title, task and date, its headline metrics (the same list per task
as the card's "at a glance" tiles) with their intervals, quality-gate counts and overall status
("pass", "fail", or "none" without gates; a gate that could not be checked counts as not passed,
as in `reportgen.document.gates.failed`), the number of findings per severity, the folder
(relative to the site), the files copied into it and `sequence`, the order of addition (1, 2, ...;
a replacement gets a new number). There are no clock times: the same reports published in the same
order give byte-identical files.

Ordering
--------
A model's versions are listed newest first: dated versions first, by date (compared as text, which
orders ISO 8601 dates such as "2024-05-31" correctly), then the order of addition, latest first;
undated versions follow, latest added first. Models are ordered by their newest version under the
same rule (so a model with any dated version comes before a model with none).

Rules
-----
- Publishing copies a report's files; adding a report writes only its own folder, the manifest and
  the index. The same model and version published again (or twice in one call) replaces the older
  copy: only the files the manifest recorded for it are deleted, and the notes say so.
- Files the site did not write are never deleted or overwritten: an ``index.html`` without a
  manifest, or a report folder that exists but is not in the manifest, is refused.
- Everything is read and checked, and the index rendered, before anything is written. Every file
  is then written into one temp folder inside the site, and renamed into place: the report files,
  then the manifest, then the index (`write_files`), so a full disk or a crash before the renames
  changes nothing. Temp folders of a killed publish are removed by the next.
- A report folder is copied only if it holds a consistent set (`check_set`: its files match the
  set file the build wrote, when there is one; only the files of that set are copied) and none of
  the files copied is a symbolic link. The site never writes through a symbolic link: a linked
  folder inside the site (``reports`` or below) is refused.
- The index has relative links only (``reports/<model>/<version>/report.html``), inline CSS, no
  JavaScript and no network access, so the folder works as is from a file system or from a
  subfolder of a static host such as GitHub Pages.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from markupsafe import Markup
from pydantic import TypeAdapter, ValidationError

from reportgen import charts
from reportgen.analysis.base import SEVERITIES
from reportgen.document.gates import failed
from reportgen.document.schema import Report
from reportgen.errors import InputError, counted, quoted_list, shown
from reportgen.formatting import count, num
from reportgen.io import read_json_file
from reportgen.render import templates, vega
from reportgen.render.files import check_set, clean_orphans, write_files
from reportgen.render.json import read_json
from reportgen.version import __version__
from reportgen.vocabulary import headline_metrics

if TYPE_CHECKING:
    import altair as alt

FORMAT = 1
TREND_METRICS = 4  # headline metrics drawn across versions
MANIFEST = "reportgen-site.json"
INDEX = "index.html"
REPORTS = "reports"
FILES = ("report.html", "report.pdf", "report.json", "summary.md")  # the order the manifest lists them in
REQUIRED = ("report.html", "report.json")
LINKED = {"report.html": "HTML", "report.pdf": "PDF", "report.json": "JSON"}  # what the index links to
DEFAULT_TITLE = "Model reports"
MAX_SLUG = 64
HASH_LENGTH = 8
_UNSAFE = re.compile(r"[^a-z0-9._-]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True)
class SiteMetric:
    """A headline metric of the whole evaluation data: value and interval (None where undefined)."""

    name: str
    label: str
    value: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class GateCounts:
    """Quality gates of one report: overall `status` ("pass", "fail" or "none") and counts by outcome."""

    status: str
    total: int
    passed: int
    failed: int
    undefined: int


@dataclass(frozen=True)
class SiteEntry:
    """One report in the site; `path` is its folder relative to the site, `files` what was copied there."""

    model: str
    version: str
    title: str
    task: str
    date: str | None
    sequence: int
    path: str
    files: list[str]
    metrics: list[SiteMetric]
    gates: GateCounts
    findings: dict[str, int]


@dataclass(frozen=True)
class Manifest:
    """The contents of ``reportgen-site.json``."""

    format: int
    title: str
    reports: list[SiteEntry]


@dataclass(frozen=True)
class _Incoming:
    """A report folder read and checked: where it came from, its document and its files' bytes."""

    folder: Path
    report: Report
    files: dict[str, bytes]


@dataclass(frozen=True)
class _Row:
    """One version in the index: the entry, its metrics aligned to the table's columns, its links."""

    entry: SiteEntry
    cells: list[SiteMetric | None]
    links: list[tuple[str, str]]
    href: str


@dataclass(frozen=True)
class _ModelView:
    """One model in the index: heading, anchor, metric columns (name, label) and versions newest first."""

    name: str
    anchor: str
    tasks: list[str]
    columns: list[tuple[str, str]]
    rows: list[_Row]
    trend: Markup | None


def publish(site_dir: Path, report_dirs: Sequence[Path], *, title: str | None = None) -> list[str]:
    """Copy built reports into a static site and re-render its index page.

    Parameters
    ----------
    site_dir : Path
        The site folder; created if missing.
    report_dirs : sequence of Path
        Folders written by `reportgen build`, each with report.json and report.html (report.pdf and
        summary.md are copied when present), added in this order. None: only re-render the index.
    title : str, optional
        The index page's title; None keeps the site's current title ("Model reports" for a new site).

    Returns
    -------
    list of str
        Human-readable notes: each report added or replaced, and what the index now lists.

    Raises
    ------
    InputError
        If a report folder lacks report.json or report.html, its report.json cannot be read, the site
        folder holds files the site did not write where it would write (an index.html without a
        manifest, a report folder the manifest does not list), its manifest is not one this reportgen
        reads, a report folder holds a mixed set or a symlinked file, a folder inside the site is a
        symlink, or the site cannot be written. Every check runs before the first write, so a refused
        publish changes nothing; a failing write (a full or read-only disk) hits the temp folder and
        changes nothing either. Only a crash during the final renames can leave a new report folder
        that the manifest does not list yet (the next publish then refuses it, naming the folder).

    Examples
    --------
    >>> publish(Path("site"), [Path("out")], title="Credit models")  # doctest: +SKIP
    ['added adult-income-gbm 1.0.0 → reports/adult-income-gbm/1.0.0/', 'site/index.html: 1 model, 1 report']
    """
    site_dir = Path(site_dir)
    _check_site_folder(site_dir)
    current = read_manifest(site_dir)
    incoming = [_read_report_folder(Path(folder)) for folder in report_dirs]

    recorded = {(e.model, e.version): e for e in current.reports}
    entries = dict(recorded)
    sequence = max((e.sequence for e in current.reports), default=0)
    writes: dict[str, dict[str, bytes]] = {}
    given: set[tuple[str, str]] = set()
    notes = []
    for item in incoming:
        key = (item.report.model.name, item.report.model.version)
        previous = entries.pop(key, None)
        path = previous.path if previous is not None else _new_path(key, entries.values())
        sequence += 1
        entries[key] = _entry(item.report, path=path, files=list(item.files), sequence=sequence)
        writes[path] = item.files  # a later folder with the same model and version wins
        if previous is None:
            notes.append(f"added {_label(*key)} → {path}/")
        else:
            twice = f" (given twice; kept {item.folder})" if key in given else ""
            notes.append(f"replaced {_label(*key)} → {path}/{twice}")
        given.add(key)

    stale = [
        site_dir / old.path / name
        for key, old in recorded.items()
        if entries[key].sequence != old.sequence
        for name in old.files
        if name not in entries[key].files
    ]
    known = {e.path: e for e in current.reports}
    for path, files in writes.items():
        _check_no_links(site_dir, path)
        if path in known:
            _check_unrecorded(site_dir, known[path], files)
        else:
            _check_free(site_dir, path)

    manifest = Manifest(
        format=FORMAT,
        title=current.title if title is None else title,
        reports=sorted(entries.values(), key=lambda e: (e.model, e.version, e.sequence)),
    )
    manifest_bytes = manifest_json(manifest).encode("utf-8")
    index_bytes = render_index(manifest).encode("utf-8")

    contents = {f"{path}/{name}": data for path, files in writes.items() for name, data in files.items()}
    contents |= {MANIFEST: manifest_bytes, INDEX: index_bytes}
    try:
        site_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{site_dir}: cannot create the site folder ({exc.strerror})") from None
    clean_orphans(site_dir, [MANIFEST, INDEX])
    write_files(site_dir, contents, remove=[file.relative_to(site_dir).as_posix() for file in stale],
                kept="the site is left as it was")
    models = len({e.model for e in manifest.reports})
    notes.append(f"{site_dir / INDEX}: {counted(models, 'model')}, {counted(len(manifest.reports), 'report')}")
    return notes


def _label(model: str, version: str) -> str:
    return f"{model} {version}" if version else f"{model} (no version)"


def slugify(name: str, *, fallback: str = "model") -> str:
    """A file- and URL-safe folder name for a model name or version.

    Accents are dropped, letters lowercased, and every run of other characters becomes "-";
    leading and trailing ".", "-" and "_" are removed and the result is cut at `MAX_SLUG`
    characters. A name with nothing left gets `fallback` and a short hash of the name ("unversioned"
    for an empty version). The result is never empty, "." or "..".

    Examples
    --------
    >>> slugify("Adult Income GBM"), slugify("../../etc"), slugify("Modèle v2.0"), slugify("", fallback="version")
    ('adult-income-gbm', 'etc', 'modele-v2.0', 'unversioned')
    """
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()
    text = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", text)).strip(".-_")
    text = text[:MAX_SLUG].rstrip(".-_")
    if text:
        return text
    if not name and fallback == "version":
        return "unversioned"
    return f"{fallback}-{_hash(name)[:HASH_LENGTH]}"


def _hash(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _free_slug(name: str, taken: set[str], *, fallback: str) -> str:
    """`slugify(name)`, or, when another name has it already, with a short hash of the name appended."""
    slug = slugify(name, fallback=fallback)
    digest = _hash(name)
    for length in (0, HASH_LENGTH, 16, len(digest)):
        candidate = f"{slug}-{digest[:length]}" if length else slug
        if candidate not in taken:
            return candidate
    raise AssertionError("a SHA-256 collision")  # pragma: no cover


def _new_path(key: tuple[str, str], entries: Iterable[SiteEntry]) -> str:
    """The folder of a new (model, version): the model's folder if it has one, a free version folder in it."""
    model, version = key
    entries = list(entries)
    own = [e.path.split("/")[1] for e in entries if e.model == model]
    if own:
        model_slug = own[0]
    else:
        model_slug = _free_slug(model, {e.path.split("/")[1] for e in entries}, fallback="model")
    versions = {e.path.split("/")[2] for e in entries if e.path.split("/")[1] == model_slug}
    return f"{REPORTS}/{model_slug}/{_free_slug(version, versions, fallback='version')}"


def _check_site_folder(site_dir: Path) -> None:
    if site_dir.exists() and not site_dir.is_dir():
        raise InputError(f"{site_dir}: is a file, not a folder; give a folder for the site (created if missing)")


def _check_no_links(site_dir: Path, path: str) -> None:
    """Refuse a report folder reached through a symbolic link inside the site (a write could land outside)."""
    folder = site_dir
    for part in path.split("/"):
        folder = folder / part
        if folder.is_symlink():
            raise InputError(
                f"{folder}: is a symbolic link inside the site, which the site never writes through; "
                "replace it with a folder or publish to another site folder"
            )


def _check_free(site_dir: Path, path: str) -> None:
    """Refuse to write a report folder that exists without the manifest listing it (or where a file is)."""
    folder = site_dir
    for part in path.split("/"):
        folder = folder / part
        if folder.exists() and not folder.is_dir():
            raise InputError(
                f"{folder}: is a file the site did not write, where the site needs a folder; "
                "move it away or publish to another site folder"
            )
    if folder.exists():
        raise InputError(
            f"{folder}: folder exists but {site_dir / MANIFEST} does not list it; "
            "move it away or publish to another site folder (its files are left untouched)"
        )


def _check_unrecorded(site_dir: Path, entry: SiteEntry, files: Iterable[str]) -> None:
    """Refuse to overwrite a file in a listed report folder that the manifest does not record there."""
    foreign = [name for name in files if name not in entry.files and (site_dir / entry.path / name).exists()]
    if foreign:
        raise InputError(
            f"{site_dir / entry.path / foreign[0]}: file exists but {site_dir / MANIFEST} does not list it; "
            "move it away or publish to another site folder (its files are left untouched)"
        )


def _read_report_folder(folder: Path) -> _Incoming:
    """Check a built report folder and read its document and files."""
    if not folder.is_dir():
        raise InputError(f"{folder}: no such report folder; give the output folder of `reportgen build`")
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if missing:
        raise InputError(
            f"{folder}: no {' or '.join(missing)} in the report folder; "
            "build it with `reportgen build` with the html and json formats"
        )
    names = check_set(folder)
    present = [name for name in FILES if (folder / name).is_file() and (names is None or name in names)]
    if names is not None and not set(REQUIRED) <= names:
        lacking = " or ".join(name for name in REQUIRED if name not in names)
        raise InputError(
            f"{folder}: the last build there wrote no {lacking}; build it with the html and json formats"
        )
    linked = [name for name in present if (folder / name).is_symlink()]
    if linked:
        raise InputError(
            f"{folder / linked[0]}: is a symbolic link; the site copies only the files `reportgen build` wrote, "
            "which are never links"
        )
    report = read_json(folder / "report.json")
    files = {}
    for name in present:
        try:
            files[name] = (folder / name).read_bytes()
        except OSError as exc:
            raise InputError(f"{folder / name}: cannot read the file ({exc.strerror})") from None
    return _Incoming(folder, report, files)


def _entry(report: Report, *, path: str, files: list[str], sequence: int) -> SiteEntry:
    """The manifest entry of a report copied to `path`."""
    labels = {m.name: m.label for m in [*report.metrics.metrics, *report.metrics.class_metrics]}
    headline = headline_metrics(report.task, [m.name for m in report.metrics.metrics])  # as the glance tiles
    statuses = Counter(gate.status for gate in report.gates)
    severities = Counter(finding.severity for finding in report.findings)
    status = "none" if not report.gates else "fail" if failed(report.gates) else "pass"
    return SiteEntry(
        model=report.model.name,
        version=report.model.version,
        title=report.title,
        task=report.task,
        date=report.model.date,
        sequence=sequence,
        path=path,
        files=[name for name in FILES if name in files],
        metrics=[
            SiteMetric(m.name, labels.get(m.name, m.name), m.value, m.ci_low, m.ci_high)
            for m in report.overall.metrics
            if m.name in headline
        ],
        gates=GateCounts(
            status=status,
            total=len(report.gates),
            passed=statuses["pass"],
            failed=statuses["fail"],
            undefined=len(report.gates) - statuses["pass"] - statuses["fail"],
        ),
        findings={severity: severities[severity] for severity in [*SEVERITIES, *sorted(set(severities) - {*SEVERITIES})]},
    )


@functools.cache
def _adapter() -> TypeAdapter[Manifest]:
    return TypeAdapter(Manifest)


def manifest_json(manifest: Manifest) -> str:
    """The manifest as JSON text: fields in declaration order, two-space indent, UTF-8 as written."""
    return json.dumps(dataclasses.asdict(manifest), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def read_manifest(site_dir: Path) -> Manifest:
    """The site's manifest; an empty one (default title) for a folder that is not a site yet.

    Raises
    ------
    InputError
        If the folder has an index.html but no manifest (a folder the site did not make), or the
        manifest cannot be read, was written in another format, or does not validate.
    """
    path = site_dir / MANIFEST
    if not path.exists():
        if (site_dir / INDEX).exists():
            raise InputError(
                f"{site_dir}: has an index.html but no {MANIFEST}, so it is not a reportgen site; "
                "publish to an empty or new folder (its files are left untouched)"
            )
        return Manifest(format=FORMAT, title=DEFAULT_TITLE, reports=[])
    advice = "restore it or publish to another site folder"
    try:
        raw = read_json_file(path, source=str(path), what="site manifest", advice=advice)
    except FileNotFoundError:  # removed since the check above
        raise InputError(f"{path}: not a readable site manifest (no such file); {advice}") from None
    found = raw.get("format") if isinstance(raw, dict) else None
    if found != FORMAT:
        raise InputError(
            f"{path}: site manifest format {shown(json.dumps(found))} cannot be read by this reportgen "
            f"(format {FORMAT}); {advice}"
        )
    try:
        manifest = _adapter().validate_python(raw, strict=False)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise InputError(f"{path}: not a valid site manifest: {shown(where)}: {shown(error['msg'], 160)}; {advice}") from None
    problem = _manifest_problem(manifest)
    if problem:
        raise InputError(f"{path}: not a valid site manifest: {problem}; {advice}")
    return manifest


def _manifest_problem(manifest: Manifest) -> str | None:
    """What makes a parsed manifest unsafe to act on (paths outside reports/, unknown files, repeats)."""
    seen_keys: set[tuple[str, str]] = set()
    seen_paths: set[str] = set()
    folders: dict[str, str] = {}  # model folder → model name
    for index, e in enumerate(manifest.reports):
        where = f"reports.{index}"
        parts = e.path.split("/")
        if len(parts) != 3 or parts[0] != REPORTS or not all(_SLUG.fullmatch(p) for p in parts[1:]):
            return f'{where}.path: "{shown(e.path)}" is not a folder reports/<model>/<version>'
        unknown = [name for name in e.files if name not in FILES]
        if unknown or len(set(e.files)) != len(e.files):
            return f"{where}.files: {quoted_list(e.files)} must name distinct files among {', '.join(FILES)}"
        if (e.model, e.version) in seen_keys or e.path in seen_paths:
            return f'{where}: {shown(_label(e.model, e.version))} ("{shown(e.path)}") is listed twice'
        if folders.setdefault(parts[1], e.model) != e.model:
            return f'{where}.path: "{shown(e.path)}" is the folder of another model, "{shown(folders[parts[1]])}"'
        seen_keys.add((e.model, e.version))
        seen_paths.add(e.path)
    return None


def _newest_first(entry: SiteEntry) -> tuple[bool, str, int]:
    """Sort key, used with reverse=True: dated before undated, then date, then order of addition."""
    return (entry.date is not None, entry.date or "", entry.sequence)


def _model_views(entries: Sequence[SiteEntry]) -> list[_ModelView]:
    """The index's models, newest first, each with its versions newest first."""
    by_model: dict[str, list[SiteEntry]] = {}
    for entry in sorted(entries, key=_newest_first, reverse=True):
        by_model.setdefault(entry.model, []).append(entry)
    views, trends = [], []
    for name, versions in by_model.items():  # insertion order: by each model's newest version
        columns: dict[str, str] = {}
        for entry in versions:
            for metric in entry.metrics:
                columns.setdefault(metric.name, metric.label)
        rows = []
        for entry in versions:
            metrics = {m.name: m for m in entry.metrics}
            rows.append(_Row(
                entry=entry,
                cells=[metrics.get(column) for column in columns],
                links=[(label, f"{entry.path}/{file}") for file, label in LINKED.items() if file in entry.files],
                href=f"{entry.path}/report.html",
            ))
        views.append(_ModelView(
            name=name,
            anchor=f"model-{versions[0].path.split('/')[1]}",
            tasks=sorted({entry.task for entry in versions}),
            columns=list(columns.items()),
            rows=rows,
            trend=None,
        ))
        trends.append(_trend(versions[::-1], list(columns.items())[:TREND_METRICS]))
    drawn = [index for index, chart in enumerate(trends) if chart is not None]
    svgs = vega.to_svgs([charts.spec(trends[index]) for index in drawn])  # one batch for every model's trend
    for index, svg in zip(drawn, svgs, strict=True):
        views[index] = dataclasses.replace(views[index], trend=Markup(svg))
    return views


def _trend(versions: Sequence[SiteEntry], columns: list[tuple[str, str]]) -> alt.FacetChart | None:
    """The chart of the headline metrics across a model's versions, oldest first; None for a single version."""
    if len(versions) < 2:
        return None
    labels = [_version_label(entry) for entry in versions]
    rows = [
        {"version": label, "metric": metric.label, "value": metric.value, "low": metric.ci_low,
         "high": metric.ci_high}
        for label, entry in zip(labels, versions, strict=True)
        for metric in entry.metrics
        if metric.name in dict(columns)
    ]
    if not any(row["value"] is not None for row in rows):
        return None
    return charts.trend_chart(rows, labels, [label for _, label in columns])


def _version_label(entry: SiteEntry) -> str:
    """How a version is named on a chart axis (the date tells apart two entries without a version)."""
    return entry.version or f"no version ({entry.date or entry.sequence})"


def _environment() -> jinja2.Environment:
    """Templates from the package, autoescape on, strict undefined (as `reportgen.render.html`)."""
    env = templates.environment()
    env.filters.update(num=num, count=count, counted=counted)
    return env


def render_index(manifest: Manifest) -> str:
    """The site's index.html: every model, its versions newest first, with relative links to their files."""
    css = templates.stylesheet("report.css", "site/site.css")
    return _environment().get_template("site/index.html.j2").render(
        title=manifest.title,
        models=_model_views(manifest.reports),
        reports=len(manifest.reports),
        severities=SEVERITIES,
        generator=f"reportgen {__version__}",
        css=Markup(css),
    )


__all__ = [
    "FORMAT", "GateCounts", "Manifest", "SiteEntry", "SiteMetric", "manifest_json",
    "publish", "read_manifest", "render_index", "slugify",
]
