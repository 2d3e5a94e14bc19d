"""`send_email`: one delivery per idempotency key, through SendGrid or the outbox.

Ledger protocol: the `email_sends` row is committed as `pending` before the provider is called
and marked `sent`/`outboxed` afterwards. A retry finding a finished row returns its receipt; a
retry finding `pending` knows the previous attempt did not finish and delivers.

A message that can never be sent (a header value with a line break, e.g. a contact name from a
CRM sync; an unknown template; an invalid address) fails with a non-retryable `InvalidInput` /
`InvalidEmailAddress` before the provider is called; a provider's 4xx is a non-retryable
`EmailProviderRejected` remembered in the ledger. Workflows skip such a step and give the CSM a
task. 429/5xx/timeouts are retryable (`EmailProviderUnavailable`).

Every new (or previously deferred) message passes the contact governor (`activities.governor`)
in the `pending` transaction: it may come back `deferred` with `not_before`, which the ledger and
the timeline record; the caller sends again with the same key at or after that instant.

Duplicates: what the provider offers, and the residual risk
-----------------------------------------------------------
SendGrid's Mail Send API has no idempotency key: a request it accepted twice is delivered twice.
What it does offer is used:

* every message carries the idempotency key (and workflow id, step, account) in `custom_args`,
  which SendGrid echoes in every event-webhook event, so a consumer can tell a duplicate;
* every message carries a `Message-ID` derived from the idempotency key (`<sha256[:32]@sender
  domain>`), the same on every attempt: mail systems that deduplicate by Message-ID (Gmail does)
  show the copies as one message, and SendGrid reports it as `smtp-id`;
* SendGrid's own `X-Message-Id` is stored on the ledger row once accepted.

The outbox (no SendGrid key) writes `<send time>-<account>-<template>-<key hash>.eml` with
write-then-rename: a repeated delivery overwrites the same file, so it never duplicates.

Every message carries `Date` (the send time: the `now` the workflow passed, workflow time; SendGrid
sets its own) and, unless it is service mail (domain.email_kinds), `List-Unsubscribe` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058) and an unsubscribe link in its
footer (activities.email_identity). An opted-out contact gets service mail only.

The window between the provider's answer and the ledger update is as small as it can be: the
`sent`/`outboxed` mark is a single UPDATE committed in its own transaction right after the call
(the timeline entry follows in a second one, and a retry adds it if a crash came in between).
Heartbeats keep a live attempt from being abandoned (workflows give it 2 minutes start-to-close
and notice a dead worker within the 10 s heartbeat timeout), so two live attempts of one key do
not overlap.

Residual risk, exactly: the customer receives a second copy of a message (same content, same
Message-ID, same `custom_args.idempotency_key`) when SendGrid accepted the first attempt and
csflow did not learn it, which happens when
  1. the worker dies, or the database refuses the commit (locked beyond its 10 s timeout, down),
     between SendGrid's 202 and the commit of the `sent` mark (one UPDATE: milliseconds); or
  2. the HTTP call fails on csflow's side after SendGrid accepted the request (a read timeout
     past `HTTP_TIMEOUT_SECONDS`, a connection reset before the response arrived), which
     `send_email` treats as retryable; or
  3. Temporal gives up on an attempt that is still running (it outlived its 2-minute
     start-to-close, or its worker stopped heartbeating for 10 s without dying) and that attempt,
     whose thread cannot be stopped, delivers while the retry delivers too.
The retry then sends again. No case loses a message, and a message is never sent twice without
one of these failures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, update
from temporalio import activity

from activities import governor
from activities.clock import Clock, system_clock, utc_now
from activities.context import activity_logger, in_thread
from activities.crm_lookups import require_account
from activities.delivery import (
    DeliveryRejected,
    DeliveryUnavailable,
    EmailProvider,
    MessageRefused,
    OutgoingEmail,
    header_problem,
)
from activities.email_identity import Unsubscribe, identity_context, unsubscribe_of
from activities.email_ledger import (
    Recipient,
    govern,
    ledger_row,
    new_row,
    note_email,
    receipt_of,
    record_sent,
    rejected_again,
    resolve_recipient,
    template_context,
)
from activities.errors import (
    EMAIL_PROVIDER_REJECTED,
    INVALID_INPUT,
    permanent,
    unavailable,
)
from activities.outbox import OutboxProvider
from activities.rendering import RenderedEmail, TemplateProblem, render_email
from activities.sendgrid_provider import SendGridProvider
from crm.database import Store
from crm.tables import AccountRow, ContactRow, EmailSendRow
from domain.contact_policy import ContactPolicy
from domain.email_kinds import is_transactional
from domain.models import EmailReceipt, EmailRequest, EmailStatus, TouchpointKind
from domain.reply_address import reply_address
from domain.settings import Settings

_FINISHED = {EmailStatus.SENT.value, EmailStatus.OUTBOXED.value, EmailStatus.SUPPRESSED.value}


def provider_for(settings: Settings) -> EmailProvider:
    """SendGrid when `SENDGRID_API_KEY` is set, else the `.eml` outbox in `CSFLOW_OUTBOX_DIR`."""
    if settings.sendgrid_api_key is not None:
        return SendGridProvider(settings.sendgrid_api_key.get_secret_value())
    return OutboxProvider(settings.outbox_dir)


class EmailActivities:
    """`send_email` on one store, through one provider (default: chosen from the settings)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        provider: EmailProvider | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.store = store
        self.settings = settings
        self.provider = provider if provider is not None else provider_for(settings)
        self.clock = clock

    def _policy(self, account: AccountRow) -> ContactPolicy:
        return governor.policy_for(account, governed=self.settings.contact_governor)

    @activity.defn(name="send_email")
    async def send_email(self, input: EmailRequest) -> EmailReceipt:
        """Send a templated email once per `idempotency_key` (opted-out contacts:
        `suppressed`; quiet hours or frequency cap: `deferred` until `not_before`, call again
        with the same key)."""
        return await in_thread(self.deliver, input)

    def deliver(self, request: EmailRequest) -> EmailReceipt:
        """Blocking core of `send_email` (alerts and calendar invites send through it too)."""
        log = activity_logger(
            account_id=request.account_id,
            step=request.step,
            idempotency_key=request.idempotency_key,
        )
        now = request.now or utc_now(self.clock)
        if request.now is None and request.category != "csm_alert":
            log.warning("email not governed: request carries no `now`, caller cannot defer")
        try:
            receipt, message = self._prepare(request, now)
        except IntegrityError:
            # A concurrent attempt inserted the row first; go again and read its outcome.
            receipt, message = self._prepare(request, now)
        if receipt is not None:
            log.info("email not delivered again", status=receipt.status.value)
            return receipt
        assert message is not None
        provider = self.provider
        try:
            message_id = provider.deliver(message)
        except MessageRefused as err:
            self._mark(request, EmailStatus.REJECTED, f"{INVALID_INPUT}: {err}")
            log.warning("email refused before sending", error=str(err))
            raise permanent(INVALID_INPUT, str(err)) from err
        except DeliveryRejected as err:
            self._mark(request, EmailStatus.REJECTED, str(err))
            log.warning("email rejected by provider", status_code=err.status_code)
            raise permanent(EMAIL_PROVIDER_REJECTED, str(err), err.status_code) from err
        except DeliveryUnavailable as err:
            self._mark(request, None, str(err))  # stays pending: the retry delivers it
            log.warning("email provider unavailable", error=str(err))
            raise unavailable(str(err), err.retry_after) from err
        receipt = self._finish(request, provider, message_id, now)
        log.info("email delivered", provider=provider.name, template=request.template)
        return receipt

    def _prepare(
        self, request: EmailRequest, now: datetime
    ) -> tuple[EmailReceipt | None, OutgoingEmail | None]:
        """Phase 1 (one transaction): a final or deferred receipt, or a pending row and the
        message."""
        with self.store.session() as session:
            account = require_account(session, request.account_id)
            recipient = resolve_recipient(session, request, account)
            existing = ledger_row(session, request.idempotency_key)
            if existing is not None:
                if existing.to_email != recipient.email or existing.template != request.template:
                    raise permanent(
                        INVALID_INPUT,
                        f"idempotency_key: {request.idempotency_key!r} was used for another "
                        "message",
                    )
                if existing.status in _FINISHED:
                    if existing.status != EmailStatus.SUPPRESSED.value:
                        record_sent(session, request, existing)
                    return receipt_of(existing), None
                if existing.status == EmailStatus.REJECTED.value:
                    raise rejected_again(existing.reason)
                if (
                    existing.status == EmailStatus.DEFERRED.value
                    and existing.not_before is not None
                    and existing.not_before > now
                ):
                    return receipt_of(existing), None  # called too early: still deferred

            # An opt-out stops marketing and nurture mail; service mail (an escalation's
            # acknowledgement, a meeting invitation) still reaches the contact. Addresses that
            # bounced or complained are on the provider's own suppression list as well.
            if recipient.opted_out and not is_transactional(request.template, request.category):
                row = existing or new_row(request, recipient, request.subject or "", now)
                row.status = EmailStatus.SUPPRESSED.value
                row.provider = "none"
                row.reason = "contact opted out"
                row.not_before = None
                session.add(row)
                note_email(
                    session,
                    request,
                    TouchpointKind.EMAIL_SUPPRESSED,
                    f"Email '{request.template}' not sent: {recipient.email} opted out",
                    f"email:{request.idempotency_key}",
                    now,
                    contact_id=recipient.contact_id,
                )
                session.flush()
                return receipt_of(row), None

            contact = (
                session.get(ContactRow, recipient.contact_id) if recipient.contact_id else None
            )
            unsubscribe = unsubscribe_of(self.settings, request, recipient)
            context = {
                **identity_context(self.settings, account, recipient),
                **template_context(account, recipient, contact, request),
                "unsubscribe_link": unsubscribe.link if unsubscribe else None,
            }
            try:
                rendered = render_email(request.template, context, request.subject)
            except TemplateProblem as err:
                raise permanent(INVALID_INPUT, f"template: {err}") from err
            message = self._message(request, recipient, account, rendered, now, unsubscribe)
            if (problem := header_problem(message)) is not None:
                # Never sendable (e.g. a contact name with a line break): nothing is recorded, and
                # every attempt fails the same way, so it is not retried.
                raise permanent(INVALID_INPUT, problem)

            row = existing or new_row(request, recipient, rendered.subject, now)
            row.subject = rendered.subject[:500]
            # Only a caller that passes `now` runs the deferral loop (docs/contracts.md); deferring
            # anyone else's email would strand it, so they keep the opt-out check alone.
            needs_approval = request.now is not None and (
                existing is None or existing.status == EmailStatus.DEFERRED.value
            )
            session.add(row)
            # Write before the governor counts: on SQLite this takes the write lock, so concurrent
            # sends to the same mailbox are decided in turn.
            session.flush()
            if needs_approval:
                deferred = govern(session, request, self._policy(account), recipient, row, now)
                if deferred is not None:
                    return deferred, None
            row.attempts += 1
            session.flush()
            return None, message

    def _message(
        self,
        request: EmailRequest,
        recipient: Recipient,
        account: AccountRow,
        rendered: RenderedEmail,
        now: datetime,
        unsubscribe: Unsubscribe | None,
    ) -> OutgoingEmail:
        custom_args = {
            "idempotency_key": request.idempotency_key,
            "account_id": request.account_id,
        }
        if request.workflow_id:
            custom_args["workflow_id"] = request.workflow_id
        if request.step:
            custom_args["step"] = request.step
        return OutgoingEmail(
            idempotency_key=request.idempotency_key,
            to_email=recipient.email,
            to_name=recipient.name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            categories=[request.category, request.template],
            custom_args=custom_args,
            reply_to=self._reply_to(account.id, account.csm_owner),
            from_email=self.settings.from_email,
            from_name=self.settings.from_name,
            attachments=list(request.attachments),
            sent_at=now,
            template=request.template,
            headers=dict(unsubscribe.headers) if unsubscribe else {},
        )

    def _reply_to(self, account_id: str, csm_owner: str) -> str:
        """The account's reply address, so the Inbound Parse webhook turns a customer's reply into
        an `email_replied` event; the CSM's own address when replies are not configured."""
        secret = self.settings.reply_secret
        if secret is None:
            return csm_owner
        return reply_address(account_id, secret.get_secret_value(), self.settings.reply_domain)

    def _finish(
        self, request: EmailRequest, provider: EmailProvider, message_id: str | None, now: datetime
    ) -> EmailReceipt:
        """Phase 3: mark the ledger row delivered, then put the email on the timeline.

        The mark is one UPDATE in a transaction of its own, issued the moment the provider answers:
        that is the whole crash window in which a delivered message can still look `pending`."""
        status = EmailStatus.SENT if provider.name == "sendgrid" else EmailStatus.OUTBOXED
        with self.store.session() as session:
            session.exec(
                update(EmailSendRow)
                .where(col(EmailSendRow.idempotency_key) == request.idempotency_key)
                .values(
                    status=status.value,
                    provider=provider.name,
                    message_id=message_id,
                    reason=None,
                    not_before=None,
                    # The governor's clock, so the frequency cap counts in the same time it decides.
                    sent_at=now,
                )
            )
        with self.store.session() as session:
            row = ledger_row(session, request.idempotency_key)
            assert row is not None, "ledger row vanished between prepare and finish"
            record_sent(session, request, row)
            return receipt_of(row)

    def _mark(self, request: EmailRequest, status: EmailStatus | None, reason: str) -> None:
        with self.store.session() as session:
            row = ledger_row(session, request.idempotency_key)
            if row is not None:
                if status is not None:
                    row.status = status.value
                row.reason = reason[:1000]
