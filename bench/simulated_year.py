"""Wall time of the simulated customer year, and billable Temporal Actions per account-year.

Runs `starter.demo.run_demo` (Temporal's time-skipping test server, real activities, a scratch
SQLite CRM and outbox) for `--accounts` accounts: the six demo accounts (the default, the year
`make demo` prints), then generated ones cycling through the same six behaviours; it fetches
the history of every workflow the year ran and counts its Actions with
`bench/billable_actions.py`. Prints plain `name value` lines:

    accounts 6
    simulated_days 380
    wall_seconds 31.2
    workflows 58
    actions_total 2345
    actions_per_account_year 375.4
    actions_per_account_year.CustomerJourneyWorkflow 250.1
    ...

Actions per account-year divide by the accounts and scale the 380 simulated days to 365.

Run:  .venv/bin/python bench/simulated_year.py [--accounts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from temporalio.client import Client, WorkflowHistory


async def _year(generated: int) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from billable_actions import actions_by_type

    from domain.settings import Settings
    from starter.demo import SIMULATED_DAYS, run_demo
    from starter.logging_setup import configure_logging

    settings = Settings.from_env()
    configure_logging(settings, level="WARNING")  # stdout carries the numbers only

    histories: list[WorkflowHistory] = []

    async def fetch(client: Client, workflow_ids: list[str]) -> None:
        for workflow_id in workflow_ids:
            histories.append(await client.get_workflow_handle(workflow_id).fetch_history())

    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        summary = await run_demo(
            Path(scratch),
            on_year_end=fetch,
            generated_accounts=generated,
            on_progress=lambda line: print(line, file=sys.stderr, flush=True),
            settings=settings,
        )
    wall = time.perf_counter() - began
    accounts = len(summary.accounts)
    by_type = actions_by_type(histories)
    total = sum(by_type.values())
    scale = 365 / SIMULATED_DAYS / accounts
    print(f"accounts {accounts}")
    print(f"simulated_days {SIMULATED_DAYS}")
    print(f"wall_seconds {wall:.1f}")
    print(f"workflows {len(histories)}")
    print(f"actions_total {total}")
    print(f"actions_per_account_year {total * scale:.1f}")
    for workflow_type, actions in sorted(by_type.items(), key=lambda kv: -kv[1]):
        print(f"actions_per_account_year.{workflow_type} {actions * scale:.1f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", type=int, default=6, help="accounts in the year, 6 or more (default 6)"
    )
    args = parser.parse_args(argv)
    if args.accounts < 6:
        parser.error("--accounts must be 6 or more (the six demo accounts come first)")
    return asyncio.run(_year(args.accounts - 6))


if __name__ == "__main__":
    sys.exit(main())
