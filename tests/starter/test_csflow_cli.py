"""The `csflow` CLI as operators run it: a subprocess talking to `temporal server start-dev`.

The worker runs in the test process (every workflow, activity doubles from tests/workflows), on
a task queue of its own; the CLI finds the server through TEMPORAL_ADDRESS. Subprocesses are
awaited with asyncio so the in-process worker keeps serving while the CLI waits on it.

Commands that talk to the server run `starter.cli.app` through tests.support.cli_runner, which
ends the process with `os._exit` once the command is done: a short-lived Temporal client process
can abort during interpreter finalization ("PyGILState_Release ... finalizing", SIGABRT;
temporalio/sdk-python #300), which would make these tests flaky. `csflow --help` runs the real
console script.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest_asyncio
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import (
    AccountUpsert,
    ContactInput,
    ContactRole,
    ContractInput,
    LifecycleStage,
    Segment,
)
from domain.segments import default_config
from starter.api import journey_status, list_journeys, start_journey
from starter.worker_process import ensure_search_attributes
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.journey_state import JourneyInput

# The activity doubles live with the workflow tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))
from tests.support.cli_runner import Done, cli_environment, run_csflow  # noqa: E402
from tests.support.cs_doubles import FakeCrm  # noqa: E402

CSFLOW = str(Path(sys.executable).parent / "csflow")
T = TypeVar("T")


class Cli:
    def __init__(self, env: WorkflowEnvironment, crm: FakeCrm, queue: str, tmp: Path) -> None:
        self.env, self.crm, self.queue, self.tmp = env, crm, queue, tmp
        self.started: list[str] = []
        self.environ = cli_environment(env)

    async def __call__(
        self, *args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> Done:
        """Run `csflow *args` (in `cwd`, with `env` over the test's environment; None unsets)."""
        return await run_csflow(args, {**self.environ, **(env or {})}, cwd or self.tmp)

    def journey_file(self, account_id: str, csm: str) -> Path:
        today = date.today()
        journey = JourneyInput(
            account=AccountUpsert(
                id=account_id,
                name=f"CLI {account_id}",
                arr=50_000,
                segment=Segment.MID_MARKET,
                csm_owner=csm,
                contacts=[
                    ContactInput(
                        id=f"{account_id}-champion",
                        name="Chris Champion",
                        email=f"champion@{account_id}.example",
                        role=ContactRole.CHAMPION,
                    )
                ],
                contract=ContractInput(
                    start_date=today,
                    end_date=today.replace(year=today.year + 1),
                    value=50_000,
                ),
            ),
            config=default_config(Segment.MID_MARKET),
            team={"cs_manager": "manager@csflow.example"},
        )
        path = self.tmp / f"{account_id}.json"
        path.write_text(journey.model_dump_json())
        return path

    async def start(self, *extra: str) -> tuple[str, str]:
        """Start a fresh journey with the CLI: (account id, unique CSM owner)."""
        account_id = f"cli-{uuid.uuid4().hex[:8]}"
        csm = f"csm-{account_id}@csflow.example"
        done = await self(
            "journey",
            "start",
            str(self.journey_file(account_id, csm)),
            "--task-queue",
            self.queue,
            "--json",
            *extra,
        )
        assert done.json() == {"workflow_id": f"journey-{account_id}"}
        self.started.append(account_id)
        return account_id, csm


async def eventually(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool]) -> T:
    """Poll `probe` (real time: the dev server does not skip) until `check` holds."""
    for _ in range(100):
        value = await probe()
        if check(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never satisfied: last value {value!r}")


@pytest_asyncio.fixture
async def cli(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Cli]:
    await ensure_search_attributes(dev_env.client)
    crm = FakeCrm()
    queue = f"cli-{uuid.uuid4()}"
    async with Worker(
        dev_env.client, task_queue=queue, workflows=WORKFLOWS, activities=crm.activities
    ):
        cli = Cli(dev_env, crm, queue, tmp_path)
        yield cli
        # Journeys run for years: end the ones this test started (their children go with them).
        for account_id in cli.started:
            await dev_env.client.get_workflow_handle(f"journey-{account_id}").terminate("test done")


async def test_help_lists_the_commands(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        CSFLOW,
        "--help",
        env={**os.environ, "COLUMNS": "200"},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    commands = set()
    for line in out.decode().splitlines():
        words = line.strip("│ ").split()
        if words:
            commands.add(words[0])
    assert {"worker", "demo", "api", "journey", "journeys", "event"} <= commands


async def test_start_send_status_and_list_a_journey(cli: Cli) -> None:
    account_id, csm = await cli.start()
    client = cli.env.client
    await eventually(
        lambda: journey_status(client, account_id), lambda s: s.stage.value == "requirements"
    )

    # The journey's status, as JSON.
    status = (await cli("journey", "status", account_id, "--json")).json()
    assert status["account_id"] == account_id
    assert status["stage"] == "requirements"
    assert status["segment"] == "mid_market"
    assert status["csm_owner"] == csm
    assert [v["stage"] for v in status["stages"]] == ["trial", "requirements"]
    assert status["events_processed"] == 1

    # A valid event is acknowledged once the journey processed it, and reached the child.
    answers = {"reasons_for_purchase": "scale CS", "intended_use": "renewals"}
    done = await cli(
        "event",
        "send",
        account_id,
        "questionnaire_answered",
        "--payload",
        json.dumps(answers),
        "--json",
    )
    ack = done.json()
    assert ack["account_id"] == account_id
    assert ack["event_type"] == "questionnaire_answered"
    assert ack["sequence"] == 2 and ack["duplicate"] is False
    assert ack["forwarded_to"] == f"requirements-{account_id}"
    await eventually(lambda: journey_status(client, account_id), lambda s: s.stage == "onboarding")
    assert [(a.reasons_for_purchase, a.intended_use) for a in cli.crm.requirements] == [
        ("scale CS", "renewals")
    ]

    status = (await cli("journey", "status", account_id, "--json")).json()
    assert status["stage"] == "onboarding"
    assert status["requirements"]["completed"] is True

    # Re-sending with the same event id is harmless: acknowledged as a duplicate.
    first = await cli("event", "send", account_id, "email_replied", "--event-id", "e-1", "--json")
    again = await cli("event", "send", account_id, "email_replied", "--event-id", "e-1", "--json")
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    assert again.json()["sequence"] == first.json()["sequence"] == 3

    # Listing by stage (and this test's own CSM, so other tests' journeys stay out).
    await eventually(
        lambda: list_journeys(client, stage="onboarding", csm=csm), lambda found: len(found) == 1
    )
    listed = (await cli("journeys", "list", "--stage", "onboarding", "--csm", csm, "--json")).json()
    assert [(j["workflow_id"], j["account_id"], j["stage"]) for j in listed] == [
        (f"journey-{account_id}", account_id, "onboarding")
    ]
    assert listed[0]["segment"] == "mid_market" and listed[0]["status"] == "RUNNING"
    gone = await cli("journeys", "list", "--stage", "requirements", "--csm", csm, "--json")
    assert gone.json() == []


async def test_starting_as_a_trial_and_starting_twice_is_the_same_journey(cli: Cli) -> None:
    account_id, _ = await cli.start("--trial")
    status = await eventually(
        lambda: journey_status(cli.env.client, account_id), lambda s: s.events_processed == 1
    )
    assert status.stage == "trial"
    # journey start on a running journey signals it instead of starting another.
    path = cli.tmp / f"{account_id}.json"
    done = await cli("journey", "start", str(path), "--task-queue", cli.queue, "--json")
    assert done.json() == {"workflow_id": f"journey-{account_id}"}
    status = await eventually(
        lambda: journey_status(cli.env.client, account_id), lambda s: s.stage == "requirements"
    )
    assert status.events_processed == 2


async def test_an_unknown_event_type_is_refused_with_the_reason(cli: Cli) -> None:
    account_id, _ = await cli.start()
    done = await cli("event", "send", account_id, "party_started", "--json")
    assert done.returncode == 1
    assert done.stdout == ""
    known = ", ".join(t.value for t in CustomerEventType)
    [line] = done.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("csflow: event rejected: ")
    assert line.endswith(f"unknown customer event type 'party_started'; expected one of: {known}")
    status = (await cli("journey", "status", account_id, "--json")).json()
    assert status["events_processed"] == 1  # only the payment went through


async def test_an_invalid_payload_is_refused_with_the_field_at_fault(cli: Cli) -> None:
    account_id, _ = await cli.start()
    done = await cli(
        "event",
        "send",
        account_id,
        "survey_answered",
        "--payload",
        json.dumps({"token": "t", "kind": "nps", "score": 11}),
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("csflow: event rejected: ")
    assert line.endswith(
        "invalid survey_answered payload: payload: score 11 is out of range for a NPS survey (0-10)"
    )


async def test_an_invalid_journey_file_is_refused(cli: Cli) -> None:
    path = cli.tmp / "broken.json"
    path.write_text(json.dumps({"account": {"id": "x"}}))
    done = await cli("journey", "start", str(path), "--task-queue", cli.queue)
    assert done.returncode == 1
    assert done.stderr.startswith("csflow: invalid journey input:")
    assert "config" in done.stderr and "Field required" in done.stderr


async def test_a_journey_file_with_a_control_character_names_the_field(cli: Cli) -> None:
    path = cli.journey_file("cli-crlf", "csm@csflow.example")
    data = json.loads(path.read_text())
    data["account"]["contacts"][0]["name"] = "Chris\r\nBcc: all@elsewhere.example"
    path.write_text(json.dumps(data))
    done = await cli("journey", "start", str(path), "--task-queue", cli.queue)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr  # one line
    assert done.stderr.startswith("csflow: invalid journey input: contacts.0.name:"), done.stderr


async def test_malformed_payload_json_is_refused_with_a_message(cli: Cli) -> None:
    done = await cli("event", "send", "cli-nobody", "email_replied", "--payload", "{bad")
    assert done.returncode != 0
    assert done.stderr.startswith("csflow:") and "Traceback" not in done.stderr


async def test_an_account_without_a_journey_gets_a_message(cli: Cli) -> None:
    done = await cli("journey", "status", "cli-nobody", "--json")
    assert done.returncode != 0
    assert done.stderr.startswith("csflow:") and "Traceback" not in done.stderr


# --- an engineer's first hour ----------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# What people must never see in the CLI's human output.
RAW_VALUES = ("None", "LifecycleStage.", "Segment.", "ContactRole.", "datetime.", "timedelta", "{")


def one_line(done: Done) -> str:
    """The single stderr line of a refused command (no traceback, nothing on stdout)."""
    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("csflow: "), line
    return line


async def test_journey_start_with_options_only(cli: Cli) -> None:
    account_id = f"cli-{uuid.uuid4().hex[:8]}"
    csm = f"csm-{account_id}@csflow.example"
    done = await cli(
        "journey",
        "start",
        "--account-id",
        account_id,
        "--name",
        "Initech Ltd",
        "--arr",
        "150000",
        "--csm",
        csm,
        "--contact",
        f"Chris Champion <chris@{account_id}.example> champion",
        "--contact",
        f"Dana Decider <dana@{account_id}.example> decision_maker",
        "--contact",
        f"Uma User <uma@{account_id}.example>",
        "--contract-end",
        (date.today().replace(year=date.today().year + 1)).isoformat(),
        "--auto-renew",
        "--plan",
        "growth",
        "--task-queue",
        cli.queue,
    )
    assert done.returncode == 0, done.stderr
    cli.started.append(account_id)
    assert done.stdout.splitlines() == [
        f"Started the journey of Initech Ltd ({account_id}): journey-{account_id}",
        f"segment enterprise (its default playbook configuration), CSM {csm}, 3 contacts, "
        "first event payment_received",
        f"Follow it: csflow journey status {account_id}",
    ]
    status = await eventually(
        lambda: journey_status(cli.env.client, account_id), lambda s: s.stage == "requirements"
    )
    assert (status.segment, status.csm_owner) == ("enterprise", csm)
    [upsert] = [u for u in cli.crm.named("upsert_account") if u.id == account_id]
    assert (upsert.arr, upsert.plan, upsert.segment) == (150_000, "growth", None)
    assert [(c.name, c.email, c.role) for c in upsert.contacts] == [
        ("Chris Champion", f"chris@{account_id}.example", ContactRole.CHAMPION),
        ("Dana Decider", f"dana@{account_id}.example", ContactRole.DECISION_MAKER),
        ("Uma User", f"uma@{account_id}.example", ContactRole.USER),
    ]
    assert len({c.id for c in upsert.contacts}) == 3
    assert upsert.contract is not None
    assert (upsert.contract.start_date, upsert.contract.value) == (date.today(), 150_000)
    assert upsert.contract.auto_renew is True

    # Starting it again signals the running journey instead.
    again = await cli(
        "journey",
        "start",
        "--account-id",
        account_id,
        "--name",
        "Initech Ltd",
        "--arr",
        "150000",
        "--csm",
        csm,
        "--contact",
        f"Chris Champion <chris@{account_id}.example> champion",
        "--task-queue",
        cli.queue,
    )
    assert again.returncode == 0, again.stderr
    assert f"journey-{account_id} was running already" in again.stdout


async def test_journey_start_option_mistakes_are_one_line(cli: Cli) -> None:
    base = ["journey", "start", "--account-id", "cli-x", "--name", "X", "--arr", "10"]
    line = one_line(await cli(*base, "--csm", "c@x.example"))
    assert line.startswith("csflow: journey start needs --contact (or a JSON input file)")
    line = one_line(await cli(*base))
    assert "needs --csm, --contact" in line
    contact = ["--csm", "c@x.example", "--contact"]
    line = one_line(await cli(*base, *contact, "Chris <chris@x.example> boss"))
    assert "unknown role 'boss'; expected one of: champion, decision_maker, user" in line
    line = one_line(await cli(*base, *contact, "chris@x.example"))
    assert "is not `Name <email> role`" in line
    line = one_line(await cli(*base, "--csm", "not-an-email", "--contact", "C <c@x.example>"))
    assert line.startswith("csflow: invalid account: --csm: not a valid email address")
    line = one_line(await cli(*base, *contact, "C <c@x.example>", "--segment", "enterprize"))
    assert "unknown segment 'enterprize' (did you mean enterprise?)" in line
    assert line.endswith(
        "expected one of: enterprise, mid_market, smb (see `csflow journey start --help`)"
    )
    line = one_line(await cli(*base, *contact, "C <c@x.example>", "--auto-renew"))
    assert line == "csflow: --contract-start, --contract-value and --auto-renew need --contract-end"
    line = one_line(await cli("journey", "start", "examples/journey.json", "--name", "X"))
    assert line.startswith("csflow: give a JSON input file or account options, not both")


async def test_the_example_journey_input_starts_a_journey(cli: Cli) -> None:
    data = json.loads((EXAMPLES / "journey.json").read_text())
    account_id = f"cli-{uuid.uuid4().hex[:8]}"
    data["account"]["id"] = account_id
    for contact in data["account"]["contacts"]:
        contact["id"] = f"{account_id}-{contact['id']}"
    path = cli.tmp / "journey.json"
    path.write_text(json.dumps(data))
    done = await cli("journey", "start", str(path), "--task-queue", cli.queue, "--json")
    assert done.json() == {"workflow_id": f"journey-{account_id}"}
    cli.started.append(account_id)
    readme = (EXAMPLES / "README.md").read_text()
    assert "csflow journey start examples/journey.json" in readme
    assert "csflow journey start --account-id" in readme and "csflow event send" in readme


async def test_status_list_and_event_send_print_tables(cli: Cli) -> None:
    account_id, csm = await cli.start()
    await eventually(
        lambda: journey_status(cli.env.client, account_id),
        lambda s: s.stage_workflow_id is not None,
    )
    status = await cli("journey", "status", account_id)
    assert status.returncode == 0, status.stderr
    text = status.stdout
    assert text.startswith(f"CLI {account_id} ({account_id})\n")
    assert f"journey:       journey-{account_id}, RUNNING" in text
    assert "stage:         requirements since " in text and " UTC" in text
    assert f"in progress:   requirements-{account_id} (its work counts below when done)" in text
    assert "segment:       mid_market" in text and f"CSM:           {csm}" in text
    assert "STAGE         ENTERED" in text
    assert not any(raw in text for raw in RAW_VALUES), text

    sent = await cli("event", "send", account_id, "email_replied", "--event-id", "t-1")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.splitlines() == [
        f"account: {account_id}",
        "event:   email_replied",
        "result:  processed as event #2",
        "stage:   requirements",
    ]
    again = await cli("event", "send", account_id, "email_replied", "--event-id", "t-1")
    assert "result:  already processed as event #2: nothing done again" in again.stdout

    await eventually(lambda: list_journeys(cli.env.client, csm=csm), lambda found: len(found) == 1)
    listed = await cli("journeys", "list", "--csm", csm)
    assert listed.returncode == 0, listed.stderr
    header, row, total = listed.stdout.splitlines()
    assert header.split() == ["ACCOUNT", "STAGE", "CSM", "SEGMENT", "HEALTH", "RENEWAL", "STATUS"]
    assert row.split()[:4] == [account_id, "requirements", csm, "mid_market"]
    assert row.split()[-1] == "RUNNING" and total == "1 journey"
    assert not any(raw in listed.stdout for raw in RAW_VALUES)
    nothing = await cli("journeys", "list", "--csm", f"nobody-{csm}")
    assert nothing.stdout == "no journeys match\n"


async def test_enum_options_are_refused_with_the_choices(cli: Cli) -> None:
    line = one_line(await cli("journeys", "list", "--stage", "renewl"))
    stages = ", ".join(s.value for s in LifecycleStage)
    assert line == (
        "csflow: Invalid value for '--stage': unknown stage 'renewl' (did you mean renewal?); "
        f"expected one of: {stages} (see `csflow journeys list --help`)"
    )
    line = one_line(await cli("journeys", "list", "--segment", "mid-market"))
    assert "unknown segment 'mid-market'" in line
    assert "expected a tier (enterprise, mid_market, smb) or a dynamic segment" in line
    # Tiers and dynamic segments are accepted.
    for segment in ("mid_market", "smb-healthy-adoption", "enterprise-churned"):
        done = await cli("journeys", "list", "--segment", segment, "--csm", "x@csflow.example")
        assert done.returncode == 0, done.stderr
    line = one_line(await cli("tasks"))
    assert line == "csflow: Missing option '--csm'. (see `csflow tasks --help`)"


async def test_a_failed_journey_shows_its_failure(cli: Cli) -> None:
    account_id = f"cli-{uuid.uuid4().hex[:8]}"
    journey = JourneyInput.model_validate_json(
        cli.journey_file(account_id, "csm@csflow.example").read_text()
    )
    # A playbook setting no playbook has: the journey refuses it on its first run.
    broken = journey.model_copy(
        update={
            "config": journey.config.model_copy(
                update={"playbooks": {"usage": {"drop_treshold": 0.3}}}
            )
        }
    )
    handle = await start_journey(
        cli.env.client,
        broken,
        CustomerEvent(account_id=account_id, type="payment_received"),
        task_queue=cli.queue,
    )
    await eventually(handle.describe, lambda d: d.status == WorkflowExecutionStatus.FAILED)

    done = await cli("journey", "status", account_id)
    assert done.returncode == 0, done.stderr
    assert f"journey:       journey-{account_id}, FAILED (closed " in done.stdout
    assert (
        "failure:       invalid journey input: playbooks.usage: drop_treshold: "
        "Extra inputs are not permitted"
    ) in done.stdout
    assert "None" not in done.stdout
    view = (await cli("journey", "status", account_id, "--json")).json()
    assert view["workflow_status"] == "FAILED"
    assert view["failure"].startswith("invalid journey input: playbooks.usage: drop_treshold")

    # It failed before its first step set its search attributes: still listed by account.
    await eventually(
        lambda: list_journeys(cli.env.client),
        lambda found: any(j.status == "FAILED" for j in found),
    )
    listed = (await cli("journeys", "list")).stdout
    [row] = [line for line in listed.splitlines() if line.startswith(account_id)]
    assert row.split() == [account_id, "-", "-", "-", "-", "-", "FAILED"]

    # The CLI refuses such a configuration before starting anything.
    path = cli.tmp / "broken.json"
    path.write_text(broken.model_copy(update={"account": journey.account}).model_dump_json())
    line = one_line(await cli("journey", "start", str(path), "--task-queue", cli.queue))
    assert line.startswith("csflow: invalid journey input: config.playbooks.usage: drop_treshold")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_is_one_line_with_a_hint(cli: Cli, tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"
    away = {"TEMPORAL_ADDRESS": address}
    hint = "(start one with `csflow dev` or set TEMPORAL_ADDRESS)"
    for command in (
        ["journey", "status", "acme"],
        ["journeys", "list", "--stage", "renewal"],
        ["event", "send", "acme", "email_replied"],
        ["journey", "start", str(EXAMPLES / "journey.json")],
    ):
        line = one_line(await cli(*command, env=away))
        assert line == f"csflow: cannot reach Temporal at {address}: Connection refused {hint}"


async def test_a_missing_input_file_is_named(cli: Cli) -> None:
    line = one_line(await cli("journey", "start", "no-such-journey.json"))
    assert line == (
        "csflow: no such journey input file: no-such-journey.json (see examples/journey.json)"
    )


async def test_reads_create_no_file(cli: Cli, tmp_path: Path) -> None:
    """Outside the repository (no var/) and with a DATABASE_URL at a file that does not exist,
    the CRM views refuse in one line and leave the directory as it was."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    reads = [
        ["tasks", "--csm", "casey@example.com"],
        ["health", "acme"],
        ["plan", "--csm", "casey@example.com", "--date", "2026-01-05"],
        ["tasks", "--csm", "casey@example.com", "--json"],
    ]
    for read in reads:
        line = one_line(await cli(*read, cwd=elsewhere, env={"DATABASE_URL": None}))
        assert line.startswith(f"csflow: no CRM database at var/csflow.db (in {elsewhere}):")
        assert "python -m crm.migrate" in line
    missing = tmp_path / "nowhere" / "crm.db"
    for read in reads:
        line = one_line(
            await cli(*read, cwd=elsewhere, env={"DATABASE_URL": f"sqlite:///{missing}"})
        )
        assert line.startswith(f"csflow: no CRM database at {missing}:")
    # Temporal reads create nothing either, reachable or not.
    await cli("journeys", "list", "--csm", "x@csflow.example", cwd=elsewhere)
    await cli("journey", "status", "acme", cwd=elsewhere, env={"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    assert list(elsewhere.iterdir()) == []
    assert not missing.parent.exists()

    # A database without csflow's tables: how to migrate it.
    empty = tmp_path / "empty.db"
    empty.touch()
    line = one_line(await cli(*reads[0], env={"DATABASE_URL": f"sqlite:///{empty}"}))
    assert line.startswith(f"csflow: the CRM at sqlite:///{empty} has no csflow schema")
    assert line.endswith(
        "create or upgrade it with `python -m crm.migrate` (it migrates DATABASE_URL)"
    )


async def test_version_comes_from_the_package(cli: Cli) -> None:
    done = await cli("--version")
    assert done.returncode == 0
    assert done.stdout == f"csflow {importlib.metadata.version('csflow')}\n"


async def test_a_journey_no_worker_serves_says_so(cli: Cli) -> None:
    account_id = f"cli-{uuid.uuid4().hex[:8]}"
    journey = JourneyInput.model_validate_json(
        cli.journey_file(account_id, "csm@csflow.example").read_text()
    )
    await start_journey(
        cli.env.client,
        journey,
        CustomerEvent(account_id=account_id, type="payment_received"),
        task_queue=f"nobody-polls-{account_id}",
    )
    cli.started.append(account_id)
    line = one_line(await cli("journey", "status", account_id))
    assert line == (
        f"csflow: journey-{account_id} is RUNNING but no worker answered its status query "
        "within 10 s (start one with `csflow worker`)"
    )
