"""What every report format shares: value formatting, the metric table's rows, summary lines.

The renderers only read the report (the JSON-able dict of schema version 1); they never
recompute a verdict. Strings here are raw: each format escapes them for its medium.

Example:
    >>> [format_value(v) for v in (0.21, None, float("nan"), 1234567.0, 3)]
    ['0.21', 'n/a', 'n/a', '1.235e+06', '3']
    >>> format_pct(0.0004), format_pct(0.25)
    ('<0.1%', '25.0%')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

VERDICTS = ("error", "warn", "ok", "insufficient_data")
COLUMNS = ("feature", "metric", "value", "threshold", "verdict", "worst")


class Row(NamedTuple):
    """One line of the metric table; strings are raw (unescaped)."""

    feature: str
    first: bool  # the first row of its feature's group
    metric: str
    value: str
    threshold: str
    verdict: str
    worst: str


def is_finite_number(x: Any) -> bool:
    """True for an int or float that is neither NaN nor infinite (bools excluded)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def format_value(x: Any) -> str:
    """Format a metric value or threshold compactly.

    Args:
        x: a number, None or NaN.

    Returns:
        ``"n/a"`` for None/NaN, ``"inf"``/``"-inf"``, else 4 significant digits.
    """
    if x is None or isinstance(x, bool) or not isinstance(x, int | float):
        return "n/a" if x is None else str(x)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def format_count(x: Any) -> str:
    """Thousands-separated integer, or ``"?"`` when absent."""
    return f"{int(x):,}" if is_finite_number(x) else "?"


def format_pct(x: float) -> str:
    """A share as a percentage; tiny non-zero shares are not shown as 0."""
    if 0 < x < 0.001:
        return "<0.1%"
    return f"{100 * x:.1f}%"


def threshold(metric: dict[str, Any]) -> str:
    """``"warn 0.05, error 0.1"``, either part omitted when null; ``"-"`` when both are."""
    parts = [
        f"{level} {format_value(metric[level])}"
        for level in ("warn", "error")
        if metric.get(level) is not None
    ]
    return ", ".join(parts) or "-"


def features(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's feature entries (an empty list when absent)."""
    return list(report.get("features") or [])


def table_rows(report: dict[str, Any]) -> list[Row]:
    """One row per metric, grouped by feature; a feature without metrics gets one row."""
    rows: list[Row] = []
    for feature in features(report):
        name = str(feature.get("name", ""))
        if feature.get("role") == "output":  # an output may share its name with an input
            name = f"{quote_empty(name)} (output)"
        metrics = feature.get("metrics") or []
        if not metrics:
            detail = str(feature.get("detail") or default_detail(feature))
            verdict = str(feature.get("verdict", ""))
            rows.append(Row(name, True, "-", "-", "-", verdict, detail))
        for i, metric in enumerate(metrics):
            rows.append(
                Row(
                    feature=name,
                    first=i == 0,
                    metric=str(metric.get("name", "")),
                    value=format_value(metric.get("value")),
                    threshold=threshold(metric),
                    verdict=str(metric.get("verdict", "")),
                    worst=str(metric.get("detail") or ""),
                )
            )
    return rows


def default_detail(feature: dict[str, Any]) -> str:
    """What to say about a feature that has no metrics."""
    if feature.get("verdict") == "insufficient_data" and "serving_rows" in feature:
        return f"only {format_count(feature['serving_rows'])} serving rows"
    return ""


def schema_problems(report: dict[str, Any]) -> list[str]:
    """Human sentences for the schema section (raw strings, one per kind of problem)."""
    schema = report.get("schema") or {}
    problems = []
    if schema.get("missing_features"):
        problems.append("missing from serving: " + join_names(schema["missing_features"]))
    if schema.get("unexpected_features"):
        problems.append("unexpected in serving: " + join_names(schema["unexpected_features"]))
    violations = schema.get("dtype_violations") or {}
    if violations:
        items = [f"{quote_empty(k)} ({format_count(v)})" for k, v in violations.items()]
        problems.append("dtype violations: " + ", ".join(items))
    return problems


def schema_problem_count(report: dict[str, Any]) -> int:
    """Number of features with a schema problem, over all kinds."""
    schema = report.get("schema") or {}
    return sum(
        len(schema.get(key) or ())
        for key in ("missing_features", "unexpected_features", "dtype_violations")
    )


def join_names(names: Iterable[Any]) -> str:
    return ", ".join(quote_empty(str(n)) for n in names)


def quote_empty(s: str) -> str:
    """Show an empty string as ``""`` so it does not vanish."""
    return s if s else '""'


def field(report: dict[str, Any], key: str) -> str:
    """A top-level string field; ``"?"`` when absent or empty."""
    value = report.get(key)
    return "?" if value in (None, "") else str(value)


def passed(report: dict[str, Any]) -> bool:
    """The report's own ``passed``; derived from verdicts and schema only when absent."""
    if "passed" in report:
        return bool(report["passed"])
    has_error = any(f.get("verdict") == "error" for f in features(report))
    return not has_error and schema_problem_count(report) == 0


def verdict_counts(report: dict[str, Any]) -> dict[str, int]:
    """Features per verdict, in severity order; unknown verdicts are counted too."""
    counts = dict.fromkeys(VERDICTS, 0)
    for feature in features(report):
        verdict = str(feature.get("verdict", "unknown"))
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def rows_summary(report: dict[str, Any]) -> str:
    """``"training 170,000 · serving 1,000,000 · bad records 12"`` (raw)."""
    rows = report.get("rows") or {}
    return (
        f"training {format_count(rows.get('training'))} · "
        f"serving {format_count(rows.get('serving'))} · "
        f"bad records {format_count(rows.get('bad_records', 0))}"
    )


def status_line(report: dict[str, Any]) -> str:
    """``"FAILED: 1 error, 1 warn, 1 ok, 1 insufficient_data (4 features); 3 schema problems"``."""
    counts = verdict_counts(report)
    total = sum(counts.values())
    parts = ", ".join(f"{n} {verdict}" for verdict, n in counts.items())
    schema = schema_problem_count(report)
    status = "PASSED" if passed(report) else "FAILED"
    return f"{status}: {parts} ({total} features); {schema} schema problems"


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def printable(s: str) -> str:
    """Make control and bidi characters visible, so a name cannot drive the terminal.

    Example:
        >>> printable("a\\x1b[2Jb")
        'a\\\\x1b[2Jb'
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], s)
