"""domain.settings: one typed field per variable, documented in the README, read in one place."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from domain.models import SegmentationMode
from domain.settings import Settings, SettingsError
from domain.settings_table import settings_table

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_CODE = ["activities", "bench", "crm", "deploy", "domain", "starter", "workflows"]
# Handing the environment on (to child processes, to Settings.from_env) is not reading it.
PASSES_THE_ENVIRONMENT_ON = {"domain/settings.py", "starter/live_stack.py", "deploy/healthcheck.py"}


def test_the_readme_table_is_the_models() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert settings_table() in readme, "regenerate it: python -m domain.settings_table"


def test_every_field_is_one_documented_variable() -> None:
    variables = [field.validation_alias for field in Settings.model_fields.values()]
    assert all(isinstance(v, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", v) for v in variables)
    assert len(set(variables)) == len(variables)
    assert all(field.description for field in Settings.model_fields.values())


def test_nothing_else_reads_the_environment() -> None:
    readers = []
    for top in [*PROJECT_CODE, "worker.py"]:
        paths = [REPO_ROOT / top] if top.endswith(".py") else (REPO_ROOT / top).rglob("*.py")
        for path in paths:
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative in PASSES_THE_ENVIRONMENT_ON:
                continue
            if re.search(r"os\.environ|getenv\(", path.read_text()):
                readers.append(relative)
    assert readers == []


def test_defaults_when_nothing_is_set() -> None:
    settings = Settings.from_env({})
    assert settings == Settings()
    assert (settings.task_queue, settings.database_url) == ("csflow", "sqlite:///var/csflow.db")
    assert settings.segmentation == SegmentationMode.DYNAMIC and settings.contact_governor
    assert settings.survey_ttl == timedelta(days=60) and not settings.production


def test_values_are_stripped_blank_ones_unset_and_parsed() -> None:
    settings = Settings.from_env(
        {
            "CSFLOW_TASK_QUEUE": "  ",
            "CSFLOW_API_TOKENS": " a , b,,",
            "CSFLOW_SURVEY_TTL_DAYS": "1.5",
            "CSFLOW_SEGMENTATION": " Static ",
            "CSFLOW_CONTACT_GOVERNOR": "off",
            "CSFLOW_ENV": "production",
            "CSFLOW_METRICS_PORT": "9464",
            "UNRELATED": "ignored",
        }
    )
    assert settings.task_queue == "csflow"
    assert settings.api_tokens == (SecretStr("a"), SecretStr("b"))
    assert settings.survey_ttl == timedelta(days=1.5)
    assert settings.segmentation == SegmentationMode.STATIC
    assert not settings.contact_governor and settings.production
    assert settings.metrics_port == 9464


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CSFLOW_METRICS_PORT": "70000"}, "CSFLOW_METRICS_PORT: must be a port number"),
        ({"CSFLOW_API_PORT": "http"}, "CSFLOW_API_PORT: "),
        ({"CSFLOW_SURVEY_TTL_DAYS": "soon"}, "CSFLOW_SURVEY_TTL_DAYS: must be a number of days"),
        ({"CSFLOW_SURVEY_TTL_DAYS": "0"}, "CSFLOW_SURVEY_TTL_DAYS: "),
        ({"CSFLOW_SEGMENTATION": "weekly"}, "CSFLOW_SEGMENTATION: Input should be 'static'"),
        ({"CSFLOW_CONTACT_GOVERNOR": "maybe"}, "CSFLOW_CONTACT_GOVERNOR: "),
        ({"CSFLOW_INBOUND_PASSWORD": "pw"}, "must be set together"),
        ({"CSFLOW_CONSOLE_SECRET": "short"}, "CSFLOW_CONSOLE_SECRET: must be at least 32"),
        ({"CSFLOW_TEMPORAL_UI_URL": "localhost:8233"}, "CSFLOW_TEMPORAL_UI_URL: must be an http"),
    ],
)
def test_unusable_values_name_their_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(environ)
