"""The access log: one line per request, and no credential that travels in a path."""

from __future__ import annotations

import httpx
from structlog.testing import capture_logs

TOKEN = "tok-ABCdef0123456789abcdef0123"


async def test_customer_tokens_in_paths_never_reach_the_access_log(
    http: httpx.AsyncClient,
) -> None:
    with capture_logs() as logs:
        await http.get(f"/s/{TOKEN}?score=9")
        await http.post(f"/s/{TOKEN}", data={"score": "9"})
        await http.get(f"/v1/unsubscribe/{TOKEN}")
        await http.post(f"/v1/unsubscribe/{TOKEN}")
        await http.get("/healthz")

    paths = [line["path"] for line in logs if line["event"] == "request"]
    assert paths == [
        "/s/<secret>",
        "/s/<secret>",
        "/v1/unsubscribe/<secret>",
        "/v1/unsubscribe/<secret>",
        "/healthz",
    ]
    assert not [line for line in logs if TOKEN in repr(line)]
