"""Survey links as the survey page sees them, and recording an answer inside a transaction.

Recording mirrors `record_survey_response` (activities/surveys.py): same row, same category
and the same touchpoint key, so when the journey's activity runs for the `survey_answered`
event it finds this answer and returns it instead of writing a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, select

from crm.database import get_store
from crm.tables import AccountRow, ContactRow, SurveyResponseRow, SurveyRow, utcnow
from crm.timeline import record_touchpoint
from domain.models import SurveyCategory, SurveyKind, TouchpointKind
from domain.survey_scoring import classify


class RecordedAnswer(BaseModel):
    score: int
    category: SurveyCategory
    responded_at: datetime


class SurveyLink(BaseModel):
    survey_id: int
    token: str
    kind: SurveyKind
    topic: str
    account_id: str
    account_name: str
    contact_id: str
    contact_name: str | None
    workflow_id: str | None
    created_at: datetime
    answer: RecordedAnswer | None

    def expired(self, ttl: timedelta, now: datetime | None = None) -> bool:
        return (now or utcnow()) > self.created_at + ttl


def _answer(session: Session, survey_id: int) -> RecordedAnswer | None:
    row = session.exec(
        select(SurveyResponseRow).where(SurveyResponseRow.survey_id == survey_id)
    ).first()
    if row is None:
        return None
    return RecordedAnswer(
        score=row.score, category=SurveyCategory(row.category), responded_at=row.responded_at
    )


def find_survey(token: str) -> SurveyLink | None:
    """The survey behind a link (blocking: run it in a thread); None for an unknown token."""
    with get_store().session() as session:
        survey = session.exec(select(SurveyRow).where(SurveyRow.token == token)).first()
        if survey is None or survey.id is None:
            return None
        account = session.get(AccountRow, survey.account_id)
        contact = session.get(ContactRow, survey.contact_id)
        return SurveyLink(
            survey_id=survey.id,
            token=survey.token,
            kind=SurveyKind(survey.kind),
            topic=survey.topic,
            account_id=survey.account_id,
            account_name=account.name if account else survey.account_id,
            contact_id=survey.contact_id,
            contact_name=contact.name if contact else None,
            workflow_id=survey.workflow_id,
            created_at=survey.created_at,
            answer=_answer(session, survey.id),
        )


def write_answer(
    session: Session, survey: SurveyLink, score: int, comment: str
) -> RecordedAnswer | None:
    """Add the answer in `session` (uncommitted); None when the link was answered meanwhile."""
    if _answer(session, survey.survey_id) is not None:
        return None
    category = classify(survey.kind, score)
    row = SurveyResponseRow(
        survey_id=survey.survey_id,
        score=score,
        comment=comment,
        category=category.value,
        responded_at=utcnow(),
    )
    session.add(row)
    session.flush()
    record_touchpoint(
        session,
        account_id=survey.account_id,
        kind=TouchpointKind.SURVEY_RESPONSE,
        summary=f"{survey.kind.value.upper()} {score} ({category.value})"
        + (f": {comment[:200]}" if comment else ""),
        idempotency_key=f"survey-response:{survey.survey_id}",
        workflow_id=survey.workflow_id,
        details={
            "survey_id": survey.survey_id,
            "contact_id": survey.contact_id,
            "score": score,
            "category": category.value,
        },
    )
    return RecordedAnswer(score=score, category=category, responded_at=row.responded_at)
