"""The skew half of `tskew demo`: July-December flights replayed as serving logs.

The logs are JSONL files as a serving tier would write them (one TF Serving REST
body per request of a few flights, one file per month, with a couple of broken
lines), checked against the January-June baseline with the skew detector.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import tskew as ts

REQUEST_ROWS = 8  # flights per logged request


def write_serving_logs(flights: pd.DataFrame, directory: Path) -> list[Path]:
    """One JSONL file per month of July-December; each line a TF Serving REST body."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for month in range(7, 13):
        rows = flights[flights["month"] == month].drop(columns=["month", "arr_delay"])
        records = json.loads(rows.to_json(orient="records"))  # NaN -> null, like a client
        path = directory / f"2013-{month:02d}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for start in range(0, len(records), REQUEST_ROWS):
                out.write(json.dumps({"instances": records[start : start + REQUEST_ROWS]}) + "\n")
            if month == 9:  # a truncated write, as happens when a logger is killed
                out.write('{"instances": [{"carrier": "UA", "dep_del\n')
        paths.append(path)
    return paths


def report_skew(tfn: ts.TransformFn, flights: pd.DataFrame, output: Path, echo: Callable) -> None:
    """Write the logs, run the skew report, write its HTML page, print the drifting features."""
    logs = write_serving_logs(flights, output.with_name(output.name + "_serving_logs"))
    pattern = str(logs[0].parent / "2013-*.jsonl")
    report = ts.skew_report(tfn, pattern, artifact=str(output))
    html = report.to_html(output.with_name(output.name + "_skew_report.html"))
    rows = report.rows
    echo(
        f"\nskew report: July-December serving logs ({len(logs)} files, {rows['serving']:,} "
        f"flights, {rows['bad_records']} broken line) vs the January-June baseline "
        f"(tskew skew-report --artifact {output} --serving '{pattern}')"
    )
    for feature in report.feature_list:
        worst = max(feature.metrics, key=lambda m: (m.verdict != "ok", m.value or 0), default=None)
        shown = f"{worst.name} {worst.value:.4g}" if worst and worst.value is not None else ""
        echo(f"  {feature.name:<16} {feature.role:<6} {feature.verdict:<17} {shown}")
    drifting = ", ".join(f"{f} ({m} {v:.3g})" for f, m, v in report.drifting())
    echo(f"top drifting features: {drifting or 'none'}")
    echo(f"verdict: {'PASSED' if report.passed else 'FAILED'}; HTML report: {html.resolve()}")
