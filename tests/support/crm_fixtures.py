"""Shared fixtures for tests that use the CRM store: a migrated SQLite file per test, an outbox,
a settable clock and csflow's activities wired on them."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from activities import Activities
from activities.delivery import EmailProvider
from crm import database
from crm.database import Store
from crm.migrate import migrate
from domain.settings import Settings
from tests.support.cs_support import TestClock


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; tests copy the file (an Alembic run per test would dominate the runtime)."""
    path = tmp_path_factory.mktemp("template") / "crm.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def store(migrated_template: Path, tmp_path: Path) -> Iterator[Store]:
    """The test's CRM, also as the module-level store that the API and CLI code reads."""
    path = tmp_path / "crm.db"
    shutil.copyfile(migrated_template, path)
    configured = database.configure(f"sqlite:///{path}")
    yield configured
    database.reset()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def clock() -> TestClock:
    """The real time until a test sets `clock.now`."""
    return TestClock()


@pytest.fixture
def activity_settings(store: Store, outbox: Path) -> Settings:
    return Settings(database_url=store.url, outbox_dir=outbox)


@pytest.fixture
def make_acts(
    store: Store, activity_settings: Settings, clock: TestClock
) -> Callable[..., Activities]:
    """Activities on the test's store and clock, with settings changed by keyword (and a
    provider other than the outbox)."""

    def make(provider: EmailProvider | None = None, **settings: Any) -> Activities:
        changed = activity_settings.model_copy(update=settings)
        return Activities.build(changed, store, provider=provider, clock=clock)

    return make


@pytest.fixture
def acts(make_acts: Callable[..., Activities]) -> Activities:
    return make_acts()
