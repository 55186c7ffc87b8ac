"""TF Serving request logs: ``PredictionLog`` TFRecord files as raw serving rows.

TF Serving's request logger writes one ``tensorflow.serving.PredictionLog`` proto per
record of a TFRecord file. This module turns them into raw serving rows (columns as
they came) for the skew detector, one row per example or batch element:

* ``predict_log``: a ``PredictRequest`` whose inputs are either a string tensor of
  serialized ``tf.Example`` protos under ``"examples"`` (the convention of a
  ``serving_tf_example`` signature) or named tensors, one per feature, as
  ``serving_default`` takes them (``[batch]`` or ``[batch, 1]``; a bool
  ``<name>__missing`` tensor marks missing values of ``<name>``, as tskew's export
  expects, and is dropped). Other inputs beside ``"examples"`` become columns too.
* ``classify_log``, ``regress_log``, ``multi_inference_log``: an ``Input`` holding an
  ``ExampleList`` or an ``ExampleListWithContext`` (context features are added to
  every example; the example's own value wins).
* ``predict_streamed_log``: each of its requests, as ``predict_log``.

A ``tf.Example`` feature with no value is missing (null); one value is a scalar; several
are a list, which the skew detector counts as a dtype violation (tskew features are
scalars). ``bytes_list`` values are decoded as UTF-8 (invalid bytes replaced), and
``float_list`` values are float32 as TF stores them. tf.Example has no bool type:
given a ``schema``, int64 0/1 values of a bool feature become False/True.

The TFRecord files (plain, GZIP or ZLIB) are read by `tskew.io.tfrecord`, which checks
every CRC: only the protos of the ``tensorflow-serving-api`` package are needed, not a TF
runtime. Damage is counted, not fatal (with a ``"skip"`` log): a record that is not a
``PredictionLog`` is one bad record and reading goes on, and so is a data CRC mismatch;
damaged framing ends that file (see `tskew.io.tfrecord.iter_records`). A `BadRecord`'s
``line`` is the 1-based record number in the file.

Example:
    >>> import tempfile, pathlib
    >>> from tskew.io.bad_records import BadRecordLog
    >>> from tskew.io.tfrecord import frame
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.tfrecord"
    >>> _ = path.write_bytes(frame(b"not a PredictionLog"))
    >>> log = BadRecordLog("skip")
    >>> list(read_prediction_log(path, log)), log.count  # doctest: +SKIP
    ([], 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.errors import TskewError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.sources import expand_paths
from tskew.io.tfrecord import iter_records
from tskew.schema import DType, Schema

CHUNK_ROWS = 1 << 16
EXAMPLES_KEY = "examples"
MISSING_SUFFIX = "__missing"
# A file name with one of these in it is read as PredictionLog TFRecords
# ("logs.tfrecord", "logs.tfrecord.gz", "part.tfrecord-00000-of-00004", "x.tfrecords").
NAME_MARKERS = (".tfrecord",)

Locate = Callable[[int], str]


class ServingApiMissing(TskewError, ImportError):
    """The ``tensorflow-serving-api`` package (the PredictionLog protos) is not installed."""


class PredictionLogPath(str):
    """A path or glob to read as PredictionLog TFRecords whatever the file names are.

    Files named ``*.tfrecord*`` are recognised anyway; this marks other names (the CLI's
    ``--serving-format prediction_log``).

    Example:
        >>> PredictionLogPath("logs/requests-*"), isinstance(PredictionLogPath("x"), str)
        ('logs/requests-*', True)
    """

    __slots__ = ()


def is_prediction_log_name(path: str | Path) -> bool:
    """Whether a file name says TFRecord (``.tfrecord`` anywhere in it).

    Example:
        >>> [is_prediction_log_name(p) for p in ("a.tfrecord.gz", "a-0-of-2.tfrecords", "a.csv")]
        [True, True, False]
    """
    name = Path(path).name.lower()
    return any(marker in name for marker in NAME_MARKERS)


def read_prediction_log(
    path: str | Path | list[str | Path],
    log: BadRecordLog | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    examples_key: str = EXAMPLES_KEY,
    schema: Schema | None = None,
) -> Iterator[tuple[pa.Table, Locate]]:
    """Raw serving rows of PredictionLog TFRecord files, in chunks of about ``chunk_rows``.

    Args:
        path: a file, glob, or list of them.
        log: where unreadable records go; None raises `DataError` at the first (pass
            ``BadRecordLog("skip")`` to count them and go on).
        chunk_rows: rows per yielded table (a chunk ends at a record boundary).
        examples_key: the PredictRequest input holding serialized tf.Examples.
        schema: the raw input schema, if known: int64 0/1 values of its bool features
            in tf.Examples become bools.

    Yields:
        ``(table, locate)``: the rows (one column per feature seen in the chunk, null
        where a row lacks it) and ``locate(i)``, where row ``i`` came from
        (``"file record 3, example 1"``; records count from 1, examples from 0).

    Raises:
        ServingApiMissing: ``tensorflow-serving-api`` is not installed.
    """
    log = log if log is not None else BadRecordLog("error")
    decoder = _Decoder(examples_key, schema)
    for file in expand_paths(path):
        yield from _file_chunks(file, log, decoder, chunk_rows)


def _file_chunks(
    path: Path, log: BadRecordLog, decoder: _Decoder, chunk_rows: int
) -> Iterator[tuple[pa.Table, Locate]]:
    builder = _ChunkBuilder()
    for number, data in iter_records(path, log):
        try:
            columns, n = decoder.decode(data)
        except _Unreadable as err:
            log.report(BadRecord(str(path), number, str(err), data[:64].hex()))
            continue
        builder.add(columns, n, number)
        if builder.rows >= chunk_rows:
            yield builder.flush(path)
    if builder.rows:
        yield builder.flush(path)


# ---------------------------------------------------------------- decoding


class _Unreadable(ValueError):
    """A record that is not a PredictionLog tskew can read (becomes a bad record)."""


def _protos() -> Any:
    try:
        from tensorflow.core.example import example_pb2
        from tensorflow_serving.apis import prediction_log_pb2
    except ImportError as err:
        raise ServingApiMissing(
            f"reading TF Serving PredictionLog files needs the tensorflow-serving-api package "
            f"({err}); install it with: pip install 'tskew[serving-logs]'"
        ) from None
    return prediction_log_pb2, example_pb2


_DT_STRING = 7
# TensorProto dtype enum -> (numpy dtype, value field)
_TENSOR_TYPES = {
    1: (np.float32, "float_val"),
    2: (np.float64, "double_val"),
    3: (np.int32, "int_val"),
    4: (np.uint8, "int_val"),
    5: (np.int16, "int_val"),
    6: (np.int8, "int_val"),
    7: (object, "string_val"),
    9: (np.int64, "int64_val"),
    10: (np.bool_, "bool_val"),
    17: (np.uint16, "int_val"),
    19: (np.float16, "half_val"),
    22: (np.uint32, "uint32_val"),
    23: (np.uint64, "uint64_val"),
}


def tensor_values(proto: Any, decode: bool = True) -> np.ndarray:
    """A ``TensorProto`` as a numpy array (what ``tf.make_ndarray`` gives).

    Handles ``tensor_content`` and the typed ``*_val`` fields, including TF's rule that
    fewer values than the shape holds repeat the last one. Strings are decoded as UTF-8
    (``decode``) or kept as bytes.
    """
    if proto.dtype not in _TENSOR_TYPES:
        raise _Unreadable(f"tensor dtype {proto.dtype} is not supported")
    dtype, field = _TENSOR_TYPES[proto.dtype]
    shape = [d.size for d in proto.tensor_shape.dim]
    if any(d < 0 for d in shape):
        raise _Unreadable(f"tensor shape {shape} is not fully known")
    size = int(np.prod(shape)) if shape else 1
    if proto.tensor_content and dtype is not object:
        values = np.frombuffer(proto.tensor_content, dtype=dtype)
    elif dtype is object:
        values = np.array([_text(v) if decode else v for v in proto.string_val], object)
    elif dtype is np.float16:
        values = np.array(proto.half_val, np.uint16).view(np.float16)
    else:
        values = np.array(getattr(proto, field), dtype)
    if values.size < size:
        empty = ("" if decode else b"") if dtype is object else 0
        filler = values[-1:] if values.size else np.array([empty], dtype)
        values = np.concatenate([values, np.repeat(filler, size - values.size)])
    if values.size != size:
        raise _Unreadable(f"tensor holds {values.size} values for shape {shape}")
    return values.reshape(shape)


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")


class _Decoder:
    """One serialized PredictionLog -> (columns of Python values, row count)."""

    def __init__(self, examples_key: str, schema: Schema | None):
        self.prediction_log_pb2, self.example_pb2 = _protos()
        self.examples_key = examples_key
        self.bools = frozenset(
            name for name, ftype in (schema or {}).items() if ftype.dtype is DType.BOOL
        )

    def decode(self, data: bytes) -> tuple[dict[str, list], int]:
        if not data:
            raise _Unreadable("empty record")
        record = self.prediction_log_pb2.PredictionLog()
        try:
            record.ParseFromString(data)
        except Exception as err:  # protobuf's DecodeError and friends
            raise _Unreadable(f"not a PredictionLog: {err}") from None
        kind = record.WhichOneof("log_type")
        if kind == "predict_log":
            return self._predict(record.predict_log.request)
        if kind == "predict_streamed_log":
            parts = [self._predict(r) for r in record.predict_streamed_log.request]
            return _concat(parts)
        if kind in ("classify_log", "regress_log", "multi_inference_log"):
            return self._input(getattr(record, kind).request.input)
        if kind is None:
            raise _Unreadable("not a PredictionLog: no log_type set")
        raise _Unreadable(f"{kind} records carry no feature rows tskew can read")

    def _predict(self, request: Any) -> tuple[dict[str, list], int]:
        columns: dict[str, list] = {}
        sizes: dict[str, int] = {}
        for name, proto in request.inputs.items():
            examples = name == self.examples_key and proto.dtype == _DT_STRING
            values = tensor_values(proto, decode=not examples)
            if examples:
                rows = [self._example(self._parse_example(v, name)) for v in values.reshape(-1)]
                part, n = _columns_of(rows)
                sizes[name] = n
                columns.update(part)
                continue
            if values.ndim == 0:
                values = values.reshape(1)
            elif values.ndim == 2 and values.shape[1] == 1:
                values = values[:, 0]
            sizes[name] = len(values)
            columns[name] = values.tolist()
        if len(set(sizes.values())) > 1:
            raise _Unreadable(f"request inputs have different batch sizes {sizes}")
        n = next(iter(sizes.values()), 0)
        for name in [c for c in columns if c.endswith(MISSING_SUFFIX)]:
            base = name[: -len(MISSING_SUFFIX)]
            if base in columns:
                mask = columns.pop(name)
                columns[base] = [None if m else v for v, m in zip(columns[base], mask, strict=True)]
        return columns, n

    def _parse_example(self, serialized: bytes, name: str) -> Any:
        example = self.example_pb2.Example()
        try:
            example.ParseFromString(serialized)
        except Exception as err:
            raise _Unreadable(f"input {name!r}: not a serialized tf.Example: {err}") from None
        return example

    def _input(self, proto: Any) -> tuple[dict[str, list], int]:
        kind = proto.WhichOneof("kind")
        if kind == "example_list":
            rows = [self._example(e) for e in proto.example_list.examples]
        elif kind == "example_list_with_context":
            context = self._example(proto.example_list_with_context.context)
            rows = [
                {**context, **self._example(e)} for e in proto.example_list_with_context.examples
            ]
        else:
            raise _Unreadable("the request's Input holds no examples")
        return _columns_of(rows)

    def _example(self, example: Any) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            if kind == "bytes_list":
                values = [_text(v) for v in values]
            elif kind == "int64_list" and name in self.bools:
                values = [bool(v) if v in (0, 1) else v for v in values]
            row[name] = None if not values else values[0] if len(values) == 1 else values
        return row


def _columns_of(rows: list[dict[str, Any]]) -> tuple[dict[str, list], int]:
    names = list(dict.fromkeys(k for row in rows for k in row))
    return {name: [row.get(name) for row in rows] for name in names}, len(rows)


def _concat(parts: list[tuple[dict[str, list], int]]) -> tuple[dict[str, list], int]:
    builder = _ChunkBuilder()
    for columns, n in parts:
        builder.add(columns, n, 0)
    return builder.columns, builder.rows


class _ChunkBuilder:
    """Columns of many records, padded with nulls where a record lacks a feature."""

    def __init__(self) -> None:
        self.columns: dict[str, list] = {}
        self.rows = 0
        self.where: list[tuple[int, int]] = []  # (record number, example index) per row

    def add(self, columns: dict[str, list], n: int, record: int) -> None:
        for name, values in columns.items():
            if name not in self.columns:
                self.columns[name] = [None] * self.rows
            self.columns[name] += values
        self.rows += n
        for values in self.columns.values():
            if len(values) < self.rows:
                values += [None] * (self.rows - len(values))
        self.where += [(record, i) for i in range(n)]

    def flush(self, path: Path) -> tuple[pa.Table, Locate]:
        from tskew.skew.serving.reading import lenient_array

        columns = {name: lenient_array(values) for name, values in self.columns.items()}
        table = pa.table(columns) if columns else pa.table({"": pa.nulls(self.rows)}).drop([""])
        where = self.where

        def locate(i: int) -> str:
            record, example = where[i]
            return f"{path} record {record}, example {example}"

        self.columns, self.rows, self.where = {}, 0, []
        return table, locate
