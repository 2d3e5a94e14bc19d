"""`csflow dev` and `csflow demo` as a developer runs them: the Temporal dev server with its Web
UI, the worker and the API come up; Ctrl-C (or SIGTERM) stops every process they started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
        crm = re.search(r"CRM database:\s+sqlite:///(\S+)", text)
        assert crm and (tmp_path / crm.group(1)).exists(), text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=40)
    assert process.returncode == 0, "".join(output)
    assert [pid for pid in children if _alive(pid)] == []


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_the_simulated_year_stops_its_test_server(
    tmp_path: Path, stop: signal.Signals
) -> None:
    csflow = Path(sys.executable).parent / "csflow"
    process = subprocess.Popen(
        [str(csflow), "demo", "--no-serve"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    children: list[int] = []
    while not children and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        children = _children(process.pid)
    assert children, "the test server never started"
    process.send_signal(stop)
    _, err = process.communicate(timeout=40)
    assert process.returncode == 130, err
    assert "Traceback" not in err, err
    assert [pid for pid in children if _alive(pid)] == []
