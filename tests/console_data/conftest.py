"""The CRM the console's data tests read: a migrated SQLite file per test, or, when
DATABASE_URL points at PostgreSQL, one schema migrated per session and emptied before each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from crm.database import Store
from crm.migrate import migrate
from tests.console_data.rows import Rows
from tests.support.pg_schema import throwaway_schema

PG_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(scope="session")
def postgres_crm() -> Iterator[Store | None]:
    if not PG_URL.startswith("postgresql"):
        yield None
        return
    with throwaway_schema(PG_URL, "csflow_console") as url:
        migrate(url)
        store = Store(url)
        try:
            yield store
        finally:
            store.dispose()


@pytest.fixture
def crm(request: pytest.FixtureRequest, postgres_crm: Store | None) -> Store:
    if postgres_crm is None:
        sqlite: Store = request.getfixturevalue("store")
        return sqlite
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with postgres_crm.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return postgres_crm


@pytest.fixture
def session(crm: Store) -> Iterator[Session]:
    with crm.session() as session:
        yield session


@pytest.fixture
def rows(session: Session) -> Rows:
    return Rows(session)
