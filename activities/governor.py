"""The contact governor: one gate for every automated email to a customer contact.

Called by `send_email` (and through it `send_kickoff_invite`) inside the transaction that
reserves the ledger row, so concurrent sends to the same mailbox are decided one at a time:
PostgreSQL takes a transaction-scoped advisory lock on the mailbox; on SQLite the ledger row's
insert/update, which precedes the count, already holds the database write lock.

Order of rules: opt-out (final suppression) is checked by the caller; then quiet hours in the
contact's zone; then the frequency cap. Internal categories (`ContactPolicy.exempt_categories`)
pass untouched.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, text
from sqlmodel import Session, col, select

from crm.tables import AccountRow, EmailSendRow
from domain.contact_policy import ContactPolicy, next_allowed_time
from domain.models import EmailStatus, Segment
from domain.segments import default_config

_COUNTED_SENT = (EmailStatus.SENT.value, EmailStatus.OUTBOXED.value)


@dataclass(frozen=True)
class Decision:
    """`not_before` None: send now. Otherwise defer until then, for `reason`."""

    not_before: datetime | None = None
    reason: str | None = None


# Opt-out is always honoured; quiet hours and the frequency cap can be switched off
# (CSFLOW_CONTACT_GOVERNOR=off) for teams that pace outreach elsewhere, and for real-time tests.
UNPACED = ContactPolicy(
    quiet_start=time(0, 0), quiet_end=time(0, 0), quiet_weekends=False, max_emails=1_000_000
)


def policy_for(account: AccountRow, *, governed: bool = True) -> ContactPolicy:
    """The account's segment policy; `governed=False` (CSFLOW_CONTACT_GOVERNOR=off) unpaces."""
    if not governed:
        return UNPACED
    return default_config(Segment(account.segment)).contact_policy


def _zone(name: str | None) -> tzinfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def lock_mailbox(session: Session, email: str) -> None:
    """Serialise governor decisions for one mailbox until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.sha256(email.encode()).digest()[:8], "big", signed=True)
    session.exec(text("SELECT pg_advisory_xact_lock(:id)").bindparams(id=lock_id))  # type: ignore[call-overload]


def recent_send_times(
    session: Session, email: str, since: datetime, exclude_key: str, exempt: frozenset[str]
) -> list[datetime]:
    """When emails to `email` went out (or were reserved, `pending`) since `since`, oldest first.

    Deferred, suppressed and rejected messages never reached the contact and do not count.
    """
    rows = session.exec(
        select(EmailSendRow).where(
            EmailSendRow.to_email == email,
            EmailSendRow.idempotency_key != exclude_key,
            col(EmailSendRow.category).not_in(exempt) if exempt else True,
            or_(
                col(EmailSendRow.status).in_(_COUNTED_SENT) & (col(EmailSendRow.sent_at) > since),
                (col(EmailSendRow.status) == EmailStatus.PENDING.value)
                & (col(EmailSendRow.created_at) > since),
            ),
        )
    ).all()
    times = [r.sent_at if r.sent_at is not None else r.created_at for r in rows]
    return sorted(times)


def decide(
    session: Session,
    *,
    policy: ContactPolicy,
    email: str,
    timezone: str | None,
    category: str,
    idempotency_key: str,
    now: datetime,
    deadline: datetime | None = None,
) -> Decision:
    if category in policy.exempt_categories:
        return Decision()
    zone = _zone(timezone)
    zone_name = getattr(zone, "key", "UTC")
    quiet_until = next_allowed_time(now, zone, policy)
    if quiet_until is not None:
        return _by(
            deadline,
            quiet_until,
            f"quiet hours for {email} ({policy.quiet_start:%H:%M}-{policy.quiet_end:%H:%M}"
            + (", weekends" if policy.quiet_weekends else "")
            + f" {zone_name})",
        )
    lock_mailbox(session, email)
    sent = recent_send_times(
        session, email, now - policy.per, idempotency_key, policy.exempt_categories
    )
    if len(sent) < policy.max_emails:
        return Decision()
    # The slot frees when enough of the window's sends have aged out of it.
    frees_at = sent[len(sent) - policy.max_emails] + policy.per
    not_before = next_allowed_time(frees_at, zone, policy) or frees_at
    return _by(
        deadline,
        not_before,
        f"frequency cap for {email}: {len(sent)} emails in the last "
        f"{policy.per.days} days (max {policy.max_emails})",
    )


def _by(deadline: datetime | None, not_before: datetime, reason: str) -> Decision:
    """Hold until `not_before`, unless that is past the message's deadline: a message due by a
    time (an invite, an SLA acknowledgement) is better off-hours than late."""
    if deadline is not None and not_before > deadline:
        return Decision()
    return Decision(not_before, reason)
