"""The portfolio: a page of accounts with what a CSM scans them for (ARR, health and its trend,
lifecycle stage, next renewal, open and overdue tasks, last touch), filtered, sorted and paged,
with the total ARR and the ARR at risk of everything the filters select.

Where each figure comes from:
- health: the account's latest score (`accounts.health_score`), its band by the account tier's
  cut-offs (`domain.health_config`, as when it was scored); the trend is the last scores kept in
  `health_scores`;
- next renewal: the end date of the account's active contract;
- open / overdue tasks: its open CSM tasks, and those of them past their due time;
- last touch: its latest timeline entry that is contact with the customer (emails, calls,
  meetings, notes, survey answers, the requirements questionnaire), not bookkeeping such as
  health scores or task changes.

Every figure is aggregated in the database: one query for the totals, one for the page's rows,
one each for their trends and last touches, one for the CSMs to filter by, whatever the
portfolio's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Subquery, and_, case, func, null
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from crm.tables import AccountRow, ContractRow, CsmTaskRow, HealthScoreRow, TouchpointRow
from domain.health import AT_RISK_FROM, HEALTHY_FROM
from domain.health_config import HEALTH_CONFIG
from domain.models import (
    ContractStatus,
    HealthBand,
    LifecycleStage,
    Segment,
    TaskStatus,
    TouchpointKind,
)

# The bands whose ARR is "at risk": every band below healthy.
RISK_BANDS = (HealthBand.AT_RISK, HealthBand.CRITICAL)
# Readings in a row's health trend (its sparkline), oldest first.
TREND_POINTS = 12
# Timeline entries that are contact with the customer, for "last touch".
TOUCH_KINDS = (
    TouchpointKind.EMAIL,
    TouchpointKind.CALL,
    TouchpointKind.MEETING,
    TouchpointKind.NOTE,
    TouchpointKind.SURVEY_RESPONSE,
    TouchpointKind.REQUIREMENTS,
)
# Stages sort in the order an account lives through them, not alphabetically.
_STAGE_ORDER = {stage.value: rank for rank, stage in enumerate(LifecycleStage)}


class PortfolioSort(StrEnum):
    NAME = "name"
    ARR = "arr"
    HEALTH = "health"
    STAGE = "stage"
    RENEWAL = "renewal"
    OPEN_TASKS = "open_tasks"
    OVERDUE_TASKS = "overdue_tasks"
    LAST_TOUCH = "last_touch"


class PortfolioQuery(BaseModel):
    """What the portfolio page asks for: filters (all optional, all must hold), sort and page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segment: Segment | None = None
    bands: tuple[HealthBand, ...] = Field(
        default=(), description="accounts in any of these health bands (none: every account)"
    )
    stage: LifecycleStage | None = None
    csm: str | None = Field(default=None, description="the owning CSM's email address")
    renewing_within_days: int | None = Field(
        default=None,
        ge=0,
        le=3650,
        description="active contract ends within this many days (or has ended, undecided)",
    )
    sort: PortfolioSort = PortfolioSort.NAME
    descending: bool = False
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=50, ge=1, le=200)

    @field_validator("csm")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.strip().lower() or None if value is not None else None


class PortfolioRow(BaseModel):
    account_id: str
    name: str
    segment: Segment
    arr: float
    csm_owner: str
    stage: LifecycleStage
    health_score: int | None
    health_band: HealthBand | None
    health_trend: list[int] = Field(description=f"the last {TREND_POINTS} scores, oldest first")
    renews_on: date | None
    open_tasks: int
    overdue_tasks: int
    last_touch_at: datetime | None


class PortfolioTotals(BaseModel):
    """Over every account the filters select (all pages); ARR and what is at risk count the
    accounts that have not churned."""

    accounts: int
    arr: float
    arr_at_risk: float = Field(description="ARR of the accounts in an at-risk or critical band")
    accounts_at_risk: int


class PortfolioPage(BaseModel):
    query: PortfolioQuery
    rows: list[PortfolioRow]
    totals: PortfolioTotals
    page: int = Field(description="the page shown (the last one when the query asked past it)")
    pages: int
    csm_choices: list[str] = Field(description="the CSMs the viewer may filter by")
    as_of: datetime

    @property
    def first_row(self) -> int:
        """The position of the first row shown (1-based; 0 when there is none)."""
        return (self.page - 1) * self.query.per_page + 1 if self.rows else 0

    @property
    def last_row(self) -> int:
        return (self.page - 1) * self.query.per_page + len(self.rows)


