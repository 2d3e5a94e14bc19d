"""CRM activities: accounts, contacts, contracts, lifecycle stage, timeline and CSM tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from temporalio import activity

from activities.context import activity_logger, attempt_key, in_thread
from activities.crm_lookups import current_contract, require_account, require_contact, snapshot
from activities.errors import INVALID_INPUT, permanent
from crm.database import Store
from crm.tables import (
    AccountRow,
    ContactRow,
    ContractRow,
    CsmTaskRow,
    RequirementsAnswersRow,
    utcnow,
)
from crm.timeline import record_task_touchpoint, record_touchpoint
from domain.models import (
    AccountRef,
    AccountSnapshot,
    AccountUpsert,
    Contract,
    ContractOutcome,
    ContractOutcomeKind,
    ContractStatus,
    CsmTask,
    LifecycleStage,
    RequirementsAnswers,
    StageChange,
    TaskCompletion,
    TaskInput,
    TaskStatus,
    Touchpoint,
    TouchpointInput,
    TouchpointKind,
)
from domain.words import in_words


def _check_timezone(name: str | None) -> None:
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise permanent(INVALID_INPUT, f"timezone: unknown IANA timezone {name!r}") from err


def _aware(value: datetime | None, field_name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise permanent(INVALID_INPUT, f"{field_name}: must be timezone-aware")
    return value


def _task_with_key(session: Session, key: str | None) -> CsmTaskRow | None:
    if key is None:
        return None  # outside an activity nothing is deduplicated
    return session.exec(select(CsmTaskRow).where(CsmTaskRow.idempotency_key == key)).first()


class CrmActivities:
    """The CRM activities, on one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _upsert(self, data: AccountUpsert) -> AccountSnapshot:
        _check_timezone(data.timezone)
        for contact_input in data.contacts:
            _check_timezone(contact_input.timezone)
        now = utcnow()
        with self.store.session() as session:
            account = session.get(AccountRow, data.id)
            created = account is None
            if account is None:
                account = AccountRow(
                    id=data.id,
                    name=data.name,
                    arr=data.arr,
                    plan=data.plan,
                    segment=data.effective_segment.value,
                    lifecycle_stage=(data.lifecycle_stage or LifecycleStage.TRIAL).value,
                    csm_owner=data.csm_owner,
                    timezone=data.timezone,
                    created_at=now,
                    updated_at=now,
                )
                session.add(account)
            else:
                account.name = data.name
                account.arr = data.arr
                account.plan = data.plan
                account.segment = data.effective_segment.value
                if data.lifecycle_stage is not None:
                    account.lifecycle_stage = data.lifecycle_stage.value
                account.csm_owner = data.csm_owner
                account.timezone = data.timezone
                account.updated_at = now
            session.flush()

            for item in data.contacts:
                contact = session.get(ContactRow, item.id)
                if contact is not None and contact.account_id != data.id:
                    raise permanent(
                        INVALID_INPUT,
                        f"contacts: contact {item.id!r} belongs to account {contact.account_id!r}",
                    )
                if contact is None:
                    contact = ContactRow(
                        id=item.id,
                        account_id=data.id,
                        name=item.name,
                        email=item.email,
                        role=item.role.value,
                    )
                    session.add(contact)
                contact.name = item.name
                contact.email = item.email
                contact.role = item.role.value
                contact.timezone = item.timezone
                # An opt-out is sticky: a CRM sync must never re-subscribe someone who opted out.
                contact.opted_out = contact.opted_out or item.opted_out

            if data.contract is not None:
                contract = current_contract(session, data.id)
                if contract is None or contract.status != ContractStatus.ACTIVE.value:
                    contract = ContractRow(
                        account_id=data.id,
                        start_date=data.contract.start_date,
                        end_date=data.contract.end_date,
                        value=data.contract.value,
                        status=ContractStatus.ACTIVE.value,
                        created_at=now,
                    )
                    session.add(contract)
                contract.start_date = data.contract.start_date
                contract.end_date = data.contract.end_date
                contract.value = data.contract.value
                contract.auto_renew = data.contract.auto_renew
            session.flush()
            if created:
                record_touchpoint(
                    session,
                    account_id=data.id,
                    kind=TouchpointKind.NOTE,
                    summary=f"Account created ({in_words(account.segment)}, ARR {data.arr:,.0f})",
                    idempotency_key=f"account-created:{data.id}",
                )
            return snapshot(session, data.id)

    @activity.defn(name="upsert_account")
    async def upsert_account(self, input: AccountUpsert) -> AccountSnapshot:
        """Create or update an account, its contacts (by id) and its active contract."""
        result = await in_thread(self._upsert, input)
        activity_logger(account_id=input.id).info("account upserted", contacts=len(input.contacts))
        return result

    def _get(self, ref: AccountRef) -> AccountSnapshot:
        with self.store.session() as session:
            return snapshot(session, ref.account_id)

    @activity.defn(name="get_account")
    async def get_account(self, input: AccountRef) -> AccountSnapshot:
        return await in_thread(self._get, input)

    def _set_stage(self, change: StageChange) -> None:
        with self.store.session() as session:
            account = require_account(session, change.account_id)
            previous = account.lifecycle_stage
            if previous == change.stage.value:
                return  # already there: a retry, or a workflow re-asserting the stage
            account.lifecycle_stage = change.stage.value
            account.updated_at = utcnow()
            reason = f" ({change.reason})" if change.reason else ""
            record_touchpoint(
                session,
                account_id=change.account_id,
                kind=TouchpointKind.STAGE_CHANGE,
                summary=f"Moved from {in_words(previous).lower()} to "
                f"{in_words(change.stage).lower()}{reason}",
                idempotency_key=attempt_key("stage"),
                workflow_id=change.workflow_id,
                step=change.step,
                details={"from": previous, "to": change.stage.value, "reason": change.reason},
            )

    @activity.defn(name="set_lifecycle_stage")
    async def set_lifecycle_stage(self, input: StageChange) -> None:
        await in_thread(self._set_stage, input)
        activity_logger(account_id=input.account_id, step=input.step).info(
            "lifecycle stage set", stage=input.stage.value
        )

    def _append(self, entry: TouchpointInput) -> Touchpoint:
        with self.store.session() as session:
            require_account(session, entry.account_id)
            row = record_touchpoint(
                session,
                account_id=entry.account_id,
                kind=entry.kind,
                summary=entry.summary,
                idempotency_key=entry.idempotency_key or attempt_key("touchpoint"),
                occurred_at=_aware(entry.occurred_at, "occurred_at"),
                workflow_id=entry.workflow_id,
                step=entry.step,
                details=entry.details,
            )
            return row.to_model()

    @activity.defn(name="append_touchpoint")
    async def append_touchpoint(self, input: TouchpointInput) -> Touchpoint:
        return await in_thread(self._append, input)

    def create_task_once(self, task: TaskInput) -> CsmTask:
        key = task.idempotency_key or attempt_key("task")
        due_at = _aware(task.due_at, "due_at")
        try:
            with self.store.session() as session:
                require_account(session, task.account_id)
                existing = _task_with_key(session, key)
                if existing is not None:
                    return existing.to_model()
                row = CsmTaskRow(
                    account_id=task.account_id,
                    owner=task.owner,
                    title=task.title,
                    description=task.description,
                    due_at=due_at,
                    priority=task.priority.value,
                    status=TaskStatus.OPEN.value,
                    created_at=utcnow(),
                    workflow_id=task.workflow_id,
                    idempotency_key=key,
                )
                session.add(row)
                session.flush()
                record_task_touchpoint(
                    session,
                    row,
                    f"Task for {task.owner}: {task.title}",
                    f"task-created:{row.id}",
                    step=task.step,
                    priority=task.priority.value,
                )
                return row.to_model()
        except IntegrityError:
            # A concurrent attempt inserted the same key first: its row is the answer.
            with self.store.session() as session:
                found = _task_with_key(session, key)
                if found is None:
                    raise
                return found.to_model()

    @activity.defn(name="create_csm_task")
    async def create_csm_task(self, input: TaskInput) -> CsmTask:
        result = await in_thread(self.create_task_once, input)
        activity_logger(account_id=input.account_id, step=input.step).info(
            "csm task created", task_id=result.id, owner=input.owner
        )
        return result

    def _complete_task(self, completion: TaskCompletion) -> CsmTask:
        with self.store.session() as session:
            row = session.get(CsmTaskRow, completion.task_id)
            if row is None:
                raise permanent(INVALID_INPUT, f"task_id: no task {completion.task_id}")
            if row.status != TaskStatus.OPEN.value:
                return row.to_model()  # already closed: completing again changes nothing
            row.status = completion.status.value
            row.outcome = completion.outcome
            row.completed_at = utcnow()
            record_task_touchpoint(
                session,
                row,
                f"Task {completion.status.value}: {row.title} ({completion.outcome})",
                f"task-closed:{row.id}",
                outcome=completion.outcome,
            )
            return row.to_model()

    @activity.defn(name="complete_csm_task")
    async def complete_csm_task(self, input: TaskCompletion) -> CsmTask:
        return await in_thread(self._complete_task, input)

    def _record_requirements(self, answers: RequirementsAnswers) -> None:
        with self.store.session() as session:
            require_account(session, answers.account_id)
            if answers.respondent_contact_id is not None:
                require_contact(session, answers.account_id, answers.respondent_contact_id)
            payload = answers.model_dump(
                mode="json", exclude={"account_id", "workflow_id", "respondent_contact_id"}
            )
            row = session.get(RequirementsAnswersRow, answers.account_id)
            if row is None:
                row = RequirementsAnswersRow(account_id=answers.account_id, recorded_at=utcnow())
                session.add(row)
            row.answers = payload
            row.respondent_contact_id = answers.respondent_contact_id
            row.workflow_id = answers.workflow_id
            row.recorded_at = utcnow()
            record_touchpoint(
                session,
                account_id=answers.account_id,
                kind=TouchpointKind.REQUIREMENTS,
                summary=f"Requirements received: {answers.intended_use[:200]}",
                idempotency_key=attempt_key("requirements"),
                workflow_id=answers.workflow_id,
                details=payload,
            )

    @activity.defn(name="record_requirements")
    async def record_requirements(self, input: RequirementsAnswers) -> None:
        await in_thread(self._record_requirements, input)
        activity_logger(account_id=input.account_id).info("requirements recorded")

    def _record_outcome(self, outcome: ContractOutcome) -> Contract:
        with self.store.session() as session:
            account = require_account(session, outcome.account_id)
            contract = current_contract(session, outcome.account_id)
            if contract is None:
                raise permanent(INVALID_INPUT, f"account {outcome.account_id!r} has no contract")
            if contract.status != ContractStatus.ACTIVE.value:
                # Already decided: a retry of the same decision returns its result.
                if contract.status == outcome.outcome.value:
                    return contract.to_model()
                raise permanent(
                    INVALID_INPUT,
                    f"outcome: contract {contract.id} is already {contract.status}",
                )
            now = utcnow()
            if outcome.outcome == ContractOutcomeKind.CHURNED:
                contract.status = ContractStatus.CHURNED.value
                contract.outcome_reason = outcome.reason
                contract.closed_at = now
                account.lifecycle_stage = LifecycleStage.CHURNED.value
                account.updated_at = now
                result = contract
            else:
                previous = session.exec(
                    select(ContractRow).where(
                        ContractRow.account_id == outcome.account_id,
                        ContractRow.status == outcome.outcome.value,
                        ContractRow.end_date == contract.start_date,
                    )
                ).first()
                if previous is not None and contract.end_date == outcome.new_end_date:
                    # The active contract is the renewal this very decision created (a retry).
                    return contract.to_model()
                assert outcome.new_end_date is not None  # the model requires it for renewals
                if outcome.new_end_date <= contract.end_date:
                    raise permanent(
                        INVALID_INPUT,
                        f"new_end_date: {outcome.new_end_date} is not after {contract.end_date}",
                    )
                contract.status = outcome.outcome.value
                contract.outcome_reason = outcome.reason
                contract.closed_at = now
                result = ContractRow(
                    account_id=outcome.account_id,
                    start_date=contract.end_date,
                    end_date=outcome.new_end_date,
                    value=outcome.new_value if outcome.new_value is not None else contract.value,
                    auto_renew=contract.auto_renew,
                    status=ContractStatus.ACTIVE.value,
                    created_at=now,
                )
                session.add(result)
            session.flush()
            record_touchpoint(
                session,
                account_id=outcome.account_id,
                kind=TouchpointKind.CONTRACT,
                summary=f"Contract {in_words(outcome.outcome).lower()}"
                + (f" until {outcome.new_end_date}" if outcome.new_end_date else "")
                + (f": {outcome.reason}" if outcome.reason else ""),
                idempotency_key=f"contract-outcome:{contract.id}",
                workflow_id=outcome.workflow_id,
                occurred_at=datetime.now(UTC),
                details={"contract_id": contract.id, "outcome": outcome.outcome.value},
            )
            return result.to_model()

    @activity.defn(name="record_contract_outcome")
    async def record_contract_outcome(self, input: ContractOutcome) -> Contract:
        result = await in_thread(self._record_outcome, input)
        activity_logger(account_id=input.account_id).info(
            "contract outcome recorded", outcome=input.outcome.value
        )
        return result
