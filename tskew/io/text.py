"""Reading text formats (CSV, JSONL) into Arrow with file and line for every row.

Example:
    >>> infer_text_dtype(pa.array(["1", "2", None]))
    <DType.INT64: 'int64'>
    >>> infer_text_dtype(pa.array(["1", "2.5"]))
    <DType.FLOAT64: 'float64'>
"""

from __future__ import annotations

import csv
import itertools
import json
import math
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
from tskew.io.conform import NULL_TOKENS, TEXT_PATTERNS
from tskew.io.csv_options import AUTO, CsvOptions
from tskew.io.csv_records import Block, drop_blank_lines, split_blocks
from tskew.schema import DType

# One parsed chunk: a table of text/JSON values, the 1-based line of each row, the raw
# text of each row (JSONL) and each row's 0-based position among the file's records.
Chunk = tuple[pa.Table, np.ndarray, list[str] | None, np.ndarray]

BOM = b"\xef\xbb\xbf"
UNCLOSED = (
    "unclosed quote: the quoted field opened on this line does not close cleanly "
    '(a quote inside a quoted field is written ""); fix the quoting'
)


def infer_text_dtype(arr: pa.Array) -> DType | None:
    """Narrowest dtype whose strict parser accepts every non-null value (None: all null)."""
    present = pc.drop_null(arr)
    present = present.filter(pc.invert(pc.is_in(present, pa.array(NULL_TOKENS))))
    if len(present) == 0:
        return None
    for dtype in (DType.INT64, DType.FLOAT64, DType.BOOL):
        if pc.all(pc.match_substring_regex(present, TEXT_PATTERNS[dtype])).as_py():
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
        # Closing the archive now leaves its file open for the member until that is
        # closed, so no handle outlives the caller's ``with``.
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise DataError(f"{path}: expected a zip holding exactly one file, found {members}")
            return archive.open(members[0])
    if path.suffix == ".gz":
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")


def csv_delimiter(path: Path) -> str:
    """Tab for ``.tsv`` files (also gzipped or zipped), comma otherwise."""
    return CsvOptions().delimiter_for(path)


def _decode_line(path: Path, raw: bytes, what: str) -> str:
    """The first line as text, without a UTF-8 byte-order mark."""
    try:
        return raw.removeprefix(BOM).decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{path} line 1: {what} is not valid UTF-8 ({err.reason} at byte "
            f"{err.start}); re-save the file as UTF-8"
        ) from None


def _first_fields(path: Path, raw: bytes, options: CsvOptions) -> list[str] | None:
    """The fields of a CSV's first line (None: the file is empty)."""
    what = "the header" if options.has_header else "the first row"
    text = _decode_line(path, raw, what).rstrip("\r\n")
    if not text.strip():
        return None
    return next(csv.reader([text], delimiter=options.delimiter_for(path)))


def header_fields(path: Path, options: CsvOptions) -> list[str] | None:
    """The header row's fields as written (None: no header row, or an empty file)."""
    if not options.has_header:
        return None
    with open_binary(path) as handle:
        return _first_fields(path, handle.readline(), options)


def csv_columns(path: Path, options: CsvOptions) -> list[str]:
    """The column names of a CSV: ``column_names``, else its header's fields."""
    if options.column_names is not None:
        return list(options.column_names)
    return header_fields(path, options) or []


def read_csv_chunks(
    path: Path, log: BadRecordLog, block_size: int, options: CsvOptions | None = None
) -> Iterator[Chunk]:
    """Stream a CSV (TSV for ``.tsv``) as all-text tables (empty field = null) with the
    line each row starts on and its position among the file's records.

    Rows with the wrong number of fields, invalid UTF-8 or an unclosed quote go to
    ``log``; quoted fields may span lines (see `tskew.io.csv_records`). ``options``
    says whether the first row is a header, names the columns and sets the delimiter.
    """
    options = options or CsvOptions()
    delimiter = options.delimiter_for(path)
    with open_binary(path) as handle:
        first = handle.readline()
        fields = _first_fields(path, first, options)
        if fields is None:
            return
        names = list(options.column_names or fields)
        if len(names) != len(fields):
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise DataError(
                f"{path} line 1: expected {len(names)} columns ({shown}) but the "
                f"{'header' if options.has_header else 'first row'} has {len(fields)} fields "
                f"(delimiter {delimiter!r}); pass column_names=[...] naming every column in "
                "file order (and delimiter= if the file uses another separator)"
            )
        _check_unique_names(path, names, options)
        # Blocks end at a line end where possible, so they need no joining.
        chunks = iter(lambda: _read_lines(handle, block_size), b"")
        if not options.has_header:  # the first line is a record
            chunks = itertools.chain([first.removeprefix(BOM)], chunks)
        position = 0
        first_line = 2 if options.has_header else 1
        for block in split_blocks(chunks, ord(delimiter), first_line):
            chunk, bad = _parse_block(path, names, delimiter, block, position)
            position += len(block.lines) + len(block.unclosed)
            for record in sorted(bad, key=lambda r: r.line or 0):
                log.report(record)
            if chunk is not None:
                yield chunk


