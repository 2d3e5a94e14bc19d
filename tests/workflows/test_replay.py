"""Saved histories of every workflow type replay against the current code.

A change to workflow code that would break journeys already in flight (a reordered activity, a
removed timer) fails here; compatible changes go behind `workflow.patched()`. The histories come
from `generate_histories.py` (the demo's simulated year).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.catalog import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def _load(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_every_workflow_type_has_saved_histories() -> None:
    saved_types = {path.stem.rsplit("-", 1)[0] for path in HISTORIES}
    assert saved_types == {w.__temporal_workflow_definition.name for w in WORKFLOWS}  # type: ignore[attr-defined]


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_saved_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(_load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"


async def test_a_reordered_workflow_fails_replay() -> None:
    """The check is real: a journey history does not replay against a different workflow."""
    journey = next(p for p in HISTORIES if p.stem.startswith("CustomerJourneyWorkflow"))
    history = _load(journey)
    renamed = WorkflowHistory(history.workflow_id, list(history.events))
    started = renamed.events[0].workflow_execution_started_event_attributes
    started.workflow_type.name = "RequirementsGatheringWorkflow"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(renamed, raise_on_replay_failure=False)
    assert result.replay_failure is not None
