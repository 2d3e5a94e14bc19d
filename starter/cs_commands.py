"""`csflow health`, `csflow tasks` and `csflow plan`: read-only views of the CRM store for CSMs.

They read the database at `DATABASE_URL` directly (no Temporal needed), and never create it: a
SQLite file that does not exist, or a database without csflow's schema, is a one-line error
saying what to do. Registered on the main app by `register(app)` (see starter/cli.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session, col, or_, select

from crm.database import DatabaseMissing, database_url, get_existing_store
from crm.health_history import explain
from crm.tables import AccountRow, CsmTaskRow, TouchpointRow
from domain.models import HealthExplanation, TaskPriority, TaskStatus, TouchpointKind
from starter.cli_output import table

# Most urgent first.
_PRIORITY_RANK = {
    TaskPriority.URGENT.value: 0,
    TaskPriority.HIGH.value: 1,
    TaskPriority.NORMAL.value: 2,
    TaskPriority.LOW.value: 3,
}
# Touchpoints a person logs (calls, meetings, notes); automated ones carry a workflow id.
_MANUAL_KINDS = {TouchpointKind.CALL.value, TouchpointKind.MEETING.value, TouchpointKind.NOTE.value}


MIGRATE_HINT = "create or upgrade it with `python -m crm.migrate` (it migrates DATABASE_URL)"


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


def _shown_url() -> str:
    try:
        return make_url(database_url()).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: the store's own error names it
        return "DATABASE_URL"


@contextmanager
def crm_errors(doing: str = "read") -> Iterator[None]:
    """What stands in the way of using the CRM (no database, no schema, unreachable), raised
    in the block, as one line and a hint."""
    try:
        yield
    except DatabaseMissing as exc:
        where = exc.path if exc.path.is_absolute() else f"{exc.path} (in {Path.cwd()})"
        _fail(
            f"no CRM database at {where}: run csflow where its var/ is, set DATABASE_URL, "
            f"or {MIGRATE_HINT}"
        )
    except (OperationalError, ProgrammingError) as exc:
        reason = " ".join(str(exc.orig).split())[:200]
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            _fail(f"the CRM at {_shown_url()} has no csflow schema ({reason}): {MIGRATE_HINT}")
        _fail(f"cannot {doing} the CRM at {_shown_url()}: {reason}")


@contextmanager
def crm_session() -> Iterator[Session]:
    """A session on the CRM for reading; what stands in the way is one line and a hint."""
    with crm_errors():
        store = get_existing_store()
        try:
            with store.session() as session:
                yield session
        finally:
            # Connections closed now leave no SQLite -wal/-shm files behind a short-lived read.
            store.engine.dispose()


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


# --- health ---------------------------------------------------------------------------------


def render_explanation(exp: HealthExplanation, *, explain_parts: bool) -> str:
    lines = [
        f"{exp.account_name} ({exp.account_id}): health {exp.score}/100, {exp.band.value}"
        + (f", segment {exp.segment}" if exp.segment else ""),
        f"scored {exp.computed_at:%Y-%m-%d %H:%M} UTC; bands: healthy >= {exp.healthy_from}, "
        f"at risk >= {exp.at_risk_from}, else critical",
    ]
    if not explain_parts:
        return "\n".join(lines)
    lines.append("")
    lines.append(f"{'component':<12}{'value':>7}{'weight':>8}{'points':>8}  why")
    for c in exp.components:
        lines.append(
            f"{c.name:<12}{c.value:>7.2f}{c.weight:>8.2f}{c.points:>8.1f}  {c.explanation}"
        )
    lines.append(f"{'total':<27}{sum(c.points for c in exp.components):>8.1f}")
    changes = exp.changes
    lines.append("")
    if changes is None:
        lines.append("first score on record: nothing to compare with")
        return "\n".join(lines)
    lines.append(
        f"since {changes.previous_computed_at:%Y-%m-%d %H:%M} UTC: {changes.previous_score} "
        f"({changes.previous_band.value}) -> {exp.score} ({exp.band.value}), "
        f"{changes.score_delta:+d}"
    )
    for comp in changes.components:
        if comp.delta:
            lines.append(
                f"  {comp.name}: {comp.points_before:.1f} -> {comp.points_now:.1f} "
                f"({comp.delta:+.1f})"
            )
    for change in changes.inputs:
        lines.append(f"  {change.field}: {change.before!r} -> {change.now!r}")
    return "\n".join(lines)


def health(
    account_id: str = typer.Argument(..., help="account id"),
    explain_parts: bool = typer.Option(
        False, "--explain", help="each component's value/weight/points and what changed"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Latest health score of an account (and, with --explain, why)."""
    with crm_session() as session:
        account = session.get(AccountRow, account_id)
        if account is None:
            _fail(f"no account {account_id!r}")
        exp = explain(session, account)
    if exp is None:
        _fail(f"account {account_id!r} has no health score yet")
    if as_json:
        typer.echo(exp.model_dump_json(indent=2))
    else:
        typer.echo(render_explanation(exp, explain_parts=explain_parts))


