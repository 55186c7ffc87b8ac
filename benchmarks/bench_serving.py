"""Serving latency and throughput: tskew's SavedModel vs TFT's layer vs a hand-written floor.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_serving.py``.
All three are built in this process from the same training rows (the first
``--train-rows`` of the flights data, `preprocessing.py`'s two definitions):

* tskew: ``export_saved_model``, loaded with ``tf.saved_model.load``, called via
  ``.signatures["serving_default"]`` with one ``[batch]`` tensor per feature plus
  ``<name>__missing`` masks;
* TFT: ``tft.TFTransformOutput(dir).transform_features_layer()`` after
  ``tft_beam.AnalyzeDataset`` (DirectRunner), called with one SparseTensor per
  feature (no value = missing; float features as float32, see
  `serving_models.float32_lists`); ``transform_raw_features`` (same SavedModel,
  no Keras layer) is measured too, for reference;
* floor: a hand-written ``tf.function`` with tskew's signature and constants
  (serving_models.py), saved and loaded like tskew's.

Serving rows come from the flights table after the training rows. Inputs are
built before timing; outputs are not copied to numpy. Each measurement runs
``--repeat`` times, interleaved (run 1 of every system, then run 2, ...);
the table shows the best run, and per-run ratios give the spread.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import serving_models as sm  # noqa: E402
from flights_data import as_lists, flights_table, replicated  # noqa: E402
from results import write_section  # noqa: E402

SYSTEMS = ("tskew", "tft_layer", "tft_raw", "floor")
LABELS = {
    "tskew": "tskew SavedModel signature",
    "tft_layer": "TFT transform_features_layer",
    "tft_raw": "TFT transform_raw_features (no Keras)",
    "floor": "floor (hand-written tf.function)",
}


def latency_us(fn, inputs: list, calls: int, warmup: int) -> tuple[float, float]:
    """p50 and p99 (microseconds) of ``calls`` single calls, cycling through ``inputs``."""
    for i in range(warmup):
        fn(inputs[i % len(inputs)])
    times = np.empty(calls)
    gc.collect()
    gc.disable()
    try:
        for i in range(calls):
            x = inputs[i % len(inputs)]
            t0 = time.perf_counter_ns()
            fn(x)
            times[i] = time.perf_counter_ns() - t0
    finally:
        gc.enable()
    return float(np.percentile(times, 50)) / 1e3, float(np.percentile(times, 99)) / 1e3


def throughput(fn, batches: list, calls: int, warmup: int, rows: int) -> float:
    """Rows per second over ``calls`` calls of ``rows``-row batches."""
    for i in range(warmup):
        fn(batches[i % len(batches)])
    gc.collect()
    t0 = time.perf_counter()
    for i in range(calls):
        fn(batches[i % len(batches)])
    return calls * rows / (time.perf_counter() - t0)


def op_histogram(concrete_fn) -> tuple[int, dict[str, int]]:
    """Op count of a function's graph including its (nested) library functions."""
    graph_def = concrete_fn.graph.as_graph_def()
    counts: dict[str, int] = {}
    nodes = list(graph_def.node)
    for fdef in graph_def.library.function:
        nodes.extend(fdef.node_def)
    for node in nodes:
        counts[node.op] = counts.get(node.op, 0) + 1
    return len(nodes), counts


