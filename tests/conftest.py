"""Shared fixtures: every workflow test runs the real SDK against the project's own devserver."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

REPO_ROOT = Path(__file__).resolve().parent.parent

# CRM store and outbox fixtures, shared by the activity, governor, health and HTTP tests.
pytest_plugins = ["tests.crm_fixtures"]


def devserver_executable() -> str:
    """The `devserver` console script of the environment running the tests."""
    candidate = Path(sys.executable).parent / "devserver"
    if candidate.exists():
        return str(candidate)
    fallback = REPO_ROOT / ".venv" / "bin" / "devserver"
    if fallback.exists():
        return str(fallback)
    pytest.fail("devserver console script not found; run `make test` to install the project")


@pytest.fixture(scope="session")
def devserver_path() -> str:
    return devserver_executable()


@pytest_asyncio.fixture(scope="session")
async def env(devserver_path: str) -> AsyncIterator[WorkflowEnvironment]:
    """A dev server launched the way the SDK launches the Temporal CLI."""
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=devserver_path,
        data_converter=pydantic_data_converter,
        dev_server_log_level=os.environ.get("DEVSERVER_LOG_LEVEL", "warn"),
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest_asyncio.fixture(scope="session")
async def time_skipping_env(devserver_path: str) -> AsyncIterator[WorkflowEnvironment]:
    """The devserver in test-server mode: virtual time jumps whenever nothing is in flight."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=devserver_path,
        data_converter=pydantic_data_converter,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()
