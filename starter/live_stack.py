"""The live stack on this machine: `temporal server start-dev` (Temporal Server with the Web UI,
SQLite under var/), csflow's search attributes, the worker and the customer actions API.

`csflow dev` runs it for local development; `make demo` runs it after the simulated year with
the six sample accounts' journeys started in real time. Ctrl-C (or SIGTERM) stops every process
it started: the API and the worker first, then the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from starter.api import quote_literal
from starter.temporal_binaries import temporal_cli
from starter.worker_process import SEARCH_ATTRIBUTES

STARTUP_TIMEOUT = timedelta(seconds=30)
STOP_GRACE = timedelta(seconds=10)


class LiveStackError(RuntimeError):
    """A process of the stack did not start; the message says which and where its log is."""


def free_port(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free port (a second stack, a busy
    laptop)."""
    for candidate in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise LiveStackError("no free TCP port on 127.0.0.1")


def search_attribute_flags() -> list[str]:
    """csflow's search attributes as `temporal server start-dev --search-attribute` flags."""
    flags = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        type_name = IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_")
        flags += ["--search-attribute", f"{name}={type_name.capitalize()}"]
    return flags


@dataclass
class LiveStack:
    var_dir: Path
    temporal_port: int
    ui_port: int
    api_port: int
    api_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.var_dir / 'csflow.db'}"

    def account_query_url(self, account_id: str) -> str:
        query = quote(f"CustomerId = {quote_literal(account_id)}")
        return f"{self.ui_url}/namespaces/default/workflows?query={query}"

    def environment(self) -> dict[str, str]:
        """What the worker and the API read (one settings source: the environment)."""
        environ = {
            **os.environ,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": "default",
            "DATABASE_URL": self.database_url,
            "CSFLOW_OUTBOX_DIR": str(self.var_dir / "outbox"),
            "CSFLOW_API_TOKENS": self.api_token,
            "CSFLOW_API_PORT": str(self.api_port),
            # The console links each workflow to this stack's Web UI.
            "CSFLOW_TEMPORAL_UI_URL": self.ui_url,
        }
        environ.setdefault("CSFLOW_REPLY_SECRET", secrets.token_urlsafe(24))
        environ.setdefault("CSFLOW_SUPPORT_WEBHOOK_SECRET", secrets.token_urlsafe(24))
        return environ

    def _spawn(self, argv: list[str], log_name: str) -> None:
        log = (self.var_dir / "logs" / log_name).open("ab")
        # Own session: Ctrl-C reaches this process only, which then stops the others in order.
        process = subprocess.Popen(
            argv,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.processes.append((log_name.removesuffix(".log"), process))

    async def start(self) -> Client:
        """Start the server, then the worker and the API; return a client of the server."""
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._spawn(
            [
                str(temporal_cli()),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--ui-port",
                str(self.ui_port),
                "--db-filename",
                str(self.var_dir / "temporal.db"),
                "--log-level",
                "warn",
                *search_attribute_flags(),
            ],
            "temporal.log",
        )
        client = await self._connect()
        csflow = str(Path(sys.executable).parent / "csflow")
        self._spawn([csflow, "worker"], "worker.log")
        self._spawn([csflow, "api", "--port", str(self.api_port)], "api.log")
        await self._wait_for_api()
        return client

    async def _connect(self) -> Client:
        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT.total_seconds()
        while True:
            self._check_alive()
            try:
                return await Client.connect(
                    self.temporal_address, data_converter=pydantic_data_converter
                )
            except RuntimeError:
                if asyncio.get_running_loop().time() > deadline:
                    raise LiveStackError(
                        f"Temporal did not answer on {self.temporal_address}; "
                        f"see {self.var_dir / 'logs' / 'temporal.log'}"
                    ) from None
                await asyncio.sleep(0.2)

    async def _wait_for_api(self) -> None:
        import httpx

        deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT.total_seconds()
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                self._check_alive()
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.api_url}/readyz")).status_code == 200:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise LiveStackError(
                        f"the API did not become ready on {self.api_url}; "
                        f"see {self.var_dir / 'logs'}"
                    )
                await asyncio.sleep(0.3)

    def _check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                raise LiveStackError(
                    f"the {name} process exited with {process.returncode};"
                    f" see {self.var_dir / 'logs' / name}.log"
                )

    def stop(self) -> None:
        """Stop the API and the worker, then the server; nothing is left running."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE.total_seconds())
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


def default_stack(var_dir: Path) -> LiveStack:
    return LiveStack(
        var_dir=var_dir,
        temporal_port=free_port(7233),
        ui_port=free_port(8233),
        api_port=free_port(8000),
    )


async def serve_until_stopped(
    stack: LiveStack, on_ready: Callable[[Client], object] | None = None
) -> None:
    """Run the stack until Ctrl-C or SIGTERM, then stop every process it started."""
    from crm.migrate import migrate

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        stack.var_dir.mkdir(parents=True, exist_ok=True)
        migrate(stack.database_url)
        client = await stack.start()
        if on_ready is not None:
            result = on_ready(client)
            if asyncio.iscoroutine(result):
                await result
        await stopping.wait()
    finally:
        stack.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
