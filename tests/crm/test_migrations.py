"""Alembic: upgrade from empty, the revision matches the SQLModel tables, downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import crm.tables  # noqa: F401  (registers the tables)
from crm.database import make_engine
from crm.migrate import alembic_config, downgrade, migrate

EXPECTED_TABLES = {
    "accounts",
    "contacts",
    "contracts",
    "touchpoints",
    "csm_tasks",
    "surveys",
    "survey_responses",
    "email_sends",
    "requirements_answers",
    "health_scores",
    "api_request_keys",
    "handoffs",
    "console_users",
    "console_sign_in_failures",
}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_migrate_from_empty_creates_every_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'crm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        assert set(inspector.get_table_names()) == EXPECTED_TABLES | {"alembic_version"}
        with engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head_revision()
            # The migrated schema is exactly what the models describe.
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_migrate_is_idempotent_and_reversible(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    migrate(url)  # already at head: nothing to do, no error
    downgrade(url)
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    finally:
        engine.dispose()
    migrate(url)


def test_unique_constraints_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        inspector = inspect(engine)

        def unique_columns(table: str) -> set[tuple[str, ...]]:
            return {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}

        assert ("idempotency_key",) in unique_columns("email_sends")
        assert ("token",) in unique_columns("surveys")
        assert ("survey_id",) in unique_columns("survey_responses")
    finally:
        engine.dispose()
