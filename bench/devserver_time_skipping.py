"""Benchmarks for the devserver's time skipping and visibility queries.

Prints: the wall time of a time-skipped year of a workflow with one timer per week, and the time
of list and count queries over 10,000 executions (override with --executions).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

SEGMENT = SearchAttributeKey.for_keyword("CustomKeywordField")


@workflow.defn
class WeeklyTouchpoints:
    @workflow.run
    async def run(self, weeks: int) -> int:
        for _ in range(weeks):
            await workflow.sleep(timedelta(weeks=1))
        return weeks


@workflow.defn
class IdleJourney:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


def devserver_path() -> str:
    return str(Path(sys.executable).parent / "devserver")


async def time_skipped_year() -> None:
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=devserver_path())
    try:
        task_queue = f"bench-{uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[WeeklyTouchpoints]):
            durations = []
            for _ in range(3):
                started = time.perf_counter()
                await env.client.execute_workflow(
                    WeeklyTouchpoints.run, 52, id=f"year-{uuid4()}", task_queue=task_queue
                )
                durations.append(time.perf_counter() - started)
        print(f"time_skipped_year_52_weekly_timers_seconds {statistics.median(durations):.3f}")
    finally:
        await env.shutdown()


async def list_queries(executions: int) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=devserver_path())
    try:
        client = env.client
        task_queue = f"bench-{uuid4()}"
        segments = ["enterprise", "mid_market", "smb", "trial"]
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(200)

        async def start(index: int) -> None:
            async with semaphore:
                await client.start_workflow(
                    IdleJourney.run,
                    id=f"journey-{index}",
                    task_queue=task_queue,
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(SEGMENT, segments[index % len(segments)])]
                    ),
                )

        await asyncio.gather(*(start(i) for i in range(executions)))
        print(f"started_executions {executions} in_seconds {time.perf_counter() - started:.2f}")
        query = "CustomKeywordField = 'enterprise' AND WorkflowId STARTS_WITH 'journey-1'"
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            found = [w async for w in client.list_workflows(query, page_size=1000)]
            timings.append(time.perf_counter() - began)
        print(f"list_query_matches {len(found)}")
        print(f"list_query_seconds_median {statistics.median(timings):.3f}")
        began = time.perf_counter()
        count = await client.count_workflows("ExecutionStatus = 'Running' GROUP BY ExecutionStatus")
        print(f"count_group_by_seconds {time.perf_counter() - began:.3f} count {count.count}")
    finally:
        await env.shutdown()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--executions", type=int, default=10_000)
    args = parser.parse_args()
    await time_skipped_year()
    await list_queries(args.executions)


if __name__ == "__main__":
    asyncio.run(main())
