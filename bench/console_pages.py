"""The CS console's pages on a large CRM: p50/p95 of each page's data and, when the console's
routes exist, of the pages themselves.

The CRM is a PostgreSQL database of its own, `csflow_bench`, created next to the one
DATABASE_URL names (default postgresql+psycopg://postgres@127.0.0.1:5432/test) and migrated to
the newest revision, so the test suite's databases are untouched. It is seeded once (again with
--reseed) by COPY with 5,000 accounts of 20 CSMs, 50,000 tasks and 500,000 timeline entries, plus
what goes with them in about the proportions the workflows leave: 3 contacts, 1-3 contracts, 36
weekly health scores, 40 emails, 4 surveys (3 NPS, 1 CSAT, 60% answered) and 10 process-map
handoffs per account, escalations and playbooks on some; rows of the tables the CRM appends to go
in in time order. Its dates are relative to the time it was seeded.

Measured, each R times after a warm-up, with a fresh session per call as the console opens one:
- the query functions (crm.portfolio, crm.account_360, crm.manager_report): the portfolio as a
  manager and as a CSM, sorted and filtered several ways; the account 360 of different accounts;
  the managers' report;
- the console's pages over ASGI (httpx), signed in through its form as a manager and as a CSM
  (a page the app does not serve yet, 404, is skipped).

Prints a table (case, runs, p50_ms, p95_ms) and `name value` lines: the slowest p95, whether
every p95 is within the 200 ms budget (exit 1 when one is not) and the load average before the
run (on 2 shared cores, other work doubles the p95s: run twice and compare).

Run:  .venv/bin/python bench/console_pages.py [--runs 30] [--reseed]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import os
import random
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from reporting import percentile
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from crm import database
from crm.account_360 import account_360
from crm.database import Store
from crm.manager_report import manager_report
from crm.migrate import migrate
from crm.portfolio import PortfolioQuery, PortfolioSort, portfolio_page
from domain.models import HealthBand
from domain.settings import Settings
from domain.words import in_words

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE = "csflow_bench"
BUDGET_MS = 200.0
ACCOUNTS = 5_000
TASKS_PER_ACCOUNT = 10
TOUCHPOINTS_PER_ACCOUNT = 100
SCORES_PER_ACCOUNT = 36
EMAILS_PER_ACCOUNT = 40
CSMS = [f"csm{n:02d}@csflow.example" for n in range(1, 21)]
MANAGER = "morgan.manager@csflow.example"
SEGMENTS = {
    "enterprise": (100_000, 500_000),
    "mid_market": (20_000, 99_000),
    "smb": (2_000, 19_000),
}
# The stage an account ends in, by share (after trial, requirements and onboarding).
LATER_STAGES = {"adoption": 62, "expansion": 8, "renewal": 12, "at_risk": 6, "churned": 4}
FUNCTIONS = ["sales", "customer_success", "support", "services", "marketing", "product", "finance"]
PLAYBOOKS = ["nps", "usage", "support", "unresponsive", "contact"]
SURVEYS = ("nps", "nps", "nps", "csat")  # per account, to its champion
# What the onboarding workflow records (step, timeline kind, days after the account's start).
ONBOARDING_STEPS = [
    ("kickoff", "meeting", 12),
    ("training", "email", 19),
    ("webinar", "email", 26),
    ("complete", "email", 40),
]


# --- the database ---------------------------------------------------------------------------


def bench_url(base: str) -> str:
    return make_url(base).set(database=DATABASE).render_as_string(hide_password=False)


def create_database(base: str, *, fresh: bool) -> str:
    """`csflow_bench` on the server of `base` (dropped first when `fresh`), migrated."""
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": DATABASE}
            ).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    finally:
        admin.dispose()
    url = bench_url(base)
    migrate(url)
    return url


# --- seeding --------------------------------------------------------------------------------


@dataclass
class Account:
    id: str
    segment: str
    arr: float
    csm: str
    created: datetime
    stage: str
    health: int | None
    contacts: list[str]


Row = dict[str, Any]


class Seed:
    """Rows of every table, generated account by account: `rows(table)` feeds its COPY."""

    def __init__(self, now: datetime, seed: int = 7) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.accounts = [self._account(i) for i in range(ACCOUNTS)]

    def _at(self, since: datetime) -> datetime:
        """A moment between `since` and now."""
        span = max((self.now - since).total_seconds(), 60.0)
        return since + timedelta(seconds=self.rng.uniform(0, span))

    def _account(self, i: int) -> Account:
        rng = self.rng
        segment = rng.choices(list(SEGMENTS), weights=[1, 3, 6])[0]
        low, high = SEGMENTS[segment]
        age = rng.uniform(20, 1000)
        stage = rng.choices(list(LATER_STAGES), weights=list(LATER_STAGES.values()))[0]
        account_id = f"acct-{i:05d}"
        return Account(
            id=account_id,
            segment=segment,
            arr=round(rng.uniform(low, high), -2),
            csm=CSMS[i % len(CSMS)],
            created=self.now - timedelta(days=age),
            stage="onboarding" if age < 30 else stage,
            health=None if rng.random() < 0.03 else int(rng.triangular(5, 100, 75)),
            contacts=[f"{account_id}-{role}" for role in ("champion", "decision", "user")],
        )

    def rows(self, table: str) -> Iterator[Row]:
        rows: Iterator[Row] = getattr(self, f"_{table}")()
        return rows

    def _accounts(self) -> Iterator[Row]:
        for a in self.accounts:
            yield dict(
                id=a.id,
                name=f"Customer {a.id[5:]}",
                arr=a.arr,
                plan="standard",
                segment=a.segment,
                lifecycle_stage=a.stage,
                csm_owner=a.csm,
                health_score=a.health,
                timezone="UTC",
                created_at=a.created,
                updated_at=a.created,
            )

    def _contacts(self) -> Iterator[Row]:
        for a in self.accounts:
            for contact, role in zip(
                a.contacts, ("champion", "decision_maker", "user"), strict=True
            ):
                yield dict(
                    id=contact,
                    account_id=a.id,
                    name=contact.replace("-", " ").title(),
                    email=f"{contact}@customer.example",
                    role=role,
                    opted_out=False,
                )

    def _contracts(self) -> Iterator[Row]:
        for a in self.accounts:
            end = self.now.date() + timedelta(days=self.rng.randint(-10, 365))
            terms: list[tuple[date, str, datetime | None]] = [
                (end, "churned" if a.stage == "churned" else "active", None)
            ]
            while (start := terms[-1][0] - timedelta(days=365)) > a.created.date():
                terms.append(
                    (start, "renewed", datetime(start.year, start.month, start.day, tzinfo=UTC))
                )
            for ends, status, closed in terms:
                yield dict(
                    account_id=a.id,
                    start_date=ends - timedelta(days=365),
                    end_date=ends,
                    value=a.arr,
                    auto_renew=self.rng.random() < 0.4,
                    status=status,
                    created_at=a.created,
                    closed_at=closed,
                )

    def _csm_tasks(self) -> Iterator[Row]:
        rng = self.rng
        for a in self.accounts:
            escalation = f"escalation-{a.id}-ticket-1"
            for n in range(TASKS_PER_ACCOUNT):
                created = self._at(a.created)
                due = created + timedelta(days=rng.uniform(1, 14))
                workflow, step, title, owner = f"journey-{a.id}", f"task:{n}", "Follow up", a.csm
                if n == 0 and rng.random() < 0.05:  # an escalation; it missed its SLA half the time
                    workflow, step, title = escalation, "opened", "Escalation opened (high): Export"
                    due = created + timedelta(hours=4)
                elif n == 1 and rng.random() < 0.05:
                    workflow, step, title = escalation, "sla:acknowledge", "Escalation SLA missed"
                    owner = MANAGER
                elif n == 2 and rng.random() < 0.2:
                    workflow, step = f"playbook-{rng.choice(PLAYBOOKS)}-{a.id}-{n}", "call"
                    title = "Call the champion"
                fate, completed = rng.random(), None
                if fate < 0.8:
                    status, completed = (
                        "done",
                        min(due + timedelta(days=rng.uniform(-3, 3)), self.now),
                    )
                elif fate < 0.85:
                    status, completed = "cancelled", min(due, self.now)
                else:
                    status, due = "open", self.now + timedelta(days=rng.uniform(-10, 14))
                yield dict(
                    account_id=a.id,
                    owner=owner,
                    title=title,
                    description="",
                    due_at=due,
                    priority="normal",
                    status=status,
                    created_at=created,
                    completed_at=completed,
                    outcome="done" if completed else None,
                    workflow_id=workflow,
                    idempotency_key=f"{workflow}:{step}:task",
                )

    def _stage_changes(self, a: Account) -> list[tuple[datetime, str, str]]:
        path = ["trial", "requirements", "onboarding"]
        if a.stage != "onboarding":
            path.append("adoption")
        if a.stage not in path:
            path.append(a.stage)
        moments = sorted(self._at(a.created) for _ in path[1:])
        return list(zip(moments, path, path[1:], strict=False))

    def _touchpoints(self) -> Iterator[Row]:
        rng = self.rng
        for a in self.accounts:
            journey, onboarding = f"journey-{a.id}", f"onboarding-{a.id}"
            entries: list[Row] = []
            for at, before, after in self._stage_changes(a):
                summary = f"Moved from {in_words(before).lower()} to {in_words(after).lower()}"
                details = {"from": before, "to": after, "reason": "bench"}
                entries.append(_entry(a, "stage_change", summary, at, journey, details))
            for step, kind, day in ONBOARDING_STEPS:
                if (at := a.created + timedelta(days=day)) < self.now:
                    entries.append(
                        _entry(a, kind, f"Onboarding: {step}", at, onboarding, step=step)
                    )
            for week in range(SCORES_PER_ACCOUNT):
                if (at := self.now - timedelta(weeks=week, hours=rng.uniform(0, 12))) > a.created:
                    entries.append(_entry(a, "health_score", "Health score", at, journey))
            for n in range(TASKS_PER_ACCOUNT):
                entries.append(_entry(a, "task", f"Task {n}", self._at(a.created), journey))
            for kind in ("note", "note", "call", "call", "meeting", "survey_response"):
                logged = {"logged_by": a.csm}
                entries.append(_entry(a, kind, f"A {kind}", self._at(a.created), None, logged))
            while len(entries) < TOUCHPOINTS_PER_ACCOUNT:
                flow = journey if rng.random() < 0.8 else f"playbook-nps-{a.id}-{len(entries)}"
                at = self._at(a.created)
                sent = _entry(a, "email", "Email sent: Checking in", at, flow, step="email")
                entries.append(sent)
            yield from entries[:TOUCHPOINTS_PER_ACCOUNT]

    def _health_scores(self) -> Iterator[Row]:
        rng = self.rng
        names = ("usage", "support", "survey", "engagement", "contract")
        for a in self.accounts:
            score = a.health
            for week in range(SCORES_PER_ACCOUNT if score is not None else 0):
                at = self.now - timedelta(weeks=week, hours=rng.uniform(0, 12))
                if score is None or at < a.created:
                    break
                band = "healthy" if score >= 70 else "at_risk" if score >= 40 else "critical"
                components = [
                    dict(
                        name=name,
                        weight=0.2,
                        value=score / 100,
                        points=score / 5,
                        explanation=f"{name}: {score}% of what a healthy account shows",
                    )
                    for name in names
                ]
                yield dict(
                    account_id=a.id,
                    score=score,
                    band=band,
                    components=json.dumps(components),
                    inputs=json.dumps({"active_users": score, "licensed_seats": 100}),
                    computed_at=at,
                    segment=f"{a.segment}:{band}",
                    segmentation="dynamic",
                    lifecycle_stage=a.stage,
                    healthy_from=70,
                    at_risk_from=40,
                )
                score = max(0, min(100, score + rng.randint(-6, 6)))

    def _surveys(self) -> Iterator[Row]:
        for n, a in enumerate(self.accounts):
            for k, kind in enumerate(SURVEYS):
                at = self._at(max(a.created, self.now - timedelta(days=365)))
                yield dict(
                    account_id=a.id,
                    contact_id=a.contacts[0],
                    kind=kind,
                    topic="relationship",
                    token=f"t-{n}-{k}",
                    link=f"https://s/{n}-{k}",
                    workflow_id=f"journey-{a.id}",
                    idempotency_key=f"survey:{n}:{k}",
                    created_at=at,
                )

    def _survey_responses(self) -> Iterator[Row]:
        rng = self.rng
        # Survey ids as the fresh table numbers them: in the order _surveys yields them.
        for survey_id, kind in enumerate(SURVEYS * len(self.accounts), start=1):
            if rng.random() < 0.6:
                score = int(rng.triangular(0, 10, 8)) if kind == "nps" else rng.randint(1, 5)
                yield dict(
                    survey_id=survey_id,
                    score=score,
                    comment="",
                    category="-",
                    responded_at=self._at(self.now - timedelta(days=360)),
                )

    def _email_sends(self) -> Iterator[Row]:
        rng = self.rng
        for a in self.accounts:
            for n in range(EMAILS_PER_ACCOUNT):
                at = self._at(max(a.created, self.now - timedelta(days=365)))
                alert = rng.random() < 0.05
                contact = None if alert else rng.choice(a.contacts)
                status = rng.choices(["sent", "outboxed", "suppressed"], weights=[85, 10, 5])[0]
                # The first: the onboarding workflow's completion email, once onboarding is done.
                done = n == 0 and a.stage != "onboarding"
                workflow = f"onboarding-{a.id}" if done else f"journey-{a.id}"
                step = "complete" if done else f"email:{n}"
                yield dict(
                    idempotency_key=f"{workflow}:{step}",
                    account_id=a.id,
                    contact_id=contact,
                    to_email=a.csm if alert else f"{contact}@customer.example",
                    template="checkin",
                    subject="Checking in",
                    category="csm_alert" if alert else "customer_success",
                    status=status,
                    provider="outbox",
                    attempts=1,
                    workflow_id=workflow,
                    step=step,
                    created_at=at,
                    sent_at=None if status == "suppressed" else at,
                )

    def _handoffs(self) -> Iterator[Row]:
        rng = self.rng
        for a in self.accounts:
            for n in range(10):
                starts = a.created + timedelta(days=20 + 60 * n)
                due = starts + timedelta(days=14)
                state, done = "waiting", None
                if due < self.now - timedelta(days=3):
                    state, done = "done", due - timedelta(days=rng.uniform(0, 10))
                elif starts < self.now:
                    state = rng.choice(["open", "overdue", "blocked"])
                function = FUNCTIONS[n % len(FUNCTIONS)]
                yield dict(
                    account_id=a.id,
                    key=f"{a.id}:m{n}:0",
                    milestone_id=f"m{n}",
                    cycle=0,
                    function=function,
                    title=f"Milestone {n}",
                    owner=f"{function}@csflow.example",
                    map_version="bench",
                    state=state,
                    starts_at=starts,
                    due_at=due,
                    done_at=done,
                    workflow_id=f"process-map-{a.id}",
                    updated_at=done or starts,
                )


def _entry(
    a: Account,
    kind: str,
    summary: str,
    at: datetime,
    workflow_id: str | None,
    details: dict[str, Any] | None = None,
    step: str | None = None,
) -> Row:
    """A timeline entry of `a`."""
    return dict(
        account_id=a.id,
        kind=kind,
        summary=summary,
        occurred_at=at,
        workflow_id=workflow_id,
        step=step,
        details=json.dumps(details or {}),
    )


# In the order of their foreign keys. The tables the CRM appends to as time passes, by the
# column that says when: their rows go in in that order, so recent rows share pages as they do
# in a CRM that has been running.
TABLES: dict[str, str | None] = {
    "accounts": None,
    "contacts": None,
    "contracts": None,
    "csm_tasks": "created_at",
    "touchpoints": "occurred_at",
    "health_scores": "computed_at",
    "surveys": None,
    "survey_responses": None,
    "email_sends": "created_at",
    "handoffs": None,
}


def _copy(connection: Any, table: str, rows: Iterable[Row]) -> int:
    """COPY `rows` into `table`, the columns being the first row's keys."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return 0
    columns = list(first)
    count = 0
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in itertools.chain([first], iterator):
                copy.write_row([row[c] for c in columns])
                count += 1
    return count


