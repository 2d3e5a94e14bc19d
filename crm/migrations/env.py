"""Alembic environment for the CRM store (run through `crm.migrate.migrate` or the alembic CLI)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import crm.tables  # noqa: F401  (registers the tables on SQLModel.metadata for autogenerate)
from crm.database import database_url, make_engine

config = context.config
# `migrate(url)` passes the URL as an attribute: ini values would need %-escaping.
url: str = (
    config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or database_url()
)
target_metadata = SQLModel.metadata


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for later revisions.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
