"""The simulated year's outbox, read as its recipients would: customers get only customer mail,
every message is dated and identified, marketing and nurture mail can be unsubscribed from,
invitations arrive before their meetings, and no email prints a raw timedelta."""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from domain.email_kinds import INTERNAL_TEMPLATES, is_transactional
from tests.support.demo_year import DemoYear

# Staff of the demo (starter/demo_customers.py): the CSM and the escalation chain.
STAFF_DOMAIN = "@csflow.example"
# What `str(timedelta)` prints: "8:00:00", "10 days, 0:00:00".
RAW_TIMEDELTA = re.compile(r"\b\d+:\d\d:\d\d\b|\bdays?, \d")
UNSUBSCRIBE_URL = re.compile(r"<(https?://[^>]+/v1/unsubscribe/[^>]+)>")


@dataclass(frozen=True)
class Sent:
    name: str
    message: EmailMessage
    to: str
    category: str
    template: str
    text: str
    html: str

    @property
    def words(self) -> str:
        return "\n".join([self.message["Subject"], self.text, self.html])


@pytest.fixture(scope="module")
def outbox(demo_year: DemoYear) -> list[Sent]:
    sent = []
    for path in sorted(demo_year.outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        category, template = message["X-Csflow-Categories"].split(", ")
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None and html is not None, path.name
        sent.append(
            Sent(
                path.name,
                message,
                email.utils.parseaddr(message["To"])[1],
                category,
                template,
                str(text.get_content()),
                str(html.get_content()),
            )
        )
    assert len(sent) >= 60, "the year sends dozens of emails"
    return sent


def _customer_domains(demo_year: DemoYear) -> set[str]:
    return {f"@{account['account_id']}.example" for account in demo_year.summary["accounts"]}


def test_customers_get_customer_mail_and_staff_the_internals(
    outbox: list[Sent], demo_year: DemoYear
) -> None:
    customers = _customer_domains(demo_year)
    to_customers = [s for s in outbox if any(s.to.endswith(d) for d in customers)]
    to_staff = [s for s in outbox if s.to.endswith(STAFF_DOMAIN)]
    assert len(to_customers) + len(to_staff) == len(outbox), "every recipient is one or other"
    assert to_staff and to_customers
    internal = INTERNAL_TEMPLATES | {s.template for s in to_staff}
    leaked = [(s.name, s.to) for s in to_customers if s.template in internal]
    assert leaked == []
    # Escalations reach the customer as a person's acknowledgement, the internals stay inside:
    # alerts, and the process map's notices to the functions that depend on a handoff.
    assert {s.template for s in to_staff} == {"csm_alert", "handoff_done"}
    assert any(s.template == "escalation_acknowledgement" for s in to_customers)
    for sent in to_customers:
        assert "Escalation" not in sent.message["Subject"], sent.name
        assert "casey.csm@" not in sent.text, sent.name  # the CSM signs by name


def test_every_email_is_dated_identified_and_filed_in_send_order(outbox: list[Sent]) -> None:
    sent_at = []
    for sent in outbox:
        assert sent.message["Date"] is not None, sent.name
        assert re.fullmatch(r"<[0-9a-f]{32}@[\w.-]+>", sent.message["Message-ID"]), sent.name
        date = parsedate_to_datetime(sent.message["Date"])
        assert sent.name.startswith(date.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ-")), sent.name
        sent_at.append(date)
    assert sent_at == sorted(sent_at)  # the outbox lists in send order
    assert len({s.message["Message-ID"] for s in outbox}) == len(outbox)


def test_marketing_and_nurture_mail_can_be_unsubscribed_from(outbox: list[Sent]) -> None:
    nurture = [s for s in outbox if not is_transactional(s.template, s.category)]
    service = [s for s in outbox if is_transactional(s.template, s.category)]
    assert {s.template for s in nurture} >= {"survey_invitation", "renewal_outreach"}
    assert {s.template for s in service} >= {"escalation_acknowledgement", "kickoff_invite"}
    for sent in nurture:
        header = sent.message["List-Unsubscribe"]
        assert header is not None and "<mailto:" in header, sent.name
        assert sent.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", sent.name
        [url] = UNSUBSCRIBE_URL.findall(header)
        assert f"Unsubscribe: {url}" in sent.text, sent.name
        assert f'<a href="{url}"' in sent.html and ">Unsubscribe</a>" in sent.html, sent.name
    for sent in service:
        assert sent.message["List-Unsubscribe"] is None, sent.name
        assert "nsubscribe" not in sent.text, sent.name


def test_every_kickoff_invitation_arrives_before_its_meeting(outbox: list[Sent]) -> None:
    invites = [s for s in outbox if s.template == "kickoff_invite"]
    assert len(invites) >= 5
    for sent in invites:
        [ics] = [str(part.get_content()) for part in sent.message.iter_attachments()]
        start = re.search(r"^DTSTART:(\d{8}T\d{6}Z)\r?$", ics, re.MULTILINE)
        assert start is not None, sent.name
        meeting = datetime.strptime(start.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        assert parsedate_to_datetime(sent.message["Date"]) < meeting, sent.name
        assert meeting.minute % 15 == 0 and meeting.second == 0, sent.name
        assert sent.message["Subject"].count("Kickoff") == 1, sent.message["Subject"]


def test_no_email_prints_a_raw_timedelta_or_a_full_name_greeting(outbox: list[Sent]) -> None:
    for sent in outbox:
        assert not RAW_TIMEDELTA.search(sent.words), (sent.name, RAW_TIMEDELTA.search(sent.words))
        name = email.utils.parseaddr(sent.message["To"])[0]
        if " " in name:
            assert f"Hi {name}," not in sent.text, sent.name
            assert f"Hi {name.split()[0]}," in sent.text, sent.name
