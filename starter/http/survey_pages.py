"""GET/POST /s/{token}: the NPS / CSAT page a customer reaches from a survey email.

GET only shows the form (`?score=N` pre-selects: mail scanners follow links, so a GET must never
record anything). POST records the answer and tells the journey (`survey_answered`) in one
transaction, then redirects to GET, which thanks the customer; a second submission finds the
answer and thanks them again without recording anything.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from domain.models import SurveyKind
from domain.settings import Settings
from domain.survey_scoring import SCORE_RANGES
from starter.http.api_responses import DEPENDENCY_DOWN, INVALID, TOO_LARGE, error
from starter.http.crm_transaction import crm_transaction
from starter.http.customer_pages import customer_page
from starter.http.dependencies import SettingsDep, TemporalDep
from starter.http.journey_delivery import signal_running_journey
from starter.http.limits import RETRY_AFTER_SECONDS, TEMPORAL_RPC_TIMEOUT
from starter.http.openapi_docs import request_body
from starter.http.request_log import note_request
from starter.http.survey_responses import RecordedAnswer, SurveyLink, find_survey, write_answer
from starter.http.temporal_errors import TemporalUnavailable
from workflows.customer_event import CustomerEvent, CustomerEventType
from workflows.workflow_ids import journey_id

router = APIRouter(tags=["survey pages"])
log = structlog.get_logger("csflow.api.surveys")

MAX_COMMENT_CHARS = 5000
_SCALE_LABELS: dict[SurveyKind, dict[int, str]] = {
    SurveyKind.NPS: {0: "Not at all likely", 10: "Extremely likely"},
    SurveyKind.CSAT: {
        1: "Very dissatisfied",
        2: "Dissatisfied",
        3: "Neutral",
        4: "Satisfied",
        5: "Very satisfied",
    },
}
_TOPICS = {
    "escalation": "how we handled your recent support request",
    "onboarding": "your onboarding",
}


def _question(survey: SurveyLink, settings: Settings) -> str:
    if survey.kind == SurveyKind.NPS:
        return f"How likely are you to recommend {settings.product_name} to a friend or colleague?"
    return f"How satisfied are you with {_TOPICS.get(survey.topic, survey.topic)}?"


def _form(
    survey: SurveyLink,
    settings: Settings,
    *,
    status: int = 200,
    selected: int | None = None,
    comment: str = "",
    error: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    low, high = SCORE_RANGES[survey.kind]
    return customer_page(
        "survey_form.html.j2",
        status,
        headers,
        survey=survey,
        question=_question(survey, settings),
        scores=list(range(low, high + 1)),
        labels=_SCALE_LABELS[survey.kind],
        selected=selected,
        comment=comment,
        error=error,
        max_comment=MAX_COMMENT_CHARS,
    )


def _thanks(survey: SurveyLink, answer: RecordedAnswer, *, again: bool) -> HTMLResponse:
    return customer_page("survey_thanks.html.j2", 200, survey=survey, answer=answer, again=again)


def _unavailable(status: int, title: str, message: str) -> HTMLResponse:
    return customer_page("survey_unavailable.html.j2", status, title=title, message=message)


def _parse_score(raw: Any, kind: SurveyKind) -> int | None:
    if not isinstance(raw, str) or not raw.strip().lstrip("-").isdigit():
        return None
    score = int(raw)
    low, high = SCORE_RANGES[kind]
    return score if low <= score <= high else None


async def _load(request: Request, token: str, settings: Settings) -> SurveyLink | HTMLResponse:
    # Real tokens are 32 URL-safe characters; anything else cannot exist, so skip the query.
    survey = await asyncio.to_thread(find_survey, token) if len(token) <= 64 else None
    if survey is None:
        return _unavailable(
            404,
            "We couldn't find this survey",
            "The link may be incomplete. Please open it again from the email we sent you.",
        )
    note_request(request, account_id=survey.account_id, workflow_id=journey_id(survey.account_id))
    if survey.answer is None and survey.expired(settings.survey_ttl):
        return _unavailable(
            410,
            "This survey has closed",
            "Thank you for opening it. The survey is no longer accepting answers, but you can "
            "always reply to any of our emails to tell us what you think.",
        )
    return survey


_HTML = {"text/html": {"schema": {"type": "string"}}}


def _page_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": _HTML}


_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: _page_response("no survey behind this link (an HTML page saying so)"),
    410: _page_response("the survey has closed (an HTML page saying so)"),
    422: INVALID,
}


class SurveyForm(BaseModel):
    score: str = Field(description="the chosen score: 0-10 for NPS, 1-5 for CSAT")
    comment: str = Field(default="", description=f"at most {MAX_COMMENT_CHARS} characters")


@router.get(
    "/s/{token}",
    response_class=HTMLResponse,
    responses={
        **_PAGE_RESPONSES,
        200: _page_response("the survey form, or thanks when it was answered"),
        503: {**DEPENDENCY_DOWN, "description": "the CRM database is unavailable"},
    },
)
async def survey_page(
    request: Request,
    token: str,
    settings: SettingsDep,
    score: str | None = Query(None, description="pre-selects a score (records nothing)"),
) -> Response:
    loaded = await _load(request, token, settings)
    if isinstance(loaded, HTMLResponse):
        return loaded
    if loaded.answer is not None:
        return _thanks(loaded, loaded.answer, again=False)
    return _form(loaded, settings, selected=_parse_score(score, loaded.kind))


@router.post(
    "/s/{token}",
    response_class=HTMLResponse,
    responses={
        **_PAGE_RESPONSES,
        200: _page_response("thanks again: the survey was answered already, nothing recorded"),
        303: {
            "description": "answer recorded: see the thank-you page (GET the same URL)",
            "headers": {"Location": {"required": True, "schema": {"type": "string"}}},
        },
        400: error("the body is not a form that can be parsed"),
        413: TOO_LARGE,
        422: {
            "description": "no valid score, or the comment is too long: the form again, saying "
            "what to fix (HTML)",
            "content": _HTML,
        },
        503: {
            **DEPENDENCY_DOWN,
            "description": "Temporal or the CRM unavailable: the form again with the "
            "customer's choice kept (HTML; JSON when the CRM cannot even be read)",
            "content": _HTML,
        },
    },
    openapi_extra=request_body(
        "application/x-www-form-urlencoded", SurveyForm, "the customer's answer"
    ),
)
async def submit_survey(
    request: Request, token: str, settings: SettingsDep, client: TemporalDep
) -> Response:
    loaded = await _load(request, token, settings)
    if isinstance(loaded, HTMLResponse):
        return loaded
    survey = loaded
    if survey.answer is not None:
        return _thanks(survey, survey.answer, again=True)
    async with request.form(max_files=0, max_fields=10) as form:
        raw_score = form.get("score")
        raw_comment = form.get("comment")
    comment = raw_comment.strip() if isinstance(raw_comment, str) else ""
    score = _parse_score(raw_score, survey.kind)
    low, high = SCORE_RANGES[survey.kind]
    if score is None:
        return _form(
            survey,
            settings,
            status=422,
            comment=comment,
            error=f"Please choose a score from {low} to {high}.",
        )
    if len(comment) > MAX_COMMENT_CHARS:
        return _form(
            survey,
            settings,
            status=422,
            selected=score,
            comment=comment,
            error=f"Please shorten your comment to {MAX_COMMENT_CHARS} characters.",
        )
    event = CustomerEvent(
        account_id=survey.account_id,
        type=CustomerEventType.SURVEY_ANSWERED.value,
        payload={
            "token": survey.token,
            "kind": survey.kind.value,
            "score": score,
            "comment": comment,
        },
        event_id=f"survey:{survey.survey_id}",
    )
    try:
        async with crm_transaction() as tx:

            def record(session: Session) -> RecordedAnswer | None:
                return write_answer(session, survey, score, comment)

            if await tx.run(record) is None:
                return RedirectResponse(request.url.path, status_code=303)
            delivered = await signal_running_journey(client, event, timeout=TEMPORAL_RPC_TIMEOUT)
    except IntegrityError:
        # A simultaneous submission won the unique index; its answer stands.
        return RedirectResponse(request.url.path, status_code=303)
    except TemporalUnavailable:
        # Rolled back: nothing recorded, so the customer can simply send the form again.
        return _form(
            survey,
            settings,
            status=503,
            selected=score,
            comment=comment,
            error="We couldn't save your answer just now. Please try again in a moment.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if delivered is None:
        log.warning("survey answered after the journey ended; recorded in the CRM only")
    # Post/Redirect/Get: reloading the thank-you page never re-submits the form.
    return RedirectResponse(request.url.path, status_code=303)
