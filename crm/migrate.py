"""Schema migrations: `migrate(url)` upgrades a database to the newest Alembic revision.

The worker calls it at start-up and tests call it on fresh databases; `python -m crm.migrate`
does the same for `DATABASE_URL` from a shell.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext

from crm.database import database_url, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url or database_url()
    return config


# Before the first release, revisions 0002-0006 were folded into 0001. A development database
# stamped 0006 has exactly 0001's schema; one stamped earlier has no path forward.
_FOLDED_HEAD = "0006"
_FOLDED = frozenset({"0002", "0003", "0004", "0005"})


class PreReleaseSchema(RuntimeError):
    """The database was migrated by a pre-release csflow whose revisions no longer exist."""


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database at `url` (default: `DATABASE_URL`) to `revision`."""
    config = alembic_config(url)
    _restamp_folded(config)
    command.upgrade(config, revision)


def _restamp_folded(config: Config) -> None:
    engine = make_engine(config.attributes["url"])
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current == _FOLDED_HEAD:
        command.stamp(config, "0001", purge=True)
    elif current in _FOLDED:
        raise PreReleaseSchema(
            f"the CRM database is at pre-release revision {current}, which no longer exists;"
            " recreate it (delete the SQLite file, or drop its schema) and migrate again"
        )


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


if __name__ == "__main__":
    migrate()
