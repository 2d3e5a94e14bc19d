"""/console/accounts and /console/accounts/{id} in headless Chromium, on the demo-like CRM: the
portfolio a CSM and a manager see, the account 360 (journey, health and why, contacts,
contract, timeline, workflows linked to the Temporal Web UI), another CSM's account refused, and
a customer's `<script>` shown as text."""

from __future__ import annotations

from urllib.parse import unquote

from tests.console.conftest import UI_URL, Console
from tests.support.browser import needs_chromium
from tests.support.console_seed import CASEY, MORGAN, ROBIN, SCRIPT_COMMENT, ConsoleData

pytestmark = needs_chromium


async def _table(console: Console) -> list[list[str]]:
    rows = console.page.get_by_role("main").locator("table").first.locator("tbody tr")
    return [
        [cell.strip() for cell in await row.locator("th, td").all_inner_texts()]
        for row in await rows.all()
    ]


async def test_a_csm_sees_their_portfolio_and_a_manager_everyones(
    console: Console, console_data: ConsoleData
) -> None:
    page = console.page
    await console.sign_in(CASEY)
    await console.open("/console/accounts")
    await page.get_by_role("heading", name="Your accounts").wait_for()
    rows = await _table(console)
    names = [row[0].splitlines()[0] for row in rows]
    assert names == console_data.of(CASEY)  # by name, Robin's accounts not among them
    acme = next(row for row in rows if row[0].startswith("Acme Corp"))
    assert acme[0].splitlines()[1] == "Enterprise"
    assert acme[1] == "250,000"
    assert "Healthy" in acme[2] and acme[3] == "Renewal"
    text = await page.get_by_role("main").inner_text()
    for raw in ("at_risk", "mid_market", "None", "HealthBand", "LifecycleStage"):
        assert raw not in text, raw
    totals = page.get_by_role("region", name="Totals", exact=True)
    # Acme Corp, Globex, Initech and Umbrella; all but Acme Corp at risk.
    assert "ARR\n316,000\nARR at risk\n66,000 (3 accounts)" in await totals.inner_text()
    await console.shoot_both("accounts_csm")

    # Sorting by a column header, highest ARR first.
    await page.get_by_role("link", name="ARR", exact=True).click()
    await page.get_by_role("link", name="ARR", exact=True).click()
    names = [row[0].splitlines()[0] for row in await _table(console)]
    assert names == ["Acme Corp", "Globex", "Initech", "Umbrella"]
    header = page.get_by_role("columnheader", name="ARR")
    assert await header.get_attribute("aria-sort") == "descending"
    # Filtering keeps the order asked for.
    await page.get_by_text("Filter the accounts").click()
    await page.get_by_label("Health", exact=True).select_option(label="At risk")
    await page.get_by_role("button", name="Show").click()
    assert await page.get_by_role("alert").count() == 0
    assert [row[0].splitlines()[0] for row in await _table(console)] == [
        "Globex",
        "Initech",
        "Umbrella",
    ]

    await page.get_by_role("button", name="Sign out").click()
    await console.sign_in(MORGAN)
    await console.open("/console/accounts")
    await page.get_by_role("heading", name="All accounts").wait_for()
    assert sorted(row[0].splitlines()[0] for row in await _table(console)) == sorted(
        console_data.accounts
    )
    # A manager filters by CSM.
    await page.get_by_text("Filter the accounts").click()
    await page.get_by_label("CSM").select_option(value=ROBIN)
    await page.get_by_role("button", name="Show").click()
    rows = await _table(console)
    assert await page.get_by_role("alert").count() == 0  # every filter the form sent was used
    assert [row[0].splitlines()[0] for row in rows] == ["Hooli", "Stark"]
    assert {row[1] for row in rows} == {"Robin"}
    await console.shoot_both("accounts_manager")


