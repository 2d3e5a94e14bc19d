"""Email templates: `templates/<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class TemplateProblem(Exception):
    """Unknown template or a context missing a variable the template uses: a caller bug."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        # A missing variable is an error, not a silently blank greeting in a customer's inbox.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def available_templates() -> list[str]:
    return sorted(p.name.removesuffix(".txt.j2") for p in TEMPLATES_DIR.glob("*.txt.j2"))


def render_email(
    template: str, context: dict[str, Any], subject: str | None = None
) -> RenderedEmail:
    """Render the text and HTML bodies (and the default subject unless `subject` is given)."""
    if template not in available_templates():
        raise TemplateProblem(f"unknown email template {template!r}")
    env = _environment()
    try:
        if subject is None:
            subject = env.get_template(f"{template}.subject.j2").render(context)
        text = env.get_template(f"{template}.txt.j2").render(context)
        html = env.get_template(f"{template}.html.j2").render(context)
    except (UndefinedError, TemplateNotFound) as err:
        raise TemplateProblem(f"template {template!r}: {err}") from err
    # Header injection guard: a subject is one line.
    subject = " ".join(subject.split())
    if not subject:
        raise TemplateProblem(f"template {template!r} rendered an empty subject")
    return RenderedEmail(subject=subject, text=text, html=html)
