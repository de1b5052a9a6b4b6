"""JSON output: valid against the published schema, Model Card Toolkit-compatible, golden."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

import reportgen
from reportgen.cli import main
from reportgen.document.schema import SCHEMA_VERSION
from reportgen.render.json import published_schema, report_schema, to_json
from tests.helpers import synthetic_predictions

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def document() -> dict:
    ev = reportgen.evaluate(synthetic_predictions(), label="y", score="p", slices=[{"column": "race"}],
                            sensitive=["sex"], resamples=200)
    return json.loads(to_json(ev.to_report()))


def test_published_schema_is_current() -> None:
    assert published_schema() == report_schema(), "regenerate with: python -m reportgen.render.json"


def test_output_validates_against_schema(document: dict) -> None:
    jsonschema.validate(document, published_schema())
    assert document["schema_version"] == SCHEMA_VERSION == "2.10.0"


def test_undefined_is_null_with_reason() -> None:
    df = synthetic_predictions(200)
    df.loc[df["race"] == "c", "y"] = 1
    doc = json.loads(to_json(reportgen.evaluate(df, label="y", score="p", slices=[{"column": "race"}],
                                                resamples=100).to_report()))
    group = next(g for g in doc["slices"][0]["groups"] if g["group"] == "c")
    auc = next(m for m in group["metrics"] if m["name"] == "roc_auc")
    assert auc == {"name": "roc_auc", "value": None, "ci_low": None, "ci_high": None, "support": 0, "small": True,
                   "undefined_reason": "only one class in this group"}


def test_model_card_toolkit_performance_metrics(document: dict) -> None:
    entries = document["performance_metrics"]
    names = {e["type"] for e in entries}
    assert {"accuracy", "roc_auc", "selection_rate", "log_loss"} <= names
    accuracy = next(e for e in entries if e["type"] == "accuracy" and e["slice"] == "race: a")
    assert set(accuracy) == {"type", "value", "slice", "confidence_interval", "n", "threshold"}
    assert accuracy["confidence_interval"]["lower_bound"] <= accuracy["value"] <= accuracy["confidence_interval"]["upper_bound"]
    assert accuracy["threshold"] == 0.5
    assert sum(e["type"] == "count" for e in entries) == 1 + 3 + 2  # overall, race groups, sex groups (sensitive)


def _normalized(text: str) -> str:
    """What legitimately varies between machines and commits: versions, the git state, the charts' SVG."""
    text = re.sub(r"reportgen \d+\.\d+\.\d+[^\s\"<]*", "reportgen VERSION", text)
    text = re.sub(r'"git_commit": ("[0-9a-f]{40}"|null),\s*"git_dirty": (true|false|null)', '"git": "STATE"', text)
    text = re.sub(r'"versions": \{[^}]*\}', '"versions": "VERSIONS"', text)
    text = re.sub(r'("name": "numpy",\s*"version": )"[^"]*"', r'\1"VERSION"', text)  # the engine's version
    text = re.sub(r"<dt>Engine</dt><dd>numpy [^,]*,", "<dt>Engine</dt><dd>numpy VERSION,", text)
    text = re.sub(r"<dt>Code</dt><dd>.*?</dd>", "<dt>Code</dt><dd>STATE</dd>", text)
    text = re.sub(r'<table class="compact versions">.*?</table>', "VERSIONS", text, flags=re.DOTALL)
    # the types skops does not trust by itself depend on the installed scikit-learn (1.8 adds the model's loss)
    text = re.sub(r"\(\[model\] trusted allowed \d+ more types?: [^)]*\)", "([model] trusted allowed TYPES)", text)
    # the example's model was saved by the lock's scikit-learn: another one (bash .ci/run --oldest) says so
    text = re.sub(r',\n\s*"The model [^\n]*? was saved with scikit-learn [^\n]*? they changed\."', "", text)
    text = re.sub(r"<p>The model [^<]*? was saved with scikit-learn [^<]*? they changed\.</p>", "", text)
    return re.sub(r"<svg.*?</svg>", "<svg/>", text, flags=re.DOTALL)


