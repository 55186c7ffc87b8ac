"""Validation of artifact content at load: JSON shape, types, limits. Data only, no code.

Everything an artifact holds is checked before a `TransformFn` is built from it, so
a malformed or hostile artifact fails in `tskew.load` with an `ArtifactError` naming
the file and the field, never later (in ``transform``) and never as a generic Python
exception. The sha256 manifest proves integrity, not origin: anyone who can write an
artifact can also write a consistent manifest, so sizes are checked against the
limits below (pin the reviewed artifact with ``ts.load(path, digest=...)``).

Example:
    >>> load_json(b'{"a": [1, 2]}', "x.json")
    {'a': [1, 2]}
    >>> load_json(b"[" * 100 + b"]" * 100, "x.json")
    Traceback (most recent call last):
    ...
    tskew.errors.ArtifactError: x.json: JSON nested deeper than 32 levels; ...
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tskew.errors import ArtifactError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Array
from tskew.schema import DType, Schema

MAX_JSON_DEPTH = 32  # a tskew artifact nests at most ~8 levels
MAX_FILE_BYTES = 1 << 31  # one file of an artifact
MAX_ONE_HOT_DEPTH = 1 << 16  # one_hot width (values per row)
MAX_ROW_WIDTH = 1 << 18  # sum of the widths of all outputs (float32 values per row)
MAX_BOUNDARIES = 1 << 16  # bucket boundaries of one apply_buckets
MAX_VOCABULARY = 1 << 26  # entries of one vocabulary
MAX_HASH_BUCKETS = 1 << 32  # murmur3 is 32-bit: more buckets than hashes is meaningless

_DTYPES = {d.value for d in DType}
_STAT_INTS = ("count", "missing", "nan", "num_distinct", "other_count", "posinf", "neginf")
_STAT_KEYS = {
    "name", "dtype", *_STAT_INTS, "min", "max", "mean", "std", "quantiles", "top_values",
    "histogram", "percentiles", "percentile_cdf", "num_distinct_error",
}  # fmt: skip


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not JSON (tskew writes non-finite floats as strings)")


def load_json(data: bytes, where: str) -> Any:
    """Parse JSON bytes; any syntax error or nesting deeper than `MAX_JSON_DEPTH` is an
    `ArtifactError` naming ``where``."""
    try:
        obj = json.loads(data, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        detail = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise ArtifactError(f"{where}: corrupt JSON ({detail})") from None
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ArtifactError(
                f"{where}: JSON nested deeper than {MAX_JSON_DEPTH} levels; tskew never writes "
                "that, so the file was not written by tskew.save (re-save the TransformFn)"
            )
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return obj


def expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    """``value`` if it is of JSON ``kind`` (bool is not an int), else an `ArtifactError`."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok:
        names = " or ".join(_json_name(k) for k in kinds)
        raise ArtifactError(
            f"{where}: {what} must be {names}, got {_json_name(type(value))} {_short(value)}; "
            "the file was edited or not written by tskew.save (re-save the TransformFn)"
        )
    return value


def expect_count(value: Any, where: str, what: str) -> int:
    """A non-negative JSON integer."""
    expect(value, int, where, what)
    if value < 0:
        raise ArtifactError(f"{where}: {what} must be >= 0, got {value}")
    return value


def _json_name(kind: type) -> str:
    return {
        dict: "an object", list: "an array", str: "a string", int: "an integer",
        float: "a number", bool: "a boolean", type(None): "null",
    }.get(kind, kind.__name__)  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ------------------------------------------------------------- schema, statistics, metadata


def check_schema_json(obj: Any, where: str) -> Any:
    """``{name: {"dtype": ..., "nullable": bool}}``."""
    expect(obj, dict, where, "the schema")
    for name, ftype in obj.items():
        expect(ftype, dict, where, f"feature {name!r}")
        _check_dtype(ftype.get("dtype"), where, f"feature {name!r} dtype")
        expect(ftype.get("nullable"), bool, where, f"feature {name!r} nullable")
    return obj


def _check_dtype(value: Any, where: str, what: str) -> None:
    expect(value, str, where, what)
    if value not in _DTYPES:
        raise ArtifactError(f"{where}: {what} is {value!r}; expected one of {sorted(_DTYPES)}")


