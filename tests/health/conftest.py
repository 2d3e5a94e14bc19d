"""Health tests: a migrated SQLite store, a temp outbox and a fixed clock per test."""

from __future__ import annotations

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
    path = tmp_path_factory.mktemp("health-template") / "crm.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def store(migrated_template: Path, tmp_path: Path) -> Iterator[Store]:
    path = tmp_path / "crm.db"
    path.write_bytes(migrated_template.read_bytes())
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
