"""What the CRM holds of everything done for an account, by every workflow (the journey, its
stages, playbooks and escalations) and by people: the counts a report should show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from crm.database import Store
from crm.tables import CsmTaskRow, EmailSendRow
from domain.models import EmailStatus, TaskStatus

_DELIVERED = (EmailStatus.SENT.value, EmailStatus.OUTBOXED.value)


@dataclass(frozen=True)
class AccountActivity:
    emails_sent: int
    tasks_created: int
    open_tasks: list[str]  # titles, oldest first


def account_activity(store: Store, account_id: str) -> AccountActivity:
    with store.session() as session:
        tasks = session.exec(
            select(CsmTaskRow)
            .where(CsmTaskRow.account_id == account_id)
            .order_by(col(CsmTaskRow.id))
        ).all()
        emails = session.exec(
            select(EmailSendRow).where(
                EmailSendRow.account_id == account_id, col(EmailSendRow.status).in_(_DELIVERED)
            )
        ).all()
        return AccountActivity(
            emails_sent=len(emails),
            tasks_created=len(tasks),
            open_tasks=[t.title for t in tasks if t.status == TaskStatus.OPEN.value],
        )
