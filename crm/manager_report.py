"""The managers' report: how the customers feel, how onboarding and renewals go, whether
escalations keep their SLAs, whether CSMs do what they plan, and how much email each contact gets.

Where each figure comes from (all over the twelve calendar months up to `now`, unless said):
- NPS and CSAT: survey answers (`survey_responses` of `surveys`), by the month answered; NPS is
  the share of promoters (9-10) minus the share of detractors (0-6), CSAT the average 1-5 answer
  and the share of satisfied (4-5) answers;
- onboarding: accounts whose first move into onboarding (a stage-change entry) falls in the
  period; completed when the onboarding workflow asked for its completion email (it does once
  the customer reached every milestone); time to value is from the start of onboarding to then;
- renewals: active contracts ending in the next 90 and 180 days, by likely outcome (the
  account's health band, and whether the contract renews by itself), with the accounts' ARR;
- SLA breaches: the escalation workflow's tasks: one per escalation opened, one per SLA missed
  that moved it up the chain (a miss at the top of the chain has no task and is not counted);
- tasks planned vs done, per task owner over the last 30 days: due in the window against
  completed in it, and those open past their due time;
- email fatigue: emails delivered to each contact per week (Monday to Sunday, the last eight
  weeks), internal mail (alerts, handoffs) left out, against the contact policy's weekly cap.

Each figure is one aggregate query; nothing is counted row by row in Python.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, case, distinct, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from crm.portfolio import band_expression, renewals
from crm.tables import (
    AccountRow,
    CsmTaskRow,
    EmailSendRow,
    SurveyResponseRow,
    SurveyRow,
    TouchpointRow,
)
from domain.contact_policy import ContactPolicy
from domain.models import (
    EmailStatus,
    HealthBand,
    LifecycleStage,
    SurveyKind,
    TaskStatus,
    TouchpointKind,
)
from domain.survey_scoring import SCORE_RANGES

MONTHS = 12
TASK_WINDOW = timedelta(days=30)
FATIGUE_WEEKS = 8
RENEWAL_WINDOWS = (90, 180)
_DELIVERED = (EmailStatus.SENT.value, EmailStatus.OUTBOXED.value)
# Escalation tasks by idempotency key: "<escalation id>:<step>:task" (workflows/escalation.py).
_ESCALATION_STEPS = {
    "opened": "%:opened:task",
    "acknowledge": "%:sla:acknowledge%",
    "update": "%:sla:update%",
    "resolve": "%:sla:resolve%",
}
_SLA_WORDS: dict[str, str] = {
    "acknowledge": "Acknowledgement late",
    "update": "Update late",
    "resolve": "Resolution late",
}


class RenewalOutlook(StrEnum):
    LIKELY = "likely"
    AUTOMATIC = "automatic"
    AT_RISK = "at_risk"
    LIKELY_CHURN = "likely_churn"
    UNSCORED = "unscored"


_OUTLOOK_WORDS: dict[str, str] = {
    RenewalOutlook.LIKELY: "Likely to renew",
    RenewalOutlook.AUTOMATIC: "Renews automatically",
    RenewalOutlook.AT_RISK: "At risk",
    RenewalOutlook.LIKELY_CHURN: "Likely to churn",
    RenewalOutlook.UNSCORED: "Not scored yet",
}


class Month(BaseModel):
    month: date = Field(description="the month's first day")

    @property
    def label(self) -> str:
        return f"{self.month:%b %Y}"


class SurveyMonth(Month):
    """The answers of one kind of survey in one calendar month."""

    answers: int
    # NPS: promoters, passives, detractors; CSAT: satisfied, neutral, dissatisfied.
    good: int
    middle: int
    bad: int
    average: float | None

    @property
    def nps(self) -> float | None:
        """Promoters' share minus detractors' share, in points (-100..100)."""
        return 100 * (self.good - self.bad) / self.answers if self.answers else None

    @property
    def satisfied_share(self) -> float | None:
        return self.good / self.answers if self.answers else None


class ScoreCount(BaseModel):
    score: int
    answers: int


class SurveyFigures(BaseModel):
    """One kind of survey over the period: by month, and its answers by score."""

    kind: SurveyKind
    months: list[SurveyMonth]
    scores: list[ScoreCount] = Field(description="every score of the scale, with its count")

    @property
    def total(self) -> SurveyMonth:
        """The whole period as one."""
        answers = sum(m.answers for m in self.months)
        points = sum(s.score * s.answers for s in self.scores)
        return SurveyMonth(
            month=self.months[0].month,
            answers=answers,
            good=sum(m.good for m in self.months),
            middle=sum(m.middle for m in self.months),
            bad=sum(m.bad for m in self.months),
            average=points / answers if answers else None,
        )


class OnboardingFigures(BaseModel):
    since: datetime
    started: int
    completed: int
    moved_on_incomplete: int = Field(
        description="moved on to adoption without reaching every milestone"
    )
    in_progress: int
    median_days_to_value: float | None

    @property
    def completion_rate(self) -> float | None:
        """Completed, of the onboardings that have ended."""
        ended = self.completed + self.moved_on_incomplete
        return self.completed / ended if ended else None


class RenewalGroup(BaseModel):
    outlook: RenewalOutlook
    accounts: int
    arr: float

    @property
    def outlook_words(self) -> str:
        return _OUTLOOK_WORDS[self.outlook]


class RenewalWindow(BaseModel):
    within_days: int
    groups: list[RenewalGroup] = Field(description="every outlook, most hopeful first")

    @property
    def accounts(self) -> int:
        return sum(g.accounts for g in self.groups)

    @property
    def arr(self) -> float:
        return sum(g.arr for g in self.groups)


class SlaMonth(Month):
    opened: int
    breaches: int


class SlaBreaches(BaseModel):
    sla: str
    count: int

    @property
    def sla_words(self) -> str:
        return _SLA_WORDS.get(self.sla, self.sla)


class SlaFigures(BaseModel):
    since: datetime
    opened: int
    breached: int = Field(description="escalations that missed at least one SLA")
    by_sla: list[SlaBreaches]
    months: list[SlaMonth]


class CsmTasks(BaseModel):
    csm: str
    planned: int = Field(description="tasks due in the window")
    done: int = Field(description="tasks completed in the window")
    planned_done: int = Field(description="of the planned, those completed")
    overdue: int = Field(description="open tasks past their due time (any due date)")


class FatigueWeek(BaseModel):
    week_start: date
    contacts: int
    emails: int
    most_to_one_contact: int
    contacts_over_cap: int

    @property
    def per_contact(self) -> float | None:
        return self.emails / self.contacts if self.contacts else None

    @property
    def label(self) -> str:
        return f"{self.week_start:%d %b}".lstrip("0")


class ManagerReport(BaseModel):
    as_of: datetime
    since: datetime = Field(description="the start of the twelve months reported")
    nps: SurveyFigures
    csat: SurveyFigures
    onboarding: OnboardingFigures
    renewals: list[RenewalWindow]
    sla: SlaFigures
    tasks_since: datetime
    tasks_by_csm: list[CsmTasks]
    email_weeks: list[FatigueWeek]
    email_cap: int = Field(description="the contact policy's most emails per contact a week")


# --- periods --------------------------------------------------------------------------------


def _month_edges(now: datetime) -> list[datetime]:
    """The first instants of the last `MONTHS` calendar months (this one last), then `now`."""
    index = now.year * 12 + now.month - 1 - (MONTHS - 1)
    edges = []
    for i in range(MONTHS):
        year, month = divmod(index + i, 12)
        edges.append(datetime(year, month + 1, 1, tzinfo=UTC))
    return [*edges, now]


def _week_edges(now: datetime) -> list[datetime]:
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), time(0), tzinfo=UTC)
    first = monday - timedelta(weeks=FATIGUE_WEEKS - 1)
    return [first + timedelta(weeks=i) for i in range(FATIGUE_WEEKS)] + [now]


def _bucket(column: Any, edges: Sequence[datetime]) -> ColumnElement[Any]:
    """The index of the period `column` falls in (edges[i] <= column < edges[i+1]); portable,
    unlike date_trunc/strftime, and exact in UTC whatever the session's time zone."""
    return case(*[(column < edge, i) for i, edge in enumerate(edges[1:-1])], else_=len(edges) - 2)


