"""The account 360: everything the console's account page shows, read from the CRM alone.

- The journey as Gantt bars on one time axis, lane by lane:
  - Lifecycle: the stages, from the account's stage-change entries (the first one from when the
    account was created);
  - Onboarding: what the onboarding workflow did that the CRM records (the kickoff call, the
    training and live-session emails, the completion email);
  - one lane per function of the process map (the `handoffs` table), named as the map names it;
  - Playbooks: each playbook's first to last entry on the timeline, in progress while one of
    its tasks is open;
  - Escalations: from their tasks (opened, SLA missed), with the acknowledge-by and resolve-by
    deadlines as marks; resolved once the escalation closed its tasks as resolved or sent its
    follow-up survey;
  - Tasks: the other CSM tasks (the most recent ones);
  - Renewal: each contract's renewal window (the segment's lead time before its end date).
- The timeline: every entry (emails, surveys, customer events, notes...), newest first, a page.
- The health history of the last year and the explanation of the latest score.
- Contacts and contracts.

Each concern is one indexed query on the account's rows; nothing is asked of Temporal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session, col, func, select

from crm.health_history import explain
from crm.logged_touchpoints import UnknownAccount
from crm.tables import (
    AccountRow,
    ContactRow,
    ContractRow,
    CsmTaskRow,
    HandoffRow,
    HealthScoreRow,
    SurveyRow,
    TouchpointRow,
)
from domain.handoffs import HandoffState
from domain.health import band_for
from domain.health_config import health_config_for
from domain.models import (
    ESCALATION_RESOLVED,
    Account,
    Contact,
    ContractStatus,
    HealthBand,
    HealthExplanation,
    LifecycleStage,
    Segment,
    TaskStatus,
    TouchpointKind,
)
from domain.process_map import InvalidProcessMap, configured_map
from domain.segments import default_config
from domain.words import in_words

__all__ = ["UnknownAccount", "account_360"]

TIMELINE_PER_PAGE = 25
# The Gantt's time axis reaches this far back; the health chart shows this much history.
GANTT_HISTORY = timedelta(days=730)
HEALTH_HISTORY = timedelta(days=365)
# The most recent tasks on the Gantt (an old account has hundreds).
GANTT_TASKS = 30

LIFECYCLE, ONBOARDING, PLAYBOOKS, ESCALATIONS, TASKS, RENEWAL = (
    "Lifecycle",
    "Onboarding",
    "Playbooks",
    "Escalations",
    "Tasks",
    "Renewal",
)
# What the onboarding workflow (workflows/onboarding.py, id "onboarding-<account>") records,
# by the kind and step of its timeline entries.
_ONBOARDING_STEPS = {
    (TouchpointKind.MEETING.value, "kickoff"): "Kickoff call",
    (TouchpointKind.EMAIL.value, "training"): "Training material sent",
    (TouchpointKind.EMAIL.value, "webinar"): "Live session invitation sent",
    (TouchpointKind.EMAIL.value, "complete"): "Onboarding complete",
}
_CONTRACT_WORDS: dict[str, str] = {
    ContractStatus.ACTIVE: "Renewal window",
    ContractStatus.RENEWED: "Renewed",
    ContractStatus.AUTO_RENEWED: "Renewed automatically",
    ContractStatus.CHURNED: "Not renewed",
}

_STATUS_WORDS = {**_CONTRACT_WORDS, ContractStatus.ACTIVE.value: "Active"}


class BarState(StrEnum):
    """A bar's state; `starter.charts.gantt` draws each and has its words (STATE_WORDS)."""

    PLANNED = "planned"
    ACTIVE = "active"
    BLOCKED = "blocked"
    DONE = "done"
    OVERDUE = "overdue"
    SKIPPED = "skipped"


_HANDOFF_STATES = {
    HandoffState.WAITING.value: BarState.PLANNED,
    HandoffState.BLOCKED.value: BarState.BLOCKED,
    HandoffState.OPEN.value: BarState.ACTIVE,
    HandoffState.OVERDUE.value: BarState.OVERDUE,
    HandoffState.DONE.value: BarState.DONE,
    HandoffState.CANCELLED.value: BarState.SKIPPED,
}


class GanttMarker(BaseModel):
    """A moment on a bar: a deadline, a missed SLA."""

    label: str
    at: datetime