def check_statistics_json(obj: Any, where: str) -> Any:
    """The shape `DatasetStatistics.to_json` writes."""
    expect(obj, dict, where, "the statistics")
    expect_count(obj.get("num_rows"), where, "num_rows")
    expect_count(obj.get("bad_records", 0), where, "bad_records")
    for group in ("inputs", "outputs"):
        features = expect(obj.get(group), dict, where, f"{group!r}")
        for name, stats in features.items():
            _check_feature_statistics(stats, where, f"{group}[{name!r}]")
    return obj


def _check_feature_statistics(obj: Any, where: str, what: str) -> None:
    expect(obj, dict, where, what)
    unknown = set(obj) - _STAT_KEYS
    if unknown:
        raise ArtifactError(f"{where}: {what} has unknown fields {sorted(unknown)}")
    for key in ("name", "top_values", "min", "max", "mean", "std", "quantiles"):
        if key not in obj:
            raise ArtifactError(f"{where}: {what} lacks the field {key!r}")
    expect(obj["name"], str, where, f"{what}.name")
    _check_dtype(obj.get("dtype"), where, f"{what}.dtype")
    for key in _STAT_INTS:
        expect_count(obj.get(key, 0), where, f"{what}.{key}")
    for key in ("min", "max", "mean", "std"):
        _check_stat_value(obj[key], where, f"{what}.{key}")
    error = obj.get("num_distinct_error", 0.0)
    if isinstance(error, bool) or not isinstance(error, int | float) or not 0 <= error < 1:
        raise ArtifactError(f"{where}: {what}.num_distinct_error must be a number in [0, 1)")
    for key in ("quantiles", "percentiles", "percentile_cdf"):
        for i, v in enumerate(expect(obj.get(key, []), list, where, f"{what}.{key}")):
            _check_stat_value(v, where, f"{what}.{key}[{i}]")
    for i, pair in enumerate(expect(obj["top_values"], list, where, f"{what}.top_values")):
        expect(pair, list, where, f"{what}.top_values[{i}]")
        if len(pair) != 2:
            raise ArtifactError(f"{where}: {what}.top_values[{i}] must be [value, count]")
        _check_stat_value(pair[0], where, f"{what}.top_values[{i}]")
        expect_count(pair[1], where, f"{what}.top_values[{i}] count")
    for i, bucket in enumerate(expect(obj.get("histogram", []), list, where, f"{what}.histogram")):
        expect(bucket, list, where, f"{what}.histogram[{i}]")
        if len(bucket) != 3:
            raise ArtifactError(f"{where}: {what}.histogram[{i}] must be [low, high, count]")
        for v in bucket:
            _check_stat_value(v, where, f"{what}.histogram[{i}]")


def _check_stat_value(value: Any, where: str, what: str) -> None:
    """A statistic: null, bool, number, string or ``{"float": "nan" | "inf" | "-inf"}``."""
    if isinstance(value, dict):
        if set(value) != {"float"} or value["float"] not in ("nan", "inf", "-inf"):
            raise ArtifactError(
                f"{where}: {what} must be a number or {{'float': 'nan' | 'inf' | '-inf'}}, "
                f"got {_short(value)}"
            )
        return
    expect(value, (type(None), bool, int, float, str), where, what)


def check_metadata_json(obj: Any, where: str) -> dict:
    """An object; ``plan`` (if present) is a string."""
    expect(obj, dict, where, "the metadata")
    if "plan" in obj:
        expect(obj["plan"], str, where, "plan")
    return obj


# ------------------------------------------------------------------------- the graph


def check_frozen_graph(graph: Graph, schema: Schema, where: str) -> None:
    """What `Graph.verify` does not: a frozen graph holds no analyzers, constants hold
    their declared dtype, inputs match the schema, and sizes are within the limits."""
    from tskew.catalog import get_op

    for node in graph.nodes:
        at = f"{where}: node %{node.id} ({node.op})"
        if get_op(node.op).analyzer:
            raise ArtifactError(
                f"{at} is an analyzer; a saved TransformFn holds only frozen constants "
                "(the artifact was edited or written from an unfrozen graph)"
            )
        if node.op == "const":
            _check_const(node.attr("value"), DType(node.attr("dtype")), at)
        elif node.op == "input":
            _check_input(node, graph, schema, at)
        _check_limits(node, graph, at)
    width = sum(graph.nodes[i].type.width or 1 for i in graph.outputs.values())
    if width > MAX_ROW_WIDTH:
        raise ArtifactError(
            f"{where}: the outputs hold {width} values per row; the limit is {MAX_ROW_WIDTH}"
        )


