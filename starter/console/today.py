"""`/console/today`: a CSM's day. Their open tasks, overdue, due today and upcoming, most urgent
first, each with complete (with an outcome), snooze and reassign; today's plan against what was
done (starter.cs_commands.day_plan) as a small chart; and a form to log a call, meeting or note.

Every change goes through the typed task API (starter.task_api), as the CLI and the HTTP API do:
completing a task tells the workflow waiting on it (`task_completed`). A CSM acts on their own
tasks and accounts only; a manager on anyone's, and can open anyone's day (`?csm=`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlmodel import col, select

from crm.database import Store
from crm.logged_touchpoints import LoggedKind, UnknownAccount
from crm.tables import AccountRow, ConsoleUserRow, CsmTaskRow
from crm.task_lifecycle import InputRefused, TaskClosed, TaskView, UnknownTask
from domain.addresses import normalize_email
from domain.models import TaskStatus
from domain.people import display_name
from starter.charts import Bar, bar_chart
from starter.console.access import (
    Refused,
    Viewer,
    ViewerDep,
    back_to,
    console_store,
    not_found,
    not_yours,
    safe_target,
)
from starter.console.csrf import checked_form
from starter.console.pages import render, told
from starter.console.words import count
from starter.console.words import day as day_words
from starter.cs_commands import day_plan
from starter.http.dependencies import TemporalDep
from starter.task_api import (
    SignalStatus,
    TaskCompleted,
    complete_task,
    list_tasks,
    log_touchpoint,
    reassign_task,
    snooze_task,
)
from starter.task_commands import DAY_STARTS

router = APIRouter(prefix="/console", include_in_schema=False)
TaskId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LOGGED_KINDS = {LoggedKind.CALL: "Call", LoggedKind.MEETING: "Meeting", LoggedKind.NOTE: "Note"}


@dataclass(frozen=True)
class DayPlan:
    """Today's plan against what was done, for the chart and its words."""

    due: int
    due_done: int
    done: int
    logged: int

    def chart(self, whose: str) -> Markup:
        return bar_chart(
            [
                Bar("Due today", self.due, "accent"),
                Bar("Done today", self.done, "good"),
                Bar("Calls, meetings, notes", self.logged, "neutral"),
            ],
            title=f"{whose} day so far: planned and done",
            desc=self.sentence(),
        )

    def sentence(self) -> str:
        return (
            f"{count(self.due, 'task')} due today, {self.due_done} of them done; "
            f"{count(self.done, 'task')} done today in all; "
            f"{count(self.logged, 'call, meeting or note', 'calls, meetings or notes')} logged."
        )


UPCOMING_SHOWN = 20


@dataclass(frozen=True)
class Day:
    owner: str
    overdue: list[TaskView]
    due_today: list[TaskView]
    upcoming: list[TaskView]
    plan: DayPlan
    # Upcoming tasks in all; the page lists the next UPCOMING_SHOWN of them by due date.
    upcoming_total: int = 0


def _split(tasks: list[TaskView], today: date) -> tuple[list[TaskView], ...]:
    overdue, due_today, upcoming = [], [], []
    for task in tasks:
        when = task.due_at.astimezone(UTC).date() if task.due_at is not None else None
        if when is not None and when < today:
            overdue.append(task)
        elif when == today:
            due_today.append(task)
        else:
            upcoming.append(task)
    return overdue, due_today, upcoming


def _plan(store: Store, owner: str, today: date) -> DayPlan:
    with store.session() as session:
        plan = day_plan(session, owner, today)
    return DayPlan(
        due=len(plan["planned"]),
        due_done=len(plan["planned"]) - len(plan["gap"]["not_done"]),
        done=len(plan["completed"]),
        logged=len(plan["touchpoints"]),
    )


async def _day(store: Store, owner: str, now: datetime) -> Day:
    tasks = await list_tasks(owner=owner, status=TaskStatus.OPEN, store=store)
    overdue, due_today, upcoming = _split(tasks, now.date())
    plan = await asyncio.to_thread(_plan, store, owner, now.date())
    # A day page is for what comes next: hundreds of later tasks (each with its forms) would
    # bury it and take most of its render time.
    soonest = sorted(upcoming, key=lambda t: (t.due_at is None, t.due_at or now))
    return Day(owner, overdue, due_today, soonest[:UPCOMING_SHOWN], plan, len(upcoming))


