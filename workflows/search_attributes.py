"""Typed search attributes csflow keeps current on every customer journey.

Registered by `worker.py` (OperatorService) or `devserver --search-attribute NAME=TYPE`.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

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