def seeded(store: Store) -> bool:
    with store.engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM accounts")).scalar())


def seed(store: Store, now: datetime) -> dict[str, int]:
    """Every table's rows by COPY in one transaction, then ANALYZE; the row counts."""
    generator = Seed(now)
    counts: dict[str, int] = {}
    raw = store.engine.raw_connection()
    try:
        for table, when in TABLES.items():
            started = time.perf_counter()
            rows: Iterable[Row] = generator.rows(table)
            if when is not None:
                rows = sorted(rows, key=lambda row: row[when])  # noqa: B023 (used at once)
            counts[table] = _copy(raw.driver_connection, table, rows)
            say(f"seeded {table}: {counts[table]:,} rows in {time.perf_counter() - started:.1f} s")
        raw.commit()
    finally:
        raw.close()
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return counts


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Timing:
    case: str
    millis: list[float]

    @property
    def p50(self) -> float:
        return percentile(self.millis, 0.5)

    @property
    def p95(self) -> float:
        return percentile(self.millis, 0.95)


def timed(case: str, runs: int, call: Callable[[int], object]) -> Timing:
    """`call(i)` for i in 0..runs-1 after two warm-up calls; milliseconds per call."""
    call(runs)
    call(runs + 1)
    millis = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        millis.append((time.perf_counter() - started) * 1000)
    return _done(Timing(case, millis))


