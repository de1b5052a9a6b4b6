"""Long run of the loader fuzz (issue 12): `tests/test_fuzz_loaders.py` with many more examples.

    python benchmarks/fuzz_loaders.py [--examples 5000] [--seed 0]

Every failure of `load_config`, `load_predictions` and `reportgen.evaluate_config` on hostile configs
and data files must be a ReportgenError of one bounded line; pytest prints the first other exception
(or an overlong or multi-line message) with the shrunk example, and the exit status is not 0.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests" / "test_fuzz_loaders.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per loader (evaluate_config gets two fifths)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    environment = os.environ | {"REPORTGEN_FUZZ_EXAMPLES": str(args.examples)}
    command = [sys.executable, "-m", "pytest", str(TESTS), "-p", "no:cacheprovider", "--durations=0",
               f"--hypothesis-seed={args.seed}"]
    return subprocess.run(command, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
