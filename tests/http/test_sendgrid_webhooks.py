"""SendGrid Event Webhook (signed) and Inbound Parse (reply-to tokens)."""

from __future__ import annotations

import json
import time

import httpx
from sqlmodel import select
from temporalio.client import Client

from crm.database import get_store
from crm.tables import ContactRow, TouchpointRow
from domain.reply_address import reply_address
from tests.support.http_support import (
    INBOUND_AUTH,
    REPLY_SECRET,
    SendGridSigner,
    signals_in_history,
    start_paid_journey,
    timeline_kinds,
    wait_for_status,
)


def _event(account_id: str, kind: str, sg_id: str, **extra: object) -> dict[str, object]:
    return {
        "email": f"champion@{account_id}.example",
        "event": kind,
        "timestamp": int(time.time()),
        "sg_event_id": sg_id,
        "sg_message_id": "msg-1",
        # custom_args csflow sends with every email arrive as top-level keys:
        "account_id": account_id,
        "workflow_id": f"requirements-{account_id}",
        "step": "questionnaire",
        "idempotency_key": f"requirements-{account_id}:questionnaire",
        **extra,
    }


def _opted_out(contact_id: str) -> bool:
    with get_store().session() as session:
        contact = session.get(ContactRow, contact_id)
        assert contact is not None
        return contact.opted_out


async def test_bounce_suppresses_the_contact_and_tells_the_journey_once(
    http: httpx.AsyncClient, running_worker: Client, signer: SendGridSigner
) -> None:
    acct = await start_paid_journey(http, running_worker)
    batch = [
        _event(acct, "delivered", "sg-1"),
        _event(acct, "open", "sg-2"),
        _event(acct, "bounce", "sg-3", reason="550 mailbox unavailable", type="bounce"),
        {"email": "x@elsewhere.example", "event": "open", "timestamp": 1, "sg_event_id": "sg-4"},
    ]
    body = json.dumps(batch).encode()
    for _ in range(2):  # SendGrid re-sends the batch: every effect happens once
        response = await http.post(
            "/v1/webhooks/sendgrid/events", content=body, headers=signer.headers(body)
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"received": 4, "delivered": 1, "recorded": 1, "ignored": 2}

    assert _opted_out(f"{acct}-champion")
    status = await wait_for_status(
        running_worker, acct, lambda s: any("bounced" in t.title for t in s.open_tasks)
    )
    assert [t.title for t in status.open_tasks if "bounced" in t.title] == [
        f"Email to champion@{acct}.example bounced: find a working contact"
    ]
    assert await signals_in_history(running_worker, f"journey-{acct}") == 2  # payment + bounce
    with get_store().session() as session:
        opened = session.exec(
            select(TouchpointRow).where(
                TouchpointRow.account_id == acct, TouchpointRow.idempotency_key == "sendgrid:sg-2"
            )
        ).all()
    assert len(opened) == 1
    assert (opened[0].workflow_id, opened[0].step) == (f"requirements-{acct}", "questionnaire")


async def test_unsubscribe_opts_the_contact_out_and_updates_the_journey(
    http: httpx.AsyncClient, running_worker: Client, signer: SendGridSigner
) -> None:
    acct = await start_paid_journey(http, running_worker)
    event = _event(acct, "unsubscribe", "sg-u1")
    event["email"] = f"dm@{acct}.example"
    event.pop("idempotency_key")
    body = json.dumps([event]).encode()
    response = await http.post(
        "/v1/webhooks/sendgrid/events", content=body, headers=signer.headers(body)
    )
    assert response.json()["delivered"] == 1
    assert _opted_out(f"{acct}-dm") and not _opted_out(f"{acct}-champion")
    await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 2)
    assert "contact_changed" in await timeline_kinds(running_worker, acct)


