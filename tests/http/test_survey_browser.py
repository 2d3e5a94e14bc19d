"""A customer answers a CSAT survey in headless Chromium, against the app served by uvicorn."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.http_support import (
    start_journey_with_prompt_csat,
    support_headers,
    wait_for_status,
)

pytestmark = needs_chromium


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _csat_token(http: httpx.AsyncClient, client: Client, task_queue: str) -> tuple[str, str]:
    """A real CSAT link: a ticket opened and resolved through the support webhook."""
    acct = await start_journey_with_prompt_csat(client, task_queue)
    for delivery_id, action in (("b-1", "opened"), ("b-2", "resolved")):
        body = json.dumps(
            {
                "delivery_id": delivery_id,
                "action": action,
                "account_id": acct,
                "ticket": {"id": "T-7", "subject": "Login loop on SSO"},
            }
        ).encode()
        response = await http.post(
            "/v1/webhooks/support", content=body, headers=support_headers(body)
        )
        assert response.json()["status"] == "delivered"
    status = await wait_for_status(client, acct, lambda s: any(x.kind == "csat" for x in s.surveys))
    return acct, next(x.token for x in status.surveys if x.kind == "csat")


async def test_customer_answers_csat_in_a_real_browser(
    app: FastAPI, http: httpx.AsyncClient, running_worker: Client, task_queue: str
) -> None:
    from playwright.async_api import async_playwright

    acct, token = await _csat_token(http, running_worker, task_queue)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = await browser.new_page(viewport={"width": 900, "height": 900})
            await page.goto(f"http://127.0.0.1:{port}/s/{token}?score=4")
            assert await page.get_by_role("radio", name="4").is_checked()
            # Keyboard only: arrow keys move the choice within the radio group.
            await page.get_by_role("radio", name="4").focus()
            await page.keyboard.press("ArrowRight")
            assert await page.get_by_role("radio", name="5 Very satisfied").is_checked()
            await page.get_by_label("What is the main reason for your score?").fill(
                "Quick fix, thank you."
            )
            await page.screenshot(path=str(ARTIFACTS / "survey_csat_form.png"), full_page=True)
            await page.get_by_role("button", name="Send my answer").click()
            await page.get_by_role("heading", name="Thank you, Chris Champion!").wait_for()
            assert "Your answer has been recorded." in await page.content()
            await page.screenshot(path=str(ARTIFACTS / "survey_csat_thanks.png"), full_page=True)
            await browser.close()
    finally:
        server.should_exit = True
        await serving

    status = await wait_for_status(
        running_worker, acct, lambda s: any(x.kind == "csat" and x.score for x in s.surveys)
    )
    csat = next(x for x in status.surveys if x.kind == "csat")
    assert (csat.score, csat.category) == (5, "satisfied")
