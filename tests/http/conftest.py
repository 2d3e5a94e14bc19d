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

from activities.email import use_provider
from crm import database
from crm.migrate import migrate
from domain.settings import Settings
from starter.http.app import create_app
from starter.worker_process import all_activities, build_worker, ensure_search_attributes
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
    path = tmp_path_factory.mktemp("http-crm") / "crm.db"
    url = f"sqlite:///{path}"
    migrate(url)
    database.configure(url)
    yield url
    database.reset()


@pytest.fixture(scope="session")
def outbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("http-outbox")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CSFLOW_OUTBOX_DIR", str(directory))
        patch.delenv("SENDGRID_API_KEY", raising=False)
        # These tests run on the wall clock: quiet hours would make them depend on the time
        # of day (the governor has its own tests on a fixed clock).
        patch.setenv("CSFLOW_CONTACT_GOVERNOR", "off")
        use_provider(None)
        yield directory


@pytest.fixture(scope="session")
def task_queue() -> str:
    return f"http-{uuid.uuid4().hex[:8]}"


@pytest_asyncio.fixture(scope="session")
async def running_worker(
    dev_env: WorkflowEnvironment, crm_url: str, outbox_dir: Path, task_queue: str
) -> AsyncIterator[Client]:
    await ensure_search_attributes(dev_env.client)
    async with build_worker(dev_env.client, all_activities(), task_queue=task_queue):
        yield dev_env.client


@pytest.fixture(scope="session")
def signer() -> SendGridSigner:
    return SendGridSigner()


@pytest.fixture(scope="session")
def settings(task_queue: str, signer: SendGridSigner) -> Settings:
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
    )


@pytest.fixture
def app(settings: Settings, running_worker: Client) -> FastAPI:
    return create_app(settings, client=running_worker)


@pytest_asyncio.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as client:
        yield client
