"""The customer-success actions workflows take (email, CSM task, alert, survey).

Each one runs its activity with an idempotency key derived from the workflow id and step, and
records the result in the caller's WorkLog.

A step whose activity failed for good (a non-retryable error: an address or header no provider
takes, a template that does not exist, an unknown contact) is skipped, and the CSM gets one task
to do it by hand (`failed_step_task`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
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


async def send_email(
    log: WorkLog,
    *,
    account_id: str,
    contact_id: str,
    template: str,
    step: str,
    attempt: int | None = None,
    context: dict[str, Any] | None = None,
    category: str = "customer_success",
    owner: str | None = None,
) -> EmailReceipt:
    """Send one templated email; `owner` (the CSM) gets a task when it cannot be sent at all."""
    workflow_id = workflow.info().workflow_id
    key = step_key(workflow_id, step, attempt)
    failure: ActivityError | None = None
    try:
        receipt = await _send(
            key, account_id, contact_id, template, step, attempt, context, category, workflow_id
        )
    except ActivityError as exc:
        # A rejected address or template must not stop the customer's journey: record it.
        workflow.logger.warning("email %s not sent: %s", key, exc.cause or exc)
        receipt = EmailReceipt(
            idempotency_key=key, status=EmailStatus.REJECTED, reason=str(exc.cause or exc)
        )
        failure = exc
    log.emails.append(
        EmailRecord(key=key, template=template, status=receipt.status, at=workflow.now())
    )
    if failure is not None and owner is not None:
        # One task per contact and kind of failure: later emails to the same broken contact
        # fail the same way and need the same fix.
        await failed_step_task(
            log,
            account_id=account_id,
            owner=owner,
            title=f"Email '{template}' could not be sent to contact {contact_id}",
            reason=receipt.reason or failure_type(failure),
            step=f"undeliverable:{contact_id}:{failure_type(failure)}",
        )
    return receipt


async def failed_step_task(
    log: WorkLog, *, account_id: str, owner: str, title: str, reason: str, step: str
) -> None:
    """Give the CSM a task for a step the workflow skipped because it failed for good."""
    try:
        await create_task(
            log,
            account_id=account_id,
            owner=owner,
            title=title[:300],
            description=(
                f"{reason}\n\nThe workflow went on without this step. Fix the cause (e.g. the "
                "contact in the CRM) and do it by hand."
            )[:4000],
            step=step,
            due_at=workflow.now() + timedelta(days=2),
            priority=TaskPriority.HIGH,
        )
    except ActivityError as exc:
        workflow.logger.warning("no task for the skipped step %s: %s", step, exc.cause or exc)


async def _send(
    key: str,
    account_id: str,
    contact_id: str,
    template: str,
    step: str,
    attempt: int | None,
    context: dict[str, Any] | None,
    category: str,
    workflow_id: str,
) -> EmailReceipt:
    return await send_governed(
        "send_email",
        EmailRequest(
            idempotency_key=key,
            account_id=account_id,
            to_contact_id=contact_id,
            template=template,
            context=context or {},
            category=category,
            workflow_id=workflow_id,
            step=step if attempt is None else f"{step}:{attempt}",
        ),
    )


async def create_task(
    log: WorkLog,
    *,
    account_id: str,
    owner: str,
    title: str,
    step: str,
    description: str = "",
    due_at: datetime | None = None,
    priority: TaskPriority = TaskPriority.NORMAL,
) -> CsmTask:
    workflow_id = workflow.info().workflow_id
    key = step_key(workflow_id, step)
    task = await call(
        "create_csm_task",
        TaskInput(
            account_id=account_id,
            owner=owner,
            title=title,
            description=description,
            due_at=due_at,
            priority=priority,
            idempotency_key=key,
            workflow_id=workflow_id,
            step=step,
        ),
        CsmTask,
    )
    log.tasks.append(TaskRecord(task_id=task.id, title=title, owner=owner, key=key))
    return task


async def alert(
    log: WorkLog,
    *,
    account_id: str,
    owner: str,
    subject: str,
    step: str,
    message: str = "",
    severity: AlertSeverity = AlertSeverity.WARNING,
    due_at: datetime | None = None,
) -> None:
    workflow_id = workflow.info().workflow_id
    key = step_key(workflow_id, step)
    await call(
        "alert_csm",
        CsmAlert(
            account_id=account_id,
            owner=owner,
            subject=subject,
            message=message,
            severity=severity,
            idempotency_key=key,
            due_at=due_at,
            workflow_id=workflow_id,
            step=step,
        ),
    )
    log.alerts.append(AlertRecord(owner=owner, subject=subject, key=key))


async def send_survey(
    log: WorkLog,
    *,
    account_id: str,
    contact_id: str,
    kind: SurveyKind,
    topic: str,
    template: str,
    step: str,
    owner: str | None = None,
) -> Survey:
    """Create the survey, then email its link (both keyed on the same step)."""
    workflow_id = workflow.info().workflow_id
    survey = await call(
        "create_survey",
        SurveyRequest(
            account_id=account_id,
            contact_id=contact_id,
            kind=kind,
            topic=topic,
            workflow_id=workflow_id,
            idempotency_key=step_key(workflow_id, step),
        ),
        Survey,
    )
    log.surveys.append(
        SurveyRecord(
            survey_id=survey.survey_id,
            kind=kind,
            topic=topic,
            token=survey.token,
            sent_at=workflow.now(),
        )
    )
    await send_email(
        log,
        account_id=account_id,
        contact_id=contact_id,
        template=template,
        step=f"{step}:email",
        context={"survey_link": survey.link, "survey_kind": kind.value, "topic": topic},
        category="survey",
        owner=owner,
    )
    return survey
