"""`csflow process-map check|status|render`: the cross-functional process map from the command
line. `check` says whether a map file can run (every problem, one per line); `status` lists an
account's milestones as the CRM's `handoffs` table records them (the process-map workflow writes
it; Temporal is not asked); `render` draws the map, or an account's view of it, as an SVG file.

The map is the `--map`/FILE given, else CSFLOW_PROCESS_MAP, else the shipped one. Like the other
CRM views these never create a database. `render_account_map` is the account's picture for
callers other than the CLI (the demo). Registered on the main app by `register(app)`.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import BaseModel
from sqlmodel import Session, select

from crm.database import Store
from crm.logged_touchpoints import UnknownAccount
from crm.tables import AccountRow, HandoffRow
from domain.handoffs import HandoffState
from domain.input_checks import one_line
from domain.process_map import DEFAULT_MAP_PATH, InvalidProcessMap, ProcessMap, load_map
from domain.settings import Settings, SettingsError
from starter.cli_output import table
from starter.cs_commands import crm_session
from starter.process_map_picture import (
    NOT_STARTED,
    day_text,
    day_zero,
    occurrence_title,
    process_map_svg,
    starts_in_words,
    state_words,
)
from workflows.process_map_state import MilestoneRun

MAP_HELP = "the map's YAML file (default: CSFLOW_PROCESS_MAP, else the shipped map)"
MAP_OPTION = typer.Option(None, "--map", help=MAP_HELP, show_default=False)
MAP_ARGUMENT = typer.Argument(None, help=MAP_HELP, show_default=False, metavar="FILE")
JSON_OPTION = typer.Option(False, "--json", help="one JSON document on stdout, for scripts")
OUT_OPTION = typer.Option(..., "--out", help="the SVG file to write", show_default=False)
ACCOUNT_OPTION = typer.Option(
    None, "--account", help="draw this account's milestones on their dates, by state"
)
ACCOUNT_HINT = "the id its journey was started with; `csflow journeys` lists them"
# The order of the states in an account's summary line: what is finished, what is with someone.
SUMMARY_ORDER = [
    HandoffState.DONE,
    HandoffState.OPEN,
    HandoffState.OVERDUE,
    HandoffState.BLOCKED,
    HandoffState.WAITING,
    HandoffState.CANCELLED,
    NOT_STARTED,
]

process_map_app = typer.Typer(
    help="The cross-functional process map: check it, follow an account through it, draw it.",
    no_args_is_help=True,
)


class MilestoneStatus(BaseModel):
    """One occurrence of a milestone for an account: its handoff as the CRM records it, or,
    without one yet, what its start waits for."""

    milestone_id: str
    cycle: int
    title: str
    function: str  # its id in the map (a milestone the map does not have: as recorded)
    function_name: str
    owner: str | None
    state: str  # the handoff's state, or "not_started"
    waits_for: str | None = None  # not started: when it starts, in words
    handoff: HandoffRow | None = None


class AccountMapStatus(BaseModel):
    account_id: str
    account_name: str
    map_title: str
    map_version: str
    # The map versions its handoffs were recorded with (another than map_version: the journey
    # started on an earlier map).
    handoff_map_versions: list[str]
    as_of: datetime
    milestones: list[MilestoneStatus]


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


def _map_file(given: Path | None) -> Path:
    """The map file to read: the one given, else CSFLOW_PROCESS_MAP, else the shipped one; one
    that does not exist is one line saying so."""
    if given is None:
        try:
            given = Settings.from_env().process_map or DEFAULT_MAP_PATH
        except SettingsError as exc:
            _fail(f"{exc} (fix or unset the variable it names)")
    if not given.exists():
        _fail(
            f"no process map at {given} (give a YAML file; the shipped one is {DEFAULT_MAP_PATH})"
        )
    return given


def _load(given: Path | None) -> ProcessMap:
    """The map to use; one that cannot run is one line saying where to see why."""
    path = _map_file(given)
    try:
        return load_map(path)
    except InvalidProcessMap as exc:
        more = f" and {len(exc.problems) - 1} more" if len(exc.problems) > 1 else ""
        _fail(
            f"the process map {path} cannot be used: {one_line(exc.problems[0])}{more} "
            f"(`csflow process-map check {path}` lists every problem)"
        )


def account_handoffs(session: Session, account_id: str) -> tuple[AccountRow, list[HandoffRow]]:
    """The account and its handoff rows; UnknownAccount when the CRM has no such account."""
    account = session.get(AccountRow, account_id)
    if account is None:
        raise UnknownAccount(account_id)
    rows = session.exec(select(HandoffRow).where(HandoffRow.account_id == account_id)).all()
    return account, list(rows)


def as_of(rows: list[HandoffRow], now: datetime | None = None) -> datetime:
    """Today for an account's view: now, or its latest handoff change if that is later. The demo
    runs its journeys on simulated time, months ahead of the wall clock; a view "as of now"
    would show its whole year as the future."""
    moments = [now or datetime.now(UTC), *(r.updated_at for r in rows)]
    return max(m if m.tzinfo else m.replace(tzinfo=UTC) for m in moments)


def account_map_status(
    process_map: ProcessMap, account: AccountRow, rows: list[HandoffRow], now: datetime | None
) -> AccountMapStatus:
    """Every milestone of the map for the account, in map order then cycle: each handoff as
    recorded, and a milestone without one as not started with what it waits for; handoffs of
    milestones the map does not have come last."""
    order = {m.id: i for i, m in enumerate(process_map.milestones)}
    milestones = {m.id: m for m in process_map.milestones}
    found: list[MilestoneStatus] = []
    for row in rows:
        milestone = milestones.get(row.milestone_id)
        # The workflow records the function's name; a row of a milestone this map does not
        # have is matched by name or id.
        function = (
            process_map.function(milestone.function)
            if milestone is not None
            else next((f for f in process_map.functions if row.function in (f.id, f.name)), None)
        )
        found.append(
            MilestoneStatus(
                milestone_id=row.milestone_id,
                cycle=row.cycle,
                title=occurrence_title(milestone, row.cycle) if milestone else row.title,
                function=function.id if function else row.function,
                function_name=function.name if function else row.function,
                owner=row.owner,
                state=row.state,
                handoff=row,
            )
        )
    started = {r.milestone_id for r in rows}
    for milestone in process_map.milestones:
        if milestone.id in started:
            continue
        function = process_map.function(milestone.function)
        found.append(
            MilestoneStatus(
                milestone_id=milestone.id,
                title=milestone.title,
                cycle=0,
                function=function.id,
                function_name=function.name,
                owner=function.owner,
                state=NOT_STARTED,
                waits_for=starts_in_words(milestone),
            )
        )
    found.sort(key=lambda s: (order.get(s.milestone_id, len(order)), s.cycle))
    return AccountMapStatus(
        account_id=account.id,
        account_name=account.name,
        map_title=process_map.title,
        map_version=process_map.label,
        handoff_map_versions=sorted({r.map_version for r in rows}),
        as_of=as_of(rows, now),
        milestones=found,
    )


def _details(status: MilestoneStatus, process_map: ProcessMap) -> str:
    """What a person asks next about an occurrence in its state."""
    row = status.handoff
    if row is None:
        return f"starts {status.waits_for}"
    if row.state == HandoffState.DONE:
        when = f" on {day_text(row.done_at)}" if row.done_at else ""
        evidence = f": {one_line(row.evidence, 60)}" if row.evidence else ""
        return f"by {row.done_by or 'someone unrecorded'}{when}{evidence}"
    if row.state == HandoffState.OVERDUE and row.escalated_at is not None:
        lead = next((f.lead for f in process_map.functions if f.id == status.function), None)
        return f"escalated to {lead or 'its lead'} on {day_text(row.escalated_at)}"
    if row.state == HandoffState.BLOCKED:
        return row.blocker or "a milestone it depends on is not done"
    if row.state == HandoffState.WAITING and row.starts_at is not None:
        return f"starts {day_text(row.starts_at)}"
    if row.state in (HandoffState.OPEN, HandoffState.OVERDUE):
        task = f"task #{row.task_id}" if row.task_id is not None else "handed over"
        return task + (f", opened {day_text(row.opened_at)}" if row.opened_at else "")
    if row.state == HandoffState.CANCELLED:
        return "the customer's journey ended first"
    return ""


def _say_status(found: AccountMapStatus, process_map: ProcessMap) -> None:
    counts = Counter(s.state for s in found.milestones)
    order = [*SUMMARY_ORDER, *sorted(set(counts) - set(SUMMARY_ORDER))]
    typer.echo(
        f"{found.account_name} ({found.account_id}): {found.map_title}, "
        f"map {found.map_version}, as of {day_text(found.as_of)}"
    )
    typer.echo(
        f"{len(found.milestones)} milestones: "
        + ", ".join(f"{counts[state]} {state_words(state)}" for state in order if counts[state])
    )
    others = [v for v in found.handoff_map_versions if v not in (found.map_version,)]
    if others:
        typer.echo(
            f"Note: its handoffs were recorded with map {', '.join(others)}; the milestones "
            f"listed are those of map {found.map_version} (--map gives another map file)"
        )
    if not found.handoff_map_versions:
        typer.echo("No handoffs recorded yet: its process-map workflow has not started one.")
    rows = [
        (
            s.title,
            s.function_name,
            s.owner,
            day_text(s.handoff.due_at) if s.handoff and s.handoff.due_at else None,
            state_words(s.state),
            _details(s, process_map),
        )
        for s in found.milestones
    ]
    typer.echo("")
    typer.echo(table(["milestone", "function", "owner", "due", "state", "details"], rows))


def as_runs(rows: list[HandoffRow]) -> list[MilestoneRun]:
    """The rows as the workflow's runs, for the picture (a row it could not have written, with
    no dates or a state it does not know, is left out)."""
    known = {state.value for state in HandoffState}
    return [
        MilestoneRun.model_validate(row, from_attributes=True)
        for row in rows
        if row.starts_at is not None and row.due_at is not None and row.state in known
    ]


def account_map_svg(
    process_map: ProcessMap, account: AccountRow, rows: list[HandoffRow], now: datetime | None
) -> str:
    """The account's picture: its handoffs on their dates, coloured by state, and today's line
    (day zero: its payment, from the handoffs; without any, when the account was created)."""
    runs = as_runs(rows)
    start = day_zero(process_map, runs) or account.created_at
    return process_map_svg(
        process_map,
        runs,
        start=start if start.tzinfo else start.replace(tzinfo=UTC),
        now=as_of(rows, now),
        subject=f"{account.name} ({account.id})",
    )


def render_account_map(
    store: Store,
    account_id: str,
    out_path: Path,
    process_map: ProcessMap,
    *,
    now: datetime | None = None,
) -> Path:
    """Write the account's picture of `process_map` to `out_path` (UnknownAccount: no such
    account); the path written."""
    with store.session() as session:
        account, rows = account_handoffs(session, account_id)
    out_path.write_text(account_map_svg(process_map, account, rows, now), encoding="utf-8")
    return out_path


def _read_account(account_id: str) -> tuple[AccountRow, list[HandoffRow]]:
    try:
        with crm_session() as session:
            return account_handoffs(session, account_id)
    except UnknownAccount:
        _fail(f"no account {account_id!r} in the CRM ({ACCOUNT_HINT})")


@process_map_app.command("check")
def check(
    file: Path | None = MAP_ARGUMENT,
) -> None:
    """Check a map file: `ok`, or each problem on a line of its own (exit code 1).

    Problems are dependency cycles (named by their path), unknown functions or milestones,
    missing owners and leads, and timings that cannot be met.

    Example: csflow process-map check domain/process_maps/default.yaml
    """
    path = _map_file(file)
    try:
        process_map = load_map(path)
    except InvalidProcessMap as exc:
        for problem in exc.problems:
            typer.echo(one_line(problem, 2000))
        one = len(exc.problems) == 1
        count = "1 problem" if one else f"{len(exc.problems)} problems"
        _fail(f"{path}: {count}, listed above (fix {'it' if one else 'them'} and check again)")
    typer.echo(
        f"ok: {process_map.label}, {len(process_map.functions)} functions, "
        f"{len(process_map.milestones)} milestones"
    )


@process_map_app.command("status")
def status(
    account_id: str = typer.Argument(..., help="the account's id", metavar="ACCOUNT"),
    map_file: Path | None = MAP_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """An account's milestones: function, owner, due date, state and what holds each up.

    Example: csflow process-map status acme
    """
    process_map = _load(map_file)
    account, rows = _read_account(account_id)
    found = account_map_status(process_map, account, rows, None)
    if as_json:
        typer.echo(json.dumps(found.model_dump(mode="json"), indent=2))
        return
    _say_status(found, process_map)


@process_map_app.command("render")
def render(
    out: Path = OUT_OPTION,
    account_id: str | None = ACCOUNT_OPTION,
    map_file: Path | None = MAP_OPTION,
) -> None:
    """Draw the map as an SVG swimlane diagram (open it in a browser).

    Example: csflow process-map render --account acme --out acme-map.svg
    """
    process_map = _load(map_file)
    if account_id is None:
        picture = process_map_svg(process_map)
        what = f"the process map {process_map.label}"
    else:
        account, rows = _read_account(account_id)
        picture = account_map_svg(process_map, account, rows, None)
        what = f"{account.name} ({account.id}) on map {process_map.label}"
    try:
        out.write_text(picture, encoding="utf-8")
    except OSError as exc:
        _fail(
            f"cannot write {out}: {exc.strerror or exc} (give --out a file in an existing folder)"
        )
    typer.echo(f"wrote {out.resolve()}: {what}")


def register(app: typer.Typer) -> None:
    """Add `process-map` to the `csflow` app."""
    app.add_typer(process_map_app, name="process-map")
