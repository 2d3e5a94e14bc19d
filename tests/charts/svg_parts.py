"""Reading a chart back: its SVG parsed as XML (which also proves it well-formed)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: Markup) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{NS}svg"
    return root


def find(root: ET.Element, tag: str) -> list[ET.Element]:
    return list(root.iter(f"{NS}{tag}"))


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in find(root, "text")]


def points(polyline: ET.Element) -> list[tuple[float, float]]:
    pairs = (p.split(",") for p in polyline.attrib["points"].split())
    return [(float(x), float(y)) for x, y in pairs]


def tooltip_of(element: ET.Element) -> str | None:
    title = element.find(f"{NS}title")
    return None if title is None else title.text or ""


def tooltips(root: ET.Element, tag: str) -> list[str]:
    """The tooltip of each `tag` element that has one."""
    return [tip for e in find(root, tag) if (tip := tooltip_of(e)) is not None]
