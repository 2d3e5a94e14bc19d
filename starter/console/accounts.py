"""`/console/accounts` (the portfolio: filtered, sorted, paged; crm.portfolio) and
`/console/accounts/{id}` (the account 360: the journey as a Gantt chart, the timeline, the
health history with why the latest score is what it is, contacts and contract, and each of the
account's workflows linked to its page in the Temporal Web UI; crm.account_360).

A CSM sees the accounts they own, and is refused (403) another CSM's account page; a manager sees
every account and can filter by CSM.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import col, select

from crm.account_360 import Account360, account_360, playbook_title
from crm.database import Store
from crm.logged_touchpoints import UnknownAccount
from crm.portfolio import PortfolioPage, PortfolioQuery, PortfolioSort, portfolio_page
from crm.tables import AccountRow, CsmTaskRow, TouchpointRow
from domain.models import HealthBand, LifecycleStage, Segment
from starter.charts import Guide, LineSeries, gantt_chart, line_chart, sparkline
from starter.console.access import ViewerDep, console_store, not_found, not_yours
from starter.console.pages import render
from starter.console.words import day

router = APIRouter(prefix="/console", include_in_schema=False)
RENEWAL_CHOICES = (30, 90, 180, 365)
SORT_WORDS = {
    PortfolioSort.NAME: "Account",
    PortfolioSort.ARR: "ARR",
    PortfolioSort.HEALTH: "Health",
    PortfolioSort.STAGE: "Stage",
    PortfolioSort.RENEWAL: "Renews",
    PortfolioSort.OPEN_TASKS: "Open tasks",
    PortfolioSort.LAST_TOUCH: "Last touch",
}
# What each kind of workflow is called, by the start of its id (playbooks: by their title).
_WORKFLOW_NAMES = {
    "journey-": "Customer journey",
    "requirements-": "Requirements gathering",
    "onboarding-": "Onboarding",
    "renewal-": "Renewal",
    "escalation-": "Escalation",
    "process-map-": "Process map",
    "campaign-": "Campaign",
}


# --- the portfolio ----------------------------------------------------------------------------


def _query(params: dict[str, Any], is_manager: bool) -> tuple[PortfolioQuery, bool]:
    """The query the page's parameters ask for; False when some could not be used (left out)."""
    # A form sends its empty choices ("Any") as empty values: those ask for nothing.
    wanted: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, list):
            value = [v for v in value if v]
        if value not in (None, "", []):
            wanted[key] = value
    if not is_manager:
        wanted.pop("csm", None)
    try:
        return PortfolioQuery.model_validate(wanted), True
    except ValidationError as exc:
        bad = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        kept = {key: value for key, value in wanted.items() if key not in bad}
        try:
            return PortfolioQuery.model_validate(kept), False
        except ValidationError:
            return PortfolioQuery(), False


def _link(query: PortfolioQuery, **changes: Any) -> str:
    """The portfolio URL of `query` with `changes` (defaults left out)."""
    changed = PortfolioQuery.model_validate({**query.model_dump(), **changes})
    pairs = []
    for key, value in changed.model_dump(mode="json", exclude_defaults=True).items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((key, str(one).lower() if isinstance(one, bool) else str(one)))
    return "/console/accounts" + (f"?{urlencode(pairs)}" if pairs else "")


def _portfolio(store: Store, query: PortfolioQuery, visible_to: str | None) -> PortfolioPage:
    with store.session() as session:
        return portfolio_page(session, query, now=datetime.now(UTC), visible_to=visible_to)


@router.get("/accounts")
async def accounts_page(
    request: Request,
    viewer: ViewerDep,
    segment: str | None = None,
    bands: Annotated[list[str] | None, Query()] = None,
    stage: str | None = None,
    csm: str | None = None,
    renewing_within_days: str | None = None,
    sort: str | None = None,
    descending: str | None = None,
    page: str | None = None,
) -> Response:
    params = {
        "segment": segment,
        "bands": bands or [],
        "stage": stage,
        "csm": csm,
        "renewing_within_days": renewing_within_days,
        "sort": sort,
        "descending": descending,
        "page": page,
    }
    query, usable = _query(params, viewer.is_manager)
    visible_to = None if viewer.is_manager else viewer.email
    found = await asyncio.to_thread(_portfolio, console_store(), query, visible_to)
    trends = {
        row.account_id: sparkline(row.health_trend, title=f"Health of {row.name}, last readings")
        for row in found.rows
        if row.health_trend
    }
    return render(
        request,
        "accounts.html.j2",
        viewer=viewer,
        page="accounts",
        found=found,
        query=query,
        usable=usable,
        trends=trends,
        link=lambda **changes: _link(query, **changes),
        sort_words=SORT_WORDS,
        segments=list(Segment),
        stages=list(LifecycleStage),
        bands=list(HealthBand),
        renewal_choices=RENEWAL_CHOICES,
    )


# --- the account 360 --------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowLink:
    name: str
    url: str | None


