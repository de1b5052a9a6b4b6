"""Command line: `reportgen build`, `check`, `site` and `init`. Parses, calls the library, prints.

Exit codes: 0 success, 1 a quality gate failed (`build --fail-on-gate`, `check`), 2 any error: a config or
input error, or a failure of the system (a full disk, a file where a folder goes, input nested too deeply for
Python, no memory left), always as one line on stderr.

Terminal output (stderr messages and the paths printed on stdout) never carries control characters, so
text from a config or data file cannot move the cursor or recolor the terminal.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import gc
import os
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from reportgen.errors import InputError, ReportgenError, quoted_list
from reportgen.render.formats import FORMATS, Options
from reportgen.version import __version__

if TYPE_CHECKING:  # the pipeline is imported by the command that runs it: --help and --version start without it
    from reportgen.config import Config
    from reportgen.document.schema import GateResult, Report

GATE_FAILED, USER_ERROR = 1, 2
MAX_LINE = 2000  # characters of one message, a last resort (errors cut user values much shorter)
# The command's collector thresholds (`run`): young collections every 50,000 allocations (Python: 700), the
# oldest generation, which walks every library object, next to never.
GC_THRESHOLDS = (50_000, 20, 1000)


def _formats(text: str) -> list[str]:
    chosen = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"{quoted_list(unknown) or 'nothing'} is not a format; choose from {', '.join(FORMATS)}"
        )
    return [name for name in FORMATS if name in chosen]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen", description="Turn a model's predictions into a sliced, fairness-aware model card."
    )
    parser.add_argument("--version", action="version", version=f"reportgen {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the report (HTML, PDF, JSON, summary.md) from a config file")
    build.add_argument("config", type=Path, help="the TOML config file")
    build.add_argument("--out", type=Path,
                       help="output folder (default: [report] output_dir of the config, which must lie in the project)")
    build.add_argument("--root", type=Path, metavar="DIR",
                       help="a folder the config's paths may also lie in (default: only the project root, the git "
                            "work tree holding the config)")
    build.add_argument("--format", type=_formats, default=list(FORMATS), metavar="LIST",
                       help=f"comma-separated outputs among {','.join(FORMATS)} (default: all of them)")
    build.add_argument("--interactive", action="store_true",
                       help="embed the Vega runtime (inlined, offline) for chart tooltips")
    build.add_argument("--fail-on-gate", action="store_true",
                       help="exit 1 when a quality gate fails (the files are written first)")
    build.add_argument("-q", "--quiet", action="store_true", help="print only the output paths")

    check = commands.add_parser("check", help="check the quality gates of a built report.json (exit 1 on failure)")
    check.add_argument("report", type=Path, help="a report.json written by `reportgen build`")
    check.add_argument("--config", type=Path,
                       help="apply this config's [[gates]] instead of the gates recorded in the report")

    site = commands.add_parser("site", help="add built reports to a static site (index.html + one page each)")
    site.add_argument("publish_dir", type=Path, help="the site folder (created if missing)")
    site.add_argument("reports", type=Path, nargs="*",
                      help="folders holding a built report.json (and report.html, .pdf); none: refresh the index")
    site.add_argument("--title", help="the index page's title (default: the site's current title)")

    init = commands.add_parser("init", help="write a commented starter config guessed from a predictions file")
    init.add_argument("data", type=Path, help="the predictions file (.csv, .parquet or .jsonl)")
    init.add_argument("--out", type=Path, help="the config to write (default: reportgen.toml in this folder)")
    init.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    return parser


def _printable(text: str) -> str:
    """One terminal line: tabs and line breaks as spaces, other control and format characters (terminal escapes,
    bidirectional overrides, undecodable bytes of a path) as "?", cut at `MAX_LINE` characters."""
    if len(text) > MAX_LINE:
        text = f"{text[:MAX_LINE]}… ({len(text) - MAX_LINE:,} more characters)"
    return "".join(
        " " if c in "\t\n\r" else "?" if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") else c
        for c in text
    )


def _say(text: str) -> None:
    """Print a line to stderr with control characters (user text could hold terminal escapes) shown as "?"."""
    print(_printable(text), file=sys.stderr, flush=True)


def _show(path: Path) -> None:
    """Print a written path on stdout, as `_say` prints (an output_dir could hold terminal escapes)."""
    print(_printable(str(path)), flush=True)


class _Progress:
    """Step messages with elapsed time, on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            _say(f"[{time.perf_counter() - self.start:5.1f}s] {message}")


def build(
    config_path: Path, out: Path | None, *, formats: Sequence[str] = tuple(FORMATS), interactive: bool = False,
    quiet: bool = False, root: Path | None = None,
) -> tuple[Report, list[Path]]:
    """Run the whole pipeline for one config; returns the document and the written files.

    `out` (typed by the caller) is used as given; the config's `[report] output_dir` and `[site] dir`
    must lie in the project root (`reportgen.paths`), widened by `root`. The files are written as one
    set (`write_set`): a failure leaves the previous build's files as they were. When charts are drawn,
    their worker processes start first, so their engines start while the data is read and evaluated.
    """
    from reportgen.config import load_config
    from reportgen.render import vega

    progress = _Progress(quiet)
    config, _ = load_config(config_path)
    draws_charts = any(FORMATS[name].charts for name in formats)
    with vega.warm_workers() if draws_charts else contextlib.nullcontext():
        return _build(config_path, config, out, formats=formats, interactive=interactive, root=root,
                      progress=progress)


