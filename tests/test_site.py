"""The static site of built reports: layout, manifest, index page, ordering, determinism, and refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import reportgen
from reportgen.errors import InputError
from reportgen.formatting import num
from reportgen.render.json import read_json, to_json
from reportgen.site import FORMAT, publish, read_manifest, render_index, slugify
from reportgen.vocabulary import HEADLINE_METRICS
from tests.helpers import synthetic_predictions

MODEL = "adult-income-gbm"
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")


def _build(folder: Path, *, model: dict, gates: list[dict], seed: int, extras: bool = False) -> Path:
    """A small binary report written with the library's renderers (plus stand-in PDF and summary)."""
    evaluation = reportgen.evaluate(
        synthetic_predictions(n=400, seed=seed), label="y", score="p", slices=[{"column": "sex"}],
        resamples=100, model=model, gates=gates, title=f"{model['name']} card",
    )
    evaluation.to_html(folder / "report.html")
    evaluation.to_json(folder / "report.json")
    if extras:  # the site copies these as bytes; their contents do not matter here
        (folder / "report.pdf").write_bytes(b"%PDF-1.7 stand-in\n")
        (folder / "summary.md").write_text("# stand-in summary\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two versions of one model (the newer fails a gate) and an undated model without gates."""
    return {
        "v1": _build(tmp_path_factory.mktemp("v1"), seed=0, extras=True,
                     model={"name": MODEL, "version": "1.0.0", "date": "2024-01-15"},
                     gates=[{"metric": "roc_auc", "min": 0.5}]),
        "v2": _build(tmp_path_factory.mktemp("v2"), seed=1,
                     model={"name": MODEL, "version": "1.1.0", "date": "2024-06-01"},
                     gates=[{"metric": "roc_auc", "min": 0.5}, {"metric": "accuracy", "min": 0.99}]),
        "other": _build(tmp_path_factory.mktemp("other"), seed=2,
                        model={"name": "credit-risk", "version": "2.0"}, gates=[]),
    }


def _variant(source: Path, folder: Path, *, files: tuple[str, ...] = ("report.html", "report.json"),
             title: str | None = None, **model: str | None) -> Path:
    """A copy of a built report with other model details (and optionally fewer files)."""
    report = read_json(source / "report.json")
    report = dataclasses.replace(report, model=dataclasses.replace(report.model, **model),
                                 title=title if title is not None else report.title)
    folder.mkdir(parents=True)
    for name in files:
        if name == "report.json":
            (folder / name).write_text(to_json(report), encoding="utf-8")
        else:
            shutil.copyfile(source / name, folder / name)
    return folder


class _Page(HTMLParser):
    """Start tags with attributes, the text of each table body row, of each h2, and every id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self.ids: set[str] = set()
        self._in_body = False
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if dict(attrs).get("id"):
            self.ids.add(str(dict(attrs)["id"]))
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "h2":
            self._in_h2 = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        if self._in_body and self.rows:
            self.rows[-1].append(data)
        if self._in_h2:
            self.headings[-1] += data

    def links(self) -> list[str]:
        return [str(attrs[key]) for _, attrs in self.tags for key in ("href", "src") if attrs.get(key) is not None]


def _page(site: Path) -> _Page:
    page = _Page()
    page.feed((site / "index.html").read_text(encoding="utf-8"))
    return page


def _row_text(page: _Page, href: str) -> str:
    """The text of the one table row whose version (its first word) is the folder of `href`."""
    html_rows = [" ".join(row) for row in page.rows]
    version = href.split("/")[2]
    matches = [text for text in html_rows if text.split()[0] == version]
    assert len(matches) == 1, (version, html_rows)
    return matches[0]


def _snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `folder`: inode, modification time (ns) and bytes."""
    return {str(p.relative_to(folder)): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- layout, manifest and index ---------------------------------------------------------------------------


def test_publish_copies_reports_and_writes_the_manifest(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    notes = publish(site, [built["v1"], built["v2"]], title="Credit models")
    assert notes[:2] == [f"added {MODEL} 1.0.0 → reports/{MODEL}/1.0.0/", f"added {MODEL} 1.1.0 → reports/{MODEL}/1.1.0/"]
    assert notes[-1].endswith("index.html: 1 model, 2 reports")
    for name in ("report.html", "report.json", "report.pdf", "summary.md"):
        assert (site / "reports" / MODEL / "1.0.0" / name).read_bytes() == (built["v1"] / name).read_bytes()
    assert sorted(p.name for p in (site / "reports" / MODEL / "1.1.0").iterdir()) == ["report.html", "report.json"]

    manifest = json.loads((site / "reportgen-site.json").read_text(encoding="utf-8"))
    assert manifest["format"] == FORMAT and manifest["title"] == "Credit models"
    first, second = manifest["reports"]
    assert (first["version"], first["sequence"], second["version"], second["sequence"]) == ("1.0.0", 1, "1.1.0", 2)
    assert first["path"] == f"reports/{MODEL}/1.0.0"
    assert first["files"] == ["report.html", "report.pdf", "report.json", "summary.md"]
    assert second["files"] == ["report.html", "report.json"]
    assert (first["task"], first["date"], first["title"]) == ("binary", "2024-01-15", f"{MODEL} card")
    assert first["gates"] == {"status": "pass", "total": 1, "passed": 1, "failed": 0, "undefined": 0}
    assert second["gates"] == {"status": "fail", "total": 2, "passed": 1, "failed": 1, "undefined": 0}
    report = read_json(built["v1"] / "report.json")
    assert first["findings"] == {s: sum(f.severity == s for f in report.findings) for s in ("high", "medium", "low")}
    # the same headline metrics as the card's "at a glance" tiles, in the card's order, with intervals
    expected = [m for m in report.overall.metrics if m.name in HEADLINE_METRICS["binary"]]
    assert [m["name"] for m in first["metrics"]] == [m.name for m in expected]
    assert [(m["value"], m["ci_low"], m["ci_high"]) for m in first["metrics"]] == [
        (m.value, m.ci_low, m.ci_high) for m in expected]
    assert "ROC AUC" in [m["label"] for m in first["metrics"]]
    assert set(first) == {"model", "version", "title", "task", "date", "sequence", "path", "files", "metrics", "gates",
                          "findings"}  # no clock times: see the byte-identical test
    assert read_manifest(site).reports[0].model == MODEL


def test_index_lists_versions_newest_first_with_metrics_and_gates(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["other"], built["v1"], built["v2"]])
    page = _page(site)
    # models by their newest version: the dated model before the undated one, though added later
    assert page.headings == [MODEL, "credit-risk"]
    versions = [href for href in page.links() if href.endswith("/report.html") and "/" in href]
    order = list(dict.fromkeys(versions))
    assert order == [f"reports/{MODEL}/1.1.0/report.html", f"reports/{MODEL}/1.0.0/report.html",
                     "reports/credit-risk/2.0/report.html"]
    for key, href, badge in [("v2", order[0], "gates failed"), ("v1", order[1], "gates passed"),
                             ("other", order[2], "no gates")]:
        text = _row_text(page, href)
        assert badge in text
        report = read_json(built[key] / "report.json")
        auc = next(m for m in report.overall.metrics if m.name == "roc_auc")
        assert f"{num(auc.value)} {num(auc.ci_low)}–{num(auc.ci_high)}" in text
        assert (report.model.date or "undated") in text
        medium = sum(f.severity == "medium" for f in report.findings)
        assert (f"{medium} medium" in text) == (medium > 0)
    assert "1 of 2 gates passed" in _row_text(page, order[0])
    # links only to the files present
    assert f"reports/{MODEL}/1.0.0/report.pdf" in page.links()
    assert f"reports/{MODEL}/1.1.0/report.pdf" not in page.links()
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Model reports</title>" in html


def test_models_with_several_versions_show_their_metric_trend(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["other"], built["v1"], built["v2"]])
    html = (site / "index.html").read_text(encoding="utf-8")
    sections = html.split('<section class="model"')[1:]
    by_model = {section.split("<h2>")[1].split("</h2>")[0]: section for section in sections}
    trend = by_model[MODEL]
    assert trend.count('<figure class="chart trend"') == 1 and "<svg" in trend
    svg = trend.split("<svg", 1)[1].split("</svg>", 1)[0]
    # oldest first along the axis, one panel per headline metric shown
    assert svg.index(">1.0.0<") < svg.index(">1.1.0<")
    assert all(f">{label}<" in svg for label in ("Accuracy", "Balanced accuracy", "Precision", "Recall (TPR)"))
    assert '<figure class="chart trend"' not in by_model["credit-risk"]  # one version: no trend


def test_versions_order_dated_first_then_by_addition(built: dict[str, Path], tmp_path: Path) -> None:
    dates = {"a": "2024-01-01", "b": None, "c": "2023-05-05", "d": "2024-01-01", "e": None}
    folders = [_variant(built["v1"], tmp_path / v, version=v, date=d) for v, d in dates.items()]
    site = tmp_path / "site"
    publish(site, folders)
    hrefs = [h for h in _page(site).links() if h.endswith("report.html")]
    assert [h.split("/")[2] for h in dict.fromkeys(hrefs)] == ["d", "a", "c", "e", "b"]
    assert [e.version for e in read_manifest(site).reports] == ["a", "b", "c", "d", "e"]  # the file: by name


def test_every_link_resolves_inside_the_site(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["v1"], built["v2"], built["other"]])
    page = _page(site)
    links = page.links()
    assert len(links) >= 3 * 2
    for link in links:
        parts = urlsplit(link)
        assert not parts.scheme and not parts.netloc and not link.startswith("/"), link
        if not parts.path:
            assert parts.fragment in page.ids, link
            continue
        target = (site / unquote(parts.path)).resolve()
        assert target.is_relative_to(site.resolve()) and target.is_file(), link
    html = (site / "index.html").read_text(encoding="utf-8")
    html = re.sub(r' xmlns(:xlink)?="http://www\.w3\.org/[0-9]{4}/(svg|xlink)"', "", html)  # SVG namespaces name, not load
    assert "<script" not in html.lower() and "url(" not in html and "://" not in html
    assert all(tag not in {"img", "iframe", "object", "embed", "link"} for tag, _ in page.tags)


