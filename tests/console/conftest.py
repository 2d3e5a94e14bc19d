"""The console as a CSM or manager uses it: the API app served by uvicorn on a CRM seeded like the
demo's (tests.support.console_seed), a worker with the real activities on `temporal server
start-dev` (a completed task tells its workflow), and headless Chromium (tests.support.browser).
The CRM, server, worker and browser are made once per session; each test gets its own browser
context (its own cookies)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities import Activities
from crm import database
from crm.database import Store
from crm.migrate import migrate
from domain.settings import Settings
from starter.http.app import create_app
from starter.worker_process import build_worker, ensure_search_attributes
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS
from tests.support.console_seed import PASSWORDS, ConsoleData, seed_console_crm
from tests.support.http_support import free_port
from tests.support.pg_schema import throwaway_schema

UI_URL = "http://127.0.0.1:8233"
ACCESSIBILITY_PROBLEMS = """() => {
  const problems = [];
  const say = (what, el) => problems.push(what + ": " + el.outerHTML.slice(0, 120));
  for (const role of ["header", "main", "footer"]) {
    if (document.querySelectorAll(role).length !== 1) problems.push("not one " + role);
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("not one h1");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const named = el.labels.length || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || el.closest("label");
    if (!named) say("field without a label", el);
  }
  for (const table of document.querySelectorAll("table")) {
    if (!table.querySelector("thead th[scope=col]")) say("table without column headers", table);
  }
  for (const svg of document.querySelectorAll("svg")) {
    const ids = (svg.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    if (svg.getAttribute("role") !== "img" || ids.length !== 2
        || !ids.every(id => document.getElementById(id)?.textContent.trim())) {
      say("chart without a title and description", svg);
    }
  }
  for (const control of document.querySelectorAll("a, button, summary")) {
    if (!(control.textContent.trim() || control.getAttribute("aria-label"))) {
      say("control without a name", control);
    }
  }
  const seen = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (seen.has(el.id)) say("id used twice", el);
    seen.add(el.id);
  }
  return problems;
}"""
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The console's CRM: a schema of its own on the PostgreSQL at DATABASE_URL when it names
    one (as CI does), else a SQLite file."""
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith("postgresql"):
        with throwaway_schema(server, "csflow_console") as url:
            migrate(url)
            yield url
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('console-crm') / 'crm.db'}"
    migrate(url)
    yield url


@pytest.fixture(scope="session")
def console_settings(console_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=console_url,
        outbox_dir=tmp_path_factory.mktemp("console-outbox"),
        task_queue=f"console-{uuid.uuid4().hex[:8]}",
        contact_governor=False,
        console_secret=SecretStr("console-test-secret-" + "x" * 24),
        temporal_ui_url=UI_URL,
    )


@pytest.fixture(scope="session")
def console_data(console_url: str, console_settings: Settings) -> ConsoleData:
    store = Store(console_url)
    try:
        return seed_console_crm(store, console_settings)
    finally:
        store.dispose()


@pytest.fixture
def console_crm(console_url: str, console_data: ConsoleData) -> Iterator[Store]:
    """The seeded CRM as the module-level store the app reads (other suites re-point it)."""
    yield database.configure(console_url)
    database.reset()


@pytest_asyncio.fixture(scope="session")
async def console_worker(
    dev_env: WorkflowEnvironment, console_settings: Settings, console_url: str
) -> AsyncIterator[Client]:
    await ensure_search_attributes(dev_env.client)
    acts = Activities.build(console_settings, Store(console_url))
    async with build_worker(dev_env.client, acts.all(), task_queue=console_settings.task_queue):
        yield dev_env.client


@pytest_asyncio.fixture(scope="session")
async def console_server(
    console_settings: Settings, console_worker: Client, console_data: ConsoleData
) -> AsyncIterator[str]:
    """The API app with the console, served on a free port: its base URL."""
    port = free_port()
    app = create_app(console_settings, client=console_worker)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


@pytest_asyncio.fixture(scope="session")
async def chromium() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@dataclass
class Console:
    """A browser context on the console server: `page` signs in and opens pages."""

    base: str
    page: Any

    async def open(self, path: str) -> Any:
        return await self.page.goto(f"{self.base}{path}")

    async def sign_in(self, email: str, password: str | None = None) -> None:
        await self.open("/console/sign-in")
        await self.page.get_by_label("Email address").fill(email)
        await self.page.get_by_label("Password").fill(password or PASSWORDS[email])
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.wait_for_load_state()

    async def shoot(self, name: str) -> Path:
        """A full-page screenshot under tests/artifacts/ (also at phone width: `name`-phone)."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"console_{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path

    async def check_accessible(self) -> None:
        """What a screen reader and a keyboard need from every page: landmarks, one h1, every
        field labelled, tables with headers, charts named and described, named controls, ids
        unique."""
        problems = await self.page.evaluate(ACCESSIBILITY_PROBLEMS)
        assert problems == [], problems

    async def shoot_both(self, name: str) -> None:
        """Screenshots at desktop and at 390 px width, back at desktop afterwards (after
        checking the page's accessibility)."""
        await self.check_accessible()
        await self.shoot(name)
        await self.page.set_viewport_size(PHONE)
        await self.shoot(f"{name}_phone")
        # The page fits the phone: nothing wider than the viewport but scrollable tables.
        overflow = await self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: {overflow}px wider than a 390 px screen"
        await self.page.set_viewport_size(DESKTOP)


@pytest_asyncio.fixture
async def console(chromium: Any, console_server: str, console_crm: Store) -> AsyncIterator[Console]:
    context = await chromium.new_context(viewport=DESKTOP)
    try:
        yield Console(console_server, await context.new_page())
    finally:
        await context.close()
