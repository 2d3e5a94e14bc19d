"""Marking contacts the email provider told us not to mail again (bounce, unsubscribe, spam)."""

from __future__ import annotations

from sqlmodel import Session, select

from activities.email_ledger import ledger_row
from crm.tables import ContactRow
from crm.timeline import record_touchpoint
from domain.addresses import normalize_email
from domain.models import ContactInput, ContactRole, TouchpointKind


def find_contact(
    session: Session, account_id: str, email: str, idempotency_key: str | None = None
) -> ContactRow | None:
    """The contact an email went to: via the ledger row when known, else by address."""
    if idempotency_key:
        sent = ledger_row(session, idempotency_key)
        if sent is not None and sent.contact_id and sent.account_id == account_id:
            contact = session.get(ContactRow, sent.contact_id)
            if contact is not None:
                return contact
    return session.exec(
        select(ContactRow).where(
            ContactRow.account_id == account_id, ContactRow.email == normalize_email(email)
        )
    ).first()


def suppress(
    session: Session,
    contact: ContactRow,
    *,
    why: str,
    idempotency_key: str,
    workflow_id: str | None,
    step: str | None,
    summary: str | None = None,
) -> ContactInput:
    """Opt the contact out (sticky, see activities.crm) and note why on the account timeline
    (`summary`, default: the address is no longer emailed, and why).

    The CRM has no separate "bounced" flag yet, so a hard bounce suppresses the address too:
    mailing a dead mailbox again only hurts sender reputation. An opted-out contact still gets
    service mail (domain.email_kinds), which the provider's own suppression list stops for a
    dead or complaining mailbox.
    """
    contact.opted_out = True
    session.add(contact)
    record_touchpoint(
        session,
        account_id=contact.account_id,
        kind=TouchpointKind.NOTE,
        summary=summary or f"{contact.email} no longer emailed: {why}",
        idempotency_key=idempotency_key,
        workflow_id=workflow_id,
        step=step,
        details={"contact_id": contact.id, "reason": why},
    )
    return ContactInput(
        id=contact.id,
        name=contact.name,
        email=contact.email,
        role=ContactRole(contact.role),
        opted_out=True,
        timezone=contact.timezone,
    )
