"""Helpers for the HTTP API tests: accounts, signing like SendGrid and the support desk, polling."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from temporalio.client import Client

from starter.api import journey_status
from workflows.journey_state import JourneyStatus

API_TOKEN = "test-api-token-7f3a"
SUPPORT_SECRET = "test-support-secret"
REPLY_SECRET = "test-reply-secret"
INBOUND_USER = "sendgrid"
INBOUND_PASSWORD = "test-inbound-password"
INBOUND_PATH_SECRET = "test-inbound-path-secret-0123456789"
INBOUND_AUTH = (INBOUND_USER, INBOUND_PASSWORD)


def new_account_id() -> str:
    return f"acct-{uuid.uuid4().hex[:10]}"


def account_body(account_id: str) -> dict[str, Any]:
    return {
        "id": account_id,
        "name": f"Account {account_id}",
        "arr": 12_000,
        "csm_owner": "csm@csflow.example",
        "contacts": [
            {
                "id": f"{account_id}-champion",
                "name": "Chris Champion",
                "email": f"champion@{account_id}.example",
                "role": "champion",
            },
            {
                "id": f"{account_id}-dm",
                "name": "Dana Decider",
                "email": f"dm@{account_id}.example",
                "role": "decision_maker",
            },
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bearer(token: str = API_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class SendGridSigner:
    """Signs Event Webhook bodies the way SendGrid does: ECDSA P-256 over timestamp + body."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = self._key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        }


def support_headers(
    body: bytes, secret: str = SUPPORT_SECRET, timestamp: int | str | None = None
) -> dict[str, str]:
    """Signed like the support desk: HMAC-SHA256 over "<timestamp>." + body."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Signature": f"sha256={digest}",
        "X-Signature-Timestamp": stamp,
    }


async def wait_for_status(
    client: Client,
    account_id: str,
    predicate: Callable[[JourneyStatus], bool],
    timeout: float = 15.0,
) -> JourneyStatus:
    """Poll the journey's status query until `predicate` holds (real time: the dev server)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: JourneyStatus | None = None
    while True:
        try:
            last = await journey_status(client, account_id)
            if predicate(last):
                return last
        except Exception:  # not started yet / first workflow task still running
            if asyncio.get_running_loop().time() > deadline:
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"journey of {account_id} never reached the state: {last}")
        await asyncio.sleep(0.1)


async def start_paid_journey(http: Any, client: Client) -> str:
    """A new account whose journey runs (requirements stage), started through the API."""
    from domain.models import LifecycleStage

    account_id = new_account_id()
    body = {
        "event_id": f"billing-{account_id}",
        "account_id": account_id,
        "type": "payment_received",
        "account": account_body(account_id),
    }
    response = await http.post("/v1/events", json=body, headers=bearer())
    assert response.status_code == 202, response.text
    await wait_for_status(client, account_id, lambda s: s.stage == LifecycleStage.REQUIREMENTS)
    return account_id


async def signals_in_history(client: Client, workflow_id: str) -> int:
    from temporalio.api.enums.v1 import EventType

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    signalled = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    return sum(1 for e in history.events if e.event_type == signalled)


async def timeline_kinds(client: Client, account_id: str) -> list[str]:
    entries = await client.get_workflow_handle(f"journey-{account_id}").query("timeline")
    return [e["kind"] for e in entries]


async def start_journey_with_prompt_csat(client: Client, task_queue: str) -> str:
    """A journey whose support playbook sends the follow-up CSAT a second after resolution
    (the default waits a day, which a real-time test cannot)."""
    from domain.models import AccountUpsert, LifecycleStage, Segment
    from domain.segments import default_config
    from starter.api import start_journey
    from workflows.customer_event import CustomerEvent
    from workflows.journey_state import JourneyInput

    account_id = new_account_id()
    config = default_config(Segment.SMB).model_copy(
        update={"playbooks": {"support": {"csat_delay": "PT1S"}}}
    )
    await start_journey(
        client,
        JourneyInput(account=AccountUpsert.model_validate(account_body(account_id)), config=config),
        CustomerEvent(account_id=account_id, type="payment_received"),
        task_queue=task_queue,
    )
    await wait_for_status(client, account_id, lambda s: s.stage == LifecycleStage.REQUIREMENTS)
    return account_id
