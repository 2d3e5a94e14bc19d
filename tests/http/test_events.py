"""POST /v1/events against the dev server and a real worker."""

from __future__ import annotations

import httpx
import pytest
from http_support import (
    account_body,
    bearer,
    new_account_id,
    signals_in_history,
    wait_for_status,
)
from temporalio.client import Client
from temporalio.service import RPCError

from domain.models import LifecycleStage


async def test_event_for_new_account_starts_its_journey_and_duplicates_arrive_once(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = new_account_id()
    first = {
        "event_id": f"billing-{acct}-1",
        "account_id": acct,
        "type": "payment_received",
        "account": account_body(acct),
    }
    response = await http.post("/v1/events", json=first, headers=bearer())
    assert response.status_code == 202, response.text
    assert response.json() == {
        "status": "accepted",
        "event_id": f"billing-{acct}-1",
        "account_id": acct,
        "workflow_id": f"journey-{acct}",
        "started": True,
    }
    await wait_for_status(running_worker, acct, lambda s: s.stage == LifecycleStage.REQUIREMENTS)

    usage = {
        "event_id": f"usage-{acct}-1",
        "account_id": acct,
        "type": "usage_reported",
        "payload": {"active_users": 7, "licensed_seats": 10, "feature_adoption": 0.5},
    }
    for _ in range(2):
        again = await http.post("/v1/events", json=usage, headers=bearer())
        assert again.status_code == 202, again.text
        assert again.json()["started"] is False
    # The account is in the CRM now, so `account` is not needed any more.
    reply = {"event_id": f"mail-{acct}-1", "account_id": acct, "type": "email_replied"}
    assert (await http.post("/v1/events", json=reply, headers=bearer())).status_code == 202

    status = await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 3)
    assert status.events_processed == 3
    assert status.health_score is not None  # usage_reported refreshed it
    timeline = await running_worker.get_workflow_handle(f"journey-{acct}").query("timeline")
    assert [e["kind"] for e in timeline].count("usage_reported") == 1
    # Three distinct events, four posts: the server dropped the re-sent signal itself.
    assert await signals_in_history(running_worker, f"journey-{acct}") == 3


async def test_wait_returns_the_journeys_acknowledgement_once(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = new_account_id()
    body = {
        "event_id": f"trial-{acct}",
        "account_id": acct,
        "type": "trial_started",
        "account": account_body(acct),
    }
    response = await http.post("/v1/events?wait=true", json=body, headers=bearer())
    assert response.status_code == 200, response.text
    ack = response.json()["ack"]
    assert ack["event_type"] == "trial_started" and ack["sequence"] == 1
    assert ack["stage"] == "trial" and ack["duplicate"] is False

    again = await http.post("/v1/events?wait=true", json=body, headers=bearer())
    assert again.status_code == 200
    assert again.json()["ack"]["sequence"] == 1
    status = await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 1)
    assert status.events_processed == 1


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer not-the-token"}, 403),
    ],
)
async def test_bad_or_missing_tokens_are_refused_and_nothing_is_delivered(
    http: httpx.AsyncClient, running_worker: Client, headers: dict[str, str], code: int
) -> None:
    acct = new_account_id()
    body = {
        "event_id": "e-1",
        "account_id": acct,
        "type": "payment_received",
        "account": account_body(acct),
    }
    response = await http.post("/v1/events", json=body, headers=headers)
    assert response.status_code == code
    if code == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(RPCError):
        await running_worker.get_workflow_handle(f"journey-{acct}").describe()


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"event_id": None}, ["body", "event_id"]),
        ({"event_id": "has spaces"}, ["body", "event_id"]),
        ({"type": "gift_received"}, ["body", "type"]),
        (
            {"type": "ticket_opened", "payload": {"ticket_id": "T-1"}},
            ["body", "payload", "subject"],
        ),
        ({"payload": {"amount": -5}}, ["body", "payload", "amount"]),
        ({"account": {"id": "someone-else"}}, ["body", "account", "name"]),
        ({"colour": "blue"}, ["body", "colour"]),
    ],
)
async def test_malformed_events_get_422_naming_the_field(
    http: httpx.AsyncClient, change: dict[str, object], loc: list[str]
) -> None:
    acct = new_account_id()
    body: dict[str, object] = {
        "event_id": "e-1",
        "account_id": acct,
        "type": "payment_received",
        "account": account_body(acct),
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    response = await http.post("/v1/events", json=body, headers=bearer())
    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["detail"]]


async def test_account_mismatch_and_unknown_account_name_the_account_field(
    http: httpx.AsyncClient,
) -> None:
    acct = new_account_id()
    mismatch = {
        "event_id": "e-1",
        "account_id": acct,
        "type": "payment_received",
        "account": account_body("other"),
    }
    response = await http.post("/v1/events", json=mismatch, headers=bearer())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "account", "id"]

    unknown = {"event_id": "e-1", "account_id": acct, "type": "usage_reported"}
    response = await http.post("/v1/events", json=unknown, headers=bearer())
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "account"]


async def test_invalid_json_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/events",
        content=b'{"event_id": ',
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_oversized_bodies_are_refused_with_413(http: httpx.AsyncClient) -> None:
    big = b'{"pad": "' + b"x" * (256 * 1024) + b'"}'
    declared = await http.post(
        "/v1/events", content=big, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert declared.status_code == 413

    async def chunks():  # no Content-Length: the streamed size decides
        for _ in range(5):
            yield b"x" * (64 * 1024)

    streamed = await http.post(
        "/v1/events", content=chunks(), headers={**bearer(), "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_request_id_is_echoed_or_generated(http: httpx.AsyncClient) -> None:
    echoed = await http.get("/healthz", headers={"X-Request-ID": "req-abc.123"})
    assert echoed.status_code == 200 and echoed.headers["x-request-id"] == "req-abc.123"
    forged = await http.get("/healthz", headers={"X-Request-ID": "bad id\nwith newline"})
    assert forged.headers["x-request-id"] != "bad id\nwith newline"
    assert len(forged.headers["x-request-id"]) == 32


async def test_readyz_checks_temporal_and_the_database(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "temporal": "ok", "database": "ok"}


async def test_openapi_docs_are_served(http: httpx.AsyncClient) -> None:
    assert (await http.get("/docs")).status_code == 200
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert "/v1/events" in paths
