"""Every side effect of csflow, as Temporal activities (names fixed by docs/contracts.md).

Activities are `async` and run their blocking database / HTTP work in threads, so the worker
needs no activity executor. The store comes from `crm.database` (`DATABASE_URL`).
"""

from collections.abc import Callable
from typing import Any

from activities.alerts import alert_csm
from activities.calendar import send_kickoff_invite
from activities.crm import (
    append_touchpoint,
    complete_csm_task,
    create_csm_task,
    get_account,
    record_contract_outcome,
    record_requirements,
    set_lifecycle_stage,
    upsert_account,
)
from activities.email import send_email
from activities.health import compute_health_score, explain_health
from activities.segment_directory import list_segment_accounts
from activities.surveys import create_survey, record_survey_response

ALL_ACTIVITIES: list[Callable[..., Any]] = [
    upsert_account,
    get_account,
    set_lifecycle_stage,
    append_touchpoint,
    create_csm_task,
    complete_csm_task,
    record_requirements,
    record_contract_outcome,
    send_email,
    create_survey,
    record_survey_response,
    alert_csm,
    send_kickoff_invite,
    compute_health_score,
    explain_health,
    list_segment_accounts,
]

__all__ = ["ALL_ACTIVITIES", *[a.__name__ for a in ALL_ACTIVITIES]]
