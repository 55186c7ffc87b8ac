"""The skew report as a self-contained, offline HTML page with inline SVG charts.

The page is built with `tskew.skew.render.markup`, so every user string (feature names,
categories, sources, details) is escaped by construction. No script, no external reference,
and a Content-Security-Policy that forbids loading anything.

Example:
    >>> psi = {"name": "psi", "value": 0.01, "warn": 0.1, "error": 0.25, "verdict": "ok"}
    >>> report = {"passed": True, "rows": {"training": 10, "serving": 20, "bad_records": 0},
    ...           "features": [{"name": "<x>", "verdict": "ok", "metrics": [psi]}]}
    >>> page = render_html(report)
    >>> '<span class="name">&lt;x&gt;</span>' in page, "<x>" in page
    (True, False)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from tskew.skew.render.common import (
    COLUMNS,
    VERDICTS,
    default_detail,
    features,
    field,
    format_count,
    format_value,
    passed,
    rows_summary,
    status_line,
    threshold,
)
from tskew.skew.render.markup import Element, Fragment, Node, Trusted, el, join, void
from tskew.skew.render.svg import chart

_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_.-]+")
# Constant markup: the single quotes of the policy are written as they are.
_CSP = Trusted(
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
)


def feature_id(name: str) -> str:
    """The HTML ``id`` of a feature's section: ``feature-<name>`` for plain names.

    Names with other characters are slugged and given a short hash of the full name, so
    distinct names keep distinct ids.

    Example:
        >>> feature_id("fare"), feature_id("<b>x&y</b>")[:16]
        ('feature-fare', 'feature-b-x-y-b-')
    """
    if _SIMPLE_NAME.fullmatch(name):
        return f"feature-{name}"
    slug = re.sub(r"[^A-Za-z0-9_.]+", "-", name).strip("-")
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"feature-{slug}-{digest}" if slug else f"feature-{digest}"


def _feature_ids(entries: Sequence[dict[str, Any]]) -> list[str]:
    """Ids for the features in order, made unique should two names still collide."""
    seen: set[str] = set()
    ids = []
    for feature in entries:
        base = candidate = feature_id(str(feature.get("name", "")))
        n = 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        ids.append(candidate)
    return ids


def _name(s: str) -> Node:
    """A user name; the empty string is shown as an italic marker."""
    return s if s else el("em", {"class": "empty"}, "(empty string)")


def _badge(verdict: str) -> Element:
    return el("span", {"class": f"badge v-{verdict}"}, verdict)


def _row(*cells: Node, tag: str = "td") -> Element:
    return el("tr", {}, *(el(tag, {}, cell) for cell in cells))


def _html_summary(report: dict[str, Any]) -> Element:
    status = "PASSED" if passed(report) else "FAILED"
    fields = [
        ("artifact", field(report, "artifact")),
        ("serving", field(report, "serving")),
        ("generated at", field(report, "generated_at")),
        ("tool", str(report.get("tool", "tskew"))),
        ("rows", rows_summary(report)),
    ]
    items = [part for k, v in fields for part in (el("dt", {}, k), el("dd", {}, v))]
    return el(
        "div",
        {"class": f"summary {status.lower()}", "id": "summary"},
        el("div", {"class": "status"}, status),
        el("p", {}, status_line(report)),
        el("dl", {}, *items),
        _html_overview(report),
    )


def _worst_metric(feature: dict[str, Any]) -> dict[str, Any] | None:
    """The metric with the most severe verdict (the first one among equals)."""
    rank = {v: i for i, v in enumerate(VERDICTS)}
    metrics = feature.get("metrics") or []
    return min(metrics, key=lambda m: rank.get(m.get("verdict"), len(rank)), default=None)


def _html_overview(report: dict[str, Any]) -> Element:
    entries = features(report)
    rows = []
    for feature, fid in zip(entries, _feature_ids(entries), strict=True):
        worst = _worst_metric(feature)
        worst_text = ""
        if worst:
            worst_text = f"{worst.get('name', '')} = {format_value(worst.get('value'))}"
        link = el("a", {"href": f"#{fid}"}, _name(str(feature.get("name", ""))))
        kind = str(feature.get("kind", ""))
        rows.append(_row(link, kind, _badge(str(feature.get("verdict", ""))), worst_text))
    head = _row("feature", "kind", "verdict", "worst metric", tag="th")
    return el("table", {"class": "overview"}, head, *rows)


def _html_schema(report: dict[str, Any]) -> Element:
    schema = report.get("schema") or {}
    items = []
    for key, label in (
        ("missing_features", "missing from serving"),
        ("unexpected_features", "unexpected in serving"),
    ):
        names = schema.get(key) or []
        if names:
            items.append(el("li", {}, f"{label}: ", join((_name(str(n)) for n in names), ", ")))
    violations = schema.get("dtype_violations") or {}
    if violations:
        parts = (Fragment([_name(str(k)), f" ({format_count(v)})"]) for k, v in violations.items())
        items.append(el("li", {}, "dtype violations: ", join(parts, ", ")))
    body = el("ul", {}, *items) if items else el("p", {}, "none")
    return el("div", {"id": "schema"}, el("h2", {}, "Schema problems"), body)


def _html_bad_records(report: dict[str, Any]) -> Element:
    examples = report.get("bad_record_examples") or []
    count = format_count((report.get("rows") or {}).get("bad_records", len(examples)))
    title = el("h2", {}, f"Bad records ({count})")
    if not examples:
        return el("div", {"id": "bad-records"}, title, el("p", {}, "no examples"))
    rows = [_row(str(ex.get("source", "?")), str(ex.get("reason", ""))) for ex in examples]
    table = el("table", {}, _row("source", "reason", tag="th"), *rows)
    return el("div", {"id": "bad-records"}, title, table)


def _html_metrics(feature: dict[str, Any]) -> Element:
    metrics = feature.get("metrics") or []
    if not metrics:
        return el("p", {"class": "meta"}, f"no metrics: {default_detail(feature) or 'n/a'}")
    rows = [
        el(
            "tr",
            {},
            el("td", {}, str(m.get("name", ""))),
            el("td", {"class": "num"}, format_value(m.get("value"))),
            el("td", {}, threshold(m)),
            el("td", {}, _badge(str(m.get("verdict", "")))),
            el("td", {}, str(m.get("detail") or "")),
        )
        for m in metrics
    ]
    return el("table", {"class": "metrics"}, _row(*COLUMNS[1:], tag="th"), *rows)


def _html_feature(feature: dict[str, Any], fid: str) -> Element:
    name = str(feature.get("name", ""))
    verdict = str(feature.get("verdict", ""))
    meta = [str(feature[k]) for k in ("role", "kind", "dtype") if feature.get(k) not in (None, "")]
    for key in ("training_rows", "serving_rows"):
        if key in feature:
            meta.append(f"{key.replace('_', ' ')} {format_count(feature[key])}")
    heading = el("h2", {}, el("span", {"class": "name"}, _name(name)), " ", _badge(verdict))
    return el(
        "section",
        {"class": "feature", "id": fid},
        heading,
        el("p", {"class": "meta"}, " · ".join(meta)),
        _html_metrics(feature),
        el("figure", {}, chart(feature)),
    )


def render_html(report: dict[str, Any]) -> str:
    """Render the report as a self-contained, offline HTML page.

    The page holds a summary box (status, sources, rows, an overview linking to every feature),
    the schema problems, the bad-record examples, and one ``<section id="feature-...">`` per
    feature (see `feature_id`) with the feature name in its ``<h2>``, its metric table and
    an inline SVG chart: training vs serving histogram bars for numeric features, category bars
    (top categories and "other") for categorical ones, a placeholder otherwise. There is no
    script, no external reference, and a Content-Security-Policy forbidding any load.

    Args:
        report: a skew report dict (schema version 1).

    Returns:
        The HTML document.
    """
    entries = features(report)
    status = "PASSED" if passed(report) else "FAILED"
    sections = (
        _html_feature(f, fid) for f, fid in zip(entries, _feature_ids(entries), strict=True)
    )
    head = el(
        "head",
        {},
        void("meta", {"charset": "utf-8"}),
        "\n",
        _CSP,
        "\n",
        void("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}),
        "\n",
        el("title", {}, f"tskew skew report: {status}"),
        "\n",
        el("style", {}, _CSS),
    )
    body = el(
        "body",
        {},
        *("\n", el("h1", {}, "tskew skew report"), "\n", _html_summary(report), "\n"),
        *(_html_schema(report), "\n", _html_bad_records(report), "\n"),
        *(join(sections, "\n"), "\n"),
    )
    page = Fragment([Trusted("<!DOCTYPE html>\n"), el("html", {"lang": "en"}, head, "\n", body)])
    return page.render() + "\n"


_CSS = Trusted(
    """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1000px;padding:16px 24px;color:#1a202c;background:#fff}
h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin:0 0 6px}
.summary{border:2px solid #cbd5e0;border-radius:8px;padding:12px 16px;margin:12px 0}
.summary.failed{border-color:#c53030;background:#fff5f5}
.summary.passed{border-color:#2f855a;background:#f0fff4}
.status{font-size:20px;font-weight:700}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
dt{font-weight:600}dd{margin:0;word-break:break-all}
table{border-collapse:collapse;margin:8px 0;width:100%}
th,td{border-bottom:1px solid #e2e8f0;padding:3px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
section{border:1px solid #e2e8f0;border-radius:8px;padding:12px 16px;margin:16px 0}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;
color:#fff;background:#718096;vertical-align:middle}
.v-error{background:#c53030}.v-warn{background:#b7791f}.v-ok{background:#2f855a}
.v-insufficient_data{background:#a0aec0}
.meta{color:#4a5568;margin:0 0 6px}
em.empty{color:#718096}
svg{max-width:100%;height:auto;display:block}
svg text{font:11px system-ui,sans-serif;fill:#2d3748}
"""
)
