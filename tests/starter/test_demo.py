from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_csflow_demo_json_tells_the_scripted_year(tmp_path: Path):
    csflow = Path(sys.executable).parent / "csflow"
    env = {k: v for k, v in os.environ.items() if k not in ("TEMPORAL_ADDRESS", "DATABASE_URL")}
    done = subprocess.run(
        [str(csflow), "demo", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # stdout is the one JSON document; progress is on stderr
    progress = [line for line in done.stderr.splitlines() if line.startswith("csflow demo: ")]
    days = [line for line in progress if "simulated day" in line]
    # A line at least every couple of seconds and every 60 simulated days, from day 0 to the end.
    assert len(days) >= 380 // 60 + 2, progress
    assert days[0].startswith("csflow demo: simulated day 0 of 380 (")
    assert days[-1] == "csflow demo: simulated day 380 of 380: reading every journey"
    accounts = {a["behaviour"]: a for a in summary["accounts"]}
    assert summary["simulated_days"] >= 365

    engaged = accounts["answers everything"]
    assert engaged["segment"] == "enterprise"
    assert engaged["stages"][:5] == ["trial", "requirements", "onboarding", "adoption", "renewal"]
    assert engaged["renewal_outcome"] == "renewed" and engaged["escalations"] == []
    assert {s["score"] for s in engaged["surveys"] if s["kind"] == "nps"} == {9}

    silent = accounts["goes silent"]
    assert silent["renewal_outcome"] == "auto_renewed"
    assert all(s["score"] is None for s in silent["surveys"])
    # Questionnaire escalation, two stalled milestones, renewal prep and manager escalation.
    assert silent["tasks_created"] >= 4

    unhappy = accounts["raises a ticket, scores 3 on NPS"]
    sources = [e["source"] for e in unhappy["escalations"]]
    assert "ticket" in sources and "detractor" in sources
    ticket = next(e for e in unhappy["escalations"] if e["source"] == "ticket")
    assert "acknowledge" in ticket["missed_slas"] and ticket["level"] >= 1
    assert any(s["kind"] == "nps" and s["score"] == 3 for s in unhappy["surveys"])

    churner = accounts["churns at renewal"]
    assert churner["final_stage"] == "churned" and churner["renewal_outcome"] == "churned"

    outbox = tmp_path / summary["outbox"]
    assert (
        outbox.is_dir()
        and len(list(outbox.rglob("*.eml")))
        >= sum(a["emails_sent"] for a in summary["accounts"]) // 2
    )
