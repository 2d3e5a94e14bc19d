"""The same migrations and store against PostgreSQL, when DATABASE_URL points at one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select
from temporalio.testing import ActivityEnvironment

from activities import Activities
from crm.database import Store
from crm.migrate import downgrade, migrate
from crm.tables import AccountRow, TouchpointRow
from domain.models import (
    AccountRef,
    AccountUpsert,
    ContactInput,
    EmailRequest,
    EmailStatus,
    HealthInputs,
)
from domain.settings import Settings
from tests.support.pg_schema import throwaway_schema

URL = os.environ.get("DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not URL.startswith("postgresql"), reason="DATABASE_URL does not point at PostgreSQL"
)


@pytest.fixture
def schema_url() -> Iterator[str]:
    """A throwaway schema, so the test never touches tables other suites may own."""
    with throwaway_schema(URL, "csflow_test") as url:
        yield url


def test_migrations_and_store_on_postgres(schema_url: str) -> None:
    migrate(schema_url)
    store = Store(schema_url)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
            # URL options (the test's search_path) and the store's statement timeout both apply.
            assert str(conn.execute(text("SELECT current_schema()")).scalar()) in schema_url
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "30s"
        assert "email_sends" in inspect(store.engine).get_table_names()
        now = datetime.now(UTC)
        with store.session() as session:
            session.add(
                AccountRow(
                    id="acme",
                    name="Acme",
                    arr=1.0,
                    plan="p",
                    segment="smb",
                    lifecycle_stage="trial",
                    csm_owner="d@vendor.example.com",
                    timezone="UTC",
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            session.add(
                TouchpointRow(
                    account_id="acme",
                    kind="note",
                    summary="s",
                    occurred_at=now,
                    idempotency_key="k",
                )
            )
        with pytest.raises(IntegrityError), store.session() as session:
            session.add(
                TouchpointRow(
                    account_id="acme",
                    kind="note",
                    summary="dup",
                    occurred_at=now,
                    idempotency_key="k",
                )
            )
        with store.session() as session:
            [row] = session.exec(select(TouchpointRow)).all()
        assert row.occurred_at == now
    finally:
        store.dispose()
    downgrade(schema_url)


async def test_activities_on_postgres(schema_url: str, tmp_path: Path) -> None:
    migrate(schema_url)
    store = Store(schema_url)
    acts = Activities.build(Settings(database_url=schema_url, outbox_dir=tmp_path), store)
    env = ActivityEnvironment()
    try:
        await env.run(
            acts.crm.upsert_account,
            AccountUpsert(
                id="acme",
                name="Acme",
                arr=150_000,
                csm_owner="dana@vendor.example.com",
                contacts=[ContactInput(id="c1", name="Chloe", email="chloe@acme.example.com")],
            ),
        )
        request = EmailRequest(
            idempotency_key="pg:intro",
            account_id="acme",
            to_contact_id="c1",
            template="csm_introduction",
        )
        first = await env.run(acts.email.send_email, request)
        assert await env.run(acts.email.send_email, request) == first
        assert first.status == EmailStatus.OUTBOXED
        health = await env.run(acts.health.compute_health_score, HealthInputs(account_id="acme"))
        snapshot = await env.run(acts.crm.get_account, AccountRef(account_id="acme"))
        assert snapshot.account.health_score == health.score
        assert len(list(tmp_path.glob("*.eml"))) == 1
    finally:
        store.dispose()
