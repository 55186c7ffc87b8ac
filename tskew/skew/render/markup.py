"""A small HTML/SVG builder: escaping holds by construction.

A document is a tree of `Element`s and text. Every ``str`` child and every attribute value
is escaped when the tree is serialised, so user text can never become markup; the only way
to emit markup verbatim is `Trusted`, kept for constants of this package (the style sheet,
the page prologue). Attribute and tag names must be plain identifiers.

Example:
    >>> page = el("p", {"class": "x"}, "a < b & ", el("em", {}, '"c"'), empty("br", {}))
    >>> page.render()
    '<p class="x">a &lt; b &amp; <em>&quot;c&quot;</em><br/></p>'
    >>> el("td", {"title": "<script>"}).render()
    '<td title="&lt;script&gt;"></td>'
    >>> Fragment(["x", void("meta", {"charset": "utf-8"})]).render()
    'x<meta charset="utf-8">'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Union

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9:-]*")
_CHECKED: set[str] = set()  # tag and attribute names already found plain (they are constants)


class Trusted(str):
    """Markup emitted as is: only for constants of this package, never for report data."""

    __slots__ = ()


Node = Union["Element", "Fragment", str]


def escape(text: str) -> str:
    """Text or attribute content with ``& < > " '`` escaped."""
    return html.escape(text, quote=True)


def _check_name(name: str) -> None:
    if name not in _CHECKED:
        if not _NAME.fullmatch(name):
            raise ValueError(f"not a tag or attribute name: {name!r}")
        _CHECKED.add(name)


def _attributes(attrs: Mapping[str, object]) -> str:
    parts = []
    for name, value in attrs.items():
        # Numbers print as digits, signs, dots and "e" (or inf/nan): nothing to escape.
        text = str(value) if type(value) in (int, float) else html.escape(str(value), quote=True)
        parts.append(f' {name}="{text}"')
    return "".join(parts)


def _render(node: Node, out: list[str]) -> None:
    if isinstance(node, _NODES):
        node.write(out)
    elif isinstance(node, Trusted):
        out.append(node)
    elif isinstance(node, str):
        out.append(escape(node))
    else:
        raise TypeError(f"not markup: {type(node).__name__}")


class Fragment:
    """Nodes side by side, with no element around them."""

    __slots__ = ("children",)

    def __init__(self, children: Iterable[Node]):
        self.children = tuple(children)

    def write(self, out: list[str]) -> None:
        for child in self.children:
            _render(child, out)

    def render(self) -> str:
        out: list[str] = []
        self.write(out)
        return "".join(out)


class Element:
    """``<tag attrs>children</tag>``; ``end`` "void" (HTML ``<meta>``) or "self" (SVG ``<rect/>``)
    for elements without children. Attribute values are formatted with ``str``."""

    __slots__ = ("attrs", "children", "end", "tag")

    def __init__(
        self, tag: str, attrs: Mapping[str, object], children: tuple[Node, ...], end: str = "tag"
    ):
        if tag not in _CHECKED or not _CHECKED.issuperset(attrs):
            for name in (tag, *attrs):
                _check_name(name)
        if end != "tag" and children:
            raise ValueError(f"<{tag}> ends without a closing tag, so it has no children")
        self.tag, self.attrs, self.children, self.end = tag, dict(attrs), children, end

    def write(self, out: list[str]) -> None:
        attrs = _attributes(self.attrs) if self.attrs else ""
        out.append(f"<{self.tag}{attrs}{'/>' if self.end == 'self' else '>'}")
        if self.end == "tag":
            for child in self.children:
                _render(child, out)
            out.append(f"</{self.tag}>")

    def render(self) -> str:
        out: list[str] = []
        self.write(out)
        return "".join(out)


_NODES = (Element, Fragment)


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: Node) -> Element:
    """An element with a closing tag."""
    return Element(tag, attrs or {}, children)


def void(tag: str, attrs: Mapping[str, object]) -> Element:
    """An HTML void element (``<meta ...>``): no children, no closing tag."""
    return Element(tag, attrs, (), "void")


def empty(tag: str, attrs: Mapping[str, object]) -> Element:
    """An empty SVG element written self-closing (``<rect .../>``)."""
    return Element(tag, attrs, (), "self")


def join(nodes: Iterable[Node], separator: str) -> Fragment:
    """``nodes`` with ``separator`` (text, escaped) between them."""
    out: list[Node] = []
    for i, node in enumerate(nodes):
        if i:
            out.append(separator)
        out.append(node)
    return Fragment(out)
