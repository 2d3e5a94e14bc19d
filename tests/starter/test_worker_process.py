"""`csflow worker` as operators run it: connection from TEMPORAL_*, metrics, clean SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from uuid import uuid4

from temporalio.testing import WorkflowEnvironment

from domain.models import AccountUpsert, ContactInput, ContactRole, Segment
from domain.segments import default_config
from starter.api import journey_status, start_journey
from workflows.customer_event import CustomerEvent
from workflows.journey_state import JourneyInput


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _metrics(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as response:
            return str(response.read().decode())
    except OSError:
        return None


async def test_worker_connects_from_environment_serves_metrics_and_stops_on_sigterm(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    metrics_port = _free_port()
    task_queue = f"worker-process-{uuid4()}"
    environment = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": dev_env.client.namespace,
        "CSFLOW_METRICS_PORT": str(metrics_port),
        "CSFLOW_METRICS_HOST": "127.0.0.1",
        "CSFLOW_TASK_QUEUE": task_queue,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'csflow.db'}",
        "CSFLOW_OUTBOX_DIR": str(tmp_path / "outbox"),
        "CSFLOW_ENV": "production-like-test",
    }
    environment.pop("SENDGRID_API_KEY", None)
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "csflow"), "worker"],
        env=environment,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while body is None and time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            body = _metrics(metrics_port)
            await asyncio.sleep(0.2)
        assert body is not None, "no /metrics endpoint"

        # The worker in the other process runs a journey started here.
        account = f"acct-{uuid4().hex[:8]}"
        journey = JourneyInput(
            account=AccountUpsert(
                id=account,
                name="Worker Process Ltd",
                arr=12_000,
                csm_owner="csm@csflow.example",
                contacts=[
                    ContactInput(
                        id=f"{account}-champion",
                        name="Chris Champion",
                        email=f"champion@{account}.example",
                        role=ContactRole.CHAMPION,
                    )
                ],
            ),
            config=default_config(Segment.SMB),
        )
        await start_journey(
            dev_env.client,
            journey,
            CustomerEvent(account_id=account, type="payment_received"),
            task_queue=task_queue,
        )
        status = None
        while time.monotonic() < deadline:
            status = await journey_status(dev_env.client, account)
            if status.stage != "trial":
                break
            await asyncio.sleep(0.2)
        assert status is not None and status.stage != "trial"
        assert "temporal_" in (_metrics(metrics_port) or "")

        await dev_env.client.get_workflow_handle(f"journey-{account}").terminate("test done")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
        logs = process.stderr.read().decode() if process.stderr else ""
        assert "worker stopped" in logs
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