def _build(
    config_path: Path, config: Config, out: Path | None, *, formats: Sequence[str], interactive: bool,
    root: Path | None, progress: _Progress,
) -> tuple[Report, list[Path]]:
    from reportgen.evaluation import evaluate_config
    from reportgen.paths import project_of
    from reportgen.render.files import write_set
    from reportgen.render.formats import render
    from reportgen.site import publish

    project = project_of(config_path, root=root)
    output_dir = out if out is not None else project.confine("[report] output_dir", config.report.output_dir)
    site_dir = None if config.site.dir is None else project.confine("[site] dir", config.site.dir)
    evaluation = evaluate_config(config_path, root=root, progress=progress)
    report = evaluation.to_report()
    # render everything before writing anything: an error leaves no partial set of files
    options = Options(interactive=interactive, page_size=config.report.page_size, pdf=config.report.pdf,
                      base_url=config.report.base_url)
    files = render(report, formats, options, progress=progress)
    written = write_set(output_dir, files, names=[format.file for format in FORMATS.values()])
    if site_dir is not None:
        progress(f"adding the report to the site in {config.site.dir}")
        for note in publish(site_dir, [output_dir], title=config.site.title):
            progress(note)
    progress("done")
    return report, written


def _print_gates(gates: Sequence[GateResult]) -> None:
    for gate in gates:
        mark = {"pass": "PASS", "fail": "FAIL"}.get(gate.status, "N/A ")
        _say(f"{mark}  {gate.title}: {gate.detail}")


def _gate_exit(gates: Sequence[GateResult]) -> int:
    from reportgen.document.gates import failed

    broken = failed(gates)
    if broken:
        _say(f"reportgen: {len(broken)} of {len(gates)} quality gates did not pass")
        return GATE_FAILED
    return 0


def _check(report_path: Path, config_path: Path | None) -> int:
    from reportgen.config import load_config
    from reportgen.document.gates import evaluate_gates
    from reportgen.render.files import check_set
    from reportgen.render.json import read_json

    names = check_set(report_path.parent)
    if names is not None and report_path.name not in names:
        raise InputError(
            f"{report_path}: not written by the last build in its folder (its set file lists "
            f"{quoted_list(sorted(names))}); build the report again"
        )
    report = read_json(report_path)
    if config_path is not None:
        config, _ = load_config(config_path)
        gates = evaluate_gates(config.gates, report, source=str(config_path))
    else:
        gates = report.gates
    if not gates:
        _say(f"{report_path}: no quality gates to check")
        return 0
    _print_gates(gates)
    return _gate_exit(gates)


def _init(data: Path, out: Path | None, *, force: bool) -> int:
    from reportgen.starter import write_starter

    written, notes = write_starter(data, out, force=force)
    for note in notes:
        _say(note)
    for path in written:
        _show(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reportgen` command; returns the exit code (0 ok, 1 a gate failed, 2 an error)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return _check(args.report, args.config)
        if args.command == "init":
            return _init(args.data, args.out, force=args.force)
        if args.command == "site":
            from reportgen.site import publish

            for note in publish(args.publish_dir, args.reports, title=args.title):
                _say(note)
            _show(args.publish_dir / "index.html")
            return 0
        report, written = build(args.config, args.out, formats=args.format, interactive=args.interactive,
                                quiet=args.quiet, root=args.root)
    except ReportgenError as exc:
        _say(f"reportgen: error: {exc}")
        return USER_ERROR
    except (RecursionError, MemoryError, OSError) as exc:  # the last resort: the library names paths itself
        _say(f"reportgen: error: {_system_error(args, exc)}")
        return USER_ERROR
    for path in written:
        _show(path)
    if report.gates and not args.quiet:
        _print_gates(report.gates)
    return _gate_exit(report.gates) if args.fail_on_gate else 0


def _system_error(args: argparse.Namespace, exc: BaseException) -> str:
    """One line for a failure of the system while running a command, naming the file where known."""
    given = {"build": "config", "check": "report", "site": "publish_dir", "init": "data"}[args.command]
    where = str(getattr(args, given))
    if isinstance(exc, RecursionError):
        return f"{where}: the input is nested too deeply to read; flatten it"
    if isinstance(exc, MemoryError):
        return f"{where}: ran out of memory; give smaller inputs or a machine with more memory"
    path = exc.filename if isinstance(exc, OSError) and exc.filename else where
    name = errno.errorcode.get(exc.errno, "") if isinstance(exc, OSError) and exc.errno else ""
    reason = (exc.strerror if isinstance(exc, OSError) else None) or exc.__class__.__name__
    return f"{path}: {reason}{f' ({name})' if name else ''}"


def run() -> NoReturn:
    """The `reportgen` command (its console script): `main`, then the exit handlers, the output flushed, and
    the process ends at once. Python's own shutdown would then free the objects of every library imported,
    one by one: 0.3–0.5 s after a build, longer than some commands take.

    The cyclic garbage collector runs rarely in this short-lived process (`GC_THRESHOLDS`): with Python's
    defaults, a build of the example ran 535 young and 4 full collections, each full one walking every object
    of the libraries imported, about 10% of the build's CPU. Young garbage is still collected, every
    `GC_THRESHOLDS[0]` allocations.
    """
    gc.set_threshold(*GC_THRESHOLDS)
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`reportgen ... | head`)
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
