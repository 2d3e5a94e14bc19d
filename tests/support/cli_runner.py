"""Run `csflow` as a user would, in a subprocess, for CLI tests against the dev server.

The runner ends the process with `os._exit`, so a CLI test never waits on a leftover thread of
the Temporal client, and a traceback (which the CLI must never print) fails the test visibly."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

RUNNER = """
import os, sys, traceback
from starter.cli import app
try:
    app(args=sys.argv[1:], prog_name="csflow")
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
except BaseException:
    traceback.print_exc()
    code = 1
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
"""


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, self.stderr[-3000:]
        return json.loads(self.stdout)

    def line(self, code: int = 1) -> str:
        """The one line a refusal prints, after checking it is one line and a failure (exit 1;
        2 for usage errors)."""
        assert self.returncode == code, (self.stdout, self.stderr)
        assert self.stdout == "" and self.stderr.count("\n") == 1, self.stderr
        return self.stderr.strip()


def cli_environment(env: WorkflowEnvironment, **extra: str) -> dict[str, str]:
    """The test's environment without csflow or Temporal settings, pointed at `env`."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSFLOW_"))},
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "COLUMNS": "200",
        **extra,
    }


async def run_csflow(
    args: tuple[str, ...],
    environ: Mapping[str, str | None],
    cwd: Path,
    stdin: str | None = None,
) -> Done:
    """Run `csflow *args` in `cwd` with `environ` (a None value unsets the variable), and
    `stdin` piped to it when given."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        *args,
        env={k: v for k, v in environ.items() if v is not None},
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    given = stdin.encode() if stdin is not None else None
    out, err = await asyncio.wait_for(process.communicate(given), timeout=60)
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())
