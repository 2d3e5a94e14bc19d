"""Billable Temporal Cloud Actions, counted from workflow histories, totalled by workflow type.

Reads saved histories (`<WorkflowType>-<n>.json`, each the JSON of `WorkflowHistory.to_json()`;
default `tests/workflows/histories/`), counts each one's Actions with `count_actions()` and prints
plain `name value` lines:

    history.CustomerJourneyWorkflow-1 63
    ...
    type.CustomerJourneyWorkflow 154
    ...
    histories 19
    total 282

`--by-category` adds `category.<WorkflowType>.<category> N` lines (activity, timer, signal...).
The simulated-year bench calls `actions_by_type()` with the histories of every run it fetched
from the server, and divides by accounts for Actions per account-year.

Run:  .venv/bin/python bench/billable_actions.py [DIR] [--by-category]
Exits 1 when the directory holds no history or a file cannot be read as one.

Counting rules: Temporal Cloud's published list of Actions (docs.temporal.io, "Temporal Cloud
Actions"), mapped onto what a history records. One Action each, unless said otherwise:

- Workflow started (client start, Continue-As-New's new run, child start, Schedule):
  WorkflowExecutionStarted. A Continue-As-New is charged on the new run's Started event, not on
  the old run's WorkflowExecutionContinuedAsNew (as the Cloud UI does), so a chain's later runs
  must be among the histories counted.
- Schedule: each scheduled run costs 2 Actions on top of its start: a Started event whose search
  attributes carry `TemporalScheduledById`.
- Signal-With-Start: one Action in total, whether or not it starts the workflow. A history shows
  it as Started immediately followed by WorkflowExecutionSignaled (event 2; a plain start puts a
  WorkflowTaskScheduled there), so that signal is not counted again; on a running workflow it is
  just a WorkflowExecutionSignaled.
- Signal (from a client or another workflow): WorkflowExecutionSignaled, in the signalled
  workflow's history. SignalExternalWorkflowExecutionInitiated in the sender's history is not
  counted (Cloud shows the Action only on the receiving side), so a signal reaches the total only
  when the receiver's history is counted too.
- Start Child Workflow: two Actions, one for recording the intent and one for starting the child:
  StartChildWorkflowExecutionInitiated in the parent (1) plus the child's own
  WorkflowExecutionStarted (1), so a parent history alone shows half of it.
- Search Attribute upsert: UpsertWorkflowSearchAttributes (several attributes in one command are
  one Action), except an upsert of `TemporalChangeVersion` alone (workflow versioning, exempt).
  Attributes given at start are free.
- Workflow Execution Options updated: WorkflowExecutionOptionsUpdated.
- Workflow reset: WorkflowTaskFailed with cause RESET_WORKFLOW.
- Activity started: ActivityTaskScheduled. Each retry: one more, from
  ActivityTaskStarted.attempt - 1 (intermediate attempts write no event; a workflow terminated
  mid-retry, or an activity still retrying, has no Started event yet, so those retries are
  missed).
- Local Activities (and any other RecordMarker command: side effects, patch markers): every
  MarkerRecorded of one workflow task together is one Action; local activity retries come from
  WorkflowTaskCompleted.metering_metadata.nonfirst_local_activity_execution_attempts.
- Timer started (including the implicit timers of wait_condition/sleep with a timeout):
  TimerStarted.
- Update accepted: WorkflowExecutionUpdateAccepted (Update-With-Start: plus its start).
- Nexus: NexusOperationScheduled and NexusOperationCancelRequested.

What a history cannot show, so is not counted: queries (every query a worker answers is an
Action in Cloud, including the UI's stack trace view and csflow's status/timeline queries, but
not `__temporal_workflow_metadata`), rejected updates (never written), activity and workflow
task heartbeats, schedule create/update/patch/delete, de-duplicated requests (dropped, nothing
written; a de-duplicated signal is not charged twice here either), standalone activities,
export, and the Fairness / Capacity surcharges. Counts from a history are an estimate, as the
Cloud docs say of every event-history based count.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

# Relative to the repository root, resolved in main(): importing this module does no file-system
# calls, so a module that defines workflows can import it (the workflow sandbox re-runs imports).
DEFAULT_DIR = Path("tests") / "workflows" / "histories"

SCHEDULED_BY = "TemporalScheduledById"
CHANGE_VERSION = "TemporalChangeVersion"

_E = EventType
# Events that are one Action each, by category.
_ONE_EACH: dict[EventType.ValueType, str] = {
    _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: "child_workflow_initiated",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED: "workflow_options_updated",
    _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activity",
    _E.EVENT_TYPE_TIMER_STARTED: "timer",
    _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "update",
    _E.EVENT_TYPE_NEXUS_OPERATION_SCHEDULED: "nexus",
    _E.EVENT_TYPE_NEXUS_OPERATION_CANCEL_REQUESTED: "nexus",
}


def workflow_type(history: WorkflowHistory) -> str:
    """The workflow type, from the first event (WorkflowExecutionStarted)."""
    if not history.events:
        raise ValueError(f"history of {history.workflow_id} has no events")
    first = history.events[0]
    if first.event_type != _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        raise ValueError(f"history of {history.workflow_id} does not begin with its start")
    return first.workflow_execution_started_event_attributes.workflow_type.name


def _signal_with_start(events: Sequence[HistoryEvent]) -> bool:
    """Started directly followed by Signaled: the server's signal-with-start of a new run."""
    return (
        len(events) > 1
        and events[0].event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        and events[1].event_type == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )


