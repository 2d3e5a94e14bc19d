"""The CRM store: engine from DATABASE_URL, sessions, constraints, UTC datetimes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from crm import database
from crm.migrate import migrate
from crm.tables import AccountRow, EmailSendRow, TouchpointRow


def account_row(account_id: str = "acme") -> AccountRow:
    now = datetime.now(UTC)
    return AccountRow(
        id=account_id,
        name="Acme",
        arr=1000.0,
        plan="starter",
        segment="smb",
        lifecycle_stage="trial",
        csm_owner="dana@vendor.example.com",
        timezone="UTC",
        created_at=now,
        updated_at=now,
    )


def email_row(key: str) -> EmailSendRow:
    return EmailSendRow(
        idempotency_key=key,
        account_id="acme",
        to_email="a@acme.example.com",
        template="csm_alert",
        subject="s",
        category="c",
        status="pending",
        provider="none",
        created_at=datetime.now(UTC),
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[database.Store]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    migrate(url)
    store = database.configure(url)
    yield store
    database.reset()


def test_default_url_is_sqlite_under_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert database.database_url() == "sqlite:///var/csflow.db"
    database.reset()
    try:
        store = database.get_store()
        assert store.url == "sqlite:///var/csflow.db"
        assert (tmp_path / "var").is_dir()  # created for the SQLite file
        assert database.get_store() is store  # lazily created once
    finally:
        database.reset()


def test_store_follows_database_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    database.reset()
    try:
        assert database.get_store().url == url
    finally:
        database.reset()


def test_datetimes_come_back_aware_utc(sqlite_store: database.Store) -> None:
    berlin = timezone(timedelta(hours=1))
    at = datetime(2026, 5, 1, 10, 0, tzinfo=berlin)
    with sqlite_store.session() as session:
        session.add(account_row())
        session.flush()
        session.add(TouchpointRow(account_id="acme", kind="note", summary="s", occurred_at=at))
    with sqlite_store.session() as session:
        [row] = session.exec(select(TouchpointRow)).all()
    assert row.occurred_at == at and row.occurred_at.tzinfo == UTC


def test_naive_datetimes_are_refused(sqlite_store: database.Store) -> None:
    with pytest.raises(Exception, match="naive datetime"), sqlite_store.session() as session:
        session.add(account_row())
        session.flush()
        session.add(
            TouchpointRow(
                account_id="acme", kind="note", summary="s", occurred_at=datetime(2026, 1, 1)
            )
        )
        session.flush()


def test_ledger_key_is_unique_and_session_rolls_back(sqlite_store: database.Store) -> None:
    with sqlite_store.session() as session:
        session.add(account_row())
        session.add(email_row("k1"))
    with pytest.raises(IntegrityError), sqlite_store.session() as session:
        session.add(email_row("k1"))
    with sqlite_store.session() as session:
        assert len(session.exec(select(EmailSendRow)).all()) == 1


def test_foreign_keys_are_enforced_on_sqlite(sqlite_store: database.Store) -> None:
    with pytest.raises(IntegrityError), sqlite_store.session() as session:
        session.add(email_row("orphan"))
