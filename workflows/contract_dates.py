"""When a contract ends and when its renewal motion starts, as absolute instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def contract_end_at(end: date) -> datetime:
    """Contracts end at the start of their end date, UTC."""
    return datetime.combine(end, time(0, 0), tzinfo=UTC)


def renewal_start(contract_end: date, lead_time: timedelta) -> datetime:
    return contract_end_at(contract_end) - lead_time