def band_expression() -> ColumnElement[Any]:
    """The account's health band in SQL, by its tier's cut-offs (NULL when never scored)."""
    score = col(AccountRow.health_score)
    tier = col(AccountRow.segment)
    healthy_from = case(
        {s.value: c.healthy_from for s, c in HEALTH_CONFIG.items()}, value=tier, else_=HEALTHY_FROM
    )
    at_risk_from = case(
        {s.value: c.at_risk_from for s, c in HEALTH_CONFIG.items()}, value=tier, else_=AT_RISK_FROM
    )
    return case(
        (score.is_(None), null()),
        (score >= healthy_from, HealthBand.HEALTHY.value),
        (score >= at_risk_from, HealthBand.AT_RISK.value),
        else_=HealthBand.CRITICAL.value,
    )


def renewals() -> Subquery:
    """Per account with an active contract: the date it ends (`renews_on`) and whether it
    renews by itself (`auto_renew`, 1 or 0)."""
    return (
        select(
            col(ContractRow.account_id).label("account_id"),
            func.min(ContractRow.end_date).label("renews_on"),
            func.max(case((col(ContractRow.auto_renew), 1), else_=0)).label("auto_renew"),
        )
        .where(ContractRow.status == ContractStatus.ACTIVE.value)
        .group_by(col(ContractRow.account_id))
        .subquery("renewals")
    )


def _task_counts(now: datetime) -> Subquery:
    due = col(CsmTaskRow.due_at)
    return (
        select(
            col(CsmTaskRow.account_id).label("account_id"),
            func.count().label("open"),
            func.count(case((due < now, 1))).label("overdue"),
        )
        .where(CsmTaskRow.status == TaskStatus.OPEN.value)
        .group_by(col(CsmTaskRow.account_id))
        .subquery("task_counts")
    )


def _touches() -> ColumnElement[bool]:
    return col(TouchpointRow.kind).in_([k.value for k in TOUCH_KINDS])


def _last_touch() -> ColumnElement[Any]:
    """Per account row: its last touch (sorting by it evaluates it for every account)."""
    return (
        select(func.max(TouchpointRow.occurred_at))
        .where(col(TouchpointRow.account_id) == col(AccountRow.id), _touches())
        .correlate(AccountRow)
        .scalar_subquery()
    )


def _last_touches(session: Session, account_ids: list[str]) -> dict[str, datetime]:
    """The last touch of each of the page's accounts."""
    return dict(
        session.exec(
            select(TouchpointRow.account_id, func.max(TouchpointRow.occurred_at))
            .where(col(TouchpointRow.account_id).in_(account_ids), _touches())
            .group_by(col(TouchpointRow.account_id))
        ).all()
    )


