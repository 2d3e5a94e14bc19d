from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from starter.demo import DemoSummary, render
from tests.support.demo_year import DemoYear


def test_csflow_demo_json_tells_the_scripted_year(demo_year: DemoYear):
    tmp_path, summary = demo_year.cwd, demo_year.summary
    progress = [line for line in demo_year.stderr.splitlines() if line.startswith("csflow demo: ")]
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

    # Silence means silence: the customer who answers everything is never chased as silent.
    assert not [p for p in engaged["playbooks"] if p["kind"] == "unresponsive"]
    assert [p for p in silent["playbooks"] if p["kind"] == "unresponsive"]
    # The public review and its re-share open one public-mention playbook.
    assert len([p for p in engaged["playbooks"] if p["kind"] == "external"]) == 1

    crm = sqlite3.connect(tmp_path / summary["database"].removeprefix("sqlite:///"))
    _every_crm_time_is_workflow_time(crm, summary["started_at"], summary["ended_at"])
    reasons = dict(crm.execute("SELECT account_id, outcome_reason FROM contracts").fetchall())
    assert reasons[churner["account_id"]] == "budget cuts"  # the customer's own words
    # Tasks whose cause resolved are closed: renewals were decided, escalations resolved.
    open_titles = [t for a in summary["accounts"] for t in a["open_tasks"]]
    assert not [t for t in open_titles if t.startswith("Prepare renewal")]
    resolved = [e["summary"] for e in unhappy["escalations"] if not e["open"]]
    assert resolved and not [t for t in unhappy["open_tasks"] if any(r in t for r in resolved)]

    outbox = tmp_path / summary["outbox"]
    assert (
        outbox.is_dir()
        and len(list(outbox.rglob("*.eml")))
        >= sum(a["emails_sent"] for a in summary["accounts"]) // 2
    )


def _every_crm_time_is_workflow_time(crm: sqlite3.Connection, started: str, ended: str) -> None:
    """Rows are stamped with the time the workflow acted, inside the simulated year, not with
    the wall clock of the run (which would put a renewal on day 1)."""
    first = datetime.fromisoformat(started).replace(tzinfo=None) - timedelta(seconds=1)
    last = datetime.fromisoformat(ended).replace(tzinfo=None) + timedelta(seconds=1)
    columns = {
        "touchpoints": ["occurred_at"],
        "csm_tasks": ["created_at", "completed_at"],
        "email_sends": ["created_at", "sent_at"],
        "contracts": ["created_at", "closed_at"],
        "survey_responses": ["responded_at"],
    }
    for table, names in columns.items():
        for name in names:
            for (value,) in crm.execute(f"SELECT {name} FROM {table} WHERE {name} IS NOT NULL"):
                assert first <= datetime.fromisoformat(value) <= last, (table, name, value)
    [(closed,)] = crm.execute(
        "SELECT MIN(closed_at) FROM contracts WHERE closed_at IS NOT NULL"
    ).fetchall()
    assert datetime.fromisoformat(closed) - first > timedelta(days=200)  # renewals come late


def test_the_report_reads_in_words_for_a_cs_manager(demo_year: DemoYear) -> None:
    report = render(DemoSummary.model_validate(demo_year.summary))
    headers = [line for line in report.splitlines() if " - " in line and "[" in line]
    assert len(headers) == len(demo_year.summary["accounts"])
    assert not [h for h in headers if "_" in h], headers  # "[Mid-market]", not "[mid_market]"
    renewals = {line.strip() for line in report.splitlines() if line.startswith("  renewal:")}
    assert "renewal:     Renewed automatically" in renewals, renewals
    assert not [r for r in renewals if "_" in r], renewals
    assert "missed: acknowledgement, update 1" in report
    assert "missed SLAs" not in report and "update:1" not in report
    assert not [line for line in report.splitlines() if line != line.rstrip()]
