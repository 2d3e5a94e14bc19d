"""A map that cannot run is refused with every problem named: timings that cannot be met, a
stage gated on a milestone that comes after it; and the worker refuses to start on one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from domain.process_map import DEFAULT_MAP_PATH, InvalidProcessMap, parse_map


def _shipped() -> dict:
    return yaml.safe_load(DEFAULT_MAP_PATH.read_text())


def _milestone(data: dict, milestone_id: str) -> dict:
    return next(m for m in data["milestones"] if m["id"] == milestone_id)


def test_timings_that_cannot_be_met_are_named() -> None:
    data = _shipped()
    # Kickoff waits for onboarding, yet requirements gathering would wait for it.
    _milestone(data, "kickoff_scheduled")["gates"] = "requirements"
    # Due two days after onboarding starts, but what it depends on starts on day 7.
    _milestone(data, "obstacle_review")["starts"] = {"anchor": "onboarding_started"}
    _milestone(data, "obstacle_review")["due_within_days"] = 2
    _milestone(data, "obstacle_review")["depends_on"] = ["key_user_training"]
    with pytest.raises(InvalidProcessMap) as refused:
        parse_map(yaml.safe_dump(data))
    assert refused.value.problems == [
        "milestone 'kickoff_scheduled': cannot be met: it gates requirements but starts only "
        "when onboarding starts",
        "milestone 'obstacle_review': cannot be met: due 2 days after onboarding starts, but "
        "'key_user_training' it depends on starts only 7 days after",
    ]


def test_schema_errors_are_listed_one_per_problem() -> None:
    data = _shipped()
    _milestone(data, "billing_setup")["due_within_days"] = 0
    data["functions"][0]["colour"] = "red"
    with pytest.raises(InvalidProcessMap) as refused:
        parse_map(yaml.safe_dump(data))
    assert len(refused.value.problems) == 2, refused.value.problems
    assert any("due_within_days" in p for p in refused.value.problems)
    assert any("colour" in p for p in refused.value.problems)


def test_the_worker_refuses_to_start_on_an_invalid_map(tmp_path: Path) -> None:
    data = _shipped()
    data["functions"] = [f for f in data["functions"] if f["id"] != "services"]
    broken = tmp_path / "map.yaml"
    broken.write_text(yaml.safe_dump(data))
    env = {**os.environ, "CSFLOW_PROCESS_MAP": str(broken), "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'crm.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"csflow worker: refusing to start: {broken}: milestone "), line
    assert "function 'services' is not defined" in line, line
    assert line.endswith("(`csflow process-map check` lists every problem)"), line
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "crm.db").exists(), "nothing is set up before the map is checked"
