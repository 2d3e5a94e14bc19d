"""Every playbook csflow runs. The journey asks them in this order; the worker registers their
workflows from here. Adding a playbook: its module (workflow, policy, SPEC), its templates, one
line below, its test."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.input_checks import describe_errors
    from workflows.playbooks import (
        contact_change,
        external_activity,
        nps_follow_up,
        support_follow_up,
        unresponsive_customer,
        upgrade_follow_up,
        usage_fluctuation,
    )
    from workflows.playbooks.spec import PlaybookSpec

PLAYBOOKS: tuple[PlaybookSpec[Any], ...] = (
    support_follow_up.SPEC,
    usage_fluctuation.SPEC,
    unresponsive_customer.SPEC,
    contact_change.SPEC,
    upgrade_follow_up.SPEC,
    nps_follow_up.SPEC,
    external_activity.SPEC,
)

PLAYBOOK_WORKFLOWS: list[type] = [spec.workflow for spec in PLAYBOOKS]


def playbook(name: str) -> PlaybookSpec[Any]:
    for spec in PLAYBOOKS:
        if spec.name == name:
            return spec
    raise KeyError(f"no playbook named {name!r}")


def policy_problems(overrides: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with a segment's playbook overrides: unknown playbooks, fields or values."""
    problems: list[str] = []
    names = {spec.name: spec for spec in PLAYBOOKS}
    for name, values in overrides.items():
        spec = names.get(name)
        if spec is None:
            problems.append(f"playbooks.{name}: no such playbook (known: {', '.join(names)})")
            continue
        try:
            spec.policy.model_validate(values)
        except ValidationError as exc:
            problems.append(f"playbooks.{name}: {describe_errors(exc)}")
    return problems
