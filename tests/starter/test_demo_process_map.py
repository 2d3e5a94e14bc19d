"""The demo year as a CS leader reads its process map: handoffs of at least five functions done,
one overdue handoff escalated to its function's lead, and the account's swimlane picture the
demo wrote, opened in headless Chromium (screenshot in tests/artifacts/)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

from domain.process_map import load_map
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.demo_year import DemoYear


def _lines(demo_year: DemoYear) -> list[str]:
    return [line for a in demo_year.summary["accounts"] for line in a["handoffs"]]


def test_the_year_shows_handoffs_of_five_functions_and_one_escalation(demo_year: DemoYear):
    done_by = {line.split(":")[0] for line in _lines(demo_year) if " done" in line}
    assert len(done_by) >= 5, done_by
    slow = demo_year.summary["accounts"][0]["handoffs"]
    assert any(line.startswith("Services:") and "escalated to the lead" in line for line in slow), (
        slow
    )
    others = [a["handoffs"] for a in demo_year.summary["accounts"][1:]]
    assert not any("escalated" in line for lines in others for line in lines), others


@needs_chromium
async def test_the_demo_process_map_picture_reads_in_chromium(demo_year: DemoYear):
    from playwright.async_api import async_playwright

    svg = demo_year.cwd / demo_year.summary["process_map_svg"]
    assert svg.is_file(), svg
    shipped = load_map()
    root = ElementTree.parse(svg).getroot()
    width, height = (int(float(root.get(side) or 0)) for side in ("width", "height"))
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": width, "height": height})
        await page.goto(Path(svg).resolve().as_uri())
        text = await page.evaluate("document.documentElement.textContent")
        for function in shipped.functions:
            assert function.name in text
        for milestone in shipped.milestones:
            assert milestone.title in text, milestone.title
        assert "today" in text
        await page.screenshot(path=str(ARTIFACTS / "demo_process_map.png"))
        await browser.close()