def test_same_inputs_give_byte_identical_sites(built: dict[str, Path], tmp_path: Path) -> None:
    reports = [built["v1"], built["other"], built["v2"]]
    publish(tmp_path / "a", reports, title="Models")
    publish(tmp_path / "b", reports, title="Models")
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(b) and len(a) == 2 + 4 + 2 + 2
    assert all(a[name] == b[name] for name in a)
    # one at a time, in the same order: the same bytes too
    for report in reports:
        publish(tmp_path / "c", [report], title="Models")
    assert _files(tmp_path / "c") == a


def test_adding_a_report_leaves_the_others_untouched(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["v1"], built["v2"]])
    before = _snapshot(site / "reports")
    index, manifest = (site / "index.html").read_bytes(), (site / "reportgen-site.json").read_bytes()
    notes = publish(site, [built["other"]])
    assert notes[0] == "added credit-risk 2.0 → reports/credit-risk/2.0/"
    after = _snapshot(site / "reports")
    assert {name: after[name] for name in before} == before
    assert sorted(set(after) - set(before)) == ["credit-risk/2.0/report.html", "credit-risk/2.0/report.json"]
    assert (site / "index.html").read_bytes() != index
    assert (site / "reportgen-site.json").read_bytes() != manifest
    assert [e.sequence for e in read_manifest(site).reports] == [1, 2, 3]


