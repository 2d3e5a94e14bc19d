"""`--db-filename`: a server killed with SIGKILL and restarted on the same file loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from durability_workflows import (
    EXECUTIONS,
    ActivityThenReturn,
    TimerThenReturn,
    WaitForSignal,
    slow_greeting,
)
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, executable: str, db: Path, port: int) -> None:
        self.executable = executable
        self.db = db
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                "server",
                "start-dev",
                "--port",
                str(self.port),
                "--headless",
                "--db-filename",
                str(self.db),
                "--log-level",
                "warn",
            ],
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def server(devserver_path: str, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(devserver_path, tmp_path / "temporal.db", _free_port())
    process.start()
    yield process
    process.stop()


async def _connect(port: int) -> Client:
    for _ in range(100):
        try:
            return await Client.connect(f"127.0.0.1:{port}")
        except RuntimeError:
            await asyncio.sleep(0.05)
    raise AssertionError("devserver did not come up")


@pytest.fixture
async def durable_client(server: ServerProcess) -> AsyncIterator[Client]:
    yield await _connect(server.port)


async def test_kill_9_in_the_middle_of_fifty_workflows_loses_none(
    server: ServerProcess, durable_client: Client
) -> None:
    task_queue = f"durable-{uuid4()}"
    prefix = f"durable-{uuid4()}"
    handles: list[WorkflowHandle[object, str]] = []
    async with Worker(
        durable_client,
        task_queue=task_queue,
        workflows=[TimerThenReturn, ActivityThenReturn, WaitForSignal],
        activities=[slow_greeting],
    ):
        for index in range(50):
            kind = index % 3
            workflow_id = f"{prefix}-{index}"
            if kind == 0:
                handles.append(
                    await durable_client.start_workflow(
                        TimerThenReturn.run, 2.0, id=workflow_id, task_queue=task_queue
                    )
                )
            elif kind == 1:
                handles.append(
                    await durable_client.start_workflow(
                        ActivityThenReturn.run, str(index), id=workflow_id, task_queue=task_queue
                    )
                )
            else:
                handles.append(
                    await durable_client.start_workflow(
                        WaitForSignal.run, id=workflow_id, task_queue=task_queue
                    )
                )
        # Half the signals go in before the crash, half after.
        for index in range(2, 25, 3):
            await handles[index].signal(WaitForSignal.deliver, f"signal {index}")
        await asyncio.sleep(0.3)

        server.kill()
        server.start()
        for index in range(26, 50, 3):
            for _ in range(200):
                try:
                    await handles[index].signal(WaitForSignal.deliver, f"signal {index}")
                    break
                except Exception:  # the server is still coming back
                    await asyncio.sleep(0.05)

        results = await asyncio.wait_for(
            asyncio.gather(*(handle.result() for handle in handles)), timeout=60
        )

    for index, result in enumerate(results):
        expected = ["timer fired", f"hello {index}", f"signal {index}"][index % 3]
        assert result == expected
    completed = await durable_client.count_workflows(
        f"TaskQueue = '{task_queue}' AND ExecutionStatus = 'Completed'"
    )
    assert completed.count == 50
    # Every activity ran at least once; a retry after the crash is allowed, a lost one is not.
    for index in range(1, 50, 3):
        assert EXECUTIONS[f"{prefix}-{index}"] >= 1


async def test_history_survives_restart_unchanged(
    server: ServerProcess, durable_client: Client
) -> None:
    task_queue = f"durable-{uuid4()}"
    async with Worker(durable_client, task_queue=task_queue, workflows=[TimerThenReturn]):
        handle = await durable_client.start_workflow(
            TimerThenReturn.run, 0.1, id=f"durable-{uuid4()}", task_queue=task_queue
        )
        assert await handle.result() == "timer fired"
    before = [e.SerializeToString() for e in (await handle.fetch_history()).events]

    server.kill()
    server.start()
    client = await _connect(server.port)
    after_handle = client.get_workflow_handle(handle.id, run_id=handle.result_run_id)
    after = [e.SerializeToString() for e in (await after_handle.fetch_history()).events]
    assert after == before
    description = await after_handle.describe()
    assert description.status is not None and description.status.name == "COMPLETED"


def test_file_with_another_layout_is_refused(devserver_path: str, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    connection.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    connection.commit()
    connection.close()
    before = db.read_bytes()

    result = subprocess.run(
        [
            devserver_path,
            "server",
            "start-dev",
            "--port",
            str(_free_port()),
            "--headless",
            "--db-filename",
            str(db),
        ],
        capture_output=True,
        timeout=30,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode != 0
    assert b"storage layout 0" in result.stderr
    assert db.read_bytes() == before
