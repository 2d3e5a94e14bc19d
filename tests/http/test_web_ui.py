"""An account's journey and its stage children, listed by Temporal's Web UI under `CustomerId`.

A dev server of its own, started with the Web UI (the session's `dev_env` runs without it), a
real worker, the real API over ASGI; headless Chromium opens the workflow list at the
`CustomerId = "<account>"` query and a screenshot lands in tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest_asyncio
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities import Activities
from domain.models import LifecycleStage
from domain.settings import Settings
from starter.http.app import create_app
from starter.task_api import complete_task, list_tasks
from starter.worker_process import build_worker
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.http_support import account_body, bearer, new_account_id, wait_for_status
from workflows.search_attributes import ALL_KEYS

# Visibility is eventually consistent: the Web UI may need a few refreshes to list everything.
UI_TIMEOUT = 30.0

pytestmark = needs_chromium


@dataclass(frozen=True)
class UiServer:
    env: WorkflowEnvironment
    ui_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_until_serving(url: str) -> None:
    """The SDK returns once the frontend answers gRPC; the UI's HTTP server may lag behind."""
    deadline = asyncio.get_running_loop().time() + UI_TIMEOUT
    async with httpx.AsyncClient(timeout=2.0) as web:
        while True:
            try:
                if (await web.get(f"{url}/api/v1/settings")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the Web UI at {url} never answered")
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture
async def ui_server(temporal_cli_path: str) -> AsyncIterator[UiServer]:
    """`temporal server start-dev` with the Web UI, csflow's search attributes registered."""
    ui_port = _free_port()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path,
        data_converter=pydantic_data_converter,
        search_attributes=ALL_KEYS,
        ui=True,
        ui_port=ui_port,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=30),
    )
    try:
        ui_url = f"http://127.0.0.1:{ui_port}"
        await _wait_until_serving(ui_url)
        yield UiServer(env=env, ui_url=ui_url)
    finally:
        await env.shutdown()


async def _wait_for_child(client: Client, workflow_id: str) -> None:
    deadline = asyncio.get_running_loop().time() + 15.0
    while True:
        try:
            await client.get_workflow_handle(workflow_id).describe()
            return
        except RPCError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


async def _ui_api_ids(ui_url: str, query: str, expected: set[str]) -> set[str]:
    """Workflow ids the Web UI's own JSON API lists for `query`, once all `expected` show."""
    deadline = asyncio.get_running_loop().time() + UI_TIMEOUT
    async with httpx.AsyncClient(base_url=ui_url, timeout=5.0) as web:
        while True:
            response = await web.get(
                "/api/v1/namespaces/default/workflows", params={"query": query}
            )
            # Under load the UI's backend connection can lag its own settings endpoint.
            if response.status_code == 503 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.25)
                continue
            assert response.status_code == 200, response.text
            ids = {e["execution"]["workflowId"] for e in response.json().get("executions", [])}
            if expected <= ids or asyncio.get_running_loop().time() > deadline:
                return ids
            await asyncio.sleep(0.25)


async def _terminate_family(client: Client, query: str) -> None:
    """The journey first (its stage children follow), then anything it abandoned."""
    for workflow in [w async for w in client.list_workflows(query)]:
        if workflow.status != WorkflowExecutionStatus.RUNNING:
            continue
        try:
            await client.get_workflow_handle(workflow.id).terminate("test cleanup")
        except RPCError:
            pass  # already closed, e.g. a stage child terminated with its journey


async def _complete_sales_handover(client: Client, acts: Activities, account_id: str) -> None:
    for _ in range(100):
        tasks = await list_tasks(account_id=account_id, store=acts.crm.store)
        handover = [t for t in tasks if t.title.startswith("Sales handover notes")]
        if handover:
            await complete_task(
                client,
                handover[0].id,
                "deal notes shared",
                by="sam.sales@example.com",
                store=acts.crm.store,
            )
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no Sales handover task")


async def test_web_ui_lists_the_journey_and_its_stage_children_by_customer_id(
    ui_server: UiServer, settings: Settings, crm_url: str, outbox_dir: Path, acts: Activities
) -> None:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import async_playwright

    client = ui_server.env.client
    acct = new_account_id()
    journey_id, requirements_id = f"journey-{acct}", f"requirements-{acct}"
    query = f'CustomerId = "{acct}"'
    async with build_worker(client, acts.all(), task_queue=settings.task_queue):
        try:
            app = create_app(settings, client=client)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as api:
                body = {
                    "event_id": f"billing-{acct}",
                    "account_id": acct,
                    "type": "payment_received",
                    "account": account_body(acct),
                }
                response = await api.post("/v1/events", json=body, headers=bearer())
                assert response.status_code == 202, response.text
                assert response.json()["workflow_id"] == journey_id
            await wait_for_status(client, acct, lambda s: s.stage == LifecycleStage.REQUIREMENTS)
            # Requirements gathering waits for Sales' handover (the process map): Sales hands over.
            await _complete_sales_handover(client, acts, acct)
            await _wait_for_child(client, requirements_id)

            # The Web UI's JSON API (what its pages fetch) lists the account's family.
            family = {journey_id, requirements_id, f"process-map-{acct}"}
            api_ids = await _ui_api_ids(ui_server.ui_url, query, family)
            assert family <= api_ids, api_ids

            ARTIFACTS.mkdir(exist_ok=True)
            page_url = f"{ui_server.ui_url}/namespaces/default/workflows?query={quote(query)}"
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    page = await browser.new_page(viewport={"width": 1920, "height": 900})
                    # Each row links its workflow id to the execution's page.
                    rows = [
                        page.get_by_role("link", name=i, exact=True)
                        for i in (journey_id, requirements_id)
                    ]
                    await page.goto(page_url)
                    deadline = asyncio.get_running_loop().time() + UI_TIMEOUT
                    while True:
                        try:
                            for row in rows:
                                await row.first.wait_for(state="visible", timeout=3_000)
                            break
                        except PlaywrightTimeout:
                            if asyncio.get_running_loop().time() > deadline:
                                raise
                            await page.reload()
                    await page.screenshot(
                        path=str(ARTIFACTS / "web-ui-customer-family.png"), full_page=True
                    )
                    text = await page.locator("body").inner_text()
                finally:
                    await browser.close()
            assert journey_id in text and requirements_id in text, text
        finally:
            await _terminate_family(client, query)
