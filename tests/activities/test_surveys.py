"""Surveys: unique URL-safe tokens, score ranges, one answer per link, classification."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlmodel import select

from activities import Activities
from crm.database import Store
from crm.tables import SurveyResponseRow, TouchpointRow
from domain.models import SurveyAnswer, SurveyCategory, SurveyKind, SurveyRequest
from tests.support.cs_support import expect_failure, run, seed_account


def nps_request(key: str = "nps-q1", **overrides: object) -> SurveyRequest:
    fields: dict[str, object] = {
        "account_id": "acme",
        "contact_id": "c-champ",
        "kind": SurveyKind.NPS,
        "topic": "quarterly",
        "idempotency_key": key,
    }
    fields.update(overrides)
    return SurveyRequest(**fields)  # type: ignore[arg-type]


async def test_tokens_are_unique_url_safe_and_linked(
    store: Store, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(public_url="https://cs.example.com/")
    await seed_account(acts)
    surveys = [await run(acts.surveys.create_survey, nps_request(f"nps-{i}")) for i in range(25)]

    tokens = {s.token for s in surveys}
    assert len(tokens) == 25
    for survey in surveys:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", survey.token)
        assert survey.link == f"https://cs.example.com/s/{survey.token}"


async def test_same_key_returns_the_same_survey(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    first = await run(acts.surveys.create_survey, nps_request())
    again = await run(acts.surveys.create_survey, nps_request())
    assert again == first


async def test_token_collision_is_retried_with_a_fresh_token(
    store: Store, monkeypatch: pytest.MonkeyPatch, acts: Activities
) -> None:
    await seed_account(acts)
    first = await run(acts.surveys.create_survey, nps_request("one"))
    tokens = iter([first.token, "fresh-token-0123456789abcdefghijk"])
    monkeypatch.setattr("activities.surveys.new_token", lambda: next(tokens))
    second = await run(acts.surveys.create_survey, nps_request("two"))
    assert second.token == "fresh-token-0123456789abcdefghijk"
    assert second.survey_id != first.survey_id


async def test_survey_for_unknown_account_or_foreign_contact(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    await seed_account(acts, id="globex", name="Globex", contacts=[], contract=None)
    await expect_failure(
        acts.surveys.create_survey, nps_request(account_id="nobody"), "UnknownAccount"
    )
    await expect_failure(
        acts.surveys.create_survey, nps_request(account_id="globex"), "InvalidInput"
    )


@pytest.mark.parametrize(
    ("kind", "score", "category"),
    [
        (SurveyKind.NPS, 10, SurveyCategory.PROMOTER),
        (SurveyKind.NPS, 9, SurveyCategory.PROMOTER),
        (SurveyKind.NPS, 8, SurveyCategory.PASSIVE),
        (SurveyKind.NPS, 7, SurveyCategory.PASSIVE),
        (SurveyKind.NPS, 6, SurveyCategory.DETRACTOR),
        (SurveyKind.NPS, 0, SurveyCategory.DETRACTOR),
        (SurveyKind.CSAT, 5, SurveyCategory.SATISFIED),
        (SurveyKind.CSAT, 4, SurveyCategory.SATISFIED),
        (SurveyKind.CSAT, 3, SurveyCategory.NEUTRAL),
        (SurveyKind.CSAT, 2, SurveyCategory.DISSATISFIED),
        (SurveyKind.CSAT, 1, SurveyCategory.DISSATISFIED),
    ],
)
async def test_response_classification(
    store: Store, kind: SurveyKind, score: int, category: SurveyCategory, acts: Activities
) -> None:
    await seed_account(acts)
    survey = await run(acts.surveys.create_survey, nps_request(kind=kind))
    response = await run(
        acts.surveys.record_survey_response, SurveyAnswer(token=survey.token, score=score)
    )
    assert response.category == category
    assert (response.survey_id, response.contact_id, response.kind) == (
        survey.survey_id,
        "c-champ",
        kind,
    )


@pytest.mark.parametrize(
    ("kind", "score"),
    [(SurveyKind.NPS, 11), (SurveyKind.NPS, -1), (SurveyKind.CSAT, 0), (SurveyKind.CSAT, 6)],
)
async def test_score_out_of_range_is_non_retryable(
    store: Store, kind: SurveyKind, score: int, acts: Activities
) -> None:
    await seed_account(acts)
    survey = await run(acts.surveys.create_survey, nps_request(kind=kind))
    error = await expect_failure(
        acts.surveys.record_survey_response,
        SurveyAnswer(token=survey.token, score=score),
        "ScoreOutOfRange",
    )
    assert error.non_retryable
    with store.session() as session:
        assert session.exec(select(SurveyResponseRow)).all() == []


async def test_second_response_returns_the_first(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    survey = await run(acts.surveys.create_survey, nps_request())
    first = await run(
        acts.surveys.record_survey_response,
        SurveyAnswer(token=survey.token, score=3, comment="slow support"),
    )
    second = await run(
        acts.surveys.record_survey_response, SurveyAnswer(token=survey.token, score=10)
    )

    assert second == first
    assert (second.score, second.category) == (3, SurveyCategory.DETRACTOR)
    with store.session() as session:
        assert len(session.exec(select(SurveyResponseRow)).all()) == 1
        touchpoints = session.exec(
            select(TouchpointRow).where(TouchpointRow.kind == "survey_response")
        ).all()
    assert len(touchpoints) == 1
    assert "slow support" in touchpoints[0].summary


async def test_unknown_token(store: Store, acts: Activities) -> None:
    error = await expect_failure(
        acts.surveys.record_survey_response,
        SurveyAnswer(token="does-not-exist", score=5),
        "UnknownSurveyToken",
    )
    assert error.non_retryable
