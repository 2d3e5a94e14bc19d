"""`start_process_map`: start an account's ProcessMapWorkflow beside its journey.

It is started by the client, not as the journey's child: it outlives every run of the journey
(continue-as-new closes a run), and an abandoned child that finishes after its parent has
closed stops time skipping on Temporal's test server, which the demo and the tests run on.
Starting again is harmless: an existing run with the id is kept (USE_EXISTING).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from activities.context import activity_logger
from workflows.process_map_state import ProcessMapStart
from workflows.search_attributes import account_family

START_TIMEOUT = timedelta(seconds=10)


class ProcessMapStarter:
    def __init__(self, client: Client) -> None:
        self.client = client

    @activity.defn(name="start_process_map")
    async def start_process_map(self, start: ProcessMapStart) -> str:
        """The run id of the account's process-map workflow (started now, or already)."""
        handle = await self.client.start_workflow(
            "ProcessMapWorkflow",
            start.input,
            id=start.workflow_id,
            task_queue=activity.info().task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=start.summary,
            search_attributes=account_family(
                start.input.account_id, start.input.csm_owner, start.segment, start.stage
            ),
            rpc_timeout=START_TIMEOUT,
        )
        activity_logger(account_id=start.input.account_id).info(
            "process map started", workflow_id=start.workflow_id
        )
        return handle.result_run_id or ""
