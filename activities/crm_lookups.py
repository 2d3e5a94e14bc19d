"""Reads and checks on the CRM that activities share: the account or contact a request names
(a permanent failure when it does not exist) and the account's snapshot."""

from __future__ import annotations

from sqlmodel import Session, col, select

from activities.errors import INVALID_INPUT, UNKNOWN_ACCOUNT, permanent
from crm.tables import AccountRow, ContactRow, ContractRow, CsmTaskRow
from domain.models import AccountSnapshot, ContractStatus, TaskStatus


def require_account(session: Session, account_id: str) -> AccountRow:
    account = session.get(AccountRow, account_id)
    if account is None:
        raise permanent(UNKNOWN_ACCOUNT, f"no account {account_id!r}")
    return account


def require_contact(session: Session, account_id: str, contact_id: str) -> ContactRow:
    contact = session.get(ContactRow, contact_id)
    if contact is None or contact.account_id != account_id:
        raise permanent(INVALID_INPUT, f"no contact {contact_id!r} on account {account_id!r}")
    return contact


def current_contract(session: Session, account_id: str) -> ContractRow | None:
    """The active contract, else the most recent one."""
    rows = session.exec(
        select(ContractRow)
        .where(ContractRow.account_id == account_id)
        .order_by(col(ContractRow.end_date).desc(), col(ContractRow.id).desc())
    ).all()
    active = [r for r in rows if r.status == ContractStatus.ACTIVE.value]
    return active[0] if active else (rows[0] if rows else None)


def snapshot(session: Session, account_id: str) -> AccountSnapshot:
    account = require_account(session, account_id)
    contacts = session.exec(
        select(ContactRow).where(ContactRow.account_id == account_id).order_by(col(ContactRow.id))
    ).all()
    contract = current_contract(session, account_id)
    tasks = session.exec(
        select(CsmTaskRow)
        .where(CsmTaskRow.account_id == account_id, CsmTaskRow.status == TaskStatus.OPEN.value)
        .order_by(col(CsmTaskRow.due_at), col(CsmTaskRow.id))
    ).all()
    return AccountSnapshot(
        account=account.to_model(),
        contacts=[c.to_model() for c in contacts],
        contract=contract.to_model() if contract else None,
        open_tasks=[t.to_model() for t in tasks],
    )
