"""What a customer's email carries: Date and Message-ID, unsubscribe on marketing and nurture mail
(RFC 8058), the sender's and the reader's names, score links in surveys, and meeting times as
people set them; which mail an opt-out stops; outbox files in send order."""

from __future__ import annotations

import email
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from activities import Activities
from activities.rendering import TEMPLATES_DIR, available_templates
from activities.sendgrid_provider import SendGridProvider
from domain.email_kinds import NURTURE_TEMPLATES, TRANSACTIONAL_TEMPLATES, is_transactional
from domain.models import EmailRequest, EmailStatus, KickoffInvite
from domain.people import display_name, first_name
from domain.settings import DEVELOPMENT_UNSUBSCRIBE_KEY, Settings
from domain.unsubscribe import contact_of, unsubscribe_token
from tests.activities.test_email_send import FakeSendGridClient, accepted
from tests.support.cs_support import run, seed_account

pytestmark = pytest.mark.usefixtures("outbox")

# A Wednesday, working hours in New York and Berlin (the contacts' zones): no quiet hours.
WED = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
URL = "https://cs.vendor.example.com"


def request(key: str, template: str = "usage_check_in", **fields: Any) -> EmailRequest:
    values: dict[str, Any] = {
        "idempotency_key": key,
        "account_id": "acme",
        "to_contact_id": "c-champ",
        "template": template,
        "now": WED,
        **fields,
    }
    return EmailRequest(**values)


