"""CRM activities: account upsert/snapshot, lifecycle stage, timeline, tasks, contracts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from activities import Activities
from crm.database import Store
from crm.tables import RequirementsAnswersRow, TouchpointRow
from domain.models import (
    AccountRef,
    ContactInput,
    ContactRole,
    ContractOutcome,
    ContractOutcomeKind,
    ContractStatus,
    LifecycleStage,
    RequirementsAnswers,
    Segment,
    StageChange,
    TaskCompletion,
    TaskInput,
    TaskPriority,
    TaskStatus,
    TouchpointInput,
    TouchpointKind,
)
from tests.support.cs_support import acme, expect_failure, run, seed_account


def kinds(store: Store) -> list[str]:
    with store.session() as session:
        return [t.kind for t in session.exec(select(TouchpointRow).order_by(col(TouchpointRow.id)))]


async def test_upsert_creates_account_with_derived_segment(store: Store, acts: Activities) -> None:
    snapshot = await seed_account(acts)
    assert snapshot.account.segment == Segment.MID_MARKET  # 48k ARR
    assert snapshot.account.lifecycle_stage == LifecycleStage.TRIAL
    assert [c.id for c in snapshot.contacts] == ["c-champ", "c-exec", "c-optout"]
    assert snapshot.champion is not None and snapshot.champion.id == "c-champ"
    assert snapshot.contract is not None
    assert (snapshot.contract.end_date, snapshot.contract.status) == (
        date(2027, 1, 1),
        ContractStatus.ACTIVE,
    )
    assert kinds(store) == ["note"]


async def test_upsert_updates_in_place_and_keeps_opt_out(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    updated = await run(
        acts.crm.upsert_account,
        acme(
            arr=250_000,
            contacts=[
                ContactInput(
                    id="c-optout",
                    name="Olive Optout",
                    email="olive@acme.example.com",
                    opted_out=False,
                )
            ],
        ),
    )
    assert updated.account.segment == Segment.ENTERPRISE
    assert len(updated.contacts) == 3  # contacts absent from the sync are kept
    olive = next(c for c in updated.contacts if c.id == "c-optout")
    assert olive.opted_out  # a sync never re-subscribes someone
    assert kinds(store) == ["note"]  # "account created" only once
    assert updated.contract is not None and updated.contract.id is not None


async def test_upsert_rejects_contact_of_another_account_and_bad_timezone(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    stolen = [ContactInput(id="c-champ", name="X", email="x@globex.example.com")]
    await expect_failure(
        acts.crm.upsert_account, acme(id="globex", contacts=stolen, contract=None), "InvalidInput"
    )
    error = await expect_failure(
        acts.crm.upsert_account, acme(timezone="Mars/Olympus_Mons"), "InvalidInput"
    )
    assert "timezone" in str(error)


async def test_get_unknown_account(store: Store, acts: Activities) -> None:
    error = await expect_failure(
        acts.crm.get_account, AccountRef(account_id="ghost"), "UnknownAccount"
    )
    assert error.non_retryable


async def test_stage_change_is_recorded_once(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    change = StageChange(account_id="acme", stage=LifecycleStage.ONBOARDING, reason="signed")
    await run(acts.crm.set_lifecycle_stage, change, activity_id="s1")
    await run(acts.crm.set_lifecycle_stage, change, activity_id="s1", attempt=2)  # retry
    await run(acts.crm.set_lifecycle_stage, change)  # re-asserting the same stage

    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    assert snapshot.account.lifecycle_stage == LifecycleStage.ONBOARDING
    assert kinds(store).count("stage_change") == 1
    await expect_failure(
        acts.crm.set_lifecycle_stage,
        StageChange(account_id="ghost", stage=LifecycleStage.ADOPTION),
        "UnknownAccount",
    )


async def test_touchpoint_retry_is_deduplicated(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    entry = TouchpointInput(
        account_id="acme", kind=TouchpointKind.CALL, summary="QBR call", occurred_at=at
    )
    first = await run(acts.crm.append_touchpoint, entry, activity_id="t1")
    retry = await run(acts.crm.append_touchpoint, entry, activity_id="t1", attempt=2)
    other = await run(acts.crm.append_touchpoint, entry, activity_id="t2")

    assert retry == first
    assert other.id != first.id
    assert first.occurred_at == at  # timezone-aware round trip through SQLite
    assert kinds(store).count("call") == 2


async def test_task_lifecycle(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    due = datetime.now(UTC) + timedelta(days=2)
    task_input = TaskInput(
        account_id="acme",
        owner="dana.csm@vendor.example.com",
        title="Call the champion",
        due_at=due,
        priority=TaskPriority.HIGH,
        idempotency_key="onb:stalled:training",
    )
    task = await run(acts.crm.create_csm_task, task_input)
    assert await run(acts.crm.create_csm_task, task_input) == task
    assert task.status == TaskStatus.OPEN and task.due_at == due

    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    assert [t.id for t in snapshot.open_tasks] == [task.id]

    done = await run(acts.crm.complete_csm_task, TaskCompletion(task_id=task.id, outcome="reached"))
    assert (done.status, done.outcome) == (TaskStatus.DONE, "reached")
    assert done.completed_at is not None
    # completing again is a no-op
    assert (
        await run(acts.crm.complete_csm_task, TaskCompletion(task_id=task.id, outcome="x")) == done
    )
    assert (await run(acts.crm.get_account, AccountRef(account_id="acme"))).open_tasks == []
    await expect_failure(acts.crm.complete_csm_task, TaskCompletion(task_id=999), "InvalidInput")


async def test_requirements_recorded_and_replaced(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    answers = RequirementsAnswers(
        account_id="acme",
        reasons_for_purchase="replace spreadsheets",
        intended_use="renewal forecasting",
        previous_tools=["Excel"],
        respondent_contact_id="c-champ",
    )
    await run(acts.crm.record_requirements, answers)
    await run(acts.crm.record_requirements, answers.model_copy(update={"intended_use": "QBR prep"}))
    with store.session() as session:
        [row] = session.exec(select(RequirementsAnswersRow)).all()
    assert row.answers["intended_use"] == "QBR prep"
    assert row.answers["previous_tools"] == ["Excel"]
    assert kinds(store).count("requirements") == 2
    await expect_failure(
        acts.crm.record_requirements,
        answers.model_copy(update={"respondent_contact_id": "x"}),
        "InvalidInput",
    )


async def test_renewal_creates_next_term_idempotently(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    decision = ContractOutcome(
        account_id="acme",
        outcome=ContractOutcomeKind.RENEWED,
        new_end_date=date(2028, 1, 1),
        new_value=60_000,
    )
    renewed = await run(acts.crm.record_contract_outcome, decision)
    again = await run(acts.crm.record_contract_outcome, decision)

    assert again == renewed
    assert (renewed.start_date, renewed.end_date, renewed.value, renewed.status) == (
        date(2027, 1, 1),
        date(2028, 1, 1),
        60_000,
        ContractStatus.ACTIVE,
    )
    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    assert snapshot.contract == renewed
    assert kinds(store).count("contract") == 1
    # a renewal that does not extend the term is a caller error
    await expect_failure(
        acts.crm.record_contract_outcome,
        decision.model_copy(update={"new_end_date": date(2027, 6, 1)}),
        "InvalidInput",
    )


async def test_churn_closes_contract_and_account(store: Store, acts: Activities) -> None:
    await seed_account(acts)
    churn = ContractOutcome(
        account_id="acme", outcome=ContractOutcomeKind.CHURNED, reason="budget cut"
    )
    closed = await run(acts.crm.record_contract_outcome, churn)
    assert closed.status == ContractStatus.CHURNED
    assert await run(acts.crm.record_contract_outcome, churn) == closed
    snapshot = await run(acts.crm.get_account, AccountRef(account_id="acme"))
    assert snapshot.account.lifecycle_stage == LifecycleStage.CHURNED
    renew_after_churn = ContractOutcome(
        account_id="acme", outcome=ContractOutcomeKind.RENEWED, new_end_date=date(2028, 1, 1)
    )
    await expect_failure(acts.crm.record_contract_outcome, renew_after_churn, "InvalidInput")


@pytest.mark.parametrize("role", list(ContactRole))
async def test_champion_falls_back_to_any_reachable_contact(
    store: Store, role: ContactRole, acts: Activities
) -> None:
    contacts = [ContactInput(id="only", name="Only One", email="only@acme.example.com", role=role)]
    snapshot = await seed_account(acts, contacts=contacts)
    assert snapshot.champion is not None and snapshot.champion.id == "only"
