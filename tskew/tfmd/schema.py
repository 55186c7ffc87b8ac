"""TFMD schemas as tskew schemas: TFX's ``schema.pbtxt`` wherever a ``schema=`` is taken.

`schema_from_tfmd` turns a tensorflow_metadata ``Schema`` (a proto, or the path of its text
format, e.g. the ``schema.pbtxt`` TFX's SchemaGen writes) into a `tskew.Schema`;
`tskew.io.schemas.as_schema` calls it, so every ``schema=`` argument (``ts.analyze``,
``open_source``, the Beam readers) accepts one.

Example:
    >>> class Schema:  # anything that is not the TFMD proto
    ...     pass
    >>> is_tfmd_schema(Schema()), is_tfmd_schema({"x": "int64"})
    (False, False)
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from tskew.errors import SchemaError
from tskew.schema import DType, FeatureType, Schema
from tskew.tfmd.protos import BINARY_SUFFIXES, load_pb2

# Spellings of a BYTES feature with a bool_domain that tskew's text parser reads as bool.
_BOOL_TOKENS = {"", "true", "false", "1", "0"}


def is_tfmd_schema(obj: Any) -> bool:
    """Whether ``obj`` is a tensorflow_metadata ``Schema`` proto (checked without importing it)."""
    descriptor = getattr(type(obj), "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", None) == "tensorflow.metadata.v0.Schema"


def load_tfmd_schema(path: str | os.PathLike[str]):
    """Read a TFMD ``Schema``: text format (``schema.pbtxt``), or binary for .pb/.bin."""
    pb2 = load_pb2("schema_pb2")
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such schema file")
    data = path.read_bytes()
    out = pb2.Schema()
    if path.name.lower().endswith(BINARY_SUFFIXES):
        out.ParseFromString(data)
        return out
    from google.protobuf import text_format

    try:
        return text_format.Parse(data.decode("utf-8"), out)
    except (UnicodeDecodeError, text_format.ParseError) as err:
        raise SchemaError(f"{path}: not a tensorflow_metadata Schema text proto: {err}") from None


def schema_from_tfmd(
    schema: Any,
    *,
    environment: str | None = None,
    float_dtype: str = "float32",
) -> Schema:
    """A `tskew.Schema` from a TFMD ``Schema`` proto or the path of one (see `load_tfmd_schema`).

    Types: INT -> int64 (bool with a ``bool_domain``), FLOAT -> ``float_dtype`` (float32 by
    default, as TFT parses it), BYTES -> string (bool when its ``bool_domain`` uses the
    spellings tskew parses: true/false/1/0). Nullable unless ``presence.min_fraction`` is 1
    (TFDV's "present in every example"); no ``presence`` means nullable. Deprecated features
    (``deprecated`` or lifecycle DEPRECATED/DISABLED) are left out; features tskew cannot hold
    (STRUCT, unknown type, more than one value per example, sparse and weighted features,
    image/audio/video bytes) are left out with a warning naming them.

    Args:
        environment: keep only the features TFDV validates in this environment (e.g.
            "SERVING" drops a label declared ``not_in_environment: "SERVING"``); a feature
            without environments is kept when ``default_environment`` is empty or lists it.
        float_dtype: "float32" (the default) is what TFT parses a FLOAT feature into (a
            tf.Example ``float_list``), so statistics and comparisons match TFT's; "float64"
            keeps every digit a CSV or Parquet column has.
    """
    pb2 = load_pb2("schema_pb2")
    proto = schema if is_tfmd_schema(schema) else load_tfmd_schema(schema)
    float_type = DType(float_dtype)
    if not float_type.is_float:
        raise ValueError(f"float_dtype must be 'float32' or 'float64', got {float_dtype!r}")
    features: dict[str, FeatureType] = {}
    skipped: list[str] = []
    for feature in proto.feature:
        if _deprecated(pb2, feature):
            continue
        if environment is not None and not _in_environment(proto, feature, environment):
            continue
        dtype, reason = _dtype(pb2, feature, float_type)
        if dtype is None:
            skipped.append(f"{feature.name!r} ({reason})")
            continue
        present = feature.HasField("presence") and feature.presence.min_fraction >= 1.0
        features[feature.name] = FeatureType(dtype, nullable=not present)
    skipped += [f"{f.name!r} (sparse feature)" for f in proto.sparse_feature]
    skipped += [f"{f.name!r} (weighted feature)" for f in proto.weighted_feature]
    if skipped:
        warnings.warn(
            "tensorflow_metadata schema: left out features tskew cannot represent (it reads "
            f"scalar float, int, string and bool features): {', '.join(skipped)}",
            UserWarning,
            stacklevel=2,
        )
    if not features:
        raise SchemaError("the tensorflow_metadata schema has no feature tskew can read")
    return Schema(features)


def _deprecated(pb2, feature) -> bool:
    stage = feature.lifecycle_stage
    return feature.deprecated or stage in (pb2.DEPRECATED, pb2.DISABLED)


def _in_environment(proto, feature, environment: str) -> bool:
    if environment in feature.in_environment:
        return True
    if environment in feature.not_in_environment or len(feature.in_environment):
        return False
    return not proto.default_environment or environment in proto.default_environment


def _dtype(pb2, feature, float_type: DType) -> tuple[DType | None, str]:
    """The tskew dtype of a TFMD feature, or (None, why not)."""
    valency = _multivalent(feature)
    if valency:
        return None, valency
    kind = feature.type
    if kind == pb2.INT:
        return (DType.BOOL if feature.HasField("bool_domain") else DType.INT64), ""
    if kind == pb2.FLOAT:
        return float_type, ""
    if kind == pb2.BYTES:
        for domain in ("image_domain", "audio_domain", "video_domain"):
            if feature.HasField(domain):
                return None, f"binary content: {domain}"
        if feature.HasField("bool_domain"):
            spellings = {
                feature.bool_domain.true_value.lower(),
                feature.bool_domain.false_value.lower(),
            }
            if spellings <= _BOOL_TOKENS:
                return DType.BOOL, ""
        return DType.STRING, ""
    return None, f"type {pb2.FeatureType.Name(kind)}"


def _multivalent(feature) -> str:
    if feature.HasField("value_count") and feature.value_count.max > 1:
        return f"up to {feature.value_count.max} values per example"
    if feature.HasField("value_counts"):
        return "nested values"
    if feature.HasField("shape") and any(d.size != 1 for d in feature.shape.dim):
        dims = "x".join(str(d.size) for d in feature.shape.dim)
        return f"shape [{dims}]"
    return ""


__all__ = ["is_tfmd_schema", "load_tfmd_schema", "schema_from_tfmd"]
