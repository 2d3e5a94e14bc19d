"""The simulated year as `csflow demo --json` runs it: its report, progress and files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DemoYear:
    cwd: Path  # where it ran: the summary's paths are relative to it
    summary: dict[str, Any]
    stderr: str

    @property
    def outbox(self) -> Path:
        return self.cwd / self.summary["outbox"]


def run_demo_year(cwd: Path) -> DemoYear:
    """`csflow demo --json` in `cwd`, with the environment's Temporal and CRM settings removed
    (it starts its own test server and a fresh CRM)."""
    csflow = Path(sys.executable).parent / "csflow"
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    done = subprocess.run(
        [str(csflow), "demo", "--json"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # stdout is the one JSON document; progress is on stderr
    return DemoYear(cwd, json.loads(done.stdout), done.stderr)
