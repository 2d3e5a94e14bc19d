"""`csflow demo`: a simulated customer year on Temporal's time-skipping test server.

The six scripted customers of `starter.demo_customers` run for 380 simulated days with real
activities, a fresh SQLite CRM and the email outbox under var/. The nightly health recompute and
the enterprise renewal campaign, which production runs as Temporal Schedules, are started here by
the simulation itself at their scheduled virtual times, with the inputs and workflow ids a
Schedule would give them (the test server serves no Schedules).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)
from temporalio.testing import WorkflowEnvironment

from activities import build_activities
from crm.account_activity import AccountActivity, account_activity
from crm.database import Store
from domain.process_map import load_map
from domain.segment_query import SegmentQuery
from domain.segments import default_config
from domain.settings import Settings
from domain.words import in_words
from starter.api import (
    NIGHTLY_HEALTH_SCHEDULE_ID,
    journey_status,
    start_campaign,
    start_journey,
)
from starter.demo_customers import TEAM, Customer, demo_customers
from starter.demo_handoffs import HandoffDesk, handoff_lines
from starter.process_map_commands import render_account_map
from starter.run_tracker import RunTracker
from starter.temporal_binaries import temporal_test_server
from starter.worker_process import build_worker, ensure_search_attributes
from workflows.campaign import CampaignInput, CampaignKind, CampaignWorkflow
from workflows.customer_event import CustomerEvent
from workflows.journey_state import JourneyInput, JourneyStatus
from workflows.nightly_health import NightlyHealthInput, NightlyHealthWorkflow

SIMULATED_DAYS = 380
# Weekly in the demo: every night for a year would dominate its run time.
NIGHTLY_HEALTH_EVERY_DAYS = 7
RENEWAL_CAMPAIGN_EVERY_DAYS = 120
FEATURE_RELEASE_DAY = 100
QUERIES_IN_FLIGHT = 8
# Hundreds of journeys keep the worker busy after every simulated day; their queries wait.
QUERY_DEADLINE = timedelta(minutes=2)
# Skipping a day returns once every workflow woken that day is idle again; with hundreds of
# accounts that takes longer than the SDK's default RPC deadline.
DAY_SKIP_DEADLINE = timedelta(minutes=10)
# A progress line at least this often (wall time), and every PROGRESS_DAYS simulated days.
PROGRESS_EVERY = timedelta(seconds=2)
PROGRESS_DAYS = 60


class AccountSummary(BaseModel):
    account_id: str
    name: str
    segment: str
    behaviour: str
    stages: list[str]
    final_stage: str
    emails_sent: int
    surveys: list[dict[str, Any]]
    tasks_created: int
    open_tasks: list[str]
    alerts: int
    escalations: list[dict[str, Any]]
    renewal_outcome: str | None
    health_score: int | None
    segment_key: str | None = None
    playbooks: list[dict[str, Any]] = []
    health_history: list[dict[str, Any]] = []
    segment_history: list[str] = []
    campaigns: list[str] = []
    handoffs: list[str] = []


class DemoSummary(BaseModel):
    simulated_days: int
    started_at: datetime
    ended_at: datetime
    database: str
    outbox: str
    accounts: list[AccountSummary]
    # The process map of the account whose Services handoff ran late, as a picture.
    process_map_svg: str | None = None


def prepare_store(run_dir: Path, settings: Settings) -> tuple[Settings, Store]:
    """A fresh SQLite CRM and outbox under `run_dir`, and the settings of the year's activities
    (they never email anyone: no SendGrid key)."""
    from crm.migrate import migrate

    run_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{run_dir / 'csflow.db'}"
    migrate(url)
    demo_settings = settings.model_copy(
        update={
            "database_url": url,
            "outbox_dir": run_dir / "outbox",
            "sendgrid_api_key": None,
        }
    )
    return demo_settings, Store(url)


def new_run_dir(var_dir: Path, kind: str) -> Path:
    return var_dir / f"{kind}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"


def schedule_run_id(schedule_id: str, at: datetime) -> str:
    """The workflow id a Temporal Schedule gives the run it starts at `at`."""
    return f"{schedule_id}-{at.strftime('%Y-%m-%dT%H:%M:%SZ')}"


class ScheduledWork:
    """What production's Schedules would start, started by the simulation at the same virtual
    times: the nightly health recompute and the recurring enterprise renewal campaign."""

    def __init__(self, client: Client, task_queue: str, suffix: str) -> None:
        self.client, self.queue, self.suffix = client, task_queue, suffix

    async def run_due(self, day: int, now: datetime) -> None:
        if day % NIGHTLY_HEALTH_EVERY_DAYS == 0:
            schedule_id = f"{NIGHTLY_HEALTH_SCHEDULE_ID}-{self.suffix}"
            await self.client.start_workflow(
                NightlyHealthWorkflow.run,
                NightlyHealthInput(),
                id=schedule_run_id(schedule_id, now),
                task_queue=self.queue,
            )
        if day and day % RENEWAL_CAMPAIGN_EVERY_DAYS == 0:
            campaign = CampaignInput(
                campaign_id=f"enterprise-renewals-{self.suffix}",
                kind=CampaignKind.RENEWAL_OUTREACH,
                segment=SegmentQuery(segment_prefix="enterprise"),
            )
            await self.client.start_workflow(
                CampaignWorkflow.run,
                campaign,
                id=schedule_run_id(f"campaign-{campaign.campaign_id}", now),
                task_queue=self.queue,
            )
        if day == FEATURE_RELEASE_DAY:
            await start_campaign(
                self.client,
                CampaignInput(
                    campaign_id=f"release-playbooks-{self.suffix}",
                    kind=CampaignKind.FEATURE_RELEASE,
                    context={"feature": "Playbooks"},
                    per_minute=2,
                ),
                task_queue=self.queue,
            )


def _runtime_logging_to_python() -> Runtime:
    """The SDK core logs through Python logging (stderr), errors only: stdout carries only
    the report (`csflow demo --json` is parsed by scripts)."""
    return Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    )


async def time_skipping_environment(settings: Settings) -> WorkflowEnvironment:
    """Temporal's test server, with csflow's search attributes registered."""
    starting = asyncio.ensure_future(
        WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=str(temporal_test_server(settings)),
            data_converter=pydantic_data_converter,
            runtime=_runtime_logging_to_python(),
        )
    )
    try:
        # Shielded: a Ctrl-C while the server starts must not leave it running unowned.
        env = await asyncio.shield(starting)
    except asyncio.CancelledError:
        await (await starting).shutdown()
        raise
    try:
        await ensure_search_attributes(env.client)
    except BaseException:
        await env.shutdown()
        raise
    return env


async def run_demo(
    var_dir: Path = Path("var"),
    on_year_end: Callable[[Client, list[str]], Awaitable[None]] | None = None,
    generated_accounts: int = 0,
    on_progress: Callable[[str], None] | None = None,
    settings: Settings | None = None,
) -> DemoSummary:
    """Run the simulated year; `on_year_end` sees the server and the id of every workflow the
    year ran before they are stopped (the replay-history generator saves histories there).
    `settings` default to the environment's; the CRM and outbox are the run's own."""
    say = on_progress or (lambda _message: None)
    settings, store = prepare_store(new_run_dir(var_dir, "demo"), settings or Settings.from_env())
    say("starting Temporal's time-skipping test server")
    env = await time_skipping_environment(settings)
    try:
        client = env.client
        queue = f"csflow-demo-{uuid.uuid4().hex[:8]}"
        started_at = await env.get_current_time()
        suffix = uuid.uuid4().hex[:4]
        customers = demo_customers(client, started_at.date(), suffix, generated_accounts)
        process_map = load_map(settings.process_map)
        desk = HandoffDesk(client, store, slow_account=customers[0].id)
        scheduled = ScheduledWork(client, queue, suffix)
        runs = RunTracker()
        finished: set[str] = set()
        activities = build_activities(settings, store)
        async with build_worker(client, activities, task_queue=queue, interceptors=[runs]):
            say(f"starting {len(customers)} customer journeys on {started_at:%Y-%m-%d}")
            for customer in customers:
                await start_journey(
                    client,
                    JourneyInput(
                        account=customer.account,
                        config=default_config(customer.account.effective_segment),
                        team=TEAM,
                        process_map=process_map,
                    ),
                    CustomerEvent(account_id=customer.account.id, type="payment_received"),
                    task_queue=queue,
                )
            said_at = 0.0
            for day in range(SIMULATED_DAYS):
                if (
                    day % PROGRESS_DAYS == 0
                    or time.monotonic() - said_at >= PROGRESS_EVERY.total_seconds()
                ):
                    today_is = (started_at + timedelta(days=day)).date()
                    say(f"simulated day {day} of {SIMULATED_DAYS} ({today_is})")
                    said_at = time.monotonic()
                await scheduled.run_due(day, started_at + timedelta(days=day))
                # Only customers who act read their journey; a query is a round trip through
                # the server to the worker, the largest cost of a simulated day.
                acting = [c for c in customers if c.script is not None and c.id not in finished]
                today = await _statuses(client, [c.id for c in acting])
                for customer, status in zip(acting, today, strict=True):
                    if status.finished:
                        finished.add(customer.id)
                    elif customer.script is not None:
                        await customer.script(customer, day, status)
                await desk.work(started_at + timedelta(days=day))
                await _skip_one_day(client)
            say(f"simulated day {SIMULATED_DAYS} of {SIMULATED_DAYS}: reading every journey")
            statuses = await _statuses(client, [c.id for c in customers])
            ended_at = await env.get_current_time()
            if on_year_end is not None:
                await on_year_end(client, sorted(runs.workflow_ids))
        # The year is over: end what still runs (after the worker stopped, see RunTracker).
        await runs.terminate_open(client, "demo finished")
        picture = render_account_map(
            store,
            customers[0].id,
            (settings.outbox_dir.parent / f"process-map-{customers[0].id}.svg").resolve(),
            process_map,
            now=ended_at,
        )
        return DemoSummary(
            simulated_days=SIMULATED_DAYS,
            started_at=started_at,
            ended_at=ended_at,
            database=settings.database_url,
            outbox=str(settings.outbox_dir),
            # Emails and tasks as the CRM has them: every workflow of the account, and people.
            accounts=[
                _summarise(c, s, account_activity(store, c.id), handoff_lines(store, c.id))
                for c, s in zip(customers, statuses, strict=True)
            ],
            process_map_svg=str(picture),
        )
    finally:
        await env.shutdown()
        store.dispose()


async def _skip_one_day(client: Client) -> None:
    """`env.sleep(1 day)` with a deadline that fits hundreds of accounts."""
    request = SleepRequest()
    request.duration.FromTimedelta(timedelta(days=1))
    await client.test_service.unlock_time_skipping_with_sleep(request, timeout=DAY_SKIP_DEADLINE)


async def _statuses(client: Client, account_ids: list[str]) -> list[JourneyStatus]:
    """Every journey's status, a few queries at a time: the server answers queries one by one,
    and hundreds in flight at once would run into their RPC deadline."""
    gate = asyncio.Semaphore(QUERIES_IN_FLIGHT)

    async def one(account_id: str) -> JourneyStatus:
        async with gate:
            return await journey_status(client, account_id, rpc_timeout=QUERY_DEADLINE)

    return list(await asyncio.gather(*(one(a) for a in account_ids)))


def _summarise(
    customer: Customer, status: JourneyStatus, crm: AccountActivity, handoffs: list[str]
) -> AccountSummary:
    return AccountSummary(
        account_id=status.account_id,
        name=status.account_name,
        segment=status.segment,
        behaviour=customer.behaviour,
        stages=[v.stage.value for v in status.stages],
        final_stage=status.stage.value,
        emails_sent=crm.emails_sent,
        surveys=[
            s.model_dump(mode="json", include={"kind", "topic", "score", "category"})
            for s in status.surveys
        ],
        tasks_created=crm.tasks_created,
        open_tasks=crm.open_tasks,
        alerts=status.alerts,
        escalations=[
            e.model_dump(mode="json", include={"source", "summary", "level", "missed_slas", "open"})
            for e in status.escalations
        ],
        renewal_outcome=(
            status.renewals[-1].outcome.value
            if status.renewals and status.renewals[-1].outcome
            else None
        ),
        health_score=status.health_score,
        segment_key=status.segment_key,
        playbooks=[
            p.model_dump(
                mode="json",
                include={"kind", "situation", "summary", "opened_at", "open", "outcome"},
            )
            for p in status.playbooks
        ],
        health_history=[
            h.model_dump(mode="json", include={"at", "score", "band", "reason"})
            for h in status.health_history
        ],
        segment_history=_segment_changes(status),
        campaigns=list(status.campaigns),
        handoffs=handoffs,
    )


def _segment_changes(status: JourneyStatus) -> list[str]:
    changes: list[str] = []
    for point in status.health_history:
        if point.segment and (not changes or changes[-1].split(" ", 1)[1] != point.segment):
            changes.append(f"{point.at:%Y-%m-%d} {point.segment}")
    return changes


def render(summary: DemoSummary) -> str:
    lines = [
        f"csflow demo: {summary.simulated_days} simulated days "
        f"({summary.started_at:%Y-%m-%d} .. {summary.ended_at:%Y-%m-%d})",
        f"CRM database: {summary.database}   email outbox: {summary.outbox}",
    ]
    if summary.process_map_svg:
        lines.append(f"process map of {summary.accounts[0].name}: {summary.process_map_svg}")
    lines.append("")
    for a in summary.accounts:
        surveys = (
            ", ".join(
                f"{s['kind'].upper()}({s['topic']})="
                + (f"{s['score']} {s['category']}" if s["score"] is not None else "no answer")
                for s in a.surveys
            )
            or "none"
        )
        escalations = (
            "; ".join(
                f"{e['source']}: {e['summary']} "
                f"(level {e['level']}, missed: {_missed_in_words(e['missed_slas'])})"
                for e in a.escalations
            )
            or "none"
        )
        lines += [
            f"{a.name} [{in_words(a.segment)}] - {a.behaviour}",
            f"  stages:      {' -> '.join(a.stages)}",
            f"  emails sent: {a.emails_sent}",
            f"  surveys:     {surveys}",
            f"  tasks:       {a.tasks_created} created, {len(a.open_tasks)} open",
            f"  escalations: {escalations}",
            f"  renewal:     {in_words(a.renewal_outcome) if a.renewal_outcome else 'not due yet'}",
            f"  health:      {a.health_score if a.health_score is not None else 'n/a'}"
            f" ({len(a.health_history)} scores; nightly and on every change)",
            f"  segments:    {' -> '.join(s.split(' ', 1)[1] for s in a.segment_history) or 'n/a'}",
            f"  campaigns:   {len(a.campaigns)}",
            "  playbooks:   " + (f"{len(a.playbooks)}" if a.playbooks else "none"),
            *(
                f"    - {p['kind']}: {p['summary']}"
                + (f" => {p['outcome']}" if p["outcome"] else " (running)")
                for p in a.playbooks
            ),
            "  handoffs:" + ("" if a.handoffs else "    none"),
            *(f"    - {line}" for line in a.handoffs),
            "",
        ]
    return "\n".join(lines)


def _missed_in_words(missed: list[str]) -> str:
    """The escalation's missed SLAs as said to a manager: "acknowledgement, update 2"."""
    words = [
        "acknowledgement" if m == "acknowledge" else m.replace("update:", "update ") for m in missed
    ]
    return ", ".join(words) or "none"