def test_without_reports_only_the_index_and_title_change(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert publish(site, [], title="Empty for now")[-1].endswith("index.html: 0 models, 0 reports")
    assert "No reports yet" in (site / "index.html").read_text(encoding="utf-8")
    assert read_manifest(site).title == "Empty for now" and not (site / "reports").exists()
    publish(site, [built["v1"]])
    assert read_manifest(site).title == "Empty for now"  # kept when no title is given
    before = _snapshot(site / "reports")
    publish(site, [], title="Renamed <site>")
    assert _snapshot(site / "reports") == before
    assert "<title>Renamed &lt;site&gt;</title>" in (site / "index.html").read_text(encoding="utf-8")
    assert [e.sequence for e in read_manifest(site).reports] == [1]


# --- replacing a version ----------------------------------------------------------------------------------


def test_republishing_a_version_replaces_it(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["v1"], built["v2"]])
    folder = site / "reports" / MODEL / "1.0.0"
    (folder / "my-notes.txt").write_text("kept", encoding="utf-8")  # not the site's: never deleted
    newer = _variant(built["v1"], tmp_path / "rebuilt", title="Rebuilt card")  # no pdf, no summary this time
    other_version = _snapshot(site / "reports" / MODEL / "1.1.0")
    notes = publish(site, [newer])
    assert notes[0] == f"replaced {MODEL} 1.0.0 → reports/{MODEL}/1.0.0/"
    assert sorted(p.name for p in folder.iterdir()) == ["my-notes.txt", "report.html", "report.json"]
    assert (folder / "report.json").read_bytes() == (newer / "report.json").read_bytes()
    assert _snapshot(site / "reports" / MODEL / "1.1.0") == other_version
    entries = read_manifest(site).reports
    assert [(e.version, e.sequence, e.title) for e in entries] == [("1.0.0", 3, "Rebuilt card"), ("1.1.0", 2, f"{MODEL} card")]
    assert entries[0].files == ["report.html", "report.json"]


