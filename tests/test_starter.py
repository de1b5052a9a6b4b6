"""`reportgen init` and the config's JSON Schema: guesses on the examples, hostile names, TODOs, no clobbering."""

from __future__ import annotations

import doctest
import json
import re
import shutil
import tomllib
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reportgen.cli import main
from reportgen.config import Config, load_config, validate
from reportgen.errors import ConfigError, InputError, ReportgenError
from reportgen.evaluation import evaluate_config
from reportgen.starter import SCHEMA_COPY, guess, published_schema, schema_text, toml_value, write_starter

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(path.parent.name for path in (ROOT / "examples").glob("*/config.toml"))


def _as_json(document: dict) -> dict:
    """A TOML document as editors check it against a JSON Schema: dates and times as text."""
    return json.loads(json.dumps(document, default=str))


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(published_schema()))


def test_published_config_schema_is_current() -> None:
    assert published_schema() == schema_text(), "regenerate with: python -m reportgen.starter"


def test_schema_describes_every_key() -> None:
    schema = json.loads(published_schema())
    for name, section in [("Config", schema), *schema["$defs"].items()]:
        undocumented = [key for key, prop in section["properties"].items() if not prop.get("description")]
        assert not undocumented, f"{name}: {undocumented} have no description (add a docstring under the field)"


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_configs_validate_against_the_schema(example: str) -> None:
    document = tomllib.loads((ROOT / "examples" / example / "config.toml").read_text(encoding="utf-8"))
    _validator().validate(_as_json(document))


@pytest.mark.parametrize("document", [
    {"data": {"label": "y", "lable": "y"}},            # an unknown key
    {"report": {"confidence_level": 0.3}, "data": {"label": "y"}},  # out of range
    {"data": {"score": "p"}},                          # label missing
    {"data": {"label": "y"}, "slices": {"column": "a"}},  # [slices] is a list of tables
])
def test_schema_refuses_what_the_models_refuse(document: dict) -> None:
    assert not _validator().is_valid(document)
    with pytest.raises(ConfigError):
        validate(Config, document, source="config.toml")


def test_baseline_may_be_one_table_or_several() -> None:
    one = {"data": {"label": "y", "score": "p"}, "baseline": {"path": "b.csv", "score": "p"}}
    several = {**one, "baseline": [one["baseline"], {"name": "b2", "path": "c.csv", "score": "p"}]}
    assert _validator().is_valid(one) and _validator().is_valid(several)


def _init(tmp_path: Path, data: Path, *args: str) -> tuple[int, Path]:
    out = tmp_path / "reportgen.toml"
    return main(["init", str(data), "--out", str(out), *args]), out


@pytest.mark.parametrize("example", EXAMPLES)
def test_init_on_each_example_guesses_what_its_config_says_and_builds(tmp_path: Path, example: str) -> None:
    data = tmp_path / "predictions.csv"
    shutil.copy(ROOT / "examples" / example / "predictions.csv", data)
    code, out = _init(tmp_path, data)
    assert code == 0
    written = tomllib.loads(out.read_text(encoding="utf-8"))
    _validator().validate(_as_json(written))
    hand_written, _ = load_config(ROOT / "examples" / example / "config.toml")
    for key in ("label", "score", "score_prefix", "prediction"):
        assert getattr(load_config(out)[0].data, key) == getattr(hand_written.data, key), key
    evaluation = evaluate_config(out)
    report = evaluation.to_report()  # measures every slice the config names
    assert evaluation.predictions.task == written["model"]["task"]
    assert {s.name for s in report.slices} >= {spec["column"] for spec in written["slices"]}
    assert hand_written.model.task in (None, written["model"]["task"])
    assert [spec.column for spec in evaluation.config.slices]  # candidate slices were found and built
    assert "row_id" not in str(written["slices"]) and "id" not in [s["column"] for s in written["slices"]]


