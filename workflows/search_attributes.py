"""Typed search attributes csflow keeps on every workflow of an account.

Registered by the worker (OperatorService), or by `temporal server start-dev --search-attribute
NAME=TYPE`. The journey keeps its own current; every workflow it starts for the account (stage
children, escalations, playbooks) carries the account's attributes too, so `CustomerId = "acme"`
in the Web UI or `temporal workflow list --query` shows the account's whole family.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
LIFECYCLE_STAGE = SearchAttributeKey.for_keyword("LifecycleStage")
CSM_OWNER = SearchAttributeKey.for_keyword("CsmOwner")
SEGMENT = SearchAttributeKey.for_keyword("Segment")
HEALTH_SCORE = SearchAttributeKey.for_int("HealthScore")
RENEWAL_DATE = SearchAttributeKey.for_datetime("RenewalDate")

ALL_KEYS: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    CUSTOMER_ID,
    LIFECYCLE_STAGE,
    CSM_OWNER,
    SEGMENT,
    HEALTH_SCORE,
    RENEWAL_DATE,
)

# What a child of the account inherits: who it is about and where the account stood when it began.
_FAMILY_KEYS = (CUSTOMER_ID, CSM_OWNER, SEGMENT, LIFECYCLE_STAGE)


def account_family(
    account_id: str, csm_owner: str, segment: str, stage: str
) -> TypedSearchAttributes:
    """The attributes a workflow started for an account carries."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CUSTOMER_ID, account_id),
            SearchAttributePair(CSM_OWNER, csm_owner),
            SearchAttributePair(SEGMENT, segment),
            SearchAttributePair(LIFECYCLE_STAGE, stage),
        ]
    )


def inherited_family() -> TypedSearchAttributes:
    """For a child started by a child (a playbook's escalation): the current run's account
    attributes, so the grandchild is found under the same `CustomerId`."""
    current = workflow.info().typed_search_attributes
    return TypedSearchAttributes(
        [pair for pair in current.search_attributes if pair.key in _FAMILY_KEYS]
    )


class ChildLabels(TypedDict):
    """What a workflow started for an account carries: its search attributes and Web UI line."""

    search_attributes: TypedSearchAttributes
    static_summary: str


def child_labels(
    account_id: str, account_name: str, csm_owner: str, segment: str, stage: str, what: str
) -> ChildLabels:
    return {
        "search_attributes": account_family(account_id, csm_owner, segment, stage),
        "static_summary": f"{account_name}: {what}"[:200],
    }


def journey_attributes(
    account_id: str,
    csm_owner: str,
    segment: str,
    stage: str,
    health_score: int | None,
    renewal_date: datetime | None,
) -> list[SearchAttributeUpdate[Any]]:
    """Everything the journey itself carries, set again at the start of every run."""
    updates: list[SearchAttributeUpdate[Any]] = [
        CUSTOMER_ID.value_set(account_id),
        LIFECYCLE_STAGE.value_set(stage),
        CSM_OWNER.value_set(csm_owner),
        SEGMENT.value_set(segment),
    ]
    if health_score is not None:
        updates.append(HEALTH_SCORE.value_set(health_score))
    if renewal_date is not None:
        updates.append(RENEWAL_DATE.value_set(renewal_date))
    return updates
