"""The skew report as GitHub-flavoured Markdown, with the same table as the terminal one.

Every user string is backslash-escaped for Markdown (punctuation that could open a link,
emphasis, a table cell or HTML), its newlines folded and its control characters made visible.

Example:
    >>> report = {"passed": True, "features": [{"name": "<b>|x", "verdict": "ok", "metrics": []}]}
    >>> [line for line in render_markdown(report).splitlines() if "\\\\|" in line]
    ['| **\\\\<b\\\\>\\\\|x** | - | - | - | ok |  |']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tskew.skew.render.common import (
    COLUMNS,
    Row,
    field,
    format_count,
    passed,
    printable,
    quote_empty,
    rows_summary,
    schema_problems,
    status_line,
    table_rows,
)

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")


def _md(s: str) -> str:
    """Escape `s` for a Markdown table cell or line: punctuation, newlines, empty strings."""
    s = printable(quote_empty(s)).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _md_table(rows: Sequence[Row]) -> list[str]:
    lines = [_md_row(COLUMNS), "|---|---|--:|---|---|---|"]
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
    count = format_count((report.get("rows") or {}).get("bad_records", len(examples)))
    lines = ["", f"## Bad records ({count})", "", _md_row(["source", "reason"]), "|---|---|"]
    for example in examples:
        lines.append(
            _md_row([_md(str(example.get("source", "?"))), _md(str(example.get("reason", "")))])
        )
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    """Render the report as a Markdown document with the same table as `render_text`.

    Args:
        report: a skew report dict (schema version 1).

    Returns:
        GitHub-flavoured Markdown: a title with PASSED/FAILED, a summary list, the metric
        table, the schema problems and bad-record examples, and the closing status line.
    """
    status = "PASSED" if passed(report) else "FAILED"
    problems = schema_problems(report)
    lines = [
        f"# tskew skew report: {status}",
        "",
        f"- **artifact:** {_md(field(report, 'artifact'))}",
        f"- **serving:** {_md(field(report, 'serving'))}",
        f"- **generated at:** {_md(field(report, 'generated_at'))}",
        f"- **rows:** {_md(rows_summary(report))}",
        f"- **schema problems:** {_md('; '.join(problems)) if problems else 'none'}",
        "",
        *_md_table(table_rows(report)),
        *_md_bad_records(report),
        "",
        f"**{_md(status_line(report))}**",
    ]
    return "\n".join(lines) + "\n"