def test_the_same_version_twice_in_one_call_keeps_the_later(built: dict[str, Path], tmp_path: Path) -> None:
    later = _variant(built["v1"], tmp_path / "later", title="Later card")
    site = tmp_path / "site"
    notes = publish(site, [built["v1"], later])
    assert notes[1] == f"replaced {MODEL} 1.0.0 → reports/{MODEL}/1.0.0/ (given twice; kept {later})"
    assert sorted(p.name for p in (site / "reports" / MODEL / "1.0.0").iterdir()) == ["report.html", "report.json"]
    (entry,) = read_manifest(site).reports
    assert (entry.title, entry.sequence) == ("Later card", 2)


# --- names and slugs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Adult Income GBM", "adult-income-gbm"),
        ("1.0.0", "1.0.0"),
        ("v2_final", "v2_final"),
        ("../../etc", "etc"),
        ("..", "model-" + hashlib.sha256(b"..").hexdigest()[:8]),
        (".hidden", "hidden"),
        ("_private", "private"),
        ("Modèle Ünïcode", "modele-unicode"),
        ("模型", "model-" + hashlib.sha256("模型".encode()).hexdigest()[:8]),
        ("a / b \\ c", "a-b-c"),
        ("x" * 100, "x" * 64),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert SLUG.fullmatch(slug) and slug not in {".", ".."}


def test_empty_version_slug() -> None:
    assert slugify("", fallback="version") == "unversioned"
    assert SLUG.fullmatch(slugify("", fallback="model"))


def test_hostile_names_are_escaped_and_slugged(built: dict[str, Path], tmp_path: Path) -> None:
    names = [HOSTILE, "../../etc", "Modèle ✓ 模型", "..", "", "/absolute"]
    folders = [_variant(built["v1"], tmp_path / f"r{i}", name=name, version=f"{name} v") for i, name in enumerate(names)]
    site = tmp_path / "site"
    publish(site, folders)
    for path in (site / "reports").rglob("*"):
        assert path.resolve().is_relative_to((site / "reports").resolve())
        relative = path.relative_to(site / "reports").parts
        assert all(SLUG.fullmatch(part) for part in relative), relative
    assert not (tmp_path / "etc").exists() and not Path("/absolute").exists()
    page = _page(site)
    assert sorted(page.headings) == sorted(names)
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    assert all(not attrs or all(not k.startswith("on") for k in attrs) for _, attrs in page.tags)
    assert sorted(e.model for e in read_manifest(site).reports) == sorted(names)