def compare(a: dict, b: dict) -> dict[str, str]:
    """Per-output agreement of two output dicts (exact for ints, max |diff| for floats)."""
    out = {}
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
            out[name] = f"max |diff| {np.nanmax(diff):.2g}"
        else:
            out[name] = f"{np.mean(x == y):.1%} equal"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2000, help="timed 1-row calls per run")
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batch-calls", type=int, default=200, help="timed batches per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    import tensorflow as tf
    import tensorflow_transform as tft

    train_path = replicated(args.train_rows)
    full = flights_table()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        tfn = sm.train_tskew(train_path)
        sm.export_tskew(tfn, tmp / "tskew")
        sm.export_floor(tfn, tmp / "floor")
        t1 = time.perf_counter()
        lists_path = sm.float32_lists(as_lists(train_path))
        sm.train_tft(lists_path, tmp / "tft")
        t2 = time.perf_counter()
        print(f"built: tskew + floor {t1 - t0:.1f} s, TFT analyze {t2 - t1:.1f} s", flush=True)

        tskew_sig = tf.saved_model.load(str(tmp / "tskew")).signatures["serving_default"]
        floor_sig = tf.saved_model.load(str(tmp / "floor")).signatures["serving_default"]
        tft_output = tft.TFTransformOutput(str(tmp / "tft"))
        layer = tft_output.transform_features_layer()
        fns = {
            "tskew": lambda x: tskew_sig(**x),
            "floor": lambda x: floor_sig(**x),
            "tft_layer": lambda x: layer(x),
            "tft_raw": lambda x: tft_output.transform_raw_features(x),
        }
        raw_dtypes = sm.tft_raw_dtypes(lists_path)

        # Serving rows: after the training rows (unseen tail numbers reach the OOV bucket).
        start = min(args.train_rows, full.num_rows - 64 * args.batch)
        n_single = 512
        singles = [full.slice(start + i, 1) for i in range(n_single)]
        batches = [full.slice(start + n_single + k * args.batch, args.batch) for k in range(20)]
        inputs = {}
        for system in SYSTEMS:
            if system.startswith("tft"):
                make = lambda rows: sm.tft_inputs(raw_dtypes, rows)  # noqa: E731
            else:
                make = lambda rows: sm.tskew_inputs(tfn, rows)  # noqa: E731
            inputs[system] = ([make(r) for r in singles], [make(b) for b in batches])

        outs = {s: fns[s](inputs[s][1][0]) for s in SYSTEMS}
        outs = {s: {k: v.numpy() for k, v in o.items()} for s, o in outs.items()}
        floor_check = compare(outs["tskew"], outs["floor"])
        tft_check = compare(outs["tskew"], outs["tft_layer"])
        print("tskew vs floor:", floor_check)
        print("tskew vs TFT:  ", tft_check)

        graphs = {
            "tskew": op_histogram(tskew_sig),
            "floor": op_histogram(floor_sig),
        }

        runs: dict[str, list[dict]] = {s: [] for s in SYSTEMS}
        for rep in range(args.repeat):
            for system in SYSTEMS:
                p50, p99 = latency_us(fns[system], inputs[system][0], args.calls, args.warmup)
                runs[system].append({"p50": p50, "p99": p99})
            for system in SYSTEMS:
                runs[system][rep]["rows_s"] = throughput(
                    fns[system], inputs[system][1], args.batch_calls, 10, args.batch
                )
            print(
                f"run {rep + 1}: "
                + "; ".join(
                    f"{s} p50 {runs[s][rep]['p50']:.0f} us p99 {runs[s][rep]['p99']:.0f} us "
                    f"{runs[s][rep]['rows_s']:,.0f} rows/s"
                    for s in SYSTEMS
                ),
                flush=True,
            )

    lines = render(args, runs, floor_check, tft_check, graphs)
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", "Serving: SavedModel signature vs TFT", "\n".join(lines))


def tskew_version() -> str:
    """The commit measured, flagged when tskew/ has uncommitted changes (read-only git)."""
    import subprocess

    def git(*cmd: str) -> str:
        proc = subprocess.run(["git", *cmd], cwd=HERE.parent, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "tskew")
    return head + (" + uncommitted changes in tskew/" if dirty else "")


