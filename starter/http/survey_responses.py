"""Survey links as the survey page sees them, and recording an answer inside a transaction.

Recording is `crm.survey_answers.add_answer`, as in `record_survey_response`: when the journey's
activity runs for the `survey_answered` event it finds this answer instead of writing a second.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import Session, select

from crm.database import get_store
from crm.survey_answers import add_answer, first_answer
from crm.tables import AccountRow, ContactRow, SurveyRow, utcnow
from domain.models import SurveyCategory, SurveyKind


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
    row = first_answer(session, survey_id)
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
    row = session.get(SurveyRow, survey.survey_id)
    assert row is not None, "the survey was found when the page loaded"
    answer = add_answer(session, row, score, comment)
    return RecordedAnswer(
        score=answer.score,
        category=SurveyCategory(answer.category),
        responded_at=answer.responded_at,
    )
