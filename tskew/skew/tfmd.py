"""tensorflow_metadata interop: the training baseline as TFMD statistics, TFMD schemas as ours.

* `to_statistics_proto` turns a `DatasetStatistics` (``tfn.statistics``) into the
  ``DatasetFeatureStatisticsList`` proto that TFDV (``tfdv.load_statistics``,
  ``infer_schema``, ``validate_statistics``, ``visualize_statistics``) and Facets Overview read;
  `write_statistics` writes it as a one-record TFRecord, a binary proto or a text proto.
* `schema_from_tfmd` turns a TFMD ``Schema`` (a proto, or the path of its text format, e.g. the
  ``schema.pbtxt`` TFX's SchemaGen writes) into a `tskew.Schema`. `tskew.schema.as_schema` calls
  it, so every ``schema=`` argument (``ts.analyze``, ``open_source``, the Beam readers) accepts one.

tensorflow_metadata is optional: it is imported only when a proto is built or parsed, and a
missing package is an `ImportError` naming it (``pip install tensorflow-metadata``). Writing a
TFRecord needs neither TensorFlow nor TFDV (the framing and its CRC32C are done here).

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": ts.scale_to_z_score(i["x"])}, {"x": [1.0, 2.0, 4.0]})
    >>> proto = to_statistics_proto(tfn.statistics)  # doctest: +SKIP
    >>> [f.name for f in proto.datasets[0].features]  # doctest: +SKIP
    ['x', 'transformed/y']
"""

from __future__ import annotations

import itertools
import math
import os
import struct
import warnings
from pathlib import Path
from typing import Any

from tskew.errors import SchemaError
from tskew.schema import DType, FeatureType, Schema, is_tfmd_schema
from tskew.statistics import DatasetStatistics, FeatureStatistics, histogram_edges

# Output features share the dataset with the raw inputs under this prefix (features="all").
OUTPUT_PREFIX = "transformed/"
# TFDV's default number of buckets of a QUANTILES histogram (StatsOptions.num_quantiles_...).
QUANTILE_BUCKETS = 10
FORMATS = ("tfrecord", "binary", "text")
_TEXT_SUFFIXES = (".pbtxt", ".textproto", ".txt", ".prototxt")
_BINARY_SUFFIXES = (".pb", ".bin")
# Spellings of a BYTES feature with a bool_domain that tskew's text parser reads as bool.
_BOOL_TOKENS = {"", "true", "false", "1", "0"}


def _pb2(module: str):
    """``tensorflow_metadata.proto.v0.<module>``, or an ImportError naming the package."""
    try:
        if module == "statistics_pb2":
            from tensorflow_metadata.proto.v0 import statistics_pb2 as pb2
        else:
            from tensorflow_metadata.proto.v0 import schema_pb2 as pb2
    except ImportError as err:
        raise ImportError(
            "tensorflow_metadata interop needs the tensorflow-metadata package "
            f"(pip install tensorflow-metadata); importing it failed: {err}"
        ) from err
    return pb2


# --------------------------------------------------------------------------- statistics


def to_statistics_proto(
    stats: DatasetStatistics | Any,
    name: str = "train",
    *,
    features: str = "all",
    quantile_buckets: int = QUANTILE_BUCKETS,
):
    """The statistics as a TFMD ``DatasetFeatureStatisticsList`` holding one dataset.

    Args:
        stats: ``tfn.statistics`` (a `DatasetStatistics`), or a TransformFn.
        name: the dataset's name (what Facets shows in its legend).
        features: "all" (default): the raw inputs under their names, then the transformed
            outputs named ``"transformed/<name>"``; "inputs": only the raw inputs (TFX's
            pre-transform statistics, what TFDV compares raw serving data with); "outputs":
            only the outputs under their own names (TFX's post-transform statistics).
        quantile_buckets: buckets of the QUANTILES histogram, a divisor of 100 (they are cut
            from the 101 exact percentiles).

    One dataset, not one per role: ``tfdv.infer_schema`` and ``tfdv.validate_statistics``
    refuse a list of several datasets unless one is the "All Examples" slice.
    """
    pb2 = _pb2("statistics_pb2")
    stats = getattr(stats, "statistics", stats)
    if not isinstance(stats, DatasetStatistics):
        raise TypeError(f"expected DatasetStatistics or a TransformFn, got {type(stats).__name__}")
    if features not in ("all", "inputs", "outputs"):
        raise ValueError(f"features must be 'all', 'inputs' or 'outputs', got {features!r}")
    if quantile_buckets < 1 or 100 % quantile_buckets:
        raise ValueError(f"quantile_buckets must divide 100, got {quantile_buckets}")
    chosen: list[tuple[str, FeatureStatistics]] = []
    if features in ("all", "inputs"):
        chosen += list(stats.inputs.items())
    if features in ("all", "outputs"):
        prefix = OUTPUT_PREFIX if features == "all" else ""
        chosen += [(prefix + k, v) for k, v in stats.outputs.items()]
    seen: set[str] = set()
    for fname, _ in chosen:
        if fname in seen:
            raise ValueError(f"two features would both be named {fname!r} in the statistics")
        seen.add(fname)

    out = pb2.DatasetFeatureStatisticsList()
    dataset = out.datasets.add(name=name, num_examples=int(stats.num_rows))
    for fname, fstats in chosen:
        _feature_proto(pb2, dataset.features.add(), fname, fstats, quantile_buckets)
    return out


