"""The README's settings table, generated from `domain.settings.Settings` so it cannot drift
(tests/test_settings.py compares them). `python -m domain.settings_table` prints it."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import get_args

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from domain.settings import Settings


def _type_name(field: FieldInfo) -> str:
    if field.validation_alias == "CSFLOW_SURVEY_TTL_DAYS":
        return "number (days)"
    annotation = field.annotation
    if annotation is not None and type(None) in get_args(annotation):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    names = {str: "string", int: "integer", bool: "boolean", Path: "path", SecretStr: "secret"}
    if isinstance(annotation, type) and annotation in names:
        return names[annotation]
    if getattr(annotation, "__origin__", None) is dict:
        return "`email=Name` pairs, comma-separated"  # team_names, the one mapping
    return "secrets, comma-separated"  # api_tokens, the one tuple


def _default_text(field: FieldInfo) -> str:
    value = field.default
    if value is None or value == () or value == {}:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, timedelta):
        return f"`{value.days}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    return f"`{value}`"


def _description(field: FieldInfo) -> str:
    # A field's docstring is its description; one that wraps becomes one line of the table.
    return " ".join((field.description or "").split())


# Read by `temporalio.envconfig`, not by `Settings`; listed in the table all the same.
TEMPORAL_VARIABLES: tuple[tuple[str, str, str, str], ...] = (
    ("TEMPORAL_ADDRESS", "string", "`localhost:7233`", "Temporal frontend, host:port"),
    ("TEMPORAL_NAMESPACE", "string", "`default`", "Temporal namespace"),
    ("TEMPORAL_API_KEY", "secret", "unset", "API key (Temporal Cloud); turns TLS on"),
    ("TEMPORAL_TLS_*", "path or PEM", "unset", "mTLS client certificate and key, server CA"),
    ("TEMPORAL_CONFIG_FILE", "path", "unset", "profile file; `TEMPORAL_PROFILE` picks a profile"),
)


def settings_table() -> str:
    """The README's settings table, one row per variable, from the model."""
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for field in Settings.model_fields.values():
        rows.append(
            f"| `{field.validation_alias}` | {_type_name(field)} | {_default_text(field)} "
            f"| {_description(field)} |"
        )
    for name, kind, default, description in TEMPORAL_VARIABLES:
        rows.append(f"| `{name}` | {kind} | {default} | {description} (`temporalio.envconfig`) |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
