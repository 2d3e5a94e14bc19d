"""Recording a survey answer: one function for the survey page and `record_survey_response`.

Both write the same row and the same touchpoint key, so whichever comes second (the journey's
activity after the page, or a re-submitted page) finds the first answer instead of adding one.
"""

from __future__ import annotations

from sqlmodel import Session, select

from crm.tables import SurveyResponseRow, SurveyRow, utcnow
from crm.timeline import record_touchpoint
from domain.models import SurveyKind, TouchpointKind
from domain.survey_scoring import classify
from domain.words import in_words


def first_answer(session: Session, survey_id: int) -> SurveyResponseRow | None:
    return session.exec(
        select(SurveyResponseRow).where(SurveyResponseRow.survey_id == survey_id)
    ).first()


def add_answer(session: Session, survey: SurveyRow, score: int, comment: str) -> SurveyResponseRow:
    """Add the answer and its timeline entry in `session` (the caller checked the score's range
    and that the survey has no answer yet; the unique survey_id index settles a race)."""
    assert survey.id is not None
    kind = SurveyKind(survey.kind)
    category = classify(kind, score)
    row = SurveyResponseRow(
        survey_id=survey.id,
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
        summary=f"{kind.value.upper()} {score} ({in_words(category).lower()})"
        + (f": {comment[:200]}" if comment else ""),
        idempotency_key=f"survey-response:{survey.id}",
        workflow_id=survey.workflow_id,
        details={
            "survey_id": survey.id,
            "contact_id": survey.contact_id,
            "score": score,
            "category": category.value,
        },
    )
    return row
