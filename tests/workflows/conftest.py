"""Workflow-test fixtures: Temporal's time-skipping test server, with csflow's search attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from starter.worker_process import ensure_search_attributes
from tests.support.cs_doubles import Playground, playground
from workflows.catalog import WORKFLOWS


@pytest_asyncio.fixture
async def ts_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    await ensure_search_attributes(time_skipping_env.client)
    return time_skipping_env


@pytest_asyncio.fixture
async def pg(ts_env: WorkflowEnvironment) -> AsyncIterator[Playground]:
    """A worker running every csflow workflow against the CRM doubles, on its own queue."""
    async for ground in playground(ts_env, WORKFLOWS):
        yield ground
