"""`csflow` command line over `starter.api` (and the worker and demo).

People get plain-text tables; `--json` gives scripts one JSON document on stdout. Every failure
is one line on stderr, `csflow: what went wrong (what to do)`, with a non-zero exit code.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from typer.core import TyperGroup

from domain.models import ContactRole, LifecycleStage, Segment
from starter.cs_commands import register as register_cs_commands
from starter.process_map_commands import register as register_process_map_commands
from starter.task_commands import register as register_task_commands
from starter.user_commands import register as register_user_commands

if TYPE_CHECKING:
    from temporalio.client import Client

    from domain.models import AccountUpsert, ContactInput
    from domain.settings import Settings
    from workflows.journey_state import JourneyInput


def _usage_errors() -> type[Exception]:
    """The base of Typer's usage errors: its own since it carries click inside it, click's
    before."""
    if hasattr(typer, "TyperException"):
        return typer.TyperException
    import click

    return click.ClickException


class _OneLineErrors(TyperGroup):
    """Usage errors (a missing option, a value that is not one of the choices) as one line on
    stderr, `csflow: ... (see `csflow CMD --help`)`, exit code 2, instead of a framed box."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        try:
            result = super().main(*args, **{**kwargs, "standalone_mode": False})
        except _usage_errors() as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # else the help is printed already
                ctx = getattr(exc, "ctx", None)
                hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
                shown = exc.format_message() if hasattr(exc, "format_message") else str(exc)
                typer.echo(f"csflow: {shown}{hint}", err=True)
            sys.exit(getattr(exc, "exit_code", 2))
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    help="csflow: customer-success workflows on Temporal.",
    no_args_is_help=True,
    cls=_OneLineErrors,
)
journey_app = typer.Typer(help="Customer journeys.", no_args_is_help=True)
journeys_app = typer.Typer(help="Search journeys.", no_args_is_help=True)
event_app = typer.Typer(help="Customer events.", no_args_is_help=True)
app.add_typer(journey_app, name="journey")
app.add_typer(journeys_app, name="journeys")
app.add_typer(event_app, name="event")
register_cs_commands(app)
register_process_map_commands(app)
register_task_commands(app)
register_user_commands(app)

T = TypeVar("T")
# How long the CLI waits for Temporal to answer a connection, and a worker to answer a query.
CONNECT_TIMEOUT = timedelta(seconds=10)
QUERY_TIMEOUT = timedelta(seconds=10)
START_HINT = "start one with `csflow dev` or set TEMPORAL_ADDRESS"
JSON_OPTION = typer.Option(False, "--json", help="one JSON document on stdout, for scripts")


def _version(show: bool) -> None:
    if show:
        try:
            typer.echo(f"csflow {version('csflow')}")
        except PackageNotFoundError:
            typer.echo("csflow (not installed: no package metadata)")
        raise typer.Exit()


@app.callback()
def _main_options(
    show_version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="print csflow's version and exit",
    ),
) -> None:
    """csflow: customer-success workflows on Temporal."""


# --- failures -------------------------------------------------------------------------------


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


def _temporal_address() -> str:
    from starter.connection import connect_config

    try:
        return str(connect_config()["target_host"])
    except Exception:  # a broken profile file: the connection attempt will say so
        return "the address in your Temporal profile or TEMPORAL_ADDRESS"


def _reason(error: BaseException) -> str:
    """The few words of a connection failure people need: `Connection refused`, not the
    transport's nested debug text."""
    from temporalio.service import RPCError

    raw = error.message if isinstance(error, RPCError) else str(error)
    quoted = re.findall(r'message: "([^"]+)"', raw)
    if quoted:
        return quoted[-1]
    if isinstance(error, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT.seconds} s"
    flat = " ".join(raw.removeprefix("Failed client connect:").split())
    return flat[:160] or type(error).__name__


def _unreachable(error: BaseException) -> NoReturn:
    _fail(f"cannot reach Temporal at {_temporal_address()}: {_reason(error)} ({START_HINT})")


