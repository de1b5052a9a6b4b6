"""Where the model fails, end to end: evaluate() with [error_analysis], the document, the card, and bad input."""

from __future__ import annotations

import json
import re

import jsonschema
import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

import reportgen
from reportgen.errors import ConfigError, InputError
from reportgen.render.html import to_html
from reportgen.render.json import published_schema, to_json
from tests.helpers import html_tags

HOSTILE = '<script>alert(1)</script>[x](javascript:alert(1))'


def _data(n: int = 6000, seed: int = 0, weak: str = "car") -> pd.DataFrame:
    """Binary predictions; rows with noise == `weak` are wrong three times as often."""
    rng = np.random.default_rng(seed)
    noise = rng.choice(["car", "street", "quiet"], n)
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < np.where(noise == weak, 0.3, 0.1)
    p = np.where(y == 1, 0.8, 0.2)
    p = np.where(wrong, 1 - p, p) + rng.uniform(-0.15, 0.15, n)
    return pd.DataFrame({"id": np.arange(n), "y": y, "p": np.clip(p, 0, 1), "noise": noise,
                         "device": rng.choice(["a", "b"], n), "snr": rng.normal(20, 5, n)})


def _evaluate(frame: pd.DataFrame, **settings):
    slices = [{"column": "device"}] if "device" in frame else []
    return reportgen.evaluate(frame, label="y", score="p", slices=slices, resamples=200, error_analysis=settings)


def test_the_planted_slice_is_reported_first_with_examples_a_tree_and_a_finding():
    frame = _data()
    ev = _evaluate(frame)
    found = ev.error_analysis
    assert found.columns == ["noise", "device", "snr"]  # not the label, the score or the id
    first = found.slices.iloc[0]
    assert first["slice"] == "noise = car"
    rows = frame[frame.noise == "car"]
    wrong = (rows.p >= 0.5).astype(int) != rows.y
    assert first["n"] == len(rows) and first["value"] == pytest.approx(wrong.mean())
    examples = found.examples["noise = car"]
    assert list(examples.columns) == ["y", "p", "noise"]
    confidence = np.where(rows.p >= 0.5, rows.p, 1 - rows.p)[wrong.to_numpy()]
    assert [float(v) for v in examples["p"]] == pytest.approx(
        [float(format(v, ".4g")) for v in rows.p[wrong].to_numpy()[np.argsort(-confidence, kind="stable")][:5]])
    assert found.tree[0].condition == "all rows" and len(found.tree) > 1
    finding = next(f for f in ev.findings if f.id == "error_slice")
    assert finding.title == "The model fails more where noise = car." and finding.section == "error_analysis"


def test_the_document_and_the_card_show_it(tmp_path):
    report = _evaluate(_data()).to_report()
    document = json.loads(to_json(report))
    jsonschema.validate(document, published_schema())
    assert document["error_analysis"]["slices"][0]["slice"] == "noise = car"
    page = to_html(report)
    section = page[page.index('<section id="error-analysis">'):]
    assert "Where the model fails" in section and "noise = car" in section
    assert 'id="chart-error-tree"' in section
    assert '<a href="#error-analysis">Where the model fails</a>' in page


def test_the_scope_for_improvement_uses_config_targets_and_the_best_comparable_slice():
    frame = _data()
    ev = _evaluate(frame, target="best", targets={"device=a": 0.01})
    table = ev.error_analysis.improvements.set_index("slice")
    car = table.loc["noise = car"]
    others = frame[frame.noise != "car"]
    best = min(((g.p >= 0.5).astype(int) != g.y).mean() for _, g in others.groupby("noise"))
    assert car["target"] == pytest.approx(best) and car["target_source"].startswith("best: noise = ")
    assert car["gain"] == pytest.approx(car["share"] * (car["value"] - best))
    assert table.loc["device = a", "target"] == 0.01 and table.loc["device = a", "target_source"] == "config"
    assert list(ev.error_analysis.improvements["gain"]) == sorted(ev.error_analysis.improvements["gain"], reverse=True)


