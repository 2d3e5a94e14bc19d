"""Liveness (/healthz: the process answers) and readiness (/readyz: Temporal and the CRM answer)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from crm.database import get_store
from starter.http.api_responses import RETRY_AFTER
from starter.http.dependencies import TemporalDep
from starter.http.limits import READINESS_TIMEOUT, RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _select_one() -> None:
    with get_store().engine.connect() as connection:
        connection.execute(text("SELECT 1"))


async def _check_temporal(client: Client) -> str:
    try:
        await client.workflow_service.get_system_info(
            GetSystemInfoRequest(), retry=False, timeout=READINESS_TIMEOUT
        )
    except Exception as exc:  # any failure means "not ready"; the reason goes to the caller
        return f"unavailable: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


async def _check_database() -> str:
    try:
        await asyncio.wait_for(
            asyncio.to_thread(_select_one), timeout=READINESS_TIMEOUT.total_seconds()
        )
    except Exception as exc:
        return f"unavailable: {type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


class Readiness(BaseModel):
    status: Literal["ready", "unavailable"]
    temporal: str = Field(description='"ok", or "unavailable: <why>"')
    database: str = Field(description='"ok", or "unavailable: <why>"')


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "a dependency is unavailable",
            "headers": RETRY_AFTER,
        }
    },
)
async def readyz(client: TemporalDep) -> JSONResponse:
    temporal, database = await asyncio.gather(_check_temporal(client), _check_database())
    ready = temporal == "ok" and database == "ok"
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "temporal": temporal, "database": database},
        status_code=200 if ready else 503,
        headers=None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