def test_init_then_build_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "predictions.csv"
    shutil.copy(ROOT / "examples" / "penguins" / "predictions.csv", data)
    code, out = _init(tmp_path, data)
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(out), str(tmp_path / SCHEMA_COPY)]
    assert 'guessed label = "species"' in captured.err
    assert main(["build", str(out), "--format", "json", "-q"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["evaluation_data"]["rows"] == 333


def test_schema_directive_points_at_the_schema_beside_the_config(tmp_path: Path) -> None:
    data = tmp_path / "data" / "predictions.csv"
    data.parent.mkdir()
    data.write_text("y,p,sex\n1,0.9,f\n0,0.2,m\n")
    written, _ = write_starter(data, tmp_path / "cards" / "model.toml")
    config, schema = written
    first = config.read_text(encoding="utf-8").splitlines()[0]
    assert first == f"#:schema ./{SCHEMA_COPY.as_posix()}"
    assert (config.parent / first.removeprefix("#:schema ")).read_bytes() == published_schema() == schema.read_bytes()
    assert tomllib.loads(config.read_text())["data"]["path"] == "../data/predictions.csv"


def test_parquet_and_jsonl_are_read_with_the_same_loaders(tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "examples" / "penguins" / "predictions.csv")
    frame.to_parquet(tmp_path / "p.parquet")
    frame.to_json(tmp_path / "p.jsonl", orient="records", lines=True)
    for name in ("p.parquet", "p.jsonl"):
        written, notes = write_starter(tmp_path / name, tmp_path / f"{name}.toml")
        data = tomllib.loads(written[0].read_text())["data"]
        assert (data["label"], data["score_prefix"], data["prediction"]) == ("species", "p_", "predicted")


HOSTILE = ['y"true', "new\nline", "tab\there", "back\\slash", "#not a comment", "]] [x]", "séx ☃", "del\x7fchar",
           "nul\x00byte", "'single'", "emoji 🧪", "line\u2028separator", "bidi\u202eoverride", "tag\U000e0041"]


def test_hostile_column_names_round_trip_through_toml(tmp_path: Path) -> None:
    n = 40
    frame = pd.DataFrame({
        "label": [i % 2 for i in range(n)],
        "score": [round((i % 10) / 10, 1) for i in range(n)],
        **{name: [f"g{i % 3}" for i in range(n)] for name in HOSTILE},
    })
    data = tmp_path / "p.parquet"
    frame.to_parquet(data)
    written, _ = write_starter(data, tmp_path / "c.toml")
    text = written[0].read_text(encoding="utf-8")
    document = tomllib.loads(text)
    assert [s["column"] for s in document["slices"]] == HOSTILE[:8]
    assert set(HOSTILE) - {s["column"] for s in document["slices"]} == set(HOSTILE[8:])  # commented out, not lost
    uncommented = tomllib.loads(re.sub(r"(?m)^# (\[\[slices\]\]|column = )", r"\1", text))  # the user's next step
    assert [s["column"] for s in uncommented["slices"]] == HOSTILE
    assert all(re.fullmatch(r"#.*|\[.*|[a-z_]+ = .*|", line) for line in text.splitlines())  # no name broke a line
    assert [spec.column for spec in evaluate_config(written[0]).config.slices] == HOSTILE[:8]


def test_a_name_toml_cannot_hold_is_refused_by_the_loader(tmp_path: Path) -> None:
    data = tmp_path / "p.jsonl"  # a lone surrogate: JSON can escape it, UTF-8 (and so TOML) cannot hold it
    data.write_text('{"y": 1, "p": 0.9, "\\ud800": "a"}\n{"y": 0, "p": 0.1, "\\ud800": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="p.jsonl: cannot read as jsonl"):
        write_starter(data, tmp_path / "c.toml")
    assert not (tmp_path / "c.toml").exists()


@given(st.text(st.characters(exclude_categories=["Cs"])))  # lone surrogates: not UTF-8, refused by the loaders
def test_toml_value_round_trips_any_text_on_one_line(text: str) -> None:
    written = toml_value(text)
    assert written.isprintable()  # nothing that ends a line, in a value or in a comment
    assert tomllib.loads(f"x = {written}")["x"] == text
    assert tomllib.loads(f"x = {toml_value([text, 1, 0.5, True])}")["x"] == [text, 1, 0.5, True]


@pytest.mark.parametrize(("csv", "key", "message"), [
    ("a,b\nx,1\ny,2\n", "label", r"\[data\] label: required key is missing"),
    ("y,sex\n1,f\n0,m\n", "score", r'\[data\]: name the model\'s output: "score" \(binary\)'),
    ("y,p\nA,0.9\nB,0.1\n", "positive_label", r"set \[data\] positive_label"),
    ("y,sex\na,f\nb,m\nc,f\n", "prediction", r'\[data\]: name the model\'s output: .* "prediction"'),
    ("y,age\n1.5,30\n2.5,40\n3.25,50\n", "prediction",
     r'\[data\]: name the model\'s output: .* "prediction" \(regression\)'),
])
def test_what_cannot_be_guessed_is_a_todo_and_a_one_line_error(tmp_path: Path, csv: str, key: str,
                                                                 message: str) -> None:
    data = tmp_path / "p.csv"
    data.write_text(csv)
    written, notes = write_starter(data, tmp_path / "c.toml")
    assert f"# TODO: {key}" in written[0].read_text()
    assert any(note.startswith(f"TODO {key}") for note in notes)
    with pytest.raises(ReportgenError, match=message) as caught:
        evaluate_config(written[0])
    assert "\n" not in str(caught.value)


def test_string_labels_get_the_positive_one(tmp_path: Path) -> None:
    data = tmp_path / "p.csv"
    data.write_text("outcome,proba\nyes,0.9\nno,0.2\nno,0.4\n")
    written, _ = write_starter(data, tmp_path / "c.toml")
    assert tomllib.loads(written[0].read_text())["data"]["positive_label"] == "yes"
    assert evaluate_config(written[0]).predictions.positive_label == "yes"


def test_sensitive_columns_are_proposed_commented_out(tmp_path: Path) -> None:
    data = tmp_path / "p.csv"
    data.write_text("y,p,Gender,race_ethnicity,zip\n1,0.9,f,a,1\n0,0.2,m,b,1\n")
    written, _ = write_starter(data, tmp_path / "c.toml")
    text = written[0].read_text()
    assert '# sensitive = ["Gender", "race_ethnicity"]' in text
    assert "sensitive" not in tomllib.loads(text)["fairness"]


def test_existing_out_is_kept_unless_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "p.csv"
    data.write_text("y,p\n1,0.9\n0,0.2\n")
    out = tmp_path / "reportgen.toml"
    out.write_text("mine")
    code, _ = _init(tmp_path, data)
    assert code == 2 and out.read_text() == "mine"
    assert capsys.readouterr().err.strip().endswith("already exists; give another --out, or --force to overwrite it")
    assert not (tmp_path / SCHEMA_COPY).exists()
    code, _ = _init(tmp_path, data, "--force")
    assert code == 0 and out.read_text().startswith("#:schema")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "no such predictions file"),
    ("empty.csv", "", "no rows"),
    ("ragged.csv", "y,p\n1,0.9,3\n", "line 2 has 3 fields"),
    ("p.txt", "y,p\n", 'unknown format ".txt"'),
])
def test_unreadable_data_is_one_line_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        name: str, content: str | None, message: str) -> None:
    data = tmp_path / name
    if content is not None:
        data.write_text(content)
    with pytest.raises(InputError, match=message):
        write_starter(data, tmp_path / "c.toml")
    code, out = _init(tmp_path, data)
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not out.exists() and not (tmp_path / SCHEMA_COPY).exists()


