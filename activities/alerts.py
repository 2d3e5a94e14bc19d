"""`alert_csm`: tell the owning CSM something needs attention (an email plus a task)."""

from __future__ import annotations

from temporalio import activity

from activities.context import activity_logger, in_thread
from activities.crm import create_task_once
from activities.email import deliver_email
from domain.models import AlertSeverity, CsmAlert, EmailRequest, TaskInput, TaskPriority

PRIORITY_FOR_SEVERITY = {
    AlertSeverity.INFO: TaskPriority.NORMAL,
    AlertSeverity.WARNING: TaskPriority.HIGH,
    AlertSeverity.CRITICAL: TaskPriority.URGENT,
}


def _alert(alert: CsmAlert) -> None:
    # Task first: if the email provider is down, the CSM's queue still shows the alert.
    create_task_once(
        TaskInput(
            account_id=alert.account_id,
            owner=alert.owner,
            title=alert.subject,
            description=alert.message,
            due_at=alert.due_at,
            priority=PRIORITY_FOR_SEVERITY[alert.severity],
            idempotency_key=f"{alert.idempotency_key}:task",
            workflow_id=alert.workflow_id,
            step=alert.step,
        )
    )
    deliver_email(
        EmailRequest(
            idempotency_key=f"{alert.idempotency_key}:email",
            account_id=alert.account_id,
            to_email=alert.owner,
            template="csm_alert",
            context={
                "alert_subject": alert.subject,
                "alert_message": alert.message,
                "severity": alert.severity.value,
            },
            category="csm_alert",
            workflow_id=alert.workflow_id,
            step=alert.step,
        )
    )


@activity.defn(name="alert_csm")
async def alert_csm(alert: CsmAlert) -> None:
    await in_thread(_alert, alert)
    activity_logger(account_id=alert.account_id, step=alert.step).info(
        "csm alerted", owner=alert.owner, severity=alert.severity.value
    )
