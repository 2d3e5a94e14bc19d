"""Inbound Parse: only SendGrid (holding the URL's credentials) may post; matching costs one
HMAC per token, at most MAX_TOKENS_PER_MESSAGE tokens per message, whatever the account count."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.client import Client

from domain.reply_address import reply_address
from domain.settings import Settings, SettingsError
from starter.http import reply_tokens
from starter.http.app import create_app
from starter.http.reply_tokens import MAX_TOKENS_PER_MESSAGE
from starter.http.request_log import loggable_path
from tests.support.http_support import (
    INBOUND_AUTH,
    INBOUND_PATH_SECRET,
    REPLY_SECRET,
    start_paid_journey,
    wait_for_status,
)

INBOUND = "/v1/webhooks/sendgrid/inbound"
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _forged(n: int) -> list[str]:
    return [
        "reply+" + "".join(secrets.choice(BASE32) for _ in range(24)) + "@x.io" for _ in range(n)
    ]


def _reply(account_id: str, to: str, message_id: str) -> dict[str, str]:
    return {
        "to": to,
        "from": f"Chris Champion <champion@{account_id}.example>",
        "subject": "Re: Renewal\r\n\tfolded",
        "text": "Sounds good.\x0c\x00",
        "headers": f"Message-ID: <{message_id}@{account_id}.example>\n",
    }


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize(
    ("path", "headers", "detail"),
    [
        (INBOUND, {}, "credentials required"),
        (INBOUND, _basic("sendgrid", "wrong"), "not accepted"),
        (INBOUND, _basic("someone", INBOUND_AUTH[1]), "not accepted"),
        (INBOUND, {"Authorization": "Basic %%%"}, "required"),
        (INBOUND, {"Authorization": "Bearer x"}, "required"),
        (f"{INBOUND}/not-the-secret", {}, "not accepted"),
    ],
)
async def test_requests_without_valid_credentials_get_401_and_cost_nothing(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], detail: str
) -> None:
    # A body that would take long to match if anything looked at it.
    form = {"to": ", ".join(_forged(4000))}
    response = await http.post(path, data=form, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Basic")
    assert detail in response.json()["detail"]


async def test_either_credential_is_accepted(
    http: httpx.AsyncClient, running_worker: Client
) -> None:
    acct = await start_paid_journey(http, running_worker)
    address = reply_address(acct, REPLY_SECRET, "reply.csflow.test")
    by_basic = await http.post(INBOUND, data=_reply(acct, address, "m-1"), auth=INBOUND_AUTH)
    assert by_basic.status_code == 200, by_basic.text
    assert by_basic.json()["status"] == "delivered"
    by_path = await http.post(f"{INBOUND}/{INBOUND_PATH_SECRET}", data=_reply(acct, address, "m-2"))
    assert by_path.status_code == 200, by_path.text
    assert by_path.json()["status"] == "delivered"
    status = await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 3)
    assert status.events_processed == 3  # the payment and two replies
    # Control characters a journey refuses were cleaned, not passed on to be rejected there.
    entries = await running_worker.get_workflow_handle(f"journey-{acct}").query("timeline")
    assert [e["kind"] for e in entries].count("email_replied") == 2


async def test_without_configured_credentials_the_endpoint_refuses_everyone(
    settings: Settings, running_worker: Client
) -> None:
    bare = settings.model_copy(
        update={"inbound_user": None, "inbound_password": None, "inbound_path_secret": None}
    )
    app = create_app(bare, client=running_worker)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        for path, auth in [(INBOUND, INBOUND_AUTH), (f"{INBOUND}/{INBOUND_PATH_SECRET}", None)]:
            response = await http.post(path, data={"to": "x@y.example"}, auth=auth)
            assert response.status_code == 503, response.text
            assert "CSFLOW_INBOUND_PATH_SECRET" in response.json()["detail"]


async def test_many_tokens_cost_one_hmac_each_and_only_the_first_twenty_count(
    app: FastAPI,
    http: httpx.AsyncClient,
    running_worker: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    acct = await start_paid_journey(http, running_worker)
    address = reply_address(acct, REPLY_SECRET, "reply.csflow.test")
    forged = _forged(5000)
    # Warm the index (it computes each account's token once: that is its whole point).
    warm = await http.post(INBOUND, data={"to": forged[0]}, auth=INBOUND_AUTH)
    assert warm.json()["status"] == "ignored"

    hmacs: list[str] = []
    real = reply_tokens.reply_token

    def counting(account_id: str, secret: str) -> str:
        hmacs.append(account_id)
        return real(account_id, secret)

    monkeypatch.setattr(reply_tokens, "reply_token", counting)

    def message(to: list[str], n: int) -> dict[str, str]:
        return _reply(acct, " ".join(to), f"many-{n}")

    # 5,000 forged tokens: not one HMAC (none is in the index), one cheap refresh.
    response = await http.post(INBOUND, data=message(forged, 1), auth=INBOUND_AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ignored"
    assert hmacs == []

    # The real token third among 5,000: found, with one HMAC.
    to = [*forged[:2], address, *forged[2:]]
    assert len(" ".join(to)) > 150_000
    response = await http.post(INBOUND, data=message(to, 2), auth=INBOUND_AUTH)
    assert response.json()["status"] == "delivered", response.text
    assert hmacs == [acct]

    # Past the cap: the message names too many addresses to be a reply; nothing is delivered.
    late = [*forged[:MAX_TOKENS_PER_MESSAGE], address]
    response = await http.post(INBOUND, data=message(late, 3), auth=INBOUND_AUTH)
    assert response.json()["status"] == "ignored"
    await wait_for_status(running_worker, acct, lambda s: s.events_processed >= 2)


async def test_odd_envelopes_are_acknowledged_not_a_500(http: httpx.AsyncClient) -> None:
    for envelope in ["[" * 20_000 + "]" * 20_000, "not json", '{"to": "a string"}', "[]"]:
        form: dict[str, Any] = {"to": "someone@example.com", "envelope": envelope}
        response = await http.post(INBOUND, data=form, auth=INBOUND_AUTH)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ignored"


def test_inbound_settings_are_checked_and_the_path_secret_never_logged() -> None:
    with pytest.raises(SettingsError, match="CSFLOW_INBOUND_PASSWORD"):
        Settings.from_env({"CSFLOW_INBOUND_USER": "sendgrid"})
    with pytest.raises(SettingsError, match="at least 24"):
        Settings.from_env({"CSFLOW_INBOUND_PATH_SECRET": "short"})
    with pytest.raises(SettingsError, match="URL-safe"):
        Settings.from_env({"CSFLOW_INBOUND_PATH_SECRET": "a/b" * 10})
    settings = Settings.from_env(
        {"CSFLOW_INBOUND_USER": "sg", "CSFLOW_INBOUND_PASSWORD": "pw", "CSFLOW_REPLY_SECRET": "r"}
    )
    assert settings.inbound_password == SecretStr("pw")
    assert loggable_path(f"{INBOUND}/{INBOUND_PATH_SECRET}") == f"{INBOUND}/<secret>"
    assert loggable_path("/v1/events") == "/v1/events"
