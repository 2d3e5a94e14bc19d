"""Which workflows a worker has run, for servers without visibility.

Temporal's time-skipping test server cannot list executions; the simulated year and the tests
track the workflows their worker executes instead, to save their histories and to end them.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    StartChildWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)


class RunTracker(Interceptor):
    """Notes every workflow the worker executes (journeys, stage children, playbooks,
    escalations, campaigns), so a simulation or a test can find and end what it started without
    listing executions."""

    def __init__(self) -> None:
        self.workflow_ids: set[str] = set()

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        seen = self.workflow_ids

        class _NoteChildren(WorkflowOutboundInterceptor):
            # A child counts from the moment it is started, before any worker has run it.
            async def start_child_workflow(
                self, input: StartChildWorkflowInput
            ) -> workflow.ChildWorkflowHandle[Any, Any]:
                seen.add(input.id)
                return await super().start_child_workflow(input)

        class _NoteRun(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_NoteChildren(outbound))

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                seen.add(workflow.info().workflow_id)
                return await super().execute_workflow(input)

        return _NoteRun

    async def terminate_open(self, client: Client, reason: str = "finished") -> None:
        """End the workflows that are still open. In time-skipping mode a workflow whose worker
        is gone would hold virtual time still for everything after it. Call it once the worker
        has stopped: on Temporal's test server, ending a run while one of its workflow tasks is
        in flight leaves virtual time locked for good."""
        for workflow_id in sorted(self.workflow_ids):
            try:
                await client.get_workflow_handle(workflow_id).terminate(reason)
            except RPCError as err:
                # Closed already (completed, failed or terminated with its parent).
                if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                    raise
