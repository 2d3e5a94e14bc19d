"""/console/today in headless Chromium: a CSM signs in, sees their open tasks by urgency and the
day's plan against what was done, and completes, snoozes, reassigns and logs from the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import col, select

from activities.crm import CrmActivities
from crm.database import Store
from crm.tables import CsmTaskRow, TouchpointRow
from domain.models import TaskInput
from tests.console.conftest import Console
from tests.support.browser import needs_chromium
from tests.support.console_seed import CASEY, MORGAN, PASSWORDS, ROBIN, ConsoleData

pytestmark = needs_chromium


def _task(store: Store, task_id: int) -> CsmTaskRow:
    with store.session() as session:
        row = session.get(CsmTaskRow, task_id)
        assert row is not None
        return row


async def test_signed_out_requests_go_to_sign_in_and_then_where_they_were_going(
    console: Console,
) -> None:
    page = console.page
    for path in ("/console/today", "/console/accounts", "/console"):
        await console.open(path)
        assert page.url.startswith(f"{console.base}/console/sign-in"), (path, page.url)
    await console.open("/console/today?csm=" + CASEY)
    await page.get_by_role("heading", name="Sign in to the CS console").wait_for()
    await console.shoot("sign_in")
    await page.get_by_label("Email address").fill(CASEY)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    assert await alert.inner_text() == "That email address and password do not match."
    # The address typed stays; the password does not.
    assert await page.get_by_label("Email address").input_value() == CASEY
    assert await page.get_by_label("Password").input_value() == ""
    # Again on the same page: it goes where the first request was going.
    await page.get_by_label("Password").fill(PASSWORDS[CASEY])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{console.base}/console/today?csm={CASEY}")
    await page.get_by_role("heading", name="Your day").wait_for()

    await page.get_by_role("button", name="Sign out").click()
    assert await page.get_by_role("status").inner_text() == "You are signed out."
    await console.open("/console/today")
    assert page.url.startswith(f"{console.base}/console/sign-in")


async def test_a_csm_sees_their_day_by_urgency_with_the_plan_chart(
    console: Console, console_data: ConsoleData
) -> None:
    page = console.page
    await console.sign_in(CASEY)
    await page.get_by_role("heading", name="Your day").wait_for()
    main = page.get_by_role("main")

    async def titles(section: str) -> list[str]:
        region = main.get_by_role("region", name=section)
        return [t.strip() for t in await region.get_by_role("heading", level=3).all_inner_texts()]

    assert await titles("Overdue (1)") == ["Call Initech about the failed nightly sync"]
    # Urgent before normal; the task done today is not listed.
    assert await titles("Due today (2)") == [
        "Prepare the renewal call with Acme Corp",
        "Send Globex the onboarding recap",
    ]
    assert await titles("Upcoming (2)") == [
        "Quarterly review with Umbrella",
        "Tidy the Acme Corp contact list",
    ]
    text = await main.inner_text()
    # Robin's tasks are Robin's.
    assert "Meet Stark's new decision maker" not in text
    overdue = main.get_by_role("listitem").filter(has_text="Call Initech")
    overdue_text = await overdue.inner_text()
    assert "High priority" in overdue_text and "overdue by 2 days" in overdue_text
    assert "Initech" in overdue_text
    upcoming = main.get_by_role("listitem").filter(has_text="Tidy the Acme")
    assert "no due date" in await upcoming.inner_text()
    # Plain words only: no enum values, no Python values.
    for raw in ("TaskPriority", "None", "timedelta", "urgent priority", "_"):
        assert raw not in text, raw

    plan = main.get_by_role("region", name="Planned and done today", exact=True)
    chart = plan.get_by_role("img")
    assert await chart.get_attribute("aria-labelledby")
    summary = (
        "3 tasks due today, 1 of them done; 1 task done today in all; "
        "1 call, meeting or note logged."
    )
    assert summary in await plan.inner_text()
    assert summary in await chart.inner_html()  # the chart's description says it too
    await console.shoot_both("today")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the main content;
    # the next stops are the page's own controls, each with a visible focus ring.
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to the main content"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"
    overdue_id = console_data.tasks["Call Initech about the failed nightly sync"]
    await page.locator(f"#outcome-{overdue_id}").focus()
    await page.keyboard.press("Tab")
    ring = await page.evaluate(
        "[document.activeElement.textContent.trim(),"
        " getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert ring == ["Complete “Call Initech about the failed nightly sync”", "solid"]


async def test_a_csm_snoozes_reassigns_completes_and_logs_from_the_page(
    console: Console, console_data: ConsoleData, console_crm: Store
) -> None:
    """On Robin's own new tasks and accounts (Casey's day is the one asserted whole above)."""
    crm = CrmActivities(console_crm)
    tasks = {
        title: crm.create_task_once(
            TaskInput(
                account_id=console_data.accounts["Hooli"],
                owner=ROBIN,
                title=title,
                due_at=datetime.now(UTC) + timedelta(days=2),
            )
        ).id
        for title in ("Send Hooli the usage report", "Update Hooli's contact roles")
    }
    page = console.page
    await console.sign_in(ROBIN)
    report = tasks["Send Hooli the usage report"]
    card = page.locator(f"#task-{report}")
    await card.get_by_text("Snooze or reassign").click()
    later = (datetime.now(UTC) + timedelta(days=10)).date()
    await card.get_by_label("Due again on").fill(later.isoformat())
    await card.get_by_role("button", name="Snooze “Send Hooli the usage report”").click()
    assert await page.get_by_role("status").inner_text() == (
        f"Snoozed “Send Hooli the usage report” until {later.day} {later:%b %Y}, 09:00 UTC."
    )
    assert _task(console_crm, report).due_at == datetime.combine(later, time(9), tzinfo=UTC)

    # A bad snooze is refused in words, and nothing changes.
    card = page.locator(f"#task-{report}")
    await card.get_by_text("Snooze or reassign").click()
    await card.get_by_label("Due again on").evaluate("e => e.removeAttribute('min')")
    await card.get_by_label("Due again on").fill(date(2020, 1, 6).isoformat())
    await card.get_by_role("button", name="Snooze “Send Hooli the usage report”").click()
    assert await page.get_by_role("alert").inner_text() == (
        "To snooze “Send Hooli the usage report”, pick a day after today."
    )
    assert _task(console_crm, report).due_at == datetime.combine(later, time(9), tzinfo=UTC)

    roles = tasks["Update Hooli's contact roles"]
    card = page.locator(f"#task-{roles}")
    await card.get_by_text("Snooze or reassign").click()
    await card.get_by_label("Give it to").fill(MORGAN)
    await card.get_by_role("button", name="Reassign “Update Hooli's contact roles”").click()
    assert await page.get_by_role("status").inner_text() == (
        "Gave “Update Hooli's contact roles” to Morgan."
    )
    assert _task(console_crm, roles).owner == MORGAN
    assert await page.locator(f"#task-{roles}").count() == 0

    # A task without a workflow is completed with its outcome; nothing is told.
    card = page.locator(f"#task-{report}")
    await card.get_by_label("Outcome").fill("sent it with the renewal quote")
    await card.get_by_role("button", name="Complete “Send Hooli the usage report”").click()
    assert await page.get_by_role("status").inner_text() == (
        "Completed “Send Hooli the usage report”."
    )
    done = _task(console_crm, report)
    assert (done.status, done.outcome) == ("done", "sent it with the renewal quote")

    log = page.get_by_role("region", name="Log a call, meeting or note", exact=True)
    # A CSM's log form offers only their own accounts.
    options = await log.get_by_label("Account").locator("option").all_inner_texts()
    assert sorted(options) == console_data.of(ROBIN)
    await log.get_by_label("Account").select_option(label="Stark")
    await log.get_by_label("Meeting").check()
    await log.get_by_label("What was said or done").fill("Planned the <b>rollout</b> together")
    await log.get_by_role("button", name="Log it").click()
    assert await page.get_by_role("status").inner_text() == "Logged a meeting on Stark."
    with console_crm.session() as session:
        logged = session.exec(
            select(TouchpointRow)
            .where(TouchpointRow.account_id == console_data.accounts["Stark"])
            .order_by(col(TouchpointRow.id).desc())
        ).first()
    assert logged is not None
    assert (logged.kind, logged.summary) == ("meeting", "Planned the <b>rollout</b> together")
    assert logged.details == {"logged_by": ROBIN}


async def test_a_manager_opens_any_csms_day_and_a_csm_only_their_own(
    console: Console, console_data: ConsoleData
) -> None:
    page = console.page
    await console.sign_in(MORGAN)
    await page.get_by_label("Show the day of").select_option(value=ROBIN)
    await page.get_by_role("button", name="Show").click()
    await page.get_by_role("heading", name="Robin’s day").wait_for()
    assert "Meet Stark's new decision maker" in await page.get_by_role("main").inner_text()
    # A manager logs on a CSM's accounts from their day; on their own, on none (they own none).
    log = page.get_by_role("region", name="Log a call, meeting or note", exact=True)
    options = await log.get_by_label("Account").locator("option").all_inner_texts()
    assert sorted(options) == console_data.of(ROBIN)
    await console.open("/console/today")
    assert "Open a CSM's day to log on their accounts." in await log.inner_text()

    await page.get_by_role("button", name="Sign out").click()
    await console.sign_in(ROBIN)
    response = await console.open(f"/console/today?csm={CASEY}")
    assert response is not None and response.status == 403
    assert await page.get_by_role("heading", level=1).inner_text() == "For managers"
