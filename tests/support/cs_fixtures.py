"""Accounts, configs and journey inputs for the workflow tests."""

from __future__ import annotations

from datetime import date, timedelta

from domain.models import AccountUpsert, ContactInput, ContactRole, ContractInput, Segment
from domain.segments import SegmentPlaybookConfig, default_config
from workflows.journey_state import JourneyInput

TEAM = {
    "cs_manager": "manager@csflow.example",
    "vp_customer_success": "vp@csflow.example",
    "cro": "cro@csflow.example",
}


def account(
    account_id: str,
    segment: Segment = Segment.SMB,
    contract_start: date | None = None,
    term_days: int = 365,
    auto_renew: bool = False,
) -> AccountUpsert:
    start = contract_start or date.today()
    return AccountUpsert(
        id=account_id,
        name=f"Account {account_id}",
        arr={Segment.ENTERPRISE: 250_000, Segment.MID_MARKET: 50_000, Segment.SMB: 8_000}[segment],
        segment=segment,
        csm_owner="csm@csflow.example",
        contacts=[
            ContactInput(
                id=f"{account_id}-champion",
                name="Chris Champion",
                email=f"champion@{account_id}.example",
                role=ContactRole.CHAMPION,
            ),
            ContactInput(
                id=f"{account_id}-dm",
                name="Dana Decider",
                email=f"dm@{account_id}.example",
                role=ContactRole.DECISION_MAKER,
            ),
        ],
        contract=ContractInput(
            start_date=start,
            end_date=start + timedelta(days=term_days),
            value=8_000,
            auto_renew=auto_renew,
        ),
    )


def config(segment: Segment = Segment.SMB) -> SegmentPlaybookConfig:
    return default_config(segment)


def journey_input(
    account_id: str, segment: Segment = Segment.SMB, **kwargs: object
) -> JourneyInput:
    contract_start = kwargs.pop("contract_start", None)
    auto_renew = bool(kwargs.pop("auto_renew", False))
    return JourneyInput(
        account=account(account_id, segment, contract_start, auto_renew=auto_renew),  # type: ignore[arg-type]
        config=config(segment),
        team=TEAM,
        **kwargs,  # type: ignore[arg-type]
    )
