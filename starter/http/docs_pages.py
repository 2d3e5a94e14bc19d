"""/docs (Swagger UI), served offline: the page loads its script, styles and icon from the app
itself (`/docs-assets/`, the files the `fastapi-offline` package ships), never from a CDN, so the
API docs work on a laptop without internet and behind strict egress rules.

No /redoc: ReDoc's page fetches its footer logo from Redocly's CDN whatever it is given."""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/docs-assets"
ASSETS_DIR = files("fastapi_offline") / "static"


def install(app: FastAPI) -> None:
    """Serve /docs and its assets; `app` is created with docs_url=None and redoc_url=None, so
    FastAPI's CDN-based pages are not registered."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            oauth2_redirect_url=None,
            # No online validator badge: it would send the document's URL to swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
