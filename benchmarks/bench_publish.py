"""Time each output of `reportgen build` on the bundled examples: charts, HTML, PDF, JSON, summary.md.

    python benchmarks/bench_publish.py [--repeat 3] [--builds N] [examples ...]

The charts are rendered once per build and shared by the HTML page and the PDF, as `reportgen build`
does (here and in worker processes at once, `reportgen.render.vega`; the cache is cleared before each
run); "PDF" is the PDF step of a build (layout and writing) for the default sign-off card and for
``pdf="full"``, "PDF alone" is `to_pdf` rendering the sign-off card's own charts. Prints the best of
`--repeat` runs of each step, as a markdown table.

With ``--builds N``, times instead the whole command as a user runs it, in a new process each (wall clock,
best and median of N): ``reportgen build --format html,json,md`` and ``reportgen build`` (every output); this
includes Python's start-up, the imports and the chart workers' engines, which the steps above leave out.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reportgen.evaluation import evaluate_config
from reportgen.render.html import render_charts, to_html
from reportgen.render.json import to_json
from reportgen.render.markdown import to_markdown
from reportgen.render.pdf import to_pdf
from reportgen.render.vega import clear_cache

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("adult-income", "penguins", "wage")


def best(step: Callable[[], object], repeat: int) -> tuple[float, object]:
    """The shortest of `repeat` timings of `step`, and its result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    return min(times), result


def _pages(pdf: bytes) -> str:
    """The page count, from poppler's `pdfinfo`."""
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))


def builds(examples: list[str], runs: int) -> None:
    """Time `reportgen build` end to end, each run a new process, and print a markdown table."""
    cli = shutil.which("reportgen")
    entry = [cli] if cli else [sys.executable, "-c", "import sys; from reportgen.cli import main; sys.exit(main())"]
    print("| example | outputs | best | median | runs |")
    print("|---|---|---:|---:|---|")
    for name in examples:
        for label, formats in (("HTML + JSON + summary.md", ["--format", "html,json,md"]), ("every output", [])):
            times = []
            for _ in range(runs):
                with tempfile.TemporaryDirectory() as out:
                    command = [*entry, "build", str(ROOT / "examples" / name / "config.toml"), "--out", out, "--quiet",
                               *formats]
                    start = time.perf_counter()
                    subprocess.run(command, check=False, capture_output=True)
                    times.append(time.perf_counter() - start)
            print(f"| {name} | {label} | {min(times):.2f} s | {statistics.median(times):.2f} s "
                  f"| {', '.join(f'{t:.2f}' for t in times)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", nargs="*", default=list(EXAMPLES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--builds", type=int, default=0, help="time the whole command instead, N runs each")
    args = parser.parse_args()
    if args.builds:
        builds(args.examples, args.builds)
        return
    print("| example | rows | evaluate | charts | HTML | PDF sign-off (pages) | PDF full (pages) | PDF alone | JSON "
          "| summary.md |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.examples:
        path = ROOT / "examples" / name / "config.toml"
        evaluate_time, report = best(lambda: evaluate_config(path).to_report(), args.repeat)  # noqa: B023
        charts_time, charts = best(lambda: clear_cache() or render_charts(report, interactive=False), args.repeat)
        html_time, _ = best(lambda: to_html(report, rendered=charts), args.repeat)
        pdf_time, pdf = best(lambda: to_pdf(report, rendered=charts), args.repeat)
        full_time, full = best(lambda: to_pdf(report, pdf="full", rendered=charts), args.repeat)
        alone_time, _ = best(lambda: clear_cache() or to_pdf(report), args.repeat)
        json_time, _ = best(lambda: to_json(report), args.repeat)
        md_time, _ = best(lambda: to_markdown(report), args.repeat)
        print(f"| {name} | {report.evaluation_data.rows:,} | {evaluate_time:.2f} s | {charts_time:.2f} s ({len(charts)}) "
              f"| {html_time:.2f} s | {pdf_time:.2f} s ({_pages(bytes(pdf))}) | {full_time:.2f} s ({_pages(bytes(full))}) "
              f"| {alone_time:.2f} s | {json_time:.2f} s | {md_time:.2f} s |", flush=True)


if __name__ == "__main__":
    main()
