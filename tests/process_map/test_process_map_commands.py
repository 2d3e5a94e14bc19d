"""`csflow process-map check|status|render` as a person runs them: a subprocess (through
tests.support.cli_runner) on a migrated CRM (DATABASE_URL: a SQLite file, or a PostgreSQL schema,
see conftest.py) with an account part-way through the shipped map
(tests.support.process_map_seed). No Temporal: the commands read the CRM only."""

from __future__ import annotations

import os
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from crm.database import Store
from domain.process_map import DEFAULT_MAP_PATH, ProcessMap, load_map
from starter.process_map_picture import process_map_svg
from tests.support.cli_runner import Done, run_csflow
from tests.support.process_map_seed import ACCOUNT, TODAY, seed_handoffs

SVG = "{http://www.w3.org/2000/svg}"

BROKEN_MAP = """
version: "broken-1"
functions:
  - {id: sales, name: Sales, owner: sales@csflow.example, lead: lead@csflow.example}
  - {id: finance, name: Finance, lead: fin-lead@csflow.example}
milestones:
  - id: alpha
    function: sales
    title: Alpha
    done_when: done
    stage: Purchase
    starts: {anchor: payment_received}
    due_within_days: 5
    depends_on: [beta]
  - id: beta
    function: sales
    title: Beta
    done_when: done
    stage: Purchase
    starts: {anchor: payment_received}
    due_within_days: 5
    depends_on: [alpha, gamma]
  - id: delta
    function: legal
    title: Delta
    done_when: done
    stage: Purchase
    starts: {anchor: payment_received}
    due_within_days: 5
"""


class Csflow:
    def __init__(self, store: Store, cwd: Path) -> None:
        self.cwd = cwd
        self.environ = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CSFLOW_"))},
            "DATABASE_URL": store.url,
            "COLUMNS": "200",
        }

    async def __call__(self, *args: str) -> Done:
        return await run_csflow(args, self.environ, self.cwd)


@pytest.fixture
def shipped_map() -> ProcessMap:
    return load_map(DEFAULT_MAP_PATH)


@pytest.fixture
def csflow(crm_store: Store, tmp_path: Path, shipped_map: ProcessMap) -> Csflow:
    seed_handoffs(crm_store, shipped_map)
    return Csflow(crm_store, tmp_path)


def _row(stdout: str, title: str) -> list[str]:
    """The cells of the table row for `title` (cells are two or more spaces apart)."""
    line = next(line for line in stdout.splitlines() if line.startswith(title + "  "))
    return re.split(r" {2,}", line)


async def test_check_passes_the_shipped_map_and_lists_every_problem_of_a_broken_one(
    csflow: Csflow, shipped_map: ProcessMap, tmp_path: Path
) -> None:
    ok = await csflow("process-map", "check")
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout == f"ok: {shipped_map.label}, 7 functions, 12 milestones\n"

    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN_MAP)
    done = await csflow("process-map", "check", str(broken))
    assert done.returncode == 1
    problems = done.stdout.splitlines()
    assert "function 'finance' has no owner address (owner)" in problems
    assert any(p.startswith("milestone 'delta': function 'legal' is not defined") for p in problems)
    assert "milestone 'beta': depends on 'gamma', which is not a milestone of this map" in problems
    assert "dependency cycle (each waits for the next): alpha -> beta -> alpha" in problems
    assert len(problems) == 4, problems
    assert done.stderr == (
        f"csflow: {broken}: 4 problems, listed above (fix them and check again)\n"
    )

    missing = await csflow("process-map", "check", "nowhere.yaml")
    assert missing.line().startswith("csflow: no process map at nowhere.yaml (give a YAML file;")
    # A broken map given to the other commands: the first problem, and where to see them all.
    line = (await csflow("process-map", "status", ACCOUNT, "--map", str(broken))).line()
    assert line.startswith(f"csflow: the process map {broken} cannot be used: function 'finance'")
    assert line.endswith(f"and 3 more (`csflow process-map check {broken}` lists every problem)")


async def test_status_lists_every_milestone_in_map_order_in_plain_words(
    csflow: Csflow, shipped_map: ProcessMap
) -> None:
    done = await csflow("process-map", "status", ACCOUNT)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"Acme Corp (acme): Customer lifecycle, first three years, map {shipped_map.label}, "
        "as of 12 Apr 2030"
    )
    assert lines[1] == (
        "12 milestones: 4 done, 1 open, 1 overdue, 1 blocked, 3 not yet due to start, 2 not started"
    )
    assert _row(done.stdout, "Billing set up") == [
        "Billing set up",
        "Finance",
        "finance-team@csflow.example",
        "9 Jan 2030",
        "done",
        "by fiona.finance@csflow.example on 8 Jan 2030: notes in the shared folder",
    ]
    assert _row(done.stdout, "Key users trained")[3:] == [
        "17 Feb 2030",
        "overdue",
        "escalated to support-lead@csflow.example on 18 Feb 2030",
    ]
    assert _row(done.stdout, "Stakeholders invited to the community")[1:] == [
        "Marketing",
        "marketing-team@csflow.example",
        "1 Apr 2030",
        "blocked",
        "waiting for Support to finish Key users trained",
    ]
    assert _row(done.stdout, "Support review")[4:] == ["open", "task #7, opened 7 Apr 2030"]
    assert _row(done.stdout, "Roadmap input session")[4:] == [
        "not yet due to start",
        "starts 3 Nov 2030",
    ]
    # No row yet: what its start waits for, in words.
    assert _row(done.stdout, "Expansion qualified") == [
        "Expansion qualified",
        "Sales",
        "sales-team@csflow.example",
        "-",
        "not started",
        "starts 150 days before the contract ends",
    ]
    titles = [_row(done.stdout, m.title)[0] for m in shipped_map.milestones]
    body = lines[lines.index("") + 2 :]
    assert [line.split("  ")[0] for line in body] == titles
    # People read names and dates, not ids, enum values or Python's words for nothing.
    for raw in ("customer_success", "None", "T00:", "+00:00", "key_user_training"):
        assert raw not in done.stdout


