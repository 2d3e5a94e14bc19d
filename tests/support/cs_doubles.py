"""Activity doubles registered under the contract names; they record every call.

Kept out of test modules so the worker can import them without pytest's assertion rewriting.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.process_map_start import ProcessMapStarter
from domain.handoffs import HandoffUpdate
from domain.models import (
    Account,
    AccountSnapshot,
    AccountUpsert,
    Contract,
    ContractOutcome,
    CsmAlert,
    CsmTask,
    EmailReceipt,
    EmailRequest,
    EmailStatus,
    HealthBand,
    HealthInputs,
    HealthScore,
    KickoffInvite,
    LifecycleStage,
    RequirementsAnswers,
    SegmentationMode,
    StageChange,
    Survey,
    SurveyAnswer,
    SurveyCategory,
    SurveyKind,
    SurveyRequest,
    SurveyResponse,
    TaskCompletion,
    TaskInput,
    Touchpoint,
    TouchpointInput,
)
from domain.segment_query import SegmentAccounts, SegmentMember, SegmentQuery
from domain.segmentation import segment_for


def _now() -> datetime:
    return datetime.now(UTC)


class FakeCrm:
    """In-memory doubles of every activity in docs/contracts.md."""

    def __init__(self) -> None:
        # Contact governor double: when set, the first send of every key is deferred this long.
        self.defer_first: timedelta | None = None
        self.deferrals: list[tuple[str, datetime]] = []
        self.accounts: dict[str, Account] = {}
        self.calls: list[tuple[str, Any]] = []
        self.email_sends: Counter[str] = Counter()
        self.emails: list[EmailRequest] = []
        self.tasks: dict[str, CsmTask] = {}
        self.alerts: list[CsmAlert] = []
        self.alert_tasks: dict[str, CsmTask] = {}
        self.completions: list[TaskCompletion] = []
        self.surveys: dict[str, Survey] = {}
        self.stages: list[StageChange] = []
        self.outcomes: list[ContractOutcome] = []
        self.requirements: list[RequirementsAnswers] = []
        self.kickoffs: list[KickoffInvite] = []
        # Process-map handoffs as last recorded, by "<account>:<milestone>:<cycle>".
        self.handoffs: dict[str, HandoffUpdate] = {}
        # Activities that fail for good (name -> the contract's error type), as the real ones do
        # for input they can never accept.
        self.refuse: dict[str, str] = {}

    def _refuse(self, name: str) -> None:
        if name in self.refuse:
            raise ApplicationError(
                f"{name} refused the input", type=self.refuse[name], non_retryable=True
            )

    def named(self, name: str) -> list[Any]:
        return [arg for called, arg in self.calls if called == name]

    def email_steps(self) -> list[str]:
        return [e.idempotency_key for e in self.emails]

    @property
    def activities(self) -> list[Any]:
        return [
            self.upsert_account,
            self.set_lifecycle_stage,
            self.append_touchpoint,
            self.create_csm_task,
            self.record_requirements,
            self.record_contract_outcome,
            self.send_email,
            self.create_survey,
            self.record_survey_response,
            self.alert_csm,
            self.complete_csm_task,
            self.send_kickoff_invite,
            self.compute_health_score,
            self.list_segment_accounts,
            self.record_handoff,
        ]

    @activity.defn(name="upsert_account")
    async def upsert_account(self, upsert: AccountUpsert) -> AccountSnapshot:
        self.calls.append(("upsert_account", upsert))
        account = Account(
            id=upsert.id,
            name=upsert.name,
            arr=upsert.arr,
            segment=upsert.effective_segment,
            csm_owner=upsert.csm_owner,
        )
        self.accounts[upsert.id] = account
        return AccountSnapshot(account=account)

    @activity.defn(name="set_lifecycle_stage")
    async def set_lifecycle_stage(self, change: StageChange) -> None:
        self.calls.append(("set_lifecycle_stage", change))
        self.stages.append(change)
        account = self.accounts.get(change.account_id)
        if account is not None:
            account.lifecycle_stage = change.stage

    @activity.defn(name="append_touchpoint")
    async def append_touchpoint(self, touchpoint: TouchpointInput) -> Touchpoint:
        self.calls.append(("append_touchpoint", touchpoint))
        return Touchpoint(
            id=len(self.calls),
            account_id=touchpoint.account_id,
            kind=touchpoint.kind,
            summary=touchpoint.summary,
            occurred_at=touchpoint.occurred_at or _now(),
        )

    @activity.defn(name="create_csm_task")
    async def create_csm_task(self, task: TaskInput) -> CsmTask:
        self.calls.append(("create_csm_task", task))
        key = task.idempotency_key or str(len(self.tasks))
        if key not in self.tasks:
            self.tasks[key] = CsmTask(
                id=len(self.tasks) + 1,
                account_id=task.account_id,
                owner=task.owner,
                title=task.title,
                created_at=_now(),
            )
        return self.tasks[key]

    @activity.defn(name="record_requirements")
    async def record_requirements(self, answers: RequirementsAnswers) -> None:
        self.calls.append(("record_requirements", answers))
        self._refuse("record_requirements")
        self.requirements.append(answers)

    @activity.defn(name="record_contract_outcome")
    async def record_contract_outcome(self, outcome: ContractOutcome) -> Contract:
        self.calls.append(("record_contract_outcome", outcome))
        self.outcomes.append(outcome)
        end = outcome.new_end_date or _now().date()
        return Contract(
            account_id=outcome.account_id,
            start_date=end.replace(year=end.year - 1),
            end_date=end,
            value=outcome.new_value or 0,
        )

    def named_tasks(self, fragment: str) -> list[TaskInput]:
        return [t for t in self.named("create_csm_task") if fragment in t.title]

    def emails_with(self, template: str) -> list[EmailRequest]:
        return [e for e in self.emails if e.template == template]

    @activity.defn(name="send_email")
    async def send_email(self, request: EmailRequest) -> EmailReceipt:
        self.calls.append(("send_email", request))
        key = request.idempotency_key
        if self.defer_first is not None and request.now is not None:
            held = next((n for k, n in self.deferrals if k == key), None)
            if held is None or request.now < held:
                held = held or request.now + self.defer_first
                if (key, held) not in self.deferrals:
                    self.deferrals.append((key, held))
                return EmailReceipt(
                    idempotency_key=key,
                    status=EmailStatus.DEFERRED,
                    not_before=held,
                    reason="quiet hours",
                )
        self.email_sends[request.idempotency_key] += 1
        self.emails.append(request)
        return EmailReceipt(
            idempotency_key=request.idempotency_key,
            status=EmailStatus.OUTBOXED,
            message_id=f"msg-{len(self.emails)}",
            provider="outbox",
        )

    @activity.defn(name="create_survey")
    async def create_survey(self, request: SurveyRequest) -> Survey:
        self.calls.append(("create_survey", request))
        for survey in self.surveys.values():
            if survey.topic == request.idempotency_key:
                return survey
        token = f"tok-{request.kind.value}-{len(self.surveys) + 1}"
        survey = Survey(
            survey_id=len(self.surveys) + 1,
            account_id=request.account_id,
            contact_id=request.contact_id,
            kind=request.kind,
            topic=request.topic,
            token=token,
            link=f"https://surveys.example/{token}",
            created_at=_now(),
        )
        self.surveys[token] = survey
        return survey

    @activity.defn(name="record_survey_response")
    async def record_survey_response(self, answer: SurveyAnswer) -> SurveyResponse:
        self.calls.append(("record_survey_response", answer))
        survey = self.surveys.get(answer.token)
        if survey is None:
            raise ApplicationError(
                f"no survey with token {answer.token}",
                type="UnknownSurveyToken",
                non_retryable=True,
            )
        if survey.kind == SurveyKind.NPS:
            if not 0 <= answer.score <= 10:
                raise ApplicationError("NPS is 0-10", type="ScoreOutOfRange", non_retryable=True)
            category = (
                SurveyCategory.PROMOTER
                if answer.score >= 9
                else SurveyCategory.PASSIVE
                if answer.score >= 7
                else SurveyCategory.DETRACTOR
            )
        else:
            category = (
                SurveyCategory.SATISFIED
                if answer.score >= 4
                else SurveyCategory.NEUTRAL
                if answer.score == 3
                else SurveyCategory.DISSATISFIED
            )
        return SurveyResponse(
            id=len(self.calls),
            survey_id=survey.survey_id,
            token=answer.token,
            account_id=survey.account_id,
            contact_id=survey.contact_id,
            kind=survey.kind,
            score=answer.score,
            comment=answer.comment,
            category=category,
            responded_at=_now(),
        )

    @activity.defn(name="alert_csm")
    async def alert_csm(self, alert: CsmAlert) -> CsmTask:
        self.calls.append(("alert_csm", alert))
        self.alerts.append(alert)
        key = f"{alert.idempotency_key}:task"
        if key not in self.alert_tasks:
            self.alert_tasks[key] = CsmTask(
                id=1000 + len(self.alert_tasks),
                account_id=alert.account_id,
                owner=alert.owner,
                title=alert.subject,
                created_at=_now(),
            )
        return self.alert_tasks[key]

    @activity.defn(name="complete_csm_task")
    async def complete_csm_task(self, completion: TaskCompletion) -> CsmTask:
        self.calls.append(("complete_csm_task", completion))
        self.completions.append(completion)
        everything = [*self.tasks.values(), *self.alert_tasks.values()]
        task = next(t for t in everything if t.id == completion.task_id)
        return task.model_copy(update={"status": completion.status, "outcome": completion.outcome})

    @activity.defn(name="send_kickoff_invite")
    async def send_kickoff_invite(self, invite: KickoffInvite) -> EmailReceipt:
        self.calls.append(("send_kickoff_invite", invite))
        self._refuse("send_kickoff_invite")
        self.email_sends[invite.idempotency_key] += 1
        self.kickoffs.append(invite)
        return EmailReceipt(
            idempotency_key=invite.idempotency_key, status=EmailStatus.OUTBOXED, provider="outbox"
        )

    @activity.defn(name="compute_health_score")
    async def compute_health_score(self, inputs: HealthInputs) -> HealthScore:
        self.calls.append(("compute_health_score", inputs))
        score = 50
        if inputs.licensed_seats:
            score = int(100 * inputs.active_users / inputs.licensed_seats)
        if inputs.latest_nps is not None and inputs.latest_nps <= 6:
            score = min(score, 30)
        score = max(0, min(100, score))
        band = (
            HealthBand.HEALTHY
            if score >= 70
            else HealthBand.AT_RISK
            if score >= 40
            else HealthBand.CRITICAL
        )
        account = self.accounts.get(inputs.account_id)
        segment = None
        if account is not None:
            segment = segment_for(
                account,
                band,
                inputs.lifecycle_stage or LifecycleStage.TRIAL,
                SegmentationMode.DYNAMIC,
            ).key
            account.health_score, account.segment_key = score, segment
        return HealthScore(
            account_id=inputs.account_id,
            score=score,
            band=band,
            components=[],
            computed_at=inputs.now or _now(),
            segment=segment,
        )

    @activity.defn(name="list_segment_accounts")
    async def list_segment_accounts(self, query: SegmentQuery) -> SegmentAccounts:
        members = [
            SegmentMember(
                account_id=a.id,
                journey_id=f"journey-{a.id}",
                segment=a.segment_key or a.segment.value,
                health_score=a.health_score,
            )
            for a in sorted(self.accounts.values(), key=lambda a: a.id)
            if a.lifecycle_stage != LifecycleStage.CHURNED
            and query.matches(a.segment_key or a.segment.value)
        ]
        return SegmentAccounts(query=query.describe(), members=members[: query.limit])

    @activity.defn(name="record_handoff")
    async def record_handoff(self, update: HandoffUpdate) -> None:
        self.calls.append(("record_handoff", update))
        self.handoffs[update.key] = update


HISTORIES = Path(__file__).resolve().parents[1] / "workflows" / "histories"


async def save_history(client: Client, workflow_id: str, name: str) -> None:
    """With CSFLOW_SAVE_HISTORIES=1, keep this run's history for the replay test (once)."""
    path = HISTORIES / f"{name}.json"
    if os.environ.get("CSFLOW_SAVE_HISTORIES") != "1" or path.exists():
        return
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")