class GanttBar(BaseModel):
    """One row of the Gantt; `start == end` is a milestone."""

    lane: str
    label: str
    start: datetime
    end: datetime
    state: BarState
    markers: list[GanttMarker] = Field(default_factory=list)


class Gantt(BaseModel):
    start: datetime
    end: datetime
    today: datetime
    lanes: list[str] = Field(description="the lanes that have bars, in the order drawn")
    bars: list[GanttBar] = Field(description="lane by lane, each lane's bars by start")
    tasks_left_out: int = Field(description="older tasks not drawn")


class TimelineEntry(BaseModel):
    id: int
    kind: str
    summary: str
    occurred_at: datetime
    workflow_id: str | None = None
    by: str | None = Field(default=None, description="the person who logged or did it")


class TimelinePage(BaseModel):
    entries: list[TimelineEntry]
    page: int
    pages: int
    total: int
    per_page: int


class HealthReading(BaseModel):
    computed_at: datetime
    score: int
    band: HealthBand


class ContractTerm(BaseModel):
    start_date: date
    end_date: date
    value: float
    auto_renew: bool
    status: ContractStatus
    outcome_reason: str | None = None

    @property
    def status_words(self) -> str:
        return _STATUS_WORDS[self.status]


class Account360(BaseModel):
    account: Account
    health_band: HealthBand | None
    contacts: list[Contact]
    contract: ContractTerm | None = Field(description="the active contract, else the latest")
    contracts: list[ContractTerm] = Field(description="newest first")
    open_tasks: int
    overdue_tasks: int
    gantt: Gantt
    timeline: TimelinePage
    health_history: list[HealthReading] = Field(description="the last year's, oldest first")
    health: HealthExplanation | None = Field(description="why the latest score is what it is")
    as_of: datetime


# --- the Gantt's lanes -------------------------------------------------------------------------


def _stage_bars(session: Session, account: AccountRow, now: datetime) -> list[GanttBar]:
    changes = session.exec(
        select(TouchpointRow)
        .where(
            TouchpointRow.account_id == account.id,
            TouchpointRow.kind == TouchpointKind.STAGE_CHANGE.value,
        )
        .order_by(col(TouchpointRow.occurred_at), col(TouchpointRow.id))
    ).all()
    stage = account.lifecycle_stage
    if changes:
        stage = str(changes[0].details.get("from") or stage)
    since = account.created_at
    bars: list[GanttBar] = []
    for change in changes:
        bars.append(_bar(LIFECYCLE, in_words(stage), since, change.occurred_at))
        stage, since = str(change.details.get("to") or stage), change.occurred_at
    last = in_words(stage)
    if stage == LifecycleStage.CHURNED.value:
        bars.append(
            GanttBar(lane=LIFECYCLE, label=last, start=since, end=since, state=BarState.DONE)
        )
    else:
        bars.append(
            GanttBar(lane=LIFECYCLE, label=last, start=since, end=now, state=BarState.ACTIVE)
        )
    return bars


def _bar(lane: str, label: str, start: datetime, end: datetime) -> GanttBar:
    return GanttBar(lane=lane, label=label, start=start, end=max(start, end), state=BarState.DONE)


def _onboarding_bars(session: Session, account_id: str, now: datetime) -> list[GanttBar]:
    entries = session.exec(
        select(TouchpointRow)
        .where(
            TouchpointRow.account_id == account_id,
            TouchpointRow.workflow_id == f"onboarding-{account_id}",
        )
        .order_by(col(TouchpointRow.occurred_at))
    ).all()
    bars: list[GanttBar] = []
    for entry in entries:
        label = _ONBOARDING_STEPS.get((entry.kind, entry.step or ""))
        if label is not None:
            state = BarState.DONE if entry.occurred_at <= now else BarState.PLANNED
            at = entry.occurred_at
            bars.append(GanttBar(lane=ONBOARDING, label=label, start=at, end=at, state=state))
    return bars


def _function_names() -> dict[str, str]:
    """The configured map's function names, in its order, by id and by name: the workflow
    records the name ("Customer Success"), a row may carry the id ("customer_success")."""
    try:
        functions = configured_map().functions
    except InvalidProcessMap:
        return {}
    return {**{f.name: f.name for f in functions}, **{f.id: f.name for f in functions}}


