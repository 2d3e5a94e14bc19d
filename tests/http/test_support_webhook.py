"""POST /v1/webhooks/support: tickets drive escalations and the follow-up CSAT."""

from __future__ import annotations

import json
import time

import httpx
from temporalio.client import Client

from tests.support.http_support import (
    signals_in_history,
    start_journey_with_prompt_csat,
    start_paid_journey,
    support_headers,
    wait_for_status,
)
from workflows.escalation import EscalationWorkflow


def _delivery(account_id: str, delivery_id: str, action: str, **extra: object) -> bytes:
    body = {
        # Delivery ids are unique per desk; the CRM (and its memory of them) spans the session.
        "delivery_id": f"{account_id}.{delivery_id}",
        "action": action,
        "account_id": account_id,
        "ticket": {"id": "T-100", "subject": "Exports fail for large reports", "severity": "high"},
        "desk_internal_field": {"ignored": True},
        **extra,
    }
    return json.dumps(body).encode()


async def test_ticket_lifecycle_opens_updates_and_resolves_the_escalation(
    http: httpx.AsyncClient, running_worker: Client, task_queue: str
) -> None:
    acct = await start_journey_with_prompt_csat(running_worker, task_queue)
    opened = _delivery(acct, "d-1", "opened")
    signed = support_headers(opened)
    response = await http.post("/v1/webhooks/support", content=opened, headers=signed)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "delivered",
        "reason": None,
        "workflow_id": f"journey-{acct}",
    }
    # The desk re-delivers (newly signed), or someone replays the captured request: both are
    # acknowledged, neither is processed again.
    for headers in (signed, support_headers(opened, timestamp=int(time.time()) + 1)):
        again = await http.post("/v1/webhooks/support", content=opened, headers=headers)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
    status = await wait_for_status(running_worker, acct, lambda s: len(s.escalations) == 1)
    escalation = status.escalations[0]
    assert escalation.ticket_id == "T-100" and escalation.open
    assert escalation.summary == "Exports fail for large reports"
    assert await signals_in_history(running_worker, f"journey-{acct}") == 2  # payment + ticket

    updated = _delivery(acct, "d-2", "updated", note="looking into it")
    response = await http.post(
        "/v1/webhooks/support", content=updated, headers=support_headers(updated)
    )
    assert response.json()["workflow_id"] == escalation.escalation_id
    handle = running_worker.get_workflow_handle_for(
        EscalationWorkflow.run, escalation.escalation_id
    )
    assert (await handle.query(EscalationWorkflow.status)).acknowledged

    resolved = _delivery(acct, "d-3", "resolved", resolution="fixed in 4.2")
    response = await http.post(
        "/v1/webhooks/support", content=resolved, headers=support_headers(resolved)
    )
    assert response.json()["status"] == "delivered"
    status = await wait_for_status(
        running_worker, acct, lambda s: any(x.kind == "csat" for x in s.surveys)
    )
    assert not status.escalations[0].open
    # The support follow-up playbook sends the CSAT once the ticket is resolved.
    csat = next(x for x in status.surveys if x.kind == "csat")
    assert csat.score is None
    assert [p.situation for p in status.playbooks if p.kind == "support"] == ["T-100"]


async def test_bad_missing_or_wrong_signatures_are_refused(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    body = _delivery(acct, "d-9", "opened")
    signed = support_headers(body)
    now = int(time.time())
    cases = [
        ({"Content-Type": "application/json"}, 401),
        ({**signed, "X-Signature-Timestamp": ""}, 401),  # the old, unstamped format
        (support_headers(body, secret="not-the-secret"), 403),
        ({**signed, "X-Signature": "sha1=abcd"}, 403),
        # Signed, then tampered with: the delivery id no longer matches the signature.
        (support_headers(body.replace(b"d-9", b"d-8")), 403),
        # The timestamp is signed too: moving it breaks the signature.
        ({**signed, "X-Signature-Timestamp": str(now + 1)}, 403),
        # Stale (a captured delivery replayed later) or from the future.
        (support_headers(body, timestamp=now - 3600), 403),
        (support_headers(body, timestamp=now + 3600), 403),
        # Numbers bounded before use: no overflow, no 500.
        (support_headers(body, timestamp="9" * 400), 403),
        (support_headers(body, timestamp="-5"), 403),
        (support_headers(body, timestamp="1e9"), 403),
    ]
    for headers, code in cases:
        response = await http.post("/v1/webhooks/support", content=body, headers=headers)
        assert response.status_code == code, (headers, response.text)
        assert "signature" in response.json()["detail"].lower() or code == 401
    status = await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 1)
    assert status.escalations == [] and status.events_processed == 1
    assert await signals_in_history(running_worker, f"journey-{acct}") == 1


