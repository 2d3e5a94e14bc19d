"""Schema migrations: `migrate(url)` upgrades a database to the newest Alembic revision.

The worker calls it at start-up and tests call it on fresh databases; `python -m crm.migrate`
does the same for `DATABASE_URL` from a shell.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from crm.database import database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = url or database_url()
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Upgrade the database at `url` (default: `DATABASE_URL`) to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


if __name__ == "__main__":
    migrate()
