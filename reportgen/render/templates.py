"""The package's Jinja templates and stylesheets (`templates/`, shipped as `reportgen.templates`)."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from typing import Any

import jinja2


def environment(*, autoescape: bool = True, finalize: Callable[[Any], Any] | None = None) -> jinja2.Environment:
    """A Jinja environment over the package's templates: strict undefined, trimmed blocks.

    HTML renderers keep `autoescape`; the markdown summary turns it off and escapes in `finalize`.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("reportgen.templates"))),
        autoescape=autoescape,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def stylesheet(*names: str) -> str:
    """The named stylesheets of the package (e.g. "report.css", "site/site.css"), joined in order."""
    files = resources.files("reportgen.templates")
    return "".join(files.joinpath(name).read_text(encoding="utf-8") for name in names)
