"""The `devserver` command line, launched the way the Temporal CLI dev server is launched."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType, NamespaceState
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    GetSystemInfoRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

STARTUP_DEADLINE_S = 5.0  # the SDK's own start-up timeout for a dev server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """True when nothing listens on the port (TIME_WAIT leftovers do not count)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _wait_port_free(port: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not _port_is_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


@contextmanager
def _launched(
    devserver_path: str, log_file: Path, *extra: str
) -> Iterator[tuple[subprocess.Popen, int]]:
    port = _free_port()
    args = [
        devserver_path,
        "server",
        "start-dev",
        "--port",
        str(port),
        "--ip",
        "127.0.0.1",
        "--headless",
        "--namespace",
        "other",
        "--dynamic-config-value",
        "unknown.key=1",
        *extra,
    ]
    with log_file.open("wb") as log:
        # Own process group, so cleanup also reaches anything the script may have spawned.
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc, port
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


async def _connect(port: int, proc: subprocess.Popen, namespace: str = "default") -> Client:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while True:
        assert proc.poll() is None, f"devserver exited early with {proc.returncode}"
        try:
            return await Client.connect(f"127.0.0.1:{port}", namespace=namespace)
        except (RuntimeError, RPCError):
            if time.monotonic() >= deadline:
                raise
            await asyncio.sleep(0.1)


async def test_start_dev_serves_both_namespaces(devserver_path: str, tmp_path: Path) -> None:
    with _launched(devserver_path, tmp_path / "server.log") as (proc, port):
        launched = time.monotonic()
        client = await _connect(port, proc)
        # Client.connect succeeds only once GetSystemInfo answers.
        assert time.monotonic() - launched < 2, "no GetSystemInfo answer within 2 s of launch"

        started = time.monotonic()
        info = await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=2)
        )
        assert time.monotonic() - started < 2
        assert info.capabilities.sdk_metadata is True

        for namespace in ["default", "other"]:
            described = await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=2)
            )
            assert described.namespace_info.name == namespace
            assert described.namespace_info.state == NamespaceState.NAMESPACE_STATE_REGISTERED

        with pytest.raises(RPCError) as exc_info:
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace="never-created")
            )
        assert exc_info.value.status == RPCStatusCode.NOT_FOUND

        # A client bound to the extra namespace works too, and namespaces are isolated.
        other = await _connect(port, proc, namespace="other")
        handle = await other.start_workflow(
            "NoWorkerWorkflow", id="cli-isolation", task_queue="cli-tq"
        )
        assert (await handle.describe()).namespace == "other"
        with pytest.raises(RPCError) as missing:
            await client.get_workflow_handle("cli-isolation").describe()
        assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_sigterm_stops_server_and_frees_port(devserver_path: str, tmp_path: Path) -> None:
    with _launched(devserver_path, tmp_path / "server.log") as (proc, port):
        await _connect(port, proc)
        assert not _port_is_free(port)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)
        assert _wait_port_free(port), "port still in use after SIGTERM"


async def test_sigkill_frees_port(devserver_path: str, tmp_path: Path) -> None:
    # The SDK shuts a dev server down with SIGKILL of the launched pid only: the pid must be
    # the server itself, not a wrapper whose orphaned child keeps the port.
    with _launched(devserver_path, tmp_path / "server.log") as (proc, port):
        await _connect(port, proc)
        proc.kill()
        proc.wait(timeout=5)
        assert _wait_port_free(port), "port still in use after SIGKILL of the launched pid"


@pytest.mark.parametrize("args", [["--help"], ["server", "start-dev", "--help"]])
def test_help_exits_zero(devserver_path: str, args: list[str]) -> None:
    completed = subprocess.run([devserver_path, *args], capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert "start-dev" in completed.stdout


async def test_search_attribute_flags_register_attributes(
    devserver_path: str, tmp_path: Path
) -> None:
    flags = ["--search-attribute", "CustomerId=Keyword", "--search-attribute", "HealthScore=Int"]
    with _launched(devserver_path, tmp_path / "server.log", *flags) as (proc, port):
        client = await _connect(port, proc)
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert listed.custom_attributes["CustomerId"] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        assert listed.custom_attributes["HealthScore"] == IndexedValueType.INDEXED_VALUE_TYPE_INT


def test_bad_search_attribute_flag_names_the_problem(devserver_path: str) -> None:
    result = subprocess.run(
        [devserver_path, "server", "start-dev", "--search-attribute", "CustomerId=Banana"],
        capture_output=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert b"unknown type 'Banana'" in result.stderr