def test_names_with_the_same_slug_get_different_folders(built: dict[str, Path], tmp_path: Path) -> None:
    folders = [
        _variant(built["v1"], tmp_path / "a", name="Credit Risk", version="1.0 beta"),
        _variant(built["v1"], tmp_path / "b", name="credit-risk", version="1.0 beta"),
        _variant(built["v1"], tmp_path / "c", name="Credit Risk", version="1.0-beta"),
    ]
    site = tmp_path / "site"
    publish(site, folders)
    paths = {(e.model, e.version): e.path for e in read_manifest(site).reports}
    assert paths[("Credit Risk", "1.0 beta")] == "reports/credit-risk/1.0-beta"
    assert re.fullmatch(r"reports/credit-risk-[0-9a-f]{8}/1\.0-beta", paths[("credit-risk", "1.0 beta")])
    assert re.fullmatch(r"reports/credit-risk/1\.0-beta-[0-9a-f]{8}", paths[("Credit Risk", "1.0-beta")])
    # a name keeps its folder when published again, whatever was added in between
    notes = publish(site, [folders[1]])
    assert notes[0].startswith(f"replaced credit-risk 1.0 beta → {paths[('credit-risk', '1.0 beta')]}/")


# --- refusals ---------------------------------------------------------------------------------------------


def _assert_unchanged(site: Path, before: dict[str, bytes]) -> None:
    assert _files(site) == before


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("report.json", r"no report\.json in the report folder; build it with `reportgen build`"),
        ("report.html", r"no report\.html in the report folder"),
    ],
)
def test_report_folder_without_its_files(built: dict[str, Path], tmp_path: Path, remove: str, message: str) -> None:
    folder = tmp_path / "out"
    shutil.copytree(built["v2"], folder)
    (folder / remove).unlink()
    with pytest.raises(InputError, match=message) as caught:
        publish(tmp_path / "site", [built["v1"], folder])
    assert str(folder) in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "site").exists()


def test_missing_report_folder(built: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope: no such report folder; give the output folder of `reportgen build`"):
        publish(tmp_path / "site", [tmp_path / "nope"])
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", r"report\.json: not a readable report\.json \(not JSON: Expecting property name .* at line 1 column 2\)"),
        ('{"schema_version": "1.0.0", "title": "old"}', r"report schema 1\.0\.0 cannot be read by this reportgen"),
        ('{"name": "some other tool"}', r"report schema None cannot be read"),
        ('{"schema_version": "2.1.0"}', r"not a valid report: "),
    ],
)
def test_unreadable_or_foreign_report_json(built: dict[str, Path], tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "out"
    shutil.copytree(built["v1"], folder)
    (folder / "report.json").write_text(text, encoding="utf-8")
    site = tmp_path / "site"
    publish(site, [built["v2"]])
    before = _files(site)
    with pytest.raises(InputError, match=message) as caught:
        publish(site, [folder])
    assert "\n" not in str(caught.value)
    _assert_unchanged(site, before)


def test_foreign_files_are_left_untouched(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "assets").mkdir(parents=True)
    (site / "assets" / "logo.svg").write_text("<svg/>", encoding="utf-8")
    (site / "README.md").write_text("my site", encoding="utf-8")
    (site / "reports" / "someone-else").mkdir(parents=True)
    (site / "reports" / "someone-else" / "page.html").write_text("theirs", encoding="utf-8")
    foreign = _snapshot(site)
    publish(site, [built["v1"]])
    publish(site, [built["v2"], built["v1"]])
    after = _snapshot(site)
    assert {name: after[name] for name in foreign} == foreign


def test_index_without_manifest_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>my homepage</h1>", encoding="utf-8")
    before = _files(site)
    for reports in ([built["v1"]], []):
        with pytest.raises(InputError, match=r"site: has an index\.html but no reportgen-site\.json, so it is not a "
                                             r"reportgen site; publish to an empty or new folder"):
            publish(site, reports)
        _assert_unchanged(site, before)


@pytest.mark.parametrize("with_manifest", [True, False])
def test_unlisted_report_folder_is_refused(built: dict[str, Path], tmp_path: Path, with_manifest: bool) -> None:
    site = tmp_path / "site"
    if with_manifest:
        publish(site, [built["other"]])
    target = site / "reports" / MODEL / "1.0.0"
    target.mkdir(parents=True)
    (target / "report.html").write_text("someone else's", encoding="utf-8")
    before = _files(site)
    with pytest.raises(InputError, match=rf"{MODEL}/1\.0\.0: folder exists but .*reportgen-site\.json does not list "
                                         r"it; move it away or publish to another site folder"):
        publish(site, [built["other"], built["v1"]])
    _assert_unchanged(site, before)


def test_unrecorded_file_in_a_listed_folder_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["v2"]])  # no pdf recorded for 1.1.0
    pdf = site / "reports" / MODEL / "1.1.0" / "report.pdf"
    pdf.write_bytes(b"somebody's pdf")
    with_pdf = _variant(built["v1"], tmp_path / "with-pdf", version="1.1.0",
                        files=("report.html", "report.json", "report.pdf"))
    before = _files(site)
    with pytest.raises(InputError, match=r"report\.pdf: file exists but .* does not list it"):
        publish(site, [with_pdf])
    _assert_unchanged(site, before)


