"""The playbook registry keeps its promises: one module per playbook, named like its workflow and
its test; templates that exist; policies every segment can build; settings checked by name."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from activities.rendering import available_templates
from domain.models import Segment
from domain.segments import default_config
from tests.support.cs_fixtures import account
from workflows.catalog import WORKFLOWS
from workflows.journey_state import JourneyInput
from workflows.playbooks.registry import PLAYBOOKS, playbook, policy_problems
from workflows.playbooks.spec import PlaybookSpec

HERE = Path(__file__).resolve().parent
NAMED = pytest.mark.parametrize("spec", PLAYBOOKS, ids=[s.name for s in PLAYBOOKS])


@NAMED
def test_a_playbook_is_one_module_named_like_its_workflow_and_its_test(
    spec: PlaybookSpec[Any],
) -> None:
    module = spec.workflow.__module__.rsplit(".", 1)[1]
    words = re.sub(r"(?<!^)(?=[A-Z])", "_", spec.workflow.__name__.removesuffix("Workflow"))
    assert module == words.lower()
    assert (HERE / f"test_{module}.py").is_file()
    assert spec.workflow in WORKFLOWS  # the worker registers it


@NAMED
def test_its_templates_exist_and_every_segment_builds_its_policy(spec: PlaybookSpec[Any]) -> None:
    assert set(spec.templates()) <= set(available_templates())
    for segment in Segment:
        journey = JourneyInput(account=account("a", segment), config=default_config(segment))
        assert spec.policy_for(journey).enabled


def test_names_are_unique_and_segments_override_one_setting_at_a_time() -> None:
    assert len({s.name for s in PLAYBOOKS}) == len(PLAYBOOKS)
    usage = playbook("usage")
    enterprise = default_config(Segment.ENTERPRISE)
    journey = JourneyInput(account=account("a", Segment.ENTERPRISE), config=enterprise)
    assert usage.policy_for(journey).drop_threshold == 0.2  # the segment's shipped default
    tuned = enterprise.model_copy(update={"playbooks": {"usage": {"rise_reports": 5}}})
    policy = usage.policy_for(journey.model_copy(update={"config": tuned}))
    assert (policy.drop_threshold, policy.rise_reports) == (0.2, 5)


def test_settings_are_checked_by_playbook_and_field() -> None:
    assert policy_problems({"upgrade": {"enabled": False}}) == []
    problems = policy_problems(
        {"renewals": {"enabled": False}, "nps": {"window": "soon"}, "external": {"x": 1}}
    )
    assert problems[0].startswith("playbooks.renewals: no such playbook (known: support, usage,")
    assert problems[1].startswith("playbooks.nps: window: Input should be a valid timedelta")
    assert problems[2] == "playbooks.external: x: Extra inputs are not permitted"
