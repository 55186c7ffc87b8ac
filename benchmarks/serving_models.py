"""The three serving artifacts bench_serving.py compares, and the inputs they take.

* tskew: `export_saved_model` of the analyzed `preprocessing.tskew_fn`.
* TFT: `preprocessing.tft_fn` analyzed with ``tft_beam.AnalyzeDataset`` (DirectRunner,
  RecordBatches through TFXIO, as in analyze_workers.py), written with ``WriteTransformFn``.
* floor: a hand-written ``tf.function`` with tskew's signature (same inputs, same
  outputs and dtypes) doing only the arithmetic, with the constants read from the
  tskew TransformFn's frozen graph; saved and loaded like the tskew SavedModel.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

MISSING = "__missing"


# ------------------------------------------------------------------ tskew


def train_tskew(path: Path) -> Any:
    from preprocessing import tskew_fn

    import tskew as ts

    return ts.analyze(tskew_fn, str(path))


def export_tskew(tfn: Any, out: Path) -> Path:
    from tskew.exporters.saved_model import export_saved_model

    return export_saved_model(tfn, out)


# ------------------------------------------------------------------ TFT


def float32_lists(lists_path: Path) -> Path:
    """The list-layout file with float64 values as float32 (written once).

    TFT's Keras layer autocasts float inputs to float32 (tf_keras' default dtype
    policy), so a transform_fn traced on float64 inputs fails when called through
    ``transform_features_layer()``. float32 is also what tf.Example carries. The
    flights values (minutes, hhmm) are integers, exact in float32.
    """
    out = lists_path.with_name(lists_path.stem + "_f32.parquet")
    if not out.exists():
        table = pq.read_table(lists_path)
        fields = [
            pa.field(f.name, pa.list_(pa.float32()))
            if pa.types.is_list(f.type) and f.type.value_type == pa.float64()
            else f
            for f in table.schema
        ]
        pq.write_table(table.cast(pa.schema(fields)), out, row_group_size=1 << 16)
    return out


def train_tft(lists_path: Path, out: Path) -> Path:
    """AnalyzeDataset on the list-layout Parquet; returns the transform output dir."""
    import apache_beam as beam
    import tensorflow_transform.beam as tft_beam
    from preprocessing import tft_fn, tft_raw_input

    with (
        tempfile.TemporaryDirectory() as tmp,
        beam.Pipeline() as pipeline,
        tft_beam.Context(temp_dir=tmp, force_tf_compat_v1=False),
    ):
        raw, config = tft_raw_input(pipeline, lists_path)
        transform_fn = (raw, config) | tft_beam.AnalyzeDataset(tft_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(str(out))
    return out


# ------------------------------------------------------------------ floor


@dataclass
class FloorSpec:
    """What each tskew output computes, with its frozen constants."""

    outputs: dict[str, tuple] = field(default_factory=dict)
    inputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)  # name -> (DType, nullable)


def floor_spec(tfn: Any) -> FloorSpec:
    """Pattern-match the frozen graph of `preprocessing.tskew_fn` into a FloorSpec."""
    from tskew.exporters.saved_model import raw_features
    from tskew.ops.structural import const

    graph = tfn.graph
    nodes = graph.nodes
    spec = FloorSpec(inputs=raw_features(graph))

    def value(nid: int) -> Any:
        node = nodes[nid]
        assert node.op == "const", node
        return const(node.attr_dict)

    def source(nid: int) -> tuple[str, Any]:
        """input name and the fill value (None when not fill_missing'd)."""
        node = nodes[nid]
        if node.op == "fill_missing":
            return nodes[node.inputs[0]].name, value(node.inputs[1]).item()
        assert node.op == "input", node
        return node.name, None

    for out, nid in graph.outputs.items():
        node = nodes[nid]
        if node.op == "mul" and nodes[node.inputs[0]].op == "sub":
            sub = nodes[node.inputs[0]]
            name, fill = source(sub.inputs[0])
            spec.outputs[out] = (
                "affine",
                name,
                fill,
                value(sub.inputs[1]).item(),
                value(node.inputs[1]).item(),
            )
        elif node.op == "mul" and nodes[node.inputs[0]].op == "cast":
            name, fill = source(nodes[node.inputs[0]].inputs[0])
            assert fill is None
            spec.outputs[out] = ("cast_scale", name, node.type.dtype, value(node.inputs[1]).item())
        elif node.op == "apply_buckets":
            name, fill = source(node.inputs[0])
            assert fill is None
            spec.outputs[out] = ("buckets", name, value(node.inputs[1]))
        elif node.op == "apply_vocabulary":
            name, fill = source(node.inputs[0])
            vocab = value(node.inputs[1])
            n_oov = node.attr("num_oov_buckets", 0)
            # One OOV bucket: hash % 1 == 0, so every unknown key maps to len(vocab).
            assert n_oov in (0, 1), n_oov
            default = len(vocab) if n_oov else node.attr("default_value", -1)
            spec.outputs[out] = ("vocab", name, fill, vocab, default)
        else:
            raise NotImplementedError(f"floor: no hand-written form for {out} ({node.op})")
    return spec


def export_floor(tfn: Any, out: Path) -> Path:
    """The hand-written tf.function, saved as a SavedModel with tskew's signature."""
    import tensorflow as tf

    from tskew.exporters.tensorflow import tf_dtype

    spec = floor_spec(tfn)
    names, specs = [], []
    for name, (dtype, nullable) in spec.inputs.items():
        names.append(name)
        specs.append(tf.TensorSpec([None], tf_dtype(dtype), name=name))
        if nullable:
            names.append(name + MISSING)
            specs.append(tf.TensorSpec([None], tf.bool, name=name + MISSING))

    module = tf.Module()
    tables = {}
    for out_name, entry in spec.outputs.items():
        if entry[0] == "vocab":
            vocab, default = entry[3], entry[4]
            first: dict = {}
            for i, key in enumerate(vocab.tolist()):
                first.setdefault(key, i)
            tables[out_name] = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(first), tf.string),
                    tf.constant(list(first.values()), tf.int64),
                ),
                default_value=default,
            )
    module.tables = list(tables.values())

    def compute(args: tuple) -> dict[str, Any]:
        x = dict(zip(names, args, strict=True))
        result = {}
        for out_name, entry in spec.outputs.items():
            kind, name = entry[0], entry[1]
            v = x[name]
            if kind == "affine":
                _, _, fill, shift, scale = entry
                if fill is not None:
                    missing = tf.math.is_nan(v)
                    if name + MISSING in x:
                        missing = tf.logical_or(missing, x[name + MISSING])
                    v = tf.where(missing, tf.constant(fill, v.dtype), v)
                result[out_name] = (v - shift) * scale
            elif kind == "cast_scale":
                _, _, dtype, scale = entry
                f = tf.cast(v, tf_dtype(dtype))
                result[out_name] = f * tf.constant(scale, f.dtype)
            elif kind == "buckets":
                bounds = tf.constant(entry[2], v.dtype)
                result[out_name] = tf.searchsorted(
                    bounds[tf.newaxis, :], v[tf.newaxis, :], side="right", out_type=tf.int64
                )[0]
            elif kind == "vocab":
                fill = entry[2]
                if fill is not None and name + MISSING in x:
                    v = tf.where(x[name + MISSING], tf.constant(fill, tf.string), v)
                result[out_name] = tables[out_name].lookup(v)
        return result

    module.serve = tf.function(lambda *a: compute(a), input_signature=specs)
    serving = module.serve.get_concrete_function()
    tf.saved_model.save(module, str(out), signatures={"serving_default": serving})
    return out


