"""`csflow dev` as a developer runs it: the Temporal dev server with its Web UI, the worker and the
API come up; Ctrl-C stops every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

READY_LINE = "Ctrl-C stops everything."


def _children(pid: int) -> list[int]:
    listed = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False
    )
    return [int(p) for p in listed.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_csflow_dev_serves_the_stack_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    csflow = Path(sys.executable).parent / "csflow"
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    process = subprocess.Popen(
        [str(csflow), "dev"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        for line in process.stdout:
            output.append(line)
            if READY_LINE in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        assert READY_LINE in text, text
        ui = re.search(r"Temporal Web UI:\s+(\S+)", text)
        api = re.search(r"API docs:\s+(\S+)/docs", text)
        assert ui and api, text
        children = _children(process.pid)
        assert len(children) == 3, text  # temporal server, worker, API

        assert httpx.get(f"{api.group(1)}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{ui.group(1)}/api/v1/settings", timeout=5).status_code == 200
        assert (tmp_path / "var" / "live" / "temporal.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=40)
    assert process.returncode == 0, "".join(output)
    assert [pid for pid in children if _alive(pid)] == []
