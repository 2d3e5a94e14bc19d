"""Health scores per tier, segment transitions, the explanation and the CSM CLI views."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from activities import Activities
from crm.database import Store
from domain.models import (
    Account,
    HealthBand,
    HealthInputs,
    LifecycleStage,
    Segment,
    SegmentationMode,
    TaskCompletion,
    TaskInput,
    TaskPriority,
    TouchpointInput,
    TouchpointKind,
)
from domain.segmentation import segment_for
from starter.cs_commands import register
from tests.support.cs_support import run, seed_account

T0 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
THRIVING: dict[str, Any] = {
    "licensed_seats": 20,
    "active_users": 20,
    "feature_adoption": 1.0,
    "latest_nps": 10,
    "days_since_last_touchpoint": 3,
    "auto_renew": True,
}
STRUGGLING: dict[str, Any] = {
    "licensed_seats": 20,
    "active_users": 4,
    "feature_adoption": 0.2,
    "logins_30d": 30,
    "baseline_logins_30d": 120,
    "latest_nps": 3,
    "open_escalations": 1,
    "days_since_last_touchpoint": 45,
    "days_to_renewal": 30,
}


def account(arr: float) -> Account:
    from domain.models import segment_for_arr

    return Account(
        id="a", name="A", arr=arr, segment=segment_for_arr(arr), csm_owner="c@v.example.com"
    )


@pytest.mark.parametrize(
    ("arr", "band", "stage", "mode", "key"),
    [
        (5_000, HealthBand.HEALTHY, LifecycleStage.ADOPTION, "dynamic", "smb-healthy-adoption"),
        (
            250_000,
            HealthBand.AT_RISK,
            LifecycleStage.RENEWAL,
            "dynamic",
            "enterprise-at-risk-renewal",
        ),
        (
            50_000,
            HealthBand.CRITICAL,
            LifecycleStage.ONBOARDING,
            "dynamic",
            "mid-market-critical-onboarding",
        ),
        # a CSM-flagged at_risk stage outranks a healthy score
        (
            50_000,
            HealthBand.HEALTHY,
            LifecycleStage.AT_RISK,
            "dynamic",
            "mid-market-at-risk-adoption",
        ),
        (5_000, None, LifecycleStage.TRIAL, "dynamic", "smb-unscored-onboarding"),
        (250_000, HealthBand.CRITICAL, LifecycleStage.CHURNED, "dynamic", "enterprise-churned"),
        # static: today's ARR tier values, whatever the health
        (250_000, HealthBand.CRITICAL, LifecycleStage.RENEWAL, "static", "enterprise"),
        (50_000, HealthBand.HEALTHY, LifecycleStage.ADOPTION, "static", "mid_market"),
    ],
)
def test_segment_for_table(
    arr: float, band: HealthBand | None, stage: LifecycleStage, mode: str, key: str
) -> None:
    assert segment_for(account(arr), band, stage, SegmentationMode(mode)).key == key


@pytest.mark.parametrize(
    ("arr", "facts", "score", "band", "segment"),
    [
        # SMB weights usage 45%: thriving everywhere scores 100
        (5_000, THRIVING, 100, HealthBand.HEALTHY, "smb-healthy-adoption"),
        # Struggling SMB: usage (.6*.2+.4*.2=.2, logins 25% -> .5*.2+.5*.25=.225) -> 10.1;
        # support .6 -> 9; survey .3 -> 4.5; engagement .4 -> 4; contract .4+.4*30/60=.6 -> 9
        # = 36.6 -> 37, critical (< 40)
        (5_000, STRUGGLING, 37, HealthBand.CRITICAL, "smb-critical-adoption"),
        # The same facts for an enterprise account: usage 6.75 + support 15 + survey 6 +
        # engagement 6 + contract 6 = 39.75 -> 40; enterprise cut-offs 75/50 make it critical
        (250_000, STRUGGLING, 40, HealthBand.CRITICAL, "enterprise-critical-adoption"),
        # Mid-market (reference weights): usage .6*.25+.4*.3=.27 -> 9.45; support 20;
        # NPS 0 -> 0; 40 days quiet .4 -> 6; auto-renew 10 => 45.45 -> 45, at risk (40..69)
        (
            48_000,
            {
                **THRIVING,
                "latest_nps": 0,
                "active_users": 5,
                "feature_adoption": 0.3,
                "days_since_last_touchpoint": 40,
            },
            45,
            HealthBand.AT_RISK,
            "mid-market-at-risk-adoption",
        ),
    ],
)
async def test_health_by_tier(
    store: Store,
    arr: float,
    facts: dict[str, Any],
    score: int,
    band: HealthBand,
    segment: str,
    acts: Activities,
) -> None:
    await seed_account(acts, arr=arr, lifecycle_stage=LifecycleStage.ADOPTION)
    result = await run(
        acts.health.compute_health_score, HealthInputs(account_id="acme", now=T0, **facts)
    )
    assert (result.score, result.band, result.segment) == (score, band, segment)
    assert round(sum(c.points for c in result.components)) == result.score
    assert result.computed_at == T0


async def test_segment_transition_is_stored_and_on_the_timeline(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts, arr=5_000, lifecycle_stage=LifecycleStage.ADOPTION)
    first = await run(
        acts.health.compute_health_score, HealthInputs(account_id="acme", now=T0, **THRIVING)
    )
    second = await run(
        acts.health.compute_health_score,
        HealthInputs(account_id="acme", now=T0 + timedelta(days=7), **STRUGGLING),
    )
    assert (first.segment, first.previous_score) == ("smb-healthy-adoption", None)
    assert (second.segment, second.previous_score, second.previous_band) == (
        "smb-critical-adoption",
        100,
        HealthBand.HEALTHY,
    )
    from sqlmodel import select

    from crm.tables import AccountRow, TouchpointRow

    with store.session() as session:
        row = session.get(AccountRow, "acme")
        assert row is not None and (row.segment_key, row.health_score) == (
            "smb-critical-adoption",
            37,
        )
        notes = [
            t.summary for t in session.exec(select(TouchpointRow)).all() if t.kind == "health_score"
        ]
    assert notes[-1] == (
        "Health score 37, critical (was 100); "
        "segment moved from smb-healthy-adoption to smb-critical-adoption"
    )


async def test_static_mode_keeps_the_arr_tier(
    store: Store, make_acts: Callable[..., Activities], acts: Activities
) -> None:
    acts = make_acts(segmentation=SegmentationMode.STATIC)
    await seed_account(acts, arr=250_000)
    result = await run(
        acts.health.compute_health_score, HealthInputs(account_id="acme", now=T0, **STRUGGLING)
    )
    assert (result.segment, result.tier) == ("enterprise", Segment.ENTERPRISE)


async def test_explanation_says_what_changed(store: Store, acts: Activities) -> None:
    await seed_account(acts, arr=5_000, lifecycle_stage=LifecycleStage.ADOPTION)
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme", now=T0, **THRIVING))
    await run(
        acts.health.compute_health_score,
        HealthInputs(
            account_id="acme", now=T0 + timedelta(days=7), **{**THRIVING, "latest_nps": 2}
        ),
    )
    exp = acts.health.explain_latest("acme")
    assert exp.changes is not None
    assert (exp.changes.previous_score, exp.score, exp.changes.score_delta) == (100, 88, -12)
    survey = next(c for c in exp.changes.components if c.name == "survey")
    assert (survey.points_before, survey.points_now, survey.delta) == (15.0, 3.0, -12.0)
    assert [(c.field, c.before, c.now) for c in exp.changes.inputs] == [("latest_nps", 10, 2)]


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


async def test_cli_health_explain(store: Store, acts: Activities) -> None:
    await seed_account(acts, arr=5_000, lifecycle_stage=LifecycleStage.ADOPTION)
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme", now=T0, **THRIVING))
    await run(
        acts.health.compute_health_score,
        HealthInputs(account_id="acme", now=T0 + timedelta(days=7), **STRUGGLING),
    )
    runner = CliRunner()
    text = runner.invoke(cli(), ["health", "acme", "--explain"])
    assert text.exit_code == 0, text.output
    assert "health 37/100, critical, segment smb-critical-adoption" in text.output
    assert "usage" in text.output and "0.45" in text.output  # SMB usage weight
    assert "100 (healthy) -> 37 (critical), -63" in text.output
    assert "latest_nps: 10 -> 3" in text.output
    as_json = runner.invoke(cli(), ["health", "acme", "--json"])
    data = json.loads(as_json.output)
    assert data["score"] == 37 and data["changes"]["previous_score"] == 100
    assert [c["name"] for c in data["components"]] == [
        "usage",
        "support",
        "survey",
        "engagement",
        "contract",
    ]
    missing = runner.invoke(cli(), ["health", "ghost"])
    assert missing.exit_code == 1


async def test_cli_tasks_and_day_plan(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    owner = "dana.csm@vendor.example.com"
    day = datetime(2026, 11, 18, tzinfo=UTC)

    async def task(title: str, priority: TaskPriority, due: datetime | None) -> int:
        created = await run(
            acts.crm.create_csm_task,
            TaskInput(account_id="acme", owner=owner, title=title, priority=priority, due_at=due),
        )
        return int(created.id)

    low = await task("Send recap", TaskPriority.LOW, day + timedelta(hours=9))
    urgent = await task("Call about outage", TaskPriority.URGENT, day + timedelta(hours=16))
    normal_late = await task("QBR prep", TaskPriority.NORMAL, day + timedelta(days=3))
    normal_soon = await task("Check adoption", TaskPriority.NORMAL, day + timedelta(hours=11))
    unplanned = await task("Someday", TaskPriority.NORMAL, None)
    await run(acts.crm.complete_csm_task, TaskCompletion(task_id=urgent, outcome="called"))
    await run(acts.crm.complete_csm_task, TaskCompletion(task_id=unplanned, outcome="done early"))
    await run(
        acts.crm.append_touchpoint,
        TouchpointInput(
            account_id="acme",
            kind=TouchpointKind.CALL,
            summary="Outage call with Chloe",
            occurred_at=day + timedelta(hours=15),
        ),
    )
    runner = CliRunner()
    listed = json.loads(runner.invoke(cli(), ["tasks", "--csm", owner, "--json"]).output)
    assert [t["id"] for t in listed] == [normal_soon, normal_late, low]

    # Completion times come from the real clock: plan the day they were completed on.
    from crm.tables import CsmTaskRow

    with store.session() as session:
        for task_id in (urgent, unplanned):
            row = session.get(CsmTaskRow, task_id)
            assert row is not None
            row.completed_at = day + timedelta(hours=17)
    result = runner.invoke(cli(), ["plan", "--csm", owner, "--date", "2026-11-18", "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert [t["id"] for t in plan["planned"]] == [low, normal_soon, urgent]
    assert sorted(t["id"] for t in plan["completed"]) == sorted([urgent, unplanned])
    assert [t["summary"] for t in plan["touchpoints"]] == ["Outage call with Chloe"]
    assert plan["gap"] == {"not_done": [low, normal_soon], "unplanned_done": [unplanned]}
    text = runner.invoke(cli(), ["plan", "--csm", owner, "--date", "2026-11-18"]).output
    assert "gap: 2 planned not done" in text and "1 done unplanned" in text


def test_a_score_hovering_on_a_cut_off_does_not_move_the_segment() -> None:
    from domain.health import SEGMENT_MARGIN, band_for, settled_band
    from domain.health_config import health_config_for

    config = health_config_for(Segment.SMB)
    cut = config.healthy_from
    # One point above the healthy cut-off after an at-risk score: still at risk for segments.
    assert band_for(cut + 1, config) == HealthBand.HEALTHY
    assert settled_band(cut + 1, HealthBand.AT_RISK, config) == HealthBand.AT_RISK
    assert settled_band(cut - 1, HealthBand.HEALTHY, config) == HealthBand.HEALTHY
    # Clear of the margin it moves, both ways; without history the score decides.
    assert settled_band(cut + SEGMENT_MARGIN, HealthBand.AT_RISK, config) == HealthBand.HEALTHY
    assert settled_band(cut - SEGMENT_MARGIN - 1, HealthBand.HEALTHY, config) == HealthBand.AT_RISK
    assert settled_band(cut + 1, None, config) == HealthBand.HEALTHY