async def test_the_account_360_tells_the_accounts_story(
    console: Console, console_data: ConsoleData
) -> None:
    page = console.page
    account_id = console_data.accounts["Initech"]
    await console.sign_in(CASEY)
    await console.open(f"/console/accounts/{account_id}")
    await page.get_by_role("heading", name="Initech", exact=False).first.wait_for()
    main = page.get_by_role("main")
    facts = await main.get_by_role("region", name="At a glance", exact=True).inner_text()
    assert "12,000" in facts and "Casey (casey.csm@csflow.example)" in facts
    assert "of 100, at risk" in facts

    journey = main.get_by_role("region", name="Journey", exact=True).get_by_role("img")
    described = await journey.inner_html()
    for lane in ("Lifecycle", "Onboarding", "Escalations", "Tasks", "Renewal"):
        assert lane in described, lane
    # The process map's handoffs, a lane per function.
    for lane in ("Finance", "Sales", "Customer Success", "Services", "Support"):
        assert lane in described, lane
    assert "Sales handover notes" in described and "Obstacles to value reviewed" in described

    health = main.get_by_role("region", name="Health", exact=True)
    assert "Health of Initech over the last year" in await health.get_by_role("img").inner_html()
    parts = await health.get_by_role("table").inner_text()
    for part in ("Usage", "Support", "Survey", "Engagement", "Contract"):
        assert part in parts, part
    assert "Why it is" in await health.inner_text()

    contacts = await main.get_by_role("region", name="Contacts", exact=True).inner_text()
    assert "Sam Champion" in contacts and "Decision maker" in contacts
    contract = await main.get_by_role("region", name="Contract", exact=True).inner_text()
    assert "12,000" in contract and "Active" in contract

    # Each workflow links to its page in the Temporal Web UI, by name.
    workflows = main.get_by_role("region", name="Workflows", exact=True)
    journey_link = workflows.get_by_role("link", name="Customer journey")
    href = await journey_link.get_attribute("href")
    assert href == f"{UI_URL}/namespaces/default/workflows/journey-{account_id}"
    escalation = workflows.get_by_role("link", name="Escalation")
    assert unquote(await escalation.get_attribute("href") or "").endswith(
        f"/workflows/escalation-{account_id}-detractor"
    )
    every = workflows.get_by_role("link", name="Every workflow of Initech in the Temporal Web UI")
    assert unquote(await every.get_attribute("href") or "") == (
        f'{UI_URL}/namespaces/default/workflows?query=CustomerId = "{account_id}"'
    )

    # The customer's comment is shown as text: the script neither runs nor becomes markup.
    timeline = main.get_by_role("region", name="Timeline", exact=True)
    assert SCRIPT_COMMENT in await timeline.inner_text()
    assert await page.title() == "Initech · CS console"
    assert await page.locator("main script").count() == 0
    text = await main.inner_text()
    for raw in ("at_risk", "survey_response", "stage_change", "None", "timedelta"):
        assert raw not in text, raw
    await console.shoot_both("account_initech")


async def test_a_csm_is_refused_another_csms_account(
    console: Console, console_data: ConsoleData
) -> None:
    page = console.page
    await console.sign_in(CASEY)
    stark = console_data.accounts["Stark"]
    response = await console.open(f"/console/accounts/{stark}")
    assert response is not None and response.status == 403
    assert await page.get_by_role("heading", level=1).inner_text() == "Not one of yours"
    assert "Stark" not in await page.get_by_role("main").inner_text()
    await console.shoot("account_refused")
    missing = await console.open("/console/accounts/no-such-account")
    assert missing is not None and missing.status == 404

    await page.get_by_role("button", name="Sign out").click()
    await console.sign_in(ROBIN)
    response = await console.open(f"/console/accounts/{stark}")
    assert response is not None and response.status == 200
    await page.get_by_role("button", name="Sign out").click()
    await console.sign_in(MORGAN)  # a manager sees every account
    response = await console.open(f"/console/accounts/{console_data.accounts['Initech']}")
    assert response is not None and response.status == 200