# --- tasks ----------------------------------------------------------------------------------


def _task_json(row: CsmTaskRow, account_name: str | None) -> dict[str, Any]:
    data = row.to_model().model_dump(mode="json")
    data["account_name"] = account_name
    return data


def open_tasks(session: Session, owner: str) -> list[dict[str, Any]]:
    """Open tasks of `owner`, by priority, then due date (undated last), then age."""
    rows = session.exec(
        select(CsmTaskRow, AccountRow.name)
        .join(AccountRow, col(AccountRow.id) == col(CsmTaskRow.account_id))
        .where(CsmTaskRow.owner == owner.lower(), CsmTaskRow.status == TaskStatus.OPEN.value)
    ).all()
    ordered = sorted(
        rows,
        key=lambda r: (
            _PRIORITY_RANK.get(r[0].priority, 9),
            r[0].due_at is None,
            r[0].due_at or datetime.max.replace(tzinfo=UTC),
            r[0].id or 0,
        ),
    )
    return [_task_json(task, name) for task, name in ordered]


def tasks(
    csm: str = typer.Option(..., "--csm", help="CSM owner email"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Open CSM tasks of one owner, most urgent first."""
    with crm_session() as session:
        items = open_tasks(session, csm)
    if as_json:
        _dump(items)
        return
    if not items:
        typer.echo(f"no open tasks for {csm}")
        return
    rows = [
        (
            t["priority"],
            t["due_at"][:16].replace("T", " ") + " UTC" if t["due_at"] else "no due date",
            t["account_name"],
            t["title"],
            t["id"],
        )
        for t in items
    ]
    typer.echo(table(["priority", "due", "account", "task", "id"], rows))


# --- day plan -------------------------------------------------------------------------------


def _day_window(day: date, zone_name: str) -> tuple[datetime, datetime]:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        _fail(f"--tz: unknown time zone {zone_name!r} (an IANA name such as Europe/Berlin)")
    start = datetime.combine(day, time(0, 0)).replace(tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0)).replace(tzinfo=zone)
    return start, end.astimezone(UTC)


def day_plan(session: Session, owner: str, day: date, zone_name: str = "UTC") -> dict[str, Any]:
    """What `owner` planned for `day` (tasks due) against what was done (tasks completed,
    touchpoints logged) and the gap between the two."""
    owner = owner.lower()
    start, end = _day_window(day, zone_name)
    names = dict(session.exec(select(AccountRow.id, AccountRow.name)).all())
    planned = session.exec(
        select(CsmTaskRow)
        .where(
            CsmTaskRow.owner == owner,
            col(CsmTaskRow.due_at) >= start,
            col(CsmTaskRow.due_at) < end,
        )
        .order_by(col(CsmTaskRow.due_at), col(CsmTaskRow.id))
    ).all()
    completed = session.exec(
        select(CsmTaskRow)
        .where(
            CsmTaskRow.owner == owner,
            CsmTaskRow.status == TaskStatus.DONE.value,
            col(CsmTaskRow.completed_at) >= start,
            col(CsmTaskRow.completed_at) < end,
        )
        .order_by(col(CsmTaskRow.completed_at), col(CsmTaskRow.id))
    ).all()
    owned_accounts = select(AccountRow.id).where(AccountRow.csm_owner == owner)
    # Logged by the CSM: manual kinds on their accounts without a workflow, or any touchpoint
    # whose details name them as `logged_by`.
    touchpoints = [
        t
        for t in session.exec(
            select(TouchpointRow)
            .where(
                col(TouchpointRow.occurred_at) >= start,
                col(TouchpointRow.occurred_at) < end,
                or_(
                    col(TouchpointRow.account_id).in_(owned_accounts),
                    col(TouchpointRow.kind).in_(_MANUAL_KINDS),
                ),
            )
            .order_by(col(TouchpointRow.occurred_at), col(TouchpointRow.id))
        ).all()
        if (t.details or {}).get("logged_by", "").lower() == owner
        or (
            t.kind in _MANUAL_KINDS
            and t.workflow_id is None
            and "logged_by" not in (t.details or {})
            and names.get(t.account_id) is not None
            and t.account_id in set(session.exec(owned_accounts).all())
        )
    ]
    done_ids = {t.id for t in completed}
    planned_ids = {t.id for t in planned}
    return {
        "csm": owner,
        "date": day.isoformat(),
        "timezone": zone_name,
        "planned": [_task_json(t, names.get(t.account_id)) for t in planned],
        "completed": [_task_json(t, names.get(t.account_id)) for t in completed],
        "touchpoints": [
            {**t.to_model().model_dump(mode="json"), "account_name": names.get(t.account_id)}
            for t in touchpoints
        ],
        "gap": {
            "not_done": [t.id for t in planned if t.id not in done_ids],
            "unplanned_done": [t.id for t in completed if t.id not in planned_ids],
        },
    }


def plan(
    csm: str = typer.Option(..., "--csm", help="CSM owner email"),
    day: str = typer.Option(..., "--date", help="YYYY-MM-DD"),
    tz: str = typer.Option("UTC", "--tz", help="time zone the day is counted in"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A CSM's day: tasks due that day against tasks completed and touchpoints logged."""
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        _fail(f"--date: not a date: {day!r} (expected YYYY-MM-DD)")
    with crm_session() as session:
        result = day_plan(session, csm, parsed, tz)
    if as_json:
        _dump(result)
        return
    typer.echo(f"{result['csm']} on {result['date']} ({tz})")
    typer.echo(f"planned ({len(result['planned'])}):")
    for t in result["planned"]:
        mark = "x" if t["id"] not in result["gap"]["not_done"] else " "
        typer.echo(f"  [{mark}] #{t['id']} [{t['priority']}] {t['account_name']}: {t['title']}")
    typer.echo(
        f"done ({len(result['completed'])} tasks, {len(result['touchpoints'])} touchpoints):"
    )
    for t in result["completed"]:
        typer.echo(f"  #{t['id']} {t['account_name']}: {t['title']} ({t['outcome']})")
    for tp in result["touchpoints"]:
        typer.echo(f"  {tp['kind']}: {tp['account_name']}: {tp['summary']}")
    gap = result["gap"]
    typer.echo(
        f"gap: {len(gap['not_done'])} planned not done"
        + (f" (#{', #'.join(map(str, gap['not_done']))})" if gap["not_done"] else "")
        + f", {len(gap['unplanned_done'])} done unplanned"
    )


def register(app: typer.Typer) -> None:
    """Add `health`, `tasks` and `plan` to the `csflow` app."""
    app.command("health")(health)
    app.command("tasks")(tasks)
    app.command("plan")(plan)


cs_app = typer.Typer(help="Customer-success views of the CRM store.", no_args_is_help=True)
register(cs_app)