@pytest.fixture(scope="module")
def example_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built once with the CLI's defaults (every format)."""
    out = tmp_path_factory.mktemp("example")
    assert main(["build", str(ROOT / "examples" / "adult-income" / "config.toml"), "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.parametrize("name", ["report.json", "report.html"])
def test_example_matches_golden(name: str, example_build: Path, update_golden: bool) -> None:
    produced = _normalized((example_build / name).read_text())
    golden = GOLDEN / name
    if update_golden:
        golden.write_text(produced)
    expected = golden.read_text()
    if name == "report.json" and produced != expected and _same_numbers(json.loads(produced), json.loads(expected)):
        return  # the last digits of a few floats differ with the versions of numpy/scipy (bash .ci/run --oldest)
    assert produced == expected, f"{name} changed; review and run pytest --update-golden"


def _same_numbers(produced: object, expected: object) -> bool:
    """Equal documents, floats to 1e-6 relative: the same report computed with other library versions (interval
    ends found by a root finder move in their last digits with scipy's version)."""
    if isinstance(produced, float) and isinstance(expected, float):
        return produced == pytest.approx(expected, rel=1e-6, abs=1e-12)
    if isinstance(produced, dict) and isinstance(expected, dict):
        return produced.keys() == expected.keys() and all(_same_numbers(produced[k], expected[k]) for k in produced)
    if isinstance(produced, list) and isinstance(expected, list):
        return len(produced) == len(expected) and all(map(_same_numbers, produced, expected))
    return type(produced) is type(expected) and produced == expected


# Reading back a hostile report.json (issue 12) ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, r"nested too deeply"),
        ('{"schema_version": "2.5.0", "x": NaN}', r"NaN is not a JSON number"),
        ('{"schema_version": "2.5.0", "x": -Infinity}', r"-Infinity is not a JSON number"),
        ('{"schema_version": "2.5.0", "schema_version": "9.0.0"}', r'key "schema_version" appears twice in one object'),
        ('{"schema_version": 1' + "0" * 5000 + "}", r"a number of more than 4,300 digits"),
    ],
    ids=["deep", "nan", "infinity", "duplicate-key", "huge-int"],
)
def test_issue_12_hostile_report_json(tmp_path: Path, text: str, reason: str) -> None:
    from reportgen.errors import InputError
    from reportgen.render.json import read_json

    (tmp_path / "report.json").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=rf"report\.json: not a readable report\.json \({reason}\)$") as caught:
        read_json(tmp_path / "report.json")
    assert "\n" not in str(caught.value)


def test_issue_12_report_json_over_the_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reportgen import io
    from reportgen.errors import InputError
    from reportgen.render.json import read_json

    monkeypatch.setattr(io, "MAX_JSON_BYTES", 2**20)
    (tmp_path / "report.json").write_text('{"a": "' + "x" * 2**20 + '"}')
    with pytest.raises(InputError, match=r"report\.json: not a readable report\.json \(over 1 MB, the most read\)$"):
        read_json(tmp_path / "report.json")


def test_issue_12_long_schema_version_is_cut(tmp_path: Path) -> None:
    from reportgen.errors import InputError
    from reportgen.render.json import read_json

    (tmp_path / "report.json").write_text(json.dumps({"schema_version": "9" * 5000}))
    with pytest.raises(InputError, match=r"report schema 9{79}… cannot be read by this reportgen") as caught:
        read_json(tmp_path / "report.json")
    assert len(str(caught.value)) < 400


def test_issue_14_each_value_carries_its_support_and_each_metric_what_it_counts(document: dict) -> None:
    units = {m["name"]: m["support_unit"] for m in document["metrics"]["metrics"]}
    assert (units["recall"], units["fpr"], units["precision"], units["accuracy"]) == (
        "positives", "negatives", "predicted positives", "rows")
    min_support = document["metrics"]["min_support"]
    for group in [document["overall"], *[g for s in document["slices"] for g in s["groups"]]]:
        values = {m["name"]: m for m in group["metrics"]}
        matrix = group["confusion_matrix"]
        counted = {"recall": matrix["tp"] + matrix["fn"], "fpr": matrix["tn"] + matrix["fp"],
                   "precision": matrix["tp"] + matrix["fp"], "accuracy": group["n"]}
        for name, count in counted.items():
            assert (values[name]["support"], values[name]["small"]) == (count, count < min_support)