def _within(column: Any, edges: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(column >= edges[0], column < edges[-1])


# --- figures --------------------------------------------------------------------------------


def _surveys(session: Session, edges: list[datetime]) -> dict[SurveyKind, SurveyFigures]:
    answered = col(SurveyResponseRow.responded_at)
    month = _bucket(answered, edges)
    counts = (
        select(SurveyRow.kind, month, SurveyResponseRow.score, func.count())
        .join(SurveyRow, col(SurveyRow.id) == col(SurveyResponseRow.survey_id))
        .where(_within(answered, edges))
        .group_by(col(SurveyRow.kind), month, col(SurveyResponseRow.score))
    )
    found: dict[tuple[str, int, int], int] = {
        (kind, index, score): n for kind, index, score, n in session.exec(counts).all()
    }
    figures = {}
    for kind in (SurveyKind.NPS, SurveyKind.CSAT):
        low, high = SCORE_RANGES[kind]
        good_from, bad_to = (9, 6) if kind == SurveyKind.NPS else (4, 2)
        months = []
        for index, start in enumerate(edges[:-1]):
            by_score = {s: found.get((kind.value, index, s), 0) for s in range(low, high + 1)}
            answers = sum(by_score.values())
            months.append(
                SurveyMonth(
                    month=start.date(),
                    answers=answers,
                    good=sum(n for s, n in by_score.items() if s >= good_from),
                    bad=sum(n for s, n in by_score.items() if s <= bad_to),
                    middle=sum(n for s, n in by_score.items() if bad_to < s < good_from),
                    average=sum(s * n for s, n in by_score.items()) / answers if answers else None,
                )
            )
        scores = [
            ScoreCount(
                score=s, answers=sum(found.get((kind.value, i, s), 0) for i in range(MONTHS))
            )
            for s in range(low, high + 1)
        ]
        figures[kind] = SurveyFigures(kind=kind, months=months, scores=scores)
    return figures


def _onboarding(session: Session, since: datetime) -> OnboardingFigures:
    changed = col(TouchpointRow.occurred_at)
    to_stage = TouchpointRow.details["to"].as_string()  # type: ignore[index]
    from_stage = TouchpointRow.details["from"].as_string()  # type: ignore[index]
    onboarding = LifecycleStage.ONBOARDING.value
    started_at = func.min(case((to_stage == onboarding, changed)))
    stages = (
        select(
            col(TouchpointRow.account_id).label("account_id"),
            started_at.label("started_at"),
            func.min(case((from_stage == onboarding, changed))).label("left_at"),
        )
        # Moves into onboarding in the period, and out of it after (an onboarding that began
        # before the period is not one of its onboardings).
        .where(TouchpointRow.kind == TouchpointKind.STAGE_CHANGE.value, changed >= since)
        .group_by(col(TouchpointRow.account_id))
        .having(started_at.is_not(None))
        .subquery("onboardings")
    )
    # The completion email's idempotency key (workflows.idempotency.step_key of the onboarding
    # workflow, "onboarding-<account>", and its step): one unique-index lookup per onboarding.
    key = "onboarding-" + stages.c.account_id + ":complete"
    completed_at = (
        select(EmailSendRow.created_at)
        .where(col(EmailSendRow.idempotency_key) == key)
        .scalar_subquery()
    )
    rows = session.exec(select(stages.c.started_at, stages.c.left_at, completed_at)).all()
    days = [(done - start).total_seconds() / 86400 for start, _, done in rows if done is not None]
    return OnboardingFigures(
        since=since,
        started=len(rows),
        completed=len(days),
        moved_on_incomplete=sum(1 for _, left, done in rows if left is not None and done is None),
        in_progress=sum(1 for _, left, done in rows if left is None and done is None),
        median_days_to_value=round(statistics.median(days), 1) if days else None,
    )


def _outlook(band: ColumnElement[Any], auto_renew: ColumnElement[Any]) -> ColumnElement[Any]:
    return case(
        (band == HealthBand.CRITICAL.value, RenewalOutlook.LIKELY_CHURN.value),
        (band == HealthBand.AT_RISK.value, RenewalOutlook.AT_RISK.value),
        (auto_renew == 1, RenewalOutlook.AUTOMATIC.value),
        (band == HealthBand.HEALTHY.value, RenewalOutlook.LIKELY.value),
        else_=RenewalOutlook.UNSCORED.value,
    )


def _renewals(session: Session, today: date) -> list[RenewalWindow]:
    renewal = renewals()
    ends = renewal.c.renews_on
    shortest, *_ = RENEWAL_WINDOWS
    window = case((ends <= today + timedelta(days=shortest), shortest), else_=RENEWAL_WINDOWS[-1])
    outlook = _outlook(band_expression(), renewal.c.auto_renew)
    found = session.exec(
        select(window, outlook, func.count(), func.sum(AccountRow.arr))
        .join(renewal, renewal.c.account_id == col(AccountRow.id))
        .where(
            ends >= today,
            ends <= today + timedelta(days=RENEWAL_WINDOWS[-1]),
            AccountRow.lifecycle_stage != LifecycleStage.CHURNED.value,
        )
        .group_by(window, outlook)
    ).all()
    windows = []
    for days in RENEWAL_WINDOWS:
        groups = []
        for kind in RenewalOutlook:
            hits = [(n, arr) for w, o, n, arr in found if o == kind.value and w <= days]
            groups.append(
                RenewalGroup(
                    outlook=kind,
                    accounts=sum(n for n, _ in hits),
                    arr=float(sum(arr or 0 for _, arr in hits)),
                )
            )
        windows.append(RenewalWindow(within_days=days, groups=groups))
    return windows


def _sla(session: Session, edges: list[datetime]) -> SlaFigures:
    key = col(CsmTaskRow.idempotency_key)
    step = case(*[(key.like(p), name) for name, p in _ESCALATION_STEPS.items()], else_="other")
    created = col(CsmTaskRow.created_at)
    month = _bucket(created, edges)
    escalation_tasks = and_(
        col(CsmTaskRow.workflow_id).startswith("escalation-"), _within(created, edges)
    )
    found = session.exec(
        select(month, step, func.count()).where(escalation_tasks).group_by(month, step)
    ).all()
    breached = session.exec(
        select(func.count(distinct(col(CsmTaskRow.workflow_id)))).where(
            escalation_tasks, key.like("%:sla:%")
        )
    ).one()
    slas = [s for s in _ESCALATION_STEPS if s != "opened"]
    return SlaFigures(
        since=edges[0],
        opened=sum(n for _, s, n in found if s == "opened"),
        breached=breached,
        by_sla=[SlaBreaches(sla=s, count=sum(n for _, t, n in found if t == s)) for s in slas],
        months=[
            SlaMonth(
                month=start.date(),
                opened=sum(n for m, s, n in found if m == i and s == "opened"),
                breaches=sum(n for m, s, n in found if m == i and s in slas),
            )
            for i, start in enumerate(edges[:-1])
        ],
    )


def _tasks(session: Session, now: datetime) -> list[CsmTasks]:
    since = now - TASK_WINDOW
    due, completed, status = (
        col(CsmTaskRow.due_at),
        col(CsmTaskRow.completed_at),
        col(CsmTaskRow.status),
    )
    planned = and_(due >= since, due < now)
    done = and_(status == TaskStatus.DONE.value, completed >= since, completed < now)
    overdue = and_(status == TaskStatus.OPEN.value, due < now)
    rows: Sequence[Any] = session.exec(
        Select(
            col(CsmTaskRow.owner),
            func.count(case((planned, 1))),
            func.count(case((done, 1))),
            func.count(case((and_(planned, status == TaskStatus.DONE.value), 1))),
            func.count(case((overdue, 1))),
        )
        .where(or_(planned, done, overdue))
        .group_by(col(CsmTaskRow.owner))
        .order_by(col(CsmTaskRow.owner))
    ).all()
    return [
        CsmTasks(csm=owner, planned=p, done=d, planned_done=pd, overdue=o)
        for owner, p, d, pd, o in rows
    ]


def _email_weeks(session: Session, now: datetime, policy: ContactPolicy) -> list[FatigueWeek]:
    edges = _week_edges(now)
    sent = col(EmailSendRow.sent_at)
    week = _bucket(sent, edges)
    per_contact = (
        select(week.label("week"), func.count().label("emails"))
        .where(
            col(EmailSendRow.status).in_(_DELIVERED),
            col(EmailSendRow.category).not_in(sorted(policy.exempt_categories)),
            col(EmailSendRow.contact_id).is_not(None),
            _within(sent, edges),
        )
        .group_by(week, col(EmailSendRow.contact_id))
        .subquery("per_contact")
    )
    emails = per_contact.c.emails
    weeks: Sequence[Any] = session.exec(
        Select(
            per_contact.c.week,
            func.count(),
            func.sum(emails),
            func.max(emails),
            func.count(case((emails > policy.max_emails, 1))),
        ).group_by(per_contact.c.week)
    ).all()
    found = {index: figures for index, *figures in weeks}
    result = []
    for i, start in enumerate(edges[:-1]):
        contacts, sent, most, over = found.get(i, (0, 0, 0, 0))
        result.append(
            FatigueWeek(
                week_start=start.date(),
                contacts=contacts,
                emails=sent,
                most_to_one_contact=most,
                contacts_over_cap=over,
            )
        )
    return result


def manager_report(session: Session, *, now: datetime) -> ManagerReport:
    """The report's figures as of `now`."""
    now = now.astimezone(UTC)
    edges = _month_edges(now)
    surveys = _surveys(session, edges)
    # The default contact policy: segments do not change it (domain.segments).
    policy = ContactPolicy()
    return ManagerReport(
        as_of=now,
        since=edges[0],
        nps=surveys[SurveyKind.NPS],
        csat=surveys[SurveyKind.CSAT],
        onboarding=_onboarding(session, edges[0]),
        renewals=_renewals(session, now.date()),
        sla=_sla(session, edges),
        tasks_since=now - TASK_WINDOW,
        tasks_by_csm=_tasks(session, now),
        email_weeks=_email_weeks(session, now, policy),
        email_cap=policy.max_emails,
    )
