"""What a journey starts with, when an event arrives for an account with no running journey."""

from __future__ import annotations

from activities.crm_lookups import snapshot
from crm.database import get_store
from crm.tables import AccountRow
from domain.models import (
    AccountSnapshot,
    AccountUpsert,
    ContactInput,
    ContractInput,
    ContractStatus,
)
from domain.segments import default_config
from workflows.journey_state import JourneyInput


def journey_input(account: AccountUpsert, team: dict[str, str] | None = None) -> JourneyInput:
    """A journey on the shipped playbook of the account's segment."""
    return JourneyInput(
        account=account, config=default_config(account.effective_segment), team=team or {}
    )


def account_from_snapshot(snap: AccountSnapshot) -> AccountUpsert:
    account = snap.account
    contract = snap.contract
    return AccountUpsert(
        id=account.id,
        name=account.name,
        arr=account.arr,
        plan=account.plan,
        segment=account.segment,
        csm_owner=account.csm_owner,
        timezone=account.timezone,
        contacts=[
            ContactInput(
                id=c.id,
                name=c.name,
                email=c.email,
                role=c.role,
                opted_out=c.opted_out,
                timezone=c.timezone,
            )
            for c in snap.contacts
        ],
        contract=(
            ContractInput(
                start_date=contract.start_date,
                end_date=contract.end_date,
                value=contract.value,
                auto_renew=contract.auto_renew,
            )
            if contract is not None and contract.status == ContractStatus.ACTIVE
            else None
        ),
    )


def known_account(account_id: str) -> AccountUpsert | None:
    """The account as the CRM knows it (blocking: run it in a thread), None if unknown."""
    with get_store().session() as session:
        if session.get(AccountRow, account_id) is None:
            return None
        return account_from_snapshot(snapshot(session, account_id))
