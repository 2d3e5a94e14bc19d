"""The customer-success actions a workflow takes for one account: email, CSM task, alert, survey.

Each one runs its activity with an idempotency key derived from the workflow id and step, and
records the result in the workflow's WorkLog.

A step whose activity failed for good (a non-retryable error: an address or header no provider
takes, a template that does not exist, an unknown contact) is skipped, and the CSM gets one task
to do it by hand (`failed_step`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.alerts import AlertActivities
    from activities.crm import CrmActivities
    from activities.email import EmailActivities
    from activities.surveys import SurveyActivities
    from domain.models import (
        AlertSeverity,
        CsmAlert,
        CsmTask,
        EmailReceipt,
        EmailRequest,
        EmailStatus,
        Survey,
        SurveyKind,
        SurveyRequest,
        TaskCompletion,
        TaskInput,
        TaskPriority,
    )
    from workflows.activity_calls import call
    from workflows.email_deferral import send_governed
    from workflows.idempotency import step_key
    from workflows.work_log import AlertRecord, EmailRecord, SurveyRecord, TaskRecord, WorkLog


def failure_type(error: ActivityError) -> str:
    """The contract's error type of a failed activity (e.g. `InvalidInput`), else `Failed`."""
    return getattr(error.cause, "type", None) or "Failed"


