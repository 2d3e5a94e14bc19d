"""The `email_sends` ledger and the account timeline as `send_email` keeps them: rows, receipts,
the recipient a request resolves to and the governor's deferrals (see activities/email.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from activities import governor
from activities.crm_lookups import require_contact
from activities.errors import (
    EMAIL_PROVIDER_REJECTED,
    INVALID_EMAIL_ADDRESS,
    INVALID_INPUT,
    permanent,
)
from crm.tables import AccountRow, ContactRow, EmailSendRow
from crm.timeline import record_touchpoint
from domain.addresses import is_valid_email, normalize_email
from domain.contact_policy import ContactPolicy
from domain.models import EmailReceipt, EmailRequest, EmailStatus, TouchpointKind


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None
    contact_id: str | None
    opted_out: bool
    # IANA zone the governor judges quiet hours in (the contact's, else the account's).
    timezone: str | None


def receipt_of(row: EmailSendRow) -> EmailReceipt:
    return EmailReceipt(
        idempotency_key=row.idempotency_key,
        status=EmailStatus(row.status),
        message_id=row.message_id,
        reason=row.reason,
        to_email=row.to_email,
        provider=row.provider,  # type: ignore[arg-type]
        not_before=row.not_before if row.status == EmailStatus.DEFERRED.value else None,
    )


def ledger_row(session: Session, key: str) -> EmailSendRow | None:
    return session.exec(select(EmailSendRow).where(EmailSendRow.idempotency_key == key)).first()


def resolve_recipient(session: Session, request: EmailRequest, account: AccountRow) -> Recipient:
    if request.to_contact_id is not None:
        contact = require_contact(session, request.account_id, request.to_contact_id)
        return Recipient(
            contact.email,
            contact.name,
            contact.id,
            contact.opted_out,
            contact.timezone or account.timezone,
        )
    address = normalize_email(request.to_email or "")
    if not is_valid_email(address):
        raise permanent(INVALID_EMAIL_ADDRESS, f"to_email: invalid address {request.to_email!r}")
    # Mailing a contact by address still honours their opt-out.
    known = session.exec(
        select(ContactRow).where(
            ContactRow.account_id == request.account_id, ContactRow.email == address
        )
    ).first()
    if known is not None:
        return Recipient(
            address, known.name, known.id, known.opted_out, known.timezone or account.timezone
        )
    return Recipient(address, None, None, False, account.timezone)


def template_context(
    account: AccountRow, recipient: Recipient, contact: ContactRow | None, request: EmailRequest
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "account": account.to_model().model_dump(mode="json"),
        "contact": contact.to_model().model_dump(mode="json") if contact else None,
        "recipient_email": recipient.email,
        "csm_email": account.csm_owner,
    }
    return {**base, **request.context}


def rejected_again(reason: str | None) -> Exception:
    """The failure a send that was rejected before fails with again (same type as the first)."""
    text = reason or "rejected"
    error_type, _, detail = text.partition(": ")
    if error_type == INVALID_INPUT and detail:
        return permanent(INVALID_INPUT, detail)
    return permanent(EMAIL_PROVIDER_REJECTED, text)


def govern(
    session: Session,
    request: EmailRequest,
    policy: ContactPolicy,
    recipient: Recipient,
    row: EmailSendRow,
    now: datetime,
) -> EmailReceipt | None:
    """Ask the governor; on deferral mark the row and the timeline and return the receipt.

    A pending row from an attempt that crashed mid-delivery is not governed again: it was
    already approved and may have reached the provider."""
    decision = governor.decide(
        session,
        policy=policy,
        email=recipient.email,
        timezone=recipient.timezone,
        category=request.category,
        idempotency_key=request.idempotency_key,
        now=now,
        deadline=request.deadline,
    )
    if decision.not_before is None:
        row.status = EmailStatus.PENDING.value
        row.not_before = None
        row.reason = None
        return None
    row.status = EmailStatus.DEFERRED.value
    row.provider = "none"
    row.not_before = decision.not_before
    row.reason = decision.reason
    note_email(
        session,
        request,
        TouchpointKind.EMAIL_DEFERRED,
        f"Email '{request.template}' deferred until "
        f"{decision.not_before:%Y-%m-%d %H:%M} UTC: {decision.reason}",
        # One entry per deferral decision; a re-check that defers again adds a new one.
        f"email-deferred:{request.idempotency_key}:{decision.not_before.isoformat()}",
        now,
        contact_id=recipient.contact_id,
        not_before=decision.not_before.isoformat(),
        reason=decision.reason,
    )
    session.flush()
    return receipt_of(row)


def new_row(
    request: EmailRequest, recipient: Recipient, subject: str, now: datetime
) -> EmailSendRow:
    return EmailSendRow(
        idempotency_key=request.idempotency_key,
        account_id=request.account_id,
        contact_id=recipient.contact_id,
        to_email=recipient.email,
        template=request.template,
        subject=subject[:500],
        category=request.category,
        status=EmailStatus.PENDING.value,
        provider="none",
        workflow_id=request.workflow_id,
        step=request.step,
        created_at=now,
    )


def record_sent(session: Session, request: EmailRequest, row: EmailSendRow) -> None:
    """The email's timeline entry (once per key; a retry after a crash adds a missing one)."""
    note_email(
        session,
        request,
        TouchpointKind.EMAIL,
        f"Email sent: {row.subject}",
        f"email:{request.idempotency_key}",
        row.sent_at,
        to=row.to_email,
        message_id=row.message_id,
    )


def note_email(
    session: Session,
    request: EmailRequest,
    kind: TouchpointKind,
    summary: str,
    idempotency_key: str,
    occurred_at: datetime | None,
    **details: Any,
) -> None:
    """A timeline entry about `request`'s email, on its account and by the workflow step that
    asked for it; the details name the template."""
    record_touchpoint(
        session,
        account_id=request.account_id,
        kind=kind,
        summary=summary,
        idempotency_key=idempotency_key,
        occurred_at=occurred_at,
        workflow_id=request.workflow_id,
        step=request.step,
        details={"template": request.template, **details},
    )