# ------------------------------------------------------------------ inputs


def tskew_inputs(tfn: Any, rows: pa.Table) -> dict[str, Any]:
    """tskew's (and the floor's) signature inputs: values plus ``__missing`` masks."""
    import pyarrow.compute as pc
    import tensorflow as tf

    from tskew.exporters.saved_model import raw_features
    from tskew.exporters.tensorflow import tf_dtype

    out = {}
    for name, (dtype, nullable) in raw_features(tfn.graph).items():
        col = rows.column(name).combine_chunks()
        tdt = tf_dtype(dtype)
        if tdt == tf.string:
            values = np.array(col.fill_null("").to_pylist(), dtype=object)
        else:
            values = col.fill_null(0).to_numpy(zero_copy_only=False)
        out[name] = tf.constant(values, tdt)
        if nullable:
            out[name + MISSING] = tf.constant(pc.is_null(col).to_numpy(zero_copy_only=False))
    return out


def tft_raw_dtypes(lists_path: Path) -> dict[str, Any]:
    """name -> tf dtype of TFT's raw features (TFXIO's mapping of the list-layout schema)."""
    import tensorflow as tf

    dtypes = {}
    for f in pq.read_schema(lists_path):
        value_type = f.type.value_type
        if pa.types.is_floating(value_type):
            dtypes[f.name] = tf.float64 if value_type == pa.float64() else tf.float32
        elif pa.types.is_integer(value_type):
            dtypes[f.name] = tf.int64
        else:
            dtypes[f.name] = tf.string
    return dtypes


def tft_inputs(raw_dtypes: dict[str, Any], rows: pa.Table) -> dict[str, Any]:
    """TFT's inputs: one SparseTensor [batch, 1] per raw feature (no value = missing)."""
    import pyarrow.compute as pc
    import tensorflow as tf

    n = rows.num_rows
    out = {}
    for name, dtype in raw_dtypes.items():
        col = rows.column(name).combine_chunks()
        valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
        present = col.filter(pc.is_valid(col))
        if dtype == tf.string:
            values = tf.constant(np.array(present.to_pylist(), dtype=object), tf.string)
        else:
            values = tf.constant(present.to_numpy(zero_copy_only=False), dtype)
        idx = np.flatnonzero(valid).astype(np.int64)
        indices = np.stack([idx, np.zeros_like(idx)], axis=1)
        out[name] = tf.SparseTensor(indices, values, [n, 1])
    return out
