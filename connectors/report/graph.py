"""A stream's column lineage as an inline SVG: source columns on the left, loaded columns on
the right, an edge from each loaded column's source labelled with what the rules did to it."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from connectors.lineage.columns import ColumnLineage, Origin
from connectors.report.elements import el

ROW = 30
TOP = 44
BOX = 230
GAP = 300
NAME_CHARS = 30


def lineage_svg(
    stream: str, lineage: ColumnLineage, source: list[str], target: list[str]
) -> Element:
    """The graph; a source column no loaded column comes from is drawn dimmed (dropped)."""
    used = {origin.source for origin in lineage.columns.values()}
    left = source or sorted(used)
    width = BOX * 2 + GAP + 2
    height = TOP + ROW * max(len(left), len(target), 1)
    right_x = BOX + GAP
    svg = el(
        "svg",
        el("title", f"Column lineage of stream {stream}"),
        el("text", "source columns", x=1, y=16, class_="heading"),
        el("text", "loaded columns", x=right_x + 1, y=16, class_="heading"),
        class_="lineage",
        width=width,
        height=height,
        viewBox=f"0 0 {width} {height}",
        role="img",
        aria_label=f"Column lineage of stream {stream}",
    )
    rows = {name: _y(i) for i, name in enumerate(left)}
    for i, name in enumerate(left):
        svg.append(_node(name, 1, _y(i), "node" if name in used else "node dropped"))
    for i, name in enumerate(target):
        origin = lineage.columns.get(name)
        if origin is not None and origin.source in rows:
            svg.append(_edge(rows[origin.source], _y(i), right_x, origin))
        svg.append(_node(name, right_x, _y(i), "node"))
    return svg


def edge_label(origin: Origin) -> str:
    """What happened on the way (`rename · cast bigint`); `copy` when nothing did."""
    hows = [step.how for step in origin.steps if step.how != "copy"]
    return " · ".join(hows) or "copy"


def _y(row: int) -> int:
    return TOP + ROW * row


def _node(name: str, x: int, y: int, kind: str) -> Element:
    shown = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
    return el(
        "g",
        el("title", name),
        el("rect", x=x, y=y, width=BOX, height=ROW - 8, rx=4),
        el("text", shown, x=x + 8, y=y + 15),
        class_=kind,
    )


def _edge(y1: int, y2: int, right_x: int, origin: Origin) -> Element:
    start, end = BOX + 1, right_x
    mid = (start + end) / 2
    top, bottom = y1 + (ROW - 8) / 2, y2 + (ROW - 8) / 2
    return el(
        "g",
        el("path", d=f"M {start} {top} C {mid} {top}, {mid} {bottom}, {end} {bottom}"),
        el("text", edge_label(origin), x=end - 6, y=bottom - 5, text_anchor="end"),
        class_="edge",
    )
