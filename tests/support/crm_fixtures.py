"""Shared fixtures for tests that use the CRM store: a migrated SQLite file per test, an outbox."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities.clock import use_clock
from activities.email import use_provider
from crm import database
from crm.database import Store
from crm.migrate import migrate


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; tests copy the file (an Alembic run per test would dominate the runtime)."""
    path = tmp_path_factory.mktemp("template") / "crm.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def store(migrated_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "crm.db"
    shutil.copyfile(migrated_template, path)
    configured = database.configure(f"sqlite:///{path}")
    yield configured
    database.reset()


@pytest.fixture
def outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "outbox"
    monkeypatch.setenv("CSFLOW_OUTBOX_DIR", str(directory))
    monkeypatch.delenv("SENDGRID_API_KEY", raising=False)
    use_provider(None)
    yield directory
    use_provider(None)
    use_clock(None)