def _done(timing: Timing) -> Timing:
    say(f"{timing.case}: p50 {timing.p50:.1f} ms, p95 {timing.p95:.1f} ms")
    return timing


def query_cases(store: Store, runs: int, account_ids: list[str]) -> list[Timing]:
    def with_session(read: Callable[[Session, int], object]) -> Callable[[int], object]:
        def call(i: int) -> object:
            with Session(store.engine) as session:
                return read(session, i)

        return call

    def portfolio(query: PortfolioQuery, viewer: str | None = None) -> Callable[[int], object]:
        return with_session(
            lambda s, _: portfolio_page(s, query, now=datetime.now(UTC), visible_to=viewer)
        )

    at_risk = (HealthBand.AT_RISK, HealthBand.CRITICAL)
    cases: list[tuple[str, Callable[[int], object]]] = [
        ("portfolio: manager, by name", portfolio(PortfolioQuery())),
        (
            "portfolio: manager, by last touch",
            portfolio(PortfolioQuery(sort=PortfolioSort.LAST_TOUCH, descending=True)),
        ),
        (
            "portfolio: manager, by overdue, page 40",
            portfolio(PortfolioQuery(sort=PortfolioSort.OVERDUE_TASKS, descending=True, page=40)),
        ),
        (
            "portfolio: manager, at risk renewing in 90 days",
            portfolio(
                PortfolioQuery(bands=at_risk, renewing_within_days=90, sort=PortfolioSort.RENEWAL)
            ),
        ),
        (
            "portfolio: CSM, by health",
            portfolio(PortfolioQuery(sort=PortfolioSort.HEALTH), viewer=CSMS[0]),
        ),
        (
            "account 360",
            with_session(
                lambda s, i: account_360(
                    s, account_ids[i % len(account_ids)], now=datetime.now(UTC)
                )
            ),
        ),
        (
            "account 360, timeline page 3",
            with_session(
                lambda s, i: account_360(
                    s, account_ids[i % len(account_ids)], now=datetime.now(UTC), timeline_page=3
                )
            ),
        ),
        ("manager report", with_session(lambda s, _: manager_report(s, now=datetime.now(UTC)))),
    ]
    return [timed(f"query {name}", runs, call) for name, call in cases]