async def test_malformed_support_payloads_get_422_naming_the_field(http: httpx.AsyncClient) -> None:
    for body, loc in [
        (
            b'{"delivery_id": "x", "action": "opened", "account_id": "a", "ticket": {"id": "T"}}',
            ["body", "ticket", "subject"],
        ),
        (
            b'{"delivery_id": "x", "action": "reopened", "account_id": "a",'
            b' "ticket": {"id": "T", "subject": "s"}}',
            ["body", "action"],
        ),
        (b"not json", ["body"]),
    ]:
        response = await http.post(
            "/v1/webhooks/support", content=body, headers=support_headers(body)
        )
        assert response.status_code == 422, response.text
        assert loc in [e["loc"][: len(loc)] for e in response.json()["detail"]]


async def test_ticket_for_an_account_without_a_journey_is_acknowledged_not_delivered(
    http: httpx.AsyncClient,
) -> None:
    body = _delivery("acct-nobody", "d-1", "opened")
    response = await http.post("/v1/webhooks/support", content=body, headers=support_headers(body))
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"


async def test_a_delivery_id_reused_for_different_content_is_a_conflict(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    first = _delivery(acct, "d-reused", "opened")
    assert (
        await http.post("/v1/webhooks/support", content=first, headers=support_headers(first))
    ).json()["status"] == "delivered"
    # Same content, formatted differently: still the same delivery.
    reformatted = json.dumps(json.loads(first), indent=2).encode()
    response = await http.post(
        "/v1/webhooks/support", content=reformatted, headers=support_headers(reformatted)
    )
    assert response.json()["status"] == "duplicate"
    other = _delivery(acct, "d-reused", "resolved", resolution="fixed")
    response = await http.post(
        "/v1/webhooks/support", content=other, headers=support_headers(other)
    )
    assert response.status_code == 409, response.text
    assert "d-reused" in response.json()["detail"]
    status = await wait_for_status(running_worker, acct, lambda s: len(s.escalations) == 1)
    assert status.escalations[0].open  # the conflicting "resolved" was not applied


async def test_fields_the_journey_would_refuse_get_422_naming_them(
    http: httpx.AsyncClient,
) -> None:
    for change, loc in [
        ({"ticket": {"id": "T-1", "subject": "two\nlines"}}, ["body", "ticket", "subject"]),
        ({"occurred_at": "0001-01-01T00:00:00Z"}, ["body", "occurred_at"]),
        ({"note": "bell\x07"}, ["body", "note"]),
    ]:
        body = json.dumps(
            {
                "delivery_id": "d-bad",
                "action": "opened",
                "account_id": "acct-x",
                "ticket": {"id": "T-1", "subject": "s"},
                **change,
            }
        ).encode()
        response = await http.post(
            "/v1/webhooks/support", content=body, headers=support_headers(body)
        )
        assert response.status_code == 422, response.text
        assert loc in [e["loc"] for e in response.json()["detail"]], response.text


async def test_deeply_nested_signed_body_is_a_422_not_a_500(http: httpx.AsyncClient) -> None:
    body = b'{"delivery_id": "d-deep", "x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    response = await http.post("/v1/webhooks/support", content=body, headers=support_headers(body))
    assert response.status_code == 422, response.text
