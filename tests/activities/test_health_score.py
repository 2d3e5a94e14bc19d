"""compute_health_score: weighted, explainable, stored with its inputs."""

from __future__ import annotations

import pytest
from sqlmodel import select

from activities import Activities
from crm.database import Store
from crm.tables import HealthScoreRow
from domain.health import WEIGHTS
from domain.models import AccountRef, HealthBand, HealthInputs
from tests.support.cs_support import THRIVING, expect_failure, run, seed_account


@pytest.mark.parametrize(
    ("facts", "score", "band"),
    [
        # everything at its best: 100
        (THRIVING, 100, HealthBand.HEALTHY),
        # no data at all: usage 0, support 1, survey neutral .5, engagement .3, contract .8
        # = 0 + 20 + 10 + 4.5 + 8 = 42.5 -> 42
        ({}, 42, HealthBand.AT_RISK),
        # half the seats, 50% adoption: usage .5 -> 17.5 points instead of 35
        ({**THRIVING, "active_users": 25, "feature_adoption": 0.5}, 82, HealthBand.HEALTHY),
        # detractor (NPS 2) and CSAT 2: survey (.2 + .25)/2 = .225 -> 4.5 of 20 points
        ({**THRIVING, "latest_nps": 2, "latest_csat": 2}, 84, HealthBand.HEALTHY),
        # 3 open tickets, 1 urgent, 1 escalation: support 1 - .3 - .2 - .4 = .1 -> 2 points
        (
            {**THRIVING, "open_tickets": 3, "urgent_tickets": 1, "open_escalations": 1},
            82,
            HealthBand.HEALTHY,
        ),
        # payment overdue: contract 0
        ({**THRIVING, "payment_overdue": True}, 90, HealthBand.HEALTHY),
        # silent for 90 days, champion gone: engagement .1 * .5 = .05 -> 0.75 points
        (
            {**THRIVING, "days_since_last_touchpoint": 90, "champion_engaged": False},
            86,
            HealthBand.HEALTHY,
        ),
        # a struggling account: 10/50 seats, 10% adoption, NPS 3, 2 escalations, 45 days quiet
        # usage .6*.2+.4*.1=.16 -> 5.6; support 1-.8=.2 -> 4; survey .3 -> 6;
        # engagement .4 -> 6; contract .8 -> 8  => 29.6 -> 30
        (
            {
                "licensed_seats": 50,
                "active_users": 10,
                "feature_adoption": 0.1,
                "latest_nps": 3,
                "open_escalations": 2,
                "days_since_last_touchpoint": 45,
            },
            30,
            HealthBand.CRITICAL,
        ),
    ],
)
async def test_health_score_table(
    store: Store, facts: dict[str, object], score: int, band: HealthBand, acts: Activities
) -> None:
    await seed_account(acts)
    result = await run(acts.health.compute_health_score, HealthInputs(account_id="acme", **facts))  # type: ignore[arg-type]

    assert (result.score, result.band) == (score, band)
    assert [c.name for c in result.components] == list(WEIGHTS)
    assert round(sum(c.points for c in result.components)) == result.score
    assert all(c.explanation for c in result.components)


async def test_score_is_stored_with_inputs_and_set_on_account(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    facts = HealthInputs(account_id="acme", **THRIVING, idempotency_key="weekly-2026-47")  # type: ignore[arg-type]
    result = await run(acts.health.compute_health_score, facts)
    again = await run(acts.health.compute_health_score, facts)

    assert again == result
    with store.session() as session:
        [row] = session.exec(select(HealthScoreRow)).all()
    assert row.score == 100
    assert row.inputs["licensed_seats"] == 50 and row.inputs["latest_nps"] == 10
    assert [c["name"] for c in row.components] == list(WEIGHTS)
    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    assert snapshot.account.health_score == 100


async def test_unknown_account(store: Store, acts: Activities) -> None:
    await expect_failure(
        acts.health.compute_health_score, HealthInputs(account_id="ghost"), "UnknownAccount"
    )
