"""Pre-release revisions 0002-0006 were folded into 0001: a development database stamped 0006
keeps its rows and carries on; one stamped earlier is refused with a message saying what to do.
On SQLite and (when DATABASE_URL points at it) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from sqlalchemy import text

from crm.database import make_engine
from crm.migrate import PreReleaseSchema, migrate
from tests.support.pg_schema import throwaway_schema

PG_URL = os.environ.get("DATABASE_URL", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    with throwaway_schema(PG_URL, "csflow_fold") as url:
        yield url


def stamp_as(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
            conn.execute(
                text(
                    "INSERT INTO accounts (id, name, arr, plan, segment, lifecycle_stage,"
                    " csm_owner, timezone, created_at, updated_at) VALUES ('acme', 'Acme', 1,"
                    " 'p', 'smb', 'trial', 'c@v.example.com', 'UTC', '2026-01-01', '2026-01-01')"
                )
            )
    finally:
        engine.dispose()


def revision_and_accounts(url: str) -> tuple[str | None, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            return revision, conn.execute(text("SELECT count(*) FROM accounts")).scalar_one()
    finally:
        engine.dispose()


def test_a_database_at_the_last_folded_revision_carries_on(url: str) -> None:
    migrate(url)
    stamp_as(url, "0006")

    migrate(url)

    assert revision_and_accounts(url) == ("0001", 1)


def test_a_database_at_an_earlier_folded_revision_is_refused_untouched(url: str) -> None:
    migrate(url)
    stamp_as(url, "0004")

    with pytest.raises(PreReleaseSchema, match="pre-release revision 0004.*recreate it"):
        migrate(url)

    assert revision_and_accounts(url) == ("0004", 1)
