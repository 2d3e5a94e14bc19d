"""Calendar invitations: an RFC 5545 `.ics` (METHOD:REQUEST) attached to the kickoff email."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta

from temporalio import activity

from activities.context import activity_logger, in_thread
from activities.crm_lookups import require_account, require_contact
from activities.email import EmailActivities
from activities.rendering import day_in_words, moment_in_words, next_quarter_hour, zone_of
from crm.database import Store
from crm.tables import utcnow
from crm.timeline import record_touchpoint
from domain.models import (
    EmailAttachment,
    EmailReceipt,
    EmailRequest,
    EmailStatus,
    KickoffInvite,
    TouchpointKind,
)
from domain.people import display_name

PRODID = "-//csflow//Customer Success//EN"
# When a meeting may take place in the contact's zone: weekdays, starting and ending in these
# hours; a proposal outside them moves to the next weekday at MEETING_MORNING.
WORKING_HOURS = (time(9, 0), time(17, 0))
MEETING_MORNING = time(10, 0)


def _ics_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold content lines longer than 75 octets (RFC 5545 3.1), never splitting a character."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74  # continuation lines start with a space
        if len((current + char).encode()) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)


def build_invite(
    *,
    uid: str,
    starts_at: datetime,
    duration: timedelta,
    summary: str,
    description: str,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str | None,
    location: str | None,
    stamp: datetime,
    organizer_name: str | None = None,
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_ics_time(stamp)}",
        f"DTSTART:{_ics_time(starts_at)}",
        f"DTEND:{_ics_time(starts_at + duration)}",
        f"SUMMARY:{_escape(summary)}",
        f"DESCRIPTION:{_escape(description)}",
        f'ORGANIZER;CN="{(organizer_name or organizer_email).replace(chr(34), "")}"'
        f":mailto:{organizer_email}",
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
        + (f';CN="{attendee_name.replace(chr(34), "")}"' if attendee_name else "")
        + f":mailto:{attendee_email}",
    ]
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    lines += ["SEQUENCE:0", "STATUS:CONFIRMED", "END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def meeting_time(requested: datetime, duration: timedelta, timezone: str | None) -> datetime:
    """When to hold a meeting asked for at `requested`: at the next quarter hour, inside the
    contact's working hours (weekdays 09:00-17:00 in their zone), else the next weekday at
    10:00 there. Never earlier than asked, so an invitation due a day before still is."""
    zone = zone_of(timezone)
    start = next_quarter_hour(requested)
    local = start.astimezone(zone)
    opens, closes = WORKING_HOURS
    end = local + duration
    if (
        local.weekday() < 5
        and opens <= local.time()
        and end.date() == local.date()
        and end.time() <= closes
    ):
        return start
    day = local.date() + timedelta(days=0 if local.time() < opens else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, MEETING_MORNING, tzinfo=zone).astimezone(UTC)


class CalendarActivities:
    """`send_kickoff_invite`: the invitation goes out through the email activities."""

    def __init__(self, store: Store, email: EmailActivities) -> None:
        self.store = store
        self.email = email

    @activity.defn(name="send_kickoff_invite")
    async def send_kickoff_invite(self, input: KickoffInvite) -> EmailReceipt:
        """Email the contact a kickoff invitation with an `.ics` calendar attachment."""
        receipt = await in_thread(self._invite, input)
        activity_logger(account_id=input.account_id, step=input.step).info(
            "kickoff invite", status=receipt.status.value
        )
        return receipt

    def _invite(self, invite: KickoffInvite) -> EmailReceipt:
        with self.store.session() as session:
            account = require_account(session, invite.account_id)
            contact = require_contact(session, invite.account_id, invite.contact_id)
            organizer = invite.organizer_email or account.csm_owner
            timezone = contact.timezone or account.timezone
            contact_email, contact_name = contact.email, contact.name
            account_name = account.name
        settings = self.email.settings
        duration = timedelta(minutes=invite.duration_minutes)
        starts = meeting_time(invite.starts_at, duration, timezone)
        meeting_url = invite.meeting_url or settings.meeting_url
        # Stable UID per invitation: a re-sent copy updates the same calendar entry.
        uid = hashlib.sha256(invite.idempotency_key.encode()).hexdigest()[:32] + "@csflow"
        ics = build_invite(
            uid=uid,
            starts_at=starts,
            duration=duration,
            summary=f"{invite.title}: {account_name}",
            description=invite.agenda or f"{invite.title} for {account_name}",
            organizer_email=organizer,
            organizer_name=display_name(organizer, settings.team_names),
            attendee_email=contact_email,
            attendee_name=contact_name,
            location=meeting_url,
            stamp=utcnow(),
        )
        receipt = self.email.deliver(
            EmailRequest(
                idempotency_key=invite.idempotency_key,
                account_id=invite.account_id,
                to_contact_id=invite.contact_id,
                template="kickoff_invite",
                context={
                    "title": invite.title,
                    "starts_at_local": moment_in_words(starts, timezone),
                    "starts_on": f"{starts.astimezone(zone_of(timezone)):%A} "
                    f"{day_in_words(starts.astimezone(zone_of(timezone)))}",
                    "duration_minutes": invite.duration_minutes,
                    "meeting_url": meeting_url,
                    "agenda": invite.agenda,
                },
                category="kickoff",
                workflow_id=invite.workflow_id,
                step=invite.step,
                now=invite.now,
                deadline=invite.deadline or starts - timedelta(days=1),
                attachments=[
                    EmailAttachment(
                        filename="invite.ics",
                        content_type="text/calendar; method=REQUEST",
                        content=ics,
                    )
                ],
            )
        )
        # Only an invitation that went out puts the meeting on the timeline (not a deferred one).
        if receipt.status in (EmailStatus.SENT, EmailStatus.OUTBOXED):
            with self.store.session() as session:
                record_touchpoint(
                    session,
                    account_id=invite.account_id,
                    kind=TouchpointKind.MEETING,
                    summary=f"{invite.title} scheduled for {_ics_time(starts)} with {contact_name}",
                    idempotency_key=f"meeting:{invite.idempotency_key}",
                    workflow_id=invite.workflow_id,
                    step=invite.step,
                    occurred_at=starts,
                    details={"uid": uid, "duration_minutes": invite.duration_minutes},
                )
        return receipt
