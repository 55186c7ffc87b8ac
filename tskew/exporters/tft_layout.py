"""Write TensorFlow Transform's on-disk output layout for a plain TensorFlow function.

TFX code consumes a transform through ``tensorflow_transform.TFTransformOutput(dir)``.
This module writes the directory that class reads, without running TFT or Beam::

    dir/transform_fn/                        TF2 SavedModel, attribute ``transform_fn``
    dir/transformed_metadata/schema.pbtxt    tensorflow_metadata Schema of the outputs
    dir/metadata/schema.pbtxt                Schema of the raw inputs (``raw_feature_spec()``)

What TFT (1.21) needs, from its source:

* ``TFTransformOutput._exported_as_v1`` (``saved/saved_transform_io.exported_as_v1``) parses
  ``saved_model.pb`` and calls the model TF1 iff a MetaGraphDef is tagged exactly
  ``{"transform"}``; ``tf.saved_model.save`` tags it ``{"serve"}``, so the TF2 path is taken.
* ``saved/saved_transform_io_v2.SavedModelLoader`` runs ``tf.saved_model.load(dir)``; a
  signature named ``transform_signature`` would switch it to the TF1-compat path, so there is
  none. It then reads ``imported.transform_fn`` (a ConcreteFunction, or a tf.function with
  exactly one concrete function), takes the raw inputs from the first positional argument of
  ``structured_input_signature`` (a dict of TensorSpecs) and the outputs from
  ``graph.structured_outputs`` (a dict), and calls it with the inputs flattened in
  ``tf.nest`` (sorted key) order. Outputs that depend on a raw feature the caller did not
  feed are dropped, found by walking the graph from each output back to its inputs.
* ``transform_raw_features`` and ``transform_features_layer()(...)`` both go through
  ``TransformFeaturesLayer.call`` -> ``SavedModelLoader.apply_transform_model``.
* ``transformed_feature_spec()`` reads ``transformed_metadata/schema.pbtxt`` (text Schema,
  ``tf_metadata/metadata_io.read_metadata``); via tfx_bsl a feature with a ``shape`` (empty
  for scalars) and ``presence.min_fraction == 1`` becomes a ``FixedLenFeature(shape)``
  without default. Types: INT = int64, FLOAT = float32, BYTES = string; nothing else.
* ``raw_feature_spec()`` reads ``metadata/schema.pbtxt`` (``RAW_METADATA_DIR``); optional
  for TFT, written here so TFX input and serving functions can parse raw tf.Examples.
* ``TransformFeaturesLayer`` is a tf_keras Model, which autocasts float inputs to float32,
  so raw features too are limited to int64, float32 and string.
* Outputs that come from a nested tf.function call are one call op depending on every
  input, so a tf.function is re-traced from its Python function rather than wrapped.

Example (not run as a doctest: TensorFlow is optional)::

    import tensorflow as tf
    from tskew.exporters.tft_layout import write_tft_layout

    write_tft_layout(
        "out",
        tf.function(lambda f: {"y": f["x"] * 2.0}),
        raw_specs={"x": tf.TensorSpec([None], tf.float32)},
        output_specs={"y": tf.TensorSpec([None], tf.float32)},
    )
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tskew.errors import SchemaError, TraceError

TRANSFORM_FN_DIR = "transform_fn"
TRANSFORMED_METADATA_DIR = "transformed_metadata"
RAW_METADATA_DIR = "metadata"
SCHEMA_FILE = "schema.pbtxt"
# The attribute SavedModelLoader reads.
TRANSFORM_FN_ATTR = "transform_fn"

# tf dtype name -> tensorflow_metadata FeatureType; a tf.Example holds only these.
_SCHEMA_TYPES = {"int64": "INT", "float32": "FLOAT", "string": "BYTES"}


def write_tft_layout(
    directory: str | os.PathLike[str],
    transform: Callable[[dict[str, Any]], Mapping[str, Any]],
    raw_specs: Mapping[str, Any],
    output_specs: Mapping[str, Any],
    *,
    trackables: Iterable[Any] = (),
) -> None:
    """Write `transform` to `directory` in the layout `tft.TFTransformOutput` reads.

    A tf.function or callable is traced once on `raw_specs` (batch dimension relaxed to
    None); a ConcreteFunction is used as it is. Its signature and static output dtypes and
    shapes are checked against the specs, and it is saved as attribute ``transform_fn`` of
    a SavedModel. Existing ``transform_fn``/``transformed_metadata``/``metadata``
    subdirectories are replaced; other files in `directory` are left alone.

    Args:
        directory: Output directory (local filesystem); created if missing.
        transform: A tf.function, ConcreteFunction or plain callable taking one dict of
            batch-first dense tensors and returning a dict of tensors.
        raw_specs: Raw feature name -> batch-first dense ``tf.TensorSpec`` of dtype int64,
            float32 or string (e.g. ``TensorSpec([None], tf.float32)``); dimensions after
            the batch must be known.
        output_specs: Transformed feature name -> batch-first ``tf.TensorSpec`` of dtype
            int64, float32 or string with known non-batch dimensions, e.g. a one_hot of
            depth 3 is ``TensorSpec([None, 3], tf.float32)`` (``FixedLenFeature([3])``).
            `transform` must return exactly these keys.
        trackables: Objects the function captures but that were not created while this
            call traced it (lookup tables, variables, tf.Modules), e.g. everything a given
            ConcreteFunction captures; SavedModel saving needs them tracked. Resources and
            variables created while tracing here are tracked automatically.

    Raises:
        SchemaError: A spec is not a batch-first TensorSpec with known inner dimensions,
            a dtype has no Schema type, or the function's input or output keys differ
            from the specs.
        TraceError: The function's signature, or an output's dtype or static shape, does
            not match the specs.
    """
    import tensorflow as tf

    raw = {name: _batch_spec(tf, name, spec, "raw") for name, spec in raw_specs.items()}
    out = {name: _batch_spec(tf, name, spec, "output") for name, spec in output_specs.items()}
    if not raw:
        raise SchemaError("raw_specs is empty: the transform needs at least one raw feature")
    if not out:
        raise SchemaError("output_specs is empty: the transform must output a feature")
    # Raw features come from tf.Examples parsed with raw_feature_spec(), and Keras (which
    # TransformFeaturesLayer is) autocasts float64 inputs to float32, so raw dtypes are
    # limited like the outputs'.
    for role, specs in (("raw", raw), ("output", out)):
        for name, spec in specs.items():
            if spec.dtype.name not in _SCHEMA_TYPES:
                raise SchemaError(
                    f"{role} feature {name!r} has dtype {spec.dtype.name}, which a TFT "
                    f"schema cannot describe; use one of {sorted(_SCHEMA_TYPES)} and cast "
                    "inside the transform"
                )

    module = tf.Module()
    concrete = _trace(tf, transform, raw, module)
    _check_signature(tf, concrete, raw, out)
    module.extra_trackables = list(trackables)
    setattr(module, TRANSFORM_FN_ATTR, concrete)

    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    # Build everything in a scratch dir first so a failed save leaves the old layout whole.
    scratch = Path(tempfile.mkdtemp(prefix=".tskew_tft_", dir=root))
    try:
        tf.saved_model.save(module, str(scratch / TRANSFORM_FN_DIR))
        _write_schema(scratch / TRANSFORMED_METADATA_DIR, out)
        _write_schema(scratch / RAW_METADATA_DIR, raw)
        parts = [TRANSFORM_FN_DIR, TRANSFORMED_METADATA_DIR, RAW_METADATA_DIR]
        for part in parts:
            if (root / part).exists():
                shutil.rmtree(root / part)
            (scratch / part).rename(root / part)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _batch_spec(tf: Any, name: str, spec: Any, role: str) -> Any:
    """`spec` as a TensorSpec with batch dimension None; inner dimensions must be known.

    A raw feature may also be a ``tf.SparseTensorSpec([None, None], dtype)``: an optional
    feature (TFT's ``VarLenFeature``), at most one value per row in tskew.
    """
    if role == "raw" and isinstance(spec, tf.SparseTensorSpec):
        return tf.SparseTensorSpec([None, None], spec.dtype)
    if not isinstance(spec, tf.TensorSpec):
        raise SchemaError(
            f"{role} feature {name!r}: expected a tf.TensorSpec (dense, batch-first), got "
            f"{type(spec).__name__}"
        )
    shape = spec.shape
    if shape.rank is None or shape.rank < 1:
        raise SchemaError(
            f"{role} feature {name!r}: shape {shape} has no batch dimension; use e.g. "
            "TensorSpec([None], dtype) for one value per row"
        )
    inner = shape.as_list()[1:]
    if any(dim is None for dim in inner):
        raise SchemaError(
            f"{role} feature {name!r}: shape {shape} has an unknown non-batch dimension; "
            "a FixedLenFeature needs every dimension after the batch known"
        )
    # Batch size varies from call to call, so it is never part of the contract.
    return tf.TensorSpec([None, *inner], spec.dtype)


def _trace(
    tf: Any,
    transform: Callable[[dict[str, Any]], Mapping[str, Any]],
    raw: Mapping[str, Any],
    module: Any,
) -> Any:
    """The ConcreteFunction to save for `transform`; tracks what its tracing creates.

    A tf.function or callable is traced afresh on `raw` rather than called from a wrapper:
    a nested call would be one opaque call op, and TFT finds which outputs it can compute
    from the fed raw features by walking the graph from each output to the inputs.
    """
    if isinstance(transform, tf.types.experimental.ConcreteFunction):
        return transform
    python_function = getattr(transform, "python_function", transform)
    autograph = getattr(transform, "_autograph", True)
    # A fresh tf.function, so tracing happens now, inside the trackers below, even when
    # the caller's tf.function already holds a trace for this signature.
    function = tf.function(python_function, input_signature=[dict(raw)], autograph=autograph)

    created_variables: list[Any] = []

    def collect_variable(next_creator: Any, **kwargs: Any) -> Any:
        variable = next_creator(**kwargs)
        created_variables.append(variable)
        return variable

    tracker, scope = _resource_tracker()
    with scope, tf.variable_creator_scope(collect_variable):
        concrete = function.get_concrete_function()
    # tf.saved_model.save refuses functions that capture untracked resources/variables.
    module.created_variables = created_variables
    module.created_resources = list(getattr(tracker, "resources", []))
    return concrete


def _check_signature(
    tf: Any, concrete: Any, raw: Mapping[str, Any], out: Mapping[str, Any]
) -> None:
    """Check `concrete` has the call signature and outputs TFT's loader and schema assume."""
    args, kwargs = concrete.structured_input_signature
    if kwargs or len(args) != 1 or not isinstance(args[0], Mapping):
        raise TraceError(
            "the transform must take exactly one positional argument, a dict of tensors; "
            f"its signature is {concrete.structured_input_signature}"
        )
    inputs = args[0]
    if set(inputs) != set(raw):
        raise SchemaError(
            f"the transform's inputs {sorted(inputs)} differ from raw_specs {sorted(raw)}"
        )
    for name, spec in raw.items():
        got = inputs[name]
        if isinstance(spec, tf.SparseTensorSpec):
            if not isinstance(got, tf.SparseTensorSpec) or got.dtype != spec.dtype:
                raise TraceError(f"the transform's input {name!r} is {got}, expected {spec}")
            continue
        if (
            not isinstance(got, tf.TensorSpec)
            or got.dtype != spec.dtype
            or not got.shape.is_compatible_with(spec.shape)
            or got.shape[0] is not None
        ):
            raise TraceError(
                f"the transform's input {name!r} is {got}, but raw_specs says {spec} "
                "(any batch size must be accepted)"
            )

    outputs = concrete.structured_outputs
    if not isinstance(outputs, Mapping):
        raise TraceError(
            f"the transform must return a dict of tensors, got {type(outputs).__name__}"
        )
    if set(outputs) != set(out):
        missing, extra = sorted(set(out) - set(outputs)), sorted(set(outputs) - set(out))
        raise SchemaError(
            f"transform outputs differ from output_specs: missing {missing}, unexpected {extra}"
        )
    for name, spec in out.items():
        value = outputs[name]
        if not isinstance(value, tf.Tensor):
            raise TraceError(
                f"output {name!r} is a {type(value).__name__}; only dense tensors are supported"
            )
        if value.dtype != spec.dtype:
            raise TraceError(
                f"output {name!r} has dtype {value.dtype.name} but its spec says "
                f"{spec.dtype.name}; cast it in the transform or fix output_specs"
            )
        # The schema promises these dimensions, and Keras models built on the layer see the
        # static shape, so it must be known, not merely compatible.
        shape = value.shape
        if shape.rank != spec.shape.rank or shape.as_list()[1:] != spec.shape.as_list()[1:]:
            raise TraceError(
                f"output {name!r} has static shape {shape} but its spec says {spec.shape}; "
                "fix output_specs, or pin the shape with tf.ensure_shape in the transform"
            )


def _resource_tracker() -> tuple[Any, Any]:
    """(tracker, context manager) recording lookup tables etc. created while tracing.

    TensorFlow creates such resources eagerly (outside the function) and only captures
    them, so they must be attached to the saved module. The tracker lives in a private
    TF module; without it, resources must be passed as `trackables`.
    """
    import contextlib

    try:
        from tensorflow.python.trackable import resource
    except ImportError:  # pragma: no cover - TF layout changed
        return None, contextlib.nullcontext()
    tracker = resource.ResourceTracker()
    return tracker, resource.resource_tracker_scope(tracker)


def _schema_text(specs: Mapping[str, Any]) -> str:
    """A tensorflow_metadata Schema in text format: one dense, always-present feature each.

    Written by hand so that writing needs only TensorFlow, not tensorflow_metadata.
    """
    lines = []
    for name in sorted(specs):
        spec = specs[name]
        if spec.shape.rank == 2 and spec.shape[1] is None:  # sparse: a VarLenFeature
            kind = _SCHEMA_TYPES[spec.dtype.name]
            lines.append(f"feature {{\n  name: {_quote(name)}\n  type: {kind}\n}}\n")
            continue
        dims = "".join(f" dim {{ size: {size} }}" for size in spec.shape.as_list()[1:])
        lines.append(
            "feature {\n"
            f"  name: {_quote(name)}\n"
            f"  type: {_SCHEMA_TYPES[spec.dtype.name]}\n"
            "  presence {\n    min_fraction: 1.0\n  }\n"
            # The shape field must be present even when empty: that is what makes a scalar
            # a FixedLenFeature([]) rather than a VarLenFeature.
            f"  shape {{{dims} }}\n"
            "}\n"
        )
    return "".join(lines)


def _quote(text: str) -> str:
    """A protobuf text-format string literal: UTF-8 bytes, non-printables octal-escaped."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def _write_schema(path: Path, specs: Mapping[str, Any]) -> None:
    """Write `specs` as ``path/schema.pbtxt``."""
    path.mkdir(parents=True, exist_ok=True)
    (path / SCHEMA_FILE).write_text(_schema_text(specs), encoding="utf-8")
