"""Who gets into the console, over HTTP (the app over ASGI, no browser): off until a console user
exists, signed sessions with their cookie flags, CSRF tokens on every form, failed sign-ins
slowed and locked out in the database, sessions that end with their user or password."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr
from sqlmodel import col, select, update

from activities.crm import CrmActivities
from crm.database import Store
from crm.tables import ConsoleSignInFailureRow, CsmTaskRow, TouchpointRow
from domain.models import AccountUpsert, TaskInput
from domain.settings import Settings
from starter.console import sign_in
from starter.console.users import ConsoleRole, add_user, remove_user
from starter.http.app import create_app

CASEY = "casey@csflow.example"
ROBIN = "robin@csflow.example"
PASSWORD = "casey's passphrase"
SECRET = SecretStr("access-test-secret-" + "y" * 24)


def _app(store: Store) -> FastAPI:
    return create_app(Settings(database_url=store.url, console_secret=SECRET))


Client = Callable[..., httpx.AsyncClient]


@pytest_asyncio.fixture
async def browser(store: Store) -> AsyncIterator[Client]:
    """`browser()` is a new client (its own cookies) on a new app (`app=` to share one)."""
    opened: list[httpx.AsyncClient] = []

    def make(app: FastAPI | None = None, base: str = "http://csflow.test") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app or _app(store))
        client = httpx.AsyncClient(transport=transport, base_url=base)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.aclose()


@pytest.fixture(autouse=True)
def quick_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sign_in, "FAILURE_DELAY_SECONDS", 0.2)


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match[1]


async def _sign_in(
    http: httpx.AsyncClient, password: str = PASSWORD, **form: str
) -> httpx.Response:
    page = await http.get("/console/sign-in")
    assert page.status_code == 200, page.text
    data = {"csrf_token": _token(page.text), "email": CASEY, "password": password, **form}
    return await http.post("/console/sign-in", data=data)


async def test_the_console_is_off_until_someone_can_sign_in(store: Store, browser: Client) -> None:
    http = browser()
    for path in ("/console/today", "/console/sign-in", "/console"):
        off = await http.get(path, follow_redirects=True)
        assert off.status_code == 404, path
        assert "<h1>The console is off</h1>" in off.text
        assert "csflow users add you@example.com --role manager" in off.text
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    on = await http.get("/console/today")
    assert (on.status_code, on.headers["location"]) == (303, "/console/sign-in?next=/console/today")
    assert (await http.get("/console/sign-in")).status_code == 200


async def test_a_session_cookie_is_signed_httponly_lax_and_secure_over_https(
    store: Store, browser: Client
) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    http = browser(base="https://csflow.test")
    signed_in = await _sign_in(http, next="/console/today?csm=x")
    assert (signed_in.status_code, signed_in.headers["location"]) == (
        303,
        "/console/today?csm=x",
    )
    cookie = signed_in.headers["set-cookie"]
    assert cookie.startswith("csflow_console=")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "samesite", "max-age"} <= flags
    assert "SameSite=lax" in cookie and "Path=/console" in cookie
    assert CASEY not in cookie  # signed and encoded, not the address in clear
    assert (await http.get("/console/today")).status_code == 200

    plain = browser()
    over_http = await _sign_in(plain)
    assert "secure" not in over_http.headers["set-cookie"].lower()
    # Behind a TLS proxy that forwards plain HTTP: the public address says HTTPS.
    proxied = browser(
        create_app(
            Settings(database_url=store.url, console_secret=SECRET, public_url="https://cs.example")
        )
    )
    assert "secure" in (await _sign_in(proxied)).headers["set-cookie"].lower()

    # A cookie changed by hand is no session; one signed with another key neither.
    value = http.cookies["csflow_console"]
    forged = browser()
    forged.cookies.set("csflow_console", value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))
    assert (await forged.get("/console/today")).status_code == 303
    elsewhere = browser(
        create_app(
            Settings(database_url=store.url, console_secret=SecretStr("another-key-" + "z" * 30))
        )
    )
    elsewhere.cookies.set("csflow_console", value)
    assert (await elsewhere.get("/console/today")).status_code == 303


async def test_after_sign_in_only_console_pages_are_gone_to(store: Store, browser: Client) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    for target in ("https://evil.example/", "//evil.example/console/", "/v1/tasks", "/console\\x"):
        response = await _sign_in(browser(), next=target)
        assert response.headers["location"] == "/console/today", target


async def test_a_post_without_the_csrf_token_or_with_another_is_refused(
    store: Store, browser: Client
) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    http = browser()
    page = await http.get("/console/sign-in")
    # Signing in without the page's token: 403, and no session.
    for token in (None, "forged", _token(page.text) + "x"):
        form = {"email": CASEY, "password": PASSWORD}
        refused = await http.post(
            "/console/sign-in", data=form if token is None else {**form, "csrf_token": token}
        )
        assert refused.status_code == 403, token
        assert "This form cannot be sent" in refused.text
    assert (await http.get("/console/today")).status_code == 303

    assert (await _sign_in(http)).status_code == 303
    today = await http.get("/console/today")
    assert today.status_code == 200
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": _token(page.text)}):
        refused = await http.post("/console/sign-out", data=data)
        assert refused.status_code == 403, data
    assert (await http.get("/console/today")).status_code == 200  # still signed in
    # The token changed when the session started: the sign-in page's no longer counts.
    signed_out = await http.post("/console/sign-out", data={"csrf_token": _token(today.text)})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/console/sign-in")
    assert (await http.get("/console/today")).status_code == 303


def _failures(store: Store) -> list[ConsoleSignInFailureRow]:
    with store.session() as session:
        return list(session.exec(select(ConsoleSignInFailureRow)).all())


async def test_failed_sign_ins_are_slow_and_lock_the_address_out_across_restarts(
    store: Store, browser: Client
) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    http = browser()
    for attempt in range(5):
        started = time.monotonic()
        wrong = await _sign_in(http, password=f"wrong guess {attempt}")
        assert time.monotonic() - started >= 0.2
        assert wrong.status_code == 401
        assert "That email address and password do not match." in wrong.text
    # The sixth attempt, even with the right password, is refused: the address is locked.
    locked = await _sign_in(http)
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this address. Try again in 15 minutes." in locked.text
    assert len(_failures(store)) == 5  # attempts while locked are not counted

    # Another process (a restart, another replica) reads the same failures.
    restarted = browser()
    assert (await _sign_in(restarted)).status_code == 429
    # An unknown address is answered as a wrong password, and counted the same way.
    unknown = await _sign_in(restarted, email="nobody@csflow.example")
    assert unknown.status_code == 401
    assert "That email address and password do not match." in unknown.text

    # Fifteen minutes later the oldest failures no longer count.
    with store.session() as session:
        session.exec(
            update(ConsoleSignInFailureRow)
            .where(col(ConsoleSignInFailureRow.email) == CASEY)
            .values(failed_at=datetime.now(UTC) - timedelta(minutes=16))
        )
    assert (await _sign_in(restarted)).status_code == 303
    # A sign-in clears the address's failures; the unknown address keeps its own.
    assert [f.email for f in _failures(store)] == ["nobody@csflow.example"]


async def test_a_session_ends_with_its_user_or_their_password(
    store: Store, browser: Client
) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    app = _app(store)
    first, second = browser(app), browser(app)
    assert (await _sign_in(first)).status_code == 303
    assert (await _sign_in(second)).status_code == 303
    add_user(store, CASEY, ConsoleRole.CSM, "a brand new passphrase", replace=True)
    assert (await first.get("/console/today")).status_code == 303
    assert (await _sign_in(first, password="a brand new passphrase")).status_code == 303
    assert (await first.get("/console/today")).status_code == 200
    remove_user(store, CASEY)
    add_user(store, "morgan@csflow.example", ConsoleRole.MANAGER, PASSWORD)
    gone = await first.get("/console/today")
    assert (gone.status_code, gone.headers["location"]) == (
        303,
        "/console/sign-in?next=/console/today",
    )


async def test_task_and_log_forms_need_the_token_and_the_viewers_own_task(
    store: Store, browser: Client
) -> None:
    add_user(store, CASEY, ConsoleRole.CSM, PASSWORD)
    crm = CrmActivities(store)
    crm._upsert(AccountUpsert(id="acme", name="Acme Corp", arr=1000, csm_owner=CASEY, contacts=[]))
    mine = crm.create_task_once(TaskInput(account_id="acme", owner=CASEY, title="Call Acme"))
    robins = crm.create_task_once(TaskInput(account_id="acme", owner=ROBIN, title="Robin's"))
    http = browser()
    await _sign_in(http)

    def forms(task_id: int) -> list[tuple[str, dict[str, str]]]:
        return [
            (f"/console/tasks/{task_id}/complete", {"outcome": "called"}),
            (f"/console/tasks/{task_id}/snooze", {"until": "2099-01-05"}),
            (f"/console/tasks/{task_id}/reassign", {"owner": ROBIN}),
            ("/console/touchpoints", {"account_id": "acme", "kind": "call", "summary": "hi"}),
        ]

    def state() -> list[tuple[str, str, object]]:
        with store.session() as session:
            tasks = session.exec(select(CsmTaskRow).order_by(col(CsmTaskRow.id))).all()
            logged = session.exec(select(TouchpointRow).where(TouchpointRow.kind == "call")).all()
            return [(t.status, t.owner, t.due_at) for t in tasks] + [("calls", "", len(logged))]

    before = state()
    for path, data in forms(mine.id):
        for wrong in ({}, {"csrf_token": "forged"}):
            refused = await http.post(path, data={**data, **wrong})
            assert refused.status_code == 403, (path, wrong)
            assert "This form cannot be sent" in refused.text
    assert state() == before

    token = _token((await http.get("/console/today")).text)
    for path, data in forms(robins.id)[:3]:
        refused = await http.post(path, data={**data, "csrf_token": token})
        assert refused.status_code == 403, path
        assert "Not one of yours" in refused.text
    assert state() == before

    done = await http.post(
        f"/console/tasks/{mine.id}/complete", data={"outcome": "called", "csrf_token": token}
    )
    assert (done.status_code, done.headers["location"]) == (303, "/console/today")
    assert state()[0] == ("done", CASEY, None)
