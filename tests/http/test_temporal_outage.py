"""Temporal unreachable: 503 with Retry-After and no partial writes; a retry then succeeds."""

from __future__ import annotations

import json
import socket
import uuid

import httpx
from http_support import SendGridSigner, account_body, bearer, new_account_id, wait_for_status
from sqlmodel import select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.crm import upsert_account
from activities.surveys import create_survey
from crm.database import get_store
from crm.tables import ContactRow, SurveyResponseRow
from domain.models import AccountUpsert, LifecycleStage, SurveyKind, SurveyRequest
from starter.http.app import create_app
from starter.http.settings import ApiSettings
from worker import all_activities, build_worker, ensure_search_attributes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers() -> int:
    with get_store().session() as session:
        return len(session.exec(select(SurveyResponseRow)).all())


def _opted_out(contact_id: str) -> bool:
    with get_store().session() as session:
        contact = session.get(ContactRow, contact_id)
        return bool(contact and contact.opted_out)


async def test_unreachable_temporal_gives_503_without_writes_then_retry_succeeds(
    settings: ApiSettings, signer: SendGridSigner, temporal_cli_path: str, crm_url: str
) -> None:
    port = _free_port()
    client = await Client.connect(
        f"127.0.0.1:{port}", data_converter=pydantic_data_converter, lazy=True
    )
    queue = f"outage-{uuid.uuid4().hex[:6]}"
    app = create_app(settings.model_copy(update={"task_queue": queue}), client=client)
    acct = new_account_id()
    await upsert_account(AccountUpsert.model_validate(account_body(acct)))
    survey = await create_survey(
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
            async with build_worker(env.client, all_activities(), task_queue=queue):
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
