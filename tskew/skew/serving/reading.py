"""Serving data for the skew detector: files or in-memory tables, read leniently.

Unlike training reads, a value that does not fit the training dtype is not a bad
record that drops its row: it is a dtype violation of that one feature, counted
with an example (file:line), while the row's other features still count.
Unparseable lines (bad JSON, broken CSV rows) are bad records. JSONL lines may be
plain feature objects or TF Serving REST bodies: ``{"instances": [{...}, ...]}``
(row format) or ``{"inputs": {"f": [...], ...}}`` (columnar format). ``*.tfrecord*``
files (or paths wrapped in `PredictionLogPath`) are TF Serving request logs, read by
`tskew.skew.serving.prediction_log`.

Example:
    >>> import pyarrow as pa
    >>> from tskew.io.bad_records import BadRecordLog
    >>> chunks = list(serving_chunks(pa.table({"x": [1.0, 2.0]}), BadRecordLog("skip")))
    >>> chunks[0].table.num_rows, chunks[0].locate(1)
    (2, 'pyarrow Table (2 rows) row 1')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.errors import DataError, SchemaError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.conform import convert
from tskew.io.sources import (
    expand_paths,
    file_format,
    in_memory_table,
    open_parquet,
    text_chunks,
)
from tskew.schema import DType, Schema

CHUNK_ROWS = 1 << 16


@dataclass
class Chunk:
    """Raw serving rows (columns as they came) and where each row came from."""

    table: pa.Table
    locate: Callable[[int], str]


def serving_chunks(
    data: Any, log: BadRecordLog, chunk_rows: int = CHUNK_ROWS, schema: Schema | None = None
) -> Iterator[Chunk]:
    """Raw chunks of ``data``: a path/glob (CSV, Parquet, JSONL, TF Serving PredictionLog
    TFRecords), DataFrame, Arrow, dict. ``schema`` (the raw inputs), if given, lets
    tf.Example int64 0/1 values of bool features read as bools."""
    if isinstance(data, str | Path) or (
        isinstance(data, list | tuple) and data and all(isinstance(d, str | Path) for d in data)
    ):
        from tskew.skew.serving.prediction_log import PredictionLogPath

        specs = [data] if isinstance(data, str | Path) else list(data)
        paths = [(p, isinstance(s, PredictionLogPath)) for s in specs for p in expand_paths(s)]
        for path, forced in paths:
            if forced or _is_prediction_log(path):
                yield from _prediction_log_chunks(path, log, chunk_rows, schema)
            else:
                yield from _file_chunks(path, log, chunk_rows)
        return
    table, description = in_memory_table(data)
    for start in range(0, max(table.num_rows, 1), chunk_rows):
        part = table.slice(start, chunk_rows)
        yield Chunk(part, lambda i, s=start: f"{description} row {s + i}")


def _file_chunks(path: Path, log: BadRecordLog, chunk_rows: int) -> Iterator[Chunk]:
    try:
        fmt = file_format(path)
    except DataError as err:
        raise DataError(
            f"{err}; or TF Serving PredictionLog TFRecords (*.tfrecord*, or any name with "
            "--serving-format prediction_log)"
        ) from None
    if fmt == "parquet":
        yield from _parquet_chunks(path, chunk_rows)
    elif fmt == "jsonl":
        yield from _jsonl_chunks(path, log, chunk_rows)
    else:
        for table, lines, *_ in text_chunks(path, fmt, log, chunk_rows):
            yield Chunk(table, lambda i, lines=lines: f"{path}:{int(lines[i])}")


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    """Batches, not row groups: memory stays bounded however the file was written."""
    start = 0
    try:
        batches = open_parquet(path).iter_batches(batch_size=chunk_rows)
        for batch in batches:
            yield Chunk(pa.Table.from_batches([batch]), lambda i, s=start: f"{path} row {s + i}")
            start += batch.num_rows
    except (pa.ArrowException, OSError) as err:
        where = f" after row {start}" if start else ""
        raise DataError(
            f"{path}: not a readable Parquet file{where} ({err}); check that the file is "
            "complete and really Parquet"
        ) from None


def _is_prediction_log(path: Path) -> bool:
    """``*.tfrecord*`` files (unless their name also says CSV, Parquet or JSONL)."""
    from tskew.skew.serving.prediction_log import is_prediction_log_name

    if not is_prediction_log_name(path):
        return False
    try:
        file_format(path)
    except DataError:
        return True
    return False


def _prediction_log_chunks(
    path: Path, log: BadRecordLog, chunk_rows: int, schema: Schema | None
) -> Iterator[Chunk]:
    from tskew.skew.serving.prediction_log import read_prediction_log

    for table, locate in read_prediction_log(path, log, chunk_rows=chunk_rows, schema=schema):
        yield Chunk(table, locate)


def _jsonl_chunks(path: Path, log: BadRecordLog, chunk_rows: int) -> Iterator[Chunk]:
    """One row per plain JSON object, several per TF Serving request body."""
    from tskew.io.text import jsonl_lines

    rows: list[dict] = []
    lines: list[int] = []
    for number, text, problem in jsonl_lines(path):  # BOM ignored, bad UTF-8 a problem
        if problem is not None:
            log.report(BadRecord(str(path), number, problem, text))
            continue
        try:
            parsed = _rows_of(json.loads(text))
        except RecursionError:
            reason = "not a JSON request: nested too deeply to parse"
            log.report(BadRecord(str(path), number, reason, text[:200]))
            continue
        except (ValueError, TypeError) as err:
            log.report(BadRecord(str(path), number, f"not a JSON request: {err}", text))
            continue
        rows += parsed
        lines += [number] * len(parsed)
        if len(rows) >= chunk_rows:
            yield _rows_chunk(rows, lines, path)
            rows, lines = [], []
    if rows:
        yield _rows_chunk(rows, lines, path)


def _rows_of(obj: Any) -> list[dict]:
    """Feature rows of one JSON line (plain object or TF Serving REST body)."""
    if not isinstance(obj, dict):
        raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
    if "instances" in obj:
        rows = obj["instances"]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError('"instances" must be a list of feature objects')
        return rows
    if "inputs" in obj:
        inputs = obj["inputs"]
        if isinstance(inputs, list) and all(isinstance(r, dict) for r in inputs):
            return inputs
        if not isinstance(inputs, dict):
            raise TypeError('"inputs" must map feature names to lists of values')
        columns = {k: v if isinstance(v, list) else [v] for k, v in inputs.items()}
        sizes = {len(v) for v in columns.values()}
        if len(sizes) > 1:
            raise TypeError(f'"inputs" columns have different lengths {sorted(sizes)}')
        n = sizes.pop() if sizes else 0
        return [{k: v[i] for k, v in columns.items()} for i in range(n)]
    return [obj]


def _rows_chunk(rows: list[dict], lines: list[int], path: Path) -> Chunk:
    return Chunk(rows_table(rows), lambda i, lines=lines: f"{path}:{lines[i]}")


def rows_table(rows: list[dict]) -> pa.Table:
    """Dict rows -> one table; a column with mixed types becomes text (parsed per feature).

    Example:
        >>> rows_table([{"x": 1}, {"x": "two", "y": True}]).to_pydict()
        {'x': ['1', 'two'], 'y': [None, True]}
    """
    names = list(dict.fromkeys(k for row in rows for k in row))
    if not names:  # rows without features still count as rows
        return pa.table({"": pa.nulls(len(rows))}).drop([""])
    return pa.table({name: lenient_array([row.get(name) for row in rows]) for name in names})


def lenient_array(values: list) -> pa.Array:
    """Values as one Arrow array; mixed types fall back to their text (parsed later)."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # OverflowError: ints >= 2**64
        return pa.array([None if v is None else _text(v) for v in values], pa.string())


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict | bool) else str(value)


def typed_column(
    table: pa.Table, name: str, dtype: DType, source: str
) -> tuple[pa.Array, np.ndarray, str | None]:
    """(values as ``dtype`` with violations nulled, violation mask, reason of the first)."""
    raw = table.column(name)
    try:
        values, bad = convert(raw, dtype, name, source)
    except SchemaError as err:  # the whole column has an incompatible type
        bad = np.asarray(raw.is_valid())
        return pa.nulls(len(raw), dtype.arrow), bad, str(err)
    if not bad.any():
        return values, bad, None
    first = int(np.argmax(bad))
    reason = f"feature {name!r}: {raw[first].as_py()!r} is not a valid {dtype}"
    return values, bad, reason