def _check_input(node: Any, graph: Graph, schema: Schema, at: str) -> None:
    name = node.name
    if name not in schema or graph.inputs.get(name) != node.id:
        raise ArtifactError(f"{at}: reads feature {name!r}, which schema.json does not declare")
    ftype = schema[name]
    if (ftype.dtype, ftype.nullable) != (node.type.dtype, node.type.nullable):
        raise ArtifactError(
            f"{at}: reads {name!r} as {node.type!r} but schema.json declares {ftype!r}"
        )


_SCALAR_KINDS: dict[DType, tuple[type, ...]] = {
    DType.FLOAT32: (float,),
    DType.FLOAT64: (float,),
    DType.INT64: (int,),
    DType.BOOL: (bool,),
    DType.STRING: (str,),
}


def _check_const(value: Any, dtype: DType, at: str) -> None:
    """A constant's value must be of its declared dtype (checked now, not in transform)."""
    if isinstance(value, Array):
        arr = value.values
        ok = arr.ndim == 1 and arr.dtype == dtype.numpy
        if ok and dtype is DType.STRING:
            ok = all(isinstance(v, str) for v in arr.tolist())
        if not ok:
            raise ArtifactError(
                f"{at}: declared {dtype.value} but holds a {arr.ndim}-d {arr.dtype} array"
            )
        return
    kinds = _SCALAR_KINDS[dtype]
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ArtifactError(f"{at}: declared {dtype.value} but holds {_short(value)}")
    if dtype is DType.INT64 and not -(2**63) <= value < 2**63:
        raise ArtifactError(f"{at}: {value} does not fit in int64")
    if dtype is DType.FLOAT32 and math.isfinite(value) and abs(value) > np.finfo(np.float32).max:
        raise ArtifactError(f"{at}: {value!r} does not fit in float32")


def _check_limits(node: Any, graph: Graph, at: str) -> None:
    attrs = node.attr_dict

    def limit(value: int, maximum: int, what: str) -> None:
        if value > maximum:
            raise ArtifactError(
                f"{at}: {what} is {value}; tskew refuses more than {maximum} at load (a "
                "hostile or corrupted artifact could exhaust memory); re-create the "
                "transform with a smaller value"
            )

    if node.op == "one_hot":
        limit(attrs["depth"], MAX_ONE_HOT_DEPTH, "one_hot depth")
    elif node.op == "apply_buckets":
        limit(_length(graph, node.inputs[1]), MAX_BOUNDARIES, "the number of bucket boundaries")
    elif node.op == "apply_vocabulary":
        limit(_length(graph, node.inputs[1]), MAX_VOCABULARY, "the vocabulary size")
        limit(attrs.get("num_oov_buckets", 0), MAX_HASH_BUCKETS, "num_oov_buckets")
    elif node.op == "hash_strings":
        limit(attrs["hash_buckets"], MAX_HASH_BUCKETS, "hash_buckets")


def _length(graph: Graph, node_id: int) -> int:
    value = graph.nodes[node_id].attr("value")
    return len(value) if isinstance(value, Array) else 1


def check_consistency(graph: Graph, stats: Mapping[str, Any], where: str) -> None:
    """The statistics describe exactly the graph's outputs, with the outputs' dtypes."""
    outputs = stats["outputs"]
    if outputs and set(outputs) != set(graph.outputs):
        raise ArtifactError(
            f"{where}: statistics.json describes outputs {sorted(outputs)} but the graph "
            f"has {sorted(graph.outputs)}"
        )
    for name, s in outputs.items():
        dtype = graph.nodes[graph.outputs[name]].type.dtype.value
        if s["dtype"] != dtype:
            raise ArtifactError(
                f"{where}: statistics.json says output {name!r} is {s['dtype']}, the graph "
                f"makes {dtype}"
            )
