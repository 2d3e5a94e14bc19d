"""`csflow task done|snooze|reassign` and `csflow log ...` as a CSM runs them: a subprocess on a
migrated CRM file (DATABASE_URL), with `temporal server start-dev` as TEMPORAL_ADDRESS for the
completion's signal. The commands run through tests.support.cli_runner, which ends the process
with `os._exit` (see test_csflow_cli.py for why)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.crm import CrmActivities
from crm.database import Store
from crm.tables import CsmTaskRow, TouchpointRow
from domain.models import AccountUpsert, CsmTask, TaskInput
from tests.support.cli_runner import Done, cli_environment, run_csflow
from tests.support.http_support import free_port

CSM = "casey@csflow.example"
ROBIN = "robin@csflow.example"


class Csflow:
    def __init__(self, env: WorkflowEnvironment, store: Store, cwd: Path) -> None:
        self.store, self.cwd = store, cwd
        self.environ = cli_environment(env, DATABASE_URL=store.url)
        self.crm = CrmActivities(store)
        self.crm._upsert(
            AccountUpsert(id="acme", name="Acme Corp", arr=50_000, csm_owner=CSM, contacts=[])
        )

    async def __call__(
        self, *args: str, cwd: Path | None = None, env: Mapping[str, str | None] | None = None
    ) -> Done:
        return await run_csflow(args, {**self.environ, **(env or {})}, cwd or self.cwd)

    def task(self, title: str, **extra: Any) -> CsmTask:
        return self.crm.create_task_once(
            TaskInput(account_id="acme", owner=CSM, title=title, **extra)
        )

    def timeline(self, task_id: int) -> list[str]:
        with self.store.session() as session:
            rows = session.exec(
                select(TouchpointRow)
                .where(TouchpointRow.account_id == "acme")
                .order_by(col(TouchpointRow.id))
            ).all()
            return [r.summary for r in rows if (r.details or {}).get("task_id") == task_id]

    def row(self, task_id: int) -> CsmTaskRow:
        with self.store.session() as session:
            row = session.get(CsmTaskRow, task_id)
            assert row is not None
            return row


@pytest.fixture
def csflow(dev_env: WorkflowEnvironment, store: Store, tmp_path: Path) -> Csflow:
    return Csflow(dev_env, store, tmp_path)


async def test_snooze_reassign_and_complete_a_task_each_on_the_timeline(csflow: Csflow) -> None:
    due = datetime.now(UTC) + timedelta(hours=1)
    task = csflow.task("Prepare renewal", due_at=due)
    day = (datetime.now(UTC) + timedelta(days=3)).date()

    snoozed = await csflow("task", "snooze", str(task.id), "--until", day.isoformat())
    assert snoozed.returncode == 0, snoozed.stderr
    assert snoozed.stdout.splitlines()[0] == (
        f"Snoozed task #{task.id} until {day} 09:00 UTC: Prepare renewal"
    )
    assert "account: Acme Corp (acme)" in snoozed.stdout
    assert csflow.row(task.id).due_at == datetime(day.year, day.month, day.day, 9, tzinfo=UTC)

    reassigned = await csflow("task", "reassign", str(task.id), "--to", ROBIN.upper())
    assert reassigned.returncode == 0, reassigned.stderr
    assert reassigned.stdout.splitlines()[0] == (
        f"Reassigned task #{task.id} to {ROBIN}: Prepare renewal"
    )

    done = await csflow(
        "task", "done", str(task.id), "--outcome", "renewed on the call", "--by", ROBIN, "--json"
    )
    result = done.json()
    assert result["changed"] is True and result["by"] == ROBIN
    assert (result["task"]["status"], result["task"]["outcome"]) == ("done", "renewed on the call")
    assert result["workflow_signal"]["status"] == "no_workflow"

    assert csflow.timeline(task.id) == [
        f"Task for {CSM}: Prepare renewal",
        f"Task snoozed by {CSM} until {day} 09:00 UTC, was {due:%Y-%m-%d %H:%M} UTC: "
        "Prepare renewal",
        f"Task reassigned by {CSM} from {CSM} to {ROBIN}: Prepare renewal",
        f"Task completed by {ROBIN}: Prepare renewal (renewed on the call)",
    ]

    # Again: nothing changes; a closed task is not snoozed; refusals are one line with a hint.
    again = await csflow("task", "done", str(task.id), "--outcome", "twice")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == (
        f"Task #{task.id} was done already: nothing changed (Prepare renewal)"
    )
    assert "outcome:  renewed on the call" in again.stdout
    later = (day + timedelta(days=7)).isoformat()
    line = (await csflow("task", "snooze", str(task.id), "--until", later)).line()
    assert line.startswith(f"csflow: task {task.id} is done: only open tasks can be snoozed")
    assert len(csflow.timeline(task.id)) == 4

    assert (await csflow("task", "done", "424242", "--outcome", "x")).line() == (
        "csflow: no task 424242 (`csflow tasks --csm EMAIL` lists open tasks with their ids)"
    )
    other = csflow.task("Call the champion")
    assert (
        (await csflow("task", "snooze", str(other.id), "--until", "2001-02-03"))
        .line()
        .startswith("csflow: --until: 2001-02-03 09:00 UTC is not in the future")
    )
    assert (await csflow("task", "snooze", str(other.id), "--until", "soon")).line() == (
        "csflow: --until: not a date or time: 'soon' (expected YYYY-MM-DD (09:00 UTC that day) "
        "or YYYY-MM-DDTHH:MM (UTC unless it says +HH:MM))"
    )
    assert (await csflow("task", "reassign", str(other.id), "--to", "robin")).line() == (
        "csflow: --to: not a valid email address: 'robin'"
    )
    missing = await csflow("task", "done", str(other.id))
    assert missing.line(code=2) == (
        "csflow: Missing option '--outcome'. (see `csflow task done --help`)"
    )
    assert csflow.timeline(other.id) == [f"Task for {CSM}: Call the champion"]


async def test_done_tells_the_workflow_or_says_why_not(csflow: Csflow) -> None:
    finished = csflow.task("Escalation opened", workflow_id="escalation-long-gone")
    done = await csflow("task", "done", str(finished.id), "--outcome", "called them")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "workflow: escalation-long-gone has finished: nothing waits on this task" in (
        done.stdout
    )

    # Temporal down: the completion is recorded, stderr says the workflow was not told.
    untold = csflow.task("Escalation opened", workflow_id="escalation-waiting")
    address = f"127.0.0.1:{free_port()}"
    down = await csflow(
        "task",
        "done",
        str(untold.id),
        "--outcome",
        "called them",
        env={"TEMPORAL_ADDRESS": address},
    )
    assert down.returncode == 0
    assert down.stdout.splitlines()[0] == f"Completed task #{untold.id}: Escalation opened"
    assert down.stderr == (
        f"csflow: task {untold.id} is done, but its workflow escalation-waiting was not told: "
        f"cannot reach Temporal at {address}: Connection refused (the completion is recorded; "
        "once Temporal answers, run this command again to tell the workflow)\n"
    )
    assert csflow.row(untold.id).status == "done"


async def test_logged_calls_and_meetings_are_the_plans_actual_side(csflow: Csflow) -> None:
    today = datetime.now(UTC).date()
    task = csflow.task("Prepare renewal", due_at=datetime.now(UTC) + timedelta(minutes=30))
    if task.due_at is not None and task.due_at.date() != today:
        pytest.skip("too close to midnight UTC for a plan of today")
    logged = await csflow(
        "log", "call", "acme", "--summary", "Walked through the renewal", "--at", f"{today}T00:05"
    )
    assert logged.returncode == 0, logged.stderr
    number = logged.stdout.split("#")[1].split()[0]
    assert logged.stdout.splitlines() == [
        f"Logged call #{number} on acme: Walked through the renewal",
        f"by: {CSM}",
        f"at: {today} 00:05 UTC",
        f"Planned against actual: csflow plan --csm {CSM} --date {today}",
    ]
    meeting = await csflow(
        "log", "meeting", "acme", "--summary", "QBR", "--by", ROBIN.upper(), "--json"
    )
    assert meeting.json()["details"] == {"logged_by": ROBIN}
    assert meeting.json()["kind"] == "meeting"
    await csflow("task", "done", str(task.id), "--outcome", "sent the quote")

    plan = (await csflow("plan", "--csm", CSM, "--date", today.isoformat(), "--json")).json()
    assert [t["id"] for t in plan["planned"]] == [task.id]
    assert [t["id"] for t in plan["completed"]] == [task.id]
    assert ("call", "Walked through the renewal") in [
        (t["kind"], t["summary"]) for t in plan["touchpoints"]
    ]
    assert plan["gap"] == {"not_done": [], "unplanned_done": []}
    robin = (await csflow("plan", "--csm", ROBIN, "--date", today.isoformat(), "--json")).json()
    assert [(t["kind"], t["summary"]) for t in robin["touchpoints"]] == [("meeting", "QBR")]

    assert (await csflow("log", "note", "nobody", "--summary", "x")).line() == (
        "csflow: no account 'nobody' in the CRM (the id its journey was started with)"
    )
    assert (
        (await csflow("log", "call", "acme", "--summary", "x", "--at", "2099-01-01"))
        .line()
        .startswith("csflow: --at: 2099-01-01 09:00 UTC is in the future")
    )
    assert (await csflow("log", "call", "acme", "--summary", "")).line() == (
        "csflow: --summary: String should have at least 1 character"
    )


async def test_task_commands_never_create_a_database(csflow: Csflow, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in (
        ["task", "done", "1", "--outcome", "x"],
        ["task", "snooze", "1", "--until", "2099-01-01"],
        ["task", "reassign", "1", "--to", ROBIN],
        ["log", "call", "acme", "--summary", "x"],
    ):
        line = (await csflow(*command, cwd=elsewhere, env={"DATABASE_URL": None})).line()
        assert line.startswith(f"csflow: no CRM database at var/csflow.db (in {elsewhere}):")
    assert list(elsewhere.iterdir()) == []
