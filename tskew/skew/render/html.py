"""Render a skew report (the JSON-able dict of schema version 1) as text, Markdown or HTML.

The renderers only read the report; they never recompute a verdict. Every user string (feature
names, categories, sources, details) is escaped for its medium: control and bidi characters are
made visible in the terminal, Markdown punctuation is backslash-escaped, HTML is entity-escaped.
The HTML page is self-contained and offline: inline CSS, inline SVG charts, no script, and a
Content-Security-Policy that forbids loading anything.

Example:
    >>> psi = {"name": "psi", "value": 0.01, "warn": 0.1, "error": 0.25, "verdict": "ok"}
    >>> report = {"passed": True, "rows": {"training": 10, "serving": 20, "bad_records": 0},
    ...           "features": [{"name": "x", "verdict": "ok", "metrics": [psi]}]}
    >>> "PASSED" in render_text(report, color=False)
    True
    >>> 'id="feature-x"' in render_html(report)
    True
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

SCHEMA_VERSION = 1
VERDICTS = ("error", "warn", "ok", "insufficient_data")

_ANSI = {
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "ok": "\x1b[32m",
    "insufficient_data": "\x1b[2m",
}
_ANSI_BOLD = "\x1b[1m"
_ANSI_RESET = "\x1b[0m"
_COLUMNS = ("feature", "metric", "value", "threshold", "verdict", "worst")

_TRAINING_COLOR = "#4e79a7"
_SERVING_COLOR = "#f28e2b"
_TOP_CATEGORIES = 15
_CHART_WIDTH = 640


class _Row(NamedTuple):
    """One line of the metric table; strings are raw (unescaped)."""

    feature: str
    first: bool  # the first row of its feature's group
    metric: str
    value: str
    threshold: str
    verdict: str
    worst: str


# --------------------------------------------------------------------------- shared helpers


def _is_finite_number(x: Any) -> bool:
    """True for an int or float that is neither NaN nor infinite (bools excluded)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def format_value(x: Any) -> str:
    """Format a metric value or threshold compactly.

    Args:
        x: a number, None or NaN.

    Returns:
        ``"n/a"`` for None/NaN, ``"inf"``/``"-inf"``, else 4 significant digits.

    Example:
        >>> [format_value(v) for v in (0.21, None, float("nan"), 1234567.0, 3)]
        ['0.21', 'n/a', 'n/a', '1.235e+06', '3']
    """
    if x is None or isinstance(x, bool) or not isinstance(x, int | float):
        return "n/a" if x is None else str(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def _format_count(x: Any) -> str:
    """Thousands-separated integer, or ``"?"`` when absent."""
    return f"{int(x):,}" if _is_finite_number(x) else "?"


def _format_pct(x: float) -> str:
    """A share as a percentage; tiny non-zero shares are not shown as 0."""
    if 0 < x < 0.001:
        return "<0.1%"
    return f"{100 * x:.1f}%"


def _threshold(metric: dict[str, Any]) -> str:
    """``"warn 0.05, error 0.1"``, either part omitted when null; ``"-"`` when both are."""
    parts = [
        f"{level} {format_value(metric[level])}"
        for level in ("warn", "error")
        if metric.get(level) is not None
    ]
    return ", ".join(parts) or "-"


def _features(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's feature entries (an empty list when absent)."""
    return list(report.get("features") or [])


def _table_rows(report: dict[str, Any]) -> list[_Row]:
    """One row per metric, grouped by feature; a feature without metrics gets one row."""
    rows: list[_Row] = []
    for feature in _features(report):
        name = str(feature.get("name", ""))
        if feature.get("role") == "output":  # an output may share its name with an input
            name = f"{_quote_empty(name)} (output)"
        metrics = feature.get("metrics") or []
        if not metrics:
            detail = str(feature.get("detail") or _default_detail(feature))
            verdict = str(feature.get("verdict", ""))
            rows.append(_Row(name, True, "-", "-", "-", verdict, detail))
        for i, metric in enumerate(metrics):
            rows.append(
                _Row(
                    feature=name,
                    first=i == 0,
                    metric=str(metric.get("name", "")),
                    value=format_value(metric.get("value")),
                    threshold=_threshold(metric),
                    verdict=str(metric.get("verdict", "")),
                    worst=str(metric.get("detail") or ""),
                )
            )
    return rows


def _default_detail(feature: dict[str, Any]) -> str:
    """What to say about a feature that has no metrics."""
    if feature.get("verdict") == "insufficient_data" and "serving_rows" in feature:
        return f"only {_format_count(feature['serving_rows'])} serving rows"
    return ""


def _schema_problems(report: dict[str, Any]) -> list[str]:
    """Human sentences for the schema section (raw strings, one per kind of problem)."""
    schema = report.get("schema") or {}
    problems = []
    if schema.get("missing_features"):
        problems.append("missing from serving: " + _join_names(schema["missing_features"]))
    if schema.get("unexpected_features"):
        problems.append("unexpected in serving: " + _join_names(schema["unexpected_features"]))
    violations = schema.get("dtype_violations") or {}
    if violations:
        items = [f"{_quote_empty(k)} ({_format_count(v)})" for k, v in violations.items()]
        problems.append("dtype violations: " + ", ".join(items))
    return problems


def _schema_problem_count(report: dict[str, Any]) -> int:
    """Number of features with a schema problem, over all kinds."""
    schema = report.get("schema") or {}
    return sum(
        len(schema.get(key) or ())
        for key in ("missing_features", "unexpected_features", "dtype_violations")
    )


def _join_names(names: Iterable[Any]) -> str:
    return ", ".join(_quote_empty(str(n)) for n in names)


def _quote_empty(s: str) -> str:
    """Show an empty string as ``""`` so it does not vanish."""
    return s if s else '""'


def _field(report: dict[str, Any], key: str) -> str:
    """A top-level string field; ``"?"`` when absent or empty."""
    value = report.get(key)
    return "?" if value in (None, "") else str(value)


def _passed(report: dict[str, Any]) -> bool:
    """The report's own ``passed``; derived from verdicts and schema only when absent."""
    if "passed" in report:
        return bool(report["passed"])
    has_error = any(f.get("verdict") == "error" for f in _features(report))
    return not has_error and _schema_problem_count(report) == 0


def _verdict_counts(report: dict[str, Any]) -> dict[str, int]:
    """Features per verdict, in severity order; unknown verdicts are counted too."""
    counts = dict.fromkeys(VERDICTS, 0)
    for feature in _features(report):
        verdict = str(feature.get("verdict", "unknown"))
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def _rows_summary(report: dict[str, Any]) -> str:
    """``"training 170,000 · serving 1,000,000 · bad records 12"`` (raw)."""
    rows = report.get("rows") or {}
    return (
        f"training {_format_count(rows.get('training'))} · "
        f"serving {_format_count(rows.get('serving'))} · "
        f"bad records {_format_count(rows.get('bad_records', 0))}"
    )


def _status_line(report: dict[str, Any]) -> str:
    """``"FAILED: 1 error, 1 warn, 1 ok, 1 insufficient_data (4 features); 3 schema problems"``."""
    counts = _verdict_counts(report)
    total = sum(counts.values())
    parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    schema = _schema_problem_count(report)
    status = "PASSED" if _passed(report) else "FAILED"
    return f"{status}: {parts} ({total} features); {schema} schema problems"


# --------------------------------------------------------------------------- terminal text


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _printable(s: str) -> str:
    """Make control and bidi characters visible, so a name cannot drive the terminal."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], s)


def _display_width(s: str) -> int:
    """Terminal columns taken by `s` (wide East Asian characters count 2, combining marks 0)."""
    width = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(s: str, width: int) -> str:
    return s + " " * (width - _display_width(s))


def _use_color(color: bool | None) -> bool:
    """Resolve ``color=None``: colour when stdout is a tty and ``NO_COLOR`` is not set."""
    if color is not None:
        return color
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


def _paint(text: str, verdict: str, color: bool) -> str:
    """Wrap `text` in the ANSI colour of `verdict` (unchanged without colour)."""
    code = _ANSI.get(verdict)
    return f"{code}{text}{_ANSI_RESET}" if color and code else text


def _text_cells(row: _Row) -> list[str]:
    feature = _printable(_quote_empty(row.feature)) if row.first else ""
    return [
        feature,
        _printable(row.metric),
        row.value,
        row.threshold,
        row.verdict,
        _printable(row.worst),
    ]


def _text_table(rows: Sequence[_Row], color: bool) -> list[str]:
    """Aligned table lines; only the verdict cell is coloured, so alignment is unaffected."""
    cells = [list(_COLUMNS)] + [_text_cells(r) for r in rows]
    widths = [max(_display_width(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = []
    for n, line in enumerate(cells):
        padded = [_pad(cell, w) for cell, w in zip(line, widths, strict=True)]
        if n > 0:  # paint the verdict, not its padding, so that rstrip still works
            padded[4] = _paint(line[4], rows[n - 1].verdict, color) + padded[4][len(line[4]) :]
        lines.append("  ".join(padded).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _text_header(report: dict[str, Any]) -> list[str]:
    problems = _schema_problems(report)
    schema = f"{_schema_problem_count(report)} ({'; '.join(problems)})" if problems else "none"
    lines = [
        f"tskew skew report: {_printable(_field(report, 'artifact'))} vs "
        f"{_printable(_field(report, 'serving'))}",
        f"rows: {_rows_summary(report)} · schema problems: {_printable(schema)}",
    ]
    for example in report.get("bad_record_examples") or []:
        source = _printable(str(example.get("source", "?")))
        lines.append(f"  bad record {source}: {_printable(str(example.get('reason', '')))}")
    return lines


def render_text(report: dict[str, Any], color: bool | None = None) -> str:
    """Render the report as an aligned terminal table.

    Columns are feature, metric, value, threshold, verdict and worst (the metric's detail), one
    line per metric with the feature named on its first line. Above it: the artifact and serving
    data, row counts, bad records (with examples) and schema problems; below it: PASSED or FAILED
    with the number of features per verdict.

    Args:
        report: a skew report dict (schema version 1).
        color: ANSI colours (red error, yellow warn, green ok, dim insufficient data). None means
            colour when ``sys.stdout`` is a tty and the ``NO_COLOR`` variable is unset.

    Returns:
        The table, lines joined by newlines, ending with a newline.

    Example:
        >>> report = {
        ...     "passed": False, "artifact": "artifacts/flights", "serving": "july.jsonl",
        ...     "rows": {"training": 170000, "serving": 1000, "bad_records": 0},
        ...     "features": [{"name": "fare", "verdict": "error", "metrics": [
        ...         {"name": "psi", "value": 0.4, "warn": 0.1, "error": 0.25, "verdict": "error",
        ...          "detail": "bin [10, 20)"},
        ...         {"name": "ks", "value": None, "warn": None, "error": 0.2, "verdict": "ok"}]}]}
        >>> print(render_text(report, color=False), end="")
        tskew skew report: artifacts/flights vs july.jsonl
        rows: training 170,000 · serving 1,000 · bad records 0 · schema problems: none
        <BLANKLINE>
        feature  metric  value  threshold             verdict  worst
        -------  ------  -----  --------------------  -------  ------------
        fare     psi     0.4    warn 0.1, error 0.25  error    bin [10, 20)
                 ks      n/a    error 0.2             ok
        <BLANKLINE>
        FAILED: 1 error, 0 warn, 0 ok, 0 insufficient_data (1 features); 0 schema problems
    """
    use_color = _use_color(color)
    status = _status_line(report)
    if use_color:
        status = f"{_ANSI_BOLD}{_paint(status, 'ok' if _passed(report) else 'error', True)}"
    lines = [
        *_text_header(report),
        "",
        *_text_table(_table_rows(report), use_color),
        "",
        status,
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")


def _md(s: str) -> str:
    """Escape `s` for a Markdown table cell or line: punctuation, newlines, empty strings."""
    s = _printable(_quote_empty(s)).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_table(rows: Sequence[_Row]) -> list[str]:
    lines = [_md_row(_COLUMNS), "|---|---|--:|---|---|---|"]
    for row in rows:
        verdict = f"**{row.verdict}**" if row.verdict == "error" else _md(row.verdict)
        feature = f"**{_md(row.feature)}**" if row.first else ""
        worst = _md(row.worst) if row.worst else ""
        cells = [feature, _md(row.metric), row.value, row.threshold, verdict, worst]
        lines.append(_md_row(cells))
    return lines


def _md_bad_records(report: dict[str, Any]) -> list[str]:
    examples = report.get("bad_record_examples") or []
    if not examples:
        return []
    count = _format_count((report.get("rows") or {}).get("bad_records", len(examples)))
    lines = ["", f"## Bad records ({count})", "", _md_row(["source", "reason"]), "|---|---|"]
    for example in examples:
        lines.append(
            _md_row([_md(str(example.get("source", "?"))), _md(str(example.get("reason", "")))])
        )
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    """Render the report as a Markdown document with the same table as :func:`render_text`.

    Args:
        report: a skew report dict (schema version 1).

    Returns:
        GitHub-flavoured Markdown: a title with PASSED/FAILED, a summary list, the metric
        table, the schema problems and bad-record examples, and the closing status line.
    """
    status = "PASSED" if _passed(report) else "FAILED"
    problems = _schema_problems(report)
    lines = [
        f"# tskew skew report: {status}",
        "",
        f"- **artifact:** {_md(_field(report, 'artifact'))}",
        f"- **serving:** {_md(_field(report, 'serving'))}",
        f"- **generated at:** {_md(_field(report, 'generated_at'))}",
        f"- **rows:** {_md(_rows_summary(report))}",
        f"- **schema problems:** {_md('; '.join(problems)) if problems else 'none'}",
        "",
        *_md_table(_table_rows(report)),
        *_md_bad_records(report),
        "",
        f"**{_md(_status_line(report))}**",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

_SIMPLE_NAME = re.compile(r"[A-Za-z0-9_.-]+")


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


def _feature_ids(features: Sequence[dict[str, Any]]) -> list[str]:
    """Ids for the features in order, made unique should two names still collide."""
    seen: set[str] = set()
    ids = []
    for feature in features:
        base = candidate = feature_id(str(feature.get("name", "")))
        n = 2
        while candidate in seen:
            candidate, n = f"{base}-{n}", n + 1
        seen.add(candidate)
        ids.append(candidate)
    return ids


def _e(s: Any) -> str:
    """HTML-escape any value as text or attribute content."""
    return html.escape(str(s), quote=True)


def _e_name(s: str) -> str:
    """Escape a user name; the empty string is shown as an italic marker."""
    return _e(s) if s else '<em class="empty">(empty string)</em>'


_CSS = """
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


def _badge(verdict: str) -> str:
    return f'<span class="badge v-{_e(verdict)}">{_e(verdict)}</span>'


def _html_summary(report: dict[str, Any]) -> str:
    passed = _passed(report)
    status = "PASSED" if passed else "FAILED"
    fields = [
        ("artifact", _field(report, "artifact")),
        ("serving", _field(report, "serving")),
        ("generated at", _field(report, "generated_at")),
        ("tool", report.get("tool", "tskew")),
        ("rows", _rows_summary(report)),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in fields)
    return (
        f'<div class="summary {status.lower()}" id="summary">'
        f'<div class="status">{status}</div>'
        f"<p>{_e(_status_line(report))}</p><dl>{items}</dl>"
        f"{_html_overview(report)}</div>"
    )


def _worst_metric(feature: dict[str, Any]) -> dict[str, Any] | None:
    """The metric with the most severe verdict (the first one among equals)."""
    rank = {v: i for i, v in enumerate(VERDICTS)}
    metrics = feature.get("metrics") or []
    return min(metrics, key=lambda m: rank.get(m.get("verdict"), len(rank)), default=None)


def _html_overview(report: dict[str, Any]) -> str:
    features = _features(report)
    rows = []
    for feature, fid in zip(features, _feature_ids(features), strict=True):
        worst = _worst_metric(feature)
        worst_text = (
            f"{_e(worst.get('name', ''))} = {_e(format_value(worst.get('value')))}" if worst else ""
        )
        rows.append(
            f'<tr><td><a href="#{_e(fid)}">{_e_name(str(feature.get("name", "")))}</a></td>'
            f"<td>{_e(feature.get('kind', ''))}</td>"
            f"<td>{_badge(str(feature.get('verdict', '')))}</td><td>{worst_text}</td></tr>"
        )
    head = "<tr><th>feature</th><th>kind</th><th>verdict</th><th>worst metric</th></tr>"
    return f'<table class="overview">{head}{"".join(rows)}</table>'


def _html_schema(report: dict[str, Any]) -> str:
    schema = report.get("schema") or {}
    items = []
    for key, label in (
        ("missing_features", "missing from serving"),
        ("unexpected_features", "unexpected in serving"),
    ):
        names = schema.get(key) or []
        if names:
            items.append(f"<li>{_e(label)}: {', '.join(_e_name(str(n)) for n in names)}</li>")
    violations = schema.get("dtype_violations") or {}
    if violations:
        parts = [f"{_e_name(str(k))} ({_e(_format_count(v))})" for k, v in violations.items()]
        items.append(f"<li>dtype violations: {', '.join(parts)}</li>")
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>none</p>"
    return f'<div id="schema"><h2>Schema problems</h2>{body}</div>'


def _html_bad_records(report: dict[str, Any]) -> str:
    examples = report.get("bad_record_examples") or []
    count = _format_count((report.get("rows") or {}).get("bad_records", len(examples)))
    if not examples:
        return f'<div id="bad-records"><h2>Bad records ({count})</h2><p>no examples</p></div>'
    rows = "".join(
        f"<tr><td>{_e(ex.get('source', '?'))}</td><td>{_e(ex.get('reason', ''))}</td></tr>"
        for ex in examples
    )
    return (
        f'<div id="bad-records"><h2>Bad records ({count})</h2>'
        f"<table><tr><th>source</th><th>reason</th></tr>{rows}</table></div>"
    )


def _html_metrics(feature: dict[str, Any]) -> str:
    metrics = feature.get("metrics") or []
    if not metrics:
        return f'<p class="meta">no metrics: {_e(_default_detail(feature) or "n/a")}</p>'
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS[1:])
    rows = "".join(
        f"<tr><td>{_e(m.get('name', ''))}</td>"
        f'<td class="num">{_e(format_value(m.get("value")))}</td>'
        f"<td>{_e(_threshold(m))}</td><td>{_badge(str(m.get('verdict', '')))}</td>"
        f"<td>{_e(m.get('detail') or '')}</td></tr>"
        for m in metrics
    )
    return f'<table class="metrics"><tr>{head}</tr>{rows}</table>'


def _html_feature(feature: dict[str, Any], fid: str) -> str:
    name = str(feature.get("name", ""))
    verdict = str(feature.get("verdict", ""))
    meta = [str(feature[k]) for k in ("role", "kind", "dtype") if feature.get(k) not in (None, "")]
    for key in ("training_rows", "serving_rows"):
        if key in feature:
            meta.append(f"{key.replace('_', ' ')} {_format_count(feature[key])}")
    return (
        f'<section class="feature" id="{_e(fid)}">'
        f'<h2><span class="name">{_e_name(name)}</span> {_badge(verdict)}</h2>'
        f'<p class="meta">{_e(" · ".join(meta))}</p>'
        f"{_html_metrics(feature)}<figure>{_chart(feature)}</figure></section>"
    )


def render_html(report: dict[str, Any]) -> str:
    """Render the report as a self-contained, offline HTML page.

    The page holds a summary box (status, sources, rows, an overview linking to every feature),
    the schema problems, the bad-record examples, and one ``<section id="feature-...">`` per
    feature (see :func:`feature_id`) with the feature name in its ``<h2>``, its metric table and
    an inline SVG chart: training vs serving histogram bars for numeric features, category bars
    (top categories and "other") for categorical ones, a placeholder otherwise. There is no
    script, no external reference, and a Content-Security-Policy forbidding any load.

    Args:
        report: a skew report dict (schema version 1).

    Returns:
        The HTML document.
    """
    features = _features(report)
    status = "PASSED" if _passed(report) else "FAILED"
    sections = "\n".join(
        _html_feature(f, fid) for f, fid in zip(features, _feature_ids(features), strict=True)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>tskew skew report: {status}</title>\n<style>{_CSS}</style></head>\n"
        f"<body>\n<h1>tskew skew report</h1>\n{_html_summary(report)}\n"
        f"{_html_schema(report)}\n{_html_bad_records(report)}\n{sections}\n</body></html>\n"
    )


# --------------------------------------------------------------------------- SVG charts


def _chart(feature: dict[str, Any]) -> str:
    """The feature's chart as inline SVG (a placeholder when there is nothing to draw)."""
    if feature.get("histogram"):
        return _histogram_svg(feature["histogram"])
    if feature.get("categories"):
        return _categories_svg(feature["categories"])
    reason = "insufficient data" if feature.get("verdict") == "insufficient_data" else "no data"
    return _placeholder_svg(f"no chart: {reason}")


def _num(x: Any) -> float:
    """A share as a float; None, NaN and non-numbers count as 0."""
    return float(x) if _is_finite_number(x) else 0.0


def _svg_open(height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {_CHART_WIDTH} {height:.0f}" role="img" aria-label="{_e(label)}">'
        f"<title>{_e(label)}</title>"
    )


def _placeholder_svg(message: str) -> str:
    return (
        _svg_open(40, message)
        + f'<rect x="0.5" y="0.5" width="{_CHART_WIDTH - 1}" height="39" fill="#f7fafc" '
        'stroke="#cbd5e0" stroke-dasharray="4 3"/>'
        f'<text x="{_CHART_WIDTH / 2}" y="24" text-anchor="middle">{_e(message)}</text></svg>'
    )


def _legend(x: float, y: float) -> str:
    parts = []
    for i, (label, fill) in enumerate((("training", _TRAINING_COLOR), ("serving", _SERVING_COLOR))):
        lx = x + i * 90
        parts.append(
            f'<rect x="{lx}" y="{y - 9}" width="10" height="10" fill="{fill}"/>'
            f'<text x="{lx + 14}" y="{y}">{label}</text>'
        )
    return f'<g class="legend">{"".join(parts)}</g>'


def _bar(x: float, y: float, w: float, h: float, fill: str, tip: str) -> str:
    return (
        f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(w, 0):.2f}" height="{max(h, 0):.2f}" '
        f'fill="{fill}"><title>{_e(tip)}</title></rect>'
    )


class _Slot(NamedTuple):
    """One histogram column: a bin ``[lo, hi)``, or the below/above/NaN mass (``lo`` None)."""

    label: str
    training: float
    serving: float
    lo: float | None = None
    hi: float | None = None


def _histogram_slots(hist: dict[str, Any]) -> list[_Slot]:
    """The bins, plus the below/above/NaN masses that are not empty."""
    edges = [float(e) if _is_finite_number(e) else math.nan for e in hist.get("edges") or []]
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


def _slot_bars(slot: _Slot, x: float, width: float, base: float, scale: float) -> str:
    """The training and serving bars of one slot, side by side, each with a tooltip."""
    bars = []
    for j, (value, fill, who) in enumerate(
        ((slot.training, _TRAINING_COLOR, "training"), (slot.serving, _SERVING_COLOR, "serving"))
    ):
        h = scale * value
        tip = f"{slot.label}: {who} {_format_pct(value)}"
        bars.append(_bar(x + j * width, base - h, width, h, fill, tip))
    return "".join(bars)


def _histogram_svg(hist: dict[str, Any]) -> str:
    """Grouped training/serving bars over the training bins (equal-width slots)."""
    slots = _histogram_slots(hist)
    if not slots:
        return _placeholder_svg("no chart: empty histogram")
    left, top, bottom, height = 52.0, 24.0, 40.0, 240.0
    plot_w, plot_h = _CHART_WIDTH - left - 12, height - top - bottom
    ymax = max(max(s.training, s.serving) for s in slots) or 1.0
    slot_w = plot_w / len(slots)
    parts = [_svg_open(height, "training vs serving histogram"), _legend(left, 14)]
    parts += _y_axis(left, top, plot_w, plot_h, ymax)
    parts += [
        _slot_bars(slot, left + (i + 0.1) * slot_w, slot_w * 0.4, top + plot_h, plot_h / ymax)
        for i, slot in enumerate(slots)
    ]
    parts += _x_labels(slots, left, top + plot_h, slot_w)
    parts.append("</svg>")
    return "".join(parts)


def _y_axis(left: float, top: float, plot_w: float, plot_h: float, ymax: float) -> list[str]:
    """Gridlines and percentage labels at 0, 1/2 and 1 of the largest share."""
    parts = []
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        parts.append(
            f'<line x1="{left}" y1="{y:.2f}" x2="{left + plot_w}" y2="{y:.2f}" stroke="#e2e8f0"/>'
            f'<text x="{left - 4}" y="{y + 4:.2f}" text-anchor="end">'
            f"{_format_pct(ymax * frac)}</text>"
        )
    return parts


def _tick(x: float, y: float, label: str) -> str:
    return f'<text x="{x:.2f}" y="{y + 14}" text-anchor="middle" font-size="9">{_e(label)}</text>'


def _x_labels(slots: Sequence[_Slot], left: float, y: float, slot_w: float) -> list[str]:
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


def _svg_label(label: str | None, limit: int = 24) -> str:
    """A category label as SVG text content: escaped, truncated, markers for empty/other."""
    if label is None:
        return '<tspan font-style="italic">other</tspan>'
    if label == "":
        return '<tspan font-style="italic">(empty string)</tspan>'
    shown = label if len(label) <= limit else label[: limit - 1] + "…"
    return _e(_printable(shown))


def _category_row(label: str | None, tr: float, sv: float, y: float, scale: float) -> str:
    """One category: its label, the training and serving bars, and both shares as text."""
    label_x, bar_end = 170.0, _CHART_WIDTH - 118.0
    name = "other" if label is None else _quote_empty(label)
    tr_tip, sv_tip = f"training {_format_pct(tr)}", f"serving {_format_pct(sv)}"
    return (
        f"<g><title>{_e(name)}: {tr_tip}, {sv_tip}</title>"
        f'<text x="{label_x - 6}" y="{y + 15}" text-anchor="end">{_svg_label(label)}</text>'
        + _bar(label_x, y + 3, (bar_end - label_x) * tr / scale, 9, _TRAINING_COLOR, tr_tip)
        + _bar(label_x, y + 13, (bar_end - label_x) * sv / scale, 9, _SERVING_COLOR, sv_tip)
        + f'<text x="{bar_end + 8}" y="{y + 15}">{_format_pct(tr)} → {_format_pct(sv)}</text></g>'
    )


def _categories_svg(cats: dict[str, Any]) -> str:
    """Horizontal training/serving bar pairs per category, the shares written after them."""
    rows = _category_slots(cats)
    if not rows:
        return _placeholder_svg("no chart: no categories")
    top, row_h = 24.0, 26.0
    scale = max(max(t, s) for _, t, s in rows) or 1.0
    parts = [
        _svg_open(top + row_h * len(rows) + 6, "training vs serving category shares"),
        _legend(170.0, 14),
        *(
            _category_row(label, tr, sv, top + i * row_h, scale)
            for i, (label, tr, sv) in enumerate(rows)
        ),
        "</svg>",
    ]
    return "".join(parts)
