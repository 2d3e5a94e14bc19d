"""Temporal unreachable: 503 with Retry-After and no partial writes; a retry then succeeds."""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities import Activities
from crm.database import get_store
from crm.tables import ApiRequestKeyRow, ContactRow, SurveyResponseRow
from domain.models import AccountUpsert, LifecycleStage, SurveyKind, SurveyRequest
from domain.settings import Settings
from starter.http.app import create_app
from starter.http.dependency_failures import outage_detail
from starter.http.limits import RETRY_AFTER_SECONDS
from starter.worker_process import build_worker, ensure_search_attributes
from tests.support.http_support import (
    SendGridSigner,
    account_body,
    bearer,
    free_port,
    new_account_id,
    support_headers,
    wait_for_status,
)


def _answers() -> int:
    with get_store().session() as session:
        return len(session.exec(select(SurveyResponseRow)).all())


def _remembered(key: str) -> ApiRequestKeyRow | None:
    with get_store().session() as session:
        return session.get(ApiRequestKeyRow, key)


def _opted_out(contact_id: str) -> bool:
    with get_store().session() as session:
        contact = session.get(ContactRow, contact_id)
        return bool(contact and contact.opted_out)


async def test_unreachable_temporal_gives_503_without_writes_then_retry_succeeds(
    settings: Settings,
    signer: SendGridSigner,
    temporal_cli_path: str,
    crm_url: str,
    acts: Activities,
) -> None:
    port = free_port()
    client = await Client.connect(
        f"127.0.0.1:{port}", data_converter=pydantic_data_converter, lazy=True
    )
    queue = f"outage-{uuid.uuid4().hex[:6]}"
    app = create_app(settings.model_copy(update={"task_queue": queue}), client=client)
    acct = new_account_id()
    await acts.crm.upsert_account(AccountUpsert.model_validate(account_body(acct)))
    survey = await acts.surveys.create_survey(
        SurveyRequest(
            account_id=acct,
            contact_id=f"{acct}-champion",
            kind=SurveyKind.NPS,
            idempotency_key=acct,
        )
    )
    event = {"event_id": f"pay-{acct}", "account_id": acct, "type": "payment_received"}
    unsubscribe = json.dumps(
        [
            {
                "email": f"champion@{acct}.example",
                "event": "unsubscribe",
                "timestamp": 1,
                "sg_event_id": f"u-{acct}",
                "account_id": acct,
            }
        ]
    ).encode()
    answers_before = _answers()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        down = await http.post("/v1/events", json=event, headers=bearer())
        assert down.status_code == 503 and down.headers["retry-after"] == "5"
        # Waiting for the acknowledgement (update-with-start, and update of a known account).
        waited = await http.post("/v1/events?wait=true", json=event, headers=bearer())
        assert waited.status_code == 503 and waited.headers["retry-after"] == "5"
        usage = {"event_id": f"use-{acct}", "account_id": acct, "type": "usage_reported"}
        waited = await http.post("/v1/events?wait=true", json=usage, headers=bearer())
        assert waited.status_code == 503 and waited.headers["retry-after"] == "5"
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["database"] == "ok"
        assert ready.json()["temporal"].startswith("unavailable")

        page = await http.post(f"/s/{survey.token}", data={"score": "8", "comment": "ok"})
        assert page.status_code == 503 and "try again" in page.text
        assert 'value="8" required checked' in page.text  # the customer's choice is kept
        assert _answers() == answers_before
        sendgrid = await http.post(
            "/v1/webhooks/sendgrid/events", content=unsubscribe, headers=signer.headers(unsubscribe)
        )
        assert sendgrid.status_code == 503 and not _opted_out(f"{acct}-champion")

        env = await WorkflowEnvironment.start_local(
            port=port,
            dev_server_existing_path=temporal_cli_path,
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
        try:
            await ensure_search_attributes(env.client)
            async with build_worker(env.client, acts.all(), task_queue=queue):
                retried = await http.post("/v1/events", json=event, headers=bearer())
                assert retried.status_code == 202, retried.text
                assert retried.json()["started"] is True
                await wait_for_status(
                    client, acct, lambda s: s.stage == LifecycleStage.REQUIREMENTS
                )
                assert (await http.get("/readyz")).status_code == 200
                answered = await http.post(f"/s/{survey.token}", data={"score": "8"})
                assert answered.status_code == 303
                assert _answers() == answers_before + 1
        finally:
            await env.shutdown()

        # The dedicated server is gone again: back to 503, nothing half-done.
        again = await http.post(
            "/v1/events", json={**event, "event_id": f"late-{acct}"}, headers=bearer()
        )
        assert again.status_code == 503


class _FailingService:
    """A WorkflowService whose every call fails the way a given outage does."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, rpc: str) -> Any:
        async def call(*_args: object, **_kwargs: object) -> None:
            raise self.error

        return call


class _FailingClient:
    namespace = "default"
    identity = "outage-test"
    data_converter = pydantic_data_converter

    def __init__(self, error: Exception) -> None:
        self.workflow_service = _FailingService(error)


@pytest.mark.parametrize(
    "error",
    [
        RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("deadline has elapsed", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        RPCError("transport error", RPCStatusCode.UNKNOWN, b""),
        RuntimeError("Failed client connect: Server connection error: tcp connect error"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=["unavailable", "deadline", "unknown-transport", "lazy-connect", "refused"],
)
async def test_every_kind_of_temporal_outage_answers_503_with_retry_after(
    settings: Settings, crm_url: str, error: Exception
) -> None:
    app = create_app(settings, client=cast(Client, _FailingClient(error)))
    acct = new_account_id()
    event = {
        "event_id": f"pay-{acct}",
        "account_id": acct,
        "type": "payment_received",
        "account": account_body(acct),
    }
    ticket = json.dumps(
        {
            "delivery_id": f"outage-{acct}",
            "action": "opened",
            "account_id": acct,
            "ticket": {"id": "T-1", "subject": "Exports fail"},
        }
    ).encode()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        responses = [
            await http.post("/v1/events", json=event, headers=bearer()),
            await http.post(
                "/v1/webhooks/support", content=ticket, headers=support_headers(ticket)
            ),
        ]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
        assert "nothing was recorded" in response.json()["detail"]
    # Nothing remembered either: the retries are not mistaken for re-sends.
    assert _remembered(f"event:{acct}:pay-{acct}") is None
    assert _remembered(f"support:outage-{acct}") is None


def test_an_unexpected_temporal_error_is_not_mistaken_for_an_outage() -> None:
    refused = RPCError("namespace not found", RPCStatusCode.NOT_FOUND, b"")
    assert outage_detail(refused) is None
    assert outage_detail(RPCError("oops", RPCStatusCode.UNKNOWN, b"")) is None
    assert outage_detail(RuntimeError("something else")) is None
    dropped = OperationalError("SELECT 1", {}, Exception("database is locked"))
    assert outage_detail(dropped) is not None and "CRM" in (outage_detail(dropped) or "")
