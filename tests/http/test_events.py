"""POST /v1/events against the dev server and a real worker."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from domain.models import LifecycleStage
from tests.support.http_support import (
    account_body,
    bearer,
    new_account_id,
    signals_in_history,
    wait_for_status,
)


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


async def test_an_event_id_reused_for_a_different_event_is_a_conflict(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = new_account_id()
    first = {
        "event_id": f"usage-{acct}",
        "account_id": acct,
        "type": "usage_reported",
        "payload": {"active_users": 7, "licensed_seats": 10},
        "account": account_body(acct),
    }
    assert (await http.post("/v1/events", json=first, headers=bearer())).status_code == 202
    # The same event again, defaults spelled out and keys reordered: an ordinary re-post.
    same = {
        **first,
        "payload": {"licensed_seats": 10, "active_users": 7, "feature_adoption": 0.0},
    }
    again = await http.post("/v1/events", json=same, headers=bearer())
    assert again.status_code == 202, again.text
    waited = await http.post("/v1/events?wait=true", json=same, headers=bearer())
    assert waited.status_code == 200, waited.text
    assert waited.json()["ack"]["duplicate"] is True, waited.text

    for change in (
        {"payload": {"active_users": 8, "licensed_seats": 10}},
        {"type": "email_replied", "payload": {}},
        {"occurred_at": "2026-01-02T03:04:05Z"},
    ):
        response = await http.post("/v1/events", json={**first, **change}, headers=bearer())
        assert response.status_code == 409, response.text
        assert f"usage-{acct}" in response.json()["detail"]
        waited = await http.post("/v1/events?wait=true", json={**first, **change}, headers=bearer())
        assert waited.status_code == 409, waited.text

    status = await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 1)
    assert status.events_processed == 1
    assert await signals_in_history(running_worker, f"journey-{acct}") == 1
    # Event ids are per account: another account may use the same one.
    other = new_account_id()
    reused = {**first, "account_id": other, "account": account_body(other)}
    assert (await http.post("/v1/events", json=reused, headers=bearer())).status_code == 202


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"active_users": int("9" * 400)}, ["body", "payload", "active_users"]),
        ({"active_users": -(2**60)}, ["body", "payload", "active_users"]),
        ({"feature_adoption": float("nan")}, ["body", "payload", "feature_adoption"]),
        ({"feature_adoption": float("inf")}, ["body", "payload", "feature_adoption"]),
        ({"extra": _nested(40)}, ["body", "payload", "extra", *[0] * 30]),
    ],
    ids=["400-digits", "beyond-2**53", "nan", "infinity", "deep"],
)
async def test_numbers_and_nesting_are_bounded_before_use(
    http: httpx.AsyncClient, payload: dict[str, object], loc: list[str] | None
) -> None:
    acct = new_account_id()
    body = {
        "event_id": "e-1",
        "account_id": acct,
        "type": "usage_reported",
        "payload": payload,
        "account": account_body(acct),
    }
    raw = json.dumps(body).encode()  # NaN and Infinity as Python's encoder writes them
    response = await http.post(
        "/v1/events", content=raw, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["detail"]], response.text


async def test_deeply_nested_body_is_a_4xx(http: httpx.AsyncClient) -> None:
    body = b'{"event_id": "e-1", "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await http.post(
        "/v1/events", content=body, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, response.text


async def test_occurred_at_outside_the_supported_range_is_422(http: httpx.AsyncClient) -> None:
    acct = new_account_id()
    body = {
        "event_id": "e-1",
        "account_id": acct,
        "type": "payment_received",
        "occurred_at": "0001-01-01T00:00:00Z",
        "account": account_body(acct),
    }
    response = await http.post("/v1/events", json=body, headers=bearer())
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "occurred_at"]


def _with_contract(body: dict[str, object], start: str, end: str) -> dict[str, object]:
    return {**body, "contract": {"start_date": start, "end_date": end, "value": 1000}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: _with_contract(a, "0001-01-01", "0001-01-02"), "start_date"),
        (lambda a: {**a, "arr": float("inf")}, "arr"),
        (
            lambda a: {
                **a,
                "contacts": [
                    {**a["contacts"][0], "name": "Chris\r\nBcc: all@elsewhere.example"},
                    *a["contacts"][1:],
                ],
            },
            "name",
        ),
    ],
    ids=["year-1-contract", "infinite-arr", "crlf-contact-name"],
)
async def test_an_account_no_journey_could_live_with_is_refused_naming_the_field(
    http: httpx.AsyncClient, change: Any, field: str
) -> None:
    acct = new_account_id()
    body = {
        "event_id": f"pay-{acct}",
        "account_id": acct,
        "type": "payment_received",
        "account": change(account_body(acct)),
    }
    raw = json.dumps(body).encode()  # Infinity as Python's encoder writes it
    response = await http.post(
        "/v1/events", content=raw, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    locations = [e["loc"] for e in response.json()["detail"]]
    assert any(loc[:2] == ["body", "account"] and field in loc for loc in locations), locations
