"""The skew half of `tskew demo`: July-December flights replayed as serving logs.

The logs are JSONL files as a serving tier would write them (one TF Serving REST
body per request of a few flights, one file per month, with a couple of broken
lines), checked against the January-June baseline with the skew detector.
"""

from __future__ import annotations

import json
import time
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


def monitor_live(tfn: ts.TransformFn, flights: pd.DataFrame, echo: Callable) -> None:
    """Replay July as live traffic through a SkewMonitor; halfway an upstream bug starts
    sending distance in kilometres instead of miles, and the monitor's callback fires.

    July's real summer delays also drift from the January-June baseline (dep_delay), so
    that alert is there from the first window: it is in the data, not in the demo.
    """
    july = flights[flights["month"] == 7].drop(columns=["month", "arr_delay"])
    # Requests from many users arrive interleaved, not sorted by flight date.
    july = july.sample(frac=1.0, random_state=13)
    alerts: list[str] = []

    def on_error(report: ts.SkewReport) -> None:
        failing = [f.name for f in report.feature_list if f.verdict == "error"]
        alerts.append(f"ALERT ({report.serving}): {', '.join(failing)}")
        echo(f"  {alerts[-1]}")

    monitor = ts.SkewMonitor(tfn, window=4000, on_error=on_error)
    bug_from = len(july) // 2
    echo(
        f"\nlive monitoring: {len(july):,} July flights replayed as requests of 64 "
        f"(window 4,000 rows); from request {bug_from // 64} on, distance arrives in km"
    )
    started = time.perf_counter()
    for start in range(0, len(july), 64):
        batch = july.iloc[start : start + 64]
        if start >= bug_from:
            batch = batch.assign(distance=(batch["distance"] * 1.609344).round().astype("int64"))
        monitor.observe(batch)
    seconds = time.perf_counter() - started
    for k, report in enumerate(monitor.closed, start=1):
        worst = report.drifting(limit=1)
        shown = f"worst: {worst[0][0]} {worst[0][1]} {worst[0][2]:.3g}" if worst else ""
        echo(f"  window {k}: {'ok  ' if report.passed else 'FAIL'} {shown}")
    echo(
        f"monitored {len(july):,} rows in {seconds:.2f} s "
        f"({len(july) / seconds:,.0f} rows/s); {len(alerts)} alert(s) pushed"
    )