def _conditions(
    query: PortfolioQuery, visible_to: str | None, renewal: Subquery, today: date
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if visible_to is not None:
        conditions.append(col(AccountRow.csm_owner) == visible_to.strip().lower())
    if query.csm is not None:
        conditions.append(col(AccountRow.csm_owner) == query.csm)
    if query.segment is not None:
        conditions.append(col(AccountRow.segment) == query.segment.value)
    if query.stage is not None:
        conditions.append(col(AccountRow.lifecycle_stage) == query.stage.value)
    if query.bands:
        conditions.append(band_expression().in_([b.value for b in query.bands]))
    if query.renewing_within_days is not None:
        horizon = today + timedelta(days=query.renewing_within_days)
        conditions.append(renewal.c.renews_on <= horizon)
    return conditions


def _totals(
    session: Session,
    query: PortfolioQuery,
    conditions: list[ColumnElement[bool]],
    renewal: Subquery,
) -> Any:
    live = col(AccountRow.lifecycle_stage) != LifecycleStage.CHURNED.value
    at_risk = band_expression().in_([b.value for b in RISK_BANDS])
    arr = col(AccountRow.arr)
    statement = select(
        func.count(),
        func.coalesce(func.sum(case((live, arr), else_=0.0)), 0.0),
        func.coalesce(func.sum(case((and_(live, at_risk), arr), else_=0.0)), 0.0),
        func.count(case((and_(live, at_risk), 1))),
    ).select_from(AccountRow)
    if query.renewing_within_days is not None:  # the only condition on the renewal
        statement = statement.outerjoin(renewal, renewal.c.account_id == col(AccountRow.id))
    return session.exec(statement.where(*conditions)).one()


def _order(query: PortfolioQuery, renewal: Subquery, tasks: Subquery) -> list[Any]:
    key: Any = {
        PortfolioSort.NAME: func.lower(col(AccountRow.name)),
        PortfolioSort.ARR: col(AccountRow.arr),
        PortfolioSort.HEALTH: col(AccountRow.health_score),
        PortfolioSort.STAGE: case(_STAGE_ORDER, value=col(AccountRow.lifecycle_stage), else_=99),
        PortfolioSort.RENEWAL: renewal.c.renews_on,
        PortfolioSort.OPEN_TASKS: func.coalesce(tasks.c.open, 0),
        PortfolioSort.OVERDUE_TASKS: func.coalesce(tasks.c.overdue, 0),
        PortfolioSort.LAST_TOUCH: _last_touch(),
    }[query.sort]
    # Accounts without the value (never scored, no contract, never touched) come last.
    ordered = (key.desc() if query.descending else key.asc()).nulls_last()
    return [ordered, func.lower(col(AccountRow.name)), col(AccountRow.id)]


def _trends(session: Session, account_ids: list[str]) -> dict[str, list[int]]:
    if not account_ids:
        return {}
    ranked = (
        select(
            col(HealthScoreRow.account_id).label("account_id"),
            col(HealthScoreRow.score).label("score"),
            func.row_number()
            .over(
                partition_by=col(HealthScoreRow.account_id),
                order_by=(col(HealthScoreRow.computed_at).desc(), col(HealthScoreRow.id).desc()),
            )
            .label("recency"),
        )
        .where(col(HealthScoreRow.account_id).in_(account_ids))
        .subquery("ranked")
    )
    trends: dict[str, list[int]] = {a: [] for a in account_ids}
    for account_id, score in session.exec(
        select(ranked.c.account_id, ranked.c.score)
        .where(ranked.c.recency <= TREND_POINTS)
        .order_by(ranked.c.account_id, ranked.c.recency.desc())
    ).all():
        trends[account_id].append(score)
    return trends


def _csm_choices(session: Session, visible_to: str | None) -> list[str]:
    if visible_to is not None:
        return [visible_to.strip().lower()]
    owner = col(AccountRow.csm_owner)
    return list(session.exec(select(owner).distinct().order_by(owner)).all())


def portfolio_page(
    session: Session, query: PortfolioQuery, *, now: datetime, visible_to: str | None
) -> PortfolioPage:
    """The page of accounts `query` asks for, as seen by `visible_to` (a CSM's email address:
    only the accounts they own; None: a manager, every account), at `now`."""
    renewal = renewals()
    conditions = _conditions(query, visible_to, renewal, now.date())
    count, arr, arr_at_risk, accounts_at_risk = _totals(session, query, conditions, renewal)
    pages = max(1, -(-count // query.per_page))
    page = min(query.page, pages)
    tasks = _task_counts(now)
    rows: Sequence[Any] = session.exec(
        Select(
            AccountRow,
            band_expression(),
            renewal.c.renews_on,
            func.coalesce(tasks.c.open, 0),
            func.coalesce(tasks.c.overdue, 0),
        )
        .outerjoin(renewal, renewal.c.account_id == col(AccountRow.id))
        .outerjoin(tasks, tasks.c.account_id == col(AccountRow.id))
        .where(*conditions)
        .order_by(*_order(query, renewal, tasks))
        .offset((page - 1) * query.per_page)
        .limit(query.per_page)
    ).all()
    account_ids = [account.id for account, *_ in rows]
    trends = _trends(session, account_ids)
    touched = _last_touches(session, account_ids)
    return PortfolioPage(
        query=query,
        rows=[
            PortfolioRow(
                account_id=account.id,
                name=account.name,
                segment=Segment(account.segment),
                arr=account.arr,
                csm_owner=account.csm_owner,
                stage=LifecycleStage(account.lifecycle_stage),
                health_score=account.health_score,
                health_band=HealthBand(band) if band is not None else None,
                health_trend=trends[account.id],
                renews_on=renews_on,
                open_tasks=open_tasks,
                overdue_tasks=overdue,
                last_touch_at=touched.get(account.id),
            )
            for account, band, renews_on, open_tasks, overdue in rows
        ],
        totals=PortfolioTotals(
            accounts=count,
            arr=float(arr),
            arr_at_risk=float(arr_at_risk),
            accounts_at_risk=accounts_at_risk,
        ),
        page=page,
        pages=pages,
        csm_choices=_csm_choices(session, visible_to),
        as_of=now,
    )
