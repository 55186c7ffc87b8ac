"""Serving the Chicago taxi transform: onnxruntime vs an Identity floor vs SavedModel vs numpy.

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_onnx.py``. One process builds
everything from the first ``--train-rows`` rows of ``../shared/data/chicago_taxi/data.csv``
(the issue's taxi preprocessing_fn, `onnx_models.taxi_fn`) and serves the rows after them:

* tskew ONNX: ``transform_model(tfn.graph)`` in an ``onnxruntime.InferenceSession``;
* floor: an ONNX graph with the same inputs and outputs (names, dtypes, ``[batch]``) where
  every output is an Identity/Cast of an input (`onnx_models.floor_model`): the cost of an
  onnxruntime call with this I/O and no work;
* SavedModel: ``tfn.to_saved_model`` loaded with ``tf.saved_model.load``,
  ``.signatures["serving_default"]``;
* numpy: ``tfn.transform_batch`` on a pyarrow RecordBatch (tskew's own executor).

ONNX sessions run under onnxruntime's defaults and under the best of a few
``SessionOptions`` (`onnx_models.CONFIGS`, chosen by a short sweep on tskew's 1-row p50);
the floor always runs under the same options as tskew. Inputs are built before timing
(numpy feed dicts from ``serving_inputs``; ``tf.constant`` tensors; 1-row RecordBatches).
Outputs: onnxruntime returns numpy arrays, the signature returns EagerTensors (not copied),
numpy returns a RecordBatch. Before timing, every system's outputs on every measured row
are asserted bit-identical. Each measurement runs ``--repeat`` times interleaved (run 1 of
every system, then run 2, ...); the table shows the best run and the spread.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
TAXI = HERE.parent.parent / "shared" / "data" / "chicago_taxi" / "data.csv"
TITLE = "Serving: ONNX Runtime vs SavedModel vs numpy (Chicago taxi)"

import numpy as np  # noqa: E402
import onnx_models as om  # noqa: E402
from bench_serving import latency_us, tskew_version  # noqa: E402
from results import write_section  # noqa: E402

ABLATION_STEPS = (
    ("scalar_fill",),
    ("scalar_fill", "dup_fill"),
    ("scalar_fill", "dup_fill", "nan_free"),
    ("scalar_fill", "dup_fill", "nan_free", "column_bounds"),
    tuple(om.ABLATIONS),
)


def load_data(train_rows: int):
    """(tfn, serving table): analyzed on the first ``train_rows`` rows, the rest conformed."""
    import pyarrow as pa

    import tskew as ts
    from tskew.io import open_source

    full = open_source(str(TAXI))  # schema inferred from the whole file
    table = pa.Table.from_batches(list(full.batches()))
    tfn = ts.analyze(om.taxi_fn, table.slice(0, train_rows), schema=full.schema)
    serving = pa.Table.from_batches(
        list(open_source(table.slice(train_rows), tfn.input_schema).batches())
    ).combine_chunks()
    return tfn, serving


def throughput(fn, batches: list, calls: int, warmup: int, rows: int) -> float:
    """Rows per second from the median time of ``calls`` batch calls (robust on a busy host)."""
    for i in range(warmup):
        fn(batches[i % len(batches)])
    times = np.empty(calls)
    for i in range(calls):
        x = batches[i % len(batches)]
        t0 = time.perf_counter_ns()
        fn(x)
        times[i] = time.perf_counter_ns() - t0
    return rows / (float(np.median(times)) / 1e9)


def bits(values) -> np.ndarray:
    """Values as comparable integers (floats by bit pattern: NaN == NaN, -0.0 != 0.0)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        return arr.view(np.int64 if arr.itemsize == 8 else np.int32)
    return arr


