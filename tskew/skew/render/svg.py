"""Inline SVG charts of a feature: training vs serving histogram bars, or category bars.

Built with `tskew.skew.render.markup`, so category labels, bin labels and tooltips are
escaped by construction.

Example:
    >>> hist = {"edges": [0, 1, 2], "training": [0.5, 0.5], "serving": [0.2, 0.8]}
    >>> page = chart({"histogram": hist}).render()
    >>> page.startswith("<svg") and page.count("<rect") == 4 + 2  # 2 bins x 2, legend 2
    True
    >>> "&lt;b&gt;" in chart({"categories": {"values": ["<b>"], "training": [1.0],
    ...                                      "serving": [1.0]}}).render()
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from tskew.skew.render.common import (
    format_pct,
    format_value,
    is_finite_number,
    printable,
    quote_empty,
)
from tskew.skew.render.markup import Element, Node, el, empty

_TRAINING_COLOR = "#4e79a7"
_SERVING_COLOR = "#f28e2b"
_TOP_CATEGORIES = 15
_CHART_WIDTH = 640


def chart(feature: dict[str, Any]) -> Element:
    """The feature's chart (a placeholder when there is nothing to draw)."""
    if feature.get("histogram"):
        return _histogram_svg(feature["histogram"])
    if feature.get("categories"):
        return _categories_svg(feature["categories"])
    reason = "insufficient data" if feature.get("verdict") == "insufficient_data" else "no data"
    return _placeholder_svg(f"no chart: {reason}")


def _num(x: Any) -> float:
    """A share as a float; None, NaN and non-numbers count as 0."""
    return float(x) if is_finite_number(x) else 0.0


def _svg(height: float, label: str, *children: Node) -> Element:
    size = {"width": _CHART_WIDTH, "height": f"{height:.0f}"}
    attrs = {
        "xmlns": "http://www.w3.org/2000/svg",
        **size,
        "viewBox": f"0 0 {_CHART_WIDTH} {height:.0f}",
        "role": "img",
        "aria-label": label,
    }
    return el("svg", attrs, el("title", {}, label), *children)


def _placeholder_svg(message: str) -> Element:
    frame = {
        "x": "0.5",
        "y": "0.5",
        "width": _CHART_WIDTH - 1,
        "height": "39",
        "fill": "#f7fafc",
        "stroke": "#cbd5e0",
        "stroke-dasharray": "4 3",
    }
    text = el("text", {"x": _CHART_WIDTH / 2, "y": "24", "text-anchor": "middle"}, message)
    return _svg(40, message, empty("rect", frame), text)


def _legend(x: float, y: float) -> Element:
    parts: list[Node] = []
    for i, (label, fill) in enumerate((("training", _TRAINING_COLOR), ("serving", _SERVING_COLOR))):
        lx = x + i * 90
        parts.append(empty("rect", {"x": lx, "y": y - 9, "width": 10, "height": 10, "fill": fill}))
        parts.append(el("text", {"x": lx + 14, "y": y}, label))
    return el("g", {"class": "legend"}, *parts)


def _bar(x: float, y: float, w: float, h: float, fill: str, tip: str) -> Element:
    box = {"x": f"{x:.2f}", "y": f"{y:.2f}", "width": f"{max(w, 0):.2f}"}
    return el("rect", {**box, "height": f"{max(h, 0):.2f}", "fill": fill}, el("title", {}, tip))


class _Slot(NamedTuple):
    """One histogram column: a bin ``[lo, hi)``, or the below/above/NaN mass (``lo`` None)."""

    label: str
    training: float
    serving: float
    lo: float | None = None
    hi: float | None = None


def _histogram_slots(hist: dict[str, Any]) -> list[_Slot]:
    """The bins, plus the below/above/NaN masses that are not empty."""
    edges = [float(e) if is_finite_number(e) else math.nan for e in hist.get("edges") or []]
    training, serving = hist.get("training") or [], hist.get("serving") or []
    n = min(len(training), len(serving), max(len(edges) - 1, 0))
    slots = [
        _Slot(
            f"[{format_value(edges[i])}, {format_value(edges[i + 1])})",
            _num(training[i]),
            _num(serving[i]),
            edges[i],
            edges[i + 1],
        )
        for i in range(n)
    ]
    for key, label, first in (
        ("below", f"< {format_value(edges[0]) if edges else 'min'}", True),
        ("above", f"≥ {format_value(edges[-1]) if edges else 'max'}", False),
        ("nan", "NaN", False),
    ):
        mass = hist.get(key) or {}
        slot = _Slot(label, _num(mass.get("training")), _num(mass.get("serving")))
        if slot.training or slot.serving:
            slots = [slot, *slots] if first else [*slots, slot]
    return slots


def _slot_bars(slot: _Slot, x: float, width: float, base: float, scale: float) -> list[Element]:
    """The training and serving bars of one slot, side by side, each with a tooltip."""
    bars = []
    for j, (value, fill, who) in enumerate(
        ((slot.training, _TRAINING_COLOR, "training"), (slot.serving, _SERVING_COLOR, "serving"))
    ):
        h = scale * value
        tip = f"{slot.label}: {who} {format_pct(value)}"
        bars.append(_bar(x + j * width, base - h, width, h, fill, tip))
    return bars


