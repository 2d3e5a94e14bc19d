"""The CRM the process-map command and picture tests read: the migrated SQLite file of
tests.support.crm_fixtures, or, when DATABASE_URL points at PostgreSQL, a schema of its own per
test (migrated, dropped afterwards), so the commands run against the backend production uses."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from crm import database
from crm.database import Store
from crm.migrate import migrate
from tests.support.pg_schema import throwaway_schema


@pytest.fixture
def crm_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The test's CRM, also the module-level store that the commands' code reads."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield request.getfixturevalue("store")
        return
    with throwaway_schema(url, "csflow_process_map") as schema_url:
        migrate(schema_url)
        yield database.configure(schema_url)
        database.reset()
