"""Engine and sessions for the CRM store.

`DATABASE_URL` (domain.settings) picks the backend (default: SQLite at `var/csflow.db`, relative
to the working directory). Activities are given their `Store`; the API and the CLI use the
module-level one through `get_store()`, created lazily on first use (the CLI's read-only views
through `get_existing_store()`, which never creates a SQLite file), and tests call
`configure(url)` to point it somewhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

from domain.settings import Settings

CONNECT_TIMEOUT_SECONDS = 10
# Bounds any single statement on PostgreSQL, so a stuck lock fails the activity attempt
# (and Temporal retries it) instead of hanging past its timeout.
STATEMENT_TIMEOUT_MS = 30_000


def database_url() -> str:
    return Settings.from_env().database_url


def make_engine(url: str) -> Engine:
    """An engine with connect timeouts; SQLite files get their directory created."""
    parsed = make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # `timeout` is how long SQLite waits on a locked file; activities run in threads.
        connect_args = {"timeout": CONNECT_TIMEOUT_SECONDS, "check_same_thread": False}
        engine = create_engine(url, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        # connect_args replace same-named URL parameters: merge any `options` from the URL
        # (e.g. a search_path) with the statement timeout instead of dropping it.
        url_options = parsed.query.get("options", "")
        if isinstance(url_options, tuple):
            url_options = " ".join(url_options)
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "options": f"{url_options} -c statement_timeout={STATEMENT_TIMEOUT_MS}".strip(),
        }
        parsed = parsed.difference_update_query(["options"])
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the worker's activity threads read while one writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL stays consistent after a crash and skips an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """One database: its URL, engine and a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


_lock = threading.Lock()
_store: Store | None = None


def configure(url: str | None = None) -> Store:
    """Point the module-level store at `url` (default: `DATABASE_URL`), replacing any previous."""
    global _store
    with _lock:
        if _store is not None:
            _store.dispose()
        _store = Store(url or database_url())
        return _store


def get_store() -> Store:
    """The module-level store, created from `DATABASE_URL` on first use."""
    global _store
    with _lock:
        if _store is None:
            _store = Store(database_url())
        return _store


class DatabaseMissing(Exception):
    """A SQLite database file that does not exist, opened by a reader."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"no CRM database at {path}")
        self.path = path


def missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite `url` when it does not exist (None: it exists, or not a file)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path


def get_existing_store() -> Store:
    """The module-level store for readers (the CLI's views): like `get_store()`, but a SQLite
    file that does not exist raises DatabaseMissing instead of being created (with its
    directory) by the first connection, so a read never leaves a database behind."""
    global _store
    with _lock:
        if _store is None:
            url = database_url()
            missing = missing_sqlite_file(url)
            if missing is not None:
                raise DatabaseMissing(missing)
            _store = Store(url)
        return _store


def reset() -> None:
    """Forget the module-level store (the next `get_store()` reads `DATABASE_URL` again)."""
    global _store
    with _lock:
        if _store is not None:
            _store.dispose()
        _store = None
