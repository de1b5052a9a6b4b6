"""Long run of the loader fuzz (issue 12): the strategies of tests/test_fuzz_loaders.py, many more examples.

    python benchmarks/fuzz_loaders.py [--examples 5000] [--seed 0]

Every failure of `load_config`, `load_predictions` and `reportgen.evaluate_config` on hostile configs
and data files must be a ReportgenError of one bounded line; the first other exception (or an
overlong or multi-line message) is printed with the shrunk example, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hostile_inputs import config_texts, data_files, one_line, run_case  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from reportgen.config import DataSection, load_config  # noqa: E402
from reportgen.io import load_predictions  # noqa: E402

SECTIONS = [DataSection(label="y", score="p"), DataSection(label="y", prediction="p"),
            DataSection(label="y", score_prefix="p"), DataSection(label="sex", prediction="y")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per loader (evaluate_config gets a fifth)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    many = settings(max_examples=args.examples, deadline=None, database=None, derandomize=False,
                    suppress_health_check=list(HealthCheck))

    @many
    @given(config=config_texts("data.csv"))
    def configs(config: str | bytes) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "config.toml"
            path.write_bytes(config if isinstance(config, bytes) else config.encode("utf-8", "surrogatepass"))
            one_line(load_config, path)

    @many
    @given(file=data_files(), data=st.sampled_from(SECTIONS))
    def data(file: tuple[str, bytes], data: DataSection) -> None:
        with tempfile.TemporaryDirectory() as folder:
            (Path(folder) / file[0]).write_bytes(file[1])
            one_line(load_predictions, Path(folder) / file[0], data, source=file[0])

    @settings(many, max_examples=max(args.examples // 5, 1))
    @given(file=data_files(), drawn=st.data())
    def projects(file: tuple[str, bytes], drawn: st.DataObject) -> None:
        with tempfile.TemporaryDirectory() as folder:
            run_case(Path(folder), drawn.draw(config_texts(file[0], gentle=True)), file[0], file[1])

    failed = False
    for run in (configs, data, projects):
        start = time.perf_counter()
        try:
            seeded = run if args.seed is None else __import__("hypothesis").seed(args.seed)(run)
            seeded()
            status = "ok"
        except Exception as exc:  # report and go on with the next loader
            failed, status = True, f"FAILED: {exc.__class__.__name__}: {str(exc)[:500]}"
        print(f"{run.__name__}: {status} ({time.perf_counter() - start:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
