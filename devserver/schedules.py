"""Temporal Schedules: specs evaluated on server time, actions that start workflows.

Real Temporal runs each schedule as an internal workflow; here a schedule is a record whose next
action time is a scheduler deadline, so it fires on virtual time in time-skipping mode too.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import ScheduleOverlapPolicy
from temporalio.api.errordetails.v1 import message_pb2 as errordetails
from temporalio.api.schedule.v1 import message_pb2 as schedule_pb
from temporalio.api.workflowservice.v1 import request_response_pb2 as wsv

from devserver.clock import TimerHandle
from devserver.engine import Engine, NewRun
from devserver.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ServiceError,
    require,
)
from devserver.execution import MutableState
from devserver.schedule_spec import CompiledSpec, ScheduleSpecError, canonical_spec, compile_spec
from devserver.search_attributes import decode_all, validate_search_attributes
from devserver.visibility_query import BOOL, KEYWORD, QueryError, parse_query

log = structlog.get_logger("devserver.schedules")

Overlap = ScheduleOverlapPolicy
DEFAULT_CATCHUP_WINDOW = timedelta(days=365)
MINIMUM_CATCHUP_WINDOW = timedelta(seconds=10)
RECENT_ACTIONS_KEPT = 10
FUTURE_ACTION_TIMES = 5
# Backfills and catch-up start at most this many actions at once (as Temporal limits them).
MAX_ACTIONS_PER_PASS = 1000


@dataclass
class ScheduleRecord:
    namespace: str
    schedule_id: str
    schedule: schedule_pb.Schedule
    memo: common_pb.Memo
    search_attributes: common_pb.SearchAttributes
    create_time: datetime
    update_time: datetime | None = None
    last_processed: datetime | None = None
    action_count: int = 0
    missed_catchup_window: int = 0
    overlap_skipped: int = 0
    buffer_dropped: int = 0
    running: list[tuple[str, str]] = field(default_factory=list)
    recent: list[schedule_pb.ScheduleActionResult] = field(default_factory=list)
    buffered: list[tuple[datetime, int]] = field(default_factory=list)
    conflict_token: int = 1
    handle: TimerHandle | None = None
    compiled: CompiledSpec | None = None


def _ts(value: datetime) -> Any:
    from google.protobuf import timestamp_pb2

    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _compile(schedule: schedule_pb.Schedule) -> CompiledSpec:
    try:
        return compile_spec(schedule.spec)
    except ScheduleSpecError as exc:
        raise InvalidArgument(f"schedule.{exc}") from exc


class ScheduleManager:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.records: dict[tuple[str, str], ScheduleRecord] = {}
        self._by_workflow: dict[tuple[str, str], tuple[str, str]] = {}
        engine.listeners.append(self._on_run_changed)

    # ---- persistence -----------------------------------------------------------------------

    def _save(self, record: ScheduleRecord, deleted: bool = False) -> None:
        store = self.engine.store
        if store is None:
            return
        if deleted:
            store.save_schedule(record.namespace, record.schedule_id, None)
            return
        body = {
            "schedule": record.schedule,
            "memo": record.memo,
            "search_attributes": record.search_attributes,
            "create_time": record.create_time,
            "update_time": record.update_time,
            "last_processed": record.last_processed,
            "counters": [
                record.action_count,
                record.missed_catchup_window,
                record.overlap_skipped,
                record.buffer_dropped,
            ],
            "running": [list(pair) for pair in record.running],
            "recent": record.recent,
            "buffered": [[when, policy] for when, policy in record.buffered],
            "conflict_token": record.conflict_token,
        }
        store.save_schedule(record.namespace, record.schedule_id, body)

    def restore(self) -> None:
        store = self.engine.store
        if store is None:
            return
        for namespace, schedule_id, body in store.load_schedules():
            counters = body["counters"]
            record = ScheduleRecord(
                namespace=namespace,
                schedule_id=schedule_id,
                schedule=body["schedule"],
                memo=body["memo"],
                search_attributes=body["search_attributes"],
                create_time=body["create_time"],
                update_time=body["update_time"],
                last_processed=body["last_processed"],
                action_count=counters[0],
                missed_catchup_window=counters[1],
                overlap_skipped=counters[2],
                buffer_dropped=counters[3],
                running=[(pair[0], pair[1]) for pair in body["running"]],
                recent=list(body["recent"]),
                buffered=[(when, policy) for when, policy in body["buffered"]],
                conflict_token=body["conflict_token"],
            )
            record.compiled = _compile(record.schedule)
            self.records[(namespace, schedule_id)] = record
            for workflow_id, _ in record.running:
                self._by_workflow[(namespace, workflow_id)] = (namespace, schedule_id)
            self._arm(record)

    # ---- lifecycle -------------------------------------------------------------------------

    def get(self, namespace: str, schedule_id: str) -> ScheduleRecord:
        self.engine.namespaces.get(namespace)
        require(schedule_id, "schedule_id")
        record = self.records.get((namespace, schedule_id))
        if record is None:
            raise NotFound(f"schedule {schedule_id!r} not found")
        return record

    def _validate(self, namespace: str, schedule: schedule_pb.Schedule) -> None:
        action = schedule.action.start_workflow
        if not schedule.action.HasField("start_workflow"):
            raise InvalidArgument("schedule.action.start_workflow is not set on request.")
        require(action.workflow_id, "schedule.action.start_workflow.workflow_id")
        require(action.workflow_type.name, "schedule.action.start_workflow.workflow_type")
        require(action.task_queue.name, "schedule.action.start_workflow.task_queue")
        catchup = schedule.policies.catchup_window.ToTimedelta()
        if timedelta(0) < catchup < MINIMUM_CATCHUP_WINDOW:
            raise InvalidArgument("schedule.policies.catchup_window must be at least 10s.")
        registered = self.engine.namespaces.get(namespace).search_attributes
        problem = validate_search_attributes(action.search_attributes, registered)
        if problem:
            raise InvalidArgument(f"schedule.action.start_workflow: {problem}")

    def create(self, request: wsv.CreateScheduleRequest) -> ScheduleRecord:
        namespace = request.namespace
        self.engine.namespaces.get(namespace)
        require(request.schedule_id, "schedule_id")
        if (namespace, request.schedule_id) in self.records:
            # Temporal reports this as its internal scheduler workflow already running.
            raise AlreadyExists(
                f"schedule {request.schedule_id!r} is already registered",
                errordetails.WorkflowExecutionAlreadyStartedFailure(),
            )
        self._validate(namespace, request.schedule)
        registered = self.engine.namespaces.get(namespace).search_attributes
        problem = validate_search_attributes(request.search_attributes, registered)
        if problem:
            raise InvalidArgument(problem)
        schedule = schedule_pb.Schedule()
        schedule.CopyFrom(request.schedule)
        compiled = _compile(schedule)
        schedule.spec.CopyFrom(canonical_spec(schedule.spec))
        now = self.engine.clock.now()
        record = ScheduleRecord(
            namespace=namespace,
            schedule_id=request.schedule_id,
            schedule=schedule,
            memo=request.memo,
            search_attributes=request.search_attributes,
            create_time=now,
            last_processed=now,
            compiled=compiled,
        )
        self.records[(namespace, request.schedule_id)] = record
        if request.HasField("initial_patch"):
            self._apply_patch(record, request.initial_patch)
        self._arm(record)
        self._save(record)
        log.info("schedule created", namespace=namespace, schedule_id=request.schedule_id)
        return record

    def update(self, request: wsv.UpdateScheduleRequest) -> None:
        record = self.get(request.namespace, request.schedule_id)
        if request.conflict_token and request.conflict_token != str(record.conflict_token).encode():
            raise FailedPrecondition("mismatched conflict token")
        self._validate(request.namespace, request.schedule)
        compiled = _compile(request.schedule)
        record.schedule.CopyFrom(request.schedule)
        record.schedule.spec.CopyFrom(canonical_spec(request.schedule.spec))
        record.compiled = compiled
        if request.HasField("search_attributes"):
            record.search_attributes.CopyFrom(request.search_attributes)
        if request.HasField("memo"):
            record.memo.CopyFrom(request.memo)
        record.update_time = self.engine.clock.now()
        record.last_processed = max(record.last_processed or record.update_time, record.update_time)
        record.conflict_token += 1
        self._arm(record)
        self._save(record)

    def patch(self, request: wsv.PatchScheduleRequest) -> None:
        record = self.get(request.namespace, request.schedule_id)
        self._apply_patch(record, request.patch)
        record.update_time = self.engine.clock.now()
        record.conflict_token += 1
        self._arm(record)
        self._save(record)

    def delete(self, namespace: str, schedule_id: str) -> None:
        record = self.get(namespace, schedule_id)
        if record.handle is not None:
            record.handle.cancel()
        del self.records[(namespace, schedule_id)]
        self._save(record, deleted=True)

    def _apply_patch(self, record: ScheduleRecord, patch: schedule_pb.SchedulePatch) -> None:
        state = record.schedule.state
        now = self.engine.clock.now()
        if patch.pause:
            state.paused = True
            state.notes = patch.pause
        if patch.unpause:
            state.paused = False
            state.notes = patch.unpause
            # Times that passed while paused are not made up for.
            record.last_processed = now
        if patch.HasField("trigger_immediately"):
            trigger = patch.trigger_immediately
            nominal = (
                _aware(trigger.scheduled_time.ToDatetime())
                if trigger.HasField("scheduled_time")
                else now
            )
            self._take_action(record, nominal, trigger.overlap_policy, manual=True)
        for backfill in patch.backfill_request:
            assert record.compiled is not None
            start = _aware(backfill.start_time.ToDatetime())
            end = _aware(backfill.end_time.ToDatetime())
            # Backfill covers [start, end]: matching_times excludes the start itself.
            times = record.compiled.matching_times(
                start - timedelta(microseconds=1), end, limit=MAX_ACTIONS_PER_PASS
            )
            for nominal in times:
                self._take_action(record, nominal, backfill.overlap_policy, manual=True)

    # ---- firing ----------------------------------------------------------------------------

    def _arm(self, record: ScheduleRecord) -> None:
        if record.handle is not None:
            record.handle.cancel()
            record.handle = None
        state = record.schedule.state
        if state.paused or (state.limited_actions and state.remaining_actions <= 0):
            return
        assert record.compiled is not None
        after = record.last_processed or self.engine.clock.now()
        nominal = record.compiled.next_time(after)
        if nominal is None:
            return
        actual = record.compiled.jittered(nominal, record.schedule_id)
        record.handle = self.engine.scheduler.call_at(actual, functools.partial(self._fire, record))

    def _fire(self, record: ScheduleRecord) -> None:
        record.handle = None
        if self.records.get((record.namespace, record.schedule_id)) is not record:
            return
        assert record.compiled is not None
        now = self.engine.clock.now()
        after = record.last_processed or record.create_time
        window = record.schedule.policies.catchup_window.ToTimedelta() or DEFAULT_CATCHUP_WINDOW
        for nominal in record.compiled.matching_times(after, now, limit=MAX_ACTIONS_PER_PASS):
            state = record.schedule.state
            if state.paused or (state.limited_actions and state.remaining_actions <= 0):
                break
            if now - nominal > window:
                record.missed_catchup_window += 1
            else:
                self._take_action(record, nominal, 0)
            record.last_processed = nominal
        record.last_processed = max(record.last_processed or now, now)
        self._arm(record)
        self._save(record)

    def _current_run(self, namespace: str, workflow_id: str) -> MutableState | None:
        run_id = self.engine.current.get((namespace, workflow_id))
        return self.engine.runs.get((namespace, run_id)) if run_id else None

    def _prune_running(self, record: ScheduleRecord) -> None:
        alive = []
        for workflow_id, run_id in record.running:
            current = self._current_run(record.namespace, workflow_id)
            if current is not None and current.running:
                alive.append((workflow_id, run_id))
            else:
                self._by_workflow.pop((record.namespace, workflow_id), None)
        record.running = alive

    def _take_action(
        self, record: ScheduleRecord, nominal: datetime, overlap: int, manual: bool = False
    ) -> None:
        policy = (
            overlap
            or record.schedule.policies.overlap_policy
            or Overlap.SCHEDULE_OVERLAP_POLICY_SKIP
        )
        self._prune_running(record)
        if record.running and policy != Overlap.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL:
            if policy == Overlap.SCHEDULE_OVERLAP_POLICY_SKIP:
                record.overlap_skipped += 1
                return
            if policy == Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE:
                if record.buffered:
                    record.buffer_dropped += 1
                else:
                    record.buffered.append((nominal, policy))
                return
            if policy == Overlap.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL:
                record.buffered.append((nominal, policy))
                return
            for workflow_id, _ in list(record.running):
                current = self._current_run(record.namespace, workflow_id)
                if current is None or not current.running:
                    continue
                if policy == Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
                    self.engine.request_cancel(
                        current,
                        "devserver-schedule",
                        "",
                        f"schedule {record.schedule_id} overlap policy",
                    )
                else:
                    self.engine.terminate(
                        current, "schedule overlap policy", None, "devserver-schedule"
                    )
            if policy == Overlap.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER:
                # Starts once the canceled run has closed.
                record.buffered.append((nominal, policy))
                return
            self._prune_running(record)
        self._start(record, nominal, manual)

    def _start(self, record: ScheduleRecord, nominal: datetime, manual: bool) -> None:
        action = record.schedule.action.start_workflow
        stamp = nominal.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        workflow_id = (
            action.workflow_id
            if record.schedule.policies.keep_original_workflow_id
            else f"{action.workflow_id}-{stamp}"
        )
        new = NewRun(
            namespace=record.namespace,
            workflow_id=workflow_id,
            workflow_type=action.workflow_type.name,
            task_queue=action.task_queue.name,
            input=action.input,
            header=action.header,
            memo=action.memo,
            search_attributes=action.search_attributes,
            execution_timeout=action.workflow_execution_timeout.ToTimedelta() or None,
            run_timeout=action.workflow_run_timeout.ToTimedelta() or None,
            task_timeout=action.workflow_task_timeout.ToTimedelta() or None,
            retry_policy=action.retry_policy if action.HasField("retry_policy") else None,
            cron_schedule="",
            identity="devserver-schedule",
            request_id=str(uuid.uuid4()),
        )
        result = schedule_pb.ScheduleActionResult()
        result.schedule_time.FromDatetime(nominal)
        result.actual_time.FromDatetime(self.engine.clock.now())
        try:
            state, _ = self.engine.start(new)
        except ServiceError as exc:
            log.warning("schedule action failed", schedule_id=record.schedule_id, error=exc.message)
            return
        # Temporal marks scheduled runs so they can be listed by schedule.
        payload = state.search_attributes.indexed_fields["TemporalScheduledById"]
        payload.metadata["encoding"] = b"json/plain"
        payload.metadata["type"] = b"Keyword"
        payload.data = json.dumps(record.schedule_id).encode()
        result.start_workflow_result.CopyFrom(state.execution)
        result.start_workflow_status = state.status  # type: ignore[assignment]
        record.recent = [*record.recent, result][-RECENT_ACTIONS_KEPT:]
        record.action_count += 1
        record.running.append((state.workflow_id, state.run_id))
        self._by_workflow[(record.namespace, state.workflow_id)] = (
            record.namespace,
            record.schedule_id,
        )
        schedule_state = record.schedule.state
        if schedule_state.limited_actions and not manual:
            schedule_state.remaining_actions -= 1
        self.engine.changed(state)

    def _on_run_changed(self, state: MutableState) -> None:
        """A scheduled run closed: start what its overlap policy buffered."""
        if state.running or (state.namespace, state.workflow_id) not in self._by_workflow:
            return
        if state.new_run_id:
            return  # continued as new (or retried): the chain is still running
        key = self._by_workflow[(state.namespace, state.workflow_id)]
        record = self.records.get(key)
        if record is None:
            return
        if state.status != 2 and record.schedule.policies.pause_on_failure:  # not COMPLETED
            record.schedule.state.paused = True
            record.schedule.state.notes = f"paused: workflow {state.workflow_id} failed"
        self._prune_running(record)
        if record.buffered and not record.running and not record.schedule.state.paused:
            nominal, policy = record.buffered.pop(0)
            self._take_action(record, nominal, policy)
        for result in record.recent:
            if result.start_workflow_result.run_id == state.run_id:
                result.start_workflow_status = state.status  # type: ignore[assignment]
        self._save(record)

    # ---- reading ---------------------------------------------------------------------------

    def info(self, record: ScheduleRecord) -> schedule_pb.ScheduleInfo:
        self._prune_running(record)
        info = schedule_pb.ScheduleInfo(
            action_count=record.action_count,
            missed_catchup_window=record.missed_catchup_window,
            overlap_skipped=record.overlap_skipped,
            buffer_dropped=record.buffer_dropped,
            buffer_size=len(record.buffered),
            recent_actions=record.recent,
        )
        for workflow_id, run_id in record.running:
            info.running_workflows.add(workflow_id=workflow_id, run_id=run_id)
        info.future_action_times.extend(_ts(t) for t in self.future_times(record))
        info.create_time.FromDatetime(record.create_time)
        if record.update_time is not None:
            info.update_time.FromDatetime(record.update_time)
        return info

    def future_times(self, record: ScheduleRecord) -> list[datetime]:
        state = record.schedule.state
        if state.paused or record.compiled is None:
            return []
        times: list[datetime] = []
        cursor = record.last_processed or self.engine.clock.now()
        limit = FUTURE_ACTION_TIMES
        if state.limited_actions:
            limit = min(limit, max(state.remaining_actions, 0))
        while len(times) < limit:
            following = record.compiled.next_time(cursor)
            if following is None:
                break
            times.append(record.compiled.jittered(following, record.schedule_id))
            cursor = following
        return times

    def list_schedules(
        self, namespace: str, query: str, page_size: int, token: bytes
    ) -> wsv.ListSchedulesResponse:
        registered = self.engine.namespaces.get(namespace).search_attributes
        types = {"ScheduleId": KEYWORD, "TemporalSchedulePaused": BOOL, **registered}
        try:
            parsed = parse_query(query, types)
        except QueryError as exc:
            raise InvalidArgument(str(exc)) from exc
        entries = []
        for (ns, schedule_id), record in sorted(self.records.items()):
            if ns != namespace:
                continue
            values: dict[str, object] = decode_all(record.search_attributes, registered)
            values["ScheduleId"] = schedule_id
            values["TemporalSchedulePaused"] = record.schedule.state.paused
            if not parsed.matches(values):
                continue
            entry = schedule_pb.ScheduleListEntry(
                schedule_id=schedule_id,
                memo=record.memo,
                search_attributes=record.search_attributes,
            )
            entry.info.spec.CopyFrom(record.schedule.spec)
            entry.info.workflow_type.CopyFrom(record.schedule.action.start_workflow.workflow_type)
            entry.info.notes = record.schedule.state.notes
            entry.info.paused = record.schedule.state.paused
            entry.info.recent_actions.extend(record.recent[-3:])
            entry.info.future_action_times.extend(_ts(t) for t in self.future_times(record))
            entries.append(entry)
        offset = int(token.decode()) if token else 0
        size = page_size if page_size > 0 else 1000
        response = wsv.ListSchedulesResponse(schedules=entries[offset : offset + size])
        if offset + size < len(entries):
            response.next_page_token = str(offset + size).encode()
        return response

    def matching_times(self, request: wsv.ListScheduleMatchingTimesRequest) -> list[datetime]:
        record = self.get(request.namespace, request.schedule_id)
        assert record.compiled is not None
        start = _aware(request.start_time.ToDatetime())
        end = _aware(request.end_time.ToDatetime())
        if end < start:
            raise InvalidArgument("end_time must not be before start_time.")
        return record.compiled.matching_times(start, end, limit=MAX_ACTIONS_PER_PASS)