def test_two_probability_columns_give_a_binary_score_and_its_class(tmp_path: Path) -> None:
    starter = guess(pd.DataFrame({"y": ["A", "B", "B"], "p_A": [0.7, 0.4, 0.2], "p_B": [0.3, 0.6, 0.8]}))
    assert starter.task == "binary"
    assert starter.data == {"label": "y", "score": "p_B", "positive_label": "B"}


def test_a_column_named_like_a_prediction_of_nothing_is_not_one() -> None:
    frame = pd.DataFrame({"target": [1.5, 2.5, 3.5], "forecast_pred": [1.4, 2.6, 3.1], "pred_time": [3.0, 1.0, 2.0]})
    starter = guess(frame)
    assert (starter.task, starter.data["label"], "prediction" in starter.data) == ("regression", "target", False)
    assert "prediction" in starter.todo
    frame["forecast"] = [1.0, 2.0, 3.0]
    assert guess(frame).data["prediction"] == "forecast_pred"


def test_true_false_labels_need_no_positive_label() -> None:
    starter = guess(pd.DataFrame({"label": [True, False, True], "score": [0.9, 0.1, 0.7], "age": [30, 40, 50]}))
    assert starter.data == {"label": "label", "score": "score"} and not starter.todo
    assert starter.sensitive == ["age"]


def test_module_examples() -> None:
    import reportgen.starter

    assert doctest.testmod(reportgen.starter).failed == 0


def test_a_hostile_file_name_is_written_as_a_toml_string(tmp_path: Path) -> None:
    folder = tmp_path / 'we"ird\n#folder'
    folder.mkdir()
    data = folder / "p\x1b[31m.csv"
    data.write_text("y,p\n1,0.9\n0,0.2\n")
    out = tmp_path / "c.toml"
    assert main(["init", str(data), "--out", str(out)]) == 0
    assert tomllib.loads(out.read_text())["data"]["path"] == 'we"ird\n#folder/p\x1b[31m.csv'
    assert "\x1b" not in out.read_text()  # escaped in the value and in the header comment: `cat` shows no colours
