"""HTML (and inline SVG) built as ElementTree elements, so every value is escaped by the
serializer: a column named `<script>` is text, never markup. No template, no string pasting."""

from __future__ import annotations

from xml.etree.ElementTree import Element, tostring

Content = Element | str | int | float | None


def el(tag: str, *content: Content, **attrs: str | float) -> Element:
    """`<tag attrs>content</tag>`: text and child elements in order (None is left out).

    Attribute names are written as given, with `_` for `-` and a trailing `_` dropped
    (`class_` for `class`, `text_anchor` for `text-anchor`).
    """
    node = Element(tag, {name.rstrip("_").replace("_", "-"): str(v) for name, v in attrs.items()})
    for part in content:
        if part is None:
            continue
        if isinstance(part, Element):
            node.append(part)
        elif len(node):
            node[-1].tail = (node[-1].tail or "") + str(part)
        else:
            node.text = (node.text or "") + str(part)
    return node


def html_document(root: Element) -> str:
    """The page as HTML5 text."""
    return "<!DOCTYPE html>\n" + tostring(root, encoding="unicode", method="html") + "\n"
