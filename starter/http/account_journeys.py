"""What a journey starts with, when an event arrives for an account with no running journey."""

from __future__ import annotations

from typing import TypeVar

from activities.crm_lookups import snapshot
from crm.database import get_store
from crm.tables import AccountRow
from domain.models import (
    AccountSnapshot,
    AccountUpsert,
    ContactInput,
    ContractInput,
    ContractStatus,
    DomainModel,
)
from domain.process_map import configured_map
from domain.segments import default_config
from workflows.journey_state import JourneyInput

_Input = TypeVar("_Input", bound=DomainModel)


def journey_input(account: AccountUpsert, team: dict[str, str] | None = None) -> JourneyInput:
    """A journey on the shipped playbook of the account's segment, run by the configured
    process map (the journey keeps it for its whole life)."""
    return JourneyInput(
        account=account,
        config=default_config(account.effective_segment),
        team=team or {},
        process_map=configured_map(),
    )


# What an upsert sets from the account itself; the lifecycle stage is left out, so the upsert
# keeps the stored one.
_UPSERTED_ACCOUNT_FIELDS = {"id", "name", "arr", "plan", "segment", "csm_owner", "timezone"}


def _as_input(model: DomainModel, input_type: type[_Input]) -> _Input:
    """`model`'s values of the fields `input_type` declares (a contact's, a contract's terms)."""
    return input_type.model_validate(model.model_dump(include=set(input_type.model_fields)))


def account_from_snapshot(snap: AccountSnapshot) -> AccountUpsert:
    """The upsert that writes the account back as the CRM has it: its own fields, its contacts
    and the terms of its active contract."""
    contract = snap.contract
    return AccountUpsert(
        **snap.account.model_dump(include=_UPSERTED_ACCOUNT_FIELDS),
        contacts=[_as_input(contact, ContactInput) for contact in snap.contacts],
        contract=(
            _as_input(contract, ContractInput)
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
