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
from dataclasses import dataclass
from typing import Union

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9:-]*")


class Trusted(str):
    """Markup emitted as is: only for constants of this package, never for report data."""

    __slots__ = ()


Node = Union["Element", "Fragment", str]


def escape(text: str) -> str:
    """Text or attribute content with ``& < > " '`` escaped."""
    return html.escape(text, quote=True)


def _render(node: Node, out: list[str]) -> None:
    if isinstance(node, Element | Fragment):
        node.write(out)
    elif isinstance(node, Trusted):
        out.append(node)
    elif isinstance(node, str):
        out.append(escape(node))
    else:
        raise TypeError(f"not markup: {type(node).__name__}")


@dataclass(frozen=True)
class Fragment:
    """Nodes side by side, with no element around them."""

    children: tuple[Node, ...] | list[Node]

    def write(self, out: list[str]) -> None:
        for child in self.children:
            _render(child, out)

    def render(self) -> str:
        out: list[str] = []
        self.write(out)
        return "".join(out)


@dataclass(frozen=True)
class Element:
    """``<tag attrs>children</tag>``; ``end`` "void" (HTML ``<meta>``) or "self" (SVG ``<rect/>``)
    for elements without children."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    children: tuple[Node, ...]
    end: str = "tag"

    def __post_init__(self) -> None:
        for name in (self.tag, *(k for k, _ in self.attrs)):
            if not _NAME.fullmatch(name):
                raise ValueError(f"not a tag or attribute name: {name!r}")
        if self.end != "tag" and self.children:
            raise ValueError(f"<{self.tag}> ends without a closing tag, so it has no children")

    def write(self, out: list[str]) -> None:
        out.append(f"<{self.tag}")
        for name, value in self.attrs:
            out.append(f' {name}="{escape(value)}"')
        out.append("/>" if self.end == "self" else ">")
        if self.end == "tag":
            for child in self.children:
                _render(child, out)
            out.append(f"</{self.tag}>")

    def render(self) -> str:
        out: list[str] = []
        self.write(out)
        return "".join(out)


def _attrs(attrs: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((name, str(value)) for name, value in attrs.items())


def el(tag: str, attrs: Mapping[str, object] | None = None, *children: Node) -> Element:
    """An element with a closing tag; attribute values are formatted with ``str``."""
    return Element(tag, _attrs(attrs or {}), children)


def void(tag: str, attrs: Mapping[str, object]) -> Element:
    """An HTML void element (``<meta ...>``): no children, no closing tag."""
    return Element(tag, _attrs(attrs), (), "void")


def empty(tag: str, attrs: Mapping[str, object]) -> Element:
    """An empty SVG element written self-closing (``<rect .../>``)."""
    return Element(tag, _attrs(attrs), (), "self")


def join(nodes: Iterable[Node], separator: str) -> Fragment:
    """``nodes`` with ``separator`` (text, escaped) between them."""
    out: list[Node] = []
    for i, node in enumerate(nodes):
        if i:
            out.append(separator)
        out.append(node)
    return Fragment(out)
