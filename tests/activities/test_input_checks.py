"""Input that crosses the boundary is refused when a journey could not live with it, and the
error names the field: non-finite numbers, dates outside a sane range, control characters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from domain.input_checks import ACCEPTED_EARLIER, one_line
from domain.models import AccountUpsert, ContactInput, ContractInput, Segment, SurveyAnswer
from domain.segments import default_config
from workflows.customer_event import CustomerEvent, InvalidCustomerEvent
from workflows.journey_state import JourneyInput

GOOD_CONTRACT = {"start_date": "2026-01-01", "end_date": "2027-01-01", "value": 8_000}


def upsert(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "acme",
        "name": "Acme Corp",
        "arr": 48_000,
        "csm_owner": "csm@vendor.example.com",
        "contacts": [{"id": "c1", "name": "Chris Champion", "email": "chris@acme.example"}],
        "contract": GOOD_CONTRACT,
    }
    fields.update(overrides)
    return fields


def refused(data: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        AccountUpsert.model_validate(data)
    error = caught.value.errors()[0]  # the 0001 contract: both dates, start first
    return error["loc"], error["msg"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"arr": float("inf")}, ("arr",), "must be a finite number, not inf"),
        ({"arr": float("nan")}, ("arr",), "must be a finite number, not nan"),
        (
            {"contract": {**GOOD_CONTRACT, "value": float("inf")}},
            ("contract", "value"),
            "must be a finite number",
        ),
        (
            # What billing systems send for "no date".
            {"contract": {"start_date": "0001-01-01", "end_date": "0001-01-02", "value": 1}},
            ("contract", "start_date"),
            "0001-01-01 is outside the supported range 1990-01-01..2100-12-31",
        ),
        (
            {"contract": {**GOOD_CONTRACT, "end_date": "9999-12-31"}},
            ("contract", "end_date"),
            "9999-12-31 is outside the supported range",
        ),
        (
            {"contacts": [{"id": "c1", "name": "Chris\r\nBcc: x@evil.example", "email": "c@a.co"}]},
            ("contacts", 0, "name"),
            "must be one line without control characters (found U+000D)",
        ),
        ({"name": "Acme\x00Corp"}, ("name",), "(found U+0000)"),
        ({"plan": "growth\tplus"}, ("plan",), "(found U+0009)"),
    ],
)
def test_bad_account_input_is_refused_naming_the_field(
    overrides: dict[str, Any], field: tuple[str | int, ...], message: str
) -> None:
    loc, msg = refused(upsert(**overrides))
    assert loc == field
    assert message in msg


def test_json_infinity_is_refused_too() -> None:
    raw = '{"id": "a", "name": "A", "arr": Infinity, "csm_owner": "c@x.example"}'
    with pytest.raises(ValidationError) as caught:
        AccountUpsert.model_validate_json(raw)
    assert caught.value.errors()[0]["loc"] == ("arr",)


def test_what_passes_survives_the_temporal_converter() -> None:
    """The failure the checks prevent: Infinity serializes as null and cannot be decoded."""
    account = AccountUpsert.model_validate(upsert())
    journey = JourneyInput(account=account, config=default_config(account.effective_segment))
    converter = pydantic_data_converter.payload_converter
    [payload] = converter.to_payloads([journey])
    assert converter.from_payloads([payload], [JourneyInput]) == [journey]
    # What used to get through: an accepted infinite ARR came back as null, undecodable.
    smuggled = journey.model_copy(
        update={"account": journey.account.model_copy(update={"arr": float("inf")})}
    )
    [payload] = converter.to_payloads([smuggled])
    assert b'"arr":null' in payload.data


def test_free_text_keeps_line_breaks_but_not_other_controls() -> None:
    assert SurveyAnswer(token="t", score=9, comment="Great.\r\n\tThanks!").comment
    with pytest.raises(ValidationError) as caught:
        SurveyAnswer(token="t", score=9, comment="bell\x07")
    assert caught.value.errors()[0]["loc"] == ("comment",)
    with pytest.raises(ValidationError):
        ContactInput(id="c\n1", name="C", email="c@a.example")


def test_dates_at_the_edges_of_the_range_are_accepted() -> None:
    ContractInput(start_date=date(1990, 1, 1), end_date=date(2100, 12, 31), value=0)


def test_data_accepted_earlier_is_re_read_without_the_new_checks() -> None:
    """Journeys replaying their history re-read old input by the rules it was accepted under."""
    old = upsert(contacts=[{"id": "c1", "name": "Chris\r\nChampion", "email": "c@a.example"}])
    assert AccountUpsert.model_validate(old, context=ACCEPTED_EARLIER).contacts[0].name


def event(type_: str, **payload: Any) -> CustomerEvent:
    return CustomerEvent(account_id="acme", type=type_, payload=payload)


@pytest.mark.parametrize(
    ("type_", "payload", "message"),
    [
        (
            "contract_signed",
            {"contract": {"start_date": "0001-01-01", "end_date": "0001-01-02", "value": 5}},
            "contract.start_date: 0001-01-01 is outside the supported range",
        ),
        (
            "contract_signed",
            {"contract": {**GOOD_CONTRACT, "value": float("inf")}},
            "contract.value: must be a finite number",
        ),
        ("payment_received", {"amount": float("nan")}, "amount: must be a finite number"),
        ("contract_renewed", {"new_end_date": "9999-12-31"}, "new_end_date: 9999-12-31 is"),
        (
            "contact_changed",
            {"contact": {"id": "c9", "name": "Eve\nBcc: x@y.example", "email": "e@a.example"}},
            "contact.name: must be one line without control characters (found U+000A)",
        ),
        (
            "ticket_opened",
            {"ticket_id": "T-1", "subject": "Broken\r\nX-Injected: yes"},
            "subject: must be one line",
        ),
        ("plan_changed", {"plan": "pro", "new_features": ["ok", "bad\x1b[31m"]}, "new_features.1"),
        (
            "survey_answered",
            {"token": "t", "kind": "nps", "score": 9, "comment": "\x00"},
            "comment: must not contain control characters",
        ),
    ],
)
def test_bad_event_payloads_are_refused_naming_the_field(
    type_: str, payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidCustomerEvent) as caught:
        event(type_, **payload).parse()
    assert message in str(caught.value)


def test_event_envelope_is_checked_as_new_input() -> None:
    long_ago = CustomerEvent(
        account_id="acme", type="email_replied", occurred_at=datetime(1, 1, 1, tzinfo=UTC)
    )
    with pytest.raises(InvalidCustomerEvent, match="occurred_at: 0001-01-01"):
        long_ago.parse()
    # A journey re-reading an event it accepted before takes it as it was.
    assert long_ago.parse(accepted=True) is not None


def test_multi_line_free_text_in_events_is_fine() -> None:
    event("email_replied", snippet="Hi,\r\n\r\nyes please.\n").parse()
    event("questionnaire_answered", reasons_for_purchase="a\nb", intended_use="c").parse()


def test_one_line_makes_customer_text_safe_for_a_subject() -> None:
    assert one_line("Broken\r\nBcc: x\x00y  z", 200) == "Broken Bcc: x y z"
    assert one_line("x" * 10, 8) == "xxxxx..."


def test_journeys_recorded_before_the_checks_still_decode_their_input() -> None:
    """A journey started with a tab in a contact name (accepted then) must not stop decoding its
    own recorded input once the checks exist: the account is re-read by the old rules."""
    account = upsert(
        name="Acme\tCorp",
        contacts=[{"id": "c1", "name": "Chris\r\nChampion", "email": "chris@acme.example"}],
    )
    recorded = JourneyInput.model_validate(
        {"account": account, "config": default_config(Segment.MID_MARKET)},
        context=ACCEPTED_EARLIER,
    )
    converter = pydantic_data_converter.payload_converter
    [payload] = converter.to_payloads([recorded])
    [decoded] = converter.from_payloads([payload], [JourneyInput])
    assert decoded.account.contacts[0].name == "Chris\r\nChampion"
