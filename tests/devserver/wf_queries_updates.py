"""Workflow and activity definitions for test_queries_updates.py.

Kept out of the test module: the workflow sandbox re-imports a workflow's module for
every run, and a plain module avoids re-running pytest's assertion rewriting each time.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError


@workflow.defn
class CartWorkflow:
    @workflow.init
    def __init__(self, seed: list[str]) -> None:
        # Set in the constructor so that an update delivered with the start sees the seed.
        self._items: list[str] = list(seed)
        self._released = False
        self._checked_out = False

    @workflow.run
    async def run(self, seed: list[str]) -> list[str]:
        await workflow.wait_condition(lambda: self._checked_out)
        return self._items

    @workflow.query
    def items(self) -> list[str]:
        return self._items

    @workflow.query
    def broken(self) -> str:
        raise ValueError("query handler exploded")

    @workflow.update
    def add_item(self, item: str) -> int:
        self._items.append(item)
        return len(self._items)

    @add_item.validator
    def validate_add_item(self, item: str) -> None:
        if not item:
            raise ValueError("item must not be empty")
        if item in self._items:
            raise ApplicationError(f"duplicate item {item}", type="Duplicate")

    @workflow.update
    async def add_when_released(self, item: str) -> str:
        await workflow.wait_condition(lambda: self._released)
        self._items.append(item)
        return f"added {item} after release"

    @workflow.update
    async def failing_update(self) -> str:
        raise ApplicationError("update handler failed", type="UpdateBoom")

    @workflow.signal
    def release(self) -> None:
        self._released = True

    @workflow.signal
    def checkout(self) -> None:
        self._checked_out = True
