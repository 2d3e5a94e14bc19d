"""`csflow task done|snooze|reassign` and `csflow log call|meeting|note`: what a CSM does, recorded
in the CRM (`DATABASE_URL`) through the typed API in starter.task_api.

Each change is a timeline entry on the account saying who did what and when. `task done` also
tells the task's workflow (signal `task_completed`), so a workflow waiting on the CSM proceeds;
Temporal is only contacted for a task that has a workflow, and when it cannot be reached the
completion stays recorded and a line on stderr says so (running the command again tells it).
Like the CRM views, these never create a database. Registered on the main app by `register(app)`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from crm import database
from crm.logged_touchpoints import LoggedKind, UnknownAccount
from crm.task_lifecycle import InputRefused, TaskAction, TaskChange, TaskClosed, UnknownTask
from starter.cli_output import fields, text
from starter.cs_commands import crm_errors

if TYPE_CHECKING:
    from starter.task_api import TaskCompleted, WorkflowSignal

T = TypeVar("T")
CONNECT_TIMEOUT_SECONDS = 10
# A date alone means this time (UTC) that day: inside the same calendar day from UTC-9 to UTC+14.
DAY_STARTS = time(9, 0)
MOMENT_HELP = "YYYY-MM-DD (09:00 UTC that day) or YYYY-MM-DDTHH:MM (UTC unless it says +HH:MM)"
JSON_OPTION = typer.Option(False, "--json", help="one JSON document on stdout, for scripts")
BY_OPTION = typer.Option(None, "--by", help="who did it (default: the task's owner)")
LIST_HINT = "`csflow tasks --csm EMAIL` lists open tasks with their ids"
# Options by the request field they fill, to name the option at fault.
_OPTIONS = {
    "outcome": "--outcome",
    "by": "--by",
    "until": "--until",
    "owner": "--to",
    "summary": "--summary",
    "at": "--at",
}

task_app = typer.Typer(help="Complete, snooze or reassign a CSM task.", no_args_is_help=True)
log_app = typer.Typer(
    help="Log a call, meeting or note on an account's timeline (csflow plan counts them).",
    no_args_is_help=True,
)


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


def parse_moment(value: str, option: str) -> datetime:
    """A date (09:00 UTC that day) or an ISO date and time (UTC unless an offset is given)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, DAY_STARTS, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: not a date or time: {value!r} (expected {MOMENT_HELP})")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{_OPTIONS.get(str(item['loc'][0]), str(item['loc'][0])) if item['loc'] else 'input'}: "
        f"{str(item['msg']).removeprefix('Value error, ')}"
        for item in exc.errors()
    )


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` on the CRM; every refusal is one line with what to do."""
    try:
        with crm_errors("write to"):
            return asyncio.run(work)
    except UnknownTask as exc:
        _fail(f"no task {exc.task_id} ({LIST_HINT})")
    except UnknownAccount as exc:
        _fail(f"no account {exc.account_id!r} in the CRM (the id its journey was started with)")
    except TaskClosed as exc:
        _fail(f"{exc} (it was closed {text(exc.task.completed_at)}: {exc.task.outcome or '-'})")
    except InputRefused as exc:
        _fail(f"{_OPTIONS.get(exc.field, exc.field)}: {exc.message}")
    except ValidationError as exc:
        _fail(_problems(exc))
    finally:
        # Connections closed now leave no SQLite -wal/-shm files behind a short-lived command.
        database.reset()


def _emit(value: BaseModel) -> None:
    typer.echo(json.dumps(value.model_dump(mode="json")))


def _account(change: TaskChange) -> str:
    task = change.task
    return f"{task.account_name} ({task.account_id})" if task.account_name else task.account_id


def _previous(change: TaskChange, key: str) -> Any:
    """What the change replaced, as its timeline entry recorded it (None when nothing changed)."""
    return change.touchpoint.details.get(key) if change.touchpoint else None


def _change_report(change: TaskChange) -> tuple[str, list[tuple[str, Any]]]:
    """How a snooze or a reassignment reads: the line for whether it changed the task, and the
    rows for what the task is now and what it replaced."""
    task = change.task
    if change.action == TaskAction.SNOOZED:
        was_due = _previous(change, "previous_due_at")
        head = (
            f"Snoozed task #{task.id} until {text(task.due_at)}: {task.title}"
            if change.changed
            else f"Task #{task.id} is due at {text(task.due_at)} already: nothing changed"
        )
        return head, [
            ("owner", task.owner),
            *([("was due", datetime.fromisoformat(was_due))] if was_due else []),
        ]
    was_owned_by = _previous(change, "previous_owner")
    head = (
        f"Reassigned task #{task.id} to {task.owner}: {task.title}"
        if change.changed
        else f"Task #{task.id} belongs to {task.owner} already: nothing changed"
    )
    return head, [*([("from", was_owned_by)] if was_owned_by else []), ("due", task.due_at)]


def _say_change(change: TaskChange, as_json: bool) -> None:
    """A snooze's or reassignment's answer: the change as JSON, or its report with the account
    and who did it."""
    if as_json:
        _emit(change)
        return
    head, rows = _change_report(change)
    typer.echo(head)
    typer.echo(fields([("account", _account(change)), *rows, ("by", change.by)]))


def _temporal_address() -> str:
    from starter.connection import connect_config

    try:
        return str(connect_config()["target_host"])
    except Exception:  # a broken profile file: the reason says so
        return "TEMPORAL_ADDRESS"


def _signal_line(signal: WorkflowSignal) -> str:
    from starter.task_api import SignalStatus

    if signal.status == SignalStatus.DELIVERED:
        return f"{signal.workflow_id} told (task_completed)"
    if signal.status == SignalStatus.WORKFLOW_CLOSED:
        return f"{signal.workflow_id} has finished: nothing waits on this task"
    if signal.status in (SignalStatus.UNREACHABLE, SignalStatus.FAILED):
        return f"{signal.workflow_id} NOT told yet (see the line on stderr)"
    return "-"


def _warn_untold(result: TaskCompleted) -> None:
    from starter.task_api import SignalStatus

    signal = result.workflow_signal
    if signal.status == SignalStatus.UNREACHABLE:
        why = f"cannot reach Temporal at {_temporal_address()}: {signal.detail}"
    elif signal.status == SignalStatus.FAILED:
        why = f"Temporal refused the signal: {signal.detail}"
    else:
        return
    typer.echo(
        f"csflow: task {result.task.id} is done, but its workflow {signal.workflow_id} was not "
        f"told: {why} (the completion is recorded; once Temporal answers, run this command "
        "again to tell the workflow)",
        err=True,
    )


async def _connect() -> Any:
    from starter.connection import connect

    return await asyncio.wait_for(connect(), CONNECT_TIMEOUT_SECONDS)


@task_app.command("done")
def task_done(
    task_id: int = typer.Argument(..., help="the task's id (csflow tasks shows them)"),
    outcome: str = typer.Option(..., "--outcome", help="what came of it"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Complete a task with its outcome; a workflow waiting on it is told.

    Example: csflow task done 12 --outcome "renewed on the call" --by casey@example.com
    """
    from starter.task_api import complete_task

    result = _run(complete_task(_connect, task_id, outcome, by=by, via="cli"))
    if as_json:
        _emit(result)
        _warn_untold(result)
        return
    task = result.task
    if result.changed:
        head = f"Completed task #{task.id}: {task.title}"
        when = task.completed_at
    else:
        head = f"Task #{task.id} was {task.status.value} already: nothing changed ({task.title})"
        when = task.completed_at
    typer.echo(head)
    typer.echo(
        fields(
            [
                ("account", _account(result)),
                ("outcome", task.outcome),
                *([("by", result.by)] if result.changed else []),
                ("closed", when),
                ("workflow", _signal_line(result.workflow_signal)),
            ]
        )
    )
    _warn_untold(result)


@task_app.command("snooze")
def task_snooze(
    task_id: int = typer.Argument(..., help="the task's id (csflow tasks shows them)"),
    until: str = typer.Option(..., "--until", help=f"when it is due again: {MOMENT_HELP}"),
    by: str | None = BY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Snooze an open task: it stays open and falls due again at --until.

    Example: csflow task snooze 12 --until 2026-05-04
    """
    from starter.task_api import snooze_task

    moment = parse_moment(until, "--until")
    _say_change(_run(snooze_task(task_id, moment, by=by)), as_json)


@task_app.command("reassign")
def task_reassign(
    task_id: int = typer.Argument(..., help="the task's id (csflow tasks shows them)"),
    to: str = typer.Option(..., "--to", help="the new owner's email address"),
    by: str | None = typer.Option(None, "--by", help="who did it (default: the current owner)"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give an open task to another owner.

    Example: csflow task reassign 12 --to robin@example.com
    """
    from starter.task_api import reassign_task

    _say_change(_run(reassign_task(task_id, to, by=by)), as_json)


def _log(
    kind: LoggedKind,
    account_id: str,
    summary: str,
    by: str | None,
    at: str | None,
    as_json: bool,
) -> None:
    from starter.task_api import log_touchpoint

    moment = parse_moment(at, "--at") if at is not None else None
    entry = _run(log_touchpoint(account_id, kind, summary, by=by, at=moment))
    if as_json:
        _emit(entry)
        return
    logged_by = entry.details.get("logged_by", "")
    typer.echo(f"Logged {kind.value} #{entry.id} on {account_id}: {text(entry.summary)}")
    typer.echo(fields([("by", logged_by), ("at", entry.occurred_at)]))
    typer.echo(
        f"Planned against actual: csflow plan --csm {logged_by} "
        f"--date {entry.occurred_at.date().isoformat()}"
    )


def _log_command(kind: LoggedKind) -> Any:
    def command(
        account_id: str = typer.Argument(..., help="the account's id"),
        summary: str = typer.Option(..., "--summary", help="what was said or done"),
        by: str | None = typer.Option(None, "--by", help="who (default: the account's CSM)"),
        at: str | None = typer.Option(None, "--at", help=f"when (default: now): {MOMENT_HELP}"),
        as_json: bool = JSON_OPTION,
    ) -> None:
        _log(kind, account_id, summary, by, at, as_json)

    command.__doc__ = (
        f"Log a {kind.value} with an account on its timeline.\n\n"
        f'Example: csflow log {kind.value} acme --summary "Walked through the renewal"'
    )
    return command


for _kind in LoggedKind:
    log_app.command(_kind.value)(_log_command(_kind))


def register(app: typer.Typer) -> None:
    """Add `task` and `log` to the `csflow` app."""
    app.add_typer(task_app, name="task")
    app.add_typer(log_app, name="log")
