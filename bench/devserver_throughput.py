"""Throughput benchmark for the embedded devserver.

Launches the `devserver` console script that sits next to the running interpreter (the way the
SDK launches a Temporal dev server), runs N concurrent hello-activity workflows against one
worker and prints throughput and latency as plain numbers:

    workflows 200
    seconds 1.234
    completed_per_second 162.1
    p50_latency_ms 512.3
    p95_latency_ms 901.7

Exits 1 if any workflow fails or returns a wrong result, 2 if the devserver cannot be found.

Usage: python bench/devserver_throughput.py [N]   (default N=200)
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker


@activity.defn
async def say_hello(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class BenchHelloWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            say_hello, name, start_to_close_timeout=timedelta(seconds=30)
        )


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


async def run_one(client: Client, task_queue: str, index: int) -> float:
    """Start one workflow, wait for its result, return the latency in seconds."""
    name = f"user-{index}"
    started = time.perf_counter()
    result = await client.execute_workflow(
        BenchHelloWorkflow.run,
        name,
        id=f"bench-{uuid4()}",
        task_queue=task_queue,
        execution_timeout=timedelta(minutes=5),
    )
    if result != f"Hello, {name}!":
        raise RuntimeError(f"workflow {index} returned {result!r}")
    return time.perf_counter() - started


async def bench(count: int, devserver: Path) -> int:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=str(devserver))
    try:
        task_queue = f"bench-{uuid4()}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[BenchHelloWorkflow],
            activities=[say_hello],
        ):
            began = time.perf_counter()
            outcomes = await asyncio.gather(
                *(run_one(env.client, task_queue, i) for i in range(count)),
                return_exceptions=True,
            )
            elapsed = time.perf_counter() - began
    finally:
        await env.shutdown()

    failures = [o for o in outcomes if isinstance(o, BaseException)]
    latencies = sorted(o for o in outcomes if not isinstance(o, BaseException))
    print(f"workflows {count}")
    print(f"failed {len(failures)}")
    print(f"seconds {elapsed:.3f}")
    print(f"completed_per_second {len(latencies) / elapsed:.1f}")
    print(f"p50_latency_ms {percentile(latencies, 0.50) * 1000:.1f}")
    print(f"p95_latency_ms {percentile(latencies, 0.95) * 1000:.1f}")
    for failure in failures[:5]:
        print(f"failure: {failure!r}", file=sys.stderr)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "count", nargs="?", type=int, default=200, help="concurrent workflows (default 200)"
    )
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("count must be at least 1")
    devserver = Path(sys.executable).parent / "devserver"
    if not devserver.exists():
        print(f"devserver script not found at {devserver}; install the project", file=sys.stderr)
        return 2
    return asyncio.run(bench(args.count, devserver))


if __name__ == "__main__":
    sys.exit(main())
