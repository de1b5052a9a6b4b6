"""The package's Jinja templates and stylesheets (`templates/`, shipped as `reportgen.templates`)."""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

# The Content-Security-Policy of every HTML page (a `<meta http-equiv>` first in its <head>): no
# script, no request of any kind (no image, font, frame, fetch, form or <base>), inline styles only
# (the page's <style> and the charts' SVG), fonts only from the page itself (the charts' font, as
# ``data:`` URLs). Links to the files beside a page are navigation, which the policy does not restrict.
# An interactive report allows its own inline scripts by hash.
CONTENT_SECURITY_POLICY = {
    "default-src": "'none'",
    "script-src": "'none'",
    "style-src": "'unsafe-inline'",
    "font-src": "data:",
    "base-uri": "'none'",
    "form-action": "'none'",
}


def content_security_policy(scripts: Sequence[str] = ()) -> str:
    """The page's Content-Security-Policy, allowing exactly `scripts` (inline script texts) by SHA-256.

    Examples
    --------
    >>> content_security_policy().split("; ")[:2]
    ["default-src 'none'", "script-src 'none'"]
    >>> content_security_policy(["alert(1)"]).split("; ")[1]
    "script-src 'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
    """
    directives = dict(CONTENT_SECURITY_POLICY)
    if scripts:
        digests = (base64.b64encode(hashlib.sha256(s.encode("utf-8")).digest()).decode("ascii") for s in scripts)
        directives["script-src"] = " ".join(dict.fromkeys(f"'sha256-{d}'" for d in digests))
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class _MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept for this process, keyed by template name and source checksum (Jinja's own
    buckets): a page renders in a new environment each time (its filters and globals are the report's), and
    without this each one compiled every template again (0.1–0.2 s a page). One cache per environment
    configuration (`_COMPILED`): autoescaping and `finalize` change the compiled code."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED: dict[tuple[bool, Callable[[Any], Any] | None], _MemoryBytecodeCache] = {}


def environment(*, autoescape: bool = True, finalize: Callable[[Any], Any] | None = None) -> jinja2.Environment:
    """A Jinja environment over the package's templates: strict undefined, trimmed blocks.

    HTML renderers keep `autoescape`; the markdown summary turns it off and escapes in `finalize`.
    Templates see `content_security_policy`, the policy of a page without scripts.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("reportgen.templates"))),
        bytecode_cache=_COMPILED.setdefault((autoescape, finalize), _MemoryBytecodeCache()),
        autoescape=autoescape,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["content_security_policy"] = Markup(content_security_policy())  # quotes kept readable
    return env


def stylesheet(*names: str) -> str:
    """The named stylesheets of the package (e.g. "report.css", "site/site.css"), joined in order."""
    files = resources.files("reportgen.templates")
    return "".join(files.joinpath(name).read_text(encoding="utf-8") for name in names)


CHART_FONT_FILES = {"normal": "fonts/reportgen-sans-regular.ttf", "bold": "fonts/reportgen-sans-bold.ttf"}


@functools.cache
def font_faces() -> str:
    """The ``@font-face`` rules of the charts' font ("Reportgen Sans", `charts.FONT`), each file inlined as a
    ``data:`` URL: the page and the PDF draw chart text with the widths vl-convert measured, offline."""
    files = resources.files("reportgen.templates")
    rules = []
    for weight, name in CHART_FONT_FILES.items():
        data = base64.b64encode(files.joinpath(name).read_bytes()).decode("ascii")
        rules.append(f'@font-face {{ font-family: "Reportgen Sans"; font-style: normal; font-weight: {weight}; '
                     f'src: url(data:font/ttf;base64,{data}) format("truetype"); }}\n')
    return "".join(rules)


PAGE_TEMPLATES = ("base.html.j2", "components.html.j2", "sections/")


def compile_page(env: jinja2.Environment) -> None:
    """Compile the model card's templates now in `env` (a page's environment, with its filters), into this
    process's cache of compiled templates, e.g. while waiting for the charts, so that rendering the page
    does not."""
    for name in env.list_templates(filter_func=lambda name: name.startswith(PAGE_TEMPLATES)):
        env.get_template(name)
