"""GET /v1/accounts/{id}/journey: the journey's status for backend callers (bearer token)."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from domain.models import AccountUpsert, Segment
from domain.segments import default_config
from starter.api import start_journey
from tests.support.http_support import account_body, bearer, new_account_id, start_paid_journey
from workflows.customer_event import CustomerEvent
from workflows.journey_state import JourneyInput


async def test_a_running_journey_reads_as_json(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    account_id = await start_paid_journey(http, running_worker)
    response = await http.get(f"/v1/accounts/{account_id}/journey", headers=bearer())
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["account_id"] == account_id
    assert view["workflow_id"] == f"journey-{account_id}"
    assert (view["workflow_status"], view["failure"]) == ("RUNNING", None)
    assert view["stage"] == "requirements"
    assert [v["stage"] for v in view["stages"]] == ["trial", "requirements"]


async def test_a_failed_journey_says_why(
    http: httpx.AsyncClient, running_worker: Client, task_queue: str
) -> None:
    account_id = new_account_id()
    # A playbook setting no playbook has: the journey refuses it on its first run (fails).
    config = default_config(Segment.SMB).model_copy(
        update={"playbooks": {"usage": {"drop_treshold": 0.3}}}
    )
    handle = await start_journey(
        running_worker,
        JourneyInput(account=AccountUpsert.model_validate(account_body(account_id)), config=config),
        CustomerEvent(account_id=account_id, type="payment_received"),
        task_queue=task_queue,
    )
    for _ in range(100):
        if (await handle.describe()).status == WorkflowExecutionStatus.FAILED:
            break
        await asyncio.sleep(0.1)
    response = await http.get(f"/v1/accounts/{account_id}/journey", headers=bearer())
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["workflow_status"] == "FAILED"
    assert view["failure"].startswith("invalid journey input: playbooks.usage: drop_treshold")
    assert view["closed_at"] is not None
    assert view["account_name"] == account_body(account_id)["name"]


async def test_unknown_accounts_and_callers(http: httpx.AsyncClient) -> None:
    missing = await http.get("/v1/accounts/nobody-here/journey", headers=bearer())
    assert missing.status_code == 404
    assert missing.json() == {"detail": "account 'nobody-here' has no journey"}

    anonymous = await http.get("/v1/accounts/nobody-here/journey")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="csflow"'
    wrong = await http.get("/v1/accounts/nobody-here/journey", headers=bearer("not-a-token"))
    assert wrong.status_code == 403
    too_long = await http.get(f"/v1/accounts/{'x' * 65}/journey", headers=bearer())
    assert too_long.status_code == 422
