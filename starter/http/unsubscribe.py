"""Unsubscribing a contact from marketing and nurture mail, by the token of their email's link.

`GET /v1/unsubscribe/{token}` shows a confirmation page whose button POSTs to the same address;
`POST /v1/unsubscribe/{token}` is also RFC 8058's one-click address that mail providers call
with `List-Unsubscribe=One-Click` (any body, or none, is accepted). The token authorises (it is
an HMAC naming the contact, domain.unsubscribe): no login, no cookie, nothing a cross-site
request could borrow, and a GET never changes anything (mail scanners follow links). Pages are
not cached, send no referrer (the token stays in the URL) and cannot be framed.

A POST opts the contact out in the CRM (sticky; send_email then stops every email that is not
service mail, domain.email_kinds) and signals the account's journey a `contact_changed` event
with the contact opted out, deduplicated by the contact, so repeating it changes nothing and
answers 200 again. The CRM write is committed before the signal: when Temporal cannot be
reached, the opt-out already holds for every send and the 503 asks for the POST again, which
delivers the signal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from temporalio.client import Client

from crm.database import get_store
from crm.tables import ContactRow
from domain.settings import Settings
from domain.unsubscribe import contact_of
from starter.http.api_responses import RETRY_AFTER, TOO_LARGE
from starter.http.contact_suppression import suppress
from starter.http.crm_transaction import crm_transaction
from starter.http.customer_pages import customer_page
from starter.http.dependencies import SettingsDep, TemporalDep
from starter.http.journey_delivery import signal_running_journey
from starter.http.limits import RETRY_AFTER_SECONDS, TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import request_body
from starter.http.request_log import note_request
from starter.http.temporal_errors import TemporalUnavailable
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.workflow_ids import journey_id

router = APIRouter(prefix="/v1/unsubscribe", tags=["unsubscribe"])
log = structlog.get_logger("csflow.api.unsubscribe")


@dataclass(frozen=True)
class Subscriber:
    contact_id: str
    account_id: str
    email: str
    opted_out: bool


@dataclass(frozen=True)
class OptOut:
    """The outcome of an unsubscribe: who, and whether their journey heard of it."""

    subscriber: Subscriber
    journey_told: bool


def find_subscriber(token: str, settings: Settings) -> Subscriber | None:
    """The contact a token names (blocking); None for a token not signed with our key."""
    key = settings.unsubscribe_key()
    contact_id = contact_of(token, key) if key else None
    if contact_id is None:
        return None
    with get_store().session() as session:
        contact = session.get(ContactRow, contact_id)
        if contact is None:
            return None
        return Subscriber(contact.id, contact.account_id, contact.email, contact.opted_out)


async def opt_out(client: Client, subscriber: Subscriber, *, via: str) -> OptOut:
    """Record the opt-out (committed first), then tell the journey; raises TemporalUnavailable
    when it cannot be told (the opt-out stays recorded; calling again tells it)."""
    async with crm_transaction() as tx:

        def mark(session: Session) -> dict[str, Any] | None:
            contact = session.get(ContactRow, subscriber.contact_id)
            if contact is None:
                return None
            updated = suppress(
                session,
                contact,
                why=f"unsubscribed {via}",
                idempotency_key=f"unsubscribe:{contact.id}",
                workflow_id=None,
                step=None,
                summary=f"{contact.email} unsubscribed from marketing and nurture email "
                f"({via}); service email still reaches them",
            )
            return updated.model_dump(mode="json")

        contact = await tx.run(mark)
    if contact is None:
        return OptOut(subscriber, journey_told=False)
    event = CustomerEvent(
        account_id=subscriber.account_id,
        type=CustomerEventType.CONTACT_CHANGED.value,
        payload={"contact": contact},
        event_id=f"unsubscribe:{subscriber.contact_id}",
    )
    delivered = await signal_running_journey(client, event, timeout=TEMPORAL_RPC_TIMEOUT)
    if delivered is None:
        log.info("unsubscribe for an account without a running journey; CRM updated only")
    return OptOut(subscriber, journey_told=delivered is not None)


def _page(template: str, status: int, **context: Any) -> HTMLResponse:
    retry = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return customer_page(template, status, retry, **context)


def _not_found() -> HTMLResponse:
    return _page(
        "survey_unavailable.html.j2",
        404,
        title="We couldn't find this unsubscribe link",
        message="The link may be incomplete. Please open it again from the email we sent you, "
        "or reply to that email and ask us to stop.",
    )


async def _load(request: Request, token: str, settings: Settings) -> Subscriber | None:
    subscriber = await asyncio.to_thread(find_subscriber, token, settings)
    if subscriber is not None:
        note_request(
            request,
            account_id=subscriber.account_id,
            workflow_id=journey_id(subscriber.account_id),
        )
    return subscriber


class OneClickForm(BaseModel):
    """What RFC 8058 mail providers post; any other body (or none) is accepted all the same."""

    model_config = ConfigDict(populate_by_name=True)

    list_unsubscribe: str = Field(
        default="One-Click", alias="List-Unsubscribe", description="`One-Click`"
    )


_ONE_CLICK_BODY = request_body(
    "application/x-www-form-urlencoded",
    OneClickForm,
    "`List-Unsubscribe=One-Click` from a mail provider, or the confirmation page's empty form; "
    "optional, never refused",
)
_ONE_CLICK_BODY[next(iter(_ONE_CLICK_BODY))]["required"] = False
_HTML = {"text/html": {"schema": {"type": "string"}}}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no contact behind this link (an HTML page)", "content": _HTML}
}


@router.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {"description": "the confirmation page, or that they are unsubscribed already"},
        **_NOT_FOUND,
    },
    summary="Unsubscribe confirmation page",
)
async def unsubscribe_page(request: Request, token: str, settings: SettingsDep) -> HTMLResponse:
    subscriber = await _load(request, token, settings)
    if subscriber is None:
        return _not_found()
    return _page(
        "unsubscribe.html.j2",
        200,
        subscriber=subscriber,
        company=settings.company_name,
        done=subscriber.opted_out,
    )


@router.post(
    "/{token}",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "unsubscribed (also when repeated): a page saying so",
            "content": _HTML,
        },
        **_NOT_FOUND,
        413: TOO_LARGE,
        503: {
            "description": "recorded, but the journey could not be told (or the CRM is "
            "unreachable, nothing recorded): POST again after Retry-After",
            "content": _HTML,
            "headers": RETRY_AFTER,
        },
    },
    openapi_extra=_ONE_CLICK_BODY,
    summary="Unsubscribe (RFC 8058 one-click)",
    description="The address of `List-Unsubscribe`: mail providers POST "
    "`List-Unsubscribe=One-Click`; the confirmation page's button posts an empty form. No "
    "authentication: the token in the path names the contact and cannot be forged.",
)
async def unsubscribe(
    request: Request, token: str, settings: SettingsDep, client: TemporalDep
) -> HTMLResponse:
    subscriber = await _load(request, token, settings)
    if subscriber is None:
        return _not_found()
    try:
        await opt_out(client, subscriber, via="with the link in an email")
    except TemporalUnavailable:
        log.warning("unsubscribe recorded, journey not told yet", account_id=subscriber.account_id)
        return _page(
            "unsubscribe.html.j2",
            503,
            subscriber=subscriber,
            company=settings.company_name,
            error=True,
        )
    return _page(
        "unsubscribe.html.j2", 200, subscriber=subscriber, company=settings.company_name, done=True
    )
