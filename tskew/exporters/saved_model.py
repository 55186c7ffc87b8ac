"""Export a `TransformFn` (optionally with a model and a policy) as a TensorFlow SavedModel.

Signatures:

* ``transform_features``: one tensor per raw feature the transformed features
  depend on (shape ``[batch]``, dtype from the schema) -> the transformed features.
* ``serving_default``: one tensor per raw feature the served outputs depend on ->
  the transformed features, or the model's predictions (after the policy) when a
  model is attached; then only the features the model's inputs depend on are
  required (not a label the transform also reads).
* ``serving_tf_example``: ``examples``, a ``[batch]`` string tensor of serialized
  ``tf.Example`` protos (TF Serving's convention) -> what ``serving_default`` returns;
  it parses the features ``serving_default`` takes (others in an example are ignored).

Input names are the features' own (see `tskew.exporters.signature` for TF's Python
aliases); ``assets.extra/tskew_signatures.json`` lists each signature's inputs.

Missing values: a nullable feature ``x`` has a second input ``x__missing``
(bool, ``[batch]``), True where the value is missing; the value of ``x`` there is
ignored. In ``serving_tf_example`` an absent feature is missing. A float NaN is
a value (``ts.fill_missing`` and ``ts.impute`` treat it as missing, as in numpy).

Example:
    >>> import tempfile, tensorflow as tf, tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [0.0, 4.0]})
    >>> path = export_saved_model(tfn, tempfile.mkdtemp() + "/m")
    >>> loaded = tf.saved_model.load(str(path))
    >>> loaded.signatures["serving_default"](x=tf.constant([1.0, 8.0], tf.float64))["y"].numpy()
    array([0.25, 2.  ])
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tskew.errors import ArtifactError
from tskew.exporters.common import MISSING_SUFFIX
from tskew.exporters.signature import (
    MANIFEST_PATH,
    SignatureSpec,
    argument_names,
    required_features,
    signature_manifest,
)
from tskew.exporters.tensorflow import Lowering, TfCol, tf_dtype, tf_module
from tskew.ir.graph import Graph
from tskew.schema import DType

if TYPE_CHECKING:
    from tskew.policy import Policy
    from tskew.transform_fn import TransformFn


def raw_features(
    graph: Graph, outputs: Iterable[str] | None = None
) -> dict[str, tuple[DType, bool]]:
    """name -> (dtype, nullable) of the raw features ``outputs`` (default: all) depend on."""
    return required_features(graph, outputs)


def signature_input_names(graph: Graph, outputs: Iterable[str] | None = None) -> list[str]:
    """The argument names of a signature serving ``outputs``: each feature it depends on,
    then ``<name>__missing``."""
    return argument_names(required_features(graph, outputs))


def checked_request(features: dict[str, Any], spec: dict[str, tuple[DType, bool]]) -> dict:
    """The request's tensors, gated by one run-time check that each is a ``[batch]`` vector
    as long as the first input.

    TF broadcasts: without the check a length-1 ``x__missing`` or string column would be
    applied to every row, and a scalar or a ``[1, n]`` tensor would be served. The
    signature's ``[None]`` shape does not stop them (a SavedModel's caller can feed any
    shape), and Grappler folds checks of static shapes (``Rank``, ``Size`` of a shape), so
    the check compares run-time shapes: each input's ``Shape`` followed by -1, concatenated,
    must read ``n, -1, n, -1, ...`` (a scalar or a matrix shifts the pattern). Two ops per
    input plus about ten, so serving stays close to the hand-written floor.
    """
    tf = tf_module()
    names = [n for name, (_, nullable) in spec.items()
             for n in ((name, name + MISSING_SUFFIX) if nullable else (name,))
             if features.get(n) is not None]  # fmt: skip
    if not names:
        return features
    tensors = {name: tf.convert_to_tensor(features[name]) for name in names}
    end = tf.constant([-1], tf.int32)
    shapes = tf.concat([part for name in names for part in (tf.shape(tensors[name]), end)], 0)
    size = 2 * len(names)
    padded = tf.concat([shapes, tf.fill([size], -2)], 0)[:size]
    expected = tf.tile(tf.stack([shapes[0], -1]), [len(names)])
    check = tf.debugging.Assert(
        tf.reduce_all(tf.equal(padded, expected)),
        [
            "every input of a request must be a [batch] vector with one value per row, all of "
            "the same length (nothing is broadcast); the run-time shapes of "
            f"{', '.join(names)} follow, each ended by -1:",
            shapes,
        ],
        summarize=size + 8,
    )
    out = dict(features)
    with tf.control_dependencies([check]):
        for name in names:
            out[name] = tf.identity(tensors[name])
    return out


class TransformModule:
    """Builds the ``tf.Module`` whose functions are the exported signatures."""

    def __init__(
        self,
        tfn: TransformFn,
        model: Any = None,
        policy: Policy | None = None,
        model_output: str | None = None,
    ):
        tf = tf_module()
        self.graph = tfn.graph
        self.features = raw_features(tfn.graph)  # what transform_features takes
        self.module = tf.Module()
        self.lowering = Lowering(tfn.graph)
        self.module.tables = [t for t in self.lowering.tables.values() if t is not None]
        self.model = None
        if model is not None:
            from tskew.exporters.attach import attach_model

            self.model = attach_model(model, tfn, model_output)
            self.module.model = self.model.trackable
        self.policy_lowering = None
        if policy is not None:
            if self.model is None:
                raise ArtifactError("a postprocess policy needs a model to post-process")
            self.policy_graph = policy.trace(self.model.output_dtype, self.model.output_width)
            self.policy_lowering = Lowering(self.policy_graph)
            self.module.policy_tables = [
                t for t in self.policy_lowering.tables.values() if t is not None
            ]
        # serving_default serves the model's inputs (all outputs without a model), so it
        # requires only the raw features those depend on.
        self.served = list(self.model.input_dtypes) if self.model else list(tfn.graph.outputs)
        self.serving_features = raw_features(tfn.graph, self.served)

    # --------------------------------------------------------------- compute
    def transform(
        self, features: dict[str, Any], outputs: list[str] | None = None
    ) -> dict[str, Any]:
        """Raw feature tensors (plus ``<name>__missing`` masks) -> transformed tensors.

        Only ``outputs`` (default: all) are computed, from the raw features they read.
        """
        tf = tf_module()
        spec = self.features if outputs is None else raw_features(self.graph, outputs)
        features = checked_request(features, spec)
        bound = {}
        for name, (dtype, nullable) in spec.items():
            values = tf.convert_to_tensor(features[name], tf_dtype(dtype))
            mask = features.get(name + MISSING_SUFFIX) if nullable else None
            if mask is not None:
                # Masked slots hold the numpy executor's filler, so no op sees user garbage.
                values = tf.where(mask, tf.zeros_like(values), values)
            bound[name] = TfCol(values, mask)
        targets = None if outputs is None else {n: self.graph.outputs[n] for n in outputs}
        return self.lowering(bound, targets)

    def serve(self, features: dict[str, Any]) -> dict[str, Any]:
        """Transform, then the model and the policy when attached."""
        transformed = self.transform(features, self.served)
        if self.model is None:
            return transformed
        predictions = self.model(transformed)
        if self.policy_lowering is None:
            return {"predictions": predictions}
        return self.policy_lowering({"predictions": TfCol(predictions)})

    # ------------------------------------------------------------ signatures
    def input_signature(self, features: dict[str, tuple[DType, bool]]) -> list[Any]:
        tf = tf_module()
        specs = []
        for name, (dtype, nullable) in features.items():
            specs.append(tf.TensorSpec([None], tf_dtype(dtype), name=name))
            if nullable:
                specs.append(tf.TensorSpec([None], tf.bool, name=name + MISSING_SUFFIX))
        return specs

    def signatures(self) -> dict[str, Any]:
        tf = tf_module()
        names = argument_names(self.features)
        serving_names = argument_names(self.serving_features)

        def transform_fn(*args: Any) -> dict[str, Any]:
            return self.transform(dict(zip(names, args, strict=True)))

        def serve_fn(*args: Any) -> dict[str, Any]:
            return self.serve(dict(zip(serving_names, args, strict=True)))

        # Generated code is plain TF ops: AutoGraph has nothing to convert, and would
        # only warn about the functions it cannot read (importlib's _gcd_import).
        function = functools.partial(tf.function, autograph=False)
        transform = function(transform_fn, input_signature=self.input_signature(self.features))
        serve = function(serve_fn, input_signature=self.input_signature(self.serving_features))
        from_examples = function(
            lambda examples: self.serve(self.parse_examples(examples)),
            input_signature=[tf.TensorSpec([None], tf.string, name="examples")],
        )
        return {
            "serving_default": serve.get_concrete_function(),
            "transform_features": transform.get_concrete_function(),
            "serving_tf_example": from_examples.get_concrete_function(),
        }

    def signature_specs(self) -> dict[str, SignatureSpec]:
        """What each exported signature takes and returns (written beside the SavedModel)."""
        served = (
            list(self.graph.outputs)
            if self.model is None
            else list(self.policy_graph.outputs)
            if self.policy_lowering is not None
            else ["predictions"]
        )
        return {
            "serving_default": SignatureSpec(self.serving_features, served),
            "transform_features": SignatureSpec(self.features, list(self.graph.outputs)),
            "serving_tf_example": SignatureSpec(self.serving_features, served, examples=True),
        }

    def parse_examples(self, serialized: Any) -> dict[str, Any]:
        """Serialized tf.Example protos -> the tensors and missing masks ``serve`` reads.

        float64 features travel as float_list (float32) in tf.Example, as TF stores them.
        """
        tf = tf_module()
        example_dtype = {
            DType.FLOAT32: tf.float32,
            DType.FLOAT64: tf.float32,
            DType.INT64: tf.int64,
            DType.BOOL: tf.int64,
            DType.STRING: tf.string,
        }
        spec = {
            name: tf.io.VarLenFeature(example_dtype[dtype])
            for name, (dtype, _) in self.serving_features.items()
        }
        parsed = tf.io.parse_example(serialized, spec)
        n = tf.shape(serialized, out_type=tf.int64)[0]
        out = {}
        for name, (dtype, nullable) in self.serving_features.items():
            sparse = parsed[name]
            counts = tf.math.unsorted_segment_sum(
                tf.ones_like(sparse.indices[:, 0]), sparse.indices[:, 0], n
            )
            checks = [
                tf.debugging.assert_less_equal(
                    counts,
                    tf.constant(1, tf.int64),
                    message=f"feature {name!r}: a tf.Example holds more than one value; "
                    "tskew features are scalars",
                )
            ]
            if not nullable:
                checks.append(
                    tf.debugging.assert_equal(
                        counts,
                        tf.ones_like(counts),
                        message=f"feature {name!r} is absent from a tf.Example but the schema "
                        "declares it non-nullable",
                    )
                )
            with tf.control_dependencies(checks):
                width = tf.maximum(sparse.dense_shape[1], 1)
                dense = tf.sparse.to_dense(tf.sparse.reset_shape(sparse, tf.stack([n, width])))[
                    :, 0
                ]
            out[name] = tf.cast(dense, tf_dtype(dtype)) if dtype is not DType.STRING else dense
            if dtype is DType.BOOL:
                out[name] = tf.not_equal(dense, 0)
            if nullable:
                out[name + MISSING_SUFFIX] = tf.equal(counts, 0)
        return out


def export_saved_model(
    tfn: TransformFn,
    path: str | Path,
    *,
    model: Any = None,
    postprocess: Policy | None = None,
    model_output: str | None = None,
    tft_layout: bool = False,
) -> Path:
    """Write ``tfn`` (and ``model`` and the ``postprocess`` policy) as a SavedModel at ``path``.

    Args:
        tfn: the transform.
        path: the directory to write (created; must not hold a SavedModel already).
        model: a Keras model, or a SavedModel directory whose ``serving_default``
            takes the transformed features by name.
        postprocess: a `tskew.policy` applied to the model's predictions.
        model_output: which output of a multi-output model feeds the policy.
        tft_layout: also write TensorFlow Transform's layout into ``path``
            (``transform_fn/``, ``transformed_metadata/``, ``metadata/``), so that
            ``tft.TFTransformOutput(path)`` serves the same transform (see `write_tft`).

    Returns:
        The directory written.
    """
    tf = tf_module()
    path = Path(path)
    built = TransformModule(tfn, model, postprocess, model_output)
    signatures = built.signatures()
    built.module.transform_features = signatures["transform_features"]
    tf.saved_model.save(built.module, str(path), signatures=signatures)
    manifest = path / MANIFEST_PATH
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text(json.dumps(signature_manifest(built.signature_specs()), indent=1) + "\n")
    if tft_layout:
        write_tft(built, path)
    return path


# TFT's schema (and a tf.Example) knows int64, float32 and bytes only.
_TFT_DTYPES = {
    DType.FLOAT32: DType.FLOAT32,
    DType.FLOAT64: DType.FLOAT32,
    DType.INT64: DType.INT64,
    DType.BOOL: DType.INT64,
    DType.STRING: DType.STRING,
}


def write_tft(built: TransformModule, path: Path) -> None:
    """TFT's layout for the transform of ``built``.

    TFT's types are narrower than tskew's: float64 raw features arrive as float32
    (TFT's Keras layer casts them anyway) and float64 outputs are served as float32;
    bool travels as int64 0/1. A nullable raw feature is a ``VarLenFeature`` (a
    ``SparseTensor`` with at most one value per row; an empty row is missing).
    """
    from tskew.exporters.tft_layout import write_tft_layout

    tf = tf_module()
    raw_specs = {}
    for name, (dtype, nullable) in built.features.items():
        tft_type = tf_dtype(_TFT_DTYPES[dtype])
        raw_specs[name] = (
            tf.SparseTensorSpec([None, None], tft_type)
            if nullable
            else tf.TensorSpec([None], tft_type)
        )
    output_specs = {}
    for name, nid in built.graph.outputs.items():
        vtype = built.graph.nodes[nid].type
        shape = [None] if vtype.width is None else [None, vtype.width]
        output_specs[name] = tf.TensorSpec(shape, tf_dtype(_TFT_DTYPES[vtype.dtype]))

    def transform(features: dict[str, Any]) -> dict[str, Any]:
        inputs = {}
        for name, (dtype, nullable) in built.features.items():
            value = features[name]
            if nullable:
                n = tf.shape(value, out_type=tf.int64)[0]
                width = tf.maximum(value.dense_shape[1], 1)
                dense = tf.sparse.to_dense(tf.sparse.reset_shape(value, tf.stack([n, width])))
                counts = tf.math.unsorted_segment_sum(
                    tf.ones_like(value.indices[:, 0]), value.indices[:, 0], n
                )
                inputs[name + MISSING_SUFFIX] = tf.equal(counts, 0)
                value = dense[:, 0]
            inputs[name] = (
                (tf.not_equal(value, 0) if dtype is DType.BOOL else tf.cast(value, tf_dtype(dtype)))
                if dtype is not DType.STRING
                else value
            )
        out = built.transform(inputs)
        return {
            name: tf.cast(t, output_specs[name].dtype) if t.dtype != output_specs[name].dtype else t
            for name, t in out.items()
        }

    write_tft_layout(path, transform, raw_specs, output_specs, trackables=built.module.tables)


def serving_inputs(
    tfn: TransformFn, data: Any, outputs: Iterable[str] | None = None
) -> dict[str, np.ndarray]:
    """The signature inputs for ``data`` (anything `TransformFn.transform` reads).

    Values are conformed to the schema; a missing value becomes the filler (0, False
    or "") plus True in ``<name>__missing``. ``outputs`` (default: all outputs, what
    ``transform_features`` takes) limits the columns to the raw features they depend
    on: pass the attached model's inputs for a ``serving_default`` with a model.

    Example:
        >>> import tskew as ts
        >>> tfn = ts.analyze(lambda i: {"y": ts.fill_missing(i["n"], 0)}, {"n": [1, None]})
        >>> {k: v.tolist() for k, v in serving_inputs(tfn, {"n": [5, None]}).items()}
        {'n': [5, 0], 'n__missing': [False, True]}
    """
    import pyarrow as pa

    from tskew.io import open_source

    source = open_source(data, tfn.input_schema)
    batches = list(source.batches())
    table = pa.Table.from_batches(batches) if batches else source.schema.to_arrow().empty_table()
    columns = {}
    for name, (dtype, nullable) in raw_features(tfn.graph, outputs).items():
        col = table.column(name).combine_chunks()
        filler = "" if dtype is DType.STRING else False if dtype is DType.BOOL else 0
        columns[name] = col.fill_null(filler).to_numpy(zero_copy_only=False)
        if nullable:
            columns[name + MISSING_SUFFIX] = col.is_null().to_numpy(zero_copy_only=False)
    return columns


def run_transform(tfn: TransformFn, columns: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run the TF lowering of ``tfn`` in a ``tf.function`` (what the SavedModel runs).

    ``columns`` maps feature -> numpy values, plus ``<name>__missing`` masks; columns
    no output depends on are ignored.
    """
    tf = tf_module()
    built = TransformModule(tfn)
    fn = built.signatures()["transform_features"]
    dtypes = {name: tf_dtype(dtype) for name, (dtype, _) in built.features.items()}
    wanted = set(argument_names(built.features))
    out = fn(
        **{
            name: tf.constant(_tensor_ready(v), dtypes.get(name, tf.bool))
            for name, v in columns.items()
            if name in wanted
        }
    )
    return {name: _from_tensor(t) for name, t in out.items()}


def _tensor_ready(values: Any) -> Any:
    arr = np.asarray(values)
    return arr.tolist() if arr.dtype == object else arr


def _from_tensor(t: Any) -> np.ndarray:
    values = t.numpy()
    if values.dtype == object:  # tf.string -> bytes; tskew strings are str
        return np.array([v.decode("utf-8") for v in values.reshape(-1)], object).reshape(
            values.shape
        )
    return values