def _feature_proto(pb2, proto, name: str, s: FeatureStatistics, quantile_buckets: int) -> None:
    dtype = DType(s.dtype)
    proto.name = name
    non_missing = s.count - s.missing
    if dtype is DType.STRING:
        proto.type = pb2.FeatureNameStatistics.STRING
        _common(pb2, proto.string_stats.common_stats, non_missing, s.missing)
        _string_stats(proto.string_stats, s)
        return
    kinds = pb2.FeatureNameStatistics
    proto.type = kinds.FLOAT if dtype.is_float else kinds.INT
    num = proto.num_stats
    _common(pb2, num.common_stats, non_missing, s.missing)
    if dtype is DType.BOOL:  # TFDV has no bool type: 0/1 integers, as it reads pandas bools
        s = _bool_as_int(s)
    if s.mean is not None:
        num.mean = float(s.mean)
    if s.std is not None:
        num.std_dev = float(s.std)
    if s.quantiles:
        num.min, num.max = float(s.min), float(s.max)
        num.median = float(s.quantiles[len(s.quantiles) // 2])
    zeros = _num_zeros(s)
    if zeros is not None:  # proto3: an unknown count cannot be told apart from 0
        num.num_zeros = zeros
    _standard_histogram(pb2, num.histograms.add(), s)
    if s.percentiles:
        _quantiles_histogram(pb2, num.histograms.add(), s, quantile_buckets)


def _common(pb2, common, non_missing: int, missing: int) -> None:
    """One value per present row: TFDV's valency statistics of a scalar feature."""
    common.num_non_missing = non_missing
    common.num_missing = missing
    common.min_num_values = common.max_num_values = 1 if non_missing else 0
    common.avg_num_values = 1.0 if non_missing else 0.0
    common.tot_num_values = non_missing
    if non_missing:
        hist = common.num_values_histogram
        hist.type = pb2.Histogram.QUANTILES
        for _ in range(QUANTILE_BUCKETS):
            hist.buckets.add(low_value=1.0, high_value=1.0, sample_count=non_missing / 10)


def _string_stats(string_stats, s: FeatureStatistics) -> None:
    string_stats.unique = s.num_distinct
    for value, count in s.top_values:
        string_stats.top_values.add(value=str(value), frequency=float(count))
    ranks = string_stats.rank_histogram
    for rank, (value, count) in enumerate(s.top_values):
        ranks.buckets.add(low_rank=rank, high_rank=rank, label=str(value), sample_count=count)
    if s.top_values and not s.other_count:  # every value is known: exact mean UTF-8 length
        total = sum(c for _, c in s.top_values)
        string_stats.avg_length = sum(len(str(v).encode()) * c for v, c in s.top_values) / total


def _num_zeros(s: FeatureStatistics) -> int | None:
    """Exact count of zeros when the statistics determine it, else None."""
    for value, count in s.top_values:
        if value == 0:
            return int(count)
    if not s.other_count:  # top_values lists every value, and 0 is not one
        return 0
    if s.quantiles and (s.min > 0 or s.max < 0):
        return 0
    return None


def _standard_histogram(pb2, hist, s: FeatureStatistics) -> None:
    """The analyze-time equal-width buckets over the finite values; NaN as ``num_nan`` and
    infinities as the buckets ``[-inf, -inf]`` / ``[inf, inf]``, the way TFDV writes them."""
    hist.type = pb2.Histogram.STANDARD
    hist.num_nan = s.nan
    if s.neginf:
        hist.buckets.add(low_value=-math.inf, high_value=-math.inf, sample_count=s.neginf)
    for low, high, count in s.histogram:
        hist.buckets.add(low_value=float(low), high_value=float(high), sample_count=float(count))
    if s.posinf:
        hist.buckets.add(low_value=math.inf, high_value=math.inf, sample_count=s.posinf)


def _quantiles_histogram(pb2, hist, s: FeatureStatistics, buckets: int) -> None:
    """Equal-count buckets between exact percentiles (tskew's sorted-position rule)."""
    hist.type = pb2.Histogram.QUANTILES
    hist.num_nan = s.nan
    n = s.count - s.missing - s.nan
    step = 100 // buckets
    for j in range(buckets):
        hist.buckets.add(
            low_value=float(s.percentiles[j * step]),
            high_value=float(s.percentiles[(j + 1) * step]),
            sample_count=n / buckets,
        )


def _bool_as_int(s: FeatureStatistics) -> FeatureStatistics:
    """A bool feature's numeric statistics (False = 0, True = 1) from its two counts."""
    counts = {bool(v): int(c) for v, c in s.top_values}
    zeros, ones = counts.get(False, 0), counts.get(True, 0)
    n = zeros + ones
    out = FeatureStatistics(s.name, DType.INT64.value, s.count, s.missing, 0, s.num_distinct)
    out.top_values = [(int(v), c) for v, c in s.top_values]
    if not n:
        return out
    p = ones / n

    def at(position: int) -> int:
        return 0 if position < zeros else 1

    out.mean, out.std = p, math.sqrt(p * (1.0 - p))
    out.quantiles = [at(min(n - 1, k * n // 10)) for k in range(10)] + [at(n - 1)]
    out.min, out.max = out.quantiles[0], out.quantiles[-1]
    out.percentiles = [at(min(n - 1, k * n // 100)) for k in range(100)] + [at(n - 1)]
    edges = histogram_edges(float(out.min), float(out.max))
    if len(edges) == 2:
        out.histogram = [[float(edges[0]), float(edges[1]), n]]
    else:  # [0, 1] in ten buckets: False in the first, True in the last (upper edge included)
        out.histogram = [[float(lo), float(hi), 0] for lo, hi in itertools.pairwise(edges)]
        out.histogram[0][2], out.histogram[-1][2] = zeros, ones
    return out


def write_statistics(
    stats: DatasetStatistics | Any,
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    name: str = "train",
    features: str = "all",
) -> Path:
    """Write `to_statistics_proto` to ``path`` and return the path.

    Args:
        format: "tfrecord": one TFRecord holding the serialized list, what
            ``tfdv.load_statistics`` reads (and what TFDV's ``generate_statistics_from_*``
            write); "binary": the bare serialized proto, what ``tfdv.load_stats_binary``
            reads (TFX StatisticsGen's ``FeatureStats.pb``; Facets takes these bytes);
            "text": text format, read by ``tfdv.load_statistics`` and ``load_stats_text``.
            Default: from the suffix (.pbtxt/.textproto/.txt text, .pb/.bin binary),
            else "tfrecord".
        name, features: as in `to_statistics_proto`.
    """
    path = Path(path)
    fmt = format or _format_from_suffix(path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    proto = to_statistics_proto(stats, name, features=features)
    if fmt == "text":
        from google.protobuf import text_format

        data = text_format.MessageToString(proto).encode()
    else:
        data = proto.SerializeToString(deterministic=True)
        if fmt == "tfrecord":
            data = tfrecord_frame(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_statistics_text(
    stats: DatasetStatistics | Any, path: str | os.PathLike[str], **options: Any
) -> Path:
    """`write_statistics` in text format (``tfdv.load_statistics`` / ``load_stats_text``)."""
    return write_statistics(stats, path, format="text", **options)


def read_statistics(path: str | os.PathLike[str]):
    """Parse a ``DatasetFeatureStatisticsList`` written in any of the three formats."""
    pb2 = _pb2("statistics_pb2")
    data = Path(path).read_bytes()
    out = pb2.DatasetFeatureStatisticsList()
    record = tfrecord_unframe(data)
    if record is not None:
        out.ParseFromString(record)
        return out
    return _parse_text_or_binary(out, data, path)


def _format_from_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_TEXT_SUFFIXES):
        return "text"
    if name.endswith(_BINARY_SUFFIXES):
        return "binary"
    return "tfrecord"


def _parse_text_or_binary(message, data: bytes, path):
    from google.protobuf import message as pb_message
    from google.protobuf import text_format

    try:
        return text_format.Parse(data.decode("utf-8"), message)
    except (UnicodeDecodeError, text_format.ParseError):
        message.Clear()
    try:
        message.ParseFromString(data)
    except pb_message.DecodeError as err:
        raise ValueError(
            f"{path}: neither a text nor a binary {message.DESCRIPTOR.name} proto ({err})"
        ) from None
    return message


# TFRecord framing: uint64 length, masked CRC32C of the length, data, masked CRC32C of the data.


def tfrecord_frame(data: bytes) -> bytes:
    """One TFRecord (as ``tf.io.TFRecordWriter`` writes it) holding ``data``."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", _masked_crc(length))
        + data
        + struct.pack("<I", _masked_crc(data))
    )


def tfrecord_unframe(data: bytes) -> bytes | None:
    """The record of a single-record TFRecord file, or None when ``data`` is not one."""
    if len(data) < 16:
        return None
    (length,) = struct.unpack("<Q", data[:8])
    (length_crc,) = struct.unpack("<I", data[8:12])
    if length_crc != _masked_crc(data[:8]) or len(data) != 16 + length:
        return None
    record = data[12 : 12 + length]
    (data_crc,) = struct.unpack("<I", data[12 + length :])
    if data_crc != _masked_crc(record):
        raise ValueError("TFRecord data CRC mismatch: the file is corrupt")
    return record


def _masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli); google-crc32c when installed, else a table-driven fallback."""
    try:
        import google_crc32c
    except ImportError:
        return _crc32c_python(data)
    return google_crc32c.value(data)


_CRC_TABLE: list[int] = []


def _crc32c_python(data: bytes) -> int:
    if not _CRC_TABLE:
        for i in range(256):
            crc = i
            for _ in range(8):
                crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
            _CRC_TABLE.append(crc)
    table, crc = _CRC_TABLE, 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# --------------------------------------------------------------------------- schema


def load_tfmd_schema(path: str | os.PathLike[str]):
    """Read a TFMD ``Schema``: text format (``schema.pbtxt``), or binary for .pb/.bin."""
    pb2 = _pb2("schema_pb2")
    path = Path(path)
    if not path.is_file():
        raise SchemaError(f"{path}: no such schema file")
    data = path.read_bytes()
    out = pb2.Schema()
    if path.name.lower().endswith(_BINARY_SUFFIXES):
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
    default), BYTES -> string (bool when its ``bool_domain`` uses the spellings tskew parses:
    true/false/1/0). Nullable unless ``presence.min_fraction`` is 1 (TFDV's "present in every
    example"); no ``presence`` means nullable. Deprecated features (``deprecated`` or lifecycle
    DEPRECATED/DISABLED) are left out; features tskew cannot hold (STRUCT, unknown type, more
    than one value per example, sparse and weighted features, image/audio/video bytes) are left
    out with a warning naming them.

    Args:
        environment: keep only the features TFDV validates in this environment (e.g.
            "SERVING" drops a label declared ``not_in_environment: "SERVING"``); a feature
            without environments is kept when ``default_environment`` is empty or lists it.
        float_dtype: "float32" (the default) is what TFT parses a FLOAT feature into (a
            tf.Example ``float_list``), so statistics and comparisons match TFT's; "float64"
            keeps every digit a CSV or Parquet column has.
    """
    pb2 = _pb2("schema_pb2")
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


__all__ = [
    "FORMATS",
    "OUTPUT_PREFIX",
    "crc32c",
    "load_tfmd_schema",
    "read_statistics",
    "schema_from_tfmd",
    "tfrecord_frame",
    "tfrecord_unframe",
    "to_statistics_proto",
    "write_statistics",
    "write_statistics_text",
]
