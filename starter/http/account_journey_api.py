"""GET /v1/accounts/{account_id}/journey: an account's journey status, for backend callers.

The same view as `csflow journey status --json` (starter.api.describe_journey): the journey's
state from its status query, Temporal's execution status, and why it ended if it failed or was
stopped. Bearer-token auth, like POST /v1/events.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path
from temporalio.service import RPCError

from starter.api import JourneyUnanswered, JourneyView, describe_journey
from starter.http.api_responses import INVALID, error, unavailable
from starter.http.bearer_auth import require_api_token
from starter.http.dependencies import TemporalDep
from starter.http.limits import RETRY_AFTER_SECONDS, TEMPORAL_RPC_TIMEOUT
from starter.http.temporal_errors import is_not_found

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get(
    "/accounts/{account_id}/journey",
    response_model=JourneyView,
    dependencies=[Depends(require_api_token)],
    summary="An account's journey status",
    responses={
        401: error("missing or malformed bearer token", WWW_Authenticate='Bearer realm="csflow"'),
        403: error("token not accepted"),
        404: error("the account has no journey"),
        422: INVALID,
        503: unavailable(
            "Temporal unreachable, or no worker answered the status query; retry after Retry-After"
        ),
    },
)
async def account_journey(
    account_id: Annotated[str, Path(min_length=1, max_length=64)], client: TemporalDep
) -> JourneyView:
    """The journey's stage, health, contract, open tasks, escalations, renewals and surveys;
    `workflow_status` is Temporal's (RUNNING, COMPLETED, FAILED, ...) and `failure` says why a
    journey that failed or was stopped ended."""
    try:
        return await describe_journey(client, account_id, rpc_timeout=TEMPORAL_RPC_TIMEOUT)
    except JourneyUnanswered as exc:
        raise HTTPException(
            503,
            f"no worker answered the status query of {exc.workflow_id}; retry later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
    except RPCError as exc:
        if is_not_found(exc):
            raise HTTPException(404, f"account {account_id!r} has no journey") from exc
        raise  # an outage: the dependency-failure middleware answers 503
