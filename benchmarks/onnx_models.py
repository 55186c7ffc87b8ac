"""What bench_onnx.py compares: the taxi transform, its ONNX model, an Identity floor, sessions.

* `taxi_fn`: the issue's Chicago taxi preprocessing_fn (a copy of
  ``tests/e2e/test_real_data.py::taxi_fn``; benchmarks do not import the tests).
* `floor_model`: an ONNX graph with exactly the inputs and outputs of tskew's model (names,
  dtypes, ``[batch]`` shapes) where each output is one Identity or Cast of an input: the
  fixed cost of an onnxruntime call with this I/O.
* `session`: an ``InferenceSession`` under one of the `CONFIGS`.
* `profile_ops`: onnxruntime's own per-node kernel times, summed by op type.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import tskew as ts


def taxi_fn(inputs):
    """The issue's example preprocessing_fn, verbatim (tests/e2e/test_real_data.py)."""
    fare = ts.impute(inputs["fare"], strategy="median")
    return {
        "fare_z": ts.scale_to_z_score(fare),
        "miles_bucket": ts.bucketize(ts.fill_missing(inputs["trip_miles"], 0.0), num_buckets=10),
        "company_id": ts.compute_and_apply_vocabulary(
            ts.fill_missing(inputs["company"], ""), top_k=50, num_oov_buckets=1
        ),
        "hour_x_day": ts.hash_strings(
            ts.cross([inputs["trip_start_hour"], inputs["trip_start_day"]]), hash_buckets=100
        ),
        "tip_share": ts.clip(ts.fill_missing(inputs["tips"], 0.0) / (fare + 1.0), 0.0, 1.0),
    }


# ------------------------------------------------------------------ floor


def floor_model(model: Any) -> Any:
    """Same graph inputs/outputs as ``model``; each output an Identity/Cast of one input.

    Every output takes an input of its own dtype when there is one (Identity), else the
    first numeric input (Cast); inputs are used round-robin so as many as possible are
    read. Strings are never cast (a string Cast parses).
    """
    import onnx
    from onnx import TensorProto, helper

    inputs = list(model.graph.input)
    elem = {i.name: i.type.tensor_type.elem_type for i in inputs}
    used: Counter = Counter()
    nodes = []
    for out in model.graph.output:
        want = out.type.tensor_type.elem_type
        same = [i.name for i in inputs if elem[i.name] == want]
        numeric = [i.name for i in inputs if elem[i.name] != TensorProto.STRING]
        pool = same or numeric
        src = min(pool, key=lambda n: (used[n], pool.index(n)))
        used[src] += 1
        if elem[src] == want:
            nodes.append(helper.make_node("Identity", [src], [out.name]))
        else:
            nodes.append(helper.make_node("Cast", [src], [out.name], to=want))
    graph = helper.make_graph(nodes, "floor", inputs, list(model.graph.output))
    floor = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    floor.ir_version = model.ir_version
    onnx.checker.check_model(floor, full_check=True)
    return floor


# ------------------------------------------------------------------ sessions

# name -> (description, SessionOptions settings). ``None`` keeps onnxruntime's default.
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("ort.SessionOptions() defaults", {}),
    "1thread": (
        "intra_op_num_threads=1, inter_op_num_threads=1, ORT_SEQUENTIAL, ORT_ENABLE_ALL",
        {"intra": 1, "inter": 1, "sequential": True, "level": "all"},
    ),
    "1thread_nospin": (
        "as 1thread + session.intra_op.allow_spinning=0",
        {"intra": 1, "inter": 1, "sequential": True, "level": "all", "nospin": True},
    ),
    "1thread_noarena": (
        "as 1thread + enable_cpu_mem_arena=False, enable_mem_pattern=False",
        {"intra": 1, "inter": 1, "sequential": True, "level": "all", "noarena": True},
    ),
    "1thread_basic": (
        "as 1thread with ORT_ENABLE_BASIC",
        {"intra": 1, "inter": 1, "sequential": True, "level": "basic"},
    ),
}


def session_options(config: str, profile_prefix: str | None = None) -> Any:
    import onnxruntime as ort

    settings = CONFIGS[config][1]
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if "intra" in settings:
        so.intra_op_num_threads = settings["intra"]
    if "inter" in settings:
        so.inter_op_num_threads = settings["inter"]
    if settings.get("sequential"):
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if "level" in settings:
        so.graph_optimization_level = {
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }[settings["level"]]
    if settings.get("nospin"):
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if settings.get("noarena"):
        so.enable_cpu_mem_arena = False
        so.enable_mem_pattern = False
    if profile_prefix is not None:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return so


