"""Workflow and activity definitions for test_children.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError


@workflow.defn
class GreetChildWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        if name == "nobody":
            raise ApplicationError("child refuses to greet nobody", type="ChildRefusal")
        return f"hello {name} from {workflow.info().workflow_id}"


@workflow.defn
class GreetParentWorkflow:
    @workflow.run
    async def run(self, name: str, child_id: str) -> str:
        result = await workflow.execute_child_workflow(
            GreetChildWorkflow.run,
            name,
            id=child_id,
            execution_timeout=timedelta(seconds=30),
        )
        return f"parent got: {result}"


@workflow.defn
class LingeringChildWorkflow:
    """Runs until cancelled (then completes as CANCELED) or terminated."""

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: False)
        return "unreachable"


@workflow.defn
class ShortLivedParentWorkflow:
    @workflow.run
    async def run(self, child_id: str, policy: str) -> str:
        handle = await workflow.start_child_workflow(
            LingeringChildWorkflow.run,
            id=child_id,
            parent_close_policy=workflow.ParentClosePolicy[policy],
            execution_timeout=timedelta(seconds=60),
        )
        # The parent completes as soon as the child has started.
        return handle.first_execution_run_id or ""


WORKFLOWS = [
    GreetChildWorkflow,
    GreetParentWorkflow,
    LingeringChildWorkflow,
    ShortLivedParentWorkflow,
]
