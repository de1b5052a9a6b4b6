"""The metric reference page of the documentation, `docs/metrics.md`, written from the registries.

Regenerate it with ``python -m reportgen.render.metrics_page`` (a test fails while the committed page
differs). The page is markdown for mkdocs; every value comes from `reportgen.metrics.catalog`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from reportgen.metrics.catalog import PROBE_TOP_K, MetricDoc, TaskDocs, catalog
from reportgen.render.files import write_atomic

PAGE = Path("docs") / "metrics.md"
REGENERATE = "python -m reportgen.render.metrics_page"

_INTRO = f"""\
# Metric reference

<!-- Generated from the metric registries by `{REGENERATE}`; do not edit by hand. -->

Every metric reportgen computes, per group of every slice and overall, as its registry in
`reportgen/metrics/` defines it. *Definition* is the prose of the metric function's
docstring; *support* is what the rows a value rests on count (`[report] min_support` applies to them);
*undefined when* lists every reason the metric gives, found by evaluating it on every group of up to
two rows and on an empty group, so it is the code's own wording. An undefined value is `null` in
`report.json`, `NaN` in the DataFrame and *n/a* on the card, with the reason. How the intervals
are computed and how well they cover is explained in [What is computed](computed.md).

`top_{PROBE_TOP_K[0]}_accuracy` stands for each `top_k_accuracy` the config asks for (`[data] top_k`). The
calibration errors (`ece`, `mce` and their quantile-bin versions) need probabilities: a multiclass task
without probability columns has none of them, nor `roc_auc_*`, `log_loss` or top-k accuracy.
"""

_HEADER = "| name | label | definition | better | support | interval | undefined when |\n|---|---|---|---|---|---|---|"
_DIRECTION = {True: "higher", False: "lower", None: "–"}


def metrics_page() -> str:
    """The page's markdown: an introduction, then one table per task.

    Examples
    --------
    >>> metrics_page().startswith("# Metric reference")
    True
    """
    return _INTRO + "".join(_section(task) for task in catalog())


def _section(task: TaskDocs) -> str:
    rows = "\n".join(_row(metric) for metric in task.metrics)
    return f"\n## {task.title}\n\n{_HEADER}\n{rows}\n"


def _row(metric: MetricDoc) -> str:
    cells = (
        f"`{metric.name}`",
        metric.label,
        metric.definition,
        _DIRECTION[metric.higher_is_better],
        ", ".join(metric.support_units),
        metric.interval or "–",
        "; ".join(metric.undefined_when) or "never",
    )
    return "| " + " | ".join(_cell(text) for text in cells) + " |"


def _cell(text: str) -> str:
    """A table cell: a `|` in the text would end the cell."""
    return text.replace("|", "\\|")


if __name__ == "__main__":  # python -m reportgen.render.metrics_page: regenerate docs/metrics.md
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / PAGE
    write_atomic(target, metrics_page().encode())
    sys.stdout.write(f"{target}\n")
