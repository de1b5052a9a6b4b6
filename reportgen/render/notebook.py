"""The card in a notebook: the small HTML fragment `Evaluation._repr_html_` shows.

It holds the headline metrics with their intervals, the quality gates, the most severe findings and
how to get the full card. A notebook puts it inside its own page, so it has no <html> or <head>, no
script, and its stylesheet (`templates/notebook.css`) styles only what lies inside its root element
(every selector starts with `ROOT`); user text is escaped as on the full page.
"""

from __future__ import annotations

from markupsafe import Markup

from reportgen.document.schema import Report
from reportgen.render import html, templates

ROOT = "reportgen-card"  # the class of the fragment's root element, which every rule of its stylesheet starts with
TOP_FINDINGS = 5


def to_fragment(report: Report, *, top: int = TOP_FINDINGS) -> str:
    """Render the notebook fragment of the card.

    Parameters
    ----------
    report : Report
        The document.
    top : int
        How many findings to list (the most severe first); the rest are counted.
    """
    return html.environment(report).get_template("notebook.html.j2").render(
        report=report, root=ROOT, css=Markup(templates.stylesheet("notebook.css")), top=top,
    )