def report(timings: list[Timing], load_before: float) -> bool:
    width = max(len(t.case) for t in timings)
    print(f"{'case':<{width}}  {'runs':>5}  {'p50_ms':>8}  {'p95_ms':>8}")
    for t in timings:
        print(f"{t.case:<{width}}  {len(t.millis):>5}  {t.p50:>8.1f}  {t.p95:>8.1f}")
    slowest = max(timings, key=lambda t: t.p95)
    within = slowest.p95 <= BUDGET_MS
    print(f"slowest_p95_ms {slowest.p95:.1f}")
    print(f"slowest_case {slowest.case}")
    print(f"budget_ms {BUDGET_MS:.0f}")
    print(f"load_avg_1m_before {load_before:.2f}")
    print(f"within_budget {str(within).lower()}")
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reseed", action="store_true", help="drop and seed csflow_bench again")
    args = parser.parse_args()
    # DATABASE_URL when it names PostgreSQL (the settings' default is SQLite): the machine's.
    configured = Settings.from_env().database_url
    base = configured if configured.startswith("postgresql") else DEFAULT_URL
    load_before = os.getloadavg()[0]
    url = create_database(base, fresh=args.reseed)
    store = Store(url)
    try:
        if not seeded(store):
            started = time.perf_counter()
            seed(store, datetime.now(UTC).replace(microsecond=0))
            say(f"seeded in {time.perf_counter() - started:.0f} s")
        rng = random.Random(11)
        account_ids = [f"acct-{rng.randrange(ACCOUNTS):05d}" for _ in range(40)]
        timings = query_cases(store, args.runs, account_ids)
        timings += page_cases(url, args.runs, account_ids)
    finally:
        store.dispose()
    return 0 if report(timings, load_before) else 1


