"""HTML from templates: every fragment the notebook side shows or writes (jinja2, escaped).

The templates live in ``assoc_audit/notebook/templates/``; autoescaping is on
for all of them (every value from a portal, an app or a config is text, never
markup) and an undefined name is an error, not an empty string::

    render("summary.html.j2", name=..., cards=[...])       # a whole template
    macro("fixes.html.j2", "plan_head")(plan_file, digest, line)   # one macro of one
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["TEMPLATES", "macro", "render"]

TEMPLATES = Path(__file__).resolve().with_name("templates")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, /, **context: Any) -> str:
    """``template`` rendered with ``context``."""
    return _environment().get_template(template).render(**context)


def macro(template: str, name: str, /) -> Callable[..., str]:
    """Macro ``name`` of ``template``; calling it renders it (escaped)."""
    found: Callable[..., Any] = getattr(_environment().get_template(template).module, name)
    return lambda *args, **kwargs: str(found(*args, **kwargs))