def _check_unique_names(path: Path, names: list[str], options: CsvOptions) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        hint = (
            "if the file has no header row, pass header=None, column_names=[...]"
            if options.header == AUTO
            else "rename the columns with column_names=[...]"
        )
        raise DataError(
            f"{path} line 1: the header names the columns {duplicates} more than once; {hint}"
        )


def _read_lines(handle: IO[bytes], size: int) -> bytes:
    data = handle.read(size)
    return data + handle.readline() if data and data[-1] != ord("\n") else data


def _parse_block(
    path: Path, names: list[str], delimiter: str, block: Block, position: int
) -> tuple[Chunk | None, list[BadRecord]]:
    """Parse one block of whole records with Arrow; returns the chunk and its bad records."""
    every = block.lines
    if block.unclosed:
        every = np.sort(np.concatenate([every, [n for n, _ in block.unclosed]]).astype(np.int64))
    bad = [
        BadRecord(str(path), n, UNCLOSED, text.decode("utf-8", "replace"), _pos(every, n, position))
        for n, text in block.unclosed
    ]
    if not len(block.lines):
        return None, bad
    invalid: list[tuple[int, str, int]] = []

    def on_invalid(row) -> str:
        invalid.append((row.number - 1, row.text, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(block.data),
        read_options=pacsv.ReadOptions(
            column_names=names, use_threads=False, block_size=max(len(block.data), 1 << 20)
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.binary() for n in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        ),
    )
    if block.maybe_blank and table.num_rows + len(invalid) != len(block.lines):
        drop_blank_lines(block)
        every = block.lines
    keep = np.ones(len(block.lines), bool)
    for index, text, found in invalid:
        keep[index] = False
        line = int(block.lines[index])
        reason = f"expected {len(names)} fields, found {found}"
        bad.append(BadRecord(str(path), line, reason, text, _pos(every, line, position)))
    if table.num_rows != int(keep.sum()):  # pragma: no cover - a splitter/Arrow mismatch
        raise DataError(
            f"{path}: lines {int(block.lines[0])}-{int(block.lines[-1])} parse to "
            f"{table.num_rows} rows, expected {int(keep.sum())}; please report this file"
        )
    lines = block.lines if keep.all() else block.lines[keep]
    table, lines, bad_utf8 = _decode_utf8(path, table, lines)
    bad += [
        BadRecord(str(path), n, reason, raw, _pos(every, n, position))
        for n, reason, raw in bad_utf8
    ]
    if block.unclosed or len(lines) != len(every):
        positions = position + np.searchsorted(every, lines)
    else:
        positions = np.arange(position, position + len(lines), dtype=np.int64)
    return (table, lines, None, positions), bad


def _pos(every: np.ndarray, line: int, position: int) -> int:
    return position + int(np.searchsorted(every, line))


def _decode_utf8(
    path: Path, table: pa.Table, lines: np.ndarray
) -> tuple[pa.Table, np.ndarray, list[tuple[int, str, str]]]:
    """Binary columns -> strings; rows with invalid UTF-8 are removed and returned."""
    columns, bad_rows = {}, np.zeros(table.num_rows, bool)
    reasons: list[tuple[int, str, str]] = []
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        try:
            columns[name] = col.cast(pa.string())
            continue
        except pa.ArrowInvalid:
            pass
        values = col.to_pylist()
        for i, value in enumerate(values):
            if value is None or bad_rows[i]:
                continue
            try:
                value.decode("utf-8")
            except UnicodeDecodeError as err:
                bad_rows[i] = True
                reason = (
                    f"feature {name!r}: invalid UTF-8 ({err.reason} at byte {err.start}); "
                    "re-save the file as UTF-8"
                )
                reasons.append((int(lines[i]), reason, value.decode("utf-8", "replace")))
        columns[name] = col
    if bad_rows.any():
        keep = pa.array(~bad_rows)
        columns = {n: c.filter(keep) for n, c in columns.items()}
        lines = lines[~bad_rows]
    columns = {n: c.cast(pa.string()) for n, c in columns.items()}
    return pa.table(columns), lines, reasons


def read_jsonl_chunks(path: Path, log: BadRecordLog, lines_per_chunk: int) -> Iterator[Chunk]:
    """Stream JSON Lines: one object per line; malformed lines go to ``log``."""
    rows: list[dict] = []
    numbers: list[int] = []
    raws: list[str] = []
    positions: list[int] = []
    for position, (number, text, problem) in enumerate(jsonl_lines(path)):
        obj = None
        if problem is None:
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                problem = f"malformed JSON ({err.msg})"
            else:
                if not isinstance(obj, dict):
                    problem = "expected a JSON object per line"
        if problem is not None:
            log.report(BadRecord(str(path), number, problem, text, position))
            continue
        rows.append(obj)
        numbers.append(number)
        raws.append(text)
        positions.append(position)
        if len(rows) >= lines_per_chunk:
            yield _json_chunk(path, rows, numbers, raws, positions, log)
            rows, numbers, raws, positions = [], [], [], []
    if rows:
        yield _json_chunk(path, rows, numbers, raws, positions, log)


def jsonl_lines(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line number, stripped text, problem or None) of each non-blank line. A leading
    UTF-8 byte-order mark is ignored; a line that is not valid UTF-8 has a problem."""
    with open_binary(path) as raw:
        for number, data in enumerate(raw, 1):
            if number == 1:
                data = data.removeprefix(BOM)
            try:
                text, problem = data.decode("utf-8").strip(), None
            except UnicodeDecodeError as err:
                text = data.decode("utf-8", "replace").strip()
                problem = (
                    f"invalid UTF-8 ({err.reason} at byte {err.start}); re-save the file as UTF-8"
                )
            if text:
                yield number, text, problem


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "nested"


def _json_chunk(
    path: Path,
    rows: list[dict],
    numbers: list[int],
    raws: list[str],
    positions: list[int],
    log: BadRecordLog,
) -> Chunk:
    """Typed Arrow columns; a value whose JSON type differs from its column's, or a
    number too large for a float64, is a bad record."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    bad = np.zeros(len(rows), bool)
    columns: dict[str, list] = {}

    def report(i: int, reason: str) -> None:
        bad[i] = True
        log.report(BadRecord(str(path), numbers[i], reason, raws[i], positions[i]))

    for name in names:
        values = [row.get(name) for row in rows]
        kinds = [_kind(v) for v in values if v is not None]
        if not kinds:
            columns[name] = values
            continue
        majority = max(set(kinds), key=kinds.count)
        for i, v in enumerate(values):
            if v is None or bad[i]:
                continue
            if _kind(v) != majority:
                report(i, f"feature {name!r}: expected a JSON {majority}, got {json.dumps(v)[:50]}")
            elif isinstance(v, float) and math.isinf(v) and (text := _overflow(raws[i])):
                report(i, f"feature {name!r}: {text[:50]} is too large for a float64")
        columns[name] = values
    keep = [i for i in range(len(rows)) if not bad[i]]
    table = pa.table(
        {name: pa.array([values[i] for i in keep]) for name, values in columns.items()}
    )
    return (
        table,
        np.array([numbers[i] for i in keep], np.int64),
        [raws[i] for i in keep],
        np.array([positions[i] for i in keep], np.int64),
    )


class _Overflow(Exception):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _Overflow(text)
    return value


def _overflow(raw: str) -> str | None:
    """The first number in the JSON text ``raw`` that overflows a float64 (None: its
    infinities are spelled ``Infinity``)."""
    try:
        json.loads(raw, parse_float=_finite_float)
    except _Overflow as err:
        return str(err)
    return None