def workflow_name(workflow_id: str, account_id: str) -> str:
    if workflow_id.startswith("playbook-"):
        return f"Playbook: {playbook_title(workflow_id, account_id)}"
    for prefix, name in _WORKFLOW_NAMES.items():
        if workflow_id.startswith(prefix):
            return name
    return "Workflow"


def web_ui(request: Request) -> tuple[str | None, str]:
    """The Temporal Web UI's address (None: not configured) and the namespace to link into."""
    client = request.app.state.temporal
    namespace = getattr(client, "namespace", None) or "default"
    url: str | None = request.app.state.settings.temporal_ui_url
    return url, namespace


def _workflow_ids(store: Store, account_id: str) -> list[str]:
    """Every workflow the CRM knows of for the account, in the order they first wrote."""
    with store.session() as session:
        from_timeline = session.exec(
            select(TouchpointRow.workflow_id)
            .where(
                TouchpointRow.account_id == account_id, col(TouchpointRow.workflow_id).is_not(None)
            )
            .group_by(col(TouchpointRow.workflow_id))
            .order_by(col(TouchpointRow.workflow_id))
        ).all()
        from_tasks = session.exec(
            select(CsmTaskRow.workflow_id)
            .where(CsmTaskRow.account_id == account_id, col(CsmTaskRow.workflow_id).is_not(None))
            .distinct()
        ).all()
    return sorted({w for w in [*from_timeline, *from_tasks] if w})


def _workflow_links(request: Request, account_id: str, ids: list[str]) -> list[WorkflowLink]:
    base, namespace = web_ui(request)
    links = []
    for workflow_id in ids:
        url = None
        if base is not None:
            url = f"{base}/namespaces/{quote(namespace, safe='')}/workflows/"
            url += quote(workflow_id, safe="")
        links.append(WorkflowLink(workflow_name(workflow_id, account_id), url))
    return sorted(links, key=lambda link: link.name)


def _account_query_url(request: Request, account_id: str) -> str | None:
    base, namespace = web_ui(request)
    if base is None:
        return None
    literal = '"' + account_id.replace("\\", "\\\\").replace('"', '\\"') + '"'
    query = quote(f"CustomerId = {literal}", safe="")
    return f"{base}/namespaces/{quote(namespace, safe='')}/workflows?query={query}"


def _owner(store: Store, account_id: str) -> str | None:
    with store.session() as session:
        row = session.get(AccountRow, account_id)
        return row.csm_owner if row is not None else None


def _account(store: Store, account_id: str, timeline_page: int) -> Account360:
    with store.session() as session:
        return account_360(session, account_id, now=datetime.now(UTC), timeline_page=timeline_page)


def _charts(data: Account360) -> tuple[Markup, Markup]:
    name = data.account.name
    gantt = data.gantt
    journey = gantt_chart(
        gantt.bars,
        start=gantt.start,
        end=gantt.end,
        today=gantt.today,
        title=f"The journey of {name}",
        desc=f"{len(gantt.bars)} bars in {len(gantt.lanes)} lanes "
        f"({', '.join(gantt.lanes)}), from {day(gantt.start)} to {day(gantt.end)}.",
    )
    readings = data.health_history
    explanation = data.health
    guides = (
        [
            Guide(explanation.healthy_from, "Healthy", "good"),
            Guide(explanation.at_risk_from, "At risk", "warn"),
        ]
        if explanation is not None
        else []
    )
    if readings:
        first, last = readings[0], readings[-1]
        said = (
            f"{len(readings)} health scores from {day(first.computed_at)} ({first.score}) to "
            f"{day(last.computed_at)} ({last.score}); lowest {min(r.score for r in readings)}, "
            f"highest {max(r.score for r in readings)}."
        )
    else:
        said = "No health score yet."
    health = line_chart(
        [f"{r.computed_at.day} {r.computed_at:%b}" for r in readings],
        [LineSeries("Health score", [r.score for r in readings])],
        title=f"Health of {name} over the last year",
        desc=said,
        low=0,
        high=100,
        guides=guides,
    )
    return journey, health


@router.get("/accounts/{account_id}")
async def account_page(
    request: Request, account_id: str, viewer: ViewerDep, timeline: int = 1
) -> Response:
    store = console_store()
    owner = await asyncio.to_thread(_owner, store, account_id)
    if owner is None:
        raise not_found("account")
    if not viewer.may_see(owner):
        raise not_yours("account")
    try:
        data = await asyncio.to_thread(_account, store, account_id, max(timeline, 1))
    except UnknownAccount:
        raise not_found("account") from None
    journey, health = _charts(data)
    ids = await asyncio.to_thread(_workflow_ids, store, account_id)
    return render(
        request,
        "account.html.j2",
        viewer=viewer,
        page="accounts",
        data=data,
        journey=journey,
        health_chart=health,
        workflows=_workflow_links(request, account_id, ids),
        all_workflows_url=_account_query_url(request, account_id),
        workflow_name=lambda workflow_id: workflow_name(workflow_id, account_id),
    )
