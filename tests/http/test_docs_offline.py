"""/docs works without internet: every script, style and icon it references is served by the app
itself, none from a CDN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest_asyncio

from domain.settings import Settings
from starter.http.app import create_app


class _References(HTMLParser):
    """The URLs a page loads: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest_asyncio.fixture
async def docs_http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # No Temporal needed: the docs pages read nothing but the app's own files.
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as client:
        yield client


async def test_docs_page_loads_only_what_the_app_serves(docs_http: httpx.AsyncClient) -> None:
    response = await docs_http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "http://" not in response.text and "https://" not in response.text
    assert "cdn" not in response.text.lower()
    references = _References()
    references.feed(response.text)
    assert {url.rsplit("/", 1)[-1] for url in references.urls} == {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon.png",
    }
    for url in references.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = await docs_http.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
        kind = asset.headers["content-type"]
        if url.endswith(".js"):
            assert "javascript" in kind, (url, kind)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
        else:
            assert kind.startswith("image/"), (url, kind)
    document = await docs_http.get("/openapi.json")
    assert document.status_code == 200 and document.json()["info"]["title"]
    # FastAPI's own CDN pages are not served.
    assert (await docs_http.get("/redoc")).status_code == 404
