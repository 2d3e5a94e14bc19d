"""Migration 0002 (health history details, segment key, email deferral): up and down, keeping
data, on SQLite and (when DATABASE_URL points at it) PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from crm.database import make_engine
from crm.migrate import downgrade, migrate
from tests.support.pg_schema import throwaway_schema

PG_URL = os.environ.get("DATABASE_URL", "")
NEW_COLUMNS = {
    "accounts": {"segment_key"},
    "health_scores": {"segment", "segmentation", "lifecycle_stage", "healthy_from", "at_risk_from"},
    "email_sends": {"not_before"},
}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crm.db'}"
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("DATABASE_URL does not point at PostgreSQL")
    with throwaway_schema(PG_URL, "csflow_m2") as url:
        yield url


def columns(url: str) -> dict[str, set[str]]:
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in NEW_COLUMNS}
    finally:
        engine.dispose()


def test_0002_up_and_down_keeps_existing_rows(url: str) -> None:
    migrate(url, "0001")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (id, name, arr, plan, segment, lifecycle_stage,"
                    " csm_owner,"
                    " timezone, created_at, updated_at) VALUES ('acme', 'Acme', 1, 'p', 'smb',"
                    " 'trial', 'c@v.example.com', 'UTC', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO health_scores (account_id, score, band, components, inputs,"
                    " computed_at) VALUES ('acme', 55, 'at_risk', '[]', '{}', '2026-01-01')"
                )
            )
    finally:
        engine.dispose()
    assert all(not (cols & NEW_COLUMNS[t]) for t, cols in columns(url).items())

    migrate(url, "0002")
    assert all(NEW_COLUMNS[t] <= cols for t, cols in columns(url).items())
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT score, segment FROM health_scores")).one()
            assert tuple(row) == (55, None)
        index_names = {i["name"] for i in inspect(engine).get_indexes("health_scores")}
        assert "ix_health_scores_account_id_computed_at" in index_names
    finally:
        engine.dispose()

    downgrade(url, "0001")
    assert all(not (cols & NEW_COLUMNS[t]) for t, cols in columns(url).items())
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT score FROM health_scores")).scalar_one() == 55
    finally:
        engine.dispose()
    migrate(url)
