"""`alert_csm`: tell the owning CSM something needs attention (an email plus a task)."""

from __future__ import annotations

from temporalio import activity

from activities.context import activity_logger, in_thread
from activities.crm import CrmActivities
from activities.email import EmailActivities
from crm.tables import utcnow
from domain.models import (
    AlertSeverity,
    CsmAlert,
    CsmTask,
    EmailRequest,
    TaskInput,
    TaskPriority,
)

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
    async def alert_csm(self, input: CsmAlert) -> CsmTask:
        """The alert's task (the workflow closes it when the cause is resolved)."""
        task = await in_thread(self._alert, input)
        activity_logger(account_id=input.account_id, step=input.step).info(
            "csm alerted", owner=input.owner, severity=input.severity.value
        )
        return task

    def _alert(self, alert: CsmAlert) -> CsmTask:
        # Task first: if the email provider is down, the CSM's queue still shows the alert.
        task = self.crm.create_task_once(
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
                # Workflow time, so the email's Date is when the workflow raised the alert; its
                # category passes the governor untouched.
                now=utcnow(),
            )
        )
        return task
