"""The skew report as an aligned terminal table (ANSI colours on a tty, ``NO_COLOR`` honoured).

Control and bidi characters in user strings are made visible, so a feature name cannot
drive the terminal.

Example:
    >>> psi = {"name": "psi", "value": 0.01, "warn": 0.1, "error": 0.25, "verdict": "ok"}
    >>> report = {"passed": True, "rows": {"training": 10, "serving": 20, "bad_records": 0},
    ...           "features": [{"name": "x", "verdict": "ok", "metrics": [psi]}]}
    >>> "PASSED" in render_text(report, color=False)
    True
"""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any

from tskew.skew.render.common import (
    COLUMNS,
    Row,
    field,
    passed,
    printable,
    quote_empty,
    rows_summary,
    schema_problem_count,
    schema_problems,
    status_line,
    table_rows,
)

_ANSI = {
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "ok": "\x1b[32m",
    "insufficient_data": "\x1b[2m",
}
_ANSI_BOLD = "\x1b[1m"
_ANSI_RESET = "\x1b[0m"


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


def _text_cells(row: Row) -> list[str]:
    feature = printable(quote_empty(row.feature)) if row.first else ""
    return [
        feature,
        printable(row.metric),
        row.value,
        row.threshold,
        row.verdict,
        printable(row.worst),
    ]


def _text_table(rows: Sequence[Row], color: bool) -> list[str]:
    """Aligned table lines; only the verdict cell is coloured, so alignment is unaffected."""
    cells = [list(COLUMNS)] + [_text_cells(r) for r in rows]
    widths = [max(_display_width(line[i]) for line in cells) for i in range(len(COLUMNS))]
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
    problems = schema_problems(report)
    schema = f"{schema_problem_count(report)} ({'; '.join(problems)})" if problems else "none"
    lines = [
        f"tskew skew report: {printable(field(report, 'artifact'))} vs "
        f"{printable(field(report, 'serving'))}",
        f"rows: {rows_summary(report)} · schema problems: {printable(schema)}",
    ]
    for example in report.get("bad_record_examples") or []:
        source = printable(str(example.get("source", "?")))
        lines.append(f"  bad record {source}: {printable(str(example.get('reason', '')))}")
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
    status = status_line(report)
    if use_color:
        status = f"{_ANSI_BOLD}{_paint(status, 'ok' if passed(report) else 'error', True)}"
    lines = [
        *_text_header(report),
        "",
        *_text_table(table_rows(report), use_color),
        "",
        status,
    ]
    return "\n".join(lines) + "\n"
