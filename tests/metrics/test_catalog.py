"""The metric reference's data: every registry entry once, its docstring prose, the code's own undefined reasons."""

from __future__ import annotations

from reportgen.metrics import binary, calibration, multiclass, regression
from reportgen.metrics.catalog import PROBE_CLASSES, PROBE_TOP_K, catalog, definition
from reportgen.metrics.metric import Metric, count_values

CATALOG = {task.key: {m.name: m for m in task.metrics} for task in catalog()}


def test_every_registry_entry_is_described_once() -> None:
    expected = {
        "binary": binary.METRICS + calibration.METRICS,
        "multiclass": multiclass.registry(PROBE_CLASSES, PROBE_TOP_K, True) + calibration.METRICS,
        "class": multiclass.CLASS_METRICS,
        "regression": regression.METRICS,
    }
    for task in catalog():
        assert [m.name for m in task.metrics] == [m.name for m in expected[task.key]], task.key


def test_definition_is_the_docstring_prose_before_any_numpy_section() -> None:
    def rows(source):
        """Rows in the group;
        always defined.

        A second paragraph.

        Parameters
        ----------
        source : object
        """
        return count_values(source.n)

    assert definition(Metric("rows", "Rows", "confusion", rows, None, None)) == (
        "Rows in the group; always defined. A second paragraph."
    )


def test_undefined_reasons_are_found_for_each_edge_case() -> None:
    assert CATALOG["binary"]["count"].undefined_when == ()
    # an empty group's undefined values say it has no rows (not, for a precision, that nothing was predicted positive)
    assert CATALOG["binary"]["precision"].undefined_when == ("no predicted positives in this group",
                                                             "no rows in this group")
    assert set(CATALOG["binary"]["roc_auc"].undefined_when) == {"no rows in this group", "only one class in this group"}
    # R²: one row, and all targets equal (two rows with one target), as its docstring says
    assert set(CATALOG["regression"]["r2"].undefined_when) == {
        "no rows in this group", "only one row in this group", "all targets in this group are equal",
    }
    assert "all targets in this group are zero" in CATALOG["regression"]["mape"].undefined_when


def test_support_units_come_from_the_registry() -> None:
    assert CATALOG["binary"]["recall"].support_units == ("positives",)
    assert CATALOG["binary"]["fpr"].support_units == ("negatives",)
    assert CATALOG["binary"]["roc_auc"].support_units == ("rows of the smaller class",)
    assert CATALOG["regression"]["mape"].support_units == ("rows with a nonzero target",)
    assert CATALOG["multiclass"]["accuracy"].support_units == ("rows",)
