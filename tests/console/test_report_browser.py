"""/console/report in headless Chromium: the managers' report on the demo-like CRM, its figures in
words beside each chart; a CSM is refused it and is not offered it."""

from __future__ import annotations

import re

from tests.console.conftest import Console
from tests.support.browser import needs_chromium
from tests.support.console_seed import CASEY, MORGAN

pytestmark = needs_chromium


async def test_a_manager_reads_the_report(console: Console) -> None:
    page = console.page
    await console.sign_in(MORGAN)
    await page.get_by_role("link", name="Report").click()
    await page.get_by_role("heading", name="Customer success report").wait_for()
    main = page.get_by_role("main")

    feel = main.get_by_role("region", name="How customers feel", exact=True)
    said = await feel.inner_text()
    # NPS: 9, 3, 7, 8, 8 -> one promoter, three passives, one detractor.
    assert "5 answers: NPS +0 (1 promoter, 3 passives, 1 detractor)." in said
    # CSAT: 5, 4, 2, 3, 4.
    assert "5 answers: 3.6 out of 5 on average, 60% satisfied." in said
    charts = feel.get_by_role("img")
    assert await charts.count() == 4
    names = [await c.get_attribute("aria-labelledby") for c in await charts.all()]
    assert len(set(names)) == 4  # each chart names itself, none borrows another's title
    assert "NPS answers by score" in await charts.nth(1).inner_html()

    onboarding = await main.get_by_role("region", name="Onboarding", exact=True).inner_text()
    assert "Started\n6" in onboarding and "Completed\n6" in onboarding
    assert "Completion rate\n100%" in onboarding and "Median time to value\n22 days" in onboarding

    renewals = main.get_by_role("region", name="Renewals ahead", exact=True)
    rows = {
        (await row.locator("th").inner_text()): await row.locator("td").all_inner_texts()
        for row in await renewals.locator("tbody tr").all()
    }
    assert rows["Likely to renew"] == ["1 (250,000)", "1 (250,000)"]  # Acme Corp
    assert rows["Renews automatically"] == ["2 (460,000)", "2 (460,000)"]  # Hooli, Stark
    assert rows["At risk"] == ["3 (66,000)", "3 (66,000)"]  # Globex, Initech, Umbrella
    assert rows["All"] == ["6 (776,000)", "6 (776,000)"]

    tasks = main.get_by_role("region", name="Planned against done", exact=True)
    owners = await tasks.locator("tbody th").all_inner_texts()
    assert "Casey (casey.csm@csflow.example)" in owners
    assert "Robin (robin.csm@csflow.example)" in owners

    email = await main.get_by_role(
        "region", name="Email each contact gets", exact=True
    ).inner_html()
    # Globex's champion got three a week, over the cap of two (another test's escalation may
    # have emailed Hooli's champion this week, too).
    most = re.search(r"at most (\d+) emails to one contact in a week; the cap is 2\.", email)
    assert most is not None and int(most[1]) >= 3

    text = await main.inner_text()
    for raw in ("likely_churn", "at_risk", "None", "RenewalOutlook", "nan"):
        assert raw not in text, raw
    await console.shoot_both("report")


async def test_a_csm_is_refused_the_report(console: Console) -> None:
    page = console.page
    await console.sign_in(CASEY)
    nav = page.get_by_role("navigation", name="Console")
    assert await nav.get_by_role("link").all_inner_texts() == ["Today", "Accounts"]
    response = await console.open("/console/report")
    assert response is not None and response.status == 403
    assert await page.get_by_role("heading", level=1).inner_text() == "For managers"
    assert "Only managers can open this page." in await page.get_by_role("main").inner_text()