def _handoff_bars(session: Session, account_id: str, now: datetime) -> list[GanttBar]:
    rows = session.exec(
        select(HandoffRow)
        .where(HandoffRow.account_id == account_id)
        .order_by(col(HandoffRow.due_at), col(HandoffRow.id))
    ).all()
    names = _function_names()
    lanes = list(dict.fromkeys(names.values()))
    bars: list[tuple[int, GanttBar]] = []
    for row in rows:
        start = row.starts_at or row.opened_at or row.due_at or row.updated_at
        state = _HANDOFF_STATES.get(row.state, BarState.ACTIVE)
        if state == BarState.DONE and row.done_at is not None:
            end = row.done_at
        elif state == BarState.OVERDUE:
            end = now
        else:
            end = row.due_at or start
        markers = [] if row.due_at is None else [GanttMarker(label="Due", at=row.due_at)]
        label = row.title if row.cycle == 0 else f"{row.title}, cycle {row.cycle + 1}"
        lane = names.get(row.function) or in_words(row.function)
        rank = lanes.index(lane) if lane in lanes else len(lanes)
        bar = GanttBar(
            lane=lane,
            label=label,
            start=start,
            end=max(start, end),
            state=state,
            markers=markers,
        )
        bars.append((rank, bar))
    # Lanes in the map's order of functions; within a lane, by due date (the query's order).
    return [bar for _, bar in sorted(bars, key=lambda pair: pair[0])]


def _workflow_spans(
    session: Session, account_id: str, prefix: str
) -> dict[str, tuple[datetime, datetime]]:
    """First and last timeline entry of each workflow of the account whose id starts so."""
    spans = session.exec(
        select(
            TouchpointRow.workflow_id,
            func.min(TouchpointRow.occurred_at),
            func.max(TouchpointRow.occurred_at),
        )
        .where(
            TouchpointRow.account_id == account_id,
            col(TouchpointRow.workflow_id).startswith(prefix),
        )
        .group_by(col(TouchpointRow.workflow_id))
    ).all()
    return {workflow_id: (first, last) for workflow_id, first, last in spans if workflow_id}


@cache
def _playbook_titles() -> dict[str, str]:
    # Imported here: the registry brings the playbook workflows, which crm needs only for names.
    from workflows.playbooks.registry import PLAYBOOKS

    return {spec.name: spec.title for spec in PLAYBOOKS}


def playbook_title(workflow_id: str, account_id: str) -> str:
    """A playbook's title from its workflow id ("playbook-<name>-<account>-<situation>")."""
    name = workflow_id.removeprefix("playbook-").split(f"-{account_id}-", 1)[0]
    return _playbook_titles().get(name) or in_words(name)


def _playbook_bars(
    session: Session, account_id: str, tasks: Sequence[CsmTaskRow], now: datetime
) -> list[GanttBar]:
    open_work: dict[str, datetime] = {}
    for task in tasks:
        if task.workflow_id and task.status == TaskStatus.OPEN.value:
            open_work[task.workflow_id] = max(now, task.due_at or now)
    bars = []
    for workflow_id, (first, last) in _workflow_spans(session, account_id, "playbook-").items():
        label = playbook_title(workflow_id, account_id)
        if workflow_id in open_work:
            end, state = open_work[workflow_id], BarState.ACTIVE
        else:
            end, state = last, BarState.DONE
        bars.append(GanttBar(lane=PLAYBOOKS, label=label, start=first, end=end, state=state))
    return sorted(bars, key=lambda b: b.start)


def _escalation_label(title: str) -> str:
    # "Escalation opened (high): NPS detractor: scored 3" -> "NPS detractor: scored 3"
    if title.startswith("Escalation opened") and "): " in title:
        return title.split("): ", 1)[1]
    return title