def assert_same(outputs: dict[str, dict[str, np.ndarray]], what: str) -> None:
    """Every system's outputs bit-identical to the first's."""
    (ref_name, ref), *others = outputs.items()
    for name, got in others:
        assert set(got) == set(ref), (name, set(got), set(ref))
        for key in ref:
            a, b = np.asarray(ref[key]), np.asarray(got[key])
            assert a.dtype == b.dtype, f"{what}: {name}/{key} dtype {b.dtype} != {a.dtype}"
            assert np.array_equal(bits(a), bits(b)), f"{what}: {name}/{key} differs from {ref_name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=3000, help="timed 1-row calls per run")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batch-calls", type=int, default=200, help="timed batches per run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sweep-calls", type=int, default=1500, help="per config and round")
    parser.add_argument("--profile-calls", type=int, default=2000)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()

    if not TAXI.exists():
        print(f"bench_onnx: {TAXI} is absent (../shared is only present in CI and for developers)")
        print("bench_onnx: nothing measured")
        return

    import onnxruntime as ort
    import tensorflow as tf

    from tskew.exporters.onnx import output_name, transform_model
    from tskew.exporters.saved_model import serving_inputs

    t0 = time.perf_counter()
    tfn, serving = load_data(args.train_rows)
    model = transform_model(tfn.graph)
    floor = om.floor_model(model)
    onnx_names = {output_name(tfn.graph, n): n for n in tfn.graph.outputs}

    n_single = min(512, serving.num_rows // 4)
    n_batches = (serving.num_rows - n_single) // args.batch
    assert n_batches >= 1, "not enough serving rows for one batch"
    single_rows = [serving.slice(i, 1) for i in range(n_single)]
    batch_rows = [serving.slice(n_single + k * args.batch, args.batch) for k in range(n_batches)]

    with tempfile.TemporaryDirectory() as tmp:
        sig = tf.saved_model.load(str(tfn.to_saved_model(Path(tmp) / "sm")))
        sig = sig.signatures["serving_default"]
        specs = sig.structured_input_signature[1]

        def tf_feed(np_feed: dict) -> dict:
            return {
                k: tf.constant(v.tolist() if v.dtype == object else v, specs[k].dtype)
                for k, v in np_feed.items()
            }

        np_single = [serving_inputs(tfn, r) for r in single_rows]
        np_batch = [serving_inputs(tfn, r) for r in batch_rows]
        feeds = {
            "onnx": (np_single, np_batch),
            "sm": ([tf_feed(f) for f in np_single], [tf_feed(f) for f in np_batch]),
            "numpy": (
                [r.to_batches()[0] for r in single_rows],
                [r.to_batches()[0] for r in batch_rows],
            ),
        }
        print(
            f"built in {time.perf_counter() - t0:.1f} s: onnxruntime {ort.__version__}, "
            f"TF {tf.__version__}; {n_single} single rows, {n_batches} x {args.batch} rows",
            flush=True,
        )

        # ---------------------------------------------------------- options sweep
        sweep: dict[str, dict[str, list[float]]] = {
            c: {"tskew": [], "floor": []} for c in om.CONFIGS
        }
        for _ in range(2):
            for config in om.CONFIGS:
                for label, m in (("tskew", model), ("floor", floor)):
                    run = om.runner(om.session(m, config))
                    p50, _ = latency_us(run, np_single, args.sweep_calls, args.warmup)
                    sweep[config][label].append(p50)
        tuned = min(om.CONFIGS, key=lambda c: float(np.median(sweep[c]["tskew"])))
        print(
            "options sweep (1-row p50 µs, tskew / floor): "
            + "; ".join(
                f"{c} {min(v['tskew']):.1f} / {min(v['floor']):.1f}" for c, v in sweep.items()
            )
            + f" -> tuned = {tuned}",
            flush=True,
        )

        configs = ["default"] if tuned == "default" else ["default", tuned]
        runs_fns = {}
        for config in configs:
            runs_fns[f"onnx:{config}"] = (om.runner(om.session(model, config)), "onnx")
            runs_fns[f"floor:{config}"] = (om.runner(om.session(floor, config)), "onnx")
        runs_fns["sm"] = (lambda x: sig(**x), "sm")
        runs_fns["numpy"] = (tfn.transform_batch, "numpy")
        ablated = {steps: om.ablate(model, steps) for steps in ABLATION_STEPS}
        for steps, m in ablated.items():
            runs_fns["abl:" + "+".join(steps)] = (om.runner(om.session(m, tuned)), "onnx")

        # ---------------------------------------------------------- identical outputs
        out_names = [o.name for o in model.graph.output]

        def outputs_of(system: str, feed) -> dict[str, np.ndarray]:
            fn, _ = runs_fns[system]
            got = fn(feed)
            if system == "sm":
                return {k: v.numpy() for k, v in got.items()}
            if system == "numpy":
                return {n: got.column(n).to_numpy() for n in got.schema.names}
            return {onnx_names[n]: v for n, v in zip(out_names, got, strict=True)}

        checked = 0
        for i in range(n_single + n_batches):
            single = i < n_single
            outs = {
                s: outputs_of(s, feeds[kind][0 if single else 1][i if single else i - n_single])
                for s, (_, kind) in runs_fns.items()
                if not s.startswith("floor:")  # the floor computes nothing
            }
            assert_same(outs, f"row {i}" if single else f"batch {i - n_single}")
            checked += 1 if single else args.batch
        n_checked = sum(not s.startswith("floor:") for s in runs_fns)
        print(f"outputs bit-identical on {checked:,} rows across {n_checked} systems")

        # ---------------------------------------------------------- timing
        systems = list(runs_fns)
        runs: dict[str, list[dict]] = {s: [] for s in systems}
        for rep in range(args.repeat):
            for s in systems:
                fn, kind = runs_fns[s]
                p50, p99 = latency_us(fn, feeds[kind][0], args.calls, args.warmup)
                runs[s].append({"p50": p50, "p99": p99})
            for s in systems:
                fn, kind = runs_fns[s]
                runs[s][rep]["rows_s"] = throughput(
                    fn, feeds[kind][1], args.batch_calls, 10, args.batch
                )
            print(
                f"run {rep + 1}: "
                + "; ".join(
                    f"{s} {runs[s][rep]['p50']:.1f}/{runs[s][rep]['p99']:.1f} µs "
                    f"{runs[s][rep]['rows_s']:,.0f} rows/s"
                    for s in systems
                ),
                flush=True,
            )

        # ---------------------------------------------------------- profile
        prof = om.profile_ops(model, np_single, tuned, args.profile_calls)
        prof_batch = om.profile_ops(model, np_batch, tuned, args.batch_calls)
        graphs = {
            "exported": Counter(n.op_type for n in model.graph.node),
            "optimized": om.optimized_op_counts(model, tuned),
            "ablated": om.optimized_op_counts(ablated[ABLATION_STEPS[-1]], tuned),
        }

    lines = render(args, runs, tuned, sweep, (prof, prof_batch), graphs, checked)
    print("\n".join(lines))
    if not args.no_write:
        write_section(HERE / "RESULTS.md", TITLE, "\n".join(lines))


def render(args, runs, tuned, sweep, prof, graphs, checked) -> list[str]:
    """Markdown: best-of table, ratios with per-run ranges, sweep, profile."""
    import onnxruntime as ort

    def best(s: str, key: str) -> float:
        values = [r[key] for r in runs[s]]
        return max(values) if key == "rows_s" else min(values)

    def spread(s: str, key: str) -> str:
        values = [r[key] for r in runs[s]]
        return f"±{(max(values) - min(values)) / min(values):.0%}"

    def ratio(a: str, b: str, key: str, rep: int | None = None) -> float:
        """time(a) / time(b): > 1 means a is slower."""
        va = best(a, key) if rep is None else runs[a][rep][key]
        vb = best(b, key) if rep is None else runs[b][rep][key]
        return vb / va if key == "rows_s" else va / vb

    def ratio_cell(a: str, b: str, key: str) -> str:
        per_run = [ratio(a, b, key, rep) for rep in range(len(runs[a]))]
        return f"{ratio(a, b, key):.2f}x ({min(per_run):.2f}-{max(per_run):.2f})"

    labels = {}
    for s in runs:
        kind, _, config = s.partition(":")
        if kind == "onnx":
            labels[s] = f"tskew ONNX, {config}"
        elif kind == "floor":
            labels[s] = f"floor (Identity/Cast ONNX), {config}"
        elif kind == "abl":
            labels[s] = f"tskew ONNX + {config} (ablation), {tuned}"
    labels["sm"] = "SavedModel serving_default"
    labels["numpy"] = "numpy executor (transform_batch)"
    order = [s for s in runs if not s.startswith("abl:")]
    order = sorted(order, key=lambda s: ("onnx", "floor", "sm", "numpy").index(s.split(":")[0]))
    order += [s for s in runs if s.startswith("abl:")]

    onnx_t, floor_t = f"onnx:{tuned}", f"floor:{tuned}"
    table = [
        f"| system | 1 row p50 µs | 1 row p99 µs | {args.batch:,}-row batches, rows/s "
        "| p50 / floor |",
        "|---|---:|---:|---:|---:|",
    ]
    for s in order:
        floor_of = f"floor:{s.split(':')[1]}" if s.startswith(("onnx:", "floor:")) else floor_t
        table.append(
            f"| {labels[s]} | {best(s, 'p50'):,.1f} ({spread(s, 'p50')}) "
            f"| {best(s, 'p99'):,.1f} ({spread(s, 'p99')}) "
            f"| {best(s, 'rows_s'):,.0f} ({spread(s, 'rows_s')}) "
            f"| {ratio(s, floor_of, 'p50'):.2f}x |"
        )

    per_run = ["", "Every run (p50 µs / p99 µs / rows/s):", ""]
    for s in order:
        cells = ", ".join(f"{r['p50']:.1f} / {r['p99']:.1f} / {r['rows_s']:,.0f}" for r in runs[s])
        per_run.append(f"- {labels[s]}: {cells}")

    goal_p50 = ratio(onnx_t, floor_t, "p50")
    goal_sm = ratio("sm", onnx_t, "p50")
    ratios = [
        "",
        "Ratios (time ratios, best-of; per-run range in brackets):",
        "",
        f"- tskew ONNX / floor, 1 row p50 ({tuned}): {ratio_cell(onnx_t, floor_t, 'p50')} "
        f"(goal <= 2x: {'met' if goal_p50 <= 2 else 'NOT met'})",
        f"- tskew ONNX / floor, {args.batch:,}-row batches: "
        f"{ratio_cell(onnx_t, floor_t, 'rows_s')}",
        f"- SavedModel / tskew ONNX, 1 row p50: {ratio_cell('sm', onnx_t, 'p50')} "
        f"(goal >= 10x: {'met' if goal_sm >= 10 else 'NOT met'})",
        f"- SavedModel / tskew ONNX, {args.batch:,}-row batches: "
        f"{ratio_cell('sm', onnx_t, 'rows_s')}",
        f"- numpy executor / tskew ONNX: 1 row p50 {ratio_cell('numpy', onnx_t, 'p50')}, "
        f"{args.batch:,}-row batches {ratio_cell('numpy', onnx_t, 'rows_s')}",
    ]
    if "onnx:default" in runs and tuned != "default":
        ratios.append(
            f"- default / {tuned} options, tskew ONNX 1 row: p50 "
            f"{ratio_cell('onnx:default', onnx_t, 'p50')}, p99 "
            f"{ratio_cell('onnx:default', onnx_t, 'p99')}"
        )
    for steps in ABLATION_STEPS:
        s = "abl:" + "+".join(steps)
        ratios.append(
            f"- ablation {'+'.join(steps)}: {ratio_cell(s, onnx_t, 'p50')} of tskew's p50, "
            f"{ratio_cell(s, floor_t, 'p50')} of the floor's"
        )

    sweep_lines = [
        "",
        f"SessionOptions sweep (best 1-row p50 of 2 rounds x {args.sweep_calls:,} calls, "
        f"tskew / floor, µs; the tuned options minimise tskew's median p50): "
        + "; ".join(
            f"`{c}` {min(v['tskew']):.1f} / {min(v['floor']):.1f}" for c, v in sweep.items()
        )
        + ". Configurations: "
        + "; ".join(f"`{c}` = {desc}" for c, (desc, _) in om.CONFIGS.items())
        + ".",
    ]

    def profile_line(p: dict, what: str) -> str:
        by_op = sorted(p["by_op"].items(), key=lambda kv: -kv[1][1])
        total = p["kernels_us"] or 1.0
        return (
            f"- {what}: model_run {p['model_run_us']:.1f} µs/call, node kernels "
            f"{p['kernels_us']:.1f} µs/call; by op type (nodes, share of kernel time): "
            + ", ".join(f"{op} {n} ({us / total:.0%})" for op, (n, us) in by_op)
        )

    profile = [
        "",
        f"Profile (onnxruntime's profiler, tskew ONNX under `{tuned}`; the profiler inflates "
        "times, read the shares):",
        "",
        profile_line(prof[0], f"{args.profile_calls:,} 1-row calls"),
        profile_line(prof[1], f"{args.batch_calls:,} {args.batch:,}-row batches"),
        "- nodes as exported: "
        + f"{sum(graphs['exported'].values())} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in graphs["exported"].most_common())
        + ")",
        "- nodes after onnxruntime's optimizer: "
        + f"{sum(graphs['optimized'].values())} "
        + "("
        + ", ".join(f"{k} {v}" for k, v in graphs["optimized"].most_common())
        + ")",
        f"- with all ablations, after the optimizer: {sum(graphs['ablated'].values())} nodes",
        "- ablations (rewrites of the exported ModelProto standing for changes to "
        "tskew/exporters/onnx.py; outputs checked bit-identical): "
        + "; ".join(f"`{k}`: {v}" for k, v in om.ABLATIONS.items()),
    ]

    from platform import python_version

    head = [
        f"Machine: {os.cpu_count()} cores, Python {python_version()}, onnxruntime "
        f"{ort.__version__}, {time.strftime('%Y-%m-%d')}; tskew {tskew_version()}. "
        "Command: `.venv/bin/python benchmarks/bench_onnx.py`. The issue's taxi transform "
        f"analyzed on the first {args.train_rows:,} rows of chicago_taxi/data.csv; served rows "
        f"come after them. Best of {args.repeat} interleaved runs; each run: {args.calls:,} "
        f"single-row calls after {args.warmup} warm-up calls (p50/p99 of the calls), and "
        f"{args.batch_calls} calls of {args.batch:,}-row batches (rows/s from the median "
        "call). (±x%) is the spread (max - min) / min over the runs. Feeds are prebuilt; "
        "onnxruntime returns numpy, the "
        "signature EagerTensors (not copied), numpy a RecordBatch. Outputs of every system "
        f"bit-identical on all {checked:,} measured rows (asserted).",
        "",
    ]
    return head + table + per_run + ratios + sweep_lines + profile


if __name__ == "__main__":
    main()