async def test_status_json_carries_each_occurrence_for_scripts(
    csflow: Csflow, shipped_map: ProcessMap
) -> None:
    found = (await csflow("process-map", "status", ACCOUNT, "--json")).json()
    assert (found["account_id"], found["account_name"]) == (ACCOUNT, "Acme Corp")
    assert found["map_version"] == shipped_map.label
    assert found["handoff_map_versions"] == [shipped_map.label]
    assert found["as_of"] == TODAY.isoformat().replace("+00:00", "Z")
    milestones = found["milestones"]
    assert [m["milestone_id"] for m in milestones] == [m.id for m in shipped_map.milestones]
    states = {m["milestone_id"]: m["state"] for m in milestones}
    assert states["key_user_training"] == "overdue"
    assert states["renewal_invoice"] == "not_started"
    training = next(m for m in milestones if m["milestone_id"] == "key_user_training")
    assert training["function"] == "support" and training["function_name"] == "Support"
    assert training["handoff"]["escalated_at"] == "2030-02-18T09:00:00Z"
    assert training["handoff"]["due_at"] == "2030-02-17T09:00:00Z"
    invoice = next(m for m in milestones if m["milestone_id"] == "renewal_invoice")
    assert invoice["waits_for"] == "45 days before the contract ends"
    assert invoice["handoff"] is None and invoice["owner"] == "finance-team@csflow.example"


async def test_unknown_account_and_unwritable_output_are_one_line_each(
    csflow: Csflow, tmp_path: Path
) -> None:
    assert (await csflow("process-map", "status", "nobody")).line() == (
        "csflow: no account 'nobody' in the CRM (the id its journey was started with; "
        "`csflow journeys` lists them)"
    )
    out = tmp_path / "no-such-folder" / "map.svg"
    line = (await csflow("process-map", "render", "--out", str(out))).line()
    assert line == (
        f"csflow: cannot write {out}: No such file or directory (give --out a file in an "
        "existing folder)"
    )
    assert not out.parent.exists()


def _texts(svg: Path) -> tuple[str, list[str]]:
    """The document's visible text, and each milestone box's title lines joined."""
    root = ElementTree.parse(svg).getroot()
    visible = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    boxes = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("milestone")]
    titles = []
    for box in boxes:
        title = next(g for g in box.iter(f"{SVG}g") if g.get("class") == "title")
        titles.append(" ".join(t.text or "" for t in title.iter(f"{SVG}text")))
    return visible, titles


async def test_render_draws_every_lane_and_milestone_plain_and_for_an_account(
    csflow: Csflow, shipped_map: ProcessMap, tmp_path: Path
) -> None:
    plain = (tmp_path / "map.svg").resolve()
    done = await csflow("process-map", "render", "--out", "map.svg")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"wrote {plain}: the process map {shipped_map.label}\n"
    visible, titles = _texts(plain)
    for function in shipped_map.functions:
        assert function.name in visible
    assert set(titles) == {m.title for m in shipped_map.milestones}
    # Repeated milestones once per occurrence within three years: support reviews every 180
    # days from day 90, the contract's milestones once per yearly term.
    assert titles.count("Support review") == 6 and titles.count("Renewal invoice sent") == 3
    assert "month 6" in visible and "today" not in visible

    account = (tmp_path / "acme.svg").resolve()
    done = await csflow("process-map", "render", "--account", ACCOUNT, "--out", str(account))
    assert done.stdout == f"wrote {account}: Acme Corp (acme) on map {shipped_map.label}\n"
    visible, titles = _texts(account)
    assert set(titles) == {m.title for m in shipped_map.milestones}
    assert "today, 12 Apr 2030" in visible and "Apr" in visible and "month 6" not in visible
    text = account.read_text()
    for state in ("done", "overdue", "blocked", "open", "waiting", "not_started"):
        assert f'class="milestone {state}"' in text
    unknown = await csflow("process-map", "render", "--account", "nobody", "--out", "x.svg")
    assert unknown.line().startswith("csflow: no account 'nobody' in the CRM")
    assert not (tmp_path / "x.svg").exists()


def test_picture_escapes_text_and_shortens_a_long_title_keeping_it_whole_in_the_tooltip(
    shipped_map: ProcessMap,
) -> None:
    long_title = "Security <review> & sign-off of the integration, with the customer's CISO"
    edited = shipped_map.model_copy(
        update={
            "milestones": [
                m.model_copy(update={"title": long_title}) if m.id == "obstacle_review" else m
                for m in shipped_map.milestones
            ]
        }
    )
    root = ElementTree.fromstring(process_map_svg(edited))  # well-formed: every text escaped
    box = next(g for g in root.iter(f"{SVG}g") if g.get("data-milestone") == "obstacle_review")
    tooltip = box.find(f"{SVG}title")
    assert tooltip is not None and (tooltip.text or "").splitlines()[0] == long_title
    shown = [t.text or "" for t in box.iter(f"{SVG}text")]
    assert shown[:2] == ["Security <review> &", "sign-off of the …"]
    assert all(len(line) <= 22 for line in shown[:2])
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    for external in ("href", "<image", "<script", "@import", "url(http"):
        assert external not in process_map_svg(edited)
