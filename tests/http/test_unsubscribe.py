"""GET/POST /v1/unsubscribe/{token}: the link in a nurture email opts its contact out (RFC 8058
one-click: no login, idempotent), tells the journey, and never acts on a GET."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlmodel import col, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities import Activities
from crm.database import get_store
from crm.tables import ContactRow, TouchpointRow
from domain.models import AccountUpsert, EmailRequest, EmailStatus
from domain.settings import Settings
from domain.unsubscribe import unsubscribe_token
from starter.http.app import create_app
from tests.support.http_support import (
    INBOUND_AUTH,
    REPLY_SECRET,
    account_body,
    free_port,
    new_account_id,
    start_paid_journey,
    timeline_kinds,
    wait_for_status,
)


def _opted_out(contact_id: str) -> bool:
    with get_store().session() as session:
        contact = session.get(ContactRow, contact_id)
        return bool(contact and contact.opted_out)


def _notes(account_id: str) -> list[str]:
    with get_store().session() as session:
        rows = session.exec(
            select(TouchpointRow).where(
                col(TouchpointRow.account_id) == account_id, col(TouchpointRow.kind) == "note"
            )
        ).all()
        return [r.summary for r in rows]


async def _customer_events(client: Client, account_id: str) -> int:
    """Customer events signalled to the journey (a playbook's reports are signals too)."""
    history = await client.get_workflow_handle(f"journey-{account_id}").fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and e.workflow_execution_signaled_event_attributes.signal_name == "customer_event"
    )


def _path(contact_id: str) -> str:
    # The HTTP suite's settings carry a reply secret and no unsubscribe secret: it signs.
    return f"/v1/unsubscribe/{unsubscribe_token(contact_id, REPLY_SECRET)}"


async def test_one_click_opts_out_once_and_tells_the_journey(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    path = _path(f"{acct}-champion")

    # What Gmail and other providers send (RFC 8058): a form body, no cookie, no login.
    one_click = await http.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200, one_click.text
    assert "You're unsubscribed" in one_click.text
    assert _opted_out(f"{acct}-champion") and not _opted_out(f"{acct}-dm")
    await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 2)
    assert "contact_changed" in await timeline_kinds(running_worker, acct)
    signals = await _customer_events(running_worker, acct)

    # Repeated (a second click, a provider's retry): 200 again, nothing new anywhere.
    again = await http.post(path)
    assert again.status_code == 200 and "You're unsubscribed" in again.text
    assert await _customer_events(running_worker, acct) == signals
    notes = [n for n in _notes(acct) if "unsubscribed" in n]
    assert notes == [
        f"champion@{acct}.example unsubscribed from marketing and nurture email (with the link "
        "in an email); service email still reaches them"
    ]


async def test_the_page_asks_first_and_a_get_changes_nothing(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    path = _path(f"{acct}-dm")

    page = await http.get(path)
    assert page.status_code == 200
    assert "<h1>Unsubscribe from Example Software emails?</h1>" in page.text
    assert f"dm@{acct}.example will no longer receive" in page.text
    # The button POSTs to this same address; the token is the only credential.
    button = r'<form method="post">\s*<button type="submit">Unsubscribe</button>'
    assert re.search(button, page.text)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert not _opted_out(f"{acct}-dm")

    await http.post(path)
    done = await http.get(path)
    assert done.status_code == 200 and "<h1>You're unsubscribed</h1>" in done.text
    assert "<form" not in done.text


async def test_forged_and_unknown_tokens_find_no_one(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    forged = unsubscribe_token(f"{acct}-champion", "a guessed secret")
    unknown = unsubscribe_token("nobody", REPLY_SECRET)
    for token in (forged, unknown, "not-a-token", "x" * 300):
        for method in ("GET", "POST"):
            response = await http.request(method, f"/v1/unsubscribe/{token}")
            assert response.status_code == 404, (token, method)
            assert "couldn&#39;t find this unsubscribe link" in response.text
    assert not _opted_out(f"{acct}-champion")


async def test_page_text_is_escaped(
    settings: Settings, running_worker: Client, acts: Activities
) -> None:
    acct = new_account_id()
    await acts.crm.upsert_account(AccountUpsert.model_validate(account_body(acct)))
    app = create_app(
        settings.model_copy(update={"company_name": "<b>Tom & Jerry's</b>"}),
        client=running_worker,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        page = await http.get(_path(f"{acct}-champion"))
    assert "&lt;b&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;" in page.text and "<b>" not in page.text


async def test_the_link_in_a_sent_email_works_end_to_end(
    http: httpx.AsyncClient,
    running_worker: Client,
    acts: Activities,
    outbox_dir: Path,
) -> None:
    acct = await start_paid_journey(http, running_worker)
    check_in = EmailRequest(
        idempotency_key=f"{acct}:check-in",
        account_id=acct,
        to_contact_id=f"{acct}-dm",
        template="usage_check_in",
    )
    sent = await acts.email.send_email(check_in)
    assert sent.status == EmailStatus.OUTBOXED
    [path] = [p for p in outbox_dir.glob(f"*-{acct}-usage_check_in-*.eml")]
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    [url] = re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])

    response = await http.post(urlsplit(url).path)
    assert response.status_code == 200 and _opted_out(f"{acct}-dm")
    again = await acts.email.send_email(
        check_in.model_copy(update={"idempotency_key": f"{acct}:check-in-2"})
    )
    assert again.status == EmailStatus.SUPPRESSED
    # Service mail still reaches them.
    ack = await acts.email.send_email(
        check_in.model_copy(
            update={
                "idempotency_key": f"{acct}:ack",
                "template": "escalation_acknowledgement",
                "context": {
                    "topic": "Exports fail",
                    "ticket_id": "T-1",
                    "first_response_within": "8 hours",
                    "resolution_within": "3 days",
                },
            }
        )
    )
    assert ack.status == EmailStatus.OUTBOXED


async def test_when_temporal_is_down_the_opt_out_holds_and_a_retry_is_asked_for(
    settings: Settings, acts: Activities
) -> None:
    client = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True
    )
    app = create_app(settings, client=client)
    acct = new_account_id()
    await acts.crm.upsert_account(AccountUpsert.model_validate(account_body(acct)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        response = await http.post(_path(f"{acct}-champion"))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "press the button again" in response.text
    # Recorded all the same: no more nurture mail while the journey waits to hear of it.
    assert _opted_out(f"{acct}-champion")


async def test_the_mailto_unsubscribes_through_inbound_parse(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    token = unsubscribe_token(f"{acct}-dm", REPLY_SECRET)
    form = {
        "to": "unsubscribe@reply.csflow.test",
        "from": f"Dana Decider <dm@{acct}.example>",
        "subject": f"Re: unsubscribe {token}",
        "text": "",
    }
    response = await http.post("/v1/webhooks/sendgrid/inbound", data=form, auth=INBOUND_AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "delivered" and response.json()["reason"] == "unsubscribed"
    assert _opted_out(f"{acct}-dm") and not _opted_out(f"{acct}-champion")
    await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 2)
    assert "contact_changed" in await timeline_kinds(running_worker, acct)
    # A forged token in a subject is an ordinary (unmatched) message.
    forged = dict(form, subject=f"unsubscribe {unsubscribe_token(f'{acct}-champion', 'guess')}")
    response = await http.post("/v1/webhooks/sendgrid/inbound", data=forged, auth=INBOUND_AUTH)
    assert response.json()["status"] == "ignored" and not _opted_out(f"{acct}-champion")
