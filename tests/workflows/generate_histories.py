"""Regenerate the saved histories the replay test checks the workflow code against.

    .venv/bin/python tests/workflows/generate_histories.py

Runs the demo's simulated year (real activities, Temporal's time-skipping test server) and
saves, per workflow type, the largest closed-or-running history it produced. Only regenerate
when a change is meant to be incompatible with journeys already in flight; otherwise keep the
old files, so the replay test proves new code still replays them (use `workflow.patched()` for
compatible changes)."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

HISTORIES = Path(__file__).resolve().parent / "histories"
# Workflows whose histories are worth keeping: each of csflow's workflow types.
PER_TYPE = 2


async def save_histories(client: Client, workflow_ids: list[str]) -> None:
    by_type: dict[str, list[WorkflowHistory]] = {}
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        by_type.setdefault(started.workflow_type.name, []).append(history)
    HISTORIES.mkdir(exist_ok=True)
    for old in HISTORIES.glob("*.json"):
        old.unlink()
    for workflow_type, histories in sorted(by_type.items()):
        histories.sort(key=lambda h: len(h.events), reverse=True)
        for index, history in enumerate(histories[:PER_TYPE]):
            path = HISTORIES / f"{workflow_type}-{index + 1}.json"
            path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
            print(f"saved {path.name}: {len(history.events)} events")


async def main() -> None:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    from starter.demo import run_demo

    with tempfile.TemporaryDirectory() as scratch:
        await run_demo(Path(scratch), on_year_end=save_histories)


if __name__ == "__main__":
    asyncio.run(main())