def messages(outbox: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(outbox.glob("*.eml"))
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture
def branded(make_acts: Callable[..., Activities]) -> Activities:
    return make_acts(
        public_url=URL,
        from_email="success@vendor.example.com",
        company_name="Vendor Inc.",
        product_name="Vendor Cloud",
        postal_address="1 Harbour Street, Springfield",
        unsubscribe_secret=SecretStr("unsubscribe-secret"),
    )


async def test_every_message_has_its_send_time_and_a_stable_message_id(
    outbox: Path, branded: Activities
) -> None:
    await seed_account(branded)
    receipt = await run(branded.email.send_email, request("acme:check-in"))
    assert await run(branded.email.send_email, request("acme:check-in")) == receipt

    [message] = messages(outbox)
    # The send time the workflow passed (workflow time), not the wall clock of the worker.
    assert parsedate_to_datetime(message["Date"]) == WED
    assert re.fullmatch(r"<[0-9a-f]{32}@vendor\.example\.com>", message["Message-ID"])
    assert message["Message-ID"] == receipt.message_id


async def test_outbox_files_sort_by_send_time(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(contact_governor=False)  # three in a week: no frequency cap here
    await seed_account(acts)
    times = [WED + timedelta(days=2), WED, WED + timedelta(hours=1)]
    for index, now in enumerate(times):
        await run(acts.email.send_email, request(f"acme:{index}", now=now))

    names = sorted(p.name for p in outbox.glob("*.eml"))
    assert names[0].startswith("20261118T150000Z-acme-usage_check_in-")
    assert re.fullmatch(r"\d{8}T\d{6}Z-acme-usage_check_in-[0-9a-f]{8}\.eml", names[0])
    dates = [parsedate_to_datetime(m["Date"]) for m in messages(outbox)]
    assert dates == sorted(times)


async def test_nurture_mail_offers_one_click_unsubscribe(outbox: Path, branded: Activities) -> None:
    await seed_account(branded)
    await run(branded.email.send_email, request("acme:check-in"))

    [message] = messages(outbox)
    token = unsubscribe_token("c-champ", "unsubscribe-secret")
    link = f"{URL}/v1/unsubscribe/{token}"
    # RFC 8058: an HTTPS URI to POST to, announced by List-Unsubscribe-Post; and a mailto.
    assert message["List-Unsubscribe"] == (
        f"<mailto:success@vendor.example.com?subject=unsubscribe%20{token}>, <{link}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert contact_of(token, "unsubscribe-secret") == "c-champ"
    # Visible too, in both bodies, beside the company's postal address.
    assert f"Unsubscribe: {link}" in text_of(message)
    assert f'<a href="{link}"' in html_of(message) and ">Unsubscribe</a>" in html_of(message)
    assert "Vendor Inc., 1 Harbour Street, Springfield" in text_of(message)


async def test_with_replies_configured_the_mailto_reaches_the_inbound_domain(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(reply_secret=SecretStr("reply-secret"), reply_domain="reply.vendor.example")
    await seed_account(acts)
    await run(acts.email.send_email, request("acme:check-in"))
    [message] = messages(outbox)
    assert (
        "<mailto:unsubscribe@reply.vendor.example?subject=unsubscribe%20"
        in (message["List-Unsubscribe"])
    )


async def test_service_mail_has_no_unsubscribe_and_still_reaches_an_opted_out_contact(
    outbox: Path, branded: Activities
) -> None:
    await seed_account(branded)
    context = {
        "topic": "Exports fail",
        "ticket_id": "T-7",
        "first_response_within": "8 hours",
        "resolution_within": "3 days",
    }
    receipt = await run(
        branded.email.send_email,
        request(
            "acme:ack", "escalation_acknowledgement", to_contact_id="c-optout", context=context
        ),
    )
    assert receipt.status == EmailStatus.OUTBOXED
    [message] = messages(outbox)
    assert message["List-Unsubscribe"] is None and message["List-Unsubscribe-Post"] is None
    assert "nsubscribe" not in text_of(message) and "nsubscribe" not in html_of(message)
    assert "Hi Olive," in text_of(message)


async def test_an_opt_out_stops_nurture_mail_and_campaigns_whatever_their_template(
    outbox: Path, branded: Activities
) -> None:
    await seed_account(branded)
    check_in = await run(branded.email.send_email, request("n", to_contact_id="c-optout"))
    # A campaign is marketing even when it reuses a service template.
    campaign = await run(
        branded.email.send_email,
        request("c", "onboarding_complete", to_contact_id="c-optout", category="campaign"),
    )
    assert (check_in.status, campaign.status) == (EmailStatus.SUPPRESSED, EmailStatus.SUPPRESSED)
    assert messages(outbox) == []


def test_every_template_is_classified_and_none_names_csflow() -> None:
    templates = set(available_templates())
    assert templates == TRANSACTIONAL_TEMPLATES | NURTURE_TEMPLATES
    assert not TRANSACTIONAL_TEMPLATES & NURTURE_TEMPLATES
    for path in TEMPLATES_DIR.iterdir():
        assert "csflow" not in path.read_text().lower(), path.name
    assert is_transactional("escalation_acknowledgement", "customer_success")
    assert is_transactional("renewal_outreach", "security")
    assert not is_transactional("renewal_outreach", "customer_success")
    assert not is_transactional("csm_introduction", "survey")
    assert not is_transactional("a_new_template", "customer_success")


async def test_sendgrid_gets_the_message_id_and_unsubscribe_headers(
    make_acts: Callable[..., Activities], branded: Activities
) -> None:
    await seed_account(branded)
    client = FakeSendGridClient(accepted("sg-1"))
    acts = make_acts(
        provider=SendGridProvider("SG.test", client=client),
        public_url=URL,
        from_email="success@vendor.example.com",
    )
    await run(acts.email.send_email, request("acme:check-in"))
    [payload] = client.payloads
    headers = payload["headers"]
    assert re.fullmatch(r"<[0-9a-f]{32}@vendor\.example\.com>", headers["Message-ID"])
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"<{URL}/v1/unsubscribe/" in headers["List-Unsubscribe"]
    assert "Date" not in headers  # SendGrid dates the message when it sends it


async def test_greetings_use_first_names_and_the_csm_signs_by_name(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(
        team_names={"dana.csm@vendor.example.com": "Dana Whitfield"},
        company_name="Vendor Inc.",
        email_signature="Customer Success Manager, Vendor Inc.",
    )
    await seed_account(acts)
    await run(acts.email.send_email, request("acme:intro", "csm_introduction"))
    [message] = messages(outbox)
    text = text_of(message)
    assert text.startswith("Hi Chloe,\n")
    assert "I'm Dana Whitfield, your Customer Success Manager at Vendor Inc." in text
    assert "Dana Whitfield\nCustomer Success Manager, Vendor Inc." in text
    assert "dana.csm@" not in text and "Hi Chloe" in html_of(message)


def test_names_people_write() -> None:
    assert first_name("Sam Champion") == "Sam"
    assert first_name("Dr. Jane Doe") == "Jane"
    assert first_name("  ") is None
    assert display_name("casey.csm@csflow.example") == "Casey"
    assert display_name("Morgan@x.example", {"morgan@x.example": "Morgan Lee"}) == "Morgan Lee"
    assert display_name("j_smith+cs@x.example") == "J"


async def test_nps_email_links_every_score_to_the_survey_page(
    outbox: Path, branded: Activities
) -> None:
    await seed_account(branded)
    link = f"{URL}/s/tok123"
    context = {"survey_link": link, "survey_kind": "nps", "topic": "relationship"}
    await run(
        branded.email.send_email,
        request("acme:nps", "survey_invitation", context=context, category="survey"),
    )
    [message] = messages(outbox)
    for body in (text_of(message), html_of(message)):
        assert [int(s) for s in re.findall(re.escape(link) + r"\?score=(\d+)", body)] == list(
            range(11)
        )
    assert message["Subject"] == "How likely are you to recommend Vendor Cloud?"
    assert "one click" not in text_of(message).lower()


async def test_kickoff_is_proposed_at_a_quarter_hour_in_the_contacts_working_day(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(meeting_url="https://meet.vendor.example.com/dana")
    await seed_account(acts)
    # Asked for Saturday 12:02:12 UTC: Chloe (New York) meets on Monday at 10:00 her time.
    saturday = datetime(2026, 11, 21, 12, 2, 12, tzinfo=UTC)
    await run(
        acts.calendar.send_kickoff_invite,
        KickoffInvite(
            account_id="acme",
            contact_id="c-champ",
            starts_at=saturday,
            idempotency_key="acme:kickoff",
            now=WED,
        ),
    )
    [message] = messages(outbox)
    assert message["Subject"] == "Invitation: Kickoff call for Acme Corp on Monday 23 November 2026"
    text = text_of(message)
    assert "When: Monday 23 November 2026 at 10:00 EST (60 minutes)" in text
    assert "Where: https://meet.vendor.example.com/dana" in text
    [ics] = [part.get_content() for part in message.iter_attachments()]
    assert "DTSTART:20261123T150000Z" in ics
    assert "LOCATION:https://meet.vendor.example.com/dana" in ics
    # In time: sent well before the meeting, and no unsubscribe on an invitation.
    assert parsedate_to_datetime(message["Date"]) < datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert message["List-Unsubscribe"] is None


async def test_a_meeting_in_working_hours_keeps_its_time_rounded_up(
    outbox: Path, acts: Activities
) -> None:
    await seed_account(acts)
    asked = datetime(2026, 11, 24, 15, 2, 12, tzinfo=UTC)  # Tuesday 10:02 in New York
    await run(
        acts.calendar.send_kickoff_invite,
        KickoffInvite(
            account_id="acme",
            contact_id="c-champ",
            starts_at=asked,
            idempotency_key="acme:kickoff",
            now=WED,
        ),
    )
    [message] = messages(outbox)
    assert "When: Tuesday 24 November 2026 at 10:15 EST (60 minutes)" in text_of(message)
    assert "reply with the link you'd like to use" in text_of(message)


def test_unsubscribe_tokens_name_their_contact_and_cannot_be_forged() -> None:
    token = unsubscribe_token("acme-champion", "k1")
    assert token == token.lower() and contact_of(token, "k1") == "acme-champion"
    assert contact_of(token.upper(), "k1") == "acme-champion"  # case folded on the way
    assert contact_of(token, "k2") is None
    forged = unsubscribe_token("acme-dm", "guess").split(".")[0] + "." + token.split(".")[1]
    assert contact_of(forged, "k1") is None
    assert contact_of("not-a-token", "k1") is None and contact_of("x" * 500, "k1") is None


def test_unsubscribe_key_comes_from_settings() -> None:
    assert Settings().unsubscribe_key() == DEVELOPMENT_UNSUBSCRIBE_KEY
    assert Settings(reply_secret=SecretStr("r")).unsubscribe_key() == "r"
    assert (
        Settings(reply_secret=SecretStr("r"), unsubscribe_secret=SecretStr("u")).unsubscribe_key()
        == "u"
    )
    assert Settings(environment="production").unsubscribe_key() is None


async def test_in_production_without_a_key_the_mailto_is_the_way_out(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    acts = make_acts(environment="production", from_email="success@vendor.example.com")
    await seed_account(acts)
    await run(acts.email.send_email, request("acme:check-in"))
    [message] = messages(outbox)
    mailto = "mailto:success@vendor.example.com?subject=unsubscribe"
    assert message["List-Unsubscribe"] == f"<{mailto}>"
    assert message["List-Unsubscribe-Post"] is None  # one-click needs the signed link
    assert f"Unsubscribe: {mailto}" in text_of(message)