def action_breakdown(history: WorkflowHistory) -> Counter[str]:
    """This history's billable Actions by category (see the module docstring for the rules)."""
    events = history.events
    actions: Counter[str] = Counter()
    marker_tasks: set[int] = set()
    for index, event in enumerate(events):
        kind = event.event_type
        if kind in _ONE_EACH:
            actions[_ONE_EACH[kind]] += 1
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            actions["workflow_started"] += 1
            fields = event.workflow_execution_started_event_attributes.search_attributes
            if SCHEDULED_BY in fields.indexed_fields:
                actions["schedule"] += 2
        elif kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            if not (index == 1 and _signal_with_start(events)):
                actions["signal"] += 1
        elif kind == _E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attempt = event.activity_task_started_event_attributes.attempt
            if attempt > 1:
                actions["activity_retry"] += attempt - 1
        elif kind == _E.EVENT_TYPE_MARKER_RECORDED:
            marker_tasks.add(
                event.marker_recorded_event_attributes.workflow_task_completed_event_id
            )
        elif kind == _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            metering = event.workflow_task_completed_event_attributes.metering_metadata
            retries = metering.nonfirst_local_activity_execution_attempts
            if retries:
                actions["local_activity_retry"] += retries
        elif kind == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            names = set(
                event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
            )
            if names - {CHANGE_VERSION}:
                actions["search_attribute_upsert"] += 1
        elif kind == _E.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            cause = event.workflow_task_failed_event_attributes.cause
            if cause == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW:
                actions["workflow_reset"] += 1
    if marker_tasks:
        actions["markers"] += len(marker_tasks)
    return actions


def count_actions(history: WorkflowHistory) -> int:
    """Billable Temporal Cloud Actions this history shows (see the module docstring)."""
    return sum(action_breakdown(history).values())


def actions_by_type(histories: Iterable[WorkflowHistory]) -> dict[str, int]:
    """Total Actions per workflow type (from each history's first event)."""
    totals: dict[str, int] = {}
    for history in histories:
        name = workflow_type(history)
        totals[name] = totals.get(name, 0) + count_actions(history)
    return dict(sorted(totals.items()))


def categories_by_type(histories: Iterable[WorkflowHistory]) -> dict[str, Counter[str]]:
    """Actions per workflow type and category."""
    totals: dict[str, Counter[str]] = {}
    for history in histories:
        totals.setdefault(workflow_type(history), Counter()).update(action_breakdown(history))
    return dict(sorted(totals.items()))


def load_histories(directory: Path) -> dict[str, WorkflowHistory]:
    """Every `*.json` history in `directory`, by file stem (also used as the workflow id)."""
    loaded: dict[str, WorkflowHistory] = {}
    for path in sorted(directory.glob("*.json")):
        loaded[path.stem] = WorkflowHistory.from_json(path.stem, path.read_text())
    return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=None,
        help=f"directory of <WorkflowType>-<n>.json histories (default {DEFAULT_DIR} in the "
        "repository)",
    )
    parser.add_argument(
        "--by-category", action="store_true", help="also print each type's Actions by category"
    )
    args = parser.parse_args(argv)
    directory: Path = args.directory or Path(__file__).resolve().parents[1] / DEFAULT_DIR
    try:
        histories = load_histories(directory)
        if not histories:
            raise ValueError(f"no *.json history in {directory}")
        per_history = {stem: count_actions(h) for stem, h in histories.items()}
        per_type = actions_by_type(histories.values())
        categories = categories_by_type(histories.values()) if args.by_category else {}
    except Exception as exc:  # a bench reports, it does not trace back
        print(f"# billable actions failed: {exc!r}", file=sys.stderr)
        return 1
    for stem, count in per_history.items():
        print(f"history.{stem} {count}")
    for name, count in per_type.items():
        print(f"type.{name} {count}")
    for name, counter in categories.items():
        for category, count in sorted(counter.items()):
            print(f"category.{name}.{category} {count}")
    print(f"histories {len(histories)}")
    print(f"total {sum(per_type.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
