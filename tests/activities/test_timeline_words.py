"""The timeline entries the CRM writes itself (account created, stage changes, health scores,
survey answers, contract outcomes) are stored in words, never with a stored enum value in them:
every reader (the console, the CLI, the reports) shows the summary as it is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import col, select

from activities import Activities
from crm.database import Store
from crm.tables import TouchpointRow
from domain.models import (
    ContractOutcome,
    ContractOutcomeKind,
    HealthInputs,
    LifecycleStage,
    SegmentationMode,
    StageChange,
    SurveyAnswer,
    SurveyKind,
    SurveyRequest,
)
from domain.words import in_words
from tests.support.cs_support import THRIVING, run, seed_account


def summaries(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.exec(select(TouchpointRow).order_by(col(TouchpointRow.id))).all()
    return [(row.kind, row.summary) for row in rows]


async def test_the_crm_writes_its_own_entries_in_words(store: Store, acts: Activities) -> None:
    await seed_account(acts)  # 48k ARR: mid_market
    await run(
        acts.crm.set_lifecycle_stage,
        StageChange(account_id="acme", stage=LifecycleStage.AT_RISK, reason="usage dropped"),
    )
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme"))
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme", **THRIVING))  # type: ignore[arg-type]
    survey = await run(
        acts.surveys.create_survey,
        SurveyRequest(
            account_id="acme",
            contact_id="c-champ",
            kind=SurveyKind.NPS,
            topic="quarterly",
            idempotency_key="nps-q1",
        ),
    )
    await run(
        acts.surveys.record_survey_response,
        SurveyAnswer(token=survey.token, score=9, comment="quick answers"),
    )
    await run(
        acts.crm.record_contract_outcome,
        ContractOutcome(
            account_id="acme",
            outcome=ContractOutcomeKind.AUTO_RENEWED,
            new_end_date=date(2028, 1, 1),
        ),
    )

    written = summaries(store)
    assert written == [
        ("note", "Account created (Mid-market, ARR 48,000)"),
        ("stage_change", "Moved from trial to at risk (usage dropped)"),
        ("health_score", "Health score 42, at risk"),
        ("health_score", "Health score 100, healthy (was 42)"),
        ("survey_response", "NPS 9 (promoter): quick answers"),
        ("contract", "Contract renewed automatically until 2028-01-01"),
    ]
    assert not [summary for _, summary in written if "_" in summary]


async def test_a_churn_and_a_static_segment_move_are_in_words(
    store: Store, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(segmentation=SegmentationMode.STATIC)
    await seed_account(acts, arr=5_000)  # smb
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme", **THRIVING))  # type: ignore[arg-type]
    await seed_account(acts, arr=50_000)  # now mid_market, a static segment key
    await run(acts.health.compute_health_score, HealthInputs(account_id="acme", **THRIVING))  # type: ignore[arg-type]
    await run(
        acts.crm.record_contract_outcome,
        ContractOutcome(
            account_id="acme", outcome=ContractOutcomeKind.CHURNED, reason="budget cut"
        ),
    )

    written = summaries(store)
    assert written[2:] == [
        (
            "health_score",
            "Health score 100, healthy (was 100); segment moved from small business to mid-market",
        ),
        ("contract", "Contract churned: budget cut"),
    ]
    assert not [summary for _, summary in written if "_" in summary]


def test_stored_values_in_words() -> None:
    assert [in_words(v) for v in ("at_risk", "mid_market", "smb", "auto_renewed")] == [
        "At risk",
        "Mid-market",
        "Small business",
        "Renewed automatically",
    ]
    assert in_words(LifecycleStage.ONBOARDING) == "Onboarding"
    assert in_words("customer_success") == "Customer success"