async def _connect() -> Client:
    from starter.connection import connect

    try:
        return await asyncio.wait_for(connect(), CONNECT_TIMEOUT.total_seconds())
    except (TimeoutError, RuntimeError, ConnectionError) as exc:
        _unreachable(exc)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    from temporalio.service import RPCError, RPCStatusCode

    from starter.api import JourneyUnanswered
    from starter.http.temporal_errors import is_unavailable
    from starter.live_stack import LiveStackError
    from starter.temporal_binaries import TemporalBinaryMissing

    try:
        return asyncio.run(coro)
    except (TemporalBinaryMissing, LiveStackError) as exc:
        _fail(str(exc))
    except JourneyUnanswered as exc:
        if exc.failure:
            _fail(
                f"{exc.workflow_id} {exc.workflow_status}: {exc.failure} (no worker answered for"
                " the rest of its status: start one with `csflow worker`)"
            )
        _fail(
            f"{exc.workflow_id} is {exc.workflow_status} but no worker answered its status query"
            f" within {QUERY_TIMEOUT.seconds} s (start one with `csflow worker`)"
        )
    except RPCError as exc:
        if is_unavailable(exc):
            _unreachable(exc)
        if exc.status == RPCStatusCode.NOT_FOUND:
            _fail(f"not found: {exc.message}")
        _fail(f"Temporal refused the request ({exc.status.name}): {exc.message}")


def _emit(value: Any) -> None:
    """`value` as one JSON document (models in their JSON form)."""
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    typer.echo(json.dumps(data))


# --- option values --------------------------------------------------------------------------


