"""Helpers for activity tests: running activities as Temporal would, a settable clock and a
seeded account."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import Activities
from domain.models import (
    AccountSnapshot,
    AccountUpsert,
    ContactInput,
    ContactRole,
    ContractInput,
    EmailRequest,
)

_counter = 0


class TestClock:
    """The activities' clock in tests: the real time, or `now` once a test sets it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)


async def run(
    activity_fn: Any, arg: Any, *, activity_id: str | None = None, attempt: int = 1
) -> Any:
    """Run one activity execution. Each call is a new execution (new activity id) unless
    `activity_id` names an earlier one, which makes it a retry of that execution."""
    global _counter
    _counter += 1
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, activity_id=activity_id or f"act-{_counter}", attempt=attempt
    )
    return await env.run(activity_fn, arg)


async def expect_failure(activity_fn: Any, arg: Any, error_type: str) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await run(activity_fn, arg)
    assert caught.value.type == error_type, caught.value
    return caught.value


def acme(**overrides: Any) -> AccountUpsert:
    fields: dict[str, Any] = {
        "id": "acme",
        "name": "Acme Corp",
        "arr": 48_000,
        "plan": "growth",
        "csm_owner": "dana.csm@vendor.example.com",
        "timezone": "Europe/Berlin",
        "contacts": [
            ContactInput(
                id="c-champ",
                name="Chloe Champion",
                email="chloe@acme.example.com",
                role=ContactRole.CHAMPION,
                timezone="America/New_York",
            ),
            ContactInput(
                id="c-exec",
                name="Derek Decider",
                email="derek@acme.example.com",
                role=ContactRole.DECISION_MAKER,
            ),
            ContactInput(
                id="c-optout",
                name="Olive Optout",
                email="olive@acme.example.com",
                role=ContactRole.USER,
                opted_out=True,
            ),
        ],
        "contract": ContractInput(
            start_date=date(2026, 1, 1), end_date=date(2027, 1, 1), value=48_000, auto_renew=False
        ),
    }
    fields.update(overrides)
    return AccountUpsert(**fields)


async def seed_account(acts: Activities, **overrides: Any) -> AccountSnapshot:
    snapshot: AccountSnapshot = await run(acts.crm.upsert_account, acme(**overrides))
    return snapshot


def introduction_email(key: str = "acme:intro") -> EmailRequest:
    """The CSM's introduction to acme's champion (`seed_account`), under idempotency `key`."""
    return EmailRequest(
        idempotency_key=key,
        account_id="acme",
        to_contact_id="c-champ",
        template="csm_introduction",
        context={"csm_owner": "dana.csm@vendor.example.com"},
        workflow_id="requirements-acme",
        step="introduction",
    )


# Health inputs of an account doing everything right (a score of 100).
THRIVING = {
    "licensed_seats": 50,
    "active_users": 50,
    "feature_adoption": 1.0,
    "latest_nps": 10,
    "days_since_last_touchpoint": 3,
    "auto_renew": True,
}
