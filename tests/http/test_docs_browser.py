"""/docs renders in headless Chromium with every request off this machine refused: the API's
documentation needs no internet."""

from __future__ import annotations

import asyncio
import socket

import uvicorn

from domain.settings import Settings
from starter.http.app import create_app
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium

pytestmark = needs_chromium


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_docs_render_offline(settings: Settings) -> None:
    from playwright.async_api import Route, async_playwright

    port = _free_port()
    origin = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    serving = asyncio.create_task(server.serve())
    refused: list[str] = []

    async def only_the_app(route: Route) -> None:
        if route.request.url.startswith(origin + "/") or route.request.url.startswith("data:"):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    ARTIFACTS.mkdir(exist_ok=True)
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = await browser.new_context(viewport={"width": 1200, "height": 900})
            await context.route("**/*", only_the_app)
            browser_page = await context.new_page()
            await browser_page.goto(origin + "/docs")
            # Swagger UI rendered the document: the operations are listed.
            operation = "[data-path='/v1/accounts/{account_id}/journey']"
            await browser_page.locator(operation).first.wait_for(timeout=20_000)
            await browser_page.get_by_text("csflow customer actions API").first.wait_for()
            await browser_page.screenshot(path=str(ARTIFACTS / "api_docs_offline.png"))
            await browser.close()
    finally:
        server.should_exit = True
        await serving
    assert refused == []