def _choices(store: Store, owner: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The accounts of the day's owner, to log on (id, name; a manager logs on a CSM's
    accounts from that CSM's day), and the people tasks can go to."""
    with store.session() as session:
        query = (
            select(AccountRow.id, AccountRow.name)
            .where(AccountRow.csm_owner == owner)
            .order_by(col(AccountRow.name))
        )
        accounts = [(str(i), str(n)) for i, n in session.exec(query).all()]
        people = set(session.exec(select(ConsoleUserRow.email)).all())
        people |= set(session.exec(select(AccountRow.csm_owner).distinct()).all())
    return accounts, sorted(people)


def _whose_day(viewer: Viewer, csm: str | None) -> str:
    owner = normalize_email(csm) if csm else viewer.email
    if owner != viewer.email and not viewer.is_manager:
        raise Refused(403, "For managers", "Only managers can open another CSM's day.")
    return owner


@router.get("/today")
async def today_page(request: Request, viewer: ViewerDep, csm: str | None = None) -> Response:
    owner = _whose_day(viewer, csm)
    store = console_store()
    now = datetime.now(UTC)
    day = await _day(store, owner, now)
    accounts, people = await asyncio.to_thread(_choices, store, owner)
    own = owner == viewer.email
    return render(
        request,
        "today.html.j2",
        viewer=viewer,
        day=day,
        own=own,
        chart=day.plan.chart("Your" if own else _possessive(request, owner)),
        accounts=accounts,
        people=people,
        kinds=LOGGED_KINDS,
        tomorrow=(now + timedelta(days=1)).date().isoformat(),
        here=back_to(request),
    )


def _name(request: Request, email: str) -> str:
    return display_name(email, request.app.state.settings.team_names)


def _possessive(request: Request, email: str) -> str:
    name = _name(request, email)
    return f"{name}'" if name.endswith("s") else f"{name}'s"


# --- task actions ---------------------------------------------------------------------------


def _task_owner(store: Store, task_id: int) -> tuple[str, str] | None:
    with store.session() as session:
        row = session.get(CsmTaskRow, task_id)
        return (row.owner, row.title) if row is not None else None


async def _form_for_task(request: Request, viewer: Viewer, task_id: int) -> tuple[Any, str, str]:
    """The form (CSRF checked), where to go back to, and the task's title, once the task is
    one the viewer may change."""
    form = await checked_form(request, viewer.session)
    found = await asyncio.to_thread(_task_owner, console_store(), task_id)
    if found is None:
        raise not_found("task")
    owner, title = found
    if not viewer.may_see(owner):
        raise not_yours("task")
    return form, safe_target(str(form.get("return_to") or "")), title


def _completed_notice(result: TaskCompleted) -> tuple[str, bool]:
    task = result.task
    if not result.changed:
        return f"“{task.title}” was closed already; nothing changed.", False
    said = f"Completed “{task.title}”."
    status = result.workflow_signal.status
    if status == SignalStatus.DELIVERED:
        return f"{said} The workflow waiting on it has been told.", False
    if status in (SignalStatus.UNREACHABLE, SignalStatus.FAILED):
        return (
            f"{said} It is saved, but the workflow waiting on it could not be told yet: the "
            f"workflow service did not answer. Ask whoever runs csflow to run "
            f"`csflow task done {task.id}` again.",
            True,
        )
    return said, False


@router.post("/tasks/{task_id}/complete")
async def complete(
    request: Request, task_id: TaskId, viewer: ViewerDep, client: TemporalDep
) -> Response:
    form, back, title = await _form_for_task(request, viewer, task_id)
    outcome = str(form.get("outcome") or "").strip()
    try:
        result = await complete_task(
            client, task_id, outcome, by=viewer.email, via="console", store=console_store()
        )
    except UnknownTask:
        raise not_found("task") from None
    except ValidationError:
        return told(
            request,
            viewer,
            back,
            f"To complete “{title}”, say what came of it (up to 2,000 characters).",
            error=True,
        )
    notice, error = _completed_notice(result)
    return told(request, viewer, back, notice, error=error)


@router.post("/tasks/{task_id}/snooze")
async def snooze(request: Request, task_id: TaskId, viewer: ViewerDep) -> Response:
    form, back, title = await _form_for_task(request, viewer, task_id)
    try:
        day = date.fromisoformat(str(form.get("until") or ""))
        until = datetime.combine(day, DAY_STARTS, tzinfo=UTC)
        change = await snooze_task(task_id, until, by=viewer.email, store=console_store())
    except (ValueError, InputRefused):
        # ValidationError and InputRefused are ValueErrors: no date, or not a later one.
        return told(
            request, viewer, back, f"To snooze “{title}”, pick a day after today.", error=True
        )
    except TaskClosed:
        return told(
            request, viewer, back, f"“{title}” is closed: it cannot be snoozed.", error=True
        )
    except UnknownTask:
        raise not_found("task") from None
    when = change.task.due_at
    return told(request, viewer, back, f"Snoozed “{title}” until {day_words(when)}, 09:00 UTC.")


@router.post("/tasks/{task_id}/reassign")
async def reassign(request: Request, task_id: TaskId, viewer: ViewerDep) -> Response:
    form, back, title = await _form_for_task(request, viewer, task_id)
    owner = str(form.get("owner") or "")
    try:
        change = await reassign_task(task_id, owner, by=viewer.email, store=console_store())
    except ValidationError:
        return told(
            request,
            viewer,
            back,
            f"To reassign “{title}”, give the email address of the person it goes to.",
            error=True,
        )
    except TaskClosed:
        return told(
            request, viewer, back, f"“{title}” is closed: it cannot be reassigned.", error=True
        )
    except UnknownTask:
        raise not_found("task") from None
    return told(request, viewer, back, f"Gave “{title}” to {_name(request, change.task.owner)}.")


# --- logging a touchpoint -------------------------------------------------------------------


def _account_owner(store: Store, account_id: str) -> tuple[str, str] | None:
    with store.session() as session:
        row = session.get(AccountRow, account_id)
        return (row.csm_owner, row.name) if row is not None else None


@router.post("/touchpoints")
async def log_one(request: Request, viewer: ViewerDep) -> Response:
    form = await checked_form(request, viewer.session)
    back = safe_target(str(form.get("return_to") or ""))
    account_id = str(form.get("account_id") or "")
    found = await asyncio.to_thread(_account_owner, console_store(), account_id)
    if found is None:
        return told(request, viewer, back, "Pick one of your accounts to log it on.", error=True)
    owner, name = found
    if not viewer.may_see(owner):
        raise not_yours("account")
    try:
        kind = LoggedKind(str(form.get("kind") or ""))
        await log_touchpoint(
            account_id, kind, str(form.get("summary") or ""), by=viewer.email, store=console_store()
        )
    except (ValueError, InputRefused):
        return told(
            request,
            viewer,
            back,
            "To log it, pick a call, meeting or note and write what was said or done "
            "(up to 2,000 characters).",
            error=True,
        )
    except UnknownAccount:
        raise not_found("account") from None
    return told(request, viewer, back, f"Logged a {LOGGED_KINDS[kind].lower()} on {name}.")