class Playground:
    """A worker on its own task queue with the CRM doubles, and the journeys a test starts."""

    def __init__(self, env: WorkflowEnvironment, crm: FakeCrm, queue: str) -> None:
        self.env, self.crm, self.queue = env, crm, queue

    @property
    def client(self) -> Client:
        return self.env.client

    async def today(self) -> date:
        return (await self.env.get_current_time()).date()


async def playground(env: WorkflowEnvironment, workflows: list[type]) -> AsyncIterator[Playground]:
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    # Starting workflows is the client's work, not the CRM's: the real activity.
    activities = [*crm.activities, ProcessMapStarter(env.client).start_process_map]
    async with Worker(env.client, task_queue=queue, workflows=workflows, activities=activities):
        yield Playground(env, crm, queue)


async def start_account(
    pg: Playground, segment: Any = None, answer: bool = True, **kwargs: Any
) -> str:
    """Start a journey for a fresh account; with `answer`, take it through onboarding."""
    from domain.models import Segment
    from starter.api import start_journey
    from tests.support.cs_driver import advance_until, event
    from tests.support.cs_fixtures import journey_input
    from workflows.customer_event import CustomerEvent

    account_id = f"acct-{uuid.uuid4().hex[:8]}"
    kwargs.setdefault("contract_start", await pg.today())
    await start_journey(
        pg.client,
        journey_input(account_id, segment or Segment.SMB, **kwargs),
        CustomerEvent(account_id=account_id, type="payment_received"),
        task_queue=pg.queue,
    )
    if not answer:
        return account_id
    await event(
        pg.client,
        account_id,
        "questionnaire_answered",
        reasons_for_purchase="grow",
        intended_use="x",
    )
    await advance_until(pg.env, account_id, lambda s: s.stage == LifecycleStage.ONBOARDING)
    for milestone in ("first_login", "first_key_action"):
        await event(
            pg.client,
            account_id,
            "usage_reported",
            milestone=milestone,
            active_users=8,
            licensed_seats=10,
        )
    await advance_until(pg.env, account_id, lambda s: s.stage == LifecycleStage.ADOPTION)
    return account_id