def session(model: Any, config: str = "default", profile_prefix: str | None = None) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(
        model.SerializeToString(),
        session_options(config, profile_prefix),
        providers=["CPUExecutionProvider"],
    )


def runner(sess: Any):
    """``feed -> list of numpy outputs`` calling ``sess.run`` with a prebuilt name list."""
    names = [o.name for o in sess.get_outputs()]
    run = sess.run
    return lambda feed: run(names, feed)


# ------------------------------------------------------------------ profiling


def optimized_op_counts(model: Any, config: str) -> Counter:
    """Node count by op type of the graph onnxruntime actually runs (after its optimizer)."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        so = session_options(config)
        so.optimized_model_filepath = os.path.join(tmp, "opt.onnx")
        ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        opt = onnx.load(so.optimized_model_filepath)
    return Counter(n.op_type for n in opt.graph.node)


def profile_ops(model: Any, feeds: list, config: str, calls: int) -> dict[str, Any]:
    """Run ``calls`` calls with onnxruntime's profiler; kernel time per call by op type.

    Returns ``{"model_run_us": mean SequentialExecutor/model_run time per call,
    "kernels_us": sum of node kernel times per call, "by_op": {op: (nodes, us per call)}}``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        sess = session(model, config, profile_prefix=str(Path(tmp) / "ort"))
        run = runner(sess)
        for i in range(100):
            run(feeds[i % len(feeds)])
        profile = sess.end_profiling()
        # the warm-up calls above are profiled too; a second session keeps only timed calls
        sess = session(model, config, profile_prefix=str(Path(tmp) / "ort2"))
        run = runner(sess)
        for i in range(calls):
            run(feeds[i % len(feeds)])
        profile = sess.end_profiling()
        events = json.loads(Path(profile).read_text())
    runs = [e for e in events if e.get("cat") == "Session" and e["name"] == "model_run"]
    # skip the first few calls of the profiled session (first-run allocations)
    skip = min(20, len(runs) // 5)
    t_start = runs[skip]["ts"] if runs else 0
    runs = runs[skip:]
    by_op: dict[str, list] = {}
    nodes: dict[str, set] = {}
    total = 0.0
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time") or e["ts"] < t_start:
            continue
        op = e["args"].get("op_name", "?")
        by_op.setdefault(op, []).append(e["dur"])
        nodes.setdefault(op, set()).add(e["name"])
        total += e["dur"]
    n = max(len(runs), 1)
    return {
        "model_run_us": sum(e["dur"] for e in runs) / n,
        "kernels_us": total / n,
        "by_op": {op: (len(nodes[op]), sum(d) / n) for op, d in by_op.items()},
    }


# ------------------------------------------------------------------ ablations
#
# Candidate changes to tskew/exporters/onnx.py, applied here to the exported ModelProto
# (tskew's source is not touched) so their effect can be measured; bench_onnx.py checks the
# rewritten model's outputs are bit-identical to the original's on every measured row.

ABLATIONS = {
    "scalar_fill": "Where(c, Expand(s, Shape(x)), x) -> Where(c, s, x) (Where broadcasts)",
    "dup_fill": "Where(c, f, Where(c, f, x)) -> Where(c, f, x) (fill_missing of a nullable "
    "input whose fill equals the input filler)",
    "nan_free": "Where(IsNaN(v), k, y) -> y when v = Where(IsNaN(u), const, u) (no NaN left)",
    "ids_then_fill": "LabelEncoder(Where(c, s, x)) -> Where(c, id of s, LabelEncoder(x)): "
    "fill_missing pushed through apply_vocabulary, an int64 Where instead of a string one",
    "column_bounds": "bucketize without Unsqueeze: GreaterOrEqual(v, bounds as a [k, 1] "
    "initializer) -> [k, batch], ReduceSum over axis 0",
}


def _rename_uses(nodes: list, old: str, new: str, outputs: set) -> None:
    for node in nodes:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
    assert old not in outputs, old


def _prune(graph: Any) -> None:
    """Drop nodes whose outputs nobody reads, then unused initializers."""
    keep_out = {o.name for o in graph.output}
    while True:
        used = keep_out | {i for n in graph.node for i in n.input}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
    used = {i for n in graph.node for i in n.input}
    for init in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(init)


def ablate(model: Any, passes: tuple[str, ...]) -> Any:
    """A copy of ``model`` with the `ABLATIONS` in ``passes`` applied."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    outputs = {o.name for o in graph.output}
    inits = {t.name: t for t in graph.initializer}

    def producer() -> dict[str, Any]:
        return {o: n for n in graph.node for o in n.output}

    def scalar(name: str) -> bool:
        return name in inits and len(inits[name].dims) == 0

    if "scalar_fill" in passes:
        prod = producer()
        for node in graph.node:
            if node.op_type != "Where":
                continue
            for k in (1, 2):
                exp = prod.get(node.input[k])
                if exp is not None and exp.op_type == "Expand" and scalar(exp.input[0]):
                    shape = prod.get(exp.input[1])
                    other = node.input[3 - k]
                    # the result keeps its [batch] shape through the other branch
                    if shape is not None and shape.op_type == "Shape" and shape.input[0] == other:
                        node.input[k] = exp.input[0]
        _prune(graph)
    if "dup_fill" in passes:
        prod = producer()
        for node in list(graph.node):
            inner = prod.get(node.input[2]) if node.op_type == "Where" else None
            if (
                inner is not None
                and inner.op_type == "Where"
                and inner.input[0] == node.input[0]
                and inner.input[1] == node.input[1]
            ):
                _rename_uses(graph.node, node.output[0], inner.output[0], outputs)
        _prune(graph)
    if "nan_free" in passes:
        prod = producer()

        def nan_free(name: str) -> bool:
            n = prod.get(name)
            if n is None or n.op_type != "Where":
                return False
            cond = prod.get(n.input[0])
            fill = n.input[1]
            return (
                cond is not None
                and cond.op_type == "IsNaN"
                and cond.input[0] == n.input[2]
                and fill in inits
                and not np.isnan(numpy_helper.to_array(inits[fill])).any()
            )

        for node in list(graph.node):
            cond = prod.get(node.input[0]) if node.op_type == "Where" else None
            if cond is not None and cond.op_type == "IsNaN" and nan_free(cond.input[0]):
                _rename_uses(graph.node, node.output[0], node.input[2], outputs)
        _prune(graph)
    if "ids_then_fill" in passes:
        prod = producer()
        readers = Counter(i for n in graph.node for i in n.input)
        for node in list(graph.node):
            where = prod.get(node.input[0]) if node.op_type == "LabelEncoder" else None
            if where is None or where.op_type != "Where" or readers[where.output[0]] != 1:
                continue
            if not scalar(where.input[1]):
                continue
            attrs = {a.name: a for a in node.attribute}
            keys = numpy_helper.to_array(attrs["keys_tensor"].t).tolist()
            values = numpy_helper.to_array(attrs["values_tensor"].t).tolist()
            default = numpy_helper.to_array(attrs["default_tensor"].t).tolist()[0]
            fill = numpy_helper.to_array(inits[where.input[1]]).item()
            fill = fill.decode() if isinstance(fill, bytes) else fill
            keys = [k.decode() if isinstance(k, bytes) else k for k in keys]
            fill_id = dict(zip(keys, values, strict=True)).get(fill, default)
            id_init = numpy_helper.from_array(np.array(fill_id, np.int64), node.output[0] + "_fill")
            graph.initializer.append(id_init)
            ids = node.output[0] + "_raw"
            new_where = onnx.helper.make_node(
                "Where", [where.input[0], id_init.name, ids], [node.output[0]]
            )
            node.input[0], node.output[0] = where.input[2], ids
            graph.node.insert(list(graph.node).index(node) + 1, new_where)
        _prune(graph)
    if "column_bounds" in passes:
        prod = producer()
        for node in list(graph.node):
            if node.op_type != "ReduceSum":
                continue
            cast = prod.get(node.input[0])
            ge = prod.get(cast.input[0]) if cast is not None and cast.op_type == "Cast" else None
            unsq = (
                prod.get(ge.input[0]) if ge is not None and ge.op_type == "GreaterOrEqual" else None
            )
            if unsq is None or unsq.op_type != "Unsqueeze" or ge.input[1] not in inits:
                continue
            bounds = numpy_helper.to_array(inits[ge.input[1]])
            column = numpy_helper.from_array(bounds.reshape(-1, 1), ge.input[1] + "_column")
            axis0 = numpy_helper.from_array(np.array([0], np.int64), node.output[0] + "_axis0")
            graph.initializer.extend([column, axis0])
            inits[column.name], inits[axis0.name] = column, axis0
            ge.input[0], ge.input[1] = unsq.input[0], column.name
            node.input[1] = axis0.name
        _prune(graph)
    onnx.checker.check_model(model, full_check=True)
    return model
