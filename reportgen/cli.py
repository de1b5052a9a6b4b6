"""Command line: `reportgen build CONFIG [--out DIR] [--interactive]`. Parses, calls the library, prints."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import reportgen
from reportgen.config import load_config
from reportgen.errors import ConfigError, ReportgenError
from reportgen.evaluation import evaluate_predictions
from reportgen.io import load_predictions
from reportgen.render.files import write_atomic
from reportgen.render.html import to_html
from reportgen.render.json import to_json


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reportgen", description="Turn a model's predictions into a sliced, fairness-aware model card."
    )
    parser.add_argument("--version", action="version", version=f"reportgen {reportgen.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="build report.html and report.json from a config file")
    build.add_argument("config", type=Path, help="the TOML config file")
    build.add_argument("--out", type=Path, help="output folder (default: [report] output_dir of the config)")
    build.add_argument("--interactive", action="store_true",
                       help="embed the Vega runtime (inlined, offline) for chart tooltips")
    build.add_argument("-q", "--quiet", action="store_true", help="print only the output paths")
    return parser


class _Progress:
    """Step messages with elapsed time, on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{time.perf_counter() - self.start:5.1f}s] {message}", file=sys.stderr, flush=True)


def build(config_path: Path, out: Path | None, *, interactive: bool, quiet: bool) -> list[Path]:
    """Run the whole pipeline for one config; returns the written files."""
    progress = _Progress(quiet)
    config, base = load_config(config_path)
    if config.data.path is None:
        raise ConfigError(f"{config_path}: [data] path: required key is missing (the predictions file)")
    data_path = base / config.data.path
    output_dir = out if out is not None else base / config.report.output_dir
    progress(f"reading {data_path.name}")
    predictions = load_predictions(data_path, config.data, task=config.model.task, source=config.data.path)
    progress(f"evaluating {len(predictions.frame):,} rows over {len(config.slices)} slice definitions")
    evaluation = evaluate_predictions(predictions, config)
    report = evaluation.to_report()
    progress("rendering charts and HTML")
    html = to_html(report, interactive=interactive).encode("utf-8")
    json_text = to_json(report).encode("utf-8")
    written = [write_atomic(output_dir / "report.html", html), write_atomic(output_dir / "report.json", json_text)]
    progress("done")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `reportgen` command; returns the exit code (0 ok, 2 config or input error)."""
    args = _parser().parse_args(argv)
    try:
        written = build(args.config, args.out, interactive=args.interactive, quiet=args.quiet)
    except ReportgenError as exc:
        print(f"reportgen: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