# --- the pages ------------------------------------------------------------------------------

PASSWORD = "bench console passphrase"
# Page paths as the console routes them, and what to ask each for.
PAGES = {
    "/console/accounts": [
        "",
        "?sort=last_touch&descending=true",
        "?bands=at_risk&bands=critical&renewing_within_days=90&sort=renewal",
    ],
    "/console/accounts/{account_id}": [""],
    "/console/report": [""],
    "/console/today": [""],
}


async def _signed_in(app: Any, email: str) -> httpx.AsyncClient:
    """A client that signed in through the console's own form (its CSRF token included)."""
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    form = await client.get("/console/sign-in")
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if found is None:
        raise RuntimeError(f"no sign-in form at /console/sign-in ({form.status_code})")
    answer = await client.post(
        "/console/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": found[1], "next": "/console"},
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"sign-in as {email} answered {answer.status_code}")
    return client


async def _pages(url: str, runs: int, account_ids: list[str]) -> list[Timing]:
    from starter.console.users import ConsoleRole, add_user
    from starter.http.app import create_app
    from starter.logging_setup import configure_logging

    store = database.configure(url)  # the store the console's routes read
    for email, role in ((MANAGER, ConsoleRole.MANAGER), (CSMS[0], ConsoleRole.CSM)):
        add_user(store, email, role, PASSWORD, replace=True)
    settings = Settings(database_url=url, console_secret=SecretStr("bench-console-" + "k" * 32))
    app = create_app(settings)
    configure_logging(settings, level="WARNING")  # no line per request on stderr
    own = [a for a in account_ids if int(a[5:]) % len(CSMS) == 0] or ["acct-00000"]
    timings: list[Timing] = []
    for viewer, accounts in ((MANAGER, account_ids), (CSMS[0], own)):
        who = "manager" if viewer == MANAGER else "CSM"
        client = await _signed_in(app, viewer)
        try:
            for path, variants in PAGES.items():
                if path == "/console/report" and viewer != MANAGER:
                    continue
                for variant in variants:
                    targets = [path.format(account_id=a) + variant for a in accounts]
                    if (await client.get(targets[0])).status_code == 404:
                        say(f"{path}: not served yet (404), not measured")
                        break
                    name = f"page {path}{variant} ({who})"
                    timings.append(await timed_async(name, runs, _getter(client, targets)))
        finally:
            await client.aclose()
    return timings


def _getter(client: httpx.AsyncClient, targets: list[str]) -> Callable[[int], Awaitable[None]]:
    async def get(i: int) -> None:
        target = targets[i % len(targets)]
        answer = await client.get(target)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {target} answered {answer.status_code}")

    return get


async def timed_async(case: str, runs: int, call: Callable[[int], Awaitable[None]]) -> Timing:
    await call(runs)
    await call(runs + 1)
    millis = []
    for i in range(runs):
        started = time.perf_counter()
        await call(i)
        millis.append((time.perf_counter() - started) * 1000)
    return _done(Timing(case, millis))


def page_cases(url: str, runs: int, account_ids: list[str]) -> list[Timing]:
    """The console's pages through the app (over ASGI), signed in as a manager and as a CSM;
    none while the app has no console."""
    if importlib.util.find_spec("starter.console.accounts") is None:
        say("starter/console has no pages yet: only the queries were measured")
        return []
    return asyncio.run(_pages(url, runs, account_ids))


if __name__ == "__main__":
    sys.exit(main())