async def test_invalid_signatures_are_refused_and_nothing_is_delivered(
    http: httpx.AsyncClient, running_worker: Client, signer: SendGridSigner
) -> None:
    acct = await start_paid_journey(http, running_worker)
    body = json.dumps([_event(acct, "spamreport", "sg-s1")]).encode()
    other = SendGridSigner()  # a key SendGrid never gave us
    stale = signer.headers(body, timestamp=int(time.time()) - 3600)
    tampered = signer.headers(body)
    cases = [
        ({"Content-Type": "application/json"}, 401),
        (other.headers(body), 403),
        (stale, 403),
        ({**tampered, "X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl"}, 403),
        ({**tampered, "X-Twilio-Email-Event-Webhook-Signature": "%%%"}, 403),
    ]
    for headers, code in cases:
        response = await http.post("/v1/webhooks/sendgrid/events", content=body, headers=headers)
        assert response.status_code == code, response.text
    altered = body.replace(b"spamreport", b"unsubscribe")
    response = await http.post(
        "/v1/webhooks/sendgrid/events", content=altered, headers=signer.headers(body)
    )
    assert response.status_code == 403
    assert not _opted_out(f"{acct}-champion")
    assert await signals_in_history(running_worker, f"journey-{acct}") == 1


async def test_malformed_event_batches_get_422_naming_the_field(
    http: httpx.AsyncClient, signer: SendGridSigner
) -> None:
    body = json.dumps([{"event": "open", "timestamp": 1}]).encode()
    response = await http.post(
        "/v1/webhooks/sendgrid/events", content=body, headers=signer.headers(body)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", 0, "email"]


async def test_inbound_reply_becomes_an_email_replied_event(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    address = reply_address(acct, REPLY_SECRET, "reply.csflow.test")
    form = {
        "to": f"Your CSM <{address}>",
        "from": f"Chris Champion <champion@{acct}.example>",
        "subject": "Re: Renewal",
        "text": "Yes, let's renew.\n> On Monday you wrote:\n> old text",
        "headers": f"Message-ID: <reply-1@{acct}.example>\nSubject: Re: Renewal\n",
        "envelope": json.dumps({"to": [address], "from": f"champion@{acct}.example"}),
    }
    for _ in range(2):
        response = await http.post("/v1/webhooks/sendgrid/inbound", data=form, auth=INBOUND_AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "delivered"
        assert response.json()["account_id"] == acct
    await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 2)
    entries = await running_worker.get_workflow_handle(f"journey-{acct}").query("timeline")
    replies = [e for e in entries if e["kind"] == "email_replied"]
    assert len(replies) == 1
    assert f"contact_id={acct}-champion" in replies[0]["summary"]
    assert "old text" not in replies[0]["summary"]

    forged = dict(form, to="reply+aaaaaaaaaaaaaaaaaaaaaaaa@reply.csflow.test", envelope="")
    response = await http.post("/v1/webhooks/sendgrid/inbound", data=forged, auth=INBOUND_AUTH)
    assert response.json()["status"] == "ignored"
    assert await signals_in_history(running_worker, f"journey-{acct}") == 2
    missing = await http.post(
        "/v1/webhooks/sendgrid/inbound", data={"from": "a@b.example"}, auth=INBOUND_AUTH
    )
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "to"]


async def test_oversized_timestamps_and_numbers_are_refused_not_a_500(
    http: httpx.AsyncClient, signer: SendGridSigner
) -> None:
    body = json.dumps([_event("acct-none", "open", "sg-t1")]).encode()
    for stamp in ("9" * 400, "-1", "1e9", " "):
        headers = signer.headers(body)
        headers["X-Twilio-Email-Event-Webhook-Timestamp"] = stamp
        response = await http.post("/v1/webhooks/sendgrid/events", content=body, headers=headers)
        assert response.status_code in (401, 403), (stamp, response.text)

    for event, loc in [
        ({**_event("acct-none", "open", "sg-t2"), "timestamp": int("9" * 400)}, "timestamp"),
        ({**_event("acct-none", "open", "sg-t3"), "timestamp": -5}, "timestamp"),
        ({**_event("acct-none", "open", "sg-t4"), "ip_score": float("inf")}, "ip_score"),
    ]:
        signed = json.dumps([event]).encode()
        response = await http.post(
            "/v1/webhooks/sendgrid/events", content=signed, headers=signer.headers(signed)
        )
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", 0, loc]


async def test_validly_signed_garbage_is_a_422(
    http: httpx.AsyncClient, signer: SendGridSigner
) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b"[{]", b"\xff\xfe", b"{}"):
        response = await http.post(
            "/v1/webhooks/sendgrid/events", content=body, headers=signer.headers(body)
        )
        assert response.status_code in (403, 422), response.text
        assert response.status_code == 422 or body == b"\xff\xfe"
