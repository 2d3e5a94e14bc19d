"""HTTP API fixtures: the real app over ASGI, the dev server, a real worker and a temp CRM."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities import Activities
from crm import database
from crm.migrate import migrate
from domain.settings import Settings
from starter.http.app import create_app
from starter.worker_process import build_worker, ensure_search_attributes
from tests.support.http_support import (
    API_TOKEN,
    INBOUND_PASSWORD,
    INBOUND_PATH_SECRET,
    INBOUND_USER,
    REPLY_SECRET,
    SUPPORT_SECRET,
    SendGridSigner,
)


@pytest.fixture(scope="session")
def crm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's CRM: the module-level store the API reads, and the activities' store."""
    path = tmp_path_factory.mktemp("http-crm") / "crm.db"
    url = f"sqlite:///{path}"
    migrate(url)
    database.configure(url)
    yield url
    database.reset()


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("http-outbox")


@pytest.fixture(scope="session")
def task_queue() -> str:
    return f"http-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def signer() -> SendGridSigner:
    return SendGridSigner()


@pytest.fixture(scope="session")
def settings(task_queue: str, signer: SendGridSigner, crm_url: str, outbox_dir: Path) -> Settings:
    return Settings(
        api_tokens=(SecretStr("another-token"), SecretStr(API_TOKEN)),
        sendgrid_webhook_public_key=signer.public_key,
        reply_secret=SecretStr(REPLY_SECRET),
        reply_domain="reply.csflow.test",
        inbound_user=SecretStr(INBOUND_USER),
        inbound_password=SecretStr(INBOUND_PASSWORD),
        inbound_path_secret=SecretStr(INBOUND_PATH_SECRET),
        support_webhook_secret=SecretStr(SUPPORT_SECRET),
        task_queue=task_queue,
        database_url=crm_url,
        outbox_dir=outbox_dir,
        # These tests run on the wall clock: quiet hours would make them depend on the time
        # of day (the governor has its own tests on a fixed clock).
        contact_governor=False,
    )


@pytest.fixture(scope="session")
def acts(settings: Settings) -> Activities:
    """The activities on the session's CRM (the per-test store of other suites is not used)."""
    return Activities.build(settings, database.get_store())


@pytest_asyncio.fixture(scope="session")
async def running_worker(
    dev_env: WorkflowEnvironment, acts: Activities, task_queue: str
) -> AsyncIterator[Client]:
    await ensure_search_attributes(dev_env.client)
    async with build_worker(dev_env.client, acts.all(), task_queue=task_queue):
        yield dev_env.client


@pytest.fixture
def app(settings: Settings, running_worker: Client) -> FastAPI:
    return create_app(settings, client=running_worker)


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as client:
        yield client
