"""Workflow and activity definitions for test_concurrency.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def say_hello(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class HelloActivityWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            say_hello, name, start_to_close_timeout=timedelta(seconds=10)
        )
