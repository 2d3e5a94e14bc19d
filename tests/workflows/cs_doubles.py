"""Activity doubles registered under the contract names; they record every call.

Kept out of test modules so the worker can import them without pytest's assertion rewriting.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

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
    RequirementsAnswers,
    StageChange,
    Survey,
    SurveyAnswer,
    SurveyCategory,
    SurveyKind,
    SurveyRequest,
    SurveyResponse,
    TaskInput,
    Touchpoint,
    TouchpointInput,
)


def _now() -> datetime:
    return datetime.now(UTC)


class FakeCrm:
    """In-memory doubles of every activity in docs/contracts.md."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.email_sends: Counter[str] = Counter()
        self.emails: list[EmailRequest] = []
        self.tasks: dict[str, CsmTask] = {}
        self.alerts: list[CsmAlert] = []
        self.surveys: dict[str, Survey] = {}
        self.stages: list[StageChange] = []
        self.outcomes: list[ContractOutcome] = []
        self.requirements: list[RequirementsAnswers] = []
        self.kickoffs: list[KickoffInvite] = []

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
            self.send_kickoff_invite,
            self.compute_health_score,
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
        return AccountSnapshot(account=account)

    @activity.defn(name="set_lifecycle_stage")
    async def set_lifecycle_stage(self, change: StageChange) -> None:
        self.calls.append(("set_lifecycle_stage", change))
        self.stages.append(change)

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

    @activity.defn(name="send_email")
    async def send_email(self, request: EmailRequest) -> EmailReceipt:
        self.calls.append(("send_email", request))
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
    async def alert_csm(self, alert: CsmAlert) -> None:
        self.calls.append(("alert_csm", alert))
        self.alerts.append(alert)

    @activity.defn(name="send_kickoff_invite")
    async def send_kickoff_invite(self, invite: KickoffInvite) -> EmailReceipt:
        self.calls.append(("send_kickoff_invite", invite))
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
        return HealthScore(
            account_id=inputs.account_id,
            score=score,
            band=band,
            components=[],
            computed_at=_now(),
        )
