"""NPS / CSAT surveys: a unique link per survey, one recorded answer per link."""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from activities.context import activity_logger, in_thread
from activities.crm_lookups import require_account, require_contact
from activities.errors import SCORE_OUT_OF_RANGE, UNKNOWN_SURVEY_TOKEN, permanent
from crm.database import Store
from crm.survey_answers import add_answer, first_answer
from crm.tables import SurveyResponseRow, SurveyRow, utcnow
from domain.models import (
    Survey,
    SurveyAnswer,
    SurveyKind,
    SurveyRequest,
    SurveyResponse,
)
from domain.settings import Settings
from domain.survey_scoring import SCORE_RANGES, score_in_range

# 24 random bytes -> 32 URL-safe characters: unguessable, so the link itself authenticates.
TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _survey_with_token(session: Session, token: str) -> SurveyRow:
    survey = session.exec(select(SurveyRow).where(SurveyRow.token == token)).first()
    if survey is None or survey.id is None:
        raise permanent(UNKNOWN_SURVEY_TOKEN, "no survey for this token")
    return survey


def _response_model(survey: SurveyRow, row: SurveyResponseRow) -> SurveyResponse:
    """The answer `row` (every column of it), with its survey's token, account, contact and kind."""
    assert row.id is not None and survey.id is not None
    about = survey.model_dump(include={"token", "account_id", "contact_id", "kind"})
    return SurveyResponse.model_validate({**row.model_dump(), **about})


class SurveyActivities:
    """Survey activities on one store; links point at `CSFLOW_PUBLIC_URL`."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.public_url = settings.public_url.rstrip("/")

    def survey_link(self, token: str) -> str:
        return f"{self.public_url}/s/{token}"

    @activity.defn(name="create_survey")
    async def create_survey(self, input: SurveyRequest) -> Survey:
        """Create a survey with a unique link (same `idempotency_key`: the same survey)."""
        survey = await in_thread(self._create, input)
        activity_logger(account_id=input.account_id).info(
            "survey created", survey_id=survey.survey_id, kind=input.kind.value
        )
        return survey

    @activity.defn(name="record_survey_response")
    async def record_survey_response(self, input: SurveyAnswer) -> SurveyResponse:
        """Record the answer for a survey link once; later submissions return the first."""
        response = await in_thread(self._record, input)
        activity_logger(account_id=response.account_id).info(
            "survey response", survey_id=response.survey_id, category=response.category.value
        )
        return response

    def _by_key(self, key: str) -> Survey | None:
        with self.store.session() as session:
            row = session.exec(select(SurveyRow).where(SurveyRow.idempotency_key == key)).first()
            return row.to_model() if row else None

    def _create(self, request: SurveyRequest) -> Survey:
        existing = self._by_key(request.idempotency_key)
        if existing is not None:
            return existing
        # A token collision is astronomically unlikely, but the unique index decides, not hope.
        for _ in range(3):
            token = new_token()
            try:
                with self.store.session() as session:
                    require_account(session, request.account_id)
                    require_contact(session, request.account_id, request.contact_id)
                    row = SurveyRow(
                        account_id=request.account_id,
                        contact_id=request.contact_id,
                        kind=request.kind.value,
                        topic=request.topic,
                        token=token,
                        link=self.survey_link(token),
                        workflow_id=request.workflow_id,
                        idempotency_key=request.idempotency_key,
                        created_at=utcnow(),
                    )
                    session.add(row)
                    session.flush()
                    return row.to_model()
            except IntegrityError:
                # Either the same request won a race (return its survey) or the token collided.
                existing = self._by_key(request.idempotency_key)
                if existing is not None:
                    return existing
        raise RuntimeError("could not allocate a unique survey token")

    def _existing_response(self, token: str) -> SurveyResponse | None:
        with self.store.session() as session:
            survey = _survey_with_token(session, token)
            assert survey.id is not None
            row = first_answer(session, survey.id)
            return _response_model(survey, row) if row else None

    def _record(self, answer: SurveyAnswer) -> SurveyResponse:
        try:
            with self.store.session() as session:
                survey = _survey_with_token(session, answer.token)
                assert survey.id is not None
                kind = SurveyKind(survey.kind)
                if not score_in_range(kind, answer.score):
                    low, high = SCORE_RANGES[kind]
                    raise permanent(
                        SCORE_OUT_OF_RANGE,
                        f"score: {kind.value} scores are {low}-{high}, got {answer.score}",
                    )
                first = first_answer(session, survey.id)
                if first is not None:
                    return _response_model(survey, first)  # a second submission changes nothing
                row = add_answer(session, survey, answer.score, answer.comment)
                return _response_model(survey, row)
        except IntegrityError:
            # Two submissions raced; the unique survey_id index kept the first one.
            response = self._existing_response(answer.token)
            if response is None:
                raise
            return response