@dataclass
class CsActions:
    """What a workflow does for `account_id`: emails go to `contact_id` unless told otherwise;
    tasks and alerts go to `owner` (the CSM), who also hears of every step that failed for good."""

    account_id: str
    owner: str
    contact_id: str = ""
    log: WorkLog = field(default_factory=WorkLog)

    async def email(
        self,
        template: str,
        step: str,
        *,
        context: dict[str, Any] | None = None,
        to: str | None = None,
        category: str = "customer_success",
        attempt: int | None = None,
        asks: bool = False,
        deadline: datetime | None = None,
    ) -> EmailReceipt:
        """Send one templated email; a rejected one is recorded and given to the CSM as a task.
        `asks`: it asks the customer for an answer (the silence check counts it); `deadline`:
        it must reach them by then, so quiet hours and the frequency cap do not hold it past."""
        contact = to if to is not None else self.contact_id
        workflow_id = workflow.info().workflow_id
        key = step_key(workflow_id, step, attempt)
        request = EmailRequest(
            idempotency_key=key,
            account_id=self.account_id,
            to_contact_id=contact,
            template=template,
            context=context or {},
            category=category,
            workflow_id=workflow_id,
            step=step if attempt is None else f"{step}:{attempt}",
            deadline=deadline,
        )
        failure: ActivityError | None = None
        try:
            receipt = await send_governed(EmailActivities.send_email, request)
        except ActivityError as exc:
            # A rejected address or template must not stop the customer's journey: record it.
            workflow.logger.warning("email %s not sent: %s", key, exc.cause or exc)
            receipt = EmailReceipt(
                idempotency_key=key, status=EmailStatus.REJECTED, reason=str(exc.cause or exc)
            )
            failure = exc
        self.log.emails.append(
            EmailRecord(
                key=key, template=template, status=receipt.status, at=workflow.now(), asks=asks
            )
        )
        if failure is not None:
            # One task per contact and kind of failure: later emails to the same broken contact
            # fail the same way and need the same fix.
            await self.failed_step(
                f"Email '{template}' could not be sent to contact {contact}",
                reason=receipt.reason or failure_type(failure),
                step=f"undeliverable:{contact}:{failure_type(failure)}",
            )
        return receipt

    async def task(
        self,
        title: str,
        step: str,
        *,
        description: str = "",
        due_in: timedelta | None = None,
        due_at: datetime | None = None,
        priority: TaskPriority = TaskPriority.NORMAL,
        owner: str | None = None,
    ) -> CsmTask:
        """A task for the CSM (or `owner`), due at `due_at` or `due_in` from now (workflow time)."""
        owner = owner or self.owner
        due = workflow.now() + due_in if due_in is not None else due_at
        keyed = self._keyed(step)
        task = await call(
            CrmActivities.create_csm_task,
            TaskInput(
                owner=owner,
                title=title,
                description=description,
                due_at=due,
                priority=priority,
                **keyed,
            ),
        )
        self.log.tasks.append(
            TaskRecord(task_id=task.id, title=title, owner=owner, key=keyed["idempotency_key"])
        )
        return task

    async def alert(
        self,
        subject: str,
        step: str,
        *,
        message: str = "",
        severity: AlertSeverity = AlertSeverity.WARNING,
        due_at: datetime | None = None,
        owner: str | None = None,
    ) -> CsmTask:
        """Tell the CSM (or `owner`) at once: a task and an email; the task is returned."""
        owner = owner or self.owner
        keyed = self._keyed(step)
        task = await call(
            AlertActivities.alert_csm,
            CsmAlert(
                owner=owner,
                subject=subject,
                message=message,
                severity=severity,
                due_at=due_at,
                **keyed,
            ),
        )
        key = keyed["idempotency_key"]
        self.log.alerts.append(AlertRecord(owner=owner, subject=subject, key=key))
        self.log.tasks.append(TaskRecord(task_id=task.id, title=subject, owner=owner, key=key))
        return task

    async def survey(
        self, kind: SurveyKind, topic: str, template: str, step: str, *, to: str | None = None
    ) -> Survey:
        """Create the survey, then email its link (both keyed on the same step)."""
        contact = to if to is not None else self.contact_id
        workflow_id = workflow.info().workflow_id
        survey = await call(
            SurveyActivities.create_survey,
            SurveyRequest(
                account_id=self.account_id,
                contact_id=contact,
                kind=kind,
                topic=topic,
                workflow_id=workflow_id,
                idempotency_key=step_key(workflow_id, step),
            ),
        )
        self.log.surveys.append(
            SurveyRecord(
                survey_id=survey.survey_id,
                kind=kind,
                topic=topic,
                token=survey.token,
                sent_at=workflow.now(),
            )
        )
        await self.email(
            template,
            f"{step}:email",
            context={"survey_link": survey.link, "survey_kind": kind.value, "topic": topic},
            to=contact,
            category="survey",
            asks=True,
        )
        return survey

    async def close(self, *steps: str, outcome: str) -> None:
        """Complete the open tasks this workflow created at `steps` (a trailing `*` matches a
        prefix): their cause has resolved. One a CSM closed already stays as they left it."""
        workflow_id = workflow.info().workflow_id
        wanted = [step_key(workflow_id, s.removesuffix("*")) for s in steps]
        exact = [not s.endswith("*") for s in steps]
        for record in self.log.tasks:
            matches = any(
                record.key == key if is_exact else record.key.startswith(key)
                for key, is_exact in zip(wanted, exact, strict=True)
            )
            if not record.open or not matches:
                continue
            try:
                await call(
                    CrmActivities.complete_csm_task,
                    TaskCompletion(task_id=record.task_id, outcome=outcome),
                )
            except ActivityError as exc:
                workflow.logger.warning("task %s not closed: %s", record.task_id, exc.cause or exc)
            record.open = False

    def _keyed(self, step: str) -> dict[str, str]:
        """The fields every CRM request of this step carries: account, step and the idempotency
        key that makes a retried activity do its work once."""
        workflow_id = workflow.info().workflow_id
        return {
            "account_id": self.account_id,
            "workflow_id": workflow_id,
            "step": step,
            "idempotency_key": step_key(workflow_id, step),
        }

    async def failed_step(self, title: str, *, reason: str, step: str) -> None:
        """Give the CSM a task for a step the workflow skipped because it failed for good."""
        try:
            await self.task(
                title[:300],
                step,
                description=(
                    f"{reason}\n\nThe workflow went on without this step. Fix the cause (e.g. the "
                    "contact in the CRM) and do it by hand."
                )[:4000],
                due_in=timedelta(days=2),
                priority=TaskPriority.HIGH,
            )
        except ActivityError as exc:
            workflow.logger.warning("no task for the skipped step %s: %s", step, exc.cause or exc)
