"""`csflow` command line over `starter.api` (and the worker and demo)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from starter.cs_commands import register as register_cs_commands

if TYPE_CHECKING:
    from domain.settings import Settings

app = typer.Typer(help="csflow: customer-success workflows on Temporal.", no_args_is_help=True)
journey_app = typer.Typer(help="Customer journeys.", no_args_is_help=True)
journeys_app = typer.Typer(help="Search journeys.", no_args_is_help=True)
event_app = typer.Typer(help="Customer events.", no_args_is_help=True)
app.add_typer(journey_app, name="journey")
app.add_typer(journeys_app, name="journeys")
app.add_typer(event_app, name="event")
register_cs_commands(app)

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    from temporalio.service import RPCError, RPCStatusCode

    from starter.live_stack import LiveStackError
    from starter.temporal_binaries import TemporalBinaryMissing

    try:
        return asyncio.run(coro)
    except (TemporalBinaryMissing, LiveStackError) as exc:
        _fail(str(exc))
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            _fail(f"not found: {exc.message}")
        _fail(f"Temporal refused the request ({exc.status.name}): {exc.message}")
        raise  # unreachable: _fail exits


def _emit(value: Any, as_json: bool) -> None:
    if isinstance(value, BaseModel):
        data: Any = value.model_dump(mode="json")
    elif isinstance(value, list):
        data = [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    else:
        data = value
    typer.echo(json.dumps(data, indent=None if as_json else 2, sort_keys=not as_json))


def _fields_at_fault(exc: ValidationError) -> str:
    """Pydantic's errors on one line: `field.path: problem; ...`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
        for error in exc.errors()
    )


def _fail(message: str) -> NoReturn:
    typer.echo(f"csflow: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def worker() -> None:
    """Run the worker (all workflows and activities)."""
    from starter.worker_process import main as worker_main

    worker_main()


@journey_app.command("start")
def journey_start(
    account_file: Path = typer.Argument(  # noqa: B008 - Typer's declaration idiom
        ..., help="JSON JourneyInput (account, config, team)"
    ),
    trial: bool = typer.Option(False, help="start as a trial instead of a paid customer"),
    task_queue: str | None = typer.Option(None, help="default: CSFLOW_TASK_QUEUE, else csflow"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start (or signal) the journey of an account: signal-with-start."""
    from domain.models import AccountUpsert
    from starter.api import start_journey
    from starter.connection import connect
    from workflows.customer_event import CustomerEvent
    from workflows.journey_state import JourneyInput

    try:
        input = JourneyInput.model_validate_json(account_file.read_text())
        # A journey reads its recorded account leniently (accepted earlier); new input is
        # checked by today's rules here, so the field at fault is named at the command line.
        AccountUpsert.model_validate(input.account.model_dump(mode="json"))
    except ValidationError as exc:
        _fail(f"invalid journey input: {_fields_at_fault(exc)}")
        return
    first = CustomerEvent(
        account_id=input.account.id, type="trial_started" if trial else "payment_received"
    )

    async def go() -> str:
        queue = task_queue or _settings().task_queue
        handle = await start_journey(await connect(), input, first, task_queue=queue)
        return handle.id

    _emit({"workflow_id": _run(go())}, as_json)


@event_app.command("send")
def event_send(
    account_id: str,
    event_type: str,
    payload: str = typer.Option("{}", help="JSON object with the event payload"),
    event_id: str | None = typer.Option(None, help="idempotency id for re-sends"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Send a customer event and wait for the journey's acknowledgement."""
    from temporalio.client import WorkflowUpdateFailedError

    from starter.api import send_event
    from starter.connection import connect
    from workflows.customer_event import CustomerEvent

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
        _fail(f"invalid event: {_fields_at_fault(exc)}")

    async def go() -> Any:
        return await send_event(await connect(), event)

    try:
        _emit(_run(go()), as_json)
    except WorkflowUpdateFailedError as exc:
        _fail(f"event rejected: {exc.cause}")


@journey_app.command("status")
def journey_status_cmd(account_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show a journey's status (query)."""
    from starter.api import journey_status
    from starter.connection import connect

    async def go() -> Any:
        return await journey_status(await connect(), account_id)

    _emit(_run(go()), as_json)


@journeys_app.command("list")
def journeys_list(
    stage: str | None = typer.Option(None),
    csm: str | None = typer.Option(None),
    segment: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List journeys by lifecycle stage, CSM owner or segment (visibility query)."""
    from starter.api import list_journeys
    from starter.connection import connect

    async def go() -> Any:
        return await list_journeys(await connect(), stage=stage, csm=csm, segment=segment)

    _emit(_run(go()), as_json)


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
    the live stack (Temporal with its Web UI, worker, API) with the six journeys until Ctrl-C."""
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
    from temporalio.client import Client

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
        ]
        if with_sample_accounts:
            customers = await start_sample_journeys(client, settings.task_queue)
            first = customers[0].account
            lines.insert(1, f"{first.name} in the Web UI: {stack.account_query_url(first.id)}")
            link = await survey_link(client, stack, customers)
            lines.append(f"A survey page:    {link or 'none yet (see var/live/logs)'}")
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
    """Serve the customer actions API: event intake, webhooks and survey pages."""
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
