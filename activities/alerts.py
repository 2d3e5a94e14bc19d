"""`alert_csm`: tell the owning CSM something needs attention (an email plus a task)."""

from __future__ import annotations

from temporalio import activity

from activities.context import activity_logger, in_thread
from activities.crm import CrmActivities
from activities.email import EmailActivities
from domain.models import AlertSeverity, CsmAlert, EmailRequest, TaskInput, TaskPriority

PRIORITY_FOR_SEVERITY = {
    AlertSeverity.INFO: TaskPriority.NORMAL,
    AlertSeverity.WARNING: TaskPriority.HIGH,
    AlertSeverity.CRITICAL: TaskPriority.URGENT,
}


class AlertActivities:
    """`alert_csm`: a task through the CRM activities, an email through the email activities."""

    def __init__(self, crm: CrmActivities, email: EmailActivities) -> None:
        self.crm = crm
        self.email = email

    @activity.defn(name="alert_csm")
    async def alert_csm(self, input: CsmAlert) -> None:
        await in_thread(self._alert, input)
        activity_logger(account_id=input.account_id, step=input.step).info(
            "csm alerted", owner=input.owner, severity=input.severity.value
        )

    def _alert(self, alert: CsmAlert) -> None:
        # Task first: if the email provider is down, the CSM's queue still shows the alert.
        self.crm.create_task_once(
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
        self.email.deliver(
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
