"""Fuzz of the config and data loaders: every failure is a ReportgenError of one bounded line (issue 12).

The strategies live in `hostile_inputs.py`. Examples here are few (`REPORTGEN_FUZZ_EXAMPLES`, default 60)
and have no deadline, so the module takes a few tens of seconds; `benchmarks/fuzz_loaders.py` runs it
with many more.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.config import DataSection, load_config
from reportgen.io import load_predictions
from tests.hostile_inputs import config_texts, data_files, one_line, run_case

EXAMPLES = int(os.environ.get("REPORTGEN_FUZZ_EXAMPLES", "60"))
FAST = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(config=config_texts("data.csv"))
def test_load_config_fails_in_one_line(config: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.toml"
        path.write_bytes(config if isinstance(config, bytes) else config.encode("utf-8", "surrogatepass"))
        one_line(load_config, path)


@FAST
@given(file=data_files(), data=st.sampled_from([
    DataSection(label="y", score="p"),
    DataSection(label="y", prediction="p"),
    DataSection(label="y", score_prefix="p"),
    DataSection(label="sex", prediction="y"),
]))
def test_load_predictions_fails_in_one_line(file: tuple[str, bytes], data: DataSection) -> None:
    name, content = file
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / name).write_bytes(content)
        one_line(load_predictions, Path(folder) / name, data, source=name)


@settings(FAST, max_examples=max(EXAMPLES * 2 // 5, 1))
@given(file=data_files(), config=st.data())
def test_evaluate_config_fails_in_one_line(file: tuple[str, bytes], config: st.DataObject) -> None:
    name, content = file
    text = config.draw(config_texts(name, gentle=True))
    with tempfile.TemporaryDirectory() as folder:
        run_case(Path(folder), text, name, content)