def render(args, runs: dict, floor_check: dict, tft_check: dict, graphs: dict) -> list[str]:
    """Markdown: best-of table with ratios (time ratios: > 1 means the first is slower)."""

    def best(system: str, key: str) -> float:
        values = [r[key] for r in runs[system]]
        return max(values) if key == "rows_s" else min(values)

    def time_ratio(a: str, b: str, key: str, rep: int | None = None) -> float:
        """time(a) / time(b) for one metric: best-of values, or run ``rep``'s."""
        va = best(a, key) if rep is None else runs[a][rep][key]
        vb = best(b, key) if rep is None else runs[b][rep][key]
        return vb / va if key == "rows_s" else va / vb

    def spread(system: str, key: str) -> str:
        values = [r[key] for r in runs[system]]
        return f"{(max(values) - min(values)) / min(values):.0%}"

    def ratio_cell(a: str, b: str, key: str) -> str:
        per_run = [time_ratio(a, b, key, rep) for rep in range(len(runs[a]))]
        return f"{time_ratio(a, b, key):.2f}x ({min(per_run):.2f}-{max(per_run):.2f})"

    metrics = [
        ("p50", "1 row, p50 latency (µs)", "{:,.0f}"),
        ("p99", "1 row, p99 latency (µs)", "{:,.0f}"),
        ("rows_s", f"{args.batch:,}-row batches, rows/s", "{:,.0f}"),
    ]
    head = [
        "| measurement | tskew | TFT layer | TFT raw_features | floor "
        "| TFT layer / tskew | tskew / floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    body = []
    for key, label, fmt in metrics:
        cells = [f"{fmt.format(best(s, key))} (±{spread(s, key)})" for s in SYSTEMS]
        body.append(
            f"| {label} | {' | '.join(cells)} | {ratio_cell('tft_layer', 'tskew', key)} "
            f"| {ratio_cell('tskew', 'floor', key)} |"
        )
    per_run = ["", "Every run (p50 µs / p99 µs / rows/s):", ""]
    for system in SYSTEMS:
        cells = ", ".join(
            f"{r['p50']:.0f} / {r['p99']:.0f} / {r['rows_s']:,.0f}" for r in runs[system]
        )
        per_run.append(f"- {LABELS[system]}: {cells}")
    goal_lines = []
    for key, label, _ in metrics:
        if key == "p99":
            continue
        vs_tft = time_ratio("tft_layer", "tskew", key)
        vs_floor = time_ratio("tskew", "floor", key)
        goal_lines.append(
            f"- {label}: tskew is {vs_tft:.1f}x faster than TFT's layer "
            f"(goal >= 5x: {'met' if vs_tft >= 5 else 'NOT met'}) and {vs_floor:.2f}x the floor "
            f"(goal <= 1.2x: {'met' if vs_floor <= 1.2 else 'NOT met'})"
        )
    n_tskew, hist_tskew = graphs["tskew"]
    n_floor, _ = graphs["floor"]
    top = sorted(hist_tskew.items(), key=lambda kv: -kv[1])[:8]
    machine = (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{datetime.date.today().isoformat()}"
    )
    return [
        f"Machine: {machine}; tskew {tskew_version()}. "
        "Command: `.venv/bin/python benchmarks/bench_serving.py`. "
        f"Trained on the first {args.train_rows:,} flights rows; served rows come after them. "
        f"Best of {args.repeat} interleaved runs; each run: {args.calls:,} single-row calls "
        f"after {args.warmup} warm-up calls, and {args.batch_calls} calls of "
        f"{args.batch:,}-row batches. (±x%) is the spread (max - min) / min over the runs; "
        "ratio columns are time ratios (> 1: the first is slower), best-of values with the "
        "per-run range in brackets. Eager calls from Python, outputs not copied to numpy.",
        "",
        *head,
        *body,
        *per_run,
        "",
        *goal_lines,
        f"- graph size (ops incl. nested functions, as loaded): tskew {n_tskew}, "
        f"floor {n_floor}; tskew's most frequent: " + ", ".join(f"{op} {n}" for op, n in top),
        "- tskew vs floor outputs (1,000 rows): "
        + (
            "identical"
            if all(v in ("max |diff| 0", "100.0% equal") for v in floor_check.values())
            else str(floor_check)
        ),
        "- tskew vs TFT outputs (1,000 rows): "
        + ", ".join(f"{k} {v}" for k, v in tft_check.items()),
    ]


if __name__ == "__main__":
    main()
