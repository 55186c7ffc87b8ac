"""The training baseline as tensorflow_metadata statistics (TFDV's and Facets' input).

`to_statistics_proto` turns a `DatasetStatistics` (``tfn.statistics``) into the
``DatasetFeatureStatisticsList`` proto that TFDV (``tfdv.load_statistics``, ``infer_schema``,
``validate_statistics``, ``visualize_statistics``) and Facets Overview read;
`write_statistics` writes it as a one-record TFRecord, a binary proto or a text proto, and
`read_statistics` reads any of the three back. Writing a TFRecord needs neither TensorFlow nor
TFDV (`tskew.io.tfrecord` frames it).

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
from pathlib import Path
from typing import Any

from tskew.io.tfrecord import frame, unframe
from tskew.schema import DType
from tskew.statistics import DatasetStatistics, FeatureStatistics, histogram_edges
from tskew.tfmd.protos import BINARY_SUFFIXES, TEXT_SUFFIXES, load_pb2

# Output features share the dataset with the raw inputs under this prefix (features="all").
OUTPUT_PREFIX = "transformed/"
# TFDV's default number of buckets of a QUANTILES histogram (StatsOptions.num_quantiles_...).
QUANTILE_BUCKETS = 10
FORMATS = ("tfrecord", "binary", "text")


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
    pb2 = load_pb2("statistics_pb2")
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
            data = frame(data)
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
    pb2 = load_pb2("statistics_pb2")
    data = Path(path).read_bytes()
    out = pb2.DatasetFeatureStatisticsList()
    record = unframe(data)
    if record is not None:
        out.ParseFromString(record)
        return out
    return _parse_text_or_binary(out, data, path)


def _format_from_suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(TEXT_SUFFIXES):
        return "text"
    if name.endswith(BINARY_SUFFIXES):
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


__all__ = [
    "FORMATS",
    "OUTPUT_PREFIX",
    "read_statistics",
    "to_statistics_proto",
    "write_statistics",
    "write_statistics_text",
]