def _histogram_svg(hist: dict[str, Any]) -> Element:
    """Grouped training/serving bars over the training bins (equal-width slots)."""
    slots = _histogram_slots(hist)
    if not slots:
        return _placeholder_svg("no chart: empty histogram")
    left, top, bottom, height = 52.0, 24.0, 40.0, 240.0
    plot_w, plot_h = _CHART_WIDTH - left - 12, height - top - bottom
    ymax = max(max(s.training, s.serving) for s in slots) or 1.0
    slot_w = plot_w / len(slots)
    parts: list[Node] = [_legend(left, 14), *_y_axis(left, top, plot_w, plot_h, ymax)]
    for i, slot in enumerate(slots):
        x = left + (i + 0.1) * slot_w
        parts += _slot_bars(slot, x, slot_w * 0.4, top + plot_h, plot_h / ymax)
    parts += _x_labels(slots, left, top + plot_h, slot_w)
    return _svg(height, "training vs serving histogram", *parts)


def _y_axis(left: float, top: float, plot_w: float, plot_h: float, ymax: float) -> list[Element]:
    """Gridlines and percentage labels at 0, 1/2 and 1 of the largest share."""
    parts = []
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        line = {"x1": left, "y1": f"{y:.2f}", "x2": left + plot_w, "y2": f"{y:.2f}"}
        parts.append(empty("line", {**line, "stroke": "#e2e8f0"}))
        label = {"x": left - 4, "y": f"{y + 4:.2f}", "text-anchor": "end"}
        parts.append(el("text", label, format_pct(ymax * frac)))
    return parts


def _tick(x: float, y: float, label: str) -> Element:
    attrs = {"x": f"{x:.2f}", "y": y + 14, "text-anchor": "middle", "font-size": "9"}
    return el("text", attrs, label)


def _x_labels(slots: Sequence[_Slot], left: float, y: float, slot_w: float) -> list[Element]:
    """Bin edges under the slot boundaries (about 8 at most), extra masses under their slot."""
    bins = [i for i, s in enumerate(slots) if s.lo is not None]
    step = max(1, math.ceil((len(bins) + 1) / 8))
    ticks = [_tick(left + i * slot_w, y, f"{slots[i].lo:.3g}") for i in bins[::step]]
    if bins:
        last = bins[-1]
        ticks.append(_tick(left + (last + 1) * slot_w, y, f"{slots[last].hi:.3g}"))
    extra = [i for i, s in enumerate(slots) if s.lo is None]
    ticks += [_tick(left + (i + 0.5) * slot_w, y + 12, slots[i].label) for i in extra]
    return ticks


def _category_slots(cats: dict[str, Any]) -> list[tuple[str | None, float, float]]:
    """Top categories then "other" (None as label); categories past the top N fold into it."""
    values = [str(v) for v in cats.get("values") or []]
    training, serving = cats.get("training") or [], cats.get("serving") or []
    n = min(len(values), len(training), len(serving))
    rows: list[tuple[str | None, float, float]] = [
        (values[i], _num(training[i]), _num(serving[i])) for i in range(min(n, _TOP_CATEGORIES))
    ]
    other = cats.get("other") or {}
    other_tr = _num(other.get("training")) + sum(_num(t) for t in training[_TOP_CATEGORIES:n])
    other_sv = _num(other.get("serving")) + sum(_num(s) for s in serving[_TOP_CATEGORIES:n])
    if other or n > _TOP_CATEGORIES:
        rows.append((None, other_tr, other_sv))
    return rows


def _svg_label(label: str | None, limit: int = 24) -> Node:
    """A category label as SVG text content: truncated, markers for empty/other."""
    if label is None:
        return el("tspan", {"font-style": "italic"}, "other")
    if label == "":
        return el("tspan", {"font-style": "italic"}, "(empty string)")
    shown = label if len(label) <= limit else label[: limit - 1] + "…"
    return printable(shown)


def _category_row(label: str | None, tr: float, sv: float, y: float, scale: float) -> Element:
    """One category: its label, the training and serving bars, and both shares as text."""
    label_x, bar_end = 170.0, _CHART_WIDTH - 118.0
    name = "other" if label is None else quote_empty(label)
    tr_tip, sv_tip = f"training {format_pct(tr)}", f"serving {format_pct(sv)}"
    return el(
        "g",
        {},
        el("title", {}, f"{name}: {tr_tip}, {sv_tip}"),
        el("text", {"x": label_x - 6, "y": y + 15, "text-anchor": "end"}, _svg_label(label)),
        _bar(label_x, y + 3, (bar_end - label_x) * tr / scale, 9, _TRAINING_COLOR, tr_tip),
        _bar(label_x, y + 13, (bar_end - label_x) * sv / scale, 9, _SERVING_COLOR, sv_tip),
        el("text", {"x": bar_end + 8, "y": y + 15}, f"{format_pct(tr)} → {format_pct(sv)}"),
    )


def _categories_svg(cats: dict[str, Any]) -> Element:
    """Horizontal training/serving bar pairs per category, the shares written after them."""
    rows = _category_slots(cats)
    if not rows:
        return _placeholder_svg("no chart: no categories")
    top, row_h = 24.0, 26.0
    scale = max(max(t, s) for _, t, s in rows) or 1.0
    return _svg(
        top + row_h * len(rows) + 6,
        "training vs serving category shares",
        _legend(170.0, 14),
        *(
            _category_row(label, tr, sv, top + i * row_h, scale)
            for i, (label, tr, sv) in enumerate(rows)
        ),
    )
