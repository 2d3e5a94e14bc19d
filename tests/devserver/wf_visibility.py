"""Workflow and activity definitions for test_visibility_basic.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class QuickAlphaWorkflow:
    @workflow.run
    async def run(self) -> str:
        return "alpha"


@workflow.defn
class QuickBetaWorkflow:
    @workflow.run
    async def run(self) -> str:
        return "beta"


@workflow.defn
class ParkedWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)
