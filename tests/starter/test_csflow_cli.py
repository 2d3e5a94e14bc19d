"""The `csflow` CLI as operators run it: a subprocess talking to `temporal server start-dev`.

The worker runs in the test process (every workflow, activity doubles from tests/workflows), on
a task queue of its own; the CLI finds the server through TEMPORAL_ADDRESS. Subprocesses are
awaited with asyncio so the in-process worker keeps serving while the CLI waits on it.

Commands that talk to the server run `starter.cli.app` through RUNNER, which ends the process with
`os._exit` once the command is done: a short-lived Temporal client process can abort during
interpreter finalization ("PyGILState_Release ... finalizing", SIGABRT; temporalio/sdk-python
#300), which would make these tests flaky. `csflow --help` runs the real console script.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.models import AccountUpsert, ContactInput, ContactRole, ContractInput, Segment
from domain.segments import default_config
from starter.api import journey_status, list_journeys
from starter.worker_process import ensure_search_attributes
from workflows.catalog import WORKFLOWS
from workflows.customer_event import CustomerEventType
from workflows.journey_state import JourneyInput

# The activity doubles live with the workflow tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflows"))
from tests.support.cs_doubles import FakeCrm  # noqa: E402

CSFLOW = str(Path(sys.executable).parent / "csflow")
RUNNER = """
import os, sys, traceback
from starter.cli import app
try:
    app(args=sys.argv[1:], prog_name="csflow")
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException:
    traceback.print_exc()
    code = 1
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""
T = TypeVar("T")


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.stderr[-3000:]
        return json.loads(self.stdout)


class Cli:
    def __init__(self, env: WorkflowEnvironment, crm: FakeCrm, queue: str, tmp: Path) -> None:
        self.env, self.crm, self.queue, self.tmp = env, crm, queue, tmp
        self.started: list[str] = []
        self.environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSFLOW_"))},
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "TEMPORAL_NAMESPACE": env.client.namespace,
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str) -> Done:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            RUNNER,
            *args,
            env=self.environ,
            cwd=self.tmp,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return Done(process.returncode, out.decode(), err.decode())

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
        "event", "send", account_id, "questionnaire_answered", "--payload", json.dumps(answers)
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