def test_regression_ranks_slices_by_absolute_error():
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({"t": rng.normal(50, 10, n), "region": rng.choice(["n", "s", "e", "w"], n)})
    frame["pred"] = frame.t + rng.normal(0, np.where(frame.region == "e", 6, 2), n)
    ev = reportgen.evaluate(frame, label="t", prediction="pred", resamples=200)
    assert ev.error_analysis.measure.name == "abs_error"
    assert ev.error_analysis.slices.iloc[0]["slice"] == "region = e"


def test_hostile_values_stay_text_in_the_examples():
    frame = _data().assign(noise=lambda f: f.noise.replace({"car": HOSTILE}))
    page = to_html(_evaluate(frame, display=["id", "noise"]).to_report())
    assert not [t for t, _ in html_tags(page) if t in ("script", "img", "iframe")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Bad input ----------------------------------------------------------------------------------------


def test_all_correct_predictions_leave_nothing_to_find():
    frame = _data().assign(p=lambda f: np.where(f.y == 1, 0.9, 0.1))
    found = _evaluate(frame).error_analysis
    assert found.message == "Every prediction is correct: there is nothing to find."
    assert found.slices.empty and not [f for f in _evaluate(frame).findings if f.id == "error_slice"]


def test_no_candidate_columns_is_said_in_the_card_or_an_error_when_named():
    frame = _data()[["id", "y", "p"]]
    found = _evaluate(frame).error_analysis
    assert found.message == 'No candidate columns for error analysis ("id" looks like an identifier (every value distinct)).'
    with pytest.raises(ConfigError, match=re.escape(
            'evaluate(): error_analysis["columns"]: no candidate columns: list some, or leave the key out to use every '
            "metadata column")):
        _evaluate(frame, columns=[])


def test_a_named_column_with_one_value_is_one_line():
    frame = _data().assign(one="x")
    with pytest.raises(InputError, match=re.escape(
            'data frame: column "one" (error_analysis["columns"]) has a single value, so it cannot separate slices; '
            "remove it")):
        _evaluate(frame, columns=["noise", "one"])


def test_a_minimum_support_larger_than_the_data_is_one_line():
    with pytest.raises(InputError, match=re.escape(
            'data frame: error_analysis["min_support"]=4000 leaves no slice to test: a slice and the rest of the data '
            "each need that many rows, and there are 6,000; lower it")):
        _evaluate(_data(), min_support=4000)


def test_a_metric_of_another_task_and_a_missing_display_column_are_one_line():
    with pytest.raises(ConfigError, match=re.escape(
            'evaluate(): error_analysis["metric"]: "abs_error" does not apply to a binary task; use one of '
            '"error_rate", "fnr", "fpr", "log_loss", "brier"')):
        _evaluate(_data(), metric="abs_error")
    with pytest.raises(InputError, match=re.escape('data frame: no column "nope" (error_analysis["display"])')):
        _evaluate(_data(), display=["nope"])


def test_it_can_be_turned_off():
    ev = _evaluate(_data(), enabled=False)
    assert ev.error_analysis is None and ev.to_report().error_analysis is None


def test_boolean_tag_columns_are_candidates_like_any_other():
    rng = np.random.default_rng(50)  # not _data's seed: its stream would correlate the tags with the errors
    frame = _data(seed=5, weak="none").assign(tag_accent=rng.random(6000) < 0.2, tag_music=rng.random(6000) < 0.3)
    y_pred = (frame.p >= 0.5).astype(int)
    flip = frame.tag_accent.to_numpy() & (rng.random(6000) < 0.25)
    frame["p"] = np.where(flip, 1 - frame.p, frame.p)  # more errors on rows tagged with an accent
    assert (y_pred != frame.y).mean() > 0  # the data still has errors elsewhere
    found = _evaluate(frame).error_analysis
    assert "tag_accent" in found.columns and "tag_music" in found.columns
    assert found.slices.iloc[0]["slice"] == "tag_accent = True"


def test_a_false_negative_rate_search_looks_at_the_positive_labels_only():
    rng = np.random.default_rng(12)
    n = 6000
    frame = pd.DataFrame({"y": rng.integers(0, 2, n), "region": rng.choice(["n", "s", "e"], n)})
    missed = (frame.y == 1) & (rng.random(n) < np.where(frame.region == "e", 0.5, 0.15))
    false_alarm = (frame.y == 0) & (frame.region == "n") & (rng.random(n) < 0.4)  # errors, but not misses
    frame["p"] = np.where(missed, 0.2, np.where(frame.y == 1, 0.8, np.where(false_alarm, 0.7, 0.3)))
    found = reportgen.evaluate(frame, label="y", score="p", resamples=200,
                               error_analysis={"metric": "fnr"}).error_analysis
    first = found.slices.iloc[0]
    positives = frame[(frame.y == 1) & (frame.region == "e")]
    assert first["slice"] == "region = e" and first["n"] == len(positives)
    assert first["value"] == pytest.approx((positives.p < 0.5).mean())
    assert first["share"] == pytest.approx(len(positives) / (frame.y == 1).sum())  # of the positive labels
    assert "region = n" not in set(found.slices["slice"])


def _wide(n_columns: int, n: int = 600) -> pd.DataFrame:
    """`_data` with `n_columns` more columns of three values each, after its own columns."""
    frame = _data(n)
    rng = np.random.default_rng(1)
    extra = pd.DataFrame(rng.choice(np.array(["u", "v", "w"]), size=(n, n_columns)),
                         columns=[f"c{i:04d}" for i in range(n_columns)])
    return pd.concat([frame, extra], axis=1)


def test_issue_12_candidate_columns_are_capped_in_file_order_and_the_card_says_so():
    from reportgen.config import DEFAULT_CANDIDATE_COLUMNS

    found = _evaluate(_wide(400), depth=1).error_analysis
    assert len(found.columns) == DEFAULT_CANDIDATE_COLUMNS
    assert found.columns[:4] == ["noise", "device", "snr", "c0000"]  # file order; "id" is an identifier
    note = next(n for n in found.notes if "max_columns" in n)
    assert "404 metadata columns: the first 100 candidates" in note
    report = _evaluate(_wide(400), depth=1).to_report()
    assert note in report.error_analysis.notes and str(escape(note)) in to_html(report)
    assert len(_evaluate(_wide(400), depth=1, max_columns=5).error_analysis.columns) == 5


def test_issue_12_columns_may_not_list_more_than_max_columns():
    with pytest.raises(ConfigError, match=r"columns lists 3 candidates, more than max_columns = 2; list fewer"):
        _evaluate(_data(), columns=["noise", "device", "snr"], max_columns=2)
    with pytest.raises(ConfigError, match=r'^evaluate\(\): error_analysis\["max_columns"\]: 1001: input should be '
                                          r'less than or equal to 1000$'):
        _evaluate(_data(), max_columns=1001)


def test_issue_12_example_cells_are_cut_and_the_findings_shorten_labels():
    from reportgen.labels import DISPLAY_LABEL_CHARS, MAX_EXAMPLE_CHARS, MAX_LABEL_CHARS

    frame = _data()
    frame["noise"] = frame["noise"].map({"car": "car" * 100_000, "street": "street", "quiet": "quiet"})
    frame["note"] = "n" * 1_000_000
    report = _evaluate(frame, display=["y", "p", "note"]).to_report()
    (first, *_) = report.error_analysis.slices
    assert first.conditions[0].group == ("car" * 100_000)[:666] + "…" + ("car" * 100_000)[-333:]
    assert len(first.conditions[0].group) == MAX_LABEL_CHARS
    assert all(len(cell) <= MAX_EXAMPLE_CHARS for s in report.error_analysis.slices for row in s.examples
               for cell in row)
    title = next(f.title for f in report.findings if f.id == "error_slice")
    assert len(title) < 2 * DISPLAY_LABEL_CHARS + 40


def test_issue_12_left_out_columns_are_listed_five_at_most():
    frame = _data()
    for i in range(8):
        frame[f"one{i}"] = "same"
    notes = _evaluate(frame).error_analysis.notes
    left_out = next(note for note in notes if note.startswith("Left out"))
    assert left_out.count("has a single value") == 4 and "… and 4 more" in left_out  # "id" is listed first
