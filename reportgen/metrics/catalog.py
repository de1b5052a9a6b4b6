"""Every metric of every task as the documentation states it, read from the registries.

A metric's definition is the prose of its function's docstring; what it rests on
(`support_unit`) and when it is undefined are not written down a second time but found by
evaluating the registry on small probe groups: every group of up to two rows drawn from a handful
of row kinds (each label with each prediction), plus an empty group. The reasons listed are
therefore exactly the ones the code gives.
"""

from __future__ import annotations

import inspect
import itertools
from dataclasses import dataclass

import numpy as np

from reportgen.metrics import tasks
from reportgen.metrics.metric import Metric
from reportgen.metrics.table import metric_frame

PROBE_CLASSES = 3  # multiclass probes: three classes
PROBE_TOP_K = (2,)  # multiclass probes: one top-k accuracy, standing for every k


@dataclass(frozen=True)
class MetricDoc:
    """One registry entry as the metric reference shows it.

    Attributes
    ----------
    name, label : str
        The public name and the display label.
    definition : str
        The prose of the metric function's docstring (see `definition`).
    interval : str or None
        The interval method, as the card names it; None without an interval.
    higher_is_better : bool or None
        Direction; None where neither is better.
    support_units : tuple of str
        What the value's support counts ("rows", "positives", …).
    undefined_when : tuple of str
        Every reason the metric gave for an undefined value on the probe groups, sorted.
    """

    name: str
    label: str
    definition: str
    interval: str | None
    higher_is_better: bool | None
    support_units: tuple[str, ...]
    undefined_when: tuple[str, ...]


@dataclass(frozen=True)
class TaskDocs:
    """The metrics of one task (or of one class against the rest) with a title for the reference."""

    key: str
    title: str
    metrics: tuple[MetricDoc, ...]


def catalog() -> tuple[TaskDocs, ...]:
    """Every metric of every task, in registry order: binary, multiclass, per class, regression.

    Examples
    --------
    >>> recall = next(m for m in catalog()[0].metrics if m.name == "recall")
    >>> recall.support_units, recall.undefined_when
    (('positives',), ('no positive labels in this group',))
    """
    binary = _engine("binary", [(t, p) for t in (0, 1) for p in (0, 1)])
    multiclass = _engine("multiclass", [(t, p) for t in range(PROBE_CLASSES) for p in range(PROBE_CLASSES)])
    regression = _engine("regression", [(t, p) for t in (0.0, 1.0, 2.0) for p in (0.0, 1.5)])
    one_vs_rest = tasks.Statistics(multiclass[1].task.one_vs_rest(0), None)
    return (
        TaskDocs("binary", "Binary classification", _describe(binary[0].metrics, binary[1], binary[2])),
        TaskDocs("multiclass", "Multiclass classification",
                 _describe(multiclass[0].metrics, multiclass[1], multiclass[2])),
        TaskDocs("class", "Multiclass, each class against the rest",
                 _describe(multiclass[0].class_metrics, one_vs_rest, multiclass[2])),
        TaskDocs("regression", "Regression", _describe(regression[0].metrics, regression[1], regression[2])),
    )


def definition(metric: Metric) -> str:
    """The prose of the metric function's docstring, as written.

    The paragraphs before any numpy-style section (Parameters, Examples, …), on one line each,
    joined by a space.
    """
    doc = inspect.getdoc(metric.compute)
    assert doc, f"metric {metric.name!r}: its function needs a docstring"
    paragraphs = []
    for paragraph in doc.split("\n\n"):
        lines = paragraph.splitlines()
        if len(lines) > 1 and set(lines[1]) == {"-"}:
            break
        paragraphs.append(" ".join(paragraph.split()))
    return " ".join(paragraphs)


def _engine(task: str, kinds: list[tuple[float, float]]) -> tuple[tasks.Engine, tasks.Statistics, int]:
    """The task's engine and the statistics of its probe groups: each group of up to two rows of `kinds`, and none."""
    groups = [()] + [(kind,) for kind in kinds] + list(itertools.combinations_with_replacement(kinds, 2))
    rows = [kind for group in groups for kind in group]
    codes = np.repeat(np.arange(len(groups)), [len(group) for group in groups])
    y_true = np.array([t for t, _ in rows])
    y_pred = np.array([p for _, p in rows])
    if task == "regression":
        engine = tasks.prepare(task, y_true.astype(np.float64), y_pred.astype(np.float64), None)
    elif task == "binary":
        scores = np.where(y_pred == 1, 0.7, 0.3)
        engine = tasks.prepare(task, y_true.astype(np.int64), y_pred.astype(np.int64), scores)
    else:
        probabilities = np.full((len(rows), PROBE_CLASSES), 0.2)
        probabilities[np.arange(len(rows)), y_pred.astype(np.intp)] = 0.6
        engine = tasks.prepare(task, y_true.astype(np.int64), y_pred.astype(np.int64), probabilities,
                               n_classes=PROBE_CLASSES, top_k=PROBE_TOP_K)
    return engine, engine.group_stats(codes, len(groups)), len(groups)


def _describe(metrics: tuple[Metric, ...], stats: tasks.Statistics, n_groups: int) -> tuple[MetricDoc, ...]:
    frame = metric_frame("probe", [str(g) for g in range(n_groups)], stats, metrics, level=None)
    found = []
    for metric in metrics:
        rows = frame[frame["metric"] == metric.name]
        found.append(MetricDoc(
            name=metric.name,
            label=metric.label,
            definition=definition(metric),
            interval=metric.interval,
            higher_is_better=metric.higher_is_better,
            support_units=tuple(sorted(set(rows["support_unit"]))),
            undefined_when=tuple(sorted(set(rows["undefined_reason"].dropna()))),
        ))
    return tuple(found)
