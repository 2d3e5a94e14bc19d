"""ProcessMapWorkflow: the cross-functional process map, run for one account (id
`process-map-<account id>`), beside its journey for as long as the journey lives.

For each milestone of the map the journey started with:
1. When its anchor happens (the journey says so: payment, a stage's start, the contract's end),
   its start and due dates are known.
2. When its start has come and the milestones it depends on are done, its function gets a
   handoff task (to the team's address), due `due_within_days` later.
3. Done (the task completed through the CLI, the HTTP API or the console): who, when and the
   evidence are recorded, and the functions that depend on it, and those it notifies, get one
   email each. A milestone that gates a journey stage tells the journey.
4. Past due: one escalation to the function's lead; it stays on their list until done.
Every change is a row in the CRM's `handoffs` table and an entry on the account's timeline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.handoffs import HandoffActivities
    from domain.durations import in_words
    from domain.handoffs import HandoffState, HandoffUpdate
    from domain.models import AlertSeverity, CsmTask, EmailRequest, TaskPriority, TaskStatus
    from domain.process_map import Anchor, Milestone, ProcessMap
    from workflows.actions import CsActions
    from workflows.activity_calls import call
    from workflows.idempotency import step_key
    from workflows.process_map_state import (
        AnchorReached,
        MilestoneDone,
        MilestoneRun,
        ProcessMapInput,
    )

SYSTEM_ACTOR = "csflow"


@workflow.defn
class ProcessMapWorkflow:
    @workflow.init
    def __init__(self, input: ProcessMapInput) -> None:
        self._input = input
        self._map: ProcessMap = input.process_map
        self._completed: list[CsmTask] = []
        # Tasks and alerts go to the functions; the log (carried over) lets it close them.
        self._work = CsActions(input.account_id, input.csm_owner, log=input.log)

    @workflow.signal(name="anchor_reached")
    def anchor_reached(self, moment: AnchorReached) -> None:
        known = [a for a in self._input.anchors if a.anchor == moment.anchor]
        if not known or (moment.anchor == Anchor.CONTRACT_END and known[-1].at != moment.at):
            self._input.anchors.append(moment)

    @workflow.signal(name="task_completed")
    def task_completed(self, task: CsmTask) -> None:
        """A function completed its handoff task (CLI, HTTP API or console)."""
        self._completed.append(task)

    @workflow.signal(name="journey_ended")
    def journey_ended(self) -> None:
        self._input.ended = True

    @workflow.query
    def milestones(self) -> list[MilestoneRun]:
        return list(self._input.runs)

    @workflow.query
    def map_version(self) -> str:
        return self._map.label

    @workflow.run
    async def run(self, input: ProcessMapInput) -> list[MilestoneRun]:
        while True:
            await self._take_completions()
            if self._input.ended:
                await self._cancel_open()
                return self._input.runs
            await self._advance()
            wake = self._next_wake()
            timeout = None if wake is None else max(wake - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(
                    lambda: (
                        bool(self._completed)
                        or self._input.ended
                        or self._unplanned()
                        or workflow.info().is_continue_as_new_suggested()
                    ),
                    timeout=timeout,
                )
            except TimeoutError:
                pass
            if workflow.info().is_continue_as_new_suggested() and not self._completed:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._input)

    # ---- moving milestones forward ------------------------------------------------------------

    def _unplanned(self) -> bool:
        """An occurrence is due to be planned: its anchor has just happened, or a repeating
        milestone's previous cycle has opened."""
        return any(
            self._run(milestone.id, cycle) is None
            for milestone in self._map.milestones
            for cycle, _ in self._occurrences(milestone)
        )

    def _occurrences(self, milestone: Milestone) -> list[tuple[int, datetime]]:
        """(cycle, start) of each occurrence of `milestone` known so far, within the horizon.
        A repeating milestone's next cycle appears once the previous one has opened."""
        anchors = [a.at for a in self._input.anchors if a.anchor == milestone.starts.anchor]
        if not anchors:
            return []
        if milestone.starts.anchor == Anchor.CONTRACT_END:
            starts = [(c, self._map.starts_at(milestone, at)) for c, at in enumerate(anchors)]
        else:
            starts = [(0, self._map.starts_at(milestone, anchors[0]))]
            if milestone.repeat_every_days:
                cycle = 0
                while (run := self._run(milestone.id, cycle)) is not None and run.opened_at:
                    cycle += 1
                    starts.append((cycle, self._map.starts_at(milestone, anchors[0], cycle)))
        return [(c, at) for c, at in starts if self._within_horizon(at)]

    def _within_horizon(self, at: datetime) -> bool:
        paid = [a.at for a in self._input.anchors if a.anchor == Anchor.PAYMENT_RECEIVED]
        return not paid or at <= paid[0] + timedelta(days=self._map.horizon_days)

    async def _advance(self) -> None:
        now = workflow.now()
        for milestone in self._map.milestones:
            for cycle, starts_at in self._occurrences(milestone):
                run = self._run(milestone.id, cycle)
                if run is None:
                    run = MilestoneRun(
                        milestone_id=milestone.id,
                        cycle=cycle,
                        starts_at=starts_at,
                        due_at=starts_at + milestone.due_within,
                    )
                    self._input.runs.append(run)
                    await self._record(
                        run, f"{milestone.title}: planned to start {starts_at:%d %b %Y}"
                    )
                await self._step(milestone, run, now)

    async def _step(self, milestone: Milestone, run: MilestoneRun, now: datetime) -> None:
        if run.state in (HandoffState.WAITING, HandoffState.BLOCKED) and now >= run.starts_at:
            blocker = self._blocker(milestone, run)
            if blocker is None:
                await self._open(milestone, run, now)
            elif run.state != HandoffState.BLOCKED or run.blocker != blocker:
                run.state, run.blocker = HandoffState.BLOCKED, blocker
                await self._record(run, f"{milestone.title}: blocked, {blocker}")
        if run.state == HandoffState.OPEN and now >= run.due_at:
            await self._escalate(milestone, run)

    def _blocker(self, milestone: Milestone, run: MilestoneRun) -> str | None:
        """What `run` waits for, in words; None when every dependency is done."""
        waiting = []
        for dependency_id in milestone.depends_on:
            dependency = self._map.milestone(dependency_id)
            same_cycle = dependency.starts.anchor == milestone.starts.anchor
            runs = [r for r in self._input.runs if r.milestone_id == dependency_id]
            if same_cycle:
                runs = [r for r in runs if r.cycle == run.cycle]
            if not any(r.state == HandoffState.DONE for r in runs):
                function = self._map.function(dependency.function).name
                waiting.append(f"{dependency.title} ({function})")
        return f"waits for {', '.join(waiting)}" if waiting else None

    async def _open(self, milestone: Milestone, run: MilestoneRun, now: datetime) -> None:
        function = self._map.function(milestone.function)
        # Late dependencies leave the function its full time.
        run.due_at = max(run.due_at, now + milestone.due_within)
        run.state, run.blocker, run.opened_at = HandoffState.OPEN, None, now
        task = await self._work.task(
            f"{milestone.title} for {self._input.account_name}",
            f"handoff:{run.key}",
            description=self._task_description(milestone, run),
            due_at=run.due_at,
            priority=TaskPriority.HIGH if milestone.gates else TaskPriority.NORMAL,
            owner=function.owner,
        )
        run.task_id = task.id
        await self._record(
            run,
            f"{milestone.title}: handed to {function.name}, due {run.due_at:%d %b %Y}",
        )

    def _task_description(self, milestone: Milestone, run: MilestoneRun) -> str:
        lines = [f"Done when: {milestone.done_when}"]
        waiting = [
            f"{m.title} ({self._map.function(m.function).name})"
            for m in self._map.dependents(milestone.id)
        ]
        if waiting:
            lines.append(f"Waiting on this: {', '.join(waiting)}.")
        if milestone.gates:
            lines.append(f"The customer's {milestone.gates.value} stage waits for it.")
        lines.append(
            f"You have {in_words(milestone.due_within)}. Complete the task with what you did "
            "(a link or a note) as its outcome."
        )
        return "\n".join(lines)

    async def _escalate(self, milestone: Milestone, run: MilestoneRun) -> None:
        function = self._map.function(milestone.function)
        run.state, run.escalated_at = HandoffState.OVERDUE, workflow.now()
        assert function.lead is not None  # the map's checks require one
        late = in_words(workflow.now() - run.due_at) if workflow.now() > run.due_at else ""
        await self._work.alert(
            f"Overdue: {milestone.title} for {self._input.account_name} ({function.name})",
            f"handoff:{run.key}:overdue",
            message=(
                f"{function.name} ({function.owner}) was due to finish '{milestone.title}' on "
                f"{run.due_at:%d %b %Y}{f', {late} ago' if late else ''}. "
                f"{self._task_description(milestone, run)}"
            ),
            severity=AlertSeverity.WARNING,
            owner=function.lead,
        )
        await self._record(run, f"{milestone.title}: overdue, escalated to {function.lead}")

    # ---- completions --------------------------------------------------------------------------

    async def _take_completions(self) -> None:
        while self._completed:
            task = self._completed.pop(0)
            run = next((r for r in self._input.runs if r.task_id == task.id), None)
            if run is None or task.status != TaskStatus.DONE or run.state == HandoffState.DONE:
                continue
            await self._complete(self._map.milestone(run.milestone_id), run, task)

    async def _complete(self, milestone: Milestone, run: MilestoneRun, task: CsmTask) -> None:
        run.state, run.blocker = HandoffState.DONE, None
        run.done_at = workflow.now()
        run.done_by = task.completed_by or task.owner
        run.evidence = task.outcome
        await self._record(
            run,
            f"{milestone.title}: done by {run.done_by}"
            + (f" ({run.evidence})" if run.evidence else ""),
            actor=run.done_by,
            source=task.completed_via or "task",
        )
        if run.escalated_at is not None:
            await self._work.close(f"handoff:{run.key}:overdue", outcome="the handoff is done")
        await self._notify(milestone, run)
        if milestone.gates is not None:
            done = MilestoneDone(milestone_id=milestone.id, cycle=run.cycle, done_at=run.done_at)
            try:
                journey = workflow.get_external_workflow_handle(self._input.journey_id)
                await journey.signal("milestone_done", done)
            except Exception as exc:  # noqa: BLE001 - a finished journey waits for nothing
                workflow.logger.info("journey not told of %s: %s", run.key, exc)

    async def _notify(self, milestone: Milestone, run: MilestoneRun) -> None:
        """One email to each function that depends on the milestone or is to be told of it."""
        dependents = self._map.dependents(milestone.id)
        told = [m.function for m in dependents] + list(milestone.notify)
        function = self._map.function(milestone.function)
        for function_id in dict.fromkeys(told):
            team = self._map.function(function_id)
            if team.owner is None or function_id == milestone.function:
                continue
            unblocked = [m.title for m in dependents if m.function == function_id]
            step = f"handoff:{run.key}:notify:{function_id}"
            request = EmailRequest(
                idempotency_key=step_key(workflow.info().workflow_id, step),
                account_id=self._input.account_id,
                to_email=team.owner,
                template="handoff_done",
                context={
                    "milestone_title": milestone.title,
                    "function_name": function.name,
                    "team_name": team.name,
                    "done_by": run.done_by,
                    "evidence": run.evidence or "",
                    "unblocked": unblocked,
                    "done_on": f"{workflow.now().day} {workflow.now():%b %Y}",
                },
                category="handoff",
                workflow_id=workflow.info().workflow_id,
                step=step,
                now=workflow.now(),
            )
            try:
                await call(EmailActivities.send_email, request)
            except ActivityError as exc:
                workflow.logger.warning("handoff notice to %s not sent: %s", team.owner, exc)

    async def _cancel_open(self) -> None:
        for run in self._input.runs:
            if run.state in (HandoffState.DONE, HandoffState.CANCELLED):
                continue
            run.state = HandoffState.CANCELLED
            title = self._map.milestone(run.milestone_id).title
            await self._record(run, f"{title}: cancelled, the customer's journey ended")
        await self._work.close("handoff:*", outcome="the customer's journey ended")

    # ---- bookkeeping --------------------------------------------------------------------------

    def _run(self, milestone_id: str, cycle: int) -> MilestoneRun | None:
        return next(
            (r for r in self._input.runs if r.milestone_id == milestone_id and r.cycle == cycle),
            None,
        )

    def _next_wake(self) -> datetime | None:
        moments = [
            r.starts_at if r.state == HandoffState.WAITING else r.due_at
            for r in self._input.runs
            if r.state in (HandoffState.WAITING, HandoffState.OPEN)
        ]
        return min(moments) if moments else None

    async def _record(
        self,
        run: MilestoneRun,
        summary: str,
        *,
        actor: str = SYSTEM_ACTOR,
        source: str = "process map",
    ) -> None:
        milestone = self._map.milestone(run.milestone_id)
        function = self._map.function(milestone.function)
        at = workflow.now()
        await call(
            HandoffActivities.record_handoff,
            HandoffUpdate(
                account_id=self._input.account_id,
                progress=run,
                function=function.name,
                title=milestone.title,
                owner=function.owner or "",
                map_version=self._map.label,
                workflow_id=workflow.info().workflow_id,
                summary=f"{function.name}: {summary}",
                actor=actor,
                source=source,
                at=at,
                idempotency_key=step_key(
                    workflow.info().workflow_id, f"handoff:{run.key}:{run.state.value}"
                ),
            ),
        )