def test_file_where_the_site_needs_a_folder(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "reports").write_text("a file", encoding="utf-8")
    with pytest.raises(InputError, match=r"site/reports: is a file the site did not write, where the site needs a "
                                         r"folder"):
        publish(site, [built["v1"]])
    assert _files(site) == {"reports": b"a file"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2", r"not a readable site manifest \(not JSON: Expecting ',' delimiter at line 1 column 6\); restore it or "
                  "publish to another site folder"),
        ('{"pages": []}', r"site manifest format null cannot be read by this reportgen \(format 1\)"),
        ('{"format": 2, "title": "x", "reports": []}', r"site manifest format 2 cannot be read"),
        ('{"format": 1, "title": "x"}', r"not a valid site manifest: reports: Field required"),
    ],
)
def test_unreadable_or_foreign_manifest(built: dict[str, Path], tmp_path: Path, text: str, message: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "reportgen-site.json").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        publish(site, [built["v1"]])
    assert "\n" not in str(caught.value)
    assert _files(site) == {"reportgen-site.json": text.encode()}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("path", "reports/../../victim", r'reports\.0\.path: "reports/\.\./\.\./victim" is not a folder reports/<'),
        ("path", "/tmp/victim", r'reports\.0\.path: "/tmp/victim" is not a folder'),
        ("files", ["report.html", "../x.pdf"], r'reports\.0\.files: "report\.html", "\.\./x\.pdf" must name distinct'),
        ("sequence", "first", r"not a valid site manifest: reports\.0\.sequence: "),
    ],
)
def test_tampered_manifest_is_refused(built: dict[str, Path], tmp_path: Path, field: str, value: object,
                                      message: str) -> None:
    site = tmp_path / "site"
    publish(site, [built["v1"]])
    manifest = json.loads((site / "reportgen-site.json").read_text(encoding="utf-8"))
    manifest["reports"][0][field] = value
    (site / "reportgen-site.json").write_text(json.dumps(manifest), encoding="utf-8")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "report.pdf").write_bytes(b"precious")
    before = _files(site)
    with pytest.raises(InputError, match=message):
        publish(site, [_variant(built["v1"], tmp_path / "again", files=("report.html", "report.json"))])
    assert (victim / "report.pdf").read_bytes() == b"precious"
    _assert_unchanged(site, before)


