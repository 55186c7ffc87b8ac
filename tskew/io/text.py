"""Reading text formats (CSV, JSONL) into Arrow with file and line for every row.

Example:
    >>> infer_text_dtype(pa.array(["1", "2", None]))
    <DType.INT64: 'int64'>
    >>> infer_text_dtype(pa.array(["1", "2.5"]))
    <DType.FLOAT64: 'float64'>
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from tskew.errors import DataError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.io.conform import _PATTERNS, NULL_TOKENS
from tskew.schema import DType

# One parsed chunk: a table of text/JSON values and the 1-based line of each row.
Chunk = tuple[pa.Table, np.ndarray, list[str] | None]


def infer_text_dtype(arr: pa.Array) -> DType | None:
    """Narrowest dtype whose strict parser accepts every non-null value (None: all null)."""
    present = pc.drop_null(arr)
    present = present.filter(pc.invert(pc.is_in(present, pa.array(NULL_TOKENS))))
    if len(present) == 0:
        return None
    for dtype in (DType.INT64, DType.FLOAT64, DType.BOOL):
        if pc.all(pc.match_substring_regex(present, _PATTERNS[dtype])).as_py():
            return dtype
    return DType.STRING


def widen(a: DType | None, b: DType | None) -> DType | None:
    """Join of two inferred text dtypes (int64 + float64 -> float64, anything else -> string)."""
    if a is None or a == b:
        return b if a is None else a
    if b is None:
        return a
    if {a, b} == {DType.INT64, DType.FLOAT64}:
        return DType.FLOAT64
    return DType.STRING


def open_binary(path: Path) -> IO[bytes]:
    """Open a file, transparently unpacking .gz and single-member .zip archives."""
    if path.suffix == ".zip":
        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise DataError(f"{path}: expected a zip holding exactly one file, found {members}")
        return archive.open(members[0])
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def _arrow_stream(path: Path):
    """A native Arrow input stream where possible (plain and gzip files), so reading does
    not go through Python buffers; zip members fall back to a Python file object."""
    if path.suffix == ".zip":
        return open_binary(path)
    return pa.input_stream(str(path), compression="gzip" if path.suffix == ".gz" else None)


def _header(path: Path) -> list[str]:
    with open_binary(path) as raw:
        first = io.TextIOWrapper(raw, encoding="utf-8", newline="").readline()
    if not first.strip():
        return []
    return next(csv.reader([first]))


def read_csv_chunks(path: Path, log: BadRecordLog, block_size: int) -> Iterator[Chunk]:
    """Stream a CSV as all-text tables (empty field = null) with line numbers.

    Rows with the wrong number of fields go to ``log``. Line numbers assume one
    record per physical line (a quoted field spanning lines shifts later numbers).
    """
    names = _header(path)
    if not names:
        return
    invalid: list[tuple[str, int]] = []

    def on_invalid(row) -> str:
        invalid.append((row.text, row.actual_columns))
        return "skip"

    reader = pacsv.open_csv(
        _arrow_stream(path),
        read_options=pacsv.ReadOptions(block_size=block_size, use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    next_line = 2  # line 1 is the header
    invalid_lines = _InvalidLineFinder(path)
    for batch in reader:
        bad_now, invalid[:] = list(invalid), []
        skipped = sorted(invalid_lines.find(text) for text, _ in bad_now)
        for (text, found), line in zip(bad_now, skipped, strict=True):
            log.report(
                BadRecord(str(path), line, f"expected {len(names)} fields, found {found}", text)
            )
        lines = _data_lines(next_line, batch.num_rows, skipped)
        next_line = (int(lines[-1]) + 1) if batch.num_rows else next_line + len(skipped)
        yield pa.Table.from_batches([batch]), lines, None


def _data_lines(start: int, n: int, skipped: list[int]) -> np.ndarray:
    """Line numbers of ``n`` data rows starting at ``start``, jumping over skipped lines."""
    lines = np.arange(start, start + n + len(skipped), dtype=np.int64)
    if skipped:
        lines = lines[~np.isin(lines, skipped)]
    return lines[:n]


class _InvalidLineFinder:
    """Finds the line number of a malformed row's text (only called for bad rows)."""

    def __init__(self, path: Path):
        self.path = path
        self._index: dict[str, list[int]] | None = None

    def find(self, text: str) -> int:
        if self._index is None:
            self._index = {}
            with open_binary(self.path) as raw:
                for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
                    self._index.setdefault(line.rstrip("\r\n"), []).append(number)
        hits = self._index.get(text.rstrip("\r\n"), [])
        return hits.pop(0) if hits else 0


def read_jsonl_chunks(path: Path, log: BadRecordLog, lines_per_chunk: int) -> Iterator[Chunk]:
    """Stream JSON Lines: one object per line; malformed lines go to ``log``."""
    with open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8")
        rows: list[dict] = []
        numbers: list[int] = []
        raws: list[str] = []
        for number, line in enumerate(text, 1):
            stripped = line.strip()
            if not stripped:
                continue
            try:
                obj = json.loads(stripped)
            except json.JSONDecodeError as err:
                log.report(BadRecord(str(path), number, f"malformed JSON ({err.msg})", stripped))
                continue
            if not isinstance(obj, dict):
                log.report(
                    BadRecord(str(path), number, "expected a JSON object per line", stripped)
                )
                continue
            rows.append(obj)
            numbers.append(number)
            raws.append(stripped)
            if len(rows) >= lines_per_chunk:
                yield _json_chunk(path, rows, numbers, raws, log)
                rows, numbers, raws = [], [], []
        if rows:
            yield _json_chunk(path, rows, numbers, raws, log)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "nested"


def _json_chunk(
    path: Path, rows: list[dict], numbers: list[int], raws: list[str], log: BadRecordLog
) -> Chunk:
    """Typed Arrow columns; a value whose JSON type differs from its column's is a bad record."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    bad = np.zeros(len(rows), bool)
    columns: dict[str, list] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        kinds = [_kind(v) for v in values if v is not None]
        if not kinds:
            columns[name] = values
            continue
        majority = max(set(kinds), key=kinds.count)
        for i, v in enumerate(values):
            if v is not None and _kind(v) != majority and not bad[i]:
                bad[i] = True
                log.report(
                    BadRecord(
                        str(path),
                        numbers[i],
                        f"feature {name!r}: expected a JSON {majority}, got {json.dumps(v)[:50]}",
                        raws[i],
                    )
                )
        columns[name] = values
    keep = [i for i in range(len(rows)) if not bad[i]]
    table = pa.table(
        {name: pa.array([values[i] for i in keep]) for name, values in columns.items()}
    )
    return table, np.array([numbers[i] for i in keep]), [raws[i] for i in keep]