def _not_one_of(kind: str, value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown {kind} {value!r}{guess}; expected one of: {', '.join(choices)}"


def _one_of(kind: str, choices: Sequence[str]) -> Callable[[str | None], str | None]:
    """An option callback refusing anything but `choices` (one line, with the choices)."""

    def check(value: str | None) -> str | None:
        if value is None or value in choices:
            return value
        raise typer.BadParameter(_not_one_of(kind, value, choices))

    return check


STAGES = [s.value for s in LifecycleStage]
TIERS = [s.value for s in Segment]
ROLES = [r.value for r in ContactRole]
CONTACT_HELP = f"'Name <email> role', role one of {', '.join(ROLES)} (default user); repeatable"


def _segment_keys() -> set[str]:
    """Every dynamic segment key (`smb-healthy-adoption`, `enterprise-churned`, ...)."""
    from domain.models import Account, HealthBand, SegmentationMode
    from domain.segmentation import segment_for

    keys = set()
    for tier in Segment:
        account = Account(id="a", name="a", arr=0, segment=tier, csm_owner="csm@csflow.example")
        for band in [None, *HealthBand]:
            for stage in LifecycleStage:
                keys.add(segment_for(account, band, stage, SegmentationMode.DYNAMIC).key)
    return keys


def _listed_segment(value: str | None) -> str | None:
    """A tier (which also matches its dynamic segments) or one dynamic segment key."""
    keys = _segment_keys()
    if value is None or value in TIERS or value in keys:
        return value
    close = difflib.get_close_matches(value, [*TIERS, *sorted(keys)], n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    raise typer.BadParameter(
        f"unknown segment {value!r}{guess}; expected a tier ({', '.join(TIERS)}) or a dynamic"
        " segment <tier>-<band>-<phase> such as smb-healthy-adoption"
    )


# --- journey start --------------------------------------------------------------------------

_CONTACT = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*(?P<role>\S*)\s*$")
_FLAGS = {
    "id": "--account-id",
    "name": "--name",
    "arr": "--arr",
    "csm_owner": "--csm",
    "plan": "--plan",
    "segment": "--segment",
    "contract": "--contract-*",
}


def parse_contact(text: str, account_id: str, taken: set[str]) -> ContactInput:
    """`Name <email> role` (role: champion, decision_maker or user; default user)."""
    from domain.models import ContactInput

    match = _CONTACT.match(text)
    if match is None or not match["name"]:
        raise typer.BadParameter(
            f"{text!r} is not `Name <email> role`, e.g. 'Chris Champion <chris@acme.example>"
            " champion'",
            param_hint="--contact",
        )
    role = match["role"] or ContactRole.USER.value
    if role not in ROLES:
        raise typer.BadParameter(_not_one_of("role", role, ROLES), param_hint="--contact")
    local = match["email"].split("@")[0].lower()
    base = f"{account_id}-{re.sub(r'[^a-z0-9]+', '-', local).strip('-') or 'contact'}"[:60]
    contact_id, number = base, 1
    while contact_id in taken:
        number += 1
        contact_id = f"{base}-{number}"
    taken.add(contact_id)
    try:
        return ContactInput(
            id=contact_id, name=match["name"], email=match["email"], role=ContactRole(role)
        )
    except ValidationError as exc:
        from domain.input_checks import describe_errors

        raise typer.BadParameter(describe_errors(exc), param_hint="--contact") from None


def _flagged(exc: ValidationError) -> str:
    """Validation errors of an account built from flags, named by their flags."""
    problems = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        if loc[:1] == ["contacts"] and len(loc) > 1:
            where = f"--contact #{int(loc[1]) + 1}"
        else:
            where = _FLAGS.get(loc[0], ".".join(loc)) if loc else "input"
        problems.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return "; ".join(problems)


def _required_flags(
    account_id: str | None, name: str | None, arr: float | None, csm: str | None
) -> tuple[tuple[str, object], ...]:
    """The options (with their values) an account given by options cannot do without."""
    return (("--account-id", account_id), ("--name", name), ("--arr", arr), ("--csm", csm))


def _account_from_flags(
    account_id: str | None,
    name: str | None,
    arr: float | None,
    csm: str | None,
    segment: str | None,
    contacts: list[str],
    plan: str,
    contract_start: str | None,
    contract_end: str | None,
    contract_value: float | None,
    auto_renew: bool,
) -> AccountUpsert:
    from domain.models import AccountUpsert, ContractInput

    missing = [
        flag for flag, value in _required_flags(account_id, name, arr, csm) if value is None
    ] + ([] if contacts else ["--contact"])
    if missing:
        _fail(
            f"journey start needs {', '.join(missing)} (or a JSON input file); "
            "see `csflow journey start --help` and examples/"
        )
    assert account_id is not None and name is not None and arr is not None and csm is not None
    taken: set[str] = set()
    people = [parse_contact(c, account_id, taken) for c in contacts]
    contract = None
    if contract_end is None:
        if contract_start is not None or contract_value is not None or auto_renew:
            _fail("--contract-start, --contract-value and --auto-renew need --contract-end")
    else:
        try:
            start = date.fromisoformat(contract_start) if contract_start else date.today()
            end = date.fromisoformat(contract_end)
        except ValueError as exc:
            _fail(f"--contract-start/--contract-end: {exc} (expected YYYY-MM-DD)")
        try:
            contract = ContractInput(
                start_date=start,
                end_date=end,
                value=arr if contract_value is None else contract_value,
                auto_renew=auto_renew,
            )
        except ValidationError as exc:
            from domain.input_checks import describe_errors

            _fail(f"invalid contract: {describe_errors(exc)}")
    try:
        return AccountUpsert(
            id=account_id,
            name=name,
            arr=arr,
            plan=plan,
            segment=Segment(segment) if segment else None,
            csm_owner=csm,
            contacts=people,
            contract=contract,
        )
    except ValidationError as exc:
        _fail(f"invalid account: {_flagged(exc)}")


def _journey_from_file(path: Path) -> JourneyInput:
    from domain.input_checks import describe_errors
    from domain.models import AccountUpsert
    from workflows.journey_state import JourneyInput

    try:
        raw = path.read_text()
    except FileNotFoundError:
        _fail(f"no such journey input file: {path} (see examples/journey.json)")
    except OSError as exc:
        _fail(f"cannot read journey input file {path}: {exc.strerror or exc}")
    try:
        journey = JourneyInput.model_validate_json(raw)
        # A journey reads its recorded account leniently (accepted earlier); new input is
        # checked by today's rules here, so the field at fault is named at the command line.
        AccountUpsert.model_validate(journey.account.model_dump(mode="json"))
    except ValidationError as exc:
        _fail(f"invalid journey input: {describe_errors(exc)}")
    return journey


@journey_app.command("start")
def journey_start(
    input_file: Path | None = typer.Argument(  # noqa: B008 - Typer's declaration idiom
        None,
        help="JSON JourneyInput (account, config, team), e.g. examples/journey.json; "
        "or describe the account with the options below",
        show_default=False,
    ),
    account_id: str | None = typer.Option(None, "--account-id", help="the account's id"),
    name: str | None = typer.Option(None, help="the account's name"),
    arr: float | None = typer.Option(None, help="annual recurring revenue"),
    csm: str | None = typer.Option(None, help="email of the owning CSM"),
    segment: str | None = typer.Option(
        None,
        help=f"{', '.join(TIERS)} (default: from ARR)",
        callback=_one_of("segment", TIERS),
    ),
    contact: list[str] = typer.Option(  # noqa: B008 - Typer's declaration idiom
        [],
        help=CONTACT_HELP,
    ),
    plan: str = typer.Option("standard", help="the plan the account is on"),
    contract_start: str | None = typer.Option(None, help="YYYY-MM-DD (default: today)"),
    contract_end: str | None = typer.Option(None, help="YYYY-MM-DD: the contract's end"),
    contract_value: float | None = typer.Option(None, help="default: the ARR"),
    auto_renew: bool = typer.Option(False, "--auto-renew", help="the contract renews itself"),
    trial: bool = typer.Option(False, help="start as a trial instead of a paid customer"),
    task_queue: str | None = typer.Option(None, help="default: CSFLOW_TASK_QUEUE, else csflow"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start (or signal) an account's journey, from options or a JSON input file.

    With options, the journey gets its segment's default playbook configuration (segment from
    --segment, else from ARR). A journey already running is signalled instead (signal-with-start).

    Example: csflow journey start --account-id acme --name "Acme Corp" --arr 50000
    --csm casey@example.com --contact "Chris Champion <chris@acme.example> champion"
    """
    from starter.api import start_journey
    from starter.http.account_journeys import journey_input
    from workflows.customer_event import CustomerEvent
    from workflows.playbooks.registry import policy_problems

    flags_given = [
        flag
        for flag, value in (
            *_required_flags(account_id, name, arr, csm),
            ("--segment", segment),
            ("--contact", contact or None),
            ("--contract-start", contract_start),
            ("--contract-end", contract_end),
            ("--contract-value", contract_value),
            ("--auto-renew", auto_renew or None),
        )
        if value is not None
    ]
    if input_file is not None:
        if flags_given:
            _fail(f"give a JSON input file or account options, not both ({', '.join(flags_given)})")
        journey = _journey_from_file(input_file)
    else:
        journey = journey_input(
            _account_from_flags(
                account_id,
                name,
                arr,
                csm,
                segment,
                contact,
                plan,
                contract_start,
                contract_end,
                contract_value,
                auto_renew,
            )
        )
    problems = policy_problems(journey.config.playbooks)
    if problems:
        _fail(f"invalid journey input: config.{'; config.'.join(problems)}")
    account = journey.account
    first = CustomerEvent(
        account_id=account.id, type="trial_started" if trial else "payment_received"
    )

    async def go() -> tuple[str, bool]:
        queue = task_queue or _settings().task_queue
        client = await _connect()
        was_running = await _running(client, account.id)
        handle = await start_journey(client, journey, first, task_queue=queue)
        return handle.id, was_running

    workflow_id, was_running = _run(go())
    if as_json:
        _emit({"workflow_id": workflow_id})
        return
    if was_running:
        typer.echo(f"{account.name} ({account.id}): {workflow_id} was running already; told it")
        typer.echo(f"{first.type} (its input stays the one it started with)")
    else:
        typer.echo(f"Started the journey of {account.name} ({account.id}): {workflow_id}")
        typer.echo(
            f"segment {account.effective_segment.value} (its default playbook configuration), "
            f"CSM {account.csm_owner}, {len(account.contacts)} contact"
            + ("" if len(account.contacts) == 1 else "s")
            + f", first event {first.type}"
        )
    typer.echo(f"Follow it: csflow journey status {account.id}")


async def _running(client: Client, account_id: str) -> bool:
    from temporalio.client import WorkflowExecutionStatus
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.workflow_ids import journey_id

    try:
        described = await client.get_workflow_handle(journey_id(account_id)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status == WorkflowExecutionStatus.RUNNING


# --- events and status ----------------------------------------------------------------------


@event_app.command("send")
def event_send(
    account_id: str,
    event_type: str,
    payload: str = typer.Option("{}", help="JSON object with the event payload"),
    event_id: str | None = typer.Option(None, help="idempotency id for re-sends"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send a customer event and wait for the journey's acknowledgement."""
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.exceptions import FailureError

    from domain.input_checks import describe_errors
    from starter.api import send_event
    from starter.cli_output import acknowledgement
    from workflows.customer_event import CustomerEvent, EventAck

    try:
        parsed = json.loads(payload)
    except json.JSONDecodeError as exc:
        _fail(f"--payload is not valid JSON: {exc}")
    if not isinstance(parsed, dict):
        _fail("--payload must be a JSON object")
    try:
        event = CustomerEvent(
            account_id=account_id, type=event_type, payload=parsed, event_id=event_id
        )
    except ValidationError as exc:
        _fail(f"invalid event: {describe_errors(exc)}")

    async def go() -> EventAck:
        client = await _connect()
        try:
            return await send_event(client, event)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            _fail(f"event rejected: {cause.message if isinstance(cause, FailureError) else cause}")

    ack = _run(go())
    typer.echo(ack.model_dump_json() if as_json else acknowledgement(ack))


@journey_app.command("status")
def journey_status_cmd(account_id: str, as_json: bool = JSON_OPTION) -> None:
    """Show a journey's status, and why it ended if it failed or was stopped."""
    from temporalio.service import RPCError, RPCStatusCode

    from starter.api import JourneyView, describe_journey
    from starter.cli_output import journey

    async def go() -> JourneyView:
        client = await _connect()
        try:
            return await describe_journey(client, account_id, rpc_timeout=QUERY_TIMEOUT)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                _fail(
                    f"account {account_id!r} has no journey (start one with"
                    " `csflow journey start`; `csflow journeys list` shows the others)"
                )
            raise

    view = _run(go())
    typer.echo(view.model_dump_json() if as_json else journey(view))


@journeys_app.command("list")
def journeys_list(
    stage: str | None = typer.Option(
        None, help=f"one of {', '.join(STAGES)}", callback=_one_of("stage", STAGES)
    ),
    csm: str | None = typer.Option(None, help="email of the owning CSM"),
    segment: str | None = typer.Option(
        None,
        help=f"a tier ({', '.join(TIERS)}; matches its dynamic segments) or a dynamic segment",
        callback=_listed_segment,
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List journeys by lifecycle stage, CSM owner or segment (visibility query)."""
    from starter.api import JourneyListing, list_journeys
    from starter.cli_output import listings

    async def go() -> list[JourneyListing]:
        return await list_journeys(await _connect(), stage=stage, csm=csm, segment=segment)

    found = _run(go())
    if as_json:
        _emit(found)
    else:
        typer.echo(listings(found))


# --- processes ------------------------------------------------------------------------------


@app.command()
def worker() -> None:
    """Run the worker (all workflows and activities)."""
    from starter.worker_process import main as worker_main

    worker_main()


def _settings() -> Settings:
    from domain.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        _fail(str(exc))


def _quiet_logs() -> None:
    from starter.logging_setup import configure_logging

    # Keep stdout for the report: logs go to stderr, warnings and above only.
    configure_logging(_settings(), level="WARNING")


def _progress(message: str) -> None:
    typer.echo(f"csflow demo: {message}", err=True)


@app.command()
def demo(
    as_json: bool = typer.Option(False, "--json", help="print one JSON document and exit"),
    no_serve: bool = typer.Option(
        False, "--no-serve", help="exit after the simulated year instead of serving the live stack"
    ),
) -> None:
    """Simulate a customer year for six scripted accounts and print what happened; then serve
    the live stack (Temporal with its Web UI, worker, API) with the six journeys until Ctrl-C.
    Progress goes to stderr, so `--json` output stays one document."""
    from starter.demo import render, run_demo

    # SIGTERM stops the year as Ctrl-C does (asyncio cancels the run, which shuts down the test
    # server it started).
    signal.signal(signal.SIGTERM, lambda *_: os.kill(os.getpid(), signal.SIGINT))
    _quiet_logs()
    _progress("1/2 simulating a customer year on Temporal's time-skipping test server")
    summary = _run(run_demo(on_progress=_progress))
    if as_json:
        typer.echo(summary.model_dump_json())
        return
    typer.echo(render(summary))
    if no_serve:
        return
    _progress("2/2 starting the live stack: Temporal dev server with Web UI, worker, API")
    _serve_live(with_sample_accounts=True)


@app.command()
def dev() -> None:
    """Run the live stack for local development until Ctrl-C: `temporal server start-dev` with
    the Web UI (SQLite under var/), csflow's search attributes, the worker and the API."""
    _quiet_logs()
    _serve_live(with_sample_accounts=False)


def _serve_live(with_sample_accounts: bool) -> None:
    from starter.console.demo_user import demo_manager
    from starter.live_demo import start_sample_journeys, survey_link
    from starter.live_stack import default_stack, serve_until_stopped

    settings = _settings()
    stack = default_stack(Path("var") / "live")

    async def ready(client: Client) -> None:
        lines = [
            f"Temporal Web UI:  {stack.ui_url}",
            f"Temporal address: {stack.temporal_address} (TEMPORAL_ADDRESS for csflow and the"
            " temporal CLI)",
            f"API docs:         {stack.api_url}/docs   (bearer token: {stack.api_token})",
            f"CRM database:     {stack.database_url} (DATABASE_URL for csflow's task, plan and"
            " process-map commands)",
        ]
        if with_sample_accounts:
            customers = await start_sample_journeys(client, settings.task_queue)
            first = customers[0].account
            lines.insert(1, f"{first.name} in the Web UI: {stack.account_query_url(first.id)}")
            link = await survey_link(client, stack, customers)
            lines.append(f"A survey page:    {link or 'none yet (see var/live/logs)'}")
            lines.append(demo_manager(stack.database_url, stack.api_url).line())
        lines += [f"Logs:             {stack.var_dir / 'logs'}", "Ctrl-C stops everything."]
        typer.echo("\n".join(lines))

    _run(serve_until_stopped(stack, ready))


@app.command()
def api(
    host: str | None = typer.Option(
        None, help="address to listen on (default: CSFLOW_API_HOST, else 127.0.0.1)"
    ),
    port: int | None = typer.Option(None, help="default: CSFLOW_API_PORT, else 8000"),
) -> None:
    """Serve the customer actions API: event intake, webhooks, survey pages and /docs."""
    from starter.http.serve import serve

    settings = _settings()
    serve(settings, host or settings.api_host, port or settings.api_port)


def main() -> None:
    try:
        app()
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    # Exit without interpreter finalization: the SDK's runtime threads can abort it
    # ("PyGILState_Release ... finalizing"), turning a successful command into exit -6.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else (0 if code is None else 1))


if __name__ == "__main__":
    main()