def _escalation_bars(
    session: Session, account: AccountRow, tasks: Sequence[CsmTaskRow], now: datetime
) -> list[GanttBar]:
    groups: dict[str, list[CsmTaskRow]] = {}
    for task in tasks:
        if task.workflow_id and task.workflow_id.startswith("escalation-"):
            groups.setdefault(task.workflow_id, []).append(task)
    if not groups:
        return []
    surveyed = dict(
        session.exec(
            select(SurveyRow.workflow_id, func.min(SurveyRow.created_at))
            .where(
                SurveyRow.account_id == account.id,
                col(SurveyRow.workflow_id).in_(list(groups)),
            )
            .group_by(col(SurveyRow.workflow_id))
        ).all()
    )
    resolve_within = default_config(Segment(account.segment)).escalation.resolve_within
    bars = []
    for workflow_id, members in groups.items():
        opened = next(
            (t for t in members if t.idempotency_key == f"{workflow_id}:opened:task"),
            min(members, key=lambda t: t.created_at),
        )
        start = opened.created_at
        resolve_by = start + resolve_within
        markers = (
            [] if opened.due_at is None else [GanttMarker(label="Acknowledge by", at=opened.due_at)]
        )
        markers.append(GanttMarker(label="Resolve by", at=resolve_by))
        markers += [
            GanttMarker(label="SLA missed", at=t.created_at)
            for t in members
            if (t.idempotency_key or "").startswith(f"{workflow_id}:sla:")
        ]
        evidence = [
            t.completed_at
            for t in members
            if t.outcome == ESCALATION_RESOLVED and t.completed_at is not None
        ]
        if workflow_id in surveyed:
            evidence.append(surveyed[workflow_id])
        if evidence:
            end, state = min(evidence), BarState.DONE
        else:
            end, state = now, BarState.OVERDUE if now > resolve_by else BarState.ACTIVE
        bars.append(
            GanttBar(
                lane=ESCALATIONS,
                label=_escalation_label(opened.title),
                start=start,
                end=max(start, end),
                state=state,
                markers=markers,
            )
        )
    return sorted(bars, key=lambda b: b.start)


def _task_bar(task: CsmTaskRow, now: datetime) -> GanttBar:
    start, due = task.created_at, task.due_at
    markers = [] if due is None else [GanttMarker(label="Due", at=due)]
    if task.status == TaskStatus.DONE.value:
        end, state = task.completed_at or start, BarState.DONE
    elif task.status == TaskStatus.CANCELLED.value:
        end, state = task.completed_at or start, BarState.SKIPPED
    elif due is not None and due < now:
        end, state = now, BarState.OVERDUE
    else:
        end, state = due or now, BarState.ACTIVE
    return GanttBar(
        lane=TASKS, label=task.title, start=start, end=max(start, end), state=state, markers=markers
    )


def _at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _renewal_bars(
    contracts: Sequence[ContractRow], segment: Segment, now: datetime
) -> list[GanttBar]:
    lead_time = default_config(segment).renewal.lead_time
    bars = []
    for contract in sorted(contracts, key=lambda c: c.end_date):
        ends = _at_midnight(contract.end_date)
        opens = max(ends - lead_time, _at_midnight(contract.start_date))
        status = ContractStatus(contract.status)
        marker = GanttMarker(label="Contract ends", at=ends)
        if status != ContractStatus.ACTIVE:
            closed = contract.closed_at or ends
            state, end = BarState.DONE, closed
        elif now < opens:
            state, end = BarState.PLANNED, ends
        else:
            state, end = (BarState.OVERDUE if now > ends else BarState.ACTIVE), max(ends, now)
        bars.append(
            GanttBar(
                lane=RENEWAL,
                label=_CONTRACT_WORDS[status],
                start=opens,
                end=max(opens, end),
                state=state,
                markers=[marker],
            )
        )
    return bars


def _gantt(lanes: Iterable[list[GanttBar]], now: datetime, tasks_left_out: int) -> Gantt:
    earliest = now - GANTT_HISTORY
    bars = [b for lane in lanes for b in lane if b.end >= earliest]
    start = max(min((b.start for b in bars), default=now), earliest)
    end = max(
        [now + timedelta(days=30), *(b.end for b in bars), *(m.at for b in bars for m in b.markers)]
    )
    names: list[str] = []
    for bar in bars:
        if bar.lane not in names:
            names.append(bar.lane)
    return Gantt(
        start=start, end=end, today=now, lanes=names, bars=bars, tasks_left_out=tasks_left_out
    )


# --- the rest of the page ---------------------------------------------------------------------


