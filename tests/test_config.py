"""Configuration: every invalid config is a one-line ConfigError naming file, key and fix."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pandas as pd
import pytest

import reportgen
from reportgen import config as config_module
from reportgen.config import Config, load_config, validate
from reportgen.errors import ConfigError

DATA = {"label": "y", "score": "p"}


def _validate(raw: dict) -> Config:
    return validate(Config, raw, source="config.toml")


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "sex": rng.choice(["f", "m"], n),
                         "race": rng.choice(["a", "b", "c"], n)})


def test_minimal_config_gets_the_defaults():
    config = _validate({"data": DATA})
    assert config.data.threshold == 0.5
    assert config.report.confidence_level == 0.95 and config.report.resamples == 1000
    assert config.fairness.max_difference == 0.1 and config.fairness.min_ratio == 0.8
    assert config.slices == []


def test_load_config_from_toml(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[data]\nlabel = "y"\nscore = "p"\n\n[[slices]]\ncolumn = "age"\nbins = [-inf, 30, inf]\n\n'
        '[fairness]\nsensitive = ["sex"]\nreference = { sex = "f" }\n',
        encoding="utf-8",
    )
    config, base = load_config(path)
    assert base == tmp_path.resolve()
    assert config.slices[0].bins == [-np.inf, 30.0, np.inf]
    assert config.fairness.reference == {"sex": "f"}


# Unknown keys: did you mean ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"data": DATA, "fairness": {"max_diference": 0.2}},
         '[fairness] max_diference: unknown key; did you mean "max_difference"?'),
        ({"data": DATA, "reprot": {}}, 'reprot: unknown key; did you mean "report"?'),
        ({"data": DATA, "slices": [{"column": "a"}, {"column": "age", "binz": [1, 2]}]},
         '[[slices]] #2 binz: unknown key; did you mean "bins"?'),
        ({"data": {**DATA, "treshold": 0.3}}, '[data] treshold: unknown key; did you mean "threshold"?'),
    ],
)
def test_unknown_key_with_did_you_mean(raw, message):
    with pytest.raises(ConfigError, match="^" + re.escape(f"config.toml: {message}")):
        _validate(raw)


def test_unknown_key_without_a_close_match():
    with pytest.raises(ConfigError, match=r"^config\.toml: \[report\] zzz: unknown key$"):
        _validate({"data": DATA, "report": {"zzz": 1}})


def test_unknown_key_in_a_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[data]\nlabel = "y"\nscore = "p"\n[fairness]\nmax_diference = 0.2\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r'config\.toml: \[fairness\] max_diference: unknown key; did you mean "max_difference"\?'):
        load_config(path)


# Missing, wrong type, out of range ----------------------------------------------------------------


def test_missing_required_key():
    with pytest.raises(ConfigError, match=r"^config\.toml: \[data\] label: required key is missing$"):
        _validate({"data": {"score": "p"}})


def test_missing_required_table():
    with pytest.raises(ConfigError, match=r"^config\.toml: \[data\].*required key is missing"):
        _validate({})


@pytest.mark.parametrize(
    ("raw", "pattern"),
    [
        ({"report": {"resamples": "many"}}, r"\[report\] resamples: 'many': input should be a valid integer"),
        ({"fairness": {"sensitive": "sex"}}, r"\[fairness\] sensitive: 'sex': input should be a valid list"),
        ({"report": {"confidence_level": 1.5}}, r"\[report\] confidence_level: 1\.5: input should be less than 1"),
        ({"report": {"resamples": 10}}, r"\[report\] resamples: 10: input should be greater than or equal to 100"),
        ({"slices": [{"column": "a", "quantiles": 1}]}, r"\[\[slices\]\] #1 quantiles: 1: input should be greater"),
        ({"slices": [{"column": "a", "max_groups": 1}]}, r"\[\[slices\]\] #1 max_groups: 1: input should be greater"),
        ({"report": {"max_groups_shown": 1}}, r"\[report\] max_groups_shown: 1: input should be greater than or equal to 2"),
        ({"report": {"max_groups_shown": "all"}}, r"\[report\] max_groups_shown: 'all': input should be a valid integer"),
        ({"report": {"max_group_shown": 5}}, r'\[report\] max_group_shown: unknown key; did you mean "max_groups_shown"\?'),
        ({"report": {"pdf": "ful"}}, r"\[report\] pdf: 'ful': input should be 'sign-off' or 'full'$"),
        ({"report": {"pdf": True}}, r"\[report\] pdf: True: input should be 'sign-off' or 'full'$"),
    ],
)
def test_wrong_type_or_range(raw, pattern):
    with pytest.raises(ConfigError, match="^config\\.toml: " + pattern):
        _validate({"data": DATA, **raw})


def test_threshold_out_of_range():
    with pytest.raises(ConfigError, match=r"\[data\] threshold: 2: input should be less than or equal to 1"):
        _validate({"data": {**DATA, "threshold": 2}})


def test_several_problems_are_counted():
    with pytest.raises(ConfigError, match=r"\(and 1 more problems?\)$"):
        _validate({"data": DATA, "report": {"seed": "x", "resamples": "y"}})


# Slices -------------------------------------------------------------------------------------------


def test_bins_not_increasing():
    raw = {"data": DATA, "slices": [{"column": "a"}, {"column": "b"}, {"column": "age", "bins": [18, 65, 45]}]}
    with pytest.raises(ConfigError, match=r"^config\.toml: \[\[slices\]\] #3:? bins: \[18(\.0)?, 65(\.0)?, 45(\.0)?\] must be increasing$"):
        _validate(raw)


@pytest.mark.parametrize("bins", [[18], [18, 18, 30], [float("nan"), 1]])
def test_bins_need_two_increasing_edges(bins):
    with pytest.raises(ConfigError, match=r"\[\[slices\]\] #1:? bins: .*(needs at least two numbers|must be increasing)"):
        _validate({"data": DATA, "slices": [{"column": "age", "bins": bins}]})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, 'give exactly one of "column", "columns" or "where"'),
        ({"column": "a", "where": "x > 1"}, 'give exactly one of "column", "columns" or "where"'),
        ({"column": "a", "bins": [1, 2], "quantiles": 4}, 'give "bins" or "quantiles", not both'),
        ({"columns": ["a", "b"], "bins": [1, 2]}, '"bins" and "quantiles" go with "column"'),
        ({"columns": ["a"]}, '"columns" (an intersection) needs at least two columns; use "column" for one'),
        ({"where": "  "}, '"where" is empty'),
    ],
)
def test_slice_kind(spec, message):
    with pytest.raises(ConfigError, match=r"^config\.toml: \[\[slices\]\] #1:? " + re.escape(message)):
        _validate({"data": DATA, "slices": [spec]})


def test_two_slices_of_the_same_name():
    raw = {"data": DATA, "slices": [{"column": "sex"}, {"name": "sex", "where": "age > 30"}]}
    with pytest.raises(ConfigError, match=r'^config\.toml: slice name "sex" is used twice or is reserved; set "name"$'):
        _validate(raw)


def test_overall_is_a_reserved_slice_name():
    with pytest.raises(ConfigError, match='slice name "overall" is used twice or is reserved'):
        _validate({"data": DATA, "slices": [{"name": "overall", "column": "sex"}]})


def test_slice_names_default_to_column_columns_or_query():
    config = _validate({"data": DATA, "slices": [{"column": "sex"}, {"columns": ["sex", "race"]},
                                                 {"where": "age > 30"}, {"name": "old", "where": "age > 60"}]})
    assert [spec.title for spec in config.slices] == ["sex", "sex × race", "age > 30", "old"]


# Fairness -----------------------------------------------------------------------------------------


def test_reference_for_a_column_that_is_not_sensitive():
    raw = {"data": DATA, "fairness": {"sensitive": ["sex"], "reference": {"race": "white"}}}
    with pytest.raises(ConfigError, match=r'\[fairness\]:? reference names "race", which is not in sensitive: "sex"$'):
        _validate(raw)


def test_reference_group_not_among_groups():
    with pytest.raises(ConfigError, match=r'^reference\["sex"\]: "nope" is not a group of "sex"; groups are: "f", "m"$'):
        reportgen.evaluate(_frame(), label="y", score="p", sensitive=["sex"], reference={"sex": "nope"}, resamples=100)


def test_sensitive_listed_twice():
    """Once evaluated twice, giving every gap twice."""
    with pytest.raises(ConfigError, match=r'^evaluate\(\): sensitive lists "sex" more than once'):
        reportgen.evaluate(_frame(), label="y", score="p", sensitive=["sex", "sex"], resamples=100)


def test_sensitive_column_whose_slice_name_is_taken():
    """Once a ValueError from pandas: two slice families named "sex" shared one set of statistics."""
    with pytest.raises(ConfigError, match=r'sensitive "sex": its slice would be named "sex", which is taken'):
        reportgen.evaluate(_frame(), label="y", score="p", slices=[{"name": "sex", "column": "race"}],
                           sensitive=["sex"], resamples=100)


def test_sensitive_column_named_overall():
    frame = _frame().rename(columns={"sex": "overall"})
    with pytest.raises(ConfigError, match=r'sensitive "overall": its slice would be named "overall"'):
        reportgen.evaluate(frame, label="y", score="p", sensitive=["overall"], resamples=100)
    # slicing it under another name works
    evaluation = reportgen.evaluate(frame, label="y", score="p", slices=[{"name": "o", "column": "overall"}],
                                    sensitive=["overall"], resamples=100)
    assert [f.name for f in evaluation.families] == ["overall", "o"]
    assert evaluation.metrics.query("slice == 'overall'")["group"].unique().tolist() == ["overall"]


# Files --------------------------------------------------------------------------------------------


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.toml: no such config file$"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[data\nlabel = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml: not valid TOML: .*line 1"):
        load_config(path)


def test_config_that_is_not_text(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe\x00[data]")
    with pytest.raises(ConfigError, match=r"config\.toml: not UTF-8 text \(byte 0xff on line 1\); save it as UTF-8$"):
        load_config(path)


def test_evaluate_validates_its_arguments_as_a_config():
    with pytest.raises(ConfigError, match=r"^evaluate\(\): threshold: 1\.5: input should be less than or equal to 1$"):
        reportgen.evaluate(_frame(), label="y", score="p", threshold=1.5)


def test_messages_are_one_line():
    raws = [{"data": {"score": "p"}}, {"data": DATA, "report": {"resamples": "x" * 200}},
            {"data": DATA, "slices": [{}]}]
    for raw in raws:
        with pytest.raises(ConfigError) as info:
            _validate(raw)
        assert "\n" not in str(info.value)


# Hostile config files (issue 12) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = " + "[" * 5000 + "]" * 5000, r"not valid TOML: arrays or tables nested too deeply$"),
        ("x = " + "{a = " * 5000 + "1" + "}" * 5000, r"not valid TOML: arrays or tables nested too deeply$"),
        ("x = 1" + "0" * 5000, r"not valid TOML: an integer of more than 4,300 digits$"),
        ("[data]\nlabel = 'y'\nscore = 'p'\n" + "[report]\ntitle = '" + "t" * 2**20 + "'\n",
         r"over 1 MB, the largest config file read$"),
        ("[data]\nlabel = 'y'\nscore = 'p'\n# \xe9\n".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 on line 4\)"),
    ],
    ids=["deep-array", "deep-table", "huge-int", "over-1-MB", "latin-1"],
)
def test_issue_12_hostile_config_file(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: {message}") as caught:
        load_config(path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "toml",
    [
        "[data]\nlabel = 'y'\nscore = 'p'\n[report]\nresamples = '" + "9" * 5000 + "'\n",
        "[data]\nlabel = 'y'\nscore = 'p'\n[model]\nparams = {a = " + "[" * 300 + "]" * 300 + "}\n",
        "[data]\nlabel = 'y'\nscore = 'p'\n[fairness]\nsensitive = ['" + "s" * 5000 + "']\nreference = {"
        + "r" * 5000 + " = 1}\n",
        "[data]\nlabel = 'y'\nscore = 'p'\n[report]\n" + "t" * 5000 + " = 1\n",
        "[data]\nlabel = 'y'\nscore = 'p'\n[report]\nbase_url = 'ftp://" + "u" * 5000 + "'\n",
    ],
    ids=["long-value", "deep-value", "long-reference", "long-key", "long-url"],
)
def test_issue_12_config_errors_cut_user_values(tmp_path, toml):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and len(message) < len(str(path)) + 400, message


def test_issue_12_unknown_key_with_a_line_break_stays_one_line(tmp_path):
    # found by the loader fuzz: a quoted TOML key may hold any character, and the message echoed it raw
    path = tmp_path / "c.toml"
    path.write_text('[data]\nlabel = "y"\nscore = "p"\n[report]\n"a\\nb\\u001b[2J" = 1\n')
    with pytest.raises(ConfigError, match=r"\[report\] a\\nb\\x1b\[2J: unknown key$") as caught:
        load_config(path)
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_pdf_defaults_to_the_sign_off_card():
    assert _validate({"data": DATA}).report.pdf == "sign-off"
    assert _validate({"data": DATA, "report": {"pdf": "full"}}).report.pdf == "full"


def test_keyword_names_examples():
    """`keyword_names`: the config's tables and keys as `evaluate()`'s keywords (tests/test_evaluation.py runs them
    through `evaluate`)."""
    assert doctest.testmod(config_module).failed == 0
