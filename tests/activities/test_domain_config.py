"""Domain models and per-segment playbook configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.models import (
    AccountUpsert,
    ContactInput,
    ContractOutcome,
    ContractOutcomeKind,
    EmailRequest,
    HealthInputs,
    KickoffInvite,
    Segment,
    segment_for_arr,
)
from domain.segments import RenewalPlan, RequirementsPlan, SegmentPlaybookConfig, default_config


@pytest.mark.parametrize(
    ("arr", "segment"),
    [
        (0, Segment.SMB),
        (19_999.99, Segment.SMB),
        (20_000, Segment.MID_MARKET),
        (99_999, Segment.MID_MARKET),
        (100_000, Segment.ENTERPRISE),
        (2e6, Segment.ENTERPRISE),
    ],
)
def test_segment_for_arr_bands(arr: float, segment: Segment) -> None:
    assert segment_for_arr(arr) == segment


def test_default_configs_follow_the_playbook() -> None:
    leads = {s: default_config(s).renewal.lead_time for s in Segment}
    assert leads == {
        Segment.ENTERPRISE: timedelta(days=120),
        Segment.MID_MARKET: timedelta(days=60),
        Segment.SMB: timedelta(days=30),
    }
    for segment in Segment:
        config = default_config(segment)
        assert config.segment == segment
        assert config.requirements.reminder_after == [timedelta(days=3), timedelta(days=7)]
        assert config.requirements.escalate_after == timedelta(days=10)
        assert config.escalation.ack_within < config.escalation.resolve_within
        assert config.escalation.chain[0] == "csm"
        assert config.renewal.manager_escalation_before_end < config.renewal.lead_time


def test_config_round_trips_through_the_temporal_converter() -> None:
    config = default_config(Segment.ENTERPRISE)
    [payload] = pydantic_data_converter.payload_converter.to_payloads([config])
    [back] = pydantic_data_converter.payload_converter.from_payloads(
        [payload], [SegmentPlaybookConfig]
    )
    assert back == config


def test_invalid_configs_name_the_field() -> None:
    with pytest.raises(ValidationError, match="reminder"):
        RequirementsPlan(reminder_after=[timedelta(days=12)], escalate_after=timedelta(days=10))
    with pytest.raises(ValidationError, match="manager_escalation_before_end"):
        RenewalPlan(
            lead_time=timedelta(days=30),
            reminder_cadence=timedelta(days=7),
            manager_escalation_before_end=timedelta(days=45),
        )


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        AccountUpsert(id="a", name="A", arr=-5, csm_owner="not-an-email")
    fields = {e["loc"][0] for e in caught.value.errors()}
    assert fields == {"arr", "csm_owner"}
    with pytest.raises(ValidationError) as caught:
        ContactInput(id="c", name="C", email="nope")
    assert caught.value.errors()[0]["loc"] == ("email",)
    with pytest.raises(ValidationError, match="latest_nps"):
        HealthInputs(account_id="a", latest_nps=11)
    with pytest.raises(ValidationError, match="timezone"):
        AccountUpsert(id="a", name="A", arr=1, csm_owner="a@b.example.com", timezone="not a tz")
    with pytest.raises(ValidationError, match="unexpected|extra"):
        HealthInputs(account_id="a", nps=3)  # type: ignore[call-arg]


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        EmailRequest(idempotency_key="k", account_id="a", template="t")
    with pytest.raises(ValidationError, match="new_end_date"):
        ContractOutcome(account_id="a", outcome=ContractOutcomeKind.RENEWED)
    assert ContractOutcome(account_id="a", outcome=ContractOutcomeKind.CHURNED).new_end_date is None
    with pytest.raises(ValidationError, match="timezone-aware"):
        KickoffInvite(
            account_id="a", contact_id="c", starts_at=datetime(2026, 1, 1), idempotency_key="k"
        )
    KickoffInvite(
        account_id="a",
        contact_id="c",
        starts_at=datetime(2026, 1, 1, tzinfo=UTC),
        idempotency_key="k",
    )


def test_upsert_derives_segment_unless_given() -> None:
    upsert = AccountUpsert(id="a", name="A", arr=150_000, csm_owner="A@B.example.com ")
    assert upsert.effective_segment == Segment.ENTERPRISE
    assert upsert.csm_owner == "a@b.example.com"
    pinned = upsert.model_copy(update={"segment": Segment.SMB})
    assert pinned.effective_segment == Segment.SMB
