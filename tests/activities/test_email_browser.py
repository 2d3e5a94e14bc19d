"""Customer emails as a mail client shows them: their HTML rendered in headless Chromium, with
every request refused (an email must not need the network to read), saved as PNGs under
tests/artifacts/ for people to look at."""

from __future__ import annotations

import email
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from pathlib import Path

import pytest
from pydantic import SecretStr

from activities import Activities
from domain.models import EmailRequest
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.cs_support import run, seed_account

pytestmark = [needs_chromium, pytest.mark.usefixtures("outbox")]

WED = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def _html(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(preferencelist=("html",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


async def test_nps_email_shows_eleven_score_buttons_and_its_footer(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    from playwright.async_api import Route, async_playwright

    acts = make_acts(
        public_url="https://cs.vendor.example.com",
        from_email="success@vendor.example.com",
        company_name="Vendor Inc.",
        product_name="Vendor Cloud",
        team_names={"dana.csm@vendor.example.com": "Dana Whitfield"},
        email_signature="Customer Success Manager, Vendor Inc.",
        postal_address="1 Harbour Street, Springfield, OR 97477, USA",
        unsubscribe_secret=SecretStr("unsubscribe-secret"),
    )
    await seed_account(acts)
    await run(
        acts.email.send_email,
        EmailRequest(
            idempotency_key="acme:nps",
            account_id="acme",
            to_contact_id="c-champ",
            template="survey_invitation",
            context={
                "survey_link": "https://cs.vendor.example.com/s/Qk3v9XbT",
                "survey_kind": "nps",
                "topic": "relationship",
            },
            category="survey",
            now=WED,
        ),
    )
    [path] = list(outbox.glob("*-acme-survey_invitation-*.eml"))
    requested: list[str] = []
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 720, "height": 480})

        async def refuse(route: Route) -> None:
            requested.append(route.request.url)
            await route.abort()

        await page.route("**/*", refuse)
        await page.set_content(_html(path))
        assert await page.get_by_role("link").count() == 12  # 0..10 and Unsubscribe
        for score in range(11):
            link = page.get_by_role("link", name=str(score), exact=True)
            assert await link.is_visible()
            href = await link.get_attribute("href")
            assert href == f"https://cs.vendor.example.com/s/Qk3v9XbT?score={score}"
        assert await page.get_by_role("link", name="Unsubscribe").is_visible()
        assert await page.get_by_text("Hi Chloe,").is_visible()
        question = "How likely are you to recommend Vendor Cloud to a friend or colleague?"
        assert await page.get_by_text(question).is_visible()
        assert await page.get_by_text("Dana Whitfield").is_visible()
        footer = page.get_by_text("Vendor Inc., 1 Harbour Street, Springfield, OR 97477, USA")
        assert await footer.is_visible()
        await page.screenshot(path=str(ARTIFACTS / "email_nps_survey.png"), full_page=True)
        await browser.close()
    assert requested == []  # nothing to fetch: no images, fonts or trackers


async def test_kickoff_invitation_reads_as_a_person_wrote_it(
    outbox: Path, make_acts: Callable[..., Activities]
) -> None:
    from playwright.async_api import async_playwright

    from domain.models import KickoffInvite

    acts = make_acts(
        company_name="Vendor Inc.",
        email_signature="Customer Success Manager, Vendor Inc.",
        postal_address="1 Harbour Street, Springfield, OR 97477, USA",
        meeting_url="https://meet.vendor.example.com/dana",
    )
    await seed_account(acts)
    await run(
        acts.calendar.send_kickoff_invite,
        KickoffInvite(
            account_id="acme",
            contact_id="c-champ",
            starts_at=datetime(2026, 11, 24, 15, 2, 12, tzinfo=UTC),
            idempotency_key="acme:kickoff",
            agenda="Your goals for the first 90 days; who does what; the go-live date",
            now=WED,
        ),
    )
    [path] = list(outbox.glob("*-acme-kickoff_invite-*.eml"))
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 720, "height": 480})
        await page.route("**/*", lambda route: route.abort())
        await page.set_content(_html(path))
        when = "Tuesday 24 November 2026 at 10:15 EST (60 minutes)"
        assert await page.get_by_text(when).is_visible()
        assert await page.get_by_role(
            "link", name="https://meet.vendor.example.com/dana"
        ).is_visible()
        assert await page.get_by_role("link", name="Unsubscribe").count() == 0  # service mail
        await page.screenshot(path=str(ARTIFACTS / "email_kickoff_invite.png"), full_page=True)
        await browser.close()
