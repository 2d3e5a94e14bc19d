"""Schemathesis over the whole API (api_fuzz): no 5xx, every response as documented."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from temporalio.client import Client

from activities import Activities
from domain.models import AccountUpsert, SurveyKind, SurveyRequest, TaskInput
from tests.support.http_support import (
    INBOUND_PATH_SECRET,
    SendGridSigner,
    account_body,
    bearer,
    new_account_id,
    start_paid_journey,
    support_headers,
)

pytest.importorskip("schemathesis", reason="schemathesis is not installed (dev extra)")

from tests.support.api_fuzz import run_fuzz  # noqa: E402  (needs schemathesis)

MAX_EXAMPLES = 50


async def _survey_token(acts: Activities) -> str:
    """A real, unanswered NPS survey link, so valid survey cases reach the form."""
    account_id = new_account_id()
    await acts.crm.upsert_account(AccountUpsert.model_validate(account_body(account_id)))
    survey = await acts.surveys.create_survey(
        SurveyRequest(
            account_id=account_id,
            contact_id=f"{account_id}-champion",
            kind=SurveyKind.NPS,
            idempotency_key=f"fuzz-{account_id}",
        )
    )
    return survey.token


async def test_generated_requests_get_documented_answers_and_no_5xx(
    app: FastAPI,
    http: httpx.AsyncClient,
    signer: SendGridSigner,
    running_worker: Client,
    acts: Activities,
) -> None:
    token = await _survey_token(acts)
    # A journey that runs, so valid status reads get past the lookup.
    account_id = await start_paid_journey(http, running_worker)
    # Tasks of its account, so valid task changes get past the lookup: one to complete, one to
    # snooze and reassign (a completed task is not changed: 409, documented too).
    to_complete, to_change = (
        acts.crm.create_task_once(
            TaskInput(account_id=account_id, owner="csm@csflow.example", title=title)
        )
        for title in ("Fuzzed completion", "Fuzzed snoozes")
    )
    report = await run_fuzz(
        app.openapi(),
        http,
        signer,
        max_examples=MAX_EXAMPLES,
        deadline_seconds=45,
        path_parameters={
            "/v1/webhooks/sendgrid/inbound/{secret}": {"secret": INBOUND_PATH_SECRET},
            "/s/{token}": {"token": token},
            "/v1/accounts/{account_id}/journey": {"account_id": account_id},
            "/v1/tasks/{task_id}/complete": {"task_id": str(to_complete.id)},
            "/v1/tasks/{task_id}/snooze": {"task_id": str(to_change.id)},
            "/v1/tasks/{task_id}/reassign": {"task_id": str(to_change.id)},
        },
    )
    print(report.summary())
    print(report.refusals.most_common(12))
    assert report.examples > 0
    assert not report.failures, "\n\n".join(report.failures[:10])


async def test_lone_surrogates_are_refused_with_422_everywhere(
    http: httpx.AsyncClient, signer: SendGridSigner
) -> None:
    """Valid JSON, invalid Unicode: FastAPI's own 422 handler answered 500 on these (it echoed
    the input into a UTF-8 response), and a SendGrid field carrying one reached the CRM."""
    event = b'{"event_id": "e-1", "account_id": "\\ud800", "type": "trial_started"}'
    response = await http.post(
        "/v1/events", content=event, headers={**bearer(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "account_id"]

    batch = (
        b'[{"email": "a@b.example", "event": "bounce", "timestamp": 1,'
        b' "account_id": "acct-x", "reason": "\\udfff"}]'
    )
    response = await http.post(
        "/v1/webhooks/sendgrid/events", content=batch, headers=signer.headers(batch)
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", 0, "reason"]

    ticket = (
        b'{"delivery_id": "d-s", "action": "opened", "account_id": "a",'
        b' "ticket": {"id": "T", "subject": "\\ud800"}}'
    )
    response = await http.post(
        "/v1/webhooks/support", content=ticket, headers=support_headers(ticket)
    )
    assert response.status_code == 422, response.text
