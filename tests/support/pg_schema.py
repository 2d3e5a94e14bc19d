"""A throwaway schema on the PostgreSQL at DATABASE_URL, for tests that must not touch tables
other suites own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from crm.database import make_engine


@contextmanager
def throwaway_schema(url: str, prefix: str) -> Iterator[str]:
    """A new schema named `prefix` and a random suffix, dropped afterwards: the URL whose
    search_path is it. Skips the test when the server cannot be used."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as err:  # server down / no rights: not this suite's failure to report
        admin.dispose()
        pytest.skip(f"PostgreSQL at DATABASE_URL not usable: {err}")
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