def _timeline(session: Session, account_id: str, page: int) -> TimelinePage:
    total = session.exec(
        select(func.count())
        .select_from(TouchpointRow)
        .where(TouchpointRow.account_id == account_id)
    ).one()
    pages = max(1, -(-total // TIMELINE_PER_PAGE))
    page = min(max(page, 1), pages)
    rows = session.exec(
        select(TouchpointRow)
        .where(TouchpointRow.account_id == account_id)
        .order_by(col(TouchpointRow.occurred_at).desc(), col(TouchpointRow.id).desc())
        .offset((page - 1) * TIMELINE_PER_PAGE)
        .limit(TIMELINE_PER_PAGE)
    ).all()
    entries = [
        TimelineEntry(
            id=row.id or 0,
            kind=row.kind,
            summary=row.summary,
            occurred_at=row.occurred_at,
            workflow_id=row.workflow_id,
            by=_by(row.details),
        )
        for row in rows
    ]
    return TimelinePage(
        entries=entries, page=page, pages=pages, total=total, per_page=TIMELINE_PER_PAGE
    )


def _by(details: dict[str, Any]) -> str | None:
    who = details.get("logged_by") or details.get("by")
    return who if isinstance(who, str) else None


def _health_history(session: Session, account: AccountRow, now: datetime) -> list[HealthReading]:
    rows = session.exec(
        select(HealthScoreRow.computed_at, HealthScoreRow.score, HealthScoreRow.band)
        .where(
            HealthScoreRow.account_id == account.id,
            col(HealthScoreRow.computed_at) >= now - HEALTH_HISTORY,
        )
        .order_by(col(HealthScoreRow.computed_at), col(HealthScoreRow.id))
    ).all()
    return [
        HealthReading(computed_at=at, score=score, band=HealthBand(band))
        for at, score, band in rows
    ]


def _term(row: ContractRow) -> ContractTerm:
    return ContractTerm(
        start_date=row.start_date,
        end_date=row.end_date,
        value=row.value,
        auto_renew=row.auto_renew,
        status=ContractStatus(row.status),
        outcome_reason=row.outcome_reason,
    )


def account_360(
    session: Session, account_id: str, *, now: datetime, timeline_page: int = 1
) -> Account360:
    """Everything the account page shows about `account_id` at `now`, with page
    `timeline_page` of its timeline (the last page when asked past it); `UnknownAccount`
    when there is no such account."""
    account = session.get(AccountRow, account_id)
    if account is None:
        raise UnknownAccount(account_id)
    segment = Segment(account.segment)
    contacts = session.exec(
        select(ContactRow).where(ContactRow.account_id == account_id).order_by(col(ContactRow.name))
    ).all()
    contracts = session.exec(
        select(ContractRow)
        .where(ContractRow.account_id == account_id)
        .order_by(col(ContractRow.end_date).desc(), col(ContractRow.id).desc())
    ).all()
    tasks = session.exec(
        select(CsmTaskRow)
        .where(CsmTaskRow.account_id == account_id)
        .order_by(col(CsmTaskRow.created_at).desc(), col(CsmTaskRow.id).desc())
    ).all()
    plain_tasks = [t for t in tasks if not (t.workflow_id or "").startswith("escalation-")]
    shown_tasks = sorted(plain_tasks[:GANTT_TASKS], key=lambda t: t.created_at)
    gantt = _gantt(
        [
            _stage_bars(session, account, now),
            _onboarding_bars(session, account_id, now),
            _handoff_bars(session, account_id, now),
            _playbook_bars(session, account_id, tasks, now),
            _escalation_bars(session, account, tasks, now),
            [_task_bar(t, now) for t in shown_tasks],
            _renewal_bars(contracts, segment, now),
        ],
        now,
        tasks_left_out=len(plain_tasks) - len(shown_tasks),
    )
    open_tasks = [t for t in tasks if t.status == TaskStatus.OPEN.value]
    active = [c for c in contracts if c.status == ContractStatus.ACTIVE.value]
    current = active[0] if active else (contracts[0] if contracts else None)
    score = account.health_score
    return Account360(
        account=account.to_model(),
        health_band=None if score is None else band_for(score, health_config_for(segment)),
        contacts=[c.to_model() for c in contacts],
        contract=_term(current) if current is not None else None,
        contracts=[_term(c) for c in contracts],
        open_tasks=len(open_tasks),
        overdue_tasks=sum(1 for t in open_tasks if t.due_at is not None and t.due_at < now),
        gantt=gantt,
        timeline=_timeline(session, account_id, timeline_page),
        health_history=_health_history(session, account, now),
        health=explain(session, account),
        as_of=now,
    )
