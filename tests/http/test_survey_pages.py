"""GET/POST /s/{token}: the survey page records one answer and tells the journey."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import select
from temporalio.client import Client

from activities import Activities
from crm.database import get_store
from crm.tables import SurveyResponseRow, SurveyRow
from domain.models import SurveyKind, SurveyRequest
from tests.support.http_support import start_paid_journey, timeline_kinds


async def _survey(acts: Activities, account_id: str, kind: SurveyKind, key: str) -> str:
    survey = await acts.surveys.create_survey(
        SurveyRequest(
            account_id=account_id,
            contact_id=f"{account_id}-champion",
            kind=kind,
            idempotency_key=key,
            workflow_id=f"journey-{account_id}",
        )
    )
    return survey.token


def _responses(token: str) -> list[SurveyResponseRow]:
    with get_store().session() as session:
        survey = session.exec(select(SurveyRow).where(SurveyRow.token == token)).one()
        return list(
            session.exec(
                select(SurveyResponseRow).where(SurveyResponseRow.survey_id == survey.id)
            ).all()
        )


async def test_nps_answer_is_recorded_once_and_reaches_the_journey(
    http: httpx.AsyncClient, running_worker: Client, acts: Activities
) -> None:
    acct = await start_paid_journey(http, running_worker)
    token = await _survey(acts, acct, SurveyKind.NPS, f"{acct}:nps:1")

    page = await http.get(f"/s/{token}?score=9")
    assert page.status_code == 200
    html = page.text
    assert "<fieldset" in html and "<legend>How likely are you to recommend" in html
    assert len(re.findall(r'type="radio"', html)) == 11  # 0..10
    assert re.search(r'value="9" required checked', html)
    assert '<label class="text" for="comment">' in html
    assert page.headers["cache-control"] == "no-store"

    answer = {"score": "9", "comment": "Great onboarding"}
    posted = await http.post(f"/s/{token}", data=answer)
    assert posted.status_code == 303 and posted.headers["location"] == f"/s/{token}"
    thanks = await http.get(f"/s/{token}")
    assert thanks.status_code == 200 and "Your answer has been recorded" in thanks.text

    again = await http.post(f"/s/{token}", data={"score": "2"})
    assert again.status_code == 200 and "already answered" in again.text
    rows = _responses(token)
    assert [(r.score, r.category, r.comment) for r in rows] == [(9, "promoter", "Great onboarding")]

    async def journey_saw_it() -> bool:
        return "survey_answered" in await timeline_kinds(running_worker, acct)

    for _ in range(100):
        if await journey_saw_it():
            break
        await __import__("asyncio").sleep(0.1)
    entries = await running_worker.get_workflow_handle(f"journey-{acct}").query("timeline")
    answered = [e for e in entries if e["kind"] == "survey_answered"]
    assert len(answered) == 1 and "score=9" in answered[0]["summary"]
    assert "event_failed" not in [e["kind"] for e in entries]


async def test_invalid_scores_re_render_the_form_with_an_error(
    http: httpx.AsyncClient, running_worker: Client, acts: Activities
) -> None:
    acct = await start_paid_journey(http, running_worker)
    token = await _survey(acts, acct, SurveyKind.CSAT, f"{acct}:csat:1")
    page = await http.get(f"/s/{token}")
    assert len(re.findall(r'type="radio"', page.text)) == 5
    assert "Very satisfied" in page.text
    for data in ({}, {"score": "0"}, {"score": "6"}, {"score": "abc"}):
        response = await http.post(f"/s/{token}", data=data, follow_redirects=False)
        assert response.status_code == 422
        assert 'role="alert"' in response.text and "from 1 to 5" in response.text
    long = await http.post(f"/s/{token}", data={"score": "4", "comment": "x" * 5001})
    assert long.status_code == 422 and "shorten your comment" in long.text
    assert _responses(token) == []


async def test_unknown_and_expired_links_get_friendly_pages(
    http: httpx.AsyncClient, running_worker: Client, acts: Activities
) -> None:
    missing = await http.get("/s/not-a-real-token")
    assert missing.status_code == 404 and "find this survey" in missing.text
    assert (await http.post("/s/not-a-real-token", data={"score": "5"})).status_code == 404

    acct = await start_paid_journey(http, running_worker)
    token = await _survey(acts, acct, SurveyKind.NPS, f"{acct}:nps:old")
    with get_store().session() as session:
        row = session.exec(select(SurveyRow).where(SurveyRow.token == token)).one()
        row.created_at = row.created_at - timedelta(days=61)
    expired = await http.get(f"/s/{token}")
    assert expired.status_code == 410 and "has closed" in expired.text
    assert (await http.post(f"/s/{token}", data={"score": "5"})).status_code == 410
    assert _responses(token) == []
