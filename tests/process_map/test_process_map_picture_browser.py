"""The process map's picture as a person sees it: the shipped map, and an account's view of it
(tests.support.process_map_seed: milestones done, overdue, blocked, open, waiting and not
started), opened in headless Chromium. Every lane and milestone must be readable: each title
shown whole in its box, no box over another, no text outside its box or over its neighbour.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from crm.database import Store
from domain.process_map import load_map
from starter.process_map_commands import render_account_map
from starter.process_map_picture import LABEL_WIDTH, process_map_svg
from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, needs_chromium
from tests.support.process_map_seed import ACCOUNT, seed_handoffs

pytestmark = needs_chromium

# Where everything landed, as the browser laid it out: [left, top, right, bottom] per element.
LAYOUT = """() => {
  const at = (e) => {
    const b = e.getBoundingClientRect();
    return [b.left, b.top, b.right, b.bottom];
  };
  const all = (selector) => [...document.querySelectorAll(selector)].map(at);
  return {
    milestones: [...document.querySelectorAll("g.milestone")].map((g) => ({
      title: [...g.querySelectorAll("g.title text")].map((t) => t.textContent).join(" "),
      box: at(g.querySelector("rect.box")),
      texts: [...g.querySelectorAll("text")].map(at),
    })),
    lanes: [...document.querySelectorAll("g.lane-name text")].map((t) => t.textContent),
    laneTexts: all("g.lane text"),
    months: all("g.months text"),
    years: all("g.years text"),
    legend: all("g.legend-item"),
    texts: all("text"),
    width: document.documentElement.getBoundingClientRect().width,
  };
}"""


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def _inside(inner: list[float], outer: list[float]) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


def _in_a_row(rects: list[list[float]]) -> bool:
    """Labels along one line, each ending before the next begins."""
    ordered = sorted(rects)
    return all(a[2] <= b[0] for a, b in zip(ordered, ordered[1:], strict=False))


def _check_layout(layout: dict[str, Any]) -> None:
    milestones = layout["milestones"]
    for i, one in enumerate(milestones):
        for other in milestones[i + 1 :]:
            assert not _overlap(one["box"], other["box"]), (one["title"], other["title"])
        for text in one["texts"]:
            assert _inside(text, one["box"]), (one["title"], text, one["box"])
    for text in layout["laneTexts"]:
        assert text[2] <= LABEL_WIDTH, text
    assert _in_a_row(layout["months"]) and _in_a_row(layout["years"])
    legend = layout["legend"]
    assert not any(_overlap(a, b) for i, a in enumerate(legend) for b in legend[i + 1 :])
    assert all(text[2] <= layout["width"] for text in layout["texts"])


async def test_map_and_account_view_are_readable_in_chromium(
    crm_store: Store, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    shipped = load_map()
    seed_handoffs(crm_store, shipped)
    plain = tmp_path / "process_map.svg"
    plain.write_text(process_map_svg(shipped), encoding="utf-8")
    account = render_account_map(crm_store, ACCOUNT, tmp_path / "account.svg", shipped)
    assert account == tmp_path / "account.svg"
    ARTIFACTS.mkdir(exist_ok=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for svg, title, shot in (
            (plain, shipped.title, "process_map.png"),
            (account, f"{shipped.title}: Acme Corp (acme)", "process_map_account.png"),
        ):
            root = ElementTree.parse(svg).getroot()
            width, height = (int(float(root.get(side) or 0)) for side in ("width", "height"))
            # The whole picture in the viewport: Chromium's full-page screenshot of a bare SVG
            # document does not finish.
            page = await browser.new_page(viewport={"width": width, "height": height})
            await page.goto(svg.as_uri())
            assert await page.title() == title
            layout = await page.evaluate(LAYOUT)
            page_text = await page.evaluate("document.documentElement.textContent")
            assert layout["lanes"] == [f.name for f in shipped.functions]
            for function in shipped.functions:
                assert function.name in page_text
            shown = {m["title"] for m in layout["milestones"]}
            assert shown == {m.title for m in shipped.milestones}
            _check_layout(layout)
            await page.screenshot(path=str(ARTIFACTS / shot))
            await page.close()
        await browser.close()
    assert "today, 12 Apr 2030" in account.read_text()
