"""Workflow-test fixtures: Temporal's time-skipping test server, with csflow's search attributes."""

from __future__ import annotations

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from starter.worker_process import ensure_search_attributes


@pytest_asyncio.fixture
async def ts_env(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    await ensure_search_attributes(time_skipping_env.client)
    return time_skipping_env