def test_manifest_listing_a_version_twice_is_refused(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    publish(site, [built["v1"], built["v2"]])
    manifest = json.loads((site / "reportgen-site.json").read_text(encoding="utf-8"))
    manifest["reports"][1]["version"] = "1.0.0"
    (site / "reportgen-site.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match=rf'reports\.1: {MODEL} 1\.0\.0 \("reports/{MODEL}/1\.1\.0"\) is listed twice'):
        publish(site, [])


def test_site_path_is_a_file(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site.html"
    site.write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError, match=r"site\.html: is a file, not a folder; give a folder for the site"):
        publish(site, [built["v1"]])
    assert site.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_site_folder(built: dict[str, Path], tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    site.chmod(0o555)
    try:
        with pytest.raises(InputError, match=r"cannot write the output folder \(Permission denied\)") as caught:
            publish(site, [built["v1"]])
        assert "\n" not in str(caught.value)
        assert list(site.iterdir()) == []
    finally:
        site.chmod(0o755)


def test_render_index_of_an_empty_manifest() -> None:
    html = render_index(read_manifest(Path("/nonexistent-site-folder")))
    assert "<title>Model reports</title>" in html and "No reports yet" in html


# --- the command line -------------------------------------------------------------------------------------


def test_cli_site_command(built: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reportgen.cli import main

    site = tmp_path / "site"
    assert main(["site", str(site), str(built["v1"]), str(built["v2"]), "--title", "Team models"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(site / "index.html")
    assert f"added {MODEL} 1.0.0" in err and f"added {MODEL} 1.1.0" in err
    assert read_manifest(site).title == "Team models"
    assert main(["site", str(site), str(built["v1"])]) == 0
    assert f"replaced {MODEL} 1.0.0" in capsys.readouterr().err
    assert main(["site", str(site)]) == 0  # refresh the index only
    assert capsys.readouterr().out.strip() == str(site / "index.html")
    assert read_manifest(site).title == "Team models"

    before = _files(site)
    assert main(["site", str(site), str(tmp_path / "missing")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("reportgen: error: ") and "missing: no such report folder" in err
    assert _files(site) == before


def test_cli_build_adds_the_report_to_the_configured_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reportgen.cli import main

    synthetic_predictions(n=300).to_csv(tmp_path / "predictions.csv", index=False)
    (tmp_path / "config.toml").write_text(
        '[report]\noutput_dir = "out"\nresamples = 100\n'
        '[model]\nname = "from-config"\nversion = "3.0"\ndate = 2024-02-29\n'
        '[data]\npath = "predictions.csv"\nlabel = "y"\nscore = "p"\n'
        '[site]\ndir = "public"\ntitle = "Configured site"\n',
        encoding="utf-8",
    )
    assert main(["build", str(tmp_path / "config.toml"), "--format", "html,json"]) == 0
    assert "added from-config 3.0 → reports/from-config/3.0/" in capsys.readouterr().err
    (entry,) = read_manifest(tmp_path / "public").reports
    assert (entry.model, entry.version, entry.date, entry.files) == ("from-config", "3.0", "2024-02-29",
                                                                      ["report.html", "report.json"])
    assert read_manifest(tmp_path / "public").title == "Configured site"
    assert (tmp_path / "public" / "reports" / "from-config" / "3.0" / "report.json").read_bytes() == (
        tmp_path / "out" / "report.json").read_bytes()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, r"nested too deeply"),
        ('{"format": 1, "title": "x", "reports": [], "n": NaN}', r"NaN is not a JSON number"),
        ('{"format": 1, "title": "x", "reports": [], "n": Infinity}', r"Infinity is not a JSON number"),
        ('{"format": 1, "format": 1, "title": "x", "reports": []}', r'key "format" appears twice in one object'),
        ('{"format": "' + "x" * 5000 + '"}', None),
    ],
    ids=["deep", "nan", "infinity", "duplicate-key", "long-format"],
)
def test_issue_12_hostile_manifest(tmp_path: Path, text: str, reason: str | None) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "reportgen-site.json").write_text(text, encoding="utf-8")
    match = (rf"reportgen-site\.json: not a readable site manifest \({reason}\); restore it" if reason
             else r'site manifest format "x{78}… cannot be read by this reportgen \(format 1\)')
    with pytest.raises(InputError, match=match) as caught:
        read_manifest(site)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400


def test_every_models_trend_renders_in_one_batch(built: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen.render import vega

    batches = []
    to_svgs = vega.to_svgs
    monkeypatch.setattr(vega, "to_svgs", lambda specs: batches.append(len(specs)) or to_svgs(specs))
    second = [_variant(built[v], tmp_path / f"second-{v}", name="second-model") for v in ("v1", "v2")]
    publish(tmp_path / "site", [built["v1"], built["v2"], *second])
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert html.count('<figure class="chart trend"') == 2 and batches == [2]  # two models' trends, one batch
